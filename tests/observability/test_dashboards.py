"""Dashboards: SDK round trip, unique ids and uids, the datasource variable, known metrics only, valid PromQL."""

from __future__ import annotations

import json
import re

import promql_parser
import pytest
from grafana_foundation_sdk.models.dashboard import Dashboard

import dashboards
from infra.model.observability import Catalogue

# Grafana's macros and variables, replaced by what Grafana would send Prometheus.
MACROS = {"$__rate_interval": "4m", "$__interval": "1m", "$__range": "24h", "${datasource}": "prom", "$datasource": "prom"}


def substitute_macros(expr: str) -> str:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    assert "$" not in expr, f"unsubstituted Grafana macro in {expr!r}"
    return expr


@pytest.fixture(scope="module")
def rendered(catalogue: Catalogue) -> dict[str, dict]:
    return {uid: json.loads(text) for uid, text in dashboards.render_all(catalogue).items()}


def _panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def _selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []
    promql_parser.walk(
        promql_parser.parse(substitute_macros(expr)),
        lambda node: found.append(node) if isinstance(node, promql_parser.VectorSelector) else None,
    )
    return found


def test_one_dashboard_per_module_with_unique_uids(rendered: dict[str, dict]) -> None:
    assert len(rendered) == len(dashboards.MODULES) == 4, sorted(rendered)
    assert sorted(d["uid"] for d in rendered.values()) == sorted(rendered), "module UID and dashboard uid differ"


def test_round_trip_through_the_sdk_models(rendered: dict[str, dict]) -> None:
    for uid, data in rendered.items():
        again = json.loads(json.dumps(Dashboard.from_json(data).to_json(), default=lambda o: o.to_json()))
        assert again == data, f"{uid}: the SDK model does not round-trip"


def test_panel_ids_are_unique(rendered: dict[str, dict]) -> None:
    for uid, data in rendered.items():
        ids = [p["id"] for p in data["panels"]]
        assert all(isinstance(i, int) and i > 0 for i in ids), f"{uid}: panel ids {ids}"
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids {ids}"


def test_every_panel_and_target_uses_the_datasource_variable(rendered: dict[str, dict]) -> None:
    for uid, data in rendered.items():
        variables = {v["name"]: v for v in data["templating"]["list"]}
        assert variables.get("datasource", {}).get("type") == "datasource", f"{uid}: no datasource variable"
        for panel in _panels(data):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, f"{uid}/{panel['title']}"
            assert panel["targets"], f"{uid}/{panel['title']}: no query"
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}", f"{uid}/{panel['title']}: {target}"


def test_every_query_parses_after_macro_substitution(rendered: dict[str, dict]) -> None:
    for uid, data in rendered.items():
        for panel in _panels(data):
            for target in panel["targets"]:
                try:
                    promql_parser.parse(substitute_macros(target["expr"]))
                except ValueError as exc:
                    pytest.fail(f"{uid}/{panel['title']}: {target['expr']!r}: {exc}")


def test_no_panel_queries_an_undefined_metric_or_label(rendered: dict[str, dict], catalogue: Catalogue) -> None:
    for uid, data in rendered.items():
        for panel in _panels(data):
            for target in panel["targets"]:
                for selector in _selectors(target["expr"]):
                    metric = catalogue.metric_by_name.get(selector.name)
                    assert metric is not None, f"{uid}/{panel['title']}: no SLI or exporter defines {selector.name}"
                    used = {m.name for m in selector.matchers.matchers}
                    assert used <= set(metric.labels), f"{uid}/{panel['title']}: {selector} uses undeclared labels"
                grouping = set(re.findall(r"by \(([^)]*)\)", target["expr"]))
                labels = {label for g in grouping for label in g.split(", ")}
                declared = {label for m in catalogue.metrics for label in m.labels}
                assert labels <= declared, f"{uid}/{panel['title']}: groups by undeclared labels {labels - declared}"


def test_slo_dashboard_covers_every_slo(rendered: dict[str, dict], catalogue: Catalogue) -> None:
    rows = [p["title"] for p in rendered[dashboards.slo.UID]["panels"] if p["type"] == "row"]
    for slo in catalogue.slos:
        assert any(r.startswith(slo.title) for r in rows), f"SLO dashboard has no row for {slo.name}: {rows}"


def test_macro_substitution_rejects_unknown_macros() -> None:
    with pytest.raises(AssertionError, match="unsubstituted"):
        substitute_macros("rate(x[$__unknown])")
