"""Fixtures of the engineering metrics tests: the catalogue, the hand-computed scenario, a run over stand-ins."""

from __future__ import annotations

import pytest

from infra.metrics import github, pagerduty
from infra.metrics.http import HttpClient
from infra.metrics.run import DEFAULT_GITHUB_API_URL, DEFAULT_PAGERDUTY_API_URL, Outcome, Scope, run
from infra.metrics.timeutil import parse_time
from infra.model.metrics import MetricsCatalogue, catalogue_digest, load_catalogue
from tests.metrics.shapes import AS_OF, OPS, RECORDED_AT, WEB, scenario
from tests.support.fixtures import pg_cluster, pg_database  # noqa: F401 - pytest fixtures
from tests.support.standin import GitHubStandIn, PagerDutyStandIn, RecordingPool


@pytest.fixture(scope="session")
def catalogue() -> MetricsCatalogue:
    return load_catalogue()


def run_in_process(catalogue: MetricsCatalogue, gh, pd, as_of: str = AS_OF, now: str = RECORDED_AT,
                   repos: tuple[str, ...] = (OPS, WEB)) -> Outcome:
    """The whole run against in-process stand-ins (the loopback tests use real HTTP)."""
    return run(
        catalogue, catalogue_digest(), Scope.of(catalogue, list(repos)), parse_time(as_of), parse_time(now),
        HttpClient(DEFAULT_GITHUB_API_URL, github.headers("t"), pool=RecordingPool(GitHubStandIn(gh))),
        HttpClient(DEFAULT_PAGERDUTY_API_URL, pagerduty.headers("t"), pool=RecordingPool(PagerDutyStandIn(pd))),
    )


@pytest.fixture(scope="session")
def scenario_outcome(catalogue: MetricsCatalogue) -> Outcome:
    return run_in_process(catalogue, *scenario())


def window(outcome: Outcome, metric: str, name: str = "7d") -> dict:
    return outcome.document["metrics"][metric]["windows"][name]
