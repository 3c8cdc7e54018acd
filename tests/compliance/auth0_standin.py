"""A loopback stand-in for the Auth0 Management API endpoints the access review calls (a test double).

Built from Auth0's documented response shapes:
- POST /oauth/token (client credentials with private_key_jwt: Auth0, "Authenticate with Private Key
  JWT") -> {access_token, token_type, expires_in, scope}; the client assertion must be an RS256 JWT
  signed by the registered public key, iss = sub = the client, aud = https://<domain>/, at most
  5 minutes long, never reused;
- GET /api/v2/roles with offset paging (page, per_page, include_totals) -> {roles, start, limit, total};
- GET /api/v2/roles/{id}/users with checkpoint paging (take, from) -> {users, next} (no `next` on the last page);
- GET /api/v2/users/{id} -> the user profile (user_id, email, last_login, logins_count, ...);
- GET /api/v2/users/{id}/authentication-methods with offset paging -> {authenticators, start, limit, total}.
Every API call needs the bearer token; a bad assertion gets 401; `rate_limit_once` answers the
first user lookup with 429 and `x-ratelimit-reset`, as Auth0 does. It records the calls it served.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TOKEN = "standin-management-token"  # noqa: S105 - a test double's token
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_SECONDS = 300


@dataclass
class Tenant:
    client_id: str
    public_key_pem: str  # the client's registered private_key_jwt credential
    domain: str
    roles: dict[str, str]  # role id -> name
    members: dict[str, list[str]]  # role id -> user ids
    users: dict[str, dict]  # user id -> profile
    methods: dict[str, list[dict]]  # user id -> authenticators
    rate_limit_once: bool = False
    calls: list[str] = field(default_factory=list)
    seen_jtis: set[str] = field(default_factory=set)

    def accepts(self, body: dict) -> bool:
        """Whether the token request carries a valid, unused client assertion of this client."""
        if body.get("client_assertion_type") != ASSERTION_TYPE or "client_secret" in body:
            return False
        try:
            header_b64, claims_b64, signature_b64 = str(body.get("client_assertion", "")).split(".")
            header, claims = (json.loads(_unb64(part)) for part in (header_b64, claims_b64))
            key = serialization.load_pem_public_key(self.public_key_pem.encode())
            key.verify(_unb64(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return False
        now = time.time()
        valid = (
            header.get("alg") == "RS256"
            and claims.get("iss") == claims.get("sub") == self.client_id
            and claims.get("aud") == f"https://{self.domain}/"
            and claims.get("iat", now) <= now + 5
            and now < claims.get("exp", 0) <= claims.get("iat", now) + MAX_ASSERTION_SECONDS
            and claims.get("jti") not in self.seen_jtis
        )
        self.seen_jtis.add(claims.get("jti"))
        return valid


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _offset_page(items: list, query: dict, key: str) -> dict | list:
    page, per_page = int(query.get("page", ["0"])[0]), int(query.get("per_page", ["50"])[0])
    chunk = items[page * per_page : (page + 1) * per_page]
    if query.get("include_totals", ["false"])[0] != "true":
        return chunk
    return {key: chunk, "start": page * per_page, "limit": per_page, "total": len(items)}


def _checkpoint_page(items: list, query: dict, key: str) -> dict:
    take = int(query.get("take", ["50"])[0])
    start = int(query["from"][0]) if "from" in query else 0
    answer: dict = {key: items[start : start + take]}
    if start + take < len(items):
        answer["next"] = str(start + take)
    return answer


class _Handler(BaseHTTPRequestHandler):
    tenant: Tenant

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.tenant.calls.append(f"POST {self.path}")
        if self.path != "/oauth/token" or body.get("grant_type") != "client_credentials":
            return self._send(404, {"error": "not_found"})
        if body.get("client_id") != self.tenant.client_id or not self.tenant.accepts(body):
            return self._send(401, {"error": "access_denied", "error_description": "Unauthorized"})
        scope = "read:users read:roles read:role_members read:authentication_methods"
        return self._send(200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 86400, "scope": scope})

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = [unquote(p) for p in url.path.split("/")[3:]]  # after /api/v2/
        self.tenant.calls.append(f"GET {url.path}")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"statusCode": 401, "error": "Unauthorized"})
        t = self.tenant
        if parts == ["roles"]:
            roles = [{"id": i, "name": n, "description": n} for i, n in t.roles.items()]
            return self._send(200, _offset_page(roles, query, "roles"))
        if len(parts) == 3 and parts[0] == "roles" and parts[2] == "users":
            users = [{"user_id": u, "email": t.users[u]["email"], "name": u, "picture": ""} for u in t.members.get(parts[1], [])]
            return self._send(200, _checkpoint_page(users, query, "users"))
        if len(parts) == 2 and parts[0] == "users":
            if t.rate_limit_once:
                t.rate_limit_once = False
                return self._send(429, {"statusCode": 429, "error": "Too Many Requests"}, {"x-ratelimit-reset": str(int(time.time()))})
            return self._send(200, t.users[parts[1]])
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "authentication-methods":
            return self._send(200, _offset_page(t.methods.get(parts[1], []), query, "authenticators"))
        return self._send(404, {"statusCode": 404, "error": "Not Found"})


class Auth0StandIn:
    """`with Auth0StandIn(tenant) as url:` serves the tenant on 127.0.0.1 until the block ends."""

    def __init__(self, tenant: Tenant) -> None:
        handler = type("Handler", (_Handler,), {"tenant": tenant})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
