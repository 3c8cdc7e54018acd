package opshub

import rego.v1

# METADATA
# title: The ops API hands out tokens only through client grants
# description: >-
#   The ops API's subject_type_authorization must require a client grant for users and for
#   machines: with user flows left at allow_all, any application of the tenant can get an
#   ops-API token for a signed-in operator.
# custom:
#   id: OPS-AUTH-021
#   severity: high
#   remediation: Set subject_type_authorization user and client policy to require_client_grant.
deny_user_tokens_without_client_grant contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	some subject in ["user", "client"]
	policy := prop(input, ["subjectTypeAuthorization", subject, "policy"], "allow_all")
	policy != model.auth0.subject_type_policy
	msg := concat("", [label(input), " lets ", subject, " flows get tokens with policy '", policy, "'; required: ", model.auth0.subject_type_policy])
}
