"""On-call in PagerDuty, from the roster in alerts/oncall.yaml.

Creates, through the PagerDuty provider:
- one PagerDuty team (the stack's `pagerdutyTeam`) owning everything below;
- per roster team: a primary and a secondary schedule (weekly rotation over the
  listed users), an escalation policy primary -> secondary (two levels, looped
  twice), a service with severity-based urgency (pages are high urgency,
  unrouted alerts low) that never auto-resolves an incident, and an Events API v2 integration whose key is a secret
  output (`additional_secret_outputs`) exposed as `integration_keys[team]`.

PagerDuty users are referenced by id, never created: people join through SSO.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_pagerduty as pagerduty
from pydantic import BaseModel, ConfigDict

from infra.derive.routing import AUTO_RESOLVE_TIMEOUT, ESCALATION_DELAY_MINUTES, ESCALATION_LOOPS
from infra.model.observability import OnCallSpec, TeamSpec

ROTATION_SECONDS = 7 * 24 * 3600
EVENTS_V2 = "events_api_v2_inbound_integration"


class OnCallArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    oncall: OnCallSpec
    pagerduty_team: str
    provider: pagerduty.Provider


@dataclass(frozen=True)
class TeamOnCall:
    """The PagerDuty resources of one roster team."""

    schedules: dict[str, pagerduty.Schedule]
    escalation_policy: pagerduty.EscalationPolicy
    service: pagerduty.Service
    integration: pagerduty.ServiceIntegration


class OnCall(pulumi.ComponentResource):
    """Schedules, escalation policies, services and Events v2 integrations per team."""

    def __init__(self, name: str, args: OnCallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:oncall:OnCall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._name, self._args, self._child = name, args, child
        self.team = pagerduty.Team(
            f"{name}-team", name=args.pagerduty_team, description="Owns the Ops Hub SLO alerts", opts=child
        )
        self.teams = {t.name: self._team(t) for t in args.oncall.teams}
        # Secret in every run: additional_secret_outputs covers the engine; this covers anything reading it.
        self.integration_keys: dict[str, pulumi.Output[str]] = {
            team: pulumi.Output.secret(resources.integration.integration_key) for team, resources in self.teams.items()
        }
        # The default team's key is the one the vendor secret `pagerduty/routing-key` holds.
        self.integration_key = self.integration_keys[args.oncall.default_team]
        self.register_outputs(
            {
                "services": {team: r.service.id for team, r in self.teams.items()},
                "integration_keys": self.integration_keys,
            }
        )

    def _schedule(self, team: TeamSpec, tier: str, users: tuple[str, ...]) -> pagerduty.Schedule:
        start = self._args.oncall.rotation_start.isoformat()
        return pagerduty.Schedule(
            f"{self._name}-{team.name}-{tier}",
            name=f"{team.title} {tier}",
            time_zone=self._args.oncall.time_zone,
            teams=[self.team.id],
            layers=[
                pagerduty.ScheduleLayerArgs(
                    name=f"{team.title} {tier} weekly",
                    start=start,
                    rotation_virtual_start=start,
                    rotation_turn_length_seconds=ROTATION_SECONDS,
                    users=list(users),
                )
            ],
            opts=self._child,
        )

    def _team(self, team: TeamSpec) -> TeamOnCall:
        tiers = (("primary", team.primary), ("secondary", team.secondary))
        schedules = {tier: self._schedule(team, tier, users) for tier, users in tiers}
        policy = pagerduty.EscalationPolicy(
            f"{self._name}-{team.name}-escalation",
            name=f"{team.title} SLO escalation",
            num_loops=ESCALATION_LOOPS,
            teams=self.team.id,
            rules=[
                pagerduty.EscalationPolicyRuleArgs(
                    escalation_delay_in_minutes=ESCALATION_DELAY_MINUTES,
                    targets=[pagerduty.EscalationPolicyRuleTargetArgs(type="schedule_reference", id=schedules[tier].id)],
                )
                for tier in ("primary", "secondary")
            ],
            opts=self._child,
        )
        service = pagerduty.Service(
            f"{self._name}-{team.name}-service",
            name=f"{team.title} SLOs",
            description=f"SLO burn-rate alerts of {team.title}, from Grafana alerting",
            escalation_policy=policy.id,
            auto_resolve_timeout=AUTO_RESOLVE_TIMEOUT,
            # The event's severity decides: critical (pages) is high urgency, warning (unrouted) low.
            incident_urgency_rule=pagerduty.ServiceIncidentUrgencyRuleArgs(type="constant", urgency="severity_based"),
            opts=self._child,
        )
        integration = pagerduty.ServiceIntegration(
            f"{self._name}-{team.name}-events",
            name="Grafana alerting (Events API v2)",
            service=service.id,
            type=EVENTS_V2,
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(additional_secret_outputs=["integrationKey"])
            ),
        )
        return TeamOnCall(schedules, policy, service, integration)
