"""Policy evaluation: the prod plan, and synthetic stacks of 1,000 and 10,000 resources.

The synthetic stacks repeat the prod plan's resources (every rule has real work to
do) with fresh URNs per copy, references rewired within the copy. Timed: the whole
`run_check` (per-resource rules once per resource, stack rules once per stack)
with the default engine (regorus), and with the real OPA engine both batched (one
query per resource for all its rules) and per rule, as pulumi-policy-opa queries it
(one query per rule per resource).
"""

from __future__ import annotations

import json
import os
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


# (label, engine, per rule): the default, and real OPA as CI batches it and as the analyzer asks it.
ENGINE_MODES = ((DEFAULT_ENGINE, DEFAULT_ENGINE, False), ("opa batched", "opa", False), ("opa per rule", "opa", True))


def engine_results(pack, stack: list[dict[str, Any]], label: str, modes=ENGINE_MODES) -> list[Result]:
    results = []
    for mode, name, per_rule in modes:
        engine = make_engine(name, pack.package, pack.modules, per_rule=per_rule)
        seconds, found = timed(pack, engine, stack)
        per = seconds * 1000 / len(stack)
        results.append(
            Result(
                f"{label}, {mode}",
                f"{seconds * 1000:.0f} ms ({per:.3f} ms/resource)",
                f"<= {TARGET_MS_PER_RESOURCE} ms/resource",
                per <= TARGET_MS_PER_RESOURCE,
                f"{len(stack)} resources, {len(pack.rules)} rules, {found} findings",
            )
        )
    return results


def run() -> list[Result]:
    pack = load_pack()
    base = from_plan(run_plan("prod").document())
    load = os.getloadavg()[0]
    results = [Result("machine load at start (1-minute average, 2 cores)", f"{load:.1f}", "-", True, "other jobs share the machine")]
    results += engine_results(pack, base, "prod plan")
    results += engine_results(pack, synthetic_stack(base, SIZES[0]), f"synthetic {SIZES[0]:,} resources", ENGINE_MODES[1:])
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
