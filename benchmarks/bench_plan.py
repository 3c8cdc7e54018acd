"""Wall time of `opshub plan --stack prod` against the floor of importing the provider SDKs.

The issue's floor imports only the SDKs' top-level packages, which load their resource modules
lazily. A second, fuller floor also imports every SDK module the program ends up using, so the
report separates import cost from the cost of declaring and recording the resources. A last
row runs the same plan through `main` with Python's default collector, which shows what the
console script's collector settings (`infra.cli.main.console`) save in time and cost in memory.

The commands run in interleaved rounds, so a slow spell on the machine weighs on all of them
alike rather than on whichever happened to run then.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Result, run_measured

TITLE = "Offline plan (`opshub plan --stack prod`)"
ROUNDS = 9
IMPORT_FLOOR = "import pulumi, pulumi_aws, pulumi_auth0, pulumiverse_grafana, pulumi_postgresql, pulumi_pagerduty"
TARGET_RATIO = 2.0
USED_SDK_MODULES = (
    "import sys; from infra.offline.plan import run_plan; run_plan('prod'); "
    "print(' '.join(sorted(m for m in sys.modules if m.startswith(('pulumi', 'pulumiverse')))))"
)
PLAN_WITH_DEFAULT_COLLECTOR = "import sys; from infra.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _medians(commands: dict[str, list[str]]) -> dict[str, tuple[float, int]]:
    """Median wall seconds and median peak memory of each command over interleaved rounds."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, command in commands.items():
            runs[name].append(run_measured(command))
    return {
        name: (statistics.median(s for s, _ in values), int(statistics.median(m for _, m in values)))
        for name, values in runs.items()
    }


def _used_sdk_modules() -> list[str]:
    out = subprocess.run([sys.executable, "-c", USED_SDK_MODULES], check=True, capture_output=True, text=True)
    return out.stdout.split()


def run() -> list[Result]:
    opshub = str(Path(sys.executable).with_name("opshub"))
    modules = _used_sdk_modules()
    with tempfile.TemporaryDirectory() as out:
        plan_args = ["plan", "--stack", "prod", "--out", out]
        measured = _medians({
            "floor": [sys.executable, "-c", IMPORT_FLOOR],
            "full_floor": [sys.executable, "-c", f"import {', '.join(modules)}"],
            "plan": [opshub, *plan_args],
            "default_collector": [sys.executable, "-c", PLAN_WITH_DEFAULT_COLLECTOR, *plan_args],
        })
    seconds = {name: s for name, (s, _) in measured.items()}
    peak_mib = {name: m / 1024 for name, (_, m) in measured.items()}
    floor, plan = seconds["floor"], seconds["plan"]
    ratio = plan / floor
    detail = f"median of {ROUNDS} interleaved rounds"
    return [
        Result("import floor (6 SDKs, top-level packages)", f"{floor:.2f} s", "-", True, detail),
        Result(
            "import of every SDK module the program uses", f"{seconds['full_floor']:.2f} s", "-", True,
            f"{detail}; {len(modules)} modules",
        ),
        Result(
            "opshub plan --stack prod (plan, resources.json, policy check)", f"{plan:.2f} s",
            f"<= {TARGET_RATIO:.0f}x floor", ratio <= TARGET_RATIO,
            f"{detail}; {ratio:.2f}x the floor, {plan / seconds['full_floor']:.2f}x the fuller floor; "
            f"peak memory {peak_mib['plan']:.0f} MiB",
        ),
        Result(
            "the same plan with Python's default collector", f"{seconds['default_collector']:.2f} s", "-", True,
            f"{detail}; {seconds['default_collector'] / floor:.2f}x the floor; "
            f"peak memory {peak_mib['default_collector']:.0f} MiB",
        ),
    ]
