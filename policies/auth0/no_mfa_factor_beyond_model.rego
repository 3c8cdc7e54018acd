package opshub

import rego.v1

# METADATA
# title: No MFA factor the model does not list
# description: >-
#   Guardian may enable only the factors infra/model/access.yaml lists under mfa_factors.
#   SMS and voice (phone), email, push and Duo are phishable or out-of-band; an enabled
#   factor nobody reviewed lets an attacker enrol the weakest one.
# custom:
#   id: OPS-AUTH-009
#   severity: high
#   remediation: Disable the factor on the Guardian, or add it to mfa_factors in the access model after review.
deny_mfa_factor_beyond_model contains msg if {
	input.__type == "auth0:index/guardian:Guardian"
	some factor, key in model.auth0.guardian_properties
	not factor in model.auth0.mfa_factors
	is_factor_enabled(prop(input, key, false))
	msg := concat("", [label(input), " enables the MFA factor '", factor, "', which the access model does not list"])
}

is_factor_enabled(value) if value == true

is_factor_enabled(value) if {
	is_object(value)
	value.enabled == true
}
