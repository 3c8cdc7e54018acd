"""promql-parser parses every rule expression, from the committed files and as Grafana deploys them."""

from __future__ import annotations

import promql_parser

from infra.derive.slo import alert_rules, recording_rules
from infra.model.observability import Catalogue


def test_every_committed_rule_expression_parses(rule_files: dict[str, dict]) -> None:
    for name, doc in rule_files.items():
        for group in doc["groups"]:
            for rule in group["rules"]:
                label = rule.get("alert") or rule.get("record")
                try:
                    promql_parser.parse(rule["expr"])
                except ValueError as exc:
                    raise AssertionError(f"{name}/{label}: {exc}") from None


def test_grafana_rules_carry_the_committed_promql(rule_files: dict[str, dict], catalogue: Catalogue) -> None:
    """The RuleGroups and the rule files come from one function, so each expression is identical."""
    for slo in catalogue.slos:
        committed = {r["alert"]: r["expr"] for g in rule_files[slo.name]["groups"] for r in g["rules"] if "alert" in r}
        derived = {a.alert: a.expr for a in alert_rules(slo, "https://x.invalid", "https://y.invalid")}
        assert derived == committed, f"{slo.name}: derived PromQL differs from alerts/generated/{slo.name}.yml"


def test_recording_rules_parse_as_ratios(catalogue: Catalogue) -> None:
    for slo in catalogue.slos:
        for rule in recording_rules(slo):
            assert isinstance(promql_parser.parse(rule.expr), (promql_parser.ParenExpr, promql_parser.BinaryExpr)), rule.expr
