package opshub

import rego.v1

# METADATA
# title: People sign in only through the /ops application, with PKCE and exact https URLs
# description: >-
#   Every client that is not a machine client is an application people sign in through. It
#   must be the model's /ops application and use only the grants the model allows (never
#   implicit or password), https callbacks, logout URLs and origins without wildcards, be
#   OIDC conformant without cross-origin authentication, and rotate expiring refresh tokens
#   that never outlive the longest session.
# custom:
#   id: OPS-AUTH-020
#   severity: high
#   remediation: >-
#     Declare only the /ops application (sign_in.application) and take its grants and URLs from
#     the stack config (opshub:opsGrantTypes, opsCallbackUrls, opsLogoutUrls, opsWebOrigins).
stack_deny_weak_ops_application contains f.msg if some f in weak_ops_application

interactive_clients := [c | some c in auth0_clients; not is_machine_client(c)]

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	prop(client, "name", "") != model.auth0.application
	msg := concat("", [label(client), " is an application people could sign in through, but the access model declares only '", model.auth0.application, "'"])
}

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	some grant in prop(client, "grantTypes", [])
	not grant in model.auth0.ops_grant_types
	msg := concat("", [label(client), " allows the grant '", grant, "'; allowed: ", concat(", ", model.auth0.ops_grant_types)])
}

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	some key in ["callbacks", "allowedLogoutUrls", "webOrigins", "allowedOrigins"]
	some url in prop(client, key, [])
	not is_exact_https(url)
	msg := concat("", [label(client), " lists '", url, "' in ", key, "; only exact https URLs are allowed"])
}

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	prop(client, "oidcConformant", false) != true
	msg := concat("", [label(client), " is not OIDC conformant"])
}

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	prop(client, "crossOriginAuth", false) == true
	msg := concat("", [label(client), " allows cross-origin authentication"])
}

weak_ops_application contains finding(client, msg) if {
	some client in interactive_clients
	some problem in refresh_token_problems(prop(client, "refreshToken", {}))
	msg := concat("", [label(client), " ", problem])
}

is_exact_https(url) if {
	startswith(url, "https://")
	not contains(url, "*")
}

refresh_token_problems(token) := {p | some p in [
	rotation_problem(token),
	expiration_problem(token),
	infinite_problem(token),
	lifetime_problem(token),
]; p != ""}

rotation_problem(t) := "issues refresh tokens that do not rotate" if object.get(t, "rotationType", "non-rotating") != "rotating"
else := ""

expiration_problem(t) := "issues refresh tokens that never expire" if object.get(t, "expirationType", "non-expiring") != "expiring"
else := ""

infinite_problem(t) := "issues refresh tokens with an infinite lifetime" if object.get(t, "infiniteTokenLifetime", true) != false
else := ""

# Auth0's default absolute refresh token lifetime is 30 days.
lifetime_problem(t) := "issues refresh tokens that outlive the longest session" if {
	object.get(t, "tokenLifetime", 2592000) > model.auth0.session_max_absolute_hours * 3600
} else := ""
