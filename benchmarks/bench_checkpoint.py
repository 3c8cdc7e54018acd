"""The audit checkpoint's cost at 1,000,000 events, on a real PostgreSQL 15.

The same throwaway cluster and seeding as benchmarks/bench_audit.py (loopback, fsync off; a
million events over 60 days, sealed by one `ops_audit.seal_events()` run), then:

1. `ops_audit.checkpoint_state()` as the checkpointer login, the query the hourly job runs:
   median and p95 at 1,000,000 events, against the same on an empty trail (it reads the chain
   head and the catalogs, so its cost must not grow with the trail). Target: p95 under 50 ms.
2. `opshub audit verify --anchors` over a year of hourly checkpoints (8,760 files in a folder,
   ECDSA P-256 signatures as KMS makes them, heads spread over the million seals): reading and
   checking the signatures, then every head against the seals. Target: under 60 s, on top of
   the chain walk, which is measured too.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from psycopg import sql

from benchmarks.bench_audit import EVENTS, SERVER_SETTINGS, SETTINGS, seed
from benchmarks.common import Result
from infra.derive.audit import GROUP_ROLES
from infra.lambdas.audit_checkpoint import build_checkpoint, canonical_json
from infra.migrations.anchors import check_anchors, public_keys, read_checkpoints
from infra.migrations.runner import migrate
from infra.migrations.verify import verify_chain
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, PgCluster

TITLE = "Audit checkpoints (checkpoint_state at 1M events, verify --anchors over a year)"
CHECKPOINTER, CHECKPOINTER_PASSWORD = "bench_checkpointer", "bench-pw"
STATE_RUNS = 200
STATE_TARGET_MS = 50.0
YEAR_OF_CHECKPOINTS = 365 * 24
ANCHORS_TARGET_SECONDS = 60.0
EXPECTED = {"owner_members": [ADMIN_USER], "bypassrls_roles": [], "superusers": []}


def _migrated(cluster: PgCluster, name: str) -> str:
    db = cluster.create_database(name)
    migrate(cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, db), SETTINGS)
    return db


def _state_ms(cluster: PgCluster, db: str) -> list[float]:
    """Times of checkpoint_state() as the checkpointer, one call per transaction, after a warm-up call."""
    times = []
    with psycopg.connect(cluster.dsn(CHECKPOINTER, CHECKPOINTER_PASSWORD, db), autocommit=True) as conn:
        conn.execute("select ops_audit.checkpoint_state()")
        for _ in range(STATE_RUNS):
            start = time.perf_counter()
            conn.execute("select ops_audit.checkpoint_state()").fetchone()
            times.append((time.perf_counter() - start) * 1000)
    return times


def _write_year_of_checkpoints(cluster: PgCluster, db: str, folder: Path) -> Path:
    """Hourly checkpoints over a year, their heads read from the seeded chain, signed as KMS signs them."""
    seqs = [1 + i * (EVENTS - 1) // (YEAR_OF_CHECKPOINTS - 1) for i in range(YEAR_OF_CHECKPOINTS)]
    with cluster.connect(db) as conn:
        hashes_by_seq = dict(conn.execute(
            "select chain_seq, encode(row_hash, 'hex') from ops_audit.seals where chain_seq = any(%s)", (seqs,)
        ).fetchall())
    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n, seq in enumerate(seqs):
        taken = start + dt.timedelta(hours=n)
        state = {"chain_seq": seq, "row_hash": hashes_by_seq[seq], "owner_members": [ADMIN_USER], "rls": {},
                 "bypassrls_roles": [], "superusers": []}
        checkpoint = build_checkpoint(state, EXPECTED, "bench", "127.0.0.1/bench", taken)
        signature = key.sign(canonical_json(checkpoint["signed"]), ec.ECDSA(hashes.SHA256()))
        checkpoint["signature"] = {"key_id": "bench-key", "algorithm": "ECDSA_SHA_256", "value": base64.b64encode(signature).decode()}
        (folder / f"{taken:%Y%m%dT%H%M%SZ}-seq{seq}.json").write_text(json.dumps(checkpoint))
    public = folder.parent / "public.der"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    return public


def _percentile_95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def run() -> list[Result]:
    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with PgCluster(settings=SERVER_SETTINGS) as cluster:
        empty, full = _migrated(cluster, "bench_checkpoint_empty"), _migrated(cluster, "bench_checkpoint_full")
        with cluster.connect() as conn:
            conn.execute(sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(CHECKPOINTER), sql.Literal(CHECKPOINTER_PASSWORD), sql.Identifier(GROUP_ROLES["checkpoint"])))
        seeded = seed(cluster, full).seconds
        at_empty, at_full = _state_ms(cluster, empty), _state_ms(cluster, full)
        with tempfile.TemporaryDirectory(prefix="opshub-checkpoints-") as tmp:
            folder = Path(tmp) / "checkpoints"
            folder.mkdir()
            public = _write_year_of_checkpoints(cluster, full, folder)
            with psycopg.connect(cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, full)) as conn:
                start = time.perf_counter()
                chain = verify_chain(conn)
                walked = time.perf_counter() - start
                start = time.perf_counter()
                checkpoints = read_checkpoints(str(folder))
                keys, sources = public_keys(checkpoints, public)
                anchors = check_anchors(conn, checkpoints, keys, sources)
                anchored = time.perf_counter() - start
    p95_full = _percentile_95(at_full)
    return [
        Result(
            f"checkpoint_state(), {EVENTS:,} events, p95", f"{p95_full:.1f} ms", f"< {STATE_TARGET_MS:.0f} ms",
            p95_full < STATE_TARGET_MS,
            f"median {statistics.median(at_full):.1f} ms; {STATE_RUNS} calls as the checkpointer; seeding took {seeded:.0f} s; "
            f"load average {load:.1f} at the start",
        ),
        Result(
            "checkpoint_state(), empty trail, p95", f"{_percentile_95(at_empty):.1f} ms", "-", True,
            f"median {statistics.median(at_empty):.1f} ms: the cost does not grow with the trail",
        ),
        Result(
            f"verify --anchors, {YEAR_OF_CHECKPOINTS:,} checkpoints, {EVENTS:,} events", f"{anchored:.1f} s",
            f"< {ANCHORS_TARGET_SECONDS:.0f} s", anchors.intact and anchored < ANCHORS_TARGET_SECONDS,
            f"read, signatures and heads; intact={anchors.intact}; the chain walk before it took {walked:.1f} s (intact={chain.intact})",
        ),
    ]
