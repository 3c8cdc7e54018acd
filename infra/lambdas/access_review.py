"""The monthly access review: who actually holds each ops role in Auth0, against what was approved.

AWS Lambda handler `access_review.lambda_handler` (package root infra/lambdas),
started monthly by EventBridge Scheduler. Standard library, boto3, and
`cryptography` from the Lambda layer (`make lambda-layer`) to sign its client assertion.

Inputs:
- `review_input.json`, packaged beside this file at deploy time from the access
  model and infra/model/assignments.yaml: each role's permissions and accepted
  MFA factors (as Auth0 authentication-method types), the SoD pairs, the
  approved assignments;
- the access-review M2M client's key, JSON `{"client_id", "private_key_pem", "algorithm"}`
  in the Secrets Manager secret `CLIENT_SECRET_ARN` (ops-hub/<env>/auth0/access-review-client).
  The client authenticates with private_key_jwt: a one-minute RS256 client assertion
  (Auth0, "Authenticate with Private Key JWT"), so no client secret exists to leak.
  That client can only read users, roles, role members and authentication methods.

Auth0 Management API calls (all read-only, all paged): POST /oauth/token,
GET /api/v2/roles, /api/v2/roles/{id}/users (checkpoint paging), /api/v2/users/{id},
/api/v2/users/{id}/authentication-methods.

Findings: holders without an approval, approvals that have expired, holders
without an enrolled MFA factor their roles accept, dormant accounts (no login
in `DORMANT_DAYS`, default 90), segregation-of-duties pairs a person holds
through their roles, and what the latest checkpoint of the ops_audit trail
(`CHECKPOINT_PREFIX` in the same bucket, infra/lambdas/audit_checkpoint.py) found
beyond the expected principals: members of ops_audit_owner, BYPASSRLS holders,
superusers, trail tables without forced RLS; or that no checkpoint was written
in the last `CHECKPOINT_LOOKBACK_DAYS` days.

Output: `access-reviews/YYYY/MM/<UTC timestamp>-<request id>.json` and `.md` in
`REVIEW_BUCKET` (Object Lock, compliance mode), written with If-None-Match so an
earlier review is never overwritten, then a ticket-severity notice on the SNS
topic `NOTICE_TOPIC_ARN`.

Environment: AUTH0_DOMAIN, CLIENT_SECRET_ARN, REVIEW_BUCKET, NOTICE_TOPIC_ARN,
CHECKPOINT_PREFIX, DORMANT_DAYS (optional), AUTH0_MANAGEMENT_URL (optional; defaults to
https://AUTH0_DOMAIN, and only tests point it at a loopback stand-in).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
import uuid
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3

INPUT_FILE = Path(__file__).with_name("review_input.json")
PREFIX = "access-reviews"
PAGE_SIZE = 50
RETRIES = 5
TIMEOUT_SECONDS = 20
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# A client assertion is single-use; Auth0 accepts at most 5 minutes and advises under one.
ASSERTION_LIFETIME_SECONDS = 60
SIGNING_ALGORITHM = "RS256"
CHECKPOINT_LOOKBACK_DAYS = 3
# The checkpoint's deviation lists, as the review names them.
CHECKPOINT_DEVIATIONS = {
    "owner_members": "unexpected member of ops_audit_owner",
    "bypassrls_roles": "unexpected BYPASSRLS holder",
    "superusers": "unexpected superuser",
}


class ReviewError(Exception):
    """The review cannot run (bad credentials secret, an Auth0 error); nothing was written."""


class ManagementApi:
    """A read-only Auth0 Management API client with paging and rate-limit retries."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    @classmethod
    def login(cls, base_url: str, domain: str, client_id: str, private_key_pem: str) -> ManagementApi:
        body = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(client_id, domain, private_key_pem, int(time.time())),
            "audience": f"https://{domain}/api/v2/",
        }
        answer = _request("POST", f"{base_url.rstrip('/')}/oauth/token", None, body)
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise ReviewError("Auth0 /oauth/token returned no access_token")
        return cls(base_url, answer["access_token"])

    def get(self, path: str, **query: Any) -> Any:
        url = f"{self.base_url}/api/v2/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return _request("GET", url, self.token, None)

    def paged(self, path: str, items_key: str) -> list[dict]:
        """Offset paging (`page`, `per_page`, `include_totals`) until `total` items are read."""
        items: list[dict] = []
        page = 0
        while True:
            answer = self.get(path, page=page, per_page=PAGE_SIZE, include_totals="true")
            batch = answer.get(items_key, []) if isinstance(answer, dict) else answer
            items += batch
            total = answer.get("total", len(items)) if isinstance(answer, dict) else len(items)
            if not batch or len(items) >= total:
                return items
            page += 1

    def checkpoint(self, path: str, items_key: str) -> list[dict]:
        """Checkpoint paging (`take`, `from` = the previous `next`): role members beyond 1000 need it."""
        items: list[dict] = []
        cursor: str | None = None
        while True:
            query: dict[str, Any] = {"take": PAGE_SIZE}
            if cursor:
                query["from"] = cursor
            answer = self.get(path, **query)
            items += answer.get(items_key, [])
            cursor = answer.get("next")
            if not cursor:
                return items


def _request(method: str, url: str, token: str | None, body: dict | None) -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    for attempt in range(RETRIES):
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - https in prod
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code == 429 and attempt < RETRIES - 1:
                # Auth0 rate limits: wait as told (x-ratelimit-reset is an epoch second), then retry.
                reset = exc.headers.get("x-ratelimit-reset")
                time.sleep(min(max(float(reset) - time.time(), 0.0), 10.0) if reset else 2.0**attempt)
                continue
            path = urllib.parse.urlsplit(url).path
            raise ReviewError(f"Auth0 {method} {path} failed with HTTP {exc.code}") from None
    raise ReviewError(f"Auth0 {method} {url}: rate limited {RETRIES} times")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_assertion(client_id: str, domain: str, private_key_pem: str, now: int) -> str:
    """The RS256 client assertion Auth0 takes in place of a client secret: iss = sub = the client,
    aud = the tenant (with its trailing slash), a unique jti, valid for a minute."""
    from cryptography.hazmat.primitives import hashes, serialization  # from the Lambda layer
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ReviewError("the client key must be an RSA private key")
    header = {"alg": SIGNING_ALGORITHM, "typ": "JWT"}
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"https://{domain}/",
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def _client_key(secret_arn: str) -> tuple[str, str]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
    try:
        document = json.loads(value["SecretString"])
        return document["client_id"], document["private_key_pem"]
    except (KeyError, TypeError, ValueError):
        raise ReviewError(f"secret {secret_arn} must hold JSON with client_id and private_key_pem") from None


def actual_assignments(api: ManagementApi, role_names: list[str]) -> dict[str, dict]:
    """Users holding any of `role_names`: user id -> profile, roles and confirmed MFA types."""
    ids = {r["name"]: r["id"] for r in api.paged("roles", "roles") if r.get("name") in role_names}
    holders: dict[str, dict] = {}
    for name, role_id in sorted(ids.items()):
        for member in api.checkpoint(f"roles/{urllib.parse.quote(role_id)}/users", "users"):
            holders.setdefault(member["user_id"], {"roles": []})["roles"].append(name)
    for user_id, holder in holders.items():
        quoted = urllib.parse.quote(user_id, safe="")
        profile = api.get(f"users/{quoted}")
        methods = api.paged(f"users/{quoted}/authentication-methods", "authenticators")
        holder.update(
            email=profile.get("email"),
            last_login=profile.get("last_login"),
            blocked=bool(profile.get("blocked")),
            mfa=sorted({m["type"] for m in methods if m.get("confirmed", True) and m.get("type")}),
        )
    return holders


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


_TITLES = {
    "unapproved": "Holders without an approval",
    "expired": "Expired approvals",
    "mfa": "Holders without an MFA factor their role accepts",
    "dormant": "Dormant accounts",
    "sod": "Segregation-of-duties pairs held by one person",
    "trail": "Audit trail: principals and RLS beyond the expected (latest checkpoint)",
}


def latest_checkpoint(bucket: str, prefix: str, now: dt.datetime) -> tuple[str, dict] | None:
    """The newest checkpoint of the last CHECKPOINT_LOOKBACK_DAYS days (keys sort by time within a day)."""
    s3 = boto3.client("s3")
    for days_ago in range(CHECKPOINT_LOOKBACK_DAYS):
        day = now - dt.timedelta(days=days_ago)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{day:%Y/%m/%d}/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        if keys:
            key = max(keys)
            return key, json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return None


def trail_findings(latest: tuple[str, dict] | None) -> list[dict]:
    """The latest checkpoint's deviations, one finding each; no checkpoint at all is a finding too."""
    if latest is None:
        return [{"problem": f"no checkpoint of the ops_audit trail in the last {CHECKPOINT_LOOKBACK_DAYS} days"}]
    key, checkpoint = latest
    found = checkpoint["deviations"]
    rows = [
        {"checkpoint": key, "problem": problem, "role": role}
        for kind, problem in CHECKPOINT_DEVIATIONS.items()
        for role in found[kind]
    ]
    return rows + [{"checkpoint": key, "problem": "RLS not enabled and forced", **table} for table in found["rls_off"]]


def review(spec: dict, holders: dict[str, dict], now: dt.datetime, dormant_days: int, trail: list[dict]) -> dict:
    """Compare actual holders with the approved assignments; every finding names the user and role.

    `trail` holds the findings of the latest checkpoint of the audit trail (trail_findings).
    """
    today = now.date()
    approved = {(a["user"], a["role"]): a for a in spec["approved"]}
    held = {(user, role) for user, h in holders.items() for role in h["roles"]}
    findings: dict[str, list[dict]] = defaultdict(list)
    for user, role in sorted(held - approved.keys()):
        findings["unapproved"].append({"user": user, "role": role})
    for (user, role), a in sorted(approved.items()):
        if dt.date.fromisoformat(a["expires"]) < today:
            findings["expired"].append({"user": user, "role": role, "expired": a["expires"], "still_held": (user, role) in held})
    for user, h in sorted(holders.items()):
        roles = sorted(h["roles"])
        for role in roles:
            accepted = set(spec["roles"][role]["mfa_types"])
            if not accepted & set(h["mfa"]):
                findings["mfa"].append({"user": user, "role": role, "enrolled": h["mfa"], "accepted": sorted(accepted)})
        last = _parse_time(h.get("last_login"))
        if last is None or (now - last).days > dormant_days:
            findings["dormant"].append({"user": user, "roles": roles, "last_login": h.get("last_login")})
        permissions = {p for role in roles for p in spec["roles"][role]["permissions"]}
        findings["sod"] += [
            {"user": user, "roles": roles, "permissions": pair["permissions"], "reason": pair["reason"]}
            for pair in spec["sod"]
            if set(pair["permissions"]) <= permissions
        ]
    findings["trail"] = trail
    not_held = sorted(f"{u} as {r}" for u, r in approved.keys() - held)
    return {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dormant_days": dormant_days,
        "holders": [{"user": u, **h} for u, h in sorted(holders.items())],
        "findings": {kind: findings.get(kind, []) for kind in _TITLES},
        "approved_not_held": not_held,
        "finding_count": sum(len(v) for v in findings.values()),
    }


def render_markdown(result: dict, tenant: str) -> str:
    lines = [
        f"# Ops Hub access review, {result['generated_at']}",
        "",
        f"Auth0 tenant `{tenant}`: {len(result['holders'])} holders of ops roles, {result['finding_count']} findings.",
        "",
    ]
    for kind, title in _TITLES.items():
        items = result["findings"][kind]
        lines += [f"## {title} ({len(items)})", ""]
        lines += [f"- `{json.dumps(item, sort_keys=True)}`" for item in items] or ["None."]
        lines.append("")
    lines += ["## Approved but not held", ""] + ([f"- {x}" for x in result["approved_not_held"]] or ["None."])
    return "\n".join(lines) + "\n"


def store(bucket: str, stem: str, result: dict, markdown: str) -> list[str]:
    """Write both files; If-None-Match makes S3 refuse to replace an existing key."""
    s3 = boto3.client("s3")
    keys = []
    for suffix, body, content_type in (
        ("json", json.dumps(result, indent=2, sort_keys=True), "application/json"),
        ("md", markdown, "text/markdown; charset=utf-8"),
    ):
        key = f"{stem}.{suffix}"
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType=content_type, IfNoneMatch="*")
        keys.append(key)
    return keys


def notify(topic_arn: str, result: dict, bucket: str, keys: list[str]) -> None:
    counts = ", ".join(f"{len(v)} {k}" for k, v in result["findings"].items())
    boto3.client("sns").publish(
        TopicArn=topic_arn,
        Subject=f"[ticket] Ops Hub access review: {result['finding_count']} findings"[:100],
        Message=f"Monthly access review {result['generated_at']}: {counts}.\n"
        + "\n".join(f"s3://{bucket}/{k}" for k in keys),
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "ticket"}},
    )


def lambda_handler(event: dict, context: Any) -> dict:
    env = os.environ
    domain = env["AUTH0_DOMAIN"]
    spec = json.loads(INPUT_FILE.read_text(encoding="utf-8"))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    client_id, private_key_pem = _client_key(env["CLIENT_SECRET_ARN"])
    api = ManagementApi.login(env.get("AUTH0_MANAGEMENT_URL", f"https://{domain}"), domain, client_id, private_key_pem)
    holders = actual_assignments(api, sorted(spec["roles"]))
    trail = trail_findings(latest_checkpoint(env["REVIEW_BUCKET"], env["CHECKPOINT_PREFIX"], now))
    result = review(spec, holders, now, int(env.get("DORMANT_DAYS", "90")), trail)
    request_id = getattr(context, "aws_request_id", "local")
    stem = f"{PREFIX}/{now:%Y/%m}/{now:%Y%m%dT%H%M%SZ}-{request_id}"
    keys = store(env["REVIEW_BUCKET"], stem, result, render_markdown(result, domain))
    notify(env["NOTICE_TOPIC_ARN"], result, env["REVIEW_BUCKET"], keys)
    return {"keys": keys, "finding_count": result["finding_count"]}
