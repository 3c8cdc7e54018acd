"""Pure derivations on plain data: folder grants from the access model, the routing tree, SLO expressions."""

from __future__ import annotations

import copy

import pytest

from infra.derive.grafana import FolderGrant, folder_grants
from infra.derive.routing import (
    DEFAULT_RECEIVER,
    ESCALATION_DELAY_MINUTES,
    GROUP_INTERVAL,
    GROUP_WAIT,
    REPEAT_INTERVAL,
    SLACK_TICKETS,
    routing_tree,
)
from infra.derive.slo import ALERT_CLASSES, PAGE_FOR, alert_expr
from infra.errors import ModelError
from infra.model.access import parse_model
from infra.model.observability import OnCallSpec, SloSpec, duration_seconds, load_catalogue


def test_folder_grants_follow_grafana_levels(access_model) -> None:
    grants = folder_grants(access_model)
    assert FolderGrant("ops-viewer", "View") in grants and FolderGrant("ops-sre", "Edit") in grants
    assert not any(g.role in ("ops-payments", "ops-editorial", "ops-auditor") for g in grants), grants


def test_no_grafana_integration_is_a_model_error(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["integrations"] = [i for i in data["integrations"] if i["name"] != "grafana"]
    data["routes"] = [r for r in data["routes"] if r["integration"] != "grafana"]  # else the model itself is refused
    with pytest.raises(ModelError, match="no 'grafana' integration"):
        folder_grants(parse_model(data))


def test_nobody_able_to_edit_grafana_is_a_model_error(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    for role in data["roles"]:
        role["permissions"] = [p for p in role["permissions"] if p != "incidents:ack"]
    with pytest.raises(ModelError, match="no role may edit Grafana"):
        folder_grants(parse_model(data))


def _oncall(teams: list[str]) -> OnCallSpec:
    return OnCallSpec.model_validate(
        {
            "time_zone": "UTC",
            "rotation_start": "2026-01-05T09:00:00+00:00",
            "teams": [{"name": t, "title": t, "primary": ["PAAAAAA"], "secondary": ["PBBBBBB"]} for t in teams],
            "default_team": teams[0],
            "runbook_url": "https://example.invalid/runbook.md",
            "paging_limits": load_catalogue().oncall.paging_limits.model_dump(),
            "maintenance_windows": [{"name": "m", "weekdays": ["monday"], "start": "01:00", "end": "02:00", "location": "UTC"}],
        }
    )


def test_pages_route_to_their_own_team_and_unmatched_to_the_default() -> None:
    tree = routing_tree(_oncall(["alpha", "beta"]))
    assert tree.receiver_for({"severity": "page", "team": "beta"}) == "pagerduty-beta"
    assert tree.receiver_for({"severity": "page", "team": "alpha"}) == "pagerduty-alpha"
    assert tree.receiver_for({"severity": "ticket", "team": "beta"}) == SLACK_TICKETS
    assert tree.receiver_for({"severity": "page"}) == DEFAULT_RECEIVER
    default = next(r for r in tree.receivers if r.name == DEFAULT_RECEIVER)
    assert default.pagerduty_team == "alpha" and default.slack, default


def _slo(**sli: object) -> SloSpec:
    return SloSpec.model_validate(
        {
            "name": "x", "title": "X", "description": "d", "service": "ops-hub", "team": "ops-hub",
            "objective_percent": 99.9, "period": "30d", "sli": sli, "min_page_rate_per_second": 2,
        }
    )


def test_only_pages_carry_the_low_traffic_guard() -> None:
    slo = _slo(errors='m{code=~"5.."}', total="m")
    page, ticket = (alert_expr(slo, cls) for cls in ALERT_CLASSES)
    assert "sum (rate(m[1h])) >= 2" in page, page
    assert ">= " not in ticket, ticket


def test_thresholds_scale_the_error_budget() -> None:
    slo = _slo(errors='m{code=~"5.."}', total="m")
    page = alert_expr(slo, ALERT_CLASSES[0])
    assert "(14.4 * 0.001)" in page and "(6 * 0.001)" in page, page


def test_derived_paging_values_stay_within_the_catalogue_limits() -> None:
    """The policy pack holds plans to alerts/oncall.yaml paging_limits; the derivation must start inside them."""
    limits = load_catalogue().oncall.paging_limits
    seconds = limits.seconds()
    assert duration_seconds(PAGE_FOR) <= seconds["max_page_for_seconds"]
    assert duration_seconds(GROUP_WAIT) <= seconds["max_group_wait_seconds"]
    assert duration_seconds(GROUP_INTERVAL) <= seconds["max_group_interval_seconds"]
    assert duration_seconds(REPEAT_INTERVAL) <= seconds["max_repeat_interval_seconds"]
    assert ESCALATION_DELAY_MINUTES <= limits.max_escalation_delay_minutes
