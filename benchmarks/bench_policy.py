"""Policy evaluation: the prod plan, and synthetic stacks of 1,000 and 10,000 resources.

The synthetic stacks repeat the prod plan's resources (every rule has real work to
do) with fresh URNs per copy, references rewired within the copy. Timed: the whole
`run_check` (per-resource rules once per resource, stack rules once per stack)
with the default engine; the prod plan also with regopy for comparison.
"""

from __future__ import annotations

import json
import time
from typing import Any

from benchmarks.common import Result
from infra.offline.plan import run_plan
from infra.policy.check import run_check
from infra.policy.engines import DEFAULT_ENGINE, make_engine
from infra.policy.inputs import from_plan
from infra.policy.pack import load_pack

TITLE = "Policy evaluation (opshub policy check)"
TARGET_MS_PER_RESOURCE = 0.2
LINEAR_TOLERANCE = 1.5  # per-resource cost at 10k may be at most this multiple of the cost at 1k
SIZES = (1_000, 10_000)


def synthetic_stack(base: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """`size` resources: copies of `base` whose URNs (and references to them) carry the copy number."""
    text = json.dumps(base)
    urns = sorted({r["urn"] for r in base}, key=len, reverse=True)
    resources: list[dict[str, Any]] = []
    copy = 0
    while len(resources) < size:
        renamed = text
        for urn in urns:
            renamed = renamed.replace(f'"{urn}"', f'"{urn}-c{copy}"')
        resources += json.loads(renamed)
        copy += 1
    return resources[:size]


def timed(pack, engine, resources) -> tuple[float, int]:
    start = time.perf_counter()
    report = run_check(pack, engine, resources)
    return time.perf_counter() - start, len(report.findings)


def run() -> list[Result]:
    pack = load_pack()
    base = from_plan(run_plan("prod").document())
    results = []
    for name in (DEFAULT_ENGINE, "regopy"):
        engine = make_engine(name, pack.package, pack.modules)
        seconds, found = timed(pack, engine, base)
        per = seconds * 1000 / len(base)
        results.append(
            Result(
                f"prod plan, {name}",
                f"{seconds * 1000:.0f} ms ({per:.3f} ms/resource)",
                f"<= {TARGET_MS_PER_RESOURCE} ms/resource",
                per <= TARGET_MS_PER_RESOURCE,
                f"{len(base)} resources, {len(pack.rules)} rules, {found} findings",
            )
        )
    engine = make_engine(DEFAULT_ENGINE, pack.package, pack.modules)
    per_resource = {}
    for size in SIZES:
        seconds, found = timed(pack, engine, synthetic_stack(base, size))
        per_resource[size] = seconds * 1000 / size
        results.append(
            Result(
                f"synthetic {size:,} resources, {DEFAULT_ENGINE}",
                f"{seconds:.2f} s ({per_resource[size]:.3f} ms/resource)",
                f"<= {TARGET_MS_PER_RESOURCE} ms/resource",
                per_resource[size] <= TARGET_MS_PER_RESOURCE,
                f"{found} findings",
            )
        )
    growth = per_resource[SIZES[1]] / per_resource[SIZES[0]]
    results.append(
        Result(
            "growth 1k -> 10k (per-resource cost ratio)",
            f"{growth:.2f}x",
            f"<= {LINEAR_TOLERANCE}x (linear)",
            growth <= LINEAR_TOLERANCE,
            "same run, same engine",
        )
    )
    return results
