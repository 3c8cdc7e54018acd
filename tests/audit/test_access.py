"""The role x operation matrix of ops_audit.events, acted out the way PostgREST does it:
login as `authenticator`, then `role` and `request.jwt.claims` set in the transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg
import pytest

from infra.migrations.runner import migrate
from tests.audit.conftest import LOGIN_PASSWORD, OWN_ACTION, ROLES_CLAIM, AuditDb, claims_for, create_logins
from tests.support.pgcluster import READ_ONLY_PASSWORD, STORAGE_ADMIN_PASSWORD

pytestmark = pytest.mark.postgres

SRE = claims_for("auth0|sre", "ops-sre")
ADMIN = claims_for("auth0|admin", "ops-admin")
AUDITOR = claims_for("auth0|auditor", "ops-auditor")
VIEWER = claims_for("auth0|viewer", "ops-viewer")
WRITERS = (SRE, ADMIN, AUDITOR, VIEWER)
EVERY_SUB = sorted(c["sub"] for c in WRITERS)


@pytest.fixture(scope="module")
def db(pg_cluster, audit_decl) -> AuditDb:
    """One database where each ops role has written two events."""
    database = AuditDb(pg_cluster, pg_cluster.create_database("audit_matrix"))
    migrate(database.admin_dsn, audit_decl.settings)
    create_logins(database, audit_decl)
    for claims in WRITERS * 2:
        database.insert(claims, action=own_action(claims), payload='{"n": 1}')
    return database


def own_action(claims: dict) -> str:
    """An action the claims' first ops role may record."""
    return OWN_ACTION[claims[ROLES_CLAIM][0]]


def subs(rows: list[tuple]) -> list[str]:
    return sorted({sub for _, sub in rows})


# -- select ---------------------------------------------------------------

@dataclass(frozen=True)
class ReadCase:
    test_id: str
    claims: object
    sees: list[str]
    role: str = "authenticated"


READS = [
    ReadCase("auditor sees everything", AUDITOR, EVERY_SUB),
    ReadCase("admin sees everything", ADMIN, EVERY_SUB),
    ReadCase("sre sees only its own", SRE, ["auth0|sre"]),
    ReadCase("viewer sees only its own", VIEWER, ["auth0|viewer"]),
    ReadCase("two ops roles, one reading all", claims_for("auth0|sre", "ops-sre", "ops-auditor"), EVERY_SUB),
    ReadCase("authenticated without ops role sees not even its own rows", claims_for("auth0|sre"), []),
]


@pytest.mark.parametrize("case", READS, ids=lambda c: c.test_id)
def test_select_visibility(db, case):
    assert subs(db.visible(case.claims, case.role)) == case.sees


def test_rows_come_back_complete_for_the_auditor(db):
    with db.request(AUDITOR) as conn:
        count = conn.execute("select count(*) from ops_audit.events").fetchone()[0]
    assert count >= 2 * len(WRITERS), "every written event must be visible to the auditor"


# Claims that must grant nothing: neither insert nor read, not even of the
# sub's own earlier rows (auth0|sre wrote rows in the fixture).
BAD_CLAIMS = {
    "claim missing": {"sub": "auth0|sre", "role": "authenticated"},
    "claim is a string": {"sub": "auth0|sre", ROLES_CLAIM: "ops-sre"},
    "claim is an object": {"sub": "auth0|sre", ROLES_CLAIM: {"ops-sre": True}},
    "claim is null": {"sub": "auth0|sre", ROLES_CLAIM: None},
    "array of non-strings": {"sub": "auth0|sre", ROLES_CLAIM: [1, True, {"name": "ops-sre"}, ["ops-sre"]]},
    "look-alike: case": claims_for("auth0|sre", "OPS-SRE"),
    "look-alike: trailing space": claims_for("auth0|sre", "ops-sre "),
    "look-alike: underscore": claims_for("auth0|sre", "ops_sre"),
    "look-alike: plural": claims_for("auth0|sre", "ops-sres"),
    "look-alike: unicode hyphen": claims_for("auth0|sre", "ops\u2010sre"),
    "unknown role": claims_for("auth0|sre", "ops-root"),
    "roles in user_metadata": {"sub": "auth0|sre", "user_metadata": {"roles": ["ops-sre"], ROLES_CLAIM: ["ops-sre"]}},
    "roles in app_metadata": {"sub": "auth0|sre", "app_metadata": {ROLES_CLAIM: ["ops-sre"]}},
    "un-namespaced roles": {"sub": "auth0|sre", "roles": ["ops-sre"]},
    "other namespace": claims_for("auth0|sre", "ops-sre", claim="https://evil.example.com/roles"),
    "no claims at all": "",
    "empty JSON object": {},
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_bad_claims_grant_no_insert(db, claims):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.insert(claims)


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_bad_claims_see_nothing(db, claims):
    assert db.visible(claims) == []


def test_only_real_ops_roles_are_recorded(db):
    claims = claims_for("auth0|mixed", "ops-sre ", "OPS-ADMIN", "ops-sre", "ops-sre", 7)

    db.insert(claims, target="INC-roles")

    with db.request(AUDITOR) as conn:
        roles = conn.execute("select actor_roles from ops_audit.events where target = 'INC-roles'").fetchone()
    assert roles == (["ops-sre"],), "look-alikes and duplicates must not reach actor_roles"


# -- insert ---------------------------------------------------------------

@pytest.mark.parametrize("claims", WRITERS, ids=lambda c: c[ROLES_CLAIM][0])
def test_every_ops_role_appends_as_itself(db, claims):
    target = f"own-{claims['sub']}"
    db.insert(claims, action=own_action(claims), target=target)

    with db.request(AUDITOR) as conn:
        row = conn.execute(
            "select actor_sub, actor_roles, occurred_at is not null from ops_audit.events where target = %s", (target,)
        ).fetchone()
    assert row == (claims["sub"], claims[ROLES_CLAIM], True)


def test_actor_sub_equal_to_the_jwt_sub_is_accepted(db):
    db.insert(SRE, target="explicit-sub", actor_sub="auth0|sre")

    assert ("auth0|sre",) in [(s,) for _, s in db.visible(SRE)]


def test_forged_actor_sub_is_refused(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="actor_sub must be the JWT sub"):
        db.insert(SRE, actor_sub="auth0|admin")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("occurred_at", "2020-01-01T00:00:00Z"),
        ("actor_roles", ["ops-admin"]),
        ("xact_id", "1"),
    ],
)
def test_server_set_columns_are_refused(db, column, value):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.insert(ADMIN, action=own_action(ADMIN), **{column: value})


def test_claims_without_sub_are_refused(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.insert({ROLES_CLAIM: ["ops-admin"], "role": "authenticated"})


def test_anon_can_neither_write_nor_read(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.insert({"role": "anon"}, role="anon")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.visible({"role": "anon"}, role="anon")


def test_anon_with_ops_claims_still_gets_nothing(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.visible(ADMIN, role="anon")


# -- update, delete, truncate: nobody --------------------------------------

# Each UPDATE and DELETE names rows, so that pg-safeupdate (preloaded for
# authenticator, as on Supabase) does not refuse it first: what is tested here
# is that privileges, RLS and the triggers refuse it.
CHANGES = {
    "update": "update ops_audit.events set payload = '{}' where id > 0",
    "update own row": "update ops_audit.events set target = 'x' where actor_sub = 'auth0|admin'",
    "delete": "delete from ops_audit.events where id > 0",
    "truncate": "truncate ops_audit.events",
    "truncate partition": "truncate ops_audit.{partition}",
    "update partition": "update ops_audit.{partition} set payload = '{}' where id > 0",
    "delete from partition": "delete from ops_audit.{partition} where id > 0",
    "update chain_head": "update ops_audit.chain_head set last_seq = 0 where singleton",
    "insert into a partition directly": "insert into ops_audit.{partition} (action, target) values ('a', 'b')",
}
ACTORS = {
    "ops-admin": (ADMIN, "authenticated"),
    "ops-auditor": (AUDITOR, "authenticated"),
    "ops-sre": (SRE, "authenticated"),
    "service_role": ({"role": "service_role"}, "service_role"),
    "anon": ({"role": "anon"}, "anon"),
}


def on_current_partition(template: str, db) -> str:
    """The statement with {partition} replaced by this month's partition."""
    with db.superuser() as conn:
        partition = conn.execute(
            "select ops_audit.partition_name(date_trunc('month', now() at time zone 'UTC')::date)"
        ).fetchone()[0]
    return template.replace("{partition}", partition)


@pytest.mark.parametrize("actor", ACTORS, ids=ACTORS.keys())
@pytest.mark.parametrize("change", CHANGES, ids=CHANGES.keys())
def test_nobody_changes_the_trail_through_postgrest(db, actor, change):
    claims, role = ACTORS[actor]
    statement = on_current_partition(CHANGES[change], db)

    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.request(claims, role) as conn:
        conn.execute(statement)


@pytest.mark.parametrize("change", ["update", "update own row", "delete", "truncate", "truncate partition",
                                    "update partition", "delete from partition"])
@pytest.mark.parametrize("who", ["superuser", "admin (owner member, BYPASSRLS)"])
def test_triggers_refuse_changes_even_to_the_superuser_and_the_admin(db, change, who):
    statement = on_current_partition(CHANGES[change], db)
    conn = db.superuser() if who == "superuser" else psycopg.connect(db.admin_dsn, autocommit=True)

    with conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement)


# -- service_role and the login users --------------------------------------

SERVICE_ROLE_ESCALATIONS = {
    "disable triggers": "alter table ops_audit.events disable trigger all",
    "disable partition triggers": "alter table ops_audit.{partition} disable trigger all",
    "take ownership": "alter table ops_audit.events owner to service_role",
    "become the owner": "set local role ops_audit_owner",
    "disable RLS": "alter table ops_audit.events no force row level security",
    "create a partition": "select ops_audit.create_month_partition('2040-01-01')",
    "detach a partition": "call ops_audit.detach_partition('2040-01-01', 0, null)",
    "read the partition directly": "select * from ops_audit.{partition}",
    "seal the trail": "select ops_audit.seal_events()",
    "write a seal": "insert into ops_audit.seals (chain_seq, event_id, prev_hash, row_hash) values (1, 1, '\\x00', '\\x00')",
    "read the seals": "select * from ops_audit.seals",
    "stall every appender": "lock table ops_audit.chain_head in share row exclusive mode",
}


@pytest.mark.parametrize("statement", SERVICE_ROLE_ESCALATIONS.values(), ids=SERVICE_ROLE_ESCALATIONS.keys())
@pytest.mark.parametrize("role", ["service_role", "authenticated"])
def test_service_role_and_users_cannot_escalate(db, statement, role):
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.request(ADMIN, role) as conn:
        conn.execute(on_current_partition(statement, db))


def test_exporter_login_reads_everything_and_writes_nothing(db):
    with db.login("ops_audit_exporter", LOGIN_PASSWORD) as conn:
        seen = subs(conn.execute("select id, actor_sub from ops_audit.events").fetchall())
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into ops_audit.events (action, target) values ('a', 'b')")
    assert set(EVERY_SUB) <= set(seen)


def test_writer_login_acts_only_with_a_users_claims(db):
    with db.login("ops_hub_writer", LOGIN_PASSWORD) as conn:
        assert conn.execute("select count(*) from ops_audit.events").fetchone() == (0,), "no claims, no rows"
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(SRE),))
            conn.execute("insert into ops_audit.events (action, target) values ('incidents:ack', 'via-backend')")
            own = conn.execute("select distinct actor_sub from ops_audit.events").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update ops_audit.events set target = 'x'")
    assert own == [("auth0|sre",)]


def test_login_users_have_no_powers_and_a_connection_limit(db, audit_decl):
    names = [u.name for u in audit_decl.logins]
    with db.superuser() as conn:
        rows = conn.execute(
            "select rolname, rolsuper, rolcreaterole, rolbypassrls, rolinherit, rolconnlimit from pg_roles "
            "where rolname = any(%s) order by 1", (names,)
        ).fetchall()
    assert rows == sorted((n, False, False, False, True, 10) for n in names)


# -- Supabase's platform principals, which no project grant controls ----------

def test_supabase_read_only_user_reads_every_event(db):
    """supabase/postgres 00000000000000-initial-schema.sql: BYPASSRLS and pg_read_all_data. The report must name it."""
    with psycopg.connect(db.cluster.dsn("supabase_read_only_user", READ_ONLY_PASSWORD, db.name)) as conn:
        seen = subs(conn.execute("select id, actor_sub from ops_audit.events").fetchall())
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into ops_audit.events (action, target) values ('a', 'b')")
    assert set(EVERY_SUB) <= set(seen)


def test_on_postgresql_15_a_service_login_with_createrole_can_join_the_trails_owner(db):
    """What 16 changed (CREATEROLE administers only its own roles): on 15, Storage's login can grant itself the owner."""
    with psycopg.connect(db.cluster.dsn("supabase_storage_admin", STORAGE_ADMIN_PASSWORD, db.name)) as conn:
        assert conn.info.server_version // 10000 == 15, "this fact is PostgreSQL 15's"
        with conn.transaction(force_rollback=True):
            conn.execute("grant ops_audit_owner to supabase_storage_admin")
            member = conn.execute("select pg_has_role('ops_audit_owner', 'member')").fetchone()
    assert member == (True,)
