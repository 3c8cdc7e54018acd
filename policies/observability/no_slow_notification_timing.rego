package opshub

import rego.v1

# METADATA
# title: Notification timing stays within the catalogue's limits
# description: >-
#   group_wait holds the first page of a group, group_interval holds changes to it, and
#   repeat_interval decides when a page still firing is sent again; beyond the limits in
#   alerts/oncall.yaml (paging_limits) a page waits or is forgotten.
# custom:
#   id: OPS-OBS-016
#   severity: high
#   remediation: Keep group_wait, group_interval and repeat_interval (on the policy and every route) within paging_limits.
deny_slow_notification_timing contains msg if {
	input.__type == notification_policy_type
	some node in array.concat([input.__properties], policy_routes(input))
	some key, limit in notification_timing_limits
	value := object.get(node, key, "")
	is_string(value)
	value != ""
	duration_seconds(value) > limit
	msg := concat("", [label(input), ": ", key, " ", value, " is longer than the limit (", format_int(limit, 10), "s)"])
}

notification_timing_limits := {
	"groupWait": model.paging.max_group_wait_seconds,
	"groupInterval": model.paging.max_group_interval_seconds,
	"repeatInterval": model.paging.max_repeat_interval_seconds,
}
