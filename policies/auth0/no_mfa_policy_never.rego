package opshub

import rego.v1

# METADATA
# title: The MFA policy is not "never"
# description: Every ops operator must use MFA; a Guardian policy of "never" turns it off for the whole tenant.
# custom:
#   id: OPS-AUTH-005
#   severity: critical
#   remediation: Set the Guardian policy to "all-applications" (or "confidence-score").
deny_mfa_policy_never contains msg if {
	input.__type == "auth0:index/guardian:Guardian"
	policy := prop(input, "policy", "never")
	policy == "never"
	msg := concat("", [label(input), " sets the MFA policy to 'never'"])
}
