"""Engineering metrics: deployment frequency, lead time, change failure rate, recovery time, pages by hour class.

Unlike the Prometheus dashboards of this package, it reads ops_metrics.snapshots
through a PostgreSQL datasource picked in the dashboard (`$metrics_db`), so it is
deployed by EngineeringMetrics (infra/components/metrics.py), not by `render_all`.
Each panel shows the latest snapshot per as_of; a metric whose reconcile has not
passed yet is shown with "(validating)" in its series name (the snapshot's
`validation`, from the catalogue's `validated_on`).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builder
from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import TAGS
from infra.model.metrics import MetricsCatalogue

UID = "opshub-engineering-metrics"
TITLE = "Engineering metrics"
DATASOURCE_VARIABLE = "metrics_db"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE = model.DataSourceRef(type_val=DATASOURCE_TYPE, uid=f"${{{DATASOURCE_VARIABLE}}}")
WINDOW = "28d"

# (metric, field, legend) per time-series panel.
PANELS = (
    ("Deployment frequency", "short", (("deployment_frequency", "value", "deployments per week"), ("deploy_days", "value", "deploy days per week"))),
    ("Change lead time", "m", (("lead_time", "median", "median"), ("lead_time", "p90", "p90"))),
    ("Change failure rate", "percentunit", (("change_failure_rate", "value", "change failure rate"),)),
    ("Failed deployment recovery time", "m", (("recovery_time", "median", "median"), ("recovery_time", "p90", "p90"))),
)


class SqlQuery(cogvariants.Dataquery):
    """A raw-SQL query of Grafana's PostgreSQL datasource (the SDK has no builder for it)."""

    def __init__(self, ref_id: str, sql: str, fmt: str) -> None:
        self.ref_id, self.sql, self.fmt = ref_id, sql, fmt

    def to_json(self) -> dict[str, object]:
        return {"refId": self.ref_id, "datasource": {"type": DATASOURCE_TYPE, "uid": DATASOURCE.uid},
                "rawSql": self.sql, "format": self.fmt, "rawQuery": True, "editorMode": "code"}


class Sql(cogbuilder.Builder[SqlQuery]):
    def __init__(self, ref_id: str, sql: str, fmt: str = "time_series") -> None:
        self._internal = SqlQuery(ref_id, sql, fmt)

    def build(self) -> SqlQuery:
        return self._internal


def series_sql(metric: str, field: str, legend: str) -> str:
    """One value of one metric's 28-day window per as_of (the latest row of each as_of), named with its validation state."""
    path = f"{{metrics,{metric},windows,{WINDOW},{field}}}"
    return (
        "select distinct on (as_of) as_of as time, "
        f"'{legend}' || case when snapshot #>> '{{metrics,{metric},validation}}' = 'validating' then ' (validating)' else '' end as metric, "
        f"(snapshot #>> '{path}')::double precision as value "
        "from ops_metrics.snapshots where $__timeFilter(as_of) order by as_of, published_at desc"
    )


PAGES_SQL = (
    "with latest as (select snapshot from ops_metrics.snapshots order by as_of desc, published_at desc limit 1) "
    "select team.key as team, "
    "(team.value ->> 'business')::int as business, (team.value ->> 'off_hours')::int as off_hours, "
    "(team.value ->> 'sleep')::int as sleep, "
    "case when latest.snapshot #>> '{metrics,pages_by_hour_class,validation}' = 'validating' then 'validating' else 'validated' end as validation "
    f"from latest, jsonb_each(latest.snapshot #> '{{metrics,pages_by_hour_class,windows,{WINDOW},details,by_team}}') as team "
    "order by team.key"
)


def build(catalogue: MetricsCatalogue) -> model.Dashboard:
    unknown = sorted({m for _, _, series in PANELS for m, _, _ in series} - set(catalogue.metric_by_name) - {"pages_by_hour_class"})
    if unknown:
        raise ValueError(f"the dashboard shows metrics the catalogue lacks: {unknown}")
    board = (
        builder.Dashboard(TITLE).uid(UID)
        .description("Flow, quality and sustainability from the daily snapshots (ops_metrics.snapshots), 28-day windows."
                     " \"(validating)\" marks a metric whose manual double entry has not passed yet (docs/metrics.md).")
        .tags([*TAGS, "engineering-metrics"]).time("now-90d", "now").refresh("1h").timezone("utc")
        .with_variable(builder.DatasourceVariable(DATASOURCE_VARIABLE).label("Metrics database").type(DATASOURCE_TYPE))
    )
    panel_id = 0
    for title, unit, series in PANELS:
        panel_id += 1
        panel = timeseries.Panel().id(panel_id).title(title).datasource(DATASOURCE).unit(unit).span(12).height(8)
        for ref, (metric, field, legend) in zip("ABCD", series, strict=False):
            panel.with_target(Sql(ref, series_sql(metric, field, legend)))
        board.with_panel(panel)
    panel_id += 1
    pages = table.Panel().id(panel_id).title(f"Pages by hour class ({WINDOW}, latest snapshot)").datasource(DATASOURCE).span(24).height(8)
    board.with_panel(pages.with_target(Sql("A", PAGES_SQL, "table")))
    return board.build()
