package opshub

import rego.v1

# METADATA
# title: Paging services page at high urgency
# description: >-
#   A low-urgency incident does not wake anyone (PagerDuty notifies by the low-urgency rules,
#   often only by e-mail); an Ops Hub service must be high urgency or follow the event's
#   severity, which the page contact point sets to critical.
# custom:
#   id: OPS-OBS-017
#   severity: critical
#   remediation: Set incident_urgency_rule to type constant with urgency severity_based (or high), during and outside support hours.
deny_low_urgency_paging_service contains msg if {
	input.__type == pagerduty_service_type
	rule := prop(input, "incidentUrgencyRule", {})
	is_object(rule)
	some where, urgency in service_urgencies(rule)
	not urgency in {"high", "severity_based"}
	msg := concat("", [label(input), ": incident urgency ", where, " is '", urgency, "'"])
}

service_urgencies(rule) := {"always": object.get(rule, "urgency", "high")} if object.get(rule, "type", "constant") == "constant"

service_urgencies(rule) := {
	"during support hours": object.get(rule, ["duringSupportHours", "urgency"], ""),
	"outside support hours": object.get(rule, ["outsideSupportHours", "urgency"], ""),
} if object.get(rule, "type", "constant") == "use_support_hours"
