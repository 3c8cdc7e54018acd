package opshub

import rego.v1

# METADATA
# title: Page routes are never muted
# description: >-
#   A burn fast enough to page during maintenance means the maintenance went wrong; mute and
#   active timings belong on ticket routes only.
# custom:
#   id: OPS-OBS-013
#   severity: critical
#   remediation: Remove mute_timings and active_timings from the severity=page route.
deny_muted_page_route contains msg if {
	input.__type == notification_policy_type
	some route in policy_routes(input)
	is_page_route(route)
	some key in ["muteTimings", "activeTimings"]
	timings := object.get(route, key, [])
	is_array(timings)
	count(timings) > 0
	msg := concat("", [label(input), ": the route to '", object.get(route, "contactPoint", ""), "' takes pages and has ", key, " ", concat(", ", timings)])
}
