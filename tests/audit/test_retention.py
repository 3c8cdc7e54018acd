"""Monthly partitions and the owner-only detach after export (docs/runbook.md)."""

from __future__ import annotations

import psycopg
import pytest

from infra.migrations.verify import verify
from tests.audit.conftest import claims_for

pytestmark = pytest.mark.postgres

SRE = claims_for("auth0|sre", "ops-sre")
THIS_MONTH = "date_trunc('month', now() at time zone 'UTC')::date"


def export(conn: psycopg.Connection, partition: str) -> tuple[int, bytes]:
    """What the export job records: the row count and the last row_hash of the month."""
    return conn.execute(
        f"select count(*), (array_agg(s.row_hash order by s.chain_seq desc))[1] from ops_audit.events as e "
        f"join ops_audit.seals as s on s.event_id = e.id where e.tableoid = 'ops_audit.{partition}'::regclass"
    ).fetchone()


@pytest.fixture
def month(fresh_audit_db) -> str:
    with fresh_audit_db.superuser() as conn:
        return conn.execute(f"select ops_audit.partition_name({THIS_MONTH})").fetchone()[0]


def test_detach_after_a_matching_export_keeps_the_chain_verifiable(fresh_audit_db, month):
    for _ in range(3):
        fresh_audit_db.insert(SRE)
    fresh_audit_db.seal()
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        rows, last_hash = export(admin, month)
        admin.execute(f"call ops_audit.detach_partition({THIS_MONTH}, %s, %s)", (rows, last_hash))
        attached = admin.execute(
            "select count(*) from pg_inherits where inhrelid = %s::regclass", (f"ops_audit.{month}_detached",)
        ).fetchone()[0]
        admin.execute(f"select ops_audit.create_month_partition({THIS_MONTH})")  # a new month starts empty

    assert attached == 0, "the partition must be detached, under its _detached name"
    assert verify(fresh_audit_db.admin_dsn).intact, "verify must continue from the detached partition's anchor"
    fresh_audit_db.insert(SRE)
    fresh_audit_db.seal()
    result = verify(fresh_audit_db.admin_dsn)
    assert (result.intact, result.count) == (True, 1), f"the next event must link to the detached chain: {result}"


def test_detached_partition_still_refuses_changes(fresh_audit_db, month):
    fresh_audit_db.insert(SRE)
    fresh_audit_db.seal()
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        admin.execute(f"call ops_audit.detach_partition({THIS_MONTH}, %s, %s)", export(admin, month))
    with fresh_audit_db.superuser() as conn:
        detached = f"ops_audit.{month}_detached"
        for statement in (f"delete from {detached}", f"update {detached} set target = 'x'", f"truncate {detached}"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)


def test_detach_refuses_an_export_that_does_not_match(fresh_audit_db, month):
    fresh_audit_db.insert(SRE)
    fresh_audit_db.insert(SRE)
    fresh_audit_db.seal()
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        rows, last_hash = export(admin, month)
        with pytest.raises(psycopg.errors.RaiseException, match="does not match"):
            admin.execute(f"call ops_audit.detach_partition({THIS_MONTH}, %s, %s)", (rows - 1, last_hash))


def test_detach_refuses_a_month_with_unsealed_events(fresh_audit_db, month):
    fresh_audit_db.insert(SRE)
    fresh_audit_db.seal()
    fresh_audit_db.insert(SRE)
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        rows, last_hash = export(admin, month)
        with pytest.raises(psycopg.errors.RaiseException, match="1 events not sealed yet"):
            admin.execute(f"call ops_audit.detach_partition({THIS_MONTH}, %s, %s)", (rows + 1, last_hash))


def test_detach_refuses_any_but_the_oldest_partition(fresh_audit_db):
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        with pytest.raises(psycopg.errors.RaiseException, match="not the oldest"):
            admin.execute(f"call ops_audit.detach_partition(({THIS_MONTH} + interval '1 month')::date, 0, null)")


def test_ensure_partitions_is_idempotent(fresh_audit_db):
    with psycopg.connect(fresh_audit_db.admin_dsn, autocommit=True) as admin:
        before = admin.execute("select count(*) from pg_inherits where inhparent = 'ops_audit.events'::regclass").fetchone()
        admin.execute("select ops_audit.ensure_partitions()")
        after = admin.execute("select count(*) from pg_inherits where inhparent = 'ops_audit.events'::regclass").fetchone()
        owners = admin.execute(
            "select distinct pg_get_userbyid(c.relowner) from pg_inherits i join pg_class c on c.oid = i.inhrelid "
            "where i.inhparent = 'ops_audit.events'::regclass").fetchall()
    assert before == after == (13,), "the current month and 12 ahead, created once"
    assert owners == [("ops_audit_owner",)]
