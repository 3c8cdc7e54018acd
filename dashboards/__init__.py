"""Ops Hub Grafana dashboards, one module each, built with grafana-foundation-sdk (Grafana 11.6).

Each module exposes `UID`, `TITLE` and `build(catalogue) -> Dashboard`;
`render_all` gives the JSON that grafana.oss.Dashboard deploys.
"""

from __future__ import annotations

from types import ModuleType

from dashboards import audit, engineering_metrics, integrations, overview, slo
from dashboards.common import to_json
from infra.model.metrics import MetricsCatalogue
from infra.model.observability import Catalogue

MODULES: tuple[ModuleType, ...] = (overview, slo, integrations, audit)


def render_all(catalogue: Catalogue) -> dict[str, str]:
    """Dashboard uid -> the dashboard's JSON."""
    return {module.UID: to_json(module.build(catalogue)) for module in MODULES}


def engineering_metrics_json(catalogue: MetricsCatalogue) -> str:
    """The "Engineering metrics" dashboard (a SQL datasource, deployed by EngineeringMetrics)."""
    return to_json(engineering_metrics.build(catalogue))
