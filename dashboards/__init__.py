"""Ops Hub Grafana dashboards, one module each, built with grafana-foundation-sdk (Grafana 11.6).

Each module exposes `UID`, `TITLE` and `build(catalogue) -> Dashboard`;
`render_all` gives the JSON that grafana.oss.Dashboard deploys.
"""

from __future__ import annotations

from types import ModuleType

from dashboards import audit, integrations, overview, slo
from dashboards.common import to_json
from infra.model.observability import Catalogue

MODULES: tuple[ModuleType, ...] = (overview, slo, integrations, audit)


def render_all(catalogue: Catalogue) -> dict[str, str]:
    """Dashboard uid -> the dashboard's JSON."""
    return {module.UID: to_json(module.build(catalogue)) for module in MODULES}
