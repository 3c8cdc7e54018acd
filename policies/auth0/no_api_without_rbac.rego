package opshub

import rego.v1

# METADATA
# title: The API enforces RBAC and puts permissions in the token
# description: >-
#   Without enforcePolicies Auth0 ignores role permissions, and without an *_authz token
#   dialect the /ops backend cannot see them, so every authenticated user gets through.
# custom:
#   id: OPS-AUTH-003
#   severity: critical
#   remediation: Set enforce_policies=True and token_dialect="access_token_authz" on the ResourceServer.
deny_api_without_rbac contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	prop(input, "enforcePolicies", false) != true
	msg := concat("", [label(input), " does not enforce RBAC (enforcePolicies is not true)"])
}

deny_api_without_rbac contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	dialect := prop(input, "tokenDialect", "access_token")
	not dialect in {"access_token_authz", "rfc9068_profile_authz"}
	msg := concat("", [label(input), " puts no permissions in its tokens (tokenDialect '", dialect, "')"])
}
