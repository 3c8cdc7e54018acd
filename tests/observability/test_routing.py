"""The routing tree: rendered for Alertmanager and checked by the real amtool; the generated routing doc."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml

from infra.alerting_files import ALERTMANAGER_FILE, ROUTING_DOC
from infra.config import REPO_ROOT
from infra.derive.routing import DEFAULT_RECEIVER, SLACK_TICKETS, pagerduty_receiver, routing_tree
from infra.model.observability import Catalogue

CONFIG = REPO_ROOT / ALERTMANAGER_FILE


@dataclass(frozen=True)
class RouteCase:
    test_id: str
    labels: dict[str, str]
    receiver: str


def route_cases(catalogue: Catalogue) -> list[RouteCase]:
    """Every severity for every team, plus what must fall through to the default receiver."""
    cases = []
    for team in catalogue.oncall.teams:
        cases.append(RouteCase(f"page-{team.name}", {"severity": "page", "team": team.name}, pagerduty_receiver(team.name)))
        cases.append(RouteCase(f"ticket-{team.name}", {"severity": "ticket", "team": team.name}, SLACK_TICKETS))
        cases.append(RouteCase(f"info-{team.name}", {"severity": "info", "team": team.name}, DEFAULT_RECEIVER))
    cases += [
        RouteCase("page-unknown-team", {"severity": "page", "team": "nobody"}, DEFAULT_RECEIVER),
        RouteCase("ticket-unknown-team", {"severity": "ticket", "team": "nobody"}, SLACK_TICKETS),
        RouteCase("no-labels", {"alertname": "Watchdog"}, DEFAULT_RECEIVER),
    ]
    return cases


def test_amtool_check_config(amtool) -> None:
    result = amtool("check-config", CONFIG)
    assert result.returncode == 0, f"amtool check-config:\n{result.stdout}{result.stderr}"


def test_amtool_routes_land_where_they_should(amtool, catalogue: Catalogue) -> None:
    for case in route_cases(catalogue):
        labels = [f"{k}={v}" for k, v in case.labels.items()]
        result = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={case.receiver}", *labels)
        assert result.returncode == 0, f"{case.test_id}: {case.labels} should reach {case.receiver}: {result.stdout}{result.stderr}"


def test_amtool_verify_fails_on_a_wrong_receiver(amtool) -> None:
    """The route test can fail: a page must not land on Slack."""
    result = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={SLACK_TICKETS}", "severity=page", "team=ops-hub")
    assert result.returncode != 0, "amtool accepted a page routed to Slack"


def test_python_tree_agrees_with_amtool_cases(catalogue: Catalogue) -> None:
    tree = routing_tree(catalogue.oncall)
    for case in route_cases(catalogue):
        assert tree.receiver_for(case.labels) == case.receiver, case.test_id


def test_default_receiver_has_a_real_notifier() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert set(config) >= {"route", "receivers"}
    default = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])
    assert default.get("pagerduty_configs") and default.get("slack_configs"), f"default receiver is not watched: {default}"


def test_committed_alertmanager_config_holds_no_secret() -> None:
    text = CONFIG.read_text()
    assert "routing_key:" not in text and "api_url:" not in text, "secrets must be read from *_file paths"


def test_tickets_are_muted_in_maintenance_and_pages_are_not(catalogue: Catalogue) -> None:
    tree = routing_tree(catalogue.oncall)
    windows = {w.name for w in catalogue.oncall.maintenance_windows}
    for route in tree.routes:
        muted = set(route.mute_timings)
        expected = windows if ("severity", "ticket") in route.matchers else set()
        assert muted == expected, f"{route.receiver}: muted during {muted}"


@pytest.fixture(scope="module")
def routing_doc() -> str:
    return (REPO_ROOT / ROUTING_DOC).read_text()


def test_routing_doc_lists_every_alert_with_receiver_runbook_and_dashboard(routing_doc: str, alerting_rules: list[dict], catalogue: Catalogue) -> None:
    tree = routing_tree(catalogue.oncall)
    rows = {line.split("|")[1].strip(" `"): line for line in routing_doc.splitlines() if line.startswith("| `")}
    for rule in alerting_rules:
        row = rows.get(rule["alert"])
        assert row is not None, f"{rule['alert']} is missing from {ROUTING_DOC}"
        assert f"| {rule['labels']['severity']} |" in row, row
        assert f"`{tree.receiver_for(rule['labels'])}`" in row, row
        assert rule["annotations"]["runbook_url"] in row and rule["annotations"]["dashboard_url"] in row, row
