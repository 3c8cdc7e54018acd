"""The database benchmarks run end to end at a tiny size, so a change that breaks one fails `make test`
instead of the next `make bench`. Their numbers are not checked here: the targets live in
docs/benchmarks.md, written by `make bench`. What is checked is that each run did its work (the trail
it wrote verifies intact, the checkpoints it signed verify against the seals)."""

from __future__ import annotations

import pytest

from benchmarks import bench_audit, bench_checkpoint

TINY_EVENTS = 3_000

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _by_prefix(results, prefix: str):
    (found,) = [r for r in results if r.name.startswith(prefix)]
    return found


def test_the_audit_benchmark_appends_seals_queries_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("EVENTS", TINY_EVENTS), ("WRITE_SECONDS", 1.0), ("WRITE_ROUNDS", 1), ("QUERY_RUNS", 3), ("SEAL_INTERVAL", 0.2)):
        monkeypatch.setattr(bench_audit, name, value)

    results = bench_audit.run()

    assert f"intact=True, count={TINY_EVENTS:,}" in _by_prefix(results, "audit verify").detail
    for commits in ("durable", "fsync off"):
        assert "sealed and verified afterwards" in _by_prefix(results, f"ops_audit.events inserts/s, {commits}").detail
        assert _by_prefix(results, f"unsealed tail, longest wait for a seal, {commits}")


def test_the_checkpoint_benchmark_signs_and_verifies_checkpoints_over_the_seals(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (bench_audit, bench_checkpoint):
        monkeypatch.setattr(module, "EVENTS", TINY_EVENTS)
    monkeypatch.setattr(bench_checkpoint, "YEAR_OF_CHECKPOINTS", 24)
    monkeypatch.setattr(bench_checkpoint, "STATE_RUNS", 5)

    results = bench_checkpoint.run()

    anchors = _by_prefix(results, "verify --anchors, 24 checkpoints")
    assert "intact=True" in anchors.detail and "(intact=True)" in anchors.detail, anchors.detail
