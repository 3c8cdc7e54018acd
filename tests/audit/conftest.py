"""Fixtures for the ops_audit tests: a throwaway PostgreSQL 15 cluster per xdist worker,
Supabase-like databases migrated by the real runner, and PostgREST-style sessions.

The login users are created here the way OpsAudit declares them (a test double
of pulumi-postgresql: same names, groups and attributes from infra.derive.audit).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infra.config import REPO_ROOT, load_stack_config, stack_file
from infra.derive.audit import AuditDecl, audit_settings, derive_audit
from infra.migrations.files import MIGRATIONS_DIR
from infra.migrations.runner import migrate
from tests.support.fixtures import pg_cluster, pg_database  # noqa: F401 - pytest fixtures
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, AUTHENTICATOR_PASSWORD, PgCluster

ROLES_CLAIM = "https://ops.clarivum.com/roles"
LOGIN_PASSWORD = "login-pw"  # noqa: S105 - throwaway test cluster


@pytest.fixture(scope="session")
def audit_decl(access_model) -> AuditDecl:
    return derive_audit(access_model, load_stack_config(stack_file("prod", REPO_ROOT)))


class AuditDb:
    """A migrated Supabase-like database and the ways into it."""

    def __init__(self, cluster: PgCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.admin_dsn = cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, name)

    def superuser(self) -> psycopg.Connection:
        return self.cluster.connect(self.name)

    def login(self, user: str, password: str) -> psycopg.Connection:
        return psycopg.connect(self.cluster.dsn(user, password, self.name))

    @contextmanager
    def request(self, claims: object, role: str = "authenticated") -> Iterator[psycopg.Connection]:
        """One PostgREST request: login as authenticator, then role and claims for the transaction.

        `claims` is serialised to JSON unless it is already a string (to send malformed values).
        """
        with psycopg.connect(self.cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, self.name)) as conn:
            with conn.transaction():
                conn.execute(
                    "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                    (role, claims if isinstance(claims, str) else json.dumps(claims)),
                )
                yield conn

    def insert(self, claims: object, action: str = "incidents:ack", target: str = "INC-1", role: str = "authenticated",
               **columns: object) -> None:
        cols = {"action": action, "target": target, **columns}
        with self.request(claims, role) as conn:
            conn.execute(_insert_sql(cols), list(cols.values()))

    def visible(self, claims: object, role: str = "authenticated") -> list[tuple]:
        with self.request(claims, role) as conn:
            return conn.execute("select id, actor_sub from ops_audit.events order by id").fetchall()

    def seal(self) -> int:
        """What the pg_cron job `ops-audit-seal` does every second, as the admin; returns how many it sealed."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            return conn.execute("select ops_audit.seal_events()").fetchone()[0]


def _insert_sql(cols: dict) -> sql.Composed:
    return sql.SQL("insert into ops_audit.events ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(sql.Placeholder() * len(cols))
    )


def migrations_before(first_left_out: str, target: Path) -> Path:
    """A copy of the migration files up to, not including, `first_left_out` (e.g. "0010"): the schema as it was."""
    target.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < first_left_out:
            shutil.copy(path, target / path.name)
    return target


# An action each ops role may record (its permission is the role's), for tests that append as that role.
OWN_ACTION = {
    "ops-viewer": "payments:read:stripe",
    "ops-editorial": "content:publish",
    "ops-lifecycle": "comms:send",
    "ops-payments": "payments:refund:stripe",
    "ops-sre": "incidents:ack",
    "ops-admin": "integrations:update",
    "ops-auditor": "audit:export",
}


def claims_for(sub: str, *roles: object, claim: str = ROLES_CLAIM, **extra: object) -> dict:
    """JWT claims as Auth0 + the post-login Action issue them for Supabase."""
    return {"sub": sub, "role": "authenticated", claim: list(roles), **extra}


def create_logins(db: AuditDb, decl: AuditDecl) -> None:
    """Test double of OpsAudit's login Roles: same names, groups and attributes.

    Roles are cluster-wide, so users another database of the cluster created are kept.
    """
    with db.superuser() as conn:
        for user in decl.logins:
            if conn.execute("select 1 from pg_roles where rolname = %s", (user.name,)).fetchone():
                continue
            conn.execute(sql.SQL(
                "create role {} login inherit nosuperuser nocreaterole nobypassrls connection limit {} password {} in role {}"
            ).format(sql.Identifier(user.name), sql.Literal(user.connection_limit), sql.Literal(LOGIN_PASSWORD),
                     sql.SQL(", ").join(map(sql.Identifier, user.member_of))))


@pytest.fixture
def fresh_audit_db(pg_cluster: PgCluster, pg_database: str, audit_decl: AuditDecl) -> AuditDb:  # noqa: F811
    """A freshly migrated database, for tests that change or break it."""
    db = AuditDb(pg_cluster, pg_database)
    migrate(db.admin_dsn, audit_decl.settings)
    return db


@pytest.fixture(scope="session")
def shared_audit_db(pg_cluster: PgCluster, audit_decl: AuditDecl) -> AuditDb:  # noqa: F811
    """One migrated database with the login users, for read-mostly tests."""
    db = AuditDb(pg_cluster, pg_cluster.create_database("audit_shared"))
    migrate(db.admin_dsn, audit_decl.settings)
    create_logins(db, audit_decl)
    return db


@pytest.fixture
def settings_for(access_model) -> Callable[[str], object]:
    return lambda claim: audit_settings(access_model, claim)
