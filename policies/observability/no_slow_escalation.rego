package opshub

import rego.v1

# METADATA
# title: Escalation levels wait no longer than the catalogue allows
# description: >-
#   Each level of an escalation policy waits its delay before paging the next; beyond
#   max_escalation_delay_minutes (alerts/oncall.yaml paging_limits) a missed page sits unseen.
# custom:
#   id: OPS-OBS-020
#   severity: high
#   remediation: Set every rule's escalation_delay_in_minutes to at most paging_limits.max_escalation_delay_minutes.
deny_slow_escalation contains msg if {
	input.__type == escalation_policy_type
	some i, rule in prop(input, "rules", [])
	delay := object.get(rule, "escalationDelayInMinutes", 0)
	delay > model.paging.max_escalation_delay_minutes
	msg := concat("", [label(input), ": level ", format_int(i + 1, 10), " waits ", format_int(delay, 10), " minutes, more than ", format_int(model.paging.max_escalation_delay_minutes, 10)])
}
