"""Applies the versioned SQL migrations (`NNNN_name.sql` beside this file) to a database.

One call of `migrate()`:

1. takes `pg_advisory_xact_lock`, so concurrent runs queue instead of racing;
2. checks what Supabase provides (roles anon, authenticated, service_role and
   auth.jwt()) and refuses, naming what is missing, without ever creating it;
3. creates the NOLOGIN ops_audit roles and the schema (with its USAGE
   grants) only where they are missing (Pulumi declares them first in a real
   stack, so there this does nothing; it lets a fresh local database be
   migrated on its own);
4. refuses, naming the file, when an applied migration's sha256 changed or an
   applied file is gone;
5. applies the pending files in order, recording each file's sha256, hands
   every object in the schema to ops_audit_owner, and brings
   ops_audit.settings up to date;

all in ONE transaction: any failure rolls everything back. With nothing
pending and unchanged settings it changes nothing. The notices the files
raise (e.g. 0005's "pg_cron is not enabled") come back in the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from infra.derive.audit import LOGIN_GROUPS, OWNER_ROLE, SCHEMA, SCHEMA_USAGE_ROLES, AuditSettings
from infra.migrations.files import MIGRATIONS_DIR, Migration, MigrationError, load_migrations

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
    settings_changed: bool
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


def ensure_ops_roles(conn: psycopg.Connection) -> list[str]:
    """Create missing NOLOGIN ops_audit roles, the admin's membership in the owner, and the schema."""
    created = []
    for role in (OWNER_ROLE, *LOGIN_GROUPS.values()):
        if not _exists(conn, "select 1 from pg_roles where rolname = %s", role):
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            created.append(f"role {role}")
    if not _exists(conn, "select 1 where pg_has_role(current_user, %s, 'MEMBER')", OWNER_ROLE):
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(OWNER_ROLE)))
        created.append(f"membership of the admin in {OWNER_ROLE}")
    if not _exists(conn, "select 1 from pg_namespace where nspname = %s", SCHEMA):
        conn.execute(sql.SQL("create schema {} authorization {}").format(sql.Identifier(SCHEMA), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(
            sql.Identifier(SCHEMA), sql.SQL(", ").join(map(sql.Identifier, SCHEMA_USAGE_ROLES))))
        created.append(f"schema {SCHEMA} (usage for {', '.join(SCHEMA_USAGE_ROLES)})")
    return created


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
                if not _exists(conn, "select 1 where to_regclass('ops_audit.schema_migrations') is not null"):
                    conn.execute(HISTORY_DDL)
                pending = pending_migrations(conn, migrations)
                for migration in pending:
                    apply(conn, migration)
                adopt_objects(conn)
                settings_changed = write_settings(conn, settings)
        except psycopg.Error as exc:
            raise MigrationError("database", [f"rolled back: {str(exc).strip()}"]) from None
    return MigrateResult(tuple(m.name for m in pending), tuple(created), settings_changed, tuple(notices))
