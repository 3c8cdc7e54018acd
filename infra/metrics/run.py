"""One snapshot run: collect from both sources, compute, build and validate the document.

Shared by `opshub metrics snapshot` (live or from recorded responses) and the daily
job (infra/lambdas/metrics_snapshot.py). The reading time `now` is an input, so the
same responses, catalogue, as_of and now always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from infra.metrics import github, pagerduty, snapshot
from infra.metrics.compute import compute
from infra.metrics.http import HttpClient
from infra.model.metrics import MetricsCatalogue

DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_PAGERDUTY_API_URL = "https://api.pagerduty.com"


@dataclass(frozen=True)
class Scope:
    """What to read: repositories, PagerDuty services (id -> team) and the deploy source."""

    repos: tuple[str, ...]
    services: dict[str, str]
    deploy_source: str

    @classmethod
    def of(cls, catalogue: MetricsCatalogue, repos: list[str] | None = None, services: list[str] | None = None,
           deploy_source: str | None = None) -> Scope:
        teams = {s.id: s.team for s in catalogue.sources.pagerduty.services}
        return cls(
            repos=tuple(repos) if repos else catalogue.sources.github.repos,
            services={s: teams.get(s, s) for s in services} if services else teams,
            deploy_source=deploy_source or catalogue.sources.github.deploy_source,
        )


@dataclass(frozen=True)
class Outcome:
    document: dict
    text: str
    items: list[dict]

    @property
    def complete(self) -> bool:
        return self.document["status"] == "complete"


def run(catalogue: MetricsCatalogue, digest: str, scope: Scope, as_of: dt.datetime, now: dt.datetime,
        github_client: HttpClient, pagerduty_client: HttpClient) -> Outcome:
    gh = catalogue.sources.github
    longest = dt.timedelta(days=max(w for m in catalogue.metrics for w in m.windows))
    github_data = github.GitHubCollector(github_client, now).collect(
        scope.repos, as_of - longest - dt.timedelta(days=gh.read_margin_days), as_of,
        gh.production_environment, scope.deploy_source, gh.bug_labels,
    )
    pagerduty_data = pagerduty.PagerDutyCollector(pagerduty_client, now).collect(scope.services, as_of - longest, as_of)
    result = compute(catalogue, github_data, pagerduty_data, as_of)
    document = snapshot.build(catalogue, digest, as_of, now, [github_data.report, pagerduty_data.report], result)
    snapshot.validate(document)
    return Outcome(document, snapshot.render(document), result.items)
