"""The hash chain: appends are sealed by `ops_audit.seal_events()` (0010_async_seal.sql) in order,
concurrent appends and out-of-order commits leave an intact chain, and `opshub audit verify`
names the first broken chain_seq for each kind of out-of-band tampering by a superuser."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest

from infra.cli.main import main
from infra.migrations.runner import migrate
from infra.migrations.verify import verify
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, claims_for, migrations_before
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, AUTHENTICATOR_PASSWORD

pytestmark = pytest.mark.postgres

WRITER_THREADS = 8
EVENTS_PER_WRITER = 25
SRE = claims_for("auth0|sre", "ops-sre")


def fill(db: AuditDb, count: int) -> None:
    for n in range(count):
        db.insert(claims_for(f"auth0|user{n % 3}", "ops-sre"), target=f"T-{n}", payload=f'{{"n": {n}}}')


def tamper(db: AuditDb, statement: str) -> None:
    """What a superuser can do: skip every trigger with session_replication_role = replica."""
    with db.superuser() as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(statement)


def seals(db: AuditDb) -> list[tuple[int, int]]:
    with db.superuser() as conn:
        return conn.execute("select chain_seq, event_id from ops_audit.seals order by chain_seq").fetchall()


def open_request(db: AuditDb, target: str) -> psycopg.Connection:
    """A PostgREST request that has appended an event and not committed yet."""
    conn = psycopg.connect(db.cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, db.name))
    conn.execute("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                 (json.dumps(SRE),))
    conn.execute("insert into ops_audit.events (action, target) values ('incidents:ack', %s)", (target,))
    return conn


def test_eight_concurrent_writers_with_the_sealer_running_leave_a_gapless_intact_chain(fresh_audit_db):
    errors: list[BaseException] = []
    start = threading.Barrier(WRITER_THREADS + 1)
    writing = threading.Event()

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_PER_WRITER):
                fresh_audit_db.insert(claims_for(f"auth0|w{n}", "ops-sre"), target=f"W{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    def sealer() -> None:
        start.wait()
        while writing.is_set():
            fresh_audit_db.seal()

    writing.set()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITER_THREADS)]
    sealing = threading.Thread(target=sealer)
    for t in (*threads, sealing):
        t.start()
    for t in threads:
        t.join()
    writing.clear()
    sealing.join()
    fresh_audit_db.seal()

    assert errors == [], f"writers failed: {errors[:3]}"
    total = WRITER_THREADS * EVENTS_PER_WRITER
    chain = seals(fresh_audit_db)
    assert [seq for seq, _ in chain] == list(range(1, total + 1)), "chain_seq must be 1..N without gaps or repeats"
    assert sorted(event for _, event in chain) == list(range(1, total + 1)), "every event must be sealed exactly once"
    outcome = verify(fresh_audit_db.admin_dsn)
    assert (outcome.intact, outcome.count, outcome.unsealed) == (True, total, 0), outcome


def test_an_event_committed_after_a_later_id_is_sealed_first_and_none_is_skipped(fresh_audit_db):
    """Ids are drawn before commit: the sealer waits for every open transaction below its horizon."""
    early = open_request(fresh_audit_db, "INC-early")  # draws id 1, commits last
    fresh_audit_db.insert(SRE, target="INC-late")  # id 2, committed first

    assert fresh_audit_db.seal() == 0, "nothing may be sealed while an older transaction can still commit"
    pending = verify(fresh_audit_db.admin_dsn)
    assert (pending.intact, pending.count, pending.unsealed) == (True, 0, 1), pending
    assert pending.oldest_unsealed_seconds >= 0

    early.commit()
    early.close()
    assert fresh_audit_db.seal() == 2
    assert seals(fresh_audit_db) == [(1, 1), (2, 2)], "sealed in transaction order, the early event first"
    assert verify(fresh_audit_db.admin_dsn).intact


def test_a_rolled_back_append_leaves_no_gap(fresh_audit_db):
    aborted = open_request(fresh_audit_db, "INC-aborted")
    fill(fresh_audit_db, 2)
    aborted.rollback()
    aborted.close()

    assert fresh_audit_db.seal() == 2
    assert [seq for seq, _ in seals(fresh_audit_db)] == [1, 2]
    assert fresh_audit_db.seal() == 0, "a second run finds nothing new"


def test_empty_trail_verifies(fresh_audit_db):
    fresh_audit_db.seal()
    outcome = verify(fresh_audit_db.admin_dsn)
    assert (outcome.intact, outcome.count, outcome.unsealed) == (True, 0, 0)


def test_links_made_before_async_sealing_are_kept(pg_cluster, pg_database, audit_decl, tmp_path):
    """A trail linked inline (0001-0009) keeps its chain when 0010_async_seal moves it into ops_audit.seals."""
    db = AuditDb(pg_cluster, pg_database)
    migrate(db.admin_dsn, audit_decl.settings, migrations_before("0010", tmp_path / "old"))
    fill(db, 3)
    with db.superuser() as conn:
        linked = conn.execute("select chain_seq, id, row_hash from ops_audit.events order by chain_seq").fetchall()

    migrate(db.admin_dsn, audit_decl.settings)
    fill(db, 2)
    db.seal()

    with db.superuser() as conn:
        kept = conn.execute("select chain_seq, event_id, row_hash from ops_audit.seals where chain_seq <= 3 "
                            "order by chain_seq").fetchall()
    assert kept == linked, "the inline links must be copied verbatim"
    outcome = verify(db.admin_dsn)
    assert (outcome.intact, outcome.count, outcome.unsealed) == (True, 5, 0), outcome


# Each kind of tampering and what verify must name (10 events written and sealed; event n is seal n):
# (statement, first broken chain_seq, first stray event id).
TAMPERING = {
    "payload changed": ("update ops_audit.events set payload = '{\"n\": 99}' where id = 4", 4, None),
    "actor changed": ("update ops_audit.events set actor_sub = 'auth0|other' where id = 6", 6, None),
    "time moved within its month": (
        "update ops_audit.events set occurred_at = occurred_at - interval '1 second' where id = 3", 3, None),
    "event removed": ("delete from ops_audit.events where id = 5", 5, None),
    "last event removed": ("delete from ops_audit.events where id = 10", 10, None),
    "first event removed": ("delete from ops_audit.events where id = 1", 1, None),
    "seal removed": ("delete from ops_audit.seals where chain_seq = 5", 5, 5),
    "last seal removed": ("delete from ops_audit.seals where chain_seq = 10", 10, 10),
    "event inserted behind the sealer": (
        "insert into ops_audit.events (occurred_at, actor_sub, actor_roles, action, target, xact_id) "
        "select occurred_at, actor_sub, actor_roles, action, 'forged', xact_id from ops_audit.events where id = 7",
        None, 11,
    ),
    "event inserted with a sealed event's id": (
        "insert into ops_audit.events (id, occurred_at, actor_sub, actor_roles, action, target) overriding system value "
        "select id, occurred_at + interval '1 microsecond', actor_sub, actor_roles, action, 'forged' "
        "from ops_audit.events where id = 7",
        7, None,
    ),
    "event and seal appended past the head": (
        "with forged as (insert into ops_audit.events (occurred_at, actor_sub, actor_roles, action, target) "
        "select occurred_at, actor_sub, actor_roles, action, 'forged' from ops_audit.events where id = 10 returning *) "
        "insert into ops_audit.seals (chain_seq, event_id, prev_hash, row_hash) "
        "select 11, f.id, s.row_hash, ops_audit.event_digest(s.row_hash, 11, f.id, f.occurred_at, f.actor_sub, "
        "f.actor_roles, f.action, f.target, f.payload) from forged as f, ops_audit.seals as s where s.chain_seq = 10",
        11, None,
    ),
    "row_hash recomputed for a changed event": (
        "update ops_audit.events set payload = '{\"n\": 0}' where id = 2; "
        "update ops_audit.seals as s set row_hash = ops_audit.event_digest(s.prev_hash, s.chain_seq, e.id, "
        "e.occurred_at, e.actor_sub, e.actor_roles, e.action, e.target, e.payload) "
        "from ops_audit.events as e where e.id = s.event_id and s.chain_seq = 2",
        3, None,
    ),
}


@pytest.mark.parametrize(("statement", "broken", "stray"), TAMPERING.values(), ids=TAMPERING.keys())
def test_verify_names_the_first_broken_chain_seq(fresh_audit_db, statement, broken, stray):
    fill(fresh_audit_db, 10)
    fresh_audit_db.seal()
    assert verify(fresh_audit_db.admin_dsn).intact, "the chain must verify before tampering"

    tamper(fresh_audit_db, statement)
    result = verify(fresh_audit_db.admin_dsn)

    assert (result.first_broken, result.stray_event) == (broken, stray), f"expected {broken}/{stray}, got {result}"
    assert not result.intact


def test_truncate_of_a_partition_is_refused_even_with_triggers_on(fresh_audit_db):
    fill(fresh_audit_db, 2)
    fresh_audit_db.seal()
    with fresh_audit_db.superuser() as conn:
        partition = conn.execute("select tableoid::regclass::text from ops_audit.events limit 1").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(f"truncate {partition}")
    assert verify(fresh_audit_db.admin_dsn).count == 2


def test_verify_does_not_depend_on_the_session_time_zone(fresh_audit_db):
    fill(fresh_audit_db, 3)
    fresh_audit_db.seal()
    dsn = f"{fresh_audit_db.admin_dsn}?options=-c%20TimeZone%3DPacific%2FChatham"

    assert verify(dsn).intact, "the digest must render occurred_at in UTC whatever the session TimeZone"


def test_cli_verify_exit_codes_and_output(fresh_audit_db, capsys):
    fill(fresh_audit_db, 5)
    fresh_audit_db.seal()
    assert main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn]) == 0
    assert "intact: 5 events sealed; no event waits for its seal" in capsys.readouterr().out

    tamper(fresh_audit_db, "delete from ops_audit.events where id = 3")
    code = main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn])
    out = capsys.readouterr().out

    assert code == 1
    assert "broken at chain_seq 3:" in out, out


def test_cli_verify_reports_the_unsealed_tail_and_fails_when_it_is_too_old(fresh_audit_db, capsys):
    fill(fresh_audit_db, 3)
    fresh_audit_db.seal()
    fill(fresh_audit_db, 2)

    assert main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn]) == 0
    assert "intact: 3 events sealed; 2 not sealed yet, the oldest" in capsys.readouterr().out
    assert main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn, "--max-unsealed-age", "0"]) == 1
    assert "is the sealer job `ops-audit-seal` running?" in capsys.readouterr().out


def test_cli_verify_names_an_event_left_out_of_the_chain(fresh_audit_db, capsys):
    fill(fresh_audit_db, 2)
    fresh_audit_db.seal()
    tamper(fresh_audit_db, TAMPERING["event inserted behind the sealer"][0].replace("id = 7", "id = 2"))

    assert main(["audit", "verify", "--dsn", fresh_audit_db.admin_dsn]) == 1
    assert "event id 3 is older than the sealed horizon but not in the chain" in capsys.readouterr().out


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
