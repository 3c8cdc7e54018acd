package opshub

import rego.v1

# METADATA
# title: Each escalation level pages someone new
# description: >-
#   A level whose targets are those of the level before it re-pages the person who already
#   missed the page, so the escalation never reaches anyone else.
# custom:
#   id: OPS-OBS-021
#   severity: high
#   remediation: Point each escalation rule at a different schedule (primary, then secondary).
deny_repeated_escalation_level contains msg if {
	input.__type == escalation_policy_type
	rules := prop(input, "rules", [])
	some i in numbers.range(1, count(rules) - 1)
	targets := level_targets(rules[i])
	count(targets) > 0
	targets == level_targets(rules[i - 1])
	msg := concat("", [label(input), ": level ", format_int(i + 1, 10), " pages the same targets as level ", format_int(i, 10)])
}

# Targets by type and id; ids still unknown in a preview are not compared.
level_targets(rule) := {[object.get(t, "type", ""), t.id] |
	some t in object.get(rule, "targets", [])
	is_string(t.id)
}
