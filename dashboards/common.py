"""Shared pieces of the Ops Hub dashboards: the datasource variable, panels and ids.

Every panel queries the `$datasource` variable (a Prometheus datasource picked
in the dashboard), so one dashboard serves any stack. `Layout` hands out panel
ids in order, so ids are unique within a dashboard by construction.
"""

from __future__ import annotations

import json

from grafana_foundation_sdk.builders import dashboard as builder
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

DATASOURCE_VARIABLE = "datasource"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
TAGS = ["ops-hub", "generated"]


def query(expr: str, legend: str = "", ref_id: str = "A") -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(expr).ref_id(ref_id).datasource(DATASOURCE)
    return target.legend_format(legend) if legend else target


class Layout:
    """A dashboard under construction; panels get sequential ids starting at 1."""

    def __init__(self, uid: str, title: str, description: str) -> None:
        self._next_id = 1
        self.dashboard = (
            builder.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags(TAGS)
            .time("now-24h", "now")
            .refresh("1m")
            .timezone("utc")
            .with_variable(builder.DatasourceVariable(DATASOURCE_VARIABLE).label("Prometheus").type("prometheus"))
        )

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def row(self, title: str) -> None:
        self.dashboard.with_row(builder.Row(title).id(self._id()))

    def timeseries(self, title: str, unit: str, queries: list[prometheus.Dataquery], width: int = 12) -> None:
        panel = timeseries.Panel().id(self._id()).title(title).datasource(DATASOURCE).unit(unit).span(width).height(8)
        for target in queries:
            panel.with_target(target)
        self.dashboard.with_panel(panel)

    def stat(self, title: str, unit: str, expr: str, width: int = 6) -> None:
        panel = stat.Panel().id(self._id()).title(title).datasource(DATASOURCE).unit(unit).span(width).height(4)
        self.dashboard.with_panel(panel.with_target(query(expr).instant()))

    def build(self) -> model.Dashboard:
        return self.dashboard.build()


def to_json(dashboard: model.Dashboard) -> str:
    """The dashboard JSON Grafana stores (grafana.oss.Dashboard config_json), stable across runs."""
    return json.dumps(dashboard, cls=JSONEncoder, sort_keys=True)
