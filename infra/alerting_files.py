"""The committed alerting artefacts and their generators, registered in infra/generated.py.

- alerts/generated/<slo>.yml: Prometheus recording and alerting rules per SLO;
- alerts/generated/alertmanager.yaml: the routing tree as an Alertmanager config;
- docs/alert-routing.md: every alert with its severity, receiver, runbook and dashboard.

They are rendered for the prod stack (its Grafana URL and Slack channel).
"""

from __future__ import annotations

from collections.abc import Callable

from dashboards import slo as slo_dashboard
from infra.config import StackConfig, load_stack_config, stack_file
from infra.derive.routing import alertmanager_config, routing_doc, routing_tree
from infra.derive.slo import alert_rules, render_yaml, rule_groups
from infra.model.observability import ALERTS_DIR, Catalogue, load_catalogue

GENERATED_DIR = "alerts/generated"
ALERTMANAGER_FILE = f"{GENERATED_DIR}/alertmanager.yaml"
ROUTING_DOC = "docs/alert-routing.md"
STACK = "prod"


def dashboard_url(config: StackConfig) -> str:
    return f"{config.grafana_url}/d/{slo_dashboard.UID}"


def _inputs() -> tuple[Catalogue, StackConfig]:
    return load_catalogue(), load_stack_config(stack_file(STACK))


def rule_file(name: str) -> str:
    catalogue, config = _inputs()
    slo = next(s for s in catalogue.slos if s.name == name)
    document = rule_groups(slo, catalogue.oncall.runbook_url, dashboard_url(config))
    return render_yaml(document, f"alerts/slos/{name}.yaml")


def alertmanager_file() -> str:
    catalogue, config = _inputs()
    document = alertmanager_config(routing_tree(catalogue.oncall), catalogue.oncall, config.slack_channel)
    return render_yaml(document, "alerts/oncall.yaml")


def routing_doc_file() -> str:
    from infra.generated import HEADER  # late: infra.generated registers this module's generators

    catalogue, config = _inputs()
    alerts = [a for s in catalogue.slos for a in alert_rules(s, catalogue.oncall.runbook_url, dashboard_url(config))]
    body = routing_doc(routing_tree(catalogue.oncall), alerts, catalogue.oncall)
    return HEADER.format(source="alerts/slos/ and alerts/oncall.yaml") + body


def generators() -> dict[str, Callable[[], str]]:
    """One generator per committed artefact; SLO files are listed by name only, so a broken spec fails on use."""
    rules = {
        f"{GENERATED_DIR}/{path.stem}.yml": (lambda name=path.stem: rule_file(name))
        for path in sorted((ALERTS_DIR / "slos").glob("*.yaml"))
    }
    return rules | {ALERTMANAGER_FILE: alertmanager_file, ROUTING_DOC: routing_doc_file}
