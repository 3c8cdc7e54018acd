package opshub

import rego.v1

# METADATA
# title: Secret recovery window of at least 7 days
# description: A deleted secret can be restored during its recovery window; 0 deletes it at once, with no way back.
# custom:
#   id: OPS-AWS-007
#   severity: medium
#   remediation: Set recovery_window_in_days to 7 or more (the default is 30).
deny_short_recovery_window contains msg if {
	input.__type == "aws:secretsmanager/secret:Secret"
	days := prop(input, "recoveryWindowInDays", 30)
	days < 7
	msg := concat("", [label(input), " has a recovery window of ", format_int(days, 10), " days; at least 7 are required"])
}
