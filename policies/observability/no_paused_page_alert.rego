package opshub

import rego.v1

# METADATA
# title: Page alerts are not paused
# description: >-
#   A paused alert rule is never evaluated: the SLO can burn through its budget and nobody
#   is paged. Pausing is for a maintenance window's MuteTiming, never for the page rule.
# custom:
#   id: OPS-OBS-008
#   severity: critical
#   remediation: Remove is_paused (or set it false) on the severity=page rule; mute ticket routes in maintenance instead.
deny_paused_page_alert contains msg if {
	some rule in page_alerts(input)
	object.get(rule, "isPaused", false) == true
	msg := concat("", [label(input), ": page alert '", object.get(rule, "name", ""), "' is paused"])
}
