"""Who signs in to /ops, and who may write the compliance archive, read from the plan's resources alone.

- the applications people sign in through (Auth0 clients that are not machine
  clients: non-interactive, or using client_credentials), with their grants,
  URLs, the scopes their user grants carry, and the database connections enabled
  for them (`ConnectionClients`);
- the writers of each Object Lock bucket: the roles its bucket policy exempts
  from the deny of object writes (their names, through `propertyDependencies`),
  and any other principal the policy names.

Pure functions over the analyzer-shaped resources; links follow
`propertyDependencies`, never URN shapes.
"""

from __future__ import annotations

import json
from typing import Any

Resource = dict[str, Any]

CLIENT = "auth0:index/client:Client"
CLIENT_GRANT = "auth0:index/clientGrant:ClientGrant"
CONNECTION = "auth0:index/connection:Connection"
CONNECTION_CLIENTS = "auth0:index/connectionClients:ConnectionClients"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
IAM_ROLE = "aws:iam/role:Role"
MACHINE_APP_TYPE = "non_interactive"
MACHINE_GRANT = "client_credentials"
OBJECT_WRITE = "s3:PutObject"


def _props(r: Resource) -> dict[str, Any]:
    return r.get("properties") or {}


def _linked(r: Resource, prop: str, by_urn: dict[str, Resource]) -> list[Resource]:
    return [by_urn[u] for u in (r.get("propertyDependencies") or {}).get(prop, []) if u in by_urn]


def _name(r: Resource) -> str:
    return str(_props(r).get("name") or r.get("name"))


def _is_machine(client: Resource) -> bool:
    props = _props(client)
    return props.get("appType") == MACHINE_APP_TYPE or MACHINE_GRANT in (props.get("grantTypes") or [])


def sign_in_applications(resources: list[Resource]) -> list[dict[str, Any]]:
    """Each application people sign in through, with the connections that feed it."""
    by_urn = {r["urn"]: r for r in resources if "urn" in r}
    apps = [r for r in resources if r.get("type") == CLIENT and not _is_machine(r)]
    feeds: dict[str, list[str]] = {a["urn"]: [] for a in apps}
    for holder in (r for r in resources if r.get("type") == CONNECTION_CLIENTS):
        connections = [_name(c) for c in _linked(holder, "connectionId", by_urn) if c["type"] == CONNECTION]
        for client in _linked(holder, "enabledClients", by_urn):
            feeds.setdefault(client["urn"], []).extend(connections)
    scopes: dict[str, dict[str, list[str]]] = {a["urn"]: {} for a in apps}
    for grant in (r for r in resources if r.get("type") == CLIENT_GRANT and _props(r).get("subjectType") == "user"):
        for client in _linked(grant, "clientId", by_urn):
            scopes.setdefault(client["urn"], {})[_props(grant).get("audience", "")] = sorted(_props(grant).get("scopes") or [])
    return [
        {
            "name": _name(app),
            "app_type": _props(app).get("appType", ""),
            "grant_types": list(_props(app).get("grantTypes") or []),
            "callbacks": list(_props(app).get("callbacks") or []),
            "logout_urls": list(_props(app).get("allowedLogoutUrls") or []),
            "web_origins": list(_props(app).get("webOrigins") or []),
            "connections": sorted(feeds[app["urn"]]),
            "user_grants": dict(sorted(scopes[app["urn"]].items())),
        }
        for app in sorted(apps, key=_name)
    ]


def _write_exemptions(document: Any) -> list[str] | None:
    """The principal ARNs a Deny of object writes by everyone exempts; None when there is no such deny."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for s in statements if isinstance(statements, list) else [statements]:
        actions = s.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if s.get("Effect") == "Deny" and s.get("Principal") == "*" and OBJECT_WRITE in actions:
            tests = s.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn", [])
            return [tests] if isinstance(tests, str) else list(tests)
    return None


def archive_writers(resources: list[Resource]) -> list[dict[str, Any]]:
    """Per Object Lock bucket: the roles that may write objects, and how many other principals may."""
    by_urn = {r["urn"]: r for r in resources if "urn" in r}
    archives = []
    for bucket in (r for r in resources if r.get("type") == BUCKET and _props(r).get("objectLockEnabled")):
        policies = [p for p in resources if p.get("type") == BUCKET_POLICY and bucket["urn"] in (p.get("propertyDependencies") or {}).get("bucket", [])]
        writers: list[str] | None = None
        others = 0
        for policy in policies:
            exempt = _write_exemptions(_props(policy).get("policy", "{}"))
            if exempt is None:
                continue
            roles = [_name(r) for r in _linked(policy, "policy", by_urn) if r["type"] == IAM_ROLE]
            writers = sorted(roles)
            others = max(len(exempt) - len(roles), 0)
        archives.append({
            "bucket": _props(bucket).get("bucket") or bucket.get("name"),
            "writers": writers,  # None: the bucket policy does not restrict writers at all
            "other_principals": others,
        })
    return archives
