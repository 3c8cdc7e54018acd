"""ops_metrics.snapshots on real PostgreSQL 15 with Supabase's roles, migrated by the real runner.

Requests are acted out as PostgREST does (login as `authenticator`, then `role` and
`request.jwt.claims` for the transaction). A holder of analytics:read reads; anyone
else sees nothing; only the job's login appends; nobody updates or deletes.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql

from infra.derive.audit import derive_audit
from infra.derive.metrics import derive_metrics
from infra.metrics.publish import INSERT_SQL, row
from infra.migrations.runner import migrate
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, claims_for, create_logins

pytestmark = pytest.mark.postgres

VIEWER = claims_for("auth0|viewer", "ops-viewer")      # holds analytics:read
SRE = claims_for("auth0|sre", "ops-sre")               # holds analytics:read
AUDITOR = claims_for("auth0|auditor", "ops-auditor")   # does not
PAYMENTS = claims_for("auth0|pay", "ops-payments")     # does not
NOBODY = claims_for("auth0|x")


@pytest.fixture(scope="module")
def decl(access_model, catalogue):
    return derive_metrics(access_model, catalogue, "prod", "210987654321")


@pytest.fixture(scope="module")
def db(pg_cluster, access_model, decl, scenario_outcome) -> AuditDb:
    from infra.config import REPO_ROOT, load_stack_config, stack_file

    audit = derive_audit(access_model, load_stack_config(stack_file("prod", REPO_ROOT)), metrics_read_roles=decl.read_roles)
    database = AuditDb(pg_cluster, pg_cluster.create_database("metrics_rls"))
    migrate(database.admin_dsn, audit.settings)
    create_logins(database, audit)
    with database.superuser() as conn:  # test double of EngineeringMetrics' login Role
        login = decl.login
        if not conn.execute("select 1 from pg_roles where rolname = %s", (login.name,)).fetchone():
            conn.execute(sql.SQL("create role {} login inherit connection limit {} password {} in role {}").format(
                sql.Identifier(login.name), sql.Literal(login.connection_limit), sql.Literal(LOGIN_PASSWORD),
                sql.SQL(", ").join(map(sql.Identifier, login.member_of))))
    with database.login(decl.login.name, LOGIN_PASSWORD) as conn:
        conn.execute(INSERT_SQL, row(scenario_outcome.document))
    return database


def visible(db: AuditDb, claims: dict, role: str = "authenticated") -> int:
    with db.request(claims, role) as conn:
        return conn.execute("select count(*) from ops_metrics.snapshots").fetchone()[0]


def test_read_roles_are_the_holders_of_analytics_read(decl, access_model) -> None:
    assert decl.read_roles == tuple(sorted(r.name for r in access_model.roles if "analytics:read" in r.permissions))
    assert "ops-auditor" not in decl.read_roles and "ops-viewer" in decl.read_roles


@pytest.mark.parametrize(("claims", "rows"), [(VIEWER, 1), (SRE, 1), (AUDITOR, 0), (PAYMENTS, 0), (NOBODY, 0)],
                         ids=["viewer", "sre", "auditor", "payments", "no ops role"])
def test_holders_of_analytics_read_read_and_everyone_else_sees_nothing(db, claims, rows) -> None:
    assert visible(db, claims) == rows


@pytest.mark.parametrize("role", ["anon", "service_role"])
def test_anon_and_service_role_have_no_grant(db, role) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        visible(db, VIEWER, role)


def test_the_backend_login_reads_only_with_a_readers_claims(db) -> None:
    with db.login("ops_hub_writer", LOGIN_PASSWORD) as conn:
        conn.execute("select set_config('request.jwt.claims', %s, false)", (json.dumps(AUDITOR),))
        assert conn.execute("select count(*) from ops_metrics.snapshots").fetchone()[0] == 0
        conn.execute("select set_config('request.jwt.claims', %s, false)", (json.dumps(VIEWER),))
        assert conn.execute("select count(*) from ops_metrics.snapshots").fetchone()[0] == 1


def test_the_dashboard_group_reads_everything(db) -> None:
    with db.superuser() as conn:
        conn.execute("drop role if exists grafana_metrics; create role grafana_metrics login password 'g' in role ops_metrics_reader")
    with psycopg.connect(db.cluster.dsn("grafana_metrics", "g", db.name)) as conn:
        assert conn.execute("select count(*) from ops_metrics.snapshots").fetchone()[0] == 1


def test_only_the_job_appends_and_only_complete_snapshots(db, decl, scenario_outcome) -> None:
    document = dict(scenario_outcome.document)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with db.request(VIEWER) as conn:
            conn.execute(INSERT_SQL, row(document))
    partial = {**document, "status": "partial"}
    with pytest.raises(psycopg.errors.CheckViolation), db.login(decl.login.name, LOGIN_PASSWORD) as conn:
        conn.execute(INSERT_SQL, row(partial))
    with db.login(decl.login.name, LOGIN_PASSWORD) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from ops_metrics.snapshots")


@pytest.mark.parametrize("statement", [
    "update ops_metrics.snapshots set as_of = now()",
    "delete from ops_metrics.snapshots",
    "truncate ops_metrics.snapshots",
])
def test_nobody_updates_or_deletes_not_even_a_superuser(db, decl, statement) -> None:
    with db.login(decl.login.name, LOGIN_PASSWORD) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)
    # The cluster superuser skips RLS and grants; the triggers still refuse.
    with db.superuser() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement)
    assert visible(db, VIEWER) == 1


def test_migrating_again_changes_nothing_and_keeps_the_settings_from_the_model(db, decl, access_model) -> None:
    from infra.config import REPO_ROOT, load_stack_config, stack_file

    audit = derive_audit(access_model, load_stack_config(stack_file("prod", REPO_ROOT)), metrics_read_roles=decl.read_roles)
    result = migrate(db.admin_dsn, audit.settings)
    assert not result.changed
    with db.superuser() as conn:
        assert conn.execute("select read_roles from ops_metrics.settings").fetchone()[0] == list(decl.read_roles)
        owner = conn.execute("select tableowner from pg_tables where schemaname = 'ops_metrics' and tablename = 'snapshots'").fetchone()[0]
    assert owner == "ops_metrics_owner"


def test_fresh_database_without_metrics_readers_gives_none(pg_cluster, pg_database, access_model) -> None:
    from infra.config import REPO_ROOT, load_stack_config, stack_file

    db = AuditDb(pg_cluster, pg_database)
    migrate(db.admin_dsn, derive_audit(access_model, load_stack_config(stack_file("prod", REPO_ROOT))).settings)
    with db.superuser() as conn:
        assert conn.execute("select read_roles from ops_metrics.settings").fetchone()[0] == []
    assert visible(db, VIEWER) == 0
