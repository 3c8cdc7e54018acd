"""The alert routing tree, from the on-call roster: one tree, rendered twice.

Pure functions, no Pulumi. `routing_tree` is the single source: the Grafana
NotificationPolicy (infra/components/observability.py) and the Alertmanager
rendering (alerts/generated/alertmanager.yaml) both translate it, and
docs/alert-routing.md lists where every SLO alert lands.

- severity=page and team=T -> T's PagerDuty service (high urgency);
- severity=ticket -> Slack, muted in maintenance windows;
- anything else -> the default receiver: the default team's PagerDuty service
  at low urgency plus Slack, so an unrouted alert is still seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.derive.slo import AlertRule
from infra.model.observability import OnCallSpec

SLACK_TICKETS = "slack-tickets"
DEFAULT_RECEIVER = "unrouted"
GROUP_BY = ("alertname", "slo", "service")
GROUP_WAIT = "30s"
GROUP_INTERVAL = "5m"
REPEAT_INTERVAL = "4h"
# PagerDuty event severities: with severity-based urgency, critical is high urgency, warning low.
PAGE_SEVERITY = "critical"
UNROUTED_SEVERITY = "warning"
# PagerDuty escalation: primary, then secondary after this delay, the whole policy looped.
ESCALATION_DELAY_MINUTES = 15
ESCALATION_LOOPS = 2
# PagerDuty never auto-resolves an Ops Hub incident: Grafana resolves it, or a person does.
AUTO_RESOLVE_TIMEOUT = "null"
# Where Alertmanager reads its secrets; the files are provisioned beside it, never committed.
SECRETS_DIR = "/etc/alertmanager/secrets"


@dataclass(frozen=True)
class Receiver:
    """A named receiver: a PagerDuty service (by team) and/or Slack."""

    name: str
    pagerduty_team: str | None
    pagerduty_severity: str | None
    slack: bool


@dataclass(frozen=True)
class Route:
    matchers: tuple[tuple[str, str], ...]
    receiver: str
    mute_timings: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(label) == value for label, value in self.matchers)


@dataclass(frozen=True)
class RoutingTree:
    default_receiver: str
    routes: tuple[Route, ...]
    receivers: tuple[Receiver, ...]

    def receiver_for(self, labels: dict[str, str]) -> str:
        """The first matching route's receiver, else the default (Alertmanager's `continue: false`)."""
        return next((r.receiver for r in self.routes if r.matches(labels)), self.default_receiver)


def pagerduty_receiver(team: str) -> str:
    return f"pagerduty-{team}"


def routing_tree(oncall: OnCallSpec) -> RoutingTree:
    windows = tuple(w.name for w in oncall.maintenance_windows)
    routes = tuple(
        Route(matchers=(("severity", "page"), ("team", t.name)), receiver=pagerduty_receiver(t.name))
        for t in oncall.teams
    ) + (Route(matchers=(("severity", "ticket"),), receiver=SLACK_TICKETS, mute_timings=windows),)
    receivers = tuple(
        Receiver(pagerduty_receiver(t.name), pagerduty_team=t.name, pagerduty_severity=PAGE_SEVERITY, slack=False)
        for t in oncall.teams
    ) + (
        Receiver(SLACK_TICKETS, pagerduty_team=None, pagerduty_severity=None, slack=True),
        Receiver(DEFAULT_RECEIVER, pagerduty_team=oncall.default_team, pagerduty_severity=UNROUTED_SEVERITY, slack=True),
    )
    return RoutingTree(default_receiver=DEFAULT_RECEIVER, routes=routes, receivers=receivers)


def _alertmanager_receiver(receiver: Receiver, slack_channel: str) -> dict:
    rendered: dict = {"name": receiver.name}
    if receiver.pagerduty_team is not None:
        rendered["pagerduty_configs"] = [
            {
                "routing_key_file": f"{SECRETS_DIR}/pagerduty-{receiver.pagerduty_team}",
                "severity": receiver.pagerduty_severity,
                "send_resolved": True,
            }
        ]
    if receiver.slack:
        rendered["slack_configs"] = [
            {"api_url_file": f"{SECRETS_DIR}/slack-webhook-url", "channel": slack_channel, "send_resolved": True}
        ]
    return rendered


def _alertmanager_route(route: Route) -> dict:
    rendered: dict = {"receiver": route.receiver, "matchers": [f'{k}="{v}"' for k, v in route.matchers]}
    if route.mute_timings:
        rendered["mute_time_intervals"] = list(route.mute_timings)
    return rendered


def alertmanager_config(tree: RoutingTree, oncall: OnCallSpec, slack_channel: str) -> dict:
    """The routing tree as an Alertmanager 0.25 configuration."""
    return {
        "route": {
            "receiver": tree.default_receiver,
            "group_by": list(GROUP_BY),
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT_INTERVAL,
            "routes": [_alertmanager_route(r) for r in tree.routes],
        },
        "time_intervals": [
            {
                "name": w.name,
                "time_intervals": [
                    {
                        "weekdays": list(w.weekdays),
                        "times": [{"start_time": w.start, "end_time": w.end}],
                        "location": w.location,
                    }
                ],
            }
            for w in oncall.maintenance_windows
        ],
        "receivers": [_alertmanager_receiver(r, slack_channel) for r in tree.receivers],
    }


def routing_doc(tree: RoutingTree, alerts: list[AlertRule], oncall: OnCallSpec) -> str:
    """docs/alert-routing.md (without its generated header)."""
    lines = [
        "# Alert routing",
        "",
        "Every SLO alert, where it lands and what to read first. The rules come from `alerts/slos/`,",
        "the routing from `alerts/oncall.yaml`; the same tree is the Grafana notification policy and",
        "`alerts/generated/alertmanager.yaml`.",
        "",
        "| alert | SLO | severity | receiver | for | runbook | dashboard |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{a.alert}` | `{a.slo}` | {a.severity} | `{tree.receiver_for(a.labels)}` | {a.for_} "
        f"| [runbook]({a.annotations['runbook_url']}) | [dashboard]({a.annotations['dashboard_url']}) |"
        for a in alerts
    ]
    lines += ["", "## Routes (first match wins)", "", "| matchers | receiver | muted during |", "|---|---|---|"]
    lines += [
        f"| {', '.join(f'`{k}={v}`' for k, v in r.matchers)} | `{r.receiver}` | {', '.join(r.mute_timings) or '-'} |"
        for r in tree.routes
    ]
    lines.append(f"| anything else | `{tree.default_receiver}` | - |")
    lines += ["", "## Receivers", "", "| receiver | PagerDuty service | PagerDuty severity | Slack |", "|---|---|---|---|"]
    lines += [
        f"| `{r.name}` | {r.pagerduty_team or '-'} | {r.pagerduty_severity or '-'} | {'yes' if r.slack else '-'} |"
        for r in tree.receivers
    ]
    lines += ["", "## Maintenance windows", ""]
    lines += [
        f"- `{w.name}`: {', '.join(w.weekdays)} {w.start}-{w.end} ({w.location}); tickets are muted, pages are not."
        for w in oncall.maintenance_windows
    ] or ["None."]
    return "\n".join(lines) + "\n"
