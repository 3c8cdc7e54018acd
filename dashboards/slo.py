"""SLO and error budget: budget remaining over 30 days and the burn rate per alert window, per SLO.

The queries come from infra/derive/slo.py, the same functions the alert rules
use, so the dashboard shows exactly what the alerts evaluate.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.common import Layout, query
from infra.derive.slo import ALERT_CLASSES, error_ratio
from infra.model.observability import Catalogue, SloSpec

UID = "opshub-slo"
TITLE = "Ops Hub SLOs and error budgets"
BUDGET_WINDOW = "30d"


def burn_windows() -> list[str]:
    """Every window an alert looks at, long windows first."""
    windows = [w for cls in ALERT_CLASSES for b in cls.burn_rates for w in (b.long, b.short)]
    return list(dict.fromkeys(windows))


def _legend(slo: SloSpec, suffix: str) -> str:
    labels = " ".join(f"{{{{{label}}}}}" for label in slo.sli.by)
    return f"{labels} {suffix}".strip()


def _slo_row(layout: Layout, slo: SloSpec) -> None:
    budget = f"{slo.error_budget:g}"
    layout.row(f"{slo.title} ({slo.objective_percent:g}% over {slo.period})")
    layout.stat(
        "Error budget remaining",
        "percentunit",
        f"1 - {error_ratio(slo, BUDGET_WINDOW)} / {budget}",
        width=8,
    )
    layout.stat("SLI over 30 days", "percentunit", f"1 - {error_ratio(slo, BUDGET_WINDOW)}", width=8)
    layout.stat("Objective", "percent", f"vector({slo.objective_percent:g})", width=8)
    layout.timeseries(
        "Burn rate per window (1 = spending exactly the budget)",
        "short",
        [
            query(f"{error_ratio(slo, window)} / {budget}", _legend(slo, window), chr(ord("A") + i))
            for i, window in enumerate(burn_windows())
        ],
        width=24,
    )


def build(catalogue: Catalogue) -> Dashboard:
    layout = Layout(UID, TITLE, "Error budget remaining and burn rate per window for every Ops Hub SLO.")
    for slo in catalogue.slos:
        _slo_row(layout, slo)
    return layout.build()
