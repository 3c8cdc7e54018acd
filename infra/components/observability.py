"""Grafana: folders and their permissions, dashboards, SLO alert rules and their routing.

Creates, through the Grafana provider:
- one Grafana team per access-model role that may see Grafana (members come
  from SSO team sync, not from here);
- the dashboards folder and one alert folder per on-call team, each with an
  authoritative FolderPermission from the access model (view -> View,
  edit -> Edit; nobody else, not even the default org roles);
- one Dashboard per module under dashboards/;
- one RuleGroup per SLO, in its team's folder, with the PromQL of
  infra/derive/slo.py (identical to alerts/generated/<slo>.yml);
- contact points for every receiver of the routing tree (PagerDuty per team,
  Slack for tickets, the watched default), with their keys as Pulumi secrets;
- a MuteTiming per maintenance window and the NotificationPolicy (the whole
  tree of the org) from infra/derive/routing.py.
"""

from __future__ import annotations

import json

import pulumi
import pulumiverse_grafana as grafana
from pydantic import BaseModel, ConfigDict

from infra.config import StackConfig
from infra.derive.grafana import FolderGrant
from infra.derive.routing import GROUP_BY, GROUP_INTERVAL, GROUP_WAIT, REPEAT_INTERVAL, Receiver, RoutingTree
from infra.derive.slo import EXEC_ERR_STATE, NO_DATA_STATE, AlertRule, alert_rules
from infra.model.observability import Catalogue, MaintenanceWindow, SloSpec

DASHBOARDS_FOLDER_UID = "opshub-dashboards"
EXPRESSION_DATASOURCE = "__expr__"
EVALUATION_SECONDS = 60
QUERY_RANGE_SECONDS = 600


class ObservabilityArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    catalogue: Catalogue
    routing: RoutingTree
    folder_grants: tuple[FolderGrant, ...]
    dashboards: dict[str, str]  # uid -> dashboard JSON
    dashboard_url: str
    pagerduty_integration_keys: dict[str, pulumi.Output]  # roster team -> Events v2 key (secret)
    slack_webhook_url: pulumi.Output
    provider: grafana.Provider


def team_folder_uid(team: str) -> str:
    return f"opshub-alerts-{team}"


def _rule_data(rule: AlertRule, datasource_uid: str) -> list[grafana.alerting.RuleGroupRuleDataArgs]:
    query = {"refId": "A", "expr": rule.expr, "instant": True, "datasource": {"type": "prometheus", "uid": datasource_uid}}
    # The query only returns burning series; any value they carry (an error ratio > 0) fires.
    threshold = {
        "refId": "B",
        "type": "threshold",
        "expression": "A",
        "conditions": [{"evaluator": {"type": "gt", "params": [0]}}],
        "datasource": {"type": "__expr__", "uid": EXPRESSION_DATASOURCE},
    }
    window = grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(from_=QUERY_RANGE_SECONDS, to=0)
    return [
        grafana.alerting.RuleGroupRuleDataArgs(
            ref_id="A", datasource_uid=datasource_uid, model=json.dumps(query), relative_time_range=window
        ),
        grafana.alerting.RuleGroupRuleDataArgs(
            ref_id="B", datasource_uid=EXPRESSION_DATASOURCE, model=json.dumps(threshold), relative_time_range=window
        ),
    ]


class Observability(pulumi.ComponentResource):
    """Folders, permissions, dashboards, SLO rule groups, contact points, mute timings and the policy."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:observability:Observability", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.teams = {
            g.role: grafana.oss.Team(f"{name}-team-{g.role}", name=g.role, opts=self._child) for g in args.folder_grants
        }
        self.folders = {DASHBOARDS_FOLDER_UID: self._folder(DASHBOARDS_FOLDER_UID, args.config.grafana_folder)}
        for team in args.catalogue.oncall.teams:
            uid = team_folder_uid(team.name)
            self.folders[uid] = self._folder(uid, f"{args.config.grafana_folder} alerts: {team.title}")
        self.folder_permissions = {uid: self._folder_permission(uid, folder) for uid, folder in self.folders.items()}
        self.dashboards = {
            uid: grafana.oss.Dashboard(
                f"{name}-dashboard-{uid}",
                folder=self.folders[DASHBOARDS_FOLDER_UID].uid,
                config_json=config_json,
                overwrite=True,
                opts=self._child,
            )
            for uid, config_json in sorted(args.dashboards.items())
        }
        self.rule_groups = {slo.name: self._rule_group(slo) for slo in args.catalogue.slos}
        self.contact_points = {r.name: self._contact_point(r) for r in args.routing.receivers}
        self.mute_timings = {w.name: self._mute_timing(w) for w in args.catalogue.oncall.maintenance_windows}
        self.notification_policy = self._notification_policy()
        self.register_outputs(
            {
                "folders": {uid: f.uid for uid, f in self.folders.items()},
                "dashboards": {uid: d.id for uid, d in self.dashboards.items()},
                "contact_points": {n: c.name for n, c in self.contact_points.items()},
            }
        )

    def _folder(self, uid: str, title: str) -> grafana.oss.Folder:
        return grafana.oss.Folder(f"{self._name}-folder-{uid}", uid=uid, title=title, opts=self._child)

    def _folder_permission(self, uid: str, folder: grafana.oss.Folder) -> grafana.oss.FolderPermission:
        return grafana.oss.FolderPermission(
            f"{self._name}-folder-{uid}-permissions",
            folder_uid=folder.uid,
            permissions=[
                grafana.oss.FolderPermissionPermissionArgs(
                    team_id=self.teams[g.role].team_id.apply(str), permission=g.permission
                )
                for g in self._args.folder_grants
            ],
            opts=self._child,
        )

    def _rule_group(self, slo: SloSpec) -> grafana.alerting.RuleGroup:
        args = self._args
        rules = alert_rules(slo, args.catalogue.oncall.runbook_url, args.dashboard_url)
        return grafana.alerting.RuleGroup(
            f"{self._name}-rules-{slo.name}",
            name=f"slo-{slo.name}",
            folder_uid=self.folders[team_folder_uid(slo.team)].uid,
            interval_seconds=EVALUATION_SECONDS,
            rules=[
                grafana.alerting.RuleGroupRuleArgs(
                    name=rule.alert,
                    condition="B",
                    for_=rule.for_,
                    no_data_state=NO_DATA_STATE,
                    exec_err_state=EXEC_ERR_STATE,
                    labels=rule.labels,
                    annotations=rule.annotations,
                    datas=_rule_data(rule, args.config.grafana_prometheus_datasource_uid),
                )
                for rule in rules
            ],
            opts=self._child,
        )

    def _contact_point(self, receiver: Receiver) -> grafana.alerting.ContactPoint:
        args = self._args
        pagerduties = (
            [
                grafana.alerting.ContactPointPagerdutyArgs(
                    integration_key=pulumi.Output.secret(args.pagerduty_integration_keys[receiver.pagerduty_team]),
                    severity=receiver.pagerduty_severity,
                    summary='{{ template "default.title" . }}',
                )
            ]
            if receiver.pagerduty_team is not None
            else None
        )
        slacks = (
            [
                grafana.alerting.ContactPointSlackArgs(
                    url=pulumi.Output.secret(args.slack_webhook_url), recipient=args.config.slack_channel
                )
            ]
            if receiver.slack
            else None
        )
        return grafana.alerting.ContactPoint(
            f"{self._name}-contact-{receiver.name}",
            name=receiver.name,
            pagerduties=pagerduties,
            slacks=slacks,
            opts=self._child,
        )

    def _mute_timing(self, window: MaintenanceWindow) -> grafana.alerting.MuteTiming:
        return grafana.alerting.MuteTiming(
            f"{self._name}-mute-{window.name}",
            name=window.name,
            intervals=[
                grafana.alerting.MuteTimingIntervalArgs(
                    weekdays=list(window.weekdays),
                    times=[grafana.alerting.MuteTimingIntervalTimeArgs(start=window.start, end=window.end)],
                    location=window.location,
                )
            ],
            opts=self._child,
        )

    def _notification_policy(self) -> grafana.alerting.NotificationPolicy:
        tree = self._args.routing
        return grafana.alerting.NotificationPolicy(
            f"{self._name}-notification-policy",
            contact_point=self.contact_points[tree.default_receiver].name,
            group_bies=list(GROUP_BY),
            group_wait=GROUP_WAIT,
            group_interval=GROUP_INTERVAL,
            repeat_interval=REPEAT_INTERVAL,
            policies=[
                grafana.alerting.NotificationPolicyPolicyArgs(
                    contact_point=self.contact_points[route.receiver].name,
                    matchers=[
                        grafana.alerting.NotificationPolicyPolicyMatcherArgs(label=label, match="=", value=value)
                        for label, value in route.matchers
                    ],
                    mute_timings=[self.mute_timings[m].name for m in route.mute_timings] or None,
                )
                for route in tree.routes
            ],
            opts=self._child,
        )
