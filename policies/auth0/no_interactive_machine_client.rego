package opshub

import rego.v1

# METADATA
# title: Machine clients stay machine clients
# description: >-
#   A client of a model identity (or any non-interactive client) may use only the machine
#   grants the model allows, must be non-interactive, and may have no callbacks, origins,
#   logout URLs or cross-origin authentication: each would let it sign people in.
# custom:
#   id: OPS-AUTH-012
#   severity: high
#   remediation: >-
#     Keep app_type non_interactive and grant_types to client_credentials; remove callbacks,
#     web_origins, allowed_origins, allowed_logout_urls and cross_origin_auth.
deny_interactive_machine_client contains msg if {
	input.__type == auth0_client_type
	is_machine_client(input)
	some grant in prop(input, "grantTypes", [])
	not grant in model.auth0.machine_grant_types
	msg := concat("", [label(input), " is a machine client but allows the grant '", grant, "'"])
}

deny_interactive_machine_client contains msg if {
	input.__type == auth0_client_type
	is_machine_client(input)
	app_type := prop(input, "appType", "")
	app_type != model.auth0.machine_app_type
	msg := concat("", [label(input), " is a machine client but has app type '", app_type, "'"])
}

deny_interactive_machine_client contains msg if {
	input.__type == auth0_client_type
	is_machine_client(input)
	some key in ["callbacks", "webOrigins", "allowedOrigins", "allowedLogoutUrls"]
	count(prop(input, key, [])) > 0
	msg := concat("", [label(input), " is a machine client but has ", key])
}

deny_interactive_machine_client contains msg if {
	input.__type == auth0_client_type
	is_machine_client(input)
	prop(input, "crossOriginAuth", false) == true
	msg := concat("", [label(input), " is a machine client but allows cross-origin authentication"])
}
