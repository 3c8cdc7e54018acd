package opshub

import rego.v1

# METADATA
# title: Access tokens live at most one hour
# description: >-
#   A stolen ops token is usable until it expires. Auth0's defaults (24 h, 2 h for web
#   flows) apply when the lifetimes are left unset, so both must be set to at most 3600 s;
#   offline access (refresh tokens) would let a session outlive the limit.
# custom:
#   id: OPS-AUTH-004
#   severity: high
#   remediation: >-
#     Set token_lifetime and token_lifetime_for_web on the ResourceServer to 3600 or less,
#     and allow_offline_access to False.
deny_long_token_lifetime contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	some key, default_seconds in {"tokenLifetime": 86400, "tokenLifetimeForWeb": 7200}
	seconds := prop(input, key, default_seconds)
	seconds > 3600
	msg := concat("", [label(input), " issues tokens valid for ", format_int(seconds, 10), " s (", key, "); at most 3600 s is allowed"])
}

deny_long_token_lifetime contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	prop(input, "allowOfflineAccess", false) == true
	msg := concat("", [label(input), " allows offline access: refresh tokens outlive the one-hour limit"])
}
