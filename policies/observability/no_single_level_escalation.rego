package opshub

import rego.v1

# METADATA
# title: Escalation policies have at least two levels
# description: A page that the primary misses must reach someone else; one level means it never escalates.
# custom:
#   id: OPS-OBS-006
#   severity: high
#   remediation: Add a second rule (the secondary schedule) to the pagerduty.EscalationPolicy.
deny_single_level_escalation contains msg if {
	input.__type == "pagerduty:index/escalationPolicy:EscalationPolicy"
	levels := count(prop(input, "rules", []))
	levels < 2
	msg := concat("", [label(input), " has ", format_int(levels, 10), " escalation level(s); at least 2 are required"])
}
