package opshub

import rego.v1

# METADATA
# title: Every alert has a severity and a runbook
# description: >-
#   Routing keys on the severity label, and on-call acts on the runbook; an alerting
#   rule without either pages nobody or pages someone who cannot act.
# custom:
#   id: OPS-OBS-001
#   severity: high
#   remediation: Give every alerting rule a severity label (page or ticket) and a runbook_url annotation.
deny_alert_without_severity_or_runbook contains msg if {
	some rule in alert_rules(input)
	some [where, key] in [["labels", "severity"], ["annotations", "runbook_url"]]
	object.get(rule, [where, key], "") == ""
	msg := concat("", [label(input), ": alert '", object.get(rule, "name", ""), "' has no ", key, " ", trim_suffix(where, "s")])
}

# Alerting rules of a RuleGroup; recording rules (`record`) page nobody.
alert_rules(r) := [rule |
	r.__type == "grafana:alerting/ruleGroup:RuleGroup"
	some rule in prop(r, "rules", [])
	object.get(rule, "record", null) == null
]
