package opshub

import rego.v1

# METADATA
# title: Privileged roles require WebAuthn
# description: >-
#   A role holding a privileged permission accepts only phishing-resistant factors, so the
#   tenant must offer WebAuthn (roaming or platform) whenever such a role exists.
# custom:
#   id: OPS-AUTH-006
#   severity: high
#   remediation: Enable webauthn_roaming (and/or webauthn_platform) on the Guardian.
stack_deny_privileged_role_without_webauthn contains f.msg if some f in privileged_role_without_webauthn

privileged_role_without_webauthn contains finding(role, msg) if {
	some role in auth0_roles
	is_privileged_role(prop(role, "name", ""))
	not webauthn_offered
	msg := concat("", ["Auth0 role '", prop(role, "name", ""), "' is privileged but no Guardian enables WebAuthn"])
}

webauthn_offered if {
	some guardian in resources_of("auth0:index/guardian:Guardian")
	some factor in ["webauthnRoaming", "webauthnPlatform"]
	prop(guardian, [factor, "enabled"], false) == true
}
