"""Audit activity: ops_audit writes per action and role, and failed writes."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.common import Layout, query
from infra.model.observability import Catalogue

UID = "opshub-audit"
TITLE = "Ops Hub audit activity"

WRITES = "ops_audit_writes_total"
FAILED = 'ops_audit_writes_total{outcome="error"}'


def build(catalogue: Catalogue) -> Dashboard:
    del catalogue  # audit activity, not SLO state
    layout = Layout(UID, TITLE, "Writes to the ops_audit trail per action and role, and the writes that failed.")
    layout.stat("Writes in range", "short", f"sum(increase({WRITES}[$__range]))")
    layout.stat("Failed writes in range", "short", f"sum(increase({FAILED}[$__range]))")
    layout.timeseries(
        "Writes per action",
        "short",
        [query(f"sum by (action) (increase({WRITES}[$__interval]))", "{{action}}")],
    )
    layout.timeseries(
        "Writes per role",
        "short",
        [query(f"sum by (role) (increase({WRITES}[$__interval]))", "{{role}}")],
    )
    layout.timeseries(
        "Failed writes per action and role",
        "short",
        [query(f"sum by (action, role) (increase({FAILED}[$__interval]))", "{{action}} as {{role}}")],
        width=24,
    )
    return layout.build()
