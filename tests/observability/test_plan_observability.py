"""What `opshub plan` declares for Grafana and PagerDuty (the offline plan under mocks, no Grafana or PagerDuty reached)."""

from __future__ import annotations

import json

import pytest

from infra.derive.slo import alert_rules
from infra.model.observability import Catalogue
from infra.offline.plan import Plan

RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
MUTE_TIMING = "grafana:alerting/muteTiming:MuteTiming"
FOLDER = "grafana:oss/folder:Folder"
FOLDER_PERMISSION = "grafana:oss/folderPermission:FolderPermission"
TEAM = "grafana:oss/team:Team"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
PD_SCHEDULE = "pagerduty:index/schedule:Schedule"
PD_POLICY = "pagerduty:index/escalationPolicy:EscalationPolicy"
PD_SERVICE = "pagerduty:index/service:Service"
PD_INTEGRATION = "pagerduty:index/serviceIntegration:ServiceIntegration"


def _by_name(plan: Plan, token: str) -> dict[str, dict]:
    return {r["properties"].get("name") or r["name"]: r for r in plan.of_type(token)}


def test_every_grafana_and_pagerduty_resource_uses_its_explicit_provider(prod_plan: Plan) -> None:
    ours = [r for r in prod_plan.resources if r["custom"] and r["type"].split(":")[0] in ("grafana", "pagerduty")]
    assert len(ours) > 20, f"expected the Grafana and PagerDuty declarations, found {len(ours)}"
    for resource in ours:
        package = resource["type"].split(":")[0]
        assert resource["provider"].get("type") == f"pulumi:providers:{package}", f"{resource['name']}: {resource['provider']}"


def test_one_rule_group_per_slo_with_the_derived_promql(prod_plan: Plan, catalogue: Catalogue) -> None:
    groups = {n: g for n, g in _by_name(prod_plan, RULE_GROUP).items() if "opshub:observability:Observability" in g["urn"]}
    assert set(groups) == {f"slo-{s.name}" for s in catalogue.slos}
    for slo in catalogue.slos:
        props = groups[f"slo-{slo.name}"]["properties"]
        assert props["folderUid"] == f"opshub-alerts-{slo.team}", props["folderUid"]
        expected = {a.alert: a for a in alert_rules(slo, catalogue.oncall.runbook_url, "unused")}
        for rule in props["rules"]:
            query = json.loads(next(d for d in rule["datas"] if d["refId"] == "A")["model"])
            assert query["expr"] == expected[rule["name"]].expr, f"{rule['name']}: PromQL differs from the rule file"
            assert rule["labels"] == expected[rule["name"]].labels, rule["name"]
            assert (rule["noDataState"], rule["execErrState"]) == ("OK", "Error"), rule["name"]
            assert rule["condition"] == "B" and rule["for"] == expected[rule["name"]].for_, rule


def test_contact_points_carry_their_keys_as_secrets_and_their_settings_in_plain(prod_plan: Plan) -> None:
    """Only the credential is a secret (the SDK sends the marker where Output.secret sits, and the
    engine keeps it there), so rules can read a page's severity and channel."""
    points = _by_name(prod_plan, CONTACT_POINT)
    assert set(points) == {"pagerduty-ops-hub", "slack-tickets", "unrouted"}
    credential = {"pagerduties": "integrationKey", "slacks": "url"}
    for name, point in points.items():
        expected = sorted(f"{kind}[0].{key}" for kind, key in credential.items() if point["properties"].get(kind))
        assert point["secretProperties"] == expected, f"{name}: secret paths {point['secretProperties']}"
    assert points["pagerduty-ops-hub"]["properties"]["pagerduties"][0]["severity"] == "critical"
    assert points["unrouted"]["properties"]["pagerduties"][0]["severity"] == "warning"


def test_notification_policy_routes_pages_tickets_and_the_rest(prod_plan: Plan) -> None:
    (policy,) = prod_plan.of_type(POLICY)
    props = policy["properties"]
    assert props["contactPoint"] == "unrouted"
    routes = {
        tuple(sorted((m["label"], m["value"]) for m in p["matchers"])): (p["contactPoint"], p.get("muteTimings"))
        for p in props["policies"]
    }
    assert routes[(("severity", "page"), ("team", "ops-hub"))] == ("pagerduty-ops-hub", None)
    assert routes[(("severity", "ticket"),)] == ("slack-tickets", ["weekly-maintenance"])


def test_mute_timing_for_maintenance(prod_plan: Plan) -> None:
    (mute,) = prod_plan.of_type(MUTE_TIMING)
    interval = mute["properties"]["intervals"][0]
    assert interval["weekdays"] == ["tuesday"] and interval["times"] == [{"start": "05:00", "end": "06:00"}]


def test_folders_permit_viewers_view_and_sre_edit_only(prod_plan: Plan, access_model) -> None:
    teams = {r["name"]: r["properties"]["name"] for r in prod_plan.of_type(TEAM)}
    folders = {r["properties"]["uid"] for r in prod_plan.of_type(FOLDER)}
    assert folders == {"opshub-dashboards", "opshub-alerts-ops-hub"}
    permissions = {r["properties"]["folderUid"]: r["properties"]["permissions"] for r in prod_plan.of_type(FOLDER_PERMISSION)}
    assert set(permissions) == folders, "every folder needs its permissions"
    for uid, grants in permissions.items():
        by_role = {teams[g["teamId"].removesuffix("-teamId")]: g["permission"] for g in grants}
        assert by_role == {"ops-viewer": "View", "ops-sre": "Edit", "ops-admin": "View"}, f"{uid}: {by_role}"
        assert all("role" not in g and "userId" not in g for g in grants), f"{uid}: only teams may hold permissions"


def test_dashboards_deploy_into_the_dashboards_folder(prod_plan: Plan) -> None:
    deployed = prod_plan.of_type(DASHBOARD)
    assert len(deployed) == 5, "the four of dashboards/ and Engineering metrics (infra/components/metrics.py)"
    for dashboard in deployed:
        assert dashboard["properties"]["folder"] == "opshub-dashboards", dashboard["name"]
        assert json.loads(dashboard["properties"]["configJson"])["uid"].startswith("opshub-")


def test_pagerduty_schedules_escalation_service_and_integration(prod_plan: Plan) -> None:
    schedules = _by_name(prod_plan, PD_SCHEDULE)
    assert set(schedules) == {"Ops Hub primary", "Ops Hub secondary"}
    (policy,) = prod_plan.of_type(PD_POLICY)
    targets = [t["id"] for rule in policy["properties"]["rules"] for t in rule["targets"]]
    assert len(policy["properties"]["rules"]) >= 2, "escalation needs at least two levels"
    assert targets == ["oncall-ops-hub-primary-id", "oncall-ops-hub-secondary-id"], targets
    (service,) = prod_plan.of_type(PD_SERVICE)
    assert service["properties"]["incidentUrgencyRule"] == {"type": "constant", "urgency": "severity_based"}
    (integration,) = prod_plan.of_type(PD_INTEGRATION)
    assert integration["properties"]["type"] == "events_api_v2_inbound_integration"
    assert integration["options"]["additionalSecretOutputs"] == ["integrationKey"]


@pytest.mark.parametrize("role", ["ops-editorial"])
def test_a_role_granted_grafana_edit_in_the_model_gets_edit(plan_model, access_model_data: dict, role: str) -> None:
    data = json.loads(json.dumps(access_model_data))
    next(r for r in data["roles"] if r["name"] == role)["permissions"].append("incidents:ack")
    plan = plan_model(data)
    teams = {r["name"]: r["properties"]["name"] for r in plan.of_type(TEAM)}
    (first, *_) = plan.of_type(FOLDER_PERMISSION)
    by_role = {teams[g["teamId"].removesuffix("-teamId")]: g["permission"] for g in first["properties"]["permissions"]}
    assert by_role.get(role) == "Edit", by_role
