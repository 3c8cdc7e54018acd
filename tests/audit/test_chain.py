"""The hash chain: concurrent appends stay intact, and `opshub audit verify` names the
first broken chain_seq for each kind of out-of-band tampering by a superuser."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest

from infra.cli.main import main
from infra.migrations.runner import migrate
from infra.migrations.verify import verify
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, claims_for
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, AUTHENTICATOR_PASSWORD

pytestmark = pytest.mark.postgres

WRITER_THREADS = 8
EVENTS_PER_WRITER = 25


def fill(db: AuditDb, count: int) -> None:
    for n in range(count):
        db.insert(claims_for(f"auth0|user{n % 3}", "ops-sre"), target=f"T-{n}", payload=f'{{"n": {n}}}')


def tamper(db: AuditDb, statement: str) -> None:
    """What a superuser can do: skip every trigger with session_replication_role = replica."""
    with db.superuser() as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(statement)


def test_eight_concurrent_writers_leave_a_gapless_intact_chain(fresh_audit_db):
    errors: list[BaseException] = []
    start = threading.Barrier(WRITER_THREADS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_PER_WRITER):
                fresh_audit_db.insert(claims_for(f"auth0|w{n}", "ops-sre"), target=f"W{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITER_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == [], f"writers failed: {errors[:3]}"
    total = WRITER_THREADS * EVENTS_PER_WRITER
    with fresh_audit_db.superuser() as conn:
        seqs = [r[0] for r in conn.execute("select chain_seq from ops_audit.events order by chain_seq")]
    assert seqs == list(range(1, total + 1)), "chain_seq must be assigned 1..N without gaps or repeats"
    assert verify(fresh_audit_db.admin_dsn).intact


def test_an_appender_with_an_older_snapshot_fails_rather_than_forking_the_chain(fresh_audit_db):
    """REPEATABLE READ: the head moved after this request's snapshot, so its append must fail."""
    fill(fresh_audit_db, 1)
    dsn = fresh_audit_db.cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, fresh_audit_db.name)
    with psycopg.connect(dsn) as late:
        late.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with pytest.raises(psycopg.errors.SerializationFailure), late.transaction():
            late.execute(  # the first statement takes the snapshot
                "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                (json.dumps(claims_for("auth0|late", "ops-sre")),),
            )
            fill(fresh_audit_db, 1)  # another request appends and commits meanwhile
            late.execute("insert into ops_audit.events (action, target) values ('incidents:ack', 'INC-late')")

    outcome = verify(fresh_audit_db.admin_dsn)
    assert outcome.intact
    assert outcome.count == 2


def test_empty_trail_verifies(fresh_audit_db):
    assert verify(fresh_audit_db.admin_dsn).count == 0
    assert verify(fresh_audit_db.admin_dsn).intact


# Each kind of tampering and the chain_seq verify must name (10 events written).
TAMPERING = {
    "payload changed": ("update ops_audit.events set payload = '{\"n\": 99}' where chain_seq = 4", 4),
    "actor changed": ("update ops_audit.events set actor_sub = 'auth0|other' where chain_seq = 6", 6),
    "time moved within its month": ("update ops_audit.events set occurred_at = occurred_at - interval '1 second' where chain_seq = 3", 3),
    "row removed": ("delete from ops_audit.events where chain_seq = 5", 5),
    "last row removed": ("delete from ops_audit.events where chain_seq = 10", 10),
    "first row removed": ("delete from ops_audit.events where chain_seq = 1", 1),
    "row inserted with a repeated chain_seq": (
        "insert into ops_audit.events (occurred_at, actor_sub, actor_roles, action, target, chain_seq, prev_hash, row_hash) "
        "select occurred_at + interval '1 microsecond', actor_sub, actor_roles, action, 'forged', chain_seq, "
        "prev_hash, row_hash from ops_audit.events where chain_seq = 7",
        7,
    ),
    "row appended past the head": (
        "insert into ops_audit.events (occurred_at, actor_sub, actor_roles, action, target, chain_seq, prev_hash, row_hash) "
        "select occurred_at, actor_sub, actor_roles, action, 'forged', 11, row_hash, row_hash "
        "from ops_audit.events where chain_seq = 10",
        11,
    ),
    "row_hash recomputed for a changed row": (
        "update ops_audit.events set payload = '{\"n\": 0}', row_hash = ops_audit.event_digest("
        "prev_hash, chain_seq, id, occurred_at, actor_sub, actor_roles, action, target, '{\"n\": 0}') where chain_seq = 2",
        3,
    ),
}


@pytest.mark.parametrize("statement, broken", TAMPERING.values(), ids=TAMPERING.keys())
def test_verify_names_the_first_broken_chain_seq(fresh_audit_db, statement, broken):
    fill(fresh_audit_db, 10)
    assert verify(fresh_audit_db.admin_dsn).intact, "the chain must verify before tampering"

    tamper(fresh_audit_db, statement)
    result = verify(fresh_audit_db.admin_dsn)

    assert result.first_broken == broken, f"expected chain_seq {broken}, got {result}"


def test_truncate_of_a_partition_is_refused_even_with_triggers_on(fresh_audit_db):
    fill(fresh_audit_db, 2)
    with fresh_audit_db.superuser() as conn:
        partition = conn.execute("select tableoid::regclass::text from ops_audit.events limit 1").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(f"truncate {partition}")
    assert verify(fresh_audit_db.admin_dsn).count == 2


def test_verify_does_not_depend_on_the_session_time_zone(fresh_audit_db):
    fill(fresh_audit_db, 3)
    dsn = f"{fresh_audit_db.admin_dsn}?options=-c%20TimeZone%3DPacific%2FChatham"

    assert verify(dsn).intact, "the digest must render occurred_at in UTC whatever the session TimeZone"


def test_cli_verify_exit_codes_and_output(fresh_audit_db, capsys):
    fill(fresh_audit_db, 5)
    assert main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn]) == 0
    assert "intact: 5 events" in capsys.readouterr().out

    tamper(fresh_audit_db, "delete from ops_audit.events where chain_seq = 3")
    code = main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn])
    out = capsys.readouterr().out

    assert code == 1
    assert "broken at chain_seq 3:" in out, out


def test_cli_verify_as_the_exporter_login(shared_audit_db, capsys):
    dsn = shared_audit_db.cluster.dsn("ops_audit_exporter", LOGIN_PASSWORD, shared_audit_db.name)
    assert main(["audit", "verify", "--dsn", dsn]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("dsn_kind", "message"),
    [("unreachable", "cannot verify"), ("not migrated", "not migrated"), ("authenticator", "may not read")],
)
def test_cli_verify_cannot_read_exits_2_without_traceback(pg_cluster, pg_database, audit_decl, capsys, dsn_kind, message):
    admin = pg_cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, pg_database)
    if dsn_kind == "authenticator":  # a migrated database, read by a login without a role of the trail
        migrate(admin, audit_decl.settings)
    dsn = {
        "unreachable": "postgresql://x@127.0.0.1:1/postgres?connect_timeout=2",
        "not migrated": admin,
        "authenticator": pg_cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, pg_database),
    }[dsn_kind]

    code = main(["audit", "verify", "--dsn", dsn])
    err = capsys.readouterr().err

    assert code == 2
    assert message in err and "Traceback" not in err, err
