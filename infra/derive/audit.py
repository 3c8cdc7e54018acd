"""Supabase `ops_audit` declarations derived from the access model and stack config (pure, no Pulumi).

`derive_audit(model, config)` returns what `OpsAudit` declares with
pulumi-postgresql and what the migration runner writes into
`ops_audit.settings`:

- the schema and its NOLOGIN owner role;
- the NOLOGIN group roles: `writer` appends to the trail, `reader` reads all of it,
  `checkpoint` reads only what ops_audit.checkpoint_state() returns;
  `rotator` may only set the rotated logins' passwords;
- one LOGIN user per model secret with a `database_user`, inheriting its
  `database_group` (the rotation Lambda owns its password after creation);
- schema USAGE grants and the default privileges that keep PUBLIC from
  executing the owner's functions;
- the settings the migrations read at run time: the roles claim
  (`<claims namespace>/roles`), every ops role, and the roles that read the
  whole trail (those holding `audit:read`);
- the action catalogue the trail checks every event against: each route's
  audit action with the route's permission, and each role's permissions.

No role here gets SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
The role names are also written in the SQL migrations (grants and policies);
tests/audit/test_derive.py checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from infra.model.access import AccessModel

if TYPE_CHECKING:
    from infra.config import StackConfig

SCHEMA = "ops_audit"
OWNER_ROLE = "ops_audit_owner"
GROUP_ROLES: dict[str, str] = {
    "writer": "ops_audit_writer",
    "reader": "ops_audit_reader",
    # Runs ops_audit.checkpoint_state() and nothing else (migration 0008).
    "checkpoint": "ops_audit_checkpoint",
}
# The rotation Lambdas' login inherits this group, which may only call
# ops_rotation.set_login_password (infra/migrations/0020_rotator.sql) and has no use of ops_audit.
ROTATOR_GROUP = "ops_audit_rotator"
LOGIN_GROUPS: dict[str, str] = {**GROUP_ROLES, "rotator": ROTATOR_GROUP}
# Supabase's role for signed-in users: PostgREST writes and reads as it.
SUPABASE_USER_ROLE = "authenticated"
# Roles that may use the schema: the groups, and PostgREST's signed-in users.
SCHEMA_USAGE_ROLES = (*GROUP_ROLES.values(), SUPABASE_USER_ROLE)
# The permission that lets a role read every row of the trail.
READ_ALL_PERMISSION = "audit:read"
# Each login user serves one backend or job: a few pooled connections, with
# room for the rotation's test connection.
LOGIN_CONNECTION_LIMIT = 10


@dataclass(frozen=True)
class DbRole:
    """A database role. Only login users have a password (and the rotation owns it)."""

    name: str
    login: bool
    member_of: tuple[str, ...] = ()
    connection_limit: int = -1
    purpose: str = ""


@dataclass(frozen=True)
class SchemaGrant:
    role: str
    privileges: tuple[str, ...]


@dataclass(frozen=True)
class DefaultPrivilege:
    """ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA ... for `role` (an empty tuple revokes)."""

    role: str
    object_type: Literal["table", "sequence", "function", "type"]
    privileges: tuple[str, ...]


@dataclass(frozen=True)
class AuditSettings:
    """What the runner keeps current: the one row of ops_audit.settings, and the
    action catalogue (ops_audit.actions and ops_audit.role_permissions)."""

    roles_claim: str
    ops_roles: tuple[str, ...]
    read_all_roles: tuple[str, ...]
    # (action, permission): the audit action of each /ops route, with the route's permission.
    actions: tuple[tuple[str, str], ...]
    # (role, permission) for every permission each ops role holds.
    role_permissions: tuple[tuple[str, str], ...]
    # ops_metrics.settings (infra/migrations/metrics_settings.py): the ops roles that read snapshots.
    metrics_read_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditDecl:
    schema: str
    owner: DbRole
    groups: tuple[DbRole, ...]
    logins: tuple[DbRole, ...]
    schema_grants: tuple[SchemaGrant, ...]
    default_privileges: tuple[DefaultPrivilege, ...]
    settings: AuditSettings

    @property
    def roles(self) -> tuple[DbRole, ...]:
        return (self.owner, *self.groups, *self.logins)


def action_catalogue(model: AccessModel) -> tuple[tuple[str, str], ...]:
    """(audit action, permission) per route that records one, sorted by action."""
    return tuple(sorted((r.audit_action, r.permission) for r in model.routes if r.audit_action))


def audit_settings(model: AccessModel, roles_claim: str) -> AuditSettings:
    return AuditSettings(
        roles_claim=roles_claim,
        ops_roles=tuple(sorted(r.name for r in model.roles)),
        read_all_roles=tuple(sorted(r.name for r in model.roles if READ_ALL_PERMISSION in r.permissions)),
        actions=action_catalogue(model),
        role_permissions=tuple(sorted((r.name, p) for r in model.roles for p in r.permissions)),
    )


def login_users(model: AccessModel) -> tuple[DbRole, ...]:
    """One LOGIN role per secret with a database_user in an ops_audit group (the rotator's included), member of that group only."""
    return tuple(
        DbRole(
            name=s.database_user,
            login=True,
            member_of=(LOGIN_GROUPS[s.database_group],),
            connection_limit=LOGIN_CONNECTION_LIMIT,
            purpose=f"login of secret {s.key}",
        )
        for s in model.secrets
        if s.database_user and s.database_group in LOGIN_GROUPS
    )


def derive_audit(model: AccessModel, config: StackConfig, metrics_read_roles: tuple[str, ...] = ()) -> AuditDecl:
    groups = tuple(DbRole(name=role, login=False, purpose=f"{kind} group") for kind, role in LOGIN_GROUPS.items())
    return AuditDecl(
        schema=SCHEMA,
        owner=DbRole(name=OWNER_ROLE, login=False, purpose="owns the schema, the trail and its partitions"),
        groups=groups,
        logins=login_users(model),
        schema_grants=tuple(SchemaGrant(role=role, privileges=("USAGE",)) for role in SCHEMA_USAGE_ROLES),
        # Maintenance functions (partitions, detach) must not be executable by
        # PUBLIC; PostgreSQL's default would grant EXECUTE to everyone.
        default_privileges=(DefaultPrivilege(role="public", object_type="function", privileges=()),),
        settings=replace(audit_settings(model, config.roles_claim), metrics_read_roles=metrics_read_roles),
    )


def admin_dsn(host: str, port: int, database: str, user: str, password: str) -> str:
    """The libpq URI the migration runner connects with: TLS required, as Supabase does."""
    creds = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql://{creds}@{host}:{port}/{quote(database, safe='')}?sslmode=require"
