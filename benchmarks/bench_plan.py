"""Wall time of `opshub plan --stack prod` against the floor of importing the provider SDKs.

The issue's floor imports only the SDKs' top-level packages, which load their resource modules
lazily. A second, fuller floor also imports every SDK module the program ends up using, so the
report separates import cost from the cost of declaring and recording the resources.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result

TITLE = "Offline plan (`opshub plan --stack prod`)"
RUNS = 5
IMPORT_FLOOR = "import pulumi, pulumi_aws, pulumi_auth0, pulumiverse_grafana, pulumi_postgresql, pulumi_pagerduty"
TARGET_RATIO = 2.0
USED_SDK_MODULES = (
    "import sys; from infra.offline.plan import run_plan; run_plan('prod'); "
    "print(' '.join(sorted(m for m in sys.modules if m.startswith(('pulumi', 'pulumiverse')))))"
)


def _median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _used_sdk_modules() -> list[str]:
    out = subprocess.run([sys.executable, "-c", USED_SDK_MODULES], check=True, capture_output=True, text=True)
    return out.stdout.split()


def run() -> list[Result]:
    opshub = str(Path(sys.executable).with_name("opshub"))
    floor = _median_seconds([sys.executable, "-c", IMPORT_FLOOR])
    modules = _used_sdk_modules()
    full_floor = _median_seconds([sys.executable, "-c", f"import {', '.join(modules)}"])
    with tempfile.TemporaryDirectory() as out:
        plan = _median_seconds([opshub, "plan", "--stack", "prod", "--out", out])
    ratio = plan / floor
    return [
        Result("import floor (6 SDKs, top-level packages)", f"{floor:.2f} s", "-", True, f"median of {RUNS} runs"),
        Result(
            "import of every SDK module the program uses", f"{full_floor:.2f} s", "-", True,
            f"median of {RUNS} runs; {len(modules)} modules",
        ),
        Result(
            "opshub plan --stack prod (plan, resources.json, policy check)", f"{plan:.2f} s",
            f"<= {TARGET_RATIO:.0f}x floor", ratio <= TARGET_RATIO,
            f"median of {RUNS} runs; {ratio:.2f}x the floor, {plan / full_floor:.2f}x the fuller floor",
        ),
    ]
