package opshub

import rego.v1

# METADATA
# title: Attack protection blocks and notifies
# description: >-
#   Any AttackProtection (declared where the stack owns the tenant, or added by hand) must
#   keep brute-force protection, suspicious IP throttling and breached password detection
#   (at login and at signup) on, each with the shields the model requires: blocking, and
#   notifying the user or the admins.
# custom:
#   id: OPS-AUTH-018
#   severity: high
#   remediation: Declare auth0.AttackProtection as OpsAuth derives it (infra/derive/auth0.py).
stack_deny_weak_attack_protection contains f.msg if some f in weak_attack_protection

attack_protections := resources_of("auth0:index/attackProtection:AttackProtection")

weak_attack_protection contains finding(protection, msg) if {
	some protection in attack_protections
	some key, shields in required_shields
	settings := prop(protection, key, {})
	object.get(settings, "enabled", false) != true
	msg := concat("", [label(protection), " turns off ", key])
}

weak_attack_protection contains finding(protection, msg) if {
	some protection in attack_protections
	some key, shields in required_shields
	settings := prop(protection, key, {})
	missing := {s | some s in shields} - {s | some s in object.get(settings, "shields", [])}
	count(missing) > 0
	msg := concat("", [label(protection), " drops the shields ", concat(", ", sort(missing)), " from ", key])
}

weak_attack_protection contains finding(protection, msg) if {
	some protection in attack_protections
	signup := prop(protection, ["breachedPasswordDetection", "preUserRegistration", "shields"], [])
	missing := {s | some s in model.auth0.breached_password_signup_shields} - {s | some s in signup}
	count(missing) > 0
	msg := concat("", [label(protection), " does not block breached passwords at signup (", concat(", ", sort(missing)), ")"])
}

required_shields := {
	"bruteForceProtection": model.auth0.brute_force_shields,
	"suspiciousIpThrottling": model.auth0.suspicious_ip_shields,
	"breachedPasswordDetection": model.auth0.breached_password_shields,
}
