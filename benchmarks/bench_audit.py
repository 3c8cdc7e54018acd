"""Supabase ops_audit: append throughput, RLS query latency and `audit verify`, on a real PostgreSQL 15.

Runs a throwaway cluster (tests/support/pgcluster.py: loopback, fsync off,
synchronous_commit off, so disk speed does not dominate) with Supabase's
roles, migrated by the real runner. Requests are made as PostgREST makes
them: a login as `authenticator`, then role and JWT claims per transaction.

1. Insert throughput: 8 writer threads, one event per transaction, into
   ops_audit.events and, in the same run, into a plain table with the same
   columns and no RLS, triggers or chain. Target: at least 50% of the plain rate.
2. Query p95 on 1,000,000 events over 60 days (50 actors): the auditor's
   "last 24 h" and an operator's "my last 100", with RLS as `authenticated`,
   against the same query by the admin, who bypasses RLS. Target: p95 within 1.5x.
3. `opshub audit verify` over those 1,000,000 events. Target: under 20 s.
"""

from __future__ import annotations

import json
import statistics
import threading
import time

import psycopg

from benchmarks.common import Result
from infra.derive.audit import AuditSettings
from infra.migrations.runner import migrate
from infra.migrations.verify import verify
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, AUTHENTICATOR_PASSWORD, PgCluster

TITLE = "Supabase ops_audit (append, RLS queries, verify)"
CLAIM = "https://ops.clarivum.com/roles"
SETTINGS = AuditSettings(CLAIM, ("ops-auditor", "ops-sre"), ("ops-auditor",))
WRITERS = 8
WRITE_SECONDS = 5.0
WRITE_ROUNDS = 5
EVENTS = 1_000_000
DAYS = 60
ACTORS = 50
QUERY_RUNS = 60
THROUGHPUT_TARGET = 0.5
LATENCY_TARGET = 1.5
VERIFY_TARGET_SECONDS = 20.0
SERVER_SETTINGS = {"shared_buffers": "'512MB'", "max_wal_size": "'4GB'", "work_mem": "'32MB'"}

PLAIN_TABLE = """
create table public.plain_events (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    actor_sub text not null default (auth.jwt() ->> 'sub'),
    action text not null, target text not null, payload jsonb not null default '{}'
);
grant insert (action, target, payload) on public.plain_events to authenticated;
"""

# Superuser seeding with triggers off: the chain is computed with the same
# digest the trigger uses, and written in batches (a PL/pgSQL array grows by
# copying, so one array of a million hashes would take minutes).
SEED = """
do $$
declare
    prev   bytea := decode(repeat('00', 32), 'hex');
    hashes bytea[];
    span   interval := %(days)s * interval '1 day';
    t0     timestamptz := now() - span;
    first  bigint;
begin
    for batch in 0..(%(events)s - 1) / %(batch)s loop
        first := batch * %(batch)s + 1;
        hashes := array[prev];
        for i in first..least(first + %(batch)s - 1, %(events)s) loop
            prev := ops_audit.event_digest(prev, i, i, t0 + span * i / %(events)s,
                'auth0|user' || (i %% %(actors)s), '{ops-sre}', 'incidents:ack', 'INC-' || i, jsonb_build_object('n', i));
            hashes := hashes || prev;
        end loop;
        insert into ops_audit.events (id, occurred_at, actor_sub, actor_roles, action, target, payload,
                                      chain_seq, prev_hash, row_hash)
        overriding system value
        select i, t0 + span * i / %(events)s, 'auth0|user' || (i %% %(actors)s), '{ops-sre}', 'incidents:ack',
               'INC-' || i, jsonb_build_object('n', i), i, hashes[i - first + 1], hashes[i - first + 2]
        from generate_series(first, least(first + %(batch)s - 1, %(events)s)) as i;
    end loop;
    update ops_audit.chain_head set last_seq = %(events)s, last_hash = prev;
end
$$;
"""
SEED_BATCH = 5000

PLAIN_INSERT = "insert into public.plain_events (action, target) values ('incidents:ack', 'INC-1')"
AUDIT_INSERT = "insert into ops_audit.events (action, target) values ('incidents:ack', 'INC-1')"
AUDITOR_QUERY = "select * from ops_audit.events where occurred_at > now() - interval '24 hours' order by occurred_at desc"
OPERATOR_QUERY = "select * from ops_audit.events where actor_sub = 'auth0|user7' order by occurred_at desc limit 100"


def _claims(sub: str, role: str) -> str:
    return json.dumps({"sub": sub, "role": "authenticated", CLAIM: [role]})


def _writer_rate(cluster: PgCluster, db: str, statement: str) -> float:
    """Events per second of WRITERS threads, each committing one insert per request."""
    stop = threading.Event()
    counts = [0] * WRITERS

    def write(n: int) -> None:
        claims = _claims(f"auth0|w{n}", "ops-sre")
        with psycopg.connect(cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, db)) as conn:
            while not stop.is_set():
                # One request: its statements and the commit sent as one pipelined batch.
                with conn.pipeline(), conn.transaction():
                    conn.execute("select set_config('role', 'authenticated', true), "
                                 "set_config('request.jwt.claims', %s, true)", (claims,))
                    conn.execute(statement)
                counts[n] += 1

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(WRITE_SECONDS)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def _p95_ms(conn: psycopg.Connection, query: str, claims: str | None) -> float:
    """p95 of the query's time to all rows received; as `authenticated` with claims, or as the connection's user."""
    times = []
    for _ in range(QUERY_RUNS):
        with conn.transaction():
            if claims:
                conn.execute("select set_config('role', 'authenticated', true), "
                             "set_config('request.jwt.claims', %s, true)", (claims,))
            # Rows are received (libpq holds them) but not turned into Python
            # objects, so the time is the database's and the wire's.
            start = time.perf_counter()
            conn.execute(query)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.quantiles(times, n=20)[-1]


def _throughput(cluster: PgCluster) -> list[Result]:
    db = cluster.create_database("bench_insert")
    migrate(cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, db), SETTINGS)
    with cluster.connect(db) as conn:
        conn.execute(PLAIN_TABLE)
    # Alternating rounds, so that load from elsewhere on the machine hits both alike.
    plain_rates, audit_rates = [], []
    for _ in range(WRITE_ROUNDS):
        plain_rates.append(_writer_rate(cluster, db, PLAIN_INSERT))
        audit_rates.append(_writer_rate(cluster, db, AUDIT_INSERT))
    plain, audit = statistics.median(plain_rates), statistics.median(audit_rates)
    if not verify(cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, db)).intact:
        raise RuntimeError("the chain written by the benchmark does not verify")
    ratio = audit / plain
    detail = (f"{WRITERS} writers, one event per transaction; median of {WRITE_ROUNDS} alternating "
              f"{WRITE_SECONDS:.0f} s rounds")
    return [
        Result("plain table inserts/s", f"{plain:,.0f}", "-", True, detail),
        Result("ops_audit.events inserts/s", f"{audit:,.0f}", f">= {THROUGHPUT_TARGET:.0%} of plain",
               ratio >= THROUGHPUT_TARGET, f"{ratio:.0%} of plain; chain verified afterwards"),
    ]


def seed(cluster: PgCluster, db: str) -> float:
    """EVENTS chained events over DAYS in a migrated database, as the superuser; the seconds it took."""
    with cluster.connect(db) as conn:
        conn.execute("select ops_audit.create_month_partition((now() - m * interval '1 month')::date) "
                     f"from generate_series(0, {DAYS // 30 + 1}) as m")
        conn.execute("set session_replication_role = replica")
        start = time.perf_counter()
        conn.execute(SEED % {"events": EVENTS, "days": DAYS, "actors": ACTORS, "batch": SEED_BATCH})
        seeded = time.perf_counter() - start
        conn.execute("vacuum analyze ops_audit.events")
    return seeded


def _queries_and_verify(cluster: PgCluster) -> list[Result]:
    db = cluster.create_database("bench_query")
    admin_dsn = cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, db)
    migrate(admin_dsn, SETTINGS)
    seeded = seed(cluster, db)
    results = []
    with psycopg.connect(cluster.dsn("authenticator", AUTHENTICATOR_PASSWORD, db)) as rls, \
            psycopg.connect(admin_dsn) as owner:
        for label, query, claims in (
            ("auditor: last 24 h", AUDITOR_QUERY, _claims("auth0|auditor", "ops-auditor")),
            ("operator: own last 100", OPERATOR_QUERY, _claims("auth0|user7", "ops-sre")),
        ):
            _p95_ms(rls, query, claims)  # warm the cache for both
            with_rls = _p95_ms(rls, query, claims)
            without = _p95_ms(owner, query, None)
            ratio = with_rls / without
            results.append(Result(
                f"{label}, p95 with RLS", f"{with_rls:.1f} ms", f"<= {LATENCY_TARGET}x owner", ratio <= LATENCY_TARGET,
                f"owner without RLS {without:.1f} ms ({ratio:.2f}x); {QUERY_RUNS} runs; {EVENTS:,} events",
            ))
    start = time.perf_counter()
    outcome = verify(admin_dsn)
    elapsed = time.perf_counter() - start
    results.append(Result(
        f"audit verify, {EVENTS:,} events", f"{elapsed:.1f} s", f"< {VERIFY_TARGET_SECONDS:.0f} s",
        outcome.intact and outcome.count == EVENTS and elapsed < VERIFY_TARGET_SECONDS,
        f"intact={outcome.intact}, count={outcome.count:,}; seeding took {seeded:.0f} s",
    ))
    return results


def run() -> list[Result]:
    with PgCluster(settings=SERVER_SETTINGS) as cluster:
        return _throughput(cluster) + _queries_and_verify(cluster)
