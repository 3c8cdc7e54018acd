package opshub

import rego.v1

# METADATA
# title: Rotation at most every 30 days for database credentials, 90 otherwise
# description: >-
#   Database login credentials rotate automatically and cheaply, so at most 30 days;
#   vendor keys rotated by hand at most every 90 days. The limit follows the access
#   model's secret (database_user set means a database credential).
# custom:
#   id: OPS-AWS-006
#   severity: medium
#   remediation: Lower rotation_rules.automatically_after_days (or the reminder's rate) to the limit.
stack_deny_long_rotation_period contains f.msg if some f in long_rotation_period

long_rotation_period contains finding(rotation, msg) if {
	some rotation in secret_rotations
	some secret in targets_of(rotation, "secretId", secret_type)
	days := rotation_period_days(rotation)
	limit := rotation_limit(secret)
	days > limit
	msg := concat("", ["secret '", prop(secret, "name", secret.__name), "' rotates every ", format_int(days, 10), " days; at most ", format_int(limit, 10), " are allowed"])
}

long_rotation_period contains finding(reminder, msg) if {
	some reminder in resources_of("aws:scheduler/schedule:Schedule")
	some urn in object.get(reminder, "dependencies", [])
	secret := resources_by_urn[urn]
	secret.__type == secret_type
	days := rate_days(prop(reminder, "scheduleExpression", ""))
	limit := rotation_limit(secret)
	days > limit
	msg := concat("", ["the reminder for secret '", prop(secret, "name", secret.__name), "' fires every ", format_int(days, 10), " days; at most ", format_int(limit, 10), " are allowed"])
}

# One period per rotation (OPA refuses a function with two different values).
rotation_period_days(rotation) := days if {
	days := prop(rotation, ["rotationRules", "automaticallyAfterDays"], 0)
	days > 0
} else := rate_days(prop(rotation, ["rotationRules", "scheduleExpression"], ""))
