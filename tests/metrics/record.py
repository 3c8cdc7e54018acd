"""Write a `--fixtures` directory by running the collectors against the stand-ins and recording every exchange.

`python -m tests.metrics.record DIR` rewrites tests/metrics/fixtures/scenario (the
README's example and the CLI tests' input) from tests/metrics/shapes.py;
tests/metrics/test_cli.py checks the committed copy is current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra.metrics import github, pagerduty
from infra.metrics.http import HttpClient
from infra.metrics.run import DEFAULT_GITHUB_API_URL, DEFAULT_PAGERDUTY_API_URL, Scope, run
from infra.metrics.timeutil import parse_time
from infra.model.metrics import catalogue_digest, load_catalogue
from tests.metrics.shapes import AS_OF, OPS, RECORDED_AT, WEB, scenario
from tests.support.standin import GitHubData, GitHubStandIn, PagerDutyData, PagerDutyStandIn, RecordingPool

SCENARIO_DIR = Path(__file__).parent / "fixtures" / "scenario"
REPOS = (OPS, WEB)


def record(directory: Path, gh: GitHubData, pd: PagerDutyData, as_of: str = AS_OF, recorded_at: str = RECORDED_AT,
           repos: tuple[str, ...] = REPOS) -> None:
    catalogue = load_catalogue()
    gh_pool, pd_pool = RecordingPool(GitHubStandIn(gh)), RecordingPool(PagerDutyStandIn(pd))
    run(catalogue, catalogue_digest(), Scope.of(catalogue, list(repos)), parse_time(as_of), parse_time(recorded_at),
        HttpClient(DEFAULT_GITHUB_API_URL, github.headers("recorded"), pool=gh_pool),
        HttpClient(DEFAULT_PAGERDUTY_API_URL, pagerduty.headers("recorded"), pool=pd_pool))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"recorded_at": recorded_at}, indent=2) + "\n")
    (directory / "github.jsonl").write_text(gh_pool.jsonl())
    (directory / "pagerduty.jsonl").write_text(pd_pool.jsonl())


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else SCENARIO_DIR, *scenario())
