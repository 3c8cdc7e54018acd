package opshub

import rego.v1

# METADATA
# title: Incidents do not auto-resolve before the escalation has run
# description: >-
#   A service's auto_resolve_timeout closes an open incident after that many seconds; shorter
#   than the escalation (every level's delay, looped) and an unanswered page resolves itself
#   before the last person is paged.
# custom:
#   id: OPS-OBS-019
#   severity: high
#   remediation: Set auto_resolve_timeout to "null" (never) or to more than the escalation policy's total time.
stack_deny_auto_resolve_before_escalation contains f.msg if some f in auto_resolve_before_escalation

auto_resolve_before_escalation contains finding(service, msg) if {
	some service in resources_of(pagerduty_service_type)
	timeout := auto_resolve_seconds(prop(service, "autoResolveTimeout", ""))
	some policy in targets_of(service, "escalationPolicy", escalation_policy_type)
	total := escalation_seconds(policy)
	timeout < total
	msg := concat("", [label(service), " auto-resolves after ", format_int(timeout, 10), "s, before its escalation has run (", format_int(total, 10), "s)"])
}

# "null" disables auto-resolution; unset, PagerDuty's default of 4 hours applies
# (pulumi-pagerduty Service auto_resolve_timeout).
auto_resolve_seconds(value) := 14400 if value == ""

auto_resolve_seconds(value) := to_number(value) if {
	is_string(value)
	value != ""
	value != "null"
}

escalation_seconds(policy) := total if {
	delays := [object.get(rule, "escalationDelayInMinutes", 0) | some rule in prop(policy, "rules", [])]
	total := (sum(delays) * 60) * (1 + prop(policy, "numLoops", 0))
}
