"""`ops_audit.checkpoint_state()` (migration 0008) on a real database: the contract the checkpoint job,
the access review and `opshub audit verify --anchors` rely on, and a login that can run it and read nothing else."""

from __future__ import annotations

import psycopg
import pytest

from infra.migrations.files import MIGRATIONS_DIR
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, claims_for

pytestmark = pytest.mark.postgres

STATE = "select ops_audit.checkpoint_state()"
CHECKPOINTER = "ops_audit_checkpointer"


def _state(db: AuditDb) -> dict:
    with db.superuser() as conn:
        return conn.execute(STATE).fetchone()[0]


def test_state_holds_the_chain_head_and_the_principals_around_the_trail(fresh_audit_db: AuditDb) -> None:
    for n in range(3):
        fresh_audit_db.insert(claims_for("auth0|a", "ops-sre"), target=f"T-{n}")
    fresh_audit_db.seal()

    state = _state(fresh_audit_db)

    with fresh_audit_db.superuser() as conn:
        head = conn.execute("select last_seq, encode(last_hash, 'hex') from ops_audit.chain_head").fetchone()
        tables = [r[0] for r in conn.execute("select relid::regclass::text from pg_partition_tree('ops_audit.events')")]
        bypassing, superusers = ([r[0] for r in conn.execute(f"select rolname from pg_roles where {attribute}")]
                                 for attribute in ("rolbypassrls", "rolsuper"))
    assert set(state) == {"chain_seq", "row_hash", "owner_members", "rls", "bypassrls_roles", "superusers"}
    assert (state["chain_seq"], state["row_hash"]) == head and head[0] == 3
    assert state["owner_members"] == ["postgres"], "the admin the runner made a member, and nobody else"
    assert sorted(state["rls"]) == sorted(tables) and "ops_audit.events" in state["rls"] and len(tables) >= 13
    assert all(flags == {"enabled": True, "forced": True} for flags in state["rls"].values())
    assert state["bypassrls_roles"] == sorted(bypassing) and {"postgres", "service_role"} <= set(bypassing)
    assert state["superusers"] == sorted(superusers) and "supabase_admin" in superusers


def test_a_new_partition_appears_in_the_rls_flags(fresh_audit_db: AuditDb) -> None:
    with fresh_audit_db.superuser() as conn:
        conn.execute("select ops_audit.create_month_partition(date '2040-01-01')")

    assert _state(fresh_audit_db)["rls"]["ops_audit.events_2040_01"] == {"enabled": True, "forced": True}


def test_names_are_sorted_in_byte_order(fresh_audit_db: AuditDb) -> None:
    """The job's canonical JSON sorts as Python does; a locale collation would put `B_admin` after `a_admin`."""
    with fresh_audit_db.superuser() as conn:
        conn.execute('create role "b_admin"; create role "A_admin"; grant ops_audit_owner to "b_admin", "A_admin"')
    try:
        members = _state(fresh_audit_db)["owner_members"]
    finally:
        with fresh_audit_db.superuser() as conn:
            conn.execute('drop role "b_admin"; drop role "A_admin"')

    assert members == sorted(members) == ["A_admin", "b_admin", "postgres"]


def test_the_checkpointer_login_runs_it_and_reads_nothing_of_the_trail(shared_audit_db: AuditDb) -> None:
    shared_audit_db.insert(claims_for("auth0|a", "ops-sre"))
    shared_audit_db.seal()
    with shared_audit_db.login(CHECKPOINTER, LOGIN_PASSWORD) as conn:
        assert conn.execute(STATE).fetchone()[0]["chain_seq"] >= 1
        for table in ("ops_audit.events", "ops_audit.seals", "ops_audit.chain_head", "ops_audit.settings", "ops_audit.detached_partitions"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"select * from {table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select ops_audit.event_canonical(1, 1, now(), 'a', '{}', 'a', 'b', '{}')")


@pytest.mark.parametrize("role", ["public", "anon", "authenticated", "service_role", "ops_audit_writer", "ops_audit_reader"])
def test_nobody_else_may_run_it(shared_audit_db: AuditDb, role: str) -> None:
    with shared_audit_db.superuser() as conn:
        allowed = conn.execute("select has_function_privilege(%s, 'ops_audit.checkpoint_state()', 'execute')", (role,)).fetchone()[0]
    assert allowed is False


def test_it_pins_its_search_path_and_belongs_to_the_owner(shared_audit_db: AuditDb) -> None:
    with shared_audit_db.superuser() as conn:
        owner, definer, volatility, config = conn.execute(
            "select proowner::regrole::text, prosecdef, provolatile, proconfig from pg_proc "
            "where oid = 'ops_audit.checkpoint_state()'::regprocedure"
        ).fetchone()
    assert (owner, definer, volatility, config) == ("ops_audit_owner", True, "s", ['search_path=""'])


def test_reapplying_the_migration_changes_nothing(fresh_audit_db: AuditDb) -> None:
    before = _state(fresh_audit_db)
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as conn:
        conn.execute((MIGRATIONS_DIR / "0008_checkpoint_state.sql").read_text())

    assert _state(fresh_audit_db) == before
