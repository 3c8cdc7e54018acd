"""What the offline plan declares about access, read from its resources alone.

Pure functions over the analyzer-shaped resources of `resources.json`:

- Auth0 roles and the permissions their `RolePermissions` hold, client grants;
- Postgres roles, grants, default privileges, role memberships, and the RLS
  policies and SQL grants of the migration files the plan applies (matched by
  their sha256);
- IAM roles and the Secrets Manager secrets their policies let them read;
- secrets and their declared rotation.

Links between resources follow `propertyDependencies`, as the engine records
them, never URN shapes. A domain with no declared resource is `None`, so the
report can say "not declared in this plan" instead of an empty section.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from infra.model.vendor_scopes import TAG_GRANTS, TAG_KEY_TYPE, TAG_ROLE
from infra.report.rls import RlsPolicy, parse_grants, parse_policies

AUTH0_ROLE = "auth0:index/role:Role"
AUTH0_ROLE_PERMISSIONS = "auth0:index/rolePermissions:RolePermissions"
AUTH0_ROLE_PERMISSION = "auth0:index/rolePermission:RolePermission"
AUTH0_CLIENT = "auth0:index/client:Client"
AUTH0_CLIENT_GRANT = "auth0:index/clientGrant:ClientGrant"
PG_ROLE = "postgresql:index/role:Role"
PG_GRANT = "postgresql:index/grant:Grant"
PG_GRANT_ROLE = "postgresql:index/grantRole:GrantRole"
PG_DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

SECRET_READ_ACTION = "secretsmanager:GetSecretValue"

Resource = dict[str, Any]


@dataclass(frozen=True)
class DbGrant:
    role: str
    what: str  # e.g. "table ops_audit.events" or "default privileges on tables in schema ops_audit"
    privileges: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"role": self.role, "on": self.what, "privileges": list(self.privileges)}


@dataclass(frozen=True)
class DbRole:
    name: str
    login: bool
    attributes: tuple[str, ...]  # superuser, createrole, bypassrls, ... when set
    member_of: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "login": self.login, "attributes": list(self.attributes), "member_of": list(self.member_of)}


@dataclass(frozen=True)
class DeclaredSecret:
    name: str  # the Secrets Manager name, ops-hub/<env>/<vendor>/<purpose>
    key: str  # the model's <vendor>/<purpose>
    resource_name: str
    urn: str
    kms_key: bool
    rotation_days: int | None  # from a declared SecretRotation
    rotation_lambda: bool
    # What the key may do at its vendor, read back from the secret's vendor-* tags.
    vendor_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declared:
    """Everything access-related the plan declares; None = that domain declares nothing."""

    auth0_roles: dict[str, tuple[str, ...]] | None
    client_grants: dict[str, tuple[str, ...]]
    db_roles: tuple[DbRole, ...] | None
    db_grants: tuple[DbGrant, ...]
    rls_policies: tuple[RlsPolicy, ...] | None
    rls_unverified: tuple[str, ...]  # migration files whose text does not match the plan's digest
    secrets: dict[str, DeclaredSecret] | None  # by model key
    iam_reads: dict[str, tuple[str, ...]] | None  # IAM role name -> secret keys it may read
    resource_count: int = 0
    types: dict[str, int] = field(default_factory=dict)


def _of_type(resources: list[Resource], token: str) -> list[Resource]:
    return [r for r in resources if r.get("type") == token]


def _props(resource: Resource) -> dict[str, Any]:
    return resource.get("properties") or {}


def _linked(resource: Resource, prop: str, by_urn: dict[str, Resource]) -> list[Resource]:
    """The resources whose outputs fed `prop` of `resource`."""
    urns = (resource.get("propertyDependencies") or {}).get(prop, [])
    return [by_urn[u] for u in urns if u in by_urn]


def _name_of(resource: Resource) -> str:
    return str(_props(resource).get("name") or resource.get("name"))


def auth0_roles(resources: list[Resource], by_urn: dict[str, Resource]) -> dict[str, tuple[str, ...]] | None:
    roles = _of_type(resources, AUTH0_ROLE)
    if not roles:
        return None
    held: dict[str, set[str]] = {_name_of(r): set() for r in roles}
    for rp in _of_type(resources, AUTH0_ROLE_PERMISSIONS):
        names = {p.get("name") for p in _props(rp).get("permissions") or [] if isinstance(p, dict)}
        for role in _linked(rp, "roleId", by_urn):
            held.setdefault(_name_of(role), set()).update(n for n in names if n)
    for rp in _of_type(resources, AUTH0_ROLE_PERMISSION):
        for role in _linked(rp, "roleId", by_urn):
            held.setdefault(_name_of(role), set()).add(_props(rp).get("permission"))
    return {name: tuple(sorted(p for p in perms if p)) for name, perms in sorted(held.items())}


def client_grants(resources: list[Resource], by_urn: dict[str, Resource]) -> dict[str, tuple[str, ...]]:
    grants: dict[str, set[str]] = defaultdict(set)
    for grant in _of_type(resources, AUTH0_CLIENT_GRANT):
        clients = _linked(grant, "clientId", by_urn) or [grant]
        for client in clients:
            audience = _props(grant).get("audience", "")
            grants[_name_of(client)].update(f"{audience} {s}".strip() for s in _props(grant).get("scopes") or [])
    return {name: tuple(sorted(scopes)) for name, scopes in sorted(grants.items())}


_PG_ATTRIBUTES = {
    "superuser": "superuser",
    "createRole": "createrole",
    "createDatabase": "createdb",
    "bypassRowLevelSecurity": "bypassrls",
    "replication": "replication",
}


def db_roles(resources: list[Resource]) -> tuple[DbRole, ...] | None:
    roles = _of_type(resources, PG_ROLE)
    if not roles:
        return None
    memberships: dict[str, set[str]] = defaultdict(set)
    for gr in _of_type(resources, PG_GRANT_ROLE):
        memberships[_props(gr).get("role", "")].add(_props(gr).get("grantRole", ""))
    declared = []
    for role in roles:
        props = _props(role)
        name = _name_of(role)
        declared.append(
            DbRole(
                name=name,
                login=bool(props.get("login")),
                attributes=tuple(label for key, label in _PG_ATTRIBUTES.items() if props.get(key)),
                member_of=tuple(sorted(set(props.get("roles") or []) | memberships.get(name, set()))),
            )
        )
    return tuple(sorted(declared, key=lambda r: r.name))


def _grant_target(props: dict[str, Any]) -> str:
    kind = props.get("objectType", "?")
    schema = props.get("schema")
    objects = props.get("objects") or []
    if kind == "database":
        return f"database {props.get('database', '')}"
    if kind == "schema":
        return f"schema {schema}"
    if objects:
        columns = f" ({', '.join(props['columns'])})" if props.get("columns") else ""
        return ", ".join(f"{kind} {schema}.{o}" for o in objects) + columns
    return f"all {kind}s in schema {schema}"


def db_grants(resources: list[Resource]) -> tuple[DbGrant, ...]:
    grants = [
        DbGrant(_props(g).get("role", ""), _grant_target(_props(g)), tuple(sorted(_props(g).get("privileges") or [])))
        for g in _of_type(resources, PG_GRANT)
    ]
    for d in _of_type(resources, PG_DEFAULT_PRIVILEGES):
        props = _props(d)
        what = f"future {props.get('objectType')}s of {props.get('owner')} in schema {props.get('schema')}"
        grants.append(DbGrant(props.get("role", ""), what, tuple(sorted(props.get("privileges") or []))))
    return tuple(sorted(grants, key=lambda g: (g.role, g.what)))


# The claim predicates of the ops_audit migrations, and which list of the
# migration resource's settings each one tests the caller's ops roles against.
CLAIM_PREDICATES = {"ops_audit.jwt_reads_all": "readAllRoles", "ops_audit.jwt_ops_roles": "opsRoles"}


def _migration_resources(resources: list[Resource]) -> list[Resource]:
    """The resources that apply SQL migrations: they carry the `digests` of the files they apply."""
    return [r for r in resources if isinstance(_props(r).get("digests"), dict)]


@dataclass(frozen=True)
class MigrationAccess:
    """What the migration files the plan applies grant: RLS policies and SQL grants."""

    policies: tuple[RlsPolicy, ...] | None  # None: the plan applies no migrations
    grants: tuple[DbGrant, ...]
    unverified: tuple[str, ...]  # files whose text does not match the plan's digest


def migration_access(resources: list[Resource], sql_files: dict[str, str]) -> MigrationAccess:
    """Policies and grants in the migration files the plan applies.

    A file counts only when its sha256 is the digest the plan declares, so the
    report never describes SQL other than what `pulumi up` would apply.
    """
    migrations = _migration_resources(resources)
    if not migrations:
        return MigrationAccess(None, (), ())
    policies: list[RlsPolicy] = []
    grants: list[DbGrant] = []
    unverified: list[str] = []
    for migration in migrations:
        props = _props(migration)
        for name, digest in sorted(props["digests"].items()):
            text = sql_files.get(name)
            if text is None or hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
                unverified.append(name)
                continue
            for policy in parse_policies(text):
                granted = {r for p in policy.predicates if p in CLAIM_PREDICATES for r in props.get(CLAIM_PREDICATES[p]) or []}
                policies.append(replace(policy, ops_roles=tuple(sorted(set(policy.ops_roles) | granted))))
            grants += [DbGrant(role, f"{what} ({name})", privileges) for role, privileges, what in parse_grants(text)]
    return MigrationAccess(tuple(policies), tuple(grants), tuple(unverified))


def _secret_key(name: str) -> str:
    """`ops-hub/prod/stripe/secret-key` -> `stripe/secret-key`."""
    return "/".join(name.split("/")[-2:])


def declared_vendor_scopes(tags: object) -> tuple[str, ...]:
    """`key type X`, `role Y` and `grant Z` for the vendor-* tags VendorSecrets writes (scope_tags)."""
    if not isinstance(tags, dict):
        return ()
    scopes = [f"key type {tags[TAG_KEY_TYPE]}"] if TAG_KEY_TYPE in tags else []
    scopes += [f"role {tags[TAG_ROLE]}"] if TAG_ROLE in tags else []
    grant_tags = sorted((k for k in tags if k.startswith(TAG_GRANTS)), key=lambda k: (len(k), k))
    return tuple(scopes + [f"grant {g}" for k in grant_tags for g in str(tags[k]).split()])


def secrets(resources: list[Resource], by_urn: dict[str, Resource]) -> dict[str, DeclaredSecret] | None:
    declared = _of_type(resources, SECRET)
    if not declared:
        return None
    rotations: dict[str, Resource] = {}
    for rotation in _of_type(resources, SECRET_ROTATION):
        for secret in _linked(rotation, "secretId", by_urn):
            rotations[secret["urn"]] = rotation
    out = {}
    for secret in declared:
        name = _name_of(secret)
        rotation = _props(rotations[secret["urn"]]) if secret["urn"] in rotations else {}
        days = (rotation.get("rotationRules") or {}).get("automaticallyAfterDays")
        out[_secret_key(name)] = DeclaredSecret(
            name=name,
            key=_secret_key(name),
            resource_name=secret["name"],
            urn=secret["urn"],
            kms_key=bool(_props(secret).get("kmsKeyId")),
            rotation_days=int(days) if days is not None else None,
            rotation_lambda=bool(rotation.get("rotationLambdaArn")),
            vendor_scopes=declared_vendor_scopes(_props(secret).get("tags")),
        )
    return dict(sorted(out.items()))


def _statements(document: Any) -> list[dict]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def _names_secret(resource_arn: str, secret: DeclaredSecret) -> bool:
    """Whether an IAM Resource entry covers the secret (a pattern over real ARNs, or the secret's own ARN)."""
    if resource_arn.endswith(f":{secret.resource_name}"):  # the ARN output of the secret resource itself
        return True
    parts = resource_arn.split(":")
    region, account = (parts[3], parts[4]) if len(parts) > 4 else ("*", "*")
    # Real secret ARNs end in a random 6-character suffix after the name.
    return fnmatch.fnmatchcase(f"arn:aws:secretsmanager:{region}:{account}:secret:{secret.name}-AbCdEf", resource_arn)


def secrets_readable(document: Any, declared: dict[str, DeclaredSecret]) -> set[str]:
    """Keys of the secrets a policy document allows GetSecretValue on."""
    keys: set[str] = set()
    for st in _statements(document):
        actions = _as_list(st.get("Action"))
        if st.get("Effect") != "Allow" or not any(fnmatch.fnmatchcase(SECRET_READ_ACTION, a) for a in actions):
            continue
        keys |= {s.key for s in declared.values() for arn in _as_list(st.get("Resource")) if _names_secret(arn, s)}
    return keys


def iam_reads(
    resources: list[Resource], by_urn: dict[str, Resource], declared: dict[str, DeclaredSecret] | None
) -> dict[str, tuple[str, ...]] | None:
    roles = _of_type(resources, IAM_ROLE)
    if not roles or declared is None:
        return None
    reads: dict[str, set[str]] = {_name_of(r): set() for r in roles}
    for role in roles:
        for inline in _props(role).get("inlinePolicies") or []:
            reads[_name_of(role)] |= secrets_readable(inline.get("policy"), declared)
    for rp in _of_type(resources, IAM_ROLE_POLICY):
        for role in _linked(rp, "role", by_urn):
            reads[_name_of(role)] |= secrets_readable(_props(rp).get("policy"), declared)
    for attachment in _of_type(resources, IAM_ROLE_POLICY_ATTACHMENT):
        documents = [_props(p).get("policy") for p in _linked(attachment, "policyArn", by_urn)]
        for role in _linked(attachment, "role", by_urn):
            for document in documents:
                reads[_name_of(role)] |= secrets_readable(document, declared)
    return {name: tuple(sorted(keys)) for name, keys in sorted(reads.items())}


def read_declared(resources: list[Resource], sql_files: dict[str, str] | None = None) -> Declared:
    """Everything access-related in the plan's resources; `sql_files` are the migration files by name."""
    by_urn = {r["urn"]: r for r in resources if "urn" in r}
    declared_secrets = secrets(resources, by_urn)
    migrations = migration_access(resources, sql_files or {})
    types: dict[str, int] = defaultdict(int)
    for r in resources:
        types[r.get("type", "?")] += 1
    return Declared(
        auth0_roles=auth0_roles(resources, by_urn),
        client_grants=client_grants(resources, by_urn),
        db_roles=db_roles(resources),
        db_grants=tuple(sorted(db_grants(resources) + migrations.grants, key=lambda g: (g.role, g.what))),
        rls_policies=migrations.policies,
        rls_unverified=migrations.unverified,
        secrets=declared_secrets,
        iam_reads=iam_reads(resources, by_urn, declared_secrets),
        resource_count=len(resources),
        types=dict(sorted(types.items())),
    )
