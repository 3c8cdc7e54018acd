"""Applies the versioned SQL migrations (`NNNN_name.sql` beside this file) to a database.

One call of `migrate()`:

1. takes `pg_advisory_xact_lock`, so concurrent runs queue instead of racing;
2. checks what Supabase provides (roles anon, authenticated, service_role and
   auth.jwt()) and refuses, naming what is missing, without ever creating it;
3. creates the NOLOGIN ops_audit and ops_metrics roles and the schemas (with
   their USAGE grants) only where they are missing (Pulumi declares them first in a real
   stack, so there this does nothing; it lets a fresh local database be
   migrated on its own);
4. refuses, naming the file, when an applied migration's sha256 changed or an
   applied file is gone;
5. applies the pending files in order, recording each file's sha256, hands
   every object in the schema to ops_audit_owner, and brings
   ops_audit.settings, ops_metrics.settings and the action catalogue
   (ops_audit.actions, ops_audit.role_permissions) up to date;

all in ONE transaction: any failure rolls everything back. With nothing
pending and unchanged settings and catalogue it changes nothing. The notices the files
raise (e.g. 0005's "pg_cron is not enabled") come back in the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from infra.derive import metrics
from infra.derive.audit import LOGIN_GROUPS, OWNER_ROLE, SCHEMA, SCHEMA_USAGE_ROLES, AuditSettings
from infra.migrations.files import MIGRATIONS_DIR, Migration, MigrationError, load_migrations
from infra.migrations.metrics_settings import write_metrics_settings

# pg_advisory_xact_lock key: the first 8 bytes of sha256("opshub:ops_audit:migrations").
LOCK_KEY = int.from_bytes(hashlib.sha256(b"opshub:ops_audit:migrations").digest()[:8], "big", signed=True)
SUPABASE_ROLES = ("anon", "authenticated", "service_role")
CONNECT_TIMEOUT_SECONDS = 10

HISTORY_DDL = """
create table if not exists ops_audit.schema_migrations (
    filename    text        primary key,
    sha256      text        not null,
    applied_at  timestamptz not null default now()
);
revoke all on ops_audit.schema_migrations from public;
"""


@dataclass(frozen=True)
class MigrateResult:
    applied: tuple[str, ...]
    created: tuple[str, ...]
    settings_changed: bool  # the settings row or the action catalogue
    notices: tuple[str, ...] = ()  # what the applied files said with `raise notice`

    @property
    def changed(self) -> bool:
        return bool(self.applied or self.created or self.settings_changed)


def connect(dsn: str) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.Error as exc:
        raise MigrationError("--dsn", [f"cannot connect: {str(exc).strip()}"]) from None


def _exists(conn: psycopg.Connection, query: str, *params: object) -> bool:
    return conn.execute(query, params).fetchone() is not None


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return _exists(conn, "select 1 where to_regclass(%s) is not null", name)


def check_supabase(conn: psycopg.Connection) -> None:
    """Refuse a database without Supabase's roles and auth.jwt(); never create them."""
    problems = [
        f"role {role!r} is missing; migrations never create Supabase's roles"
        for role in SUPABASE_ROLES
        if not _exists(conn, "select 1 from pg_roles where rolname = %s", role)
    ]
    if not _exists(conn, "select 1 from pg_proc where oid = to_regprocedure('auth.jwt()')"):
        problems.append("function auth.jwt() is missing; migrations never create Supabase's auth functions")
    if problems:
        raise MigrationError("database", problems)


def ensure_roles_and_schema(
    conn: psycopg.Connection, owner: str, groups: Sequence[str], schema: str, usage_roles: Sequence[str]
) -> list[str]:
    """Create missing NOLOGIN roles, the admin's membership in the owner, and the schema with its USAGE grants."""
    created = []
    for role in (owner, *groups):
        if not _exists(conn, "select 1 from pg_roles where rolname = %s", role):
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            created.append(f"role {role}")
    if not _exists(conn, "select 1 where pg_has_role(current_user, %s, 'MEMBER')", owner):
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(owner)))
        created.append(f"membership of the admin in {owner}")
    if not _exists(conn, "select 1 from pg_namespace where nspname = %s", schema):
        conn.execute(sql.SQL("create schema {} authorization {}").format(sql.Identifier(schema), sql.Identifier(owner)))
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(
            sql.Identifier(schema), sql.SQL(", ").join(map(sql.Identifier, usage_roles))))
        created.append(f"schema {schema} (usage for {', '.join(usage_roles)})")
    return created


def ensure_ops_roles(conn: psycopg.Connection) -> list[str]:
    """ops_audit's roles and schema, then ops_metrics' (whose USAGE grants name ops_audit_writer), where missing."""
    created = ensure_roles_and_schema(conn, OWNER_ROLE, list(LOGIN_GROUPS.values()), SCHEMA, SCHEMA_USAGE_ROLES)
    return created + ensure_roles_and_schema(conn, metrics.OWNER_ROLE, (metrics.WRITER_GROUP, metrics.READER_GROUP),
                                             metrics.SCHEMA, metrics.SCHEMA_USAGE_ROLES)


def pending_migrations(conn: psycopg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Files not applied yet; refuses when an applied file changed or disappeared."""
    applied = dict(conn.execute("select filename, sha256 from ops_audit.schema_migrations").fetchall())
    on_disk = {m.name: m for m in migrations}
    problems = [
        f"{name}: was applied with sha256 {digest[:12]}… and has changed since; add a new migration instead"
        for name, digest in sorted(applied.items())
        if name in on_disk and on_disk[name].sha256 != digest
    ]
    problems += [f"{name}: was applied but the file is gone" for name in sorted(applied) if name not in on_disk]
    if problems:
        raise MigrationError("migrations", problems)
    return [m for m in migrations if m.name not in applied]


def apply(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():  # a savepoint, so the error names this file
            conn.execute(migration.sql)
    except psycopg.Error as exc:
        raise MigrationError(migration.name, [f"failed, nothing was applied: {str(exc).strip()}"]) from None
    conn.execute(
        "insert into ops_audit.schema_migrations (filename, sha256) values (%s, %s)",
        (migration.name, migration.sha256),
    )


# Objects in the schema not owned by the owner role yet, as ALTER statements.
# Tables first: their identity sequences and indexes follow them.
ADOPT_SQL = """
select format('alter table %%s owner to %%I', c.oid::regclass, %(owner)s::text)
from pg_class as c
where c.relnamespace = 'ops_audit'::regnamespace and c.relkind in ('r', 'p')
  and c.relowner <> %(owner)s::regrole
union all
select format('alter %%s %%s owner to %%I', case p.prokind when 'p' then 'procedure' else 'function' end,
              p.oid::regprocedure, %(owner)s::text)
from pg_proc as p
where p.pronamespace = 'ops_audit'::regnamespace and p.proowner <> %(owner)s::regrole
"""


def adopt_objects(conn: psycopg.Connection) -> None:
    """Make ops_audit_owner the owner of everything the migrations created in the schema."""
    for (statement,) in conn.execute(ADOPT_SQL, {"owner": OWNER_ROLE}).fetchall():
        conn.execute(statement)


def write_settings(conn: psycopg.Connection, settings: AuditSettings) -> bool:
    """Upsert the settings row; True only if a value changed."""
    cur = conn.execute(
        """
        insert into ops_audit.settings as s (roles_claim, ops_roles, read_all_roles)
        values (%(claim)s, %(ops)s, %(all)s)
        on conflict (singleton) do update
            set roles_claim = excluded.roles_claim, ops_roles = excluded.ops_roles,
                read_all_roles = excluded.read_all_roles
            where (s.roles_claim, s.ops_roles, s.read_all_roles)
                is distinct from (excluded.roles_claim, excluded.ops_roles, excluded.read_all_roles)
        """,
        {"claim": settings.roles_claim, "ops": list(settings.ops_roles), "all": list(settings.read_all_roles)},
    )
    return cur.rowcount > 0


# Each statement makes its table equal to the model's rows and returns how many rows it
# changed. Every DELETE has a WHERE clause (pg-safeupdate refuses one without).
SYNC_ACTIONS_SQL = """
with wanted as (
    select * from unnest(%(actions)s::text[], %(permissions)s::text[]) as w(action, permission)
), upserted as (
    insert into ops_audit.actions as a (action, permission)
    select action, permission from wanted
    on conflict (action) do update set permission = excluded.permission
        where a.permission is distinct from excluded.permission
    returning 1
), removed as (
    delete from ops_audit.actions as a
    where not exists (select from wanted as w where w.action = a.action)
    returning 1
)
select (select count(*) from upserted) + (select count(*) from removed)
"""
SYNC_ROLE_PERMISSIONS_SQL = """
with wanted as (
    select * from unnest(%(roles)s::text[], %(permissions)s::text[]) as w(role, permission)
), added as (
    insert into ops_audit.role_permissions (role, permission)
    select role, permission from wanted
    on conflict do nothing
    returning 1
), removed as (
    delete from ops_audit.role_permissions as rp
    where not exists (select from wanted as w where (w.role, w.permission) = (rp.role, rp.permission))
    returning 1
)
select (select count(*) from added) + (select count(*) from removed)
"""


def _columns(pairs: tuple[tuple[str, str], ...]) -> tuple[list[str], list[str]]:
    return [first for first, _ in pairs], [second for _, second in pairs]


def write_catalogue(conn: psycopg.Connection, settings: AuditSettings) -> bool:
    """Make ops_audit.actions and ops_audit.role_permissions the model's; True only if a row changed.

    A schema migrated by files before 0014_action_catalogue (tests of an older schema) has no catalogue to write.
    """
    if not _has_table(conn, "ops_audit.actions"):
        return False
    actions, needs = _columns(settings.actions)
    roles, holds = _columns(settings.role_permissions)
    (changed_actions,) = conn.execute(SYNC_ACTIONS_SQL, {"actions": actions, "permissions": needs}).fetchone()
    (changed_roles,) = conn.execute(SYNC_ROLE_PERMISSIONS_SQL, {"roles": roles, "permissions": holds}).fetchone()
    return changed_actions + changed_roles > 0


def migrate(dsn: str, settings: AuditSettings, directory: Path = MIGRATIONS_DIR) -> MigrateResult:
    """Apply what is pending in one transaction; see the module docstring."""
    migrations = load_migrations(directory)
    notices: list[str] = []
    with connect(dsn) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        try:
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                check_supabase(conn)
                created = ensure_ops_roles(conn)
                if not _has_table(conn, "ops_audit.schema_migrations"):
                    conn.execute(HISTORY_DDL)
                pending = pending_migrations(conn, migrations)
                for migration in pending:
                    apply(conn, migration)
                adopt_objects(conn)
                settings_changed = write_settings(conn, settings)
                # A schema from before 0017_metrics_schema (tests of an older schema) has no metrics settings.
                if _has_table(conn, "ops_metrics.settings"):
                    settings_changed |= write_metrics_settings(conn, settings.metrics_read_roles)
                catalogue_changed = write_catalogue(conn, settings)
        except psycopg.Error as exc:
            raise MigrationError("database", [f"rolled back: {str(exc).strip()}"]) from None
    return MigrateResult(
        tuple(m.name for m in pending), tuple(created), settings_changed or catalogue_changed, tuple(notices)
    )
