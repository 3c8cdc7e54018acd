package opshub

import rego.v1

# METADATA
# title: WebAuthn security keys require user verification
# description: >-
#   Where a role accepts only phishing-resistant factors, a security key must also prove the
#   person (PIN or biometric): without user verification a stolen key alone passes MFA.
# custom:
#   id: OPS-AUTH-010
#   severity: high
#   remediation: Set webauthn_roaming.user_verification to "required" on the Guardian.
deny_webauthn_without_user_verification contains msg if {
	input.__type == "auth0:index/guardian:Guardian"
	some role_name, role in model.roles
	role.phishing_resistant_only == true
	roaming := prop(input, "webauthnRoaming", {})
	object.get(roaming, "enabled", false) == true
	object.get(roaming, "userVerification", "preferred") != "required"
	msg := concat("", [
		label(input), " offers security keys without required user verification, yet role '",
		role_name, "' accepts only phishing-resistant factors",
	])
}
