"""Ops Hub overview: traffic, errors and latency per /ops route."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.common import Layout, query
from infra.model.observability import Catalogue

UID = "opshub-overview"
TITLE = "Ops Hub overview"

HTTP = 'http_requests_total{service="ops-hub"}'
HTTP_5XX = 'http_requests_total{service="ops-hub",code=~"5.."}'
LATENCY = 'http_request_duration_seconds_bucket{service="ops-hub"}'
RATE = "[$__rate_interval]"


def build(catalogue: Catalogue) -> Dashboard:
    del catalogue  # the overview shows raw traffic, not SLOs
    layout = Layout(UID, TITLE, "Traffic, errors and latency of the Ops Hub backend per route.")
    layout.stat("Requests per second", "reqps", f"sum(rate({HTTP}{RATE}))")
    layout.stat("5xx ratio", "percentunit", f"sum(rate({HTTP_5XX}{RATE})) / sum(rate({HTTP}{RATE}))")
    layout.stat(
        "p95 latency",
        "s",
        f"histogram_quantile(0.95, sum by (le) (rate({LATENCY}{RATE})))",
    )
    layout.stat("4xx per second", "reqps", f'sum(rate(http_requests_total{{service="ops-hub",code=~"4.."}}{RATE}))')
    layout.row("Per route")
    layout.timeseries(
        "Requests per second by route",
        "reqps",
        [query(f"sum by (route, method) (rate({HTTP}{RATE}))", "{{method}} {{route}}")],
    )
    layout.timeseries(
        "5xx ratio by route",
        "percentunit",
        [query(f"sum by (route) (rate({HTTP_5XX}{RATE})) / sum by (route) (rate({HTTP}{RATE}))", "{{route}}")],
    )
    layout.timeseries(
        "Latency by route (p50, p95, p99)",
        "s",
        [
            query(
                f"histogram_quantile({q}, sum by (route, le) (rate({LATENCY}{RATE})))",
                f"p{round(q * 100)} {{{{route}}}}",
                ref,
            )
            for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
        ],
        width=24,
    )
    layout.timeseries(
        "Responses by status code",
        "reqps",
        [query(f"sum by (code) (rate({HTTP}{RATE}))", "{{code}}")],
        width=24,
    )
    return layout.build()
