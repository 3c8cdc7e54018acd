"""Integrations health: success ratio, errors and latency per vendor integration."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.common import Layout, query
from infra.model.observability import Catalogue

UID = "opshub-integrations"
TITLE = "Ops Hub integrations health"

CALLS = 'ops_integration_requests_total{outcome=~"success|error"}'
SUCCESS = 'ops_integration_requests_total{outcome="success"}'
ERRORS = 'ops_integration_requests_total{outcome="error"}'
LATENCY = "ops_integration_request_duration_seconds_bucket"
RATE = "[$__rate_interval]"


def build(catalogue: Catalogue) -> Dashboard:
    del catalogue  # per-integration health, not SLO state
    layout = Layout(UID, TITLE, "Success ratio, errors and latency of each vendor integration.")
    layout.timeseries(
        "Success ratio by integration",
        "percentunit",
        [
            query(
                f"sum by (integration) (rate({SUCCESS}{RATE})) / sum by (integration) (rate({CALLS}{RATE}))",
                "{{integration}}",
            )
        ],
    )
    layout.timeseries(
        "Calls per second by integration",
        "reqps",
        [query(f"sum by (integration) (rate({CALLS}{RATE}))", "{{integration}}")],
    )
    layout.timeseries(
        "Errors per second by integration and operation",
        "reqps",
        [query(f"sum by (integration, operation) (rate({ERRORS}{RATE}))", "{{integration}} {{operation}}")],
    )
    layout.timeseries(
        "p95 latency by integration",
        "s",
        [query(f"histogram_quantile(0.95, sum by (integration, le) (rate({LATENCY}{RATE})))", "{{integration}}")],
    )
    return layout.build()
