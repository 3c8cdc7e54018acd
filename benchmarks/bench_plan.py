"""Wall time of `opshub plan --stack prod` against the floor of importing the provider SDKs."""

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


def _median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[Result]:
    opshub = str(Path(sys.executable).with_name("opshub"))
    floor = _median_seconds([sys.executable, "-c", IMPORT_FLOOR])
    with tempfile.TemporaryDirectory() as out:
        plan = _median_seconds([opshub, "plan", "--stack", "prod", "--out", out])
    ratio = plan / floor
    return [
        Result("import floor (6 SDKs)", f"{floor:.2f} s", "-", True, f"median of {RUNS} runs"),
        Result("opshub plan --stack prod", f"{plan:.2f} s", f"<= {TARGET_RATIO:.0f}x floor", ratio <= TARGET_RATIO,
               f"median of {RUNS} runs; {ratio:.2f}x the floor"),
    ]
