package opshub

import rego.v1

# METADATA
# title: Nothing in ops_audit for anon or PUBLIC
# description: >-
#   Supabase exposes every object granted to anon (or PUBLIC) to unauthenticated
#   requests; the audit trail must not be reachable that way.
# custom:
#   id: OPS-PG-003
#   severity: critical
#   remediation: Remove the grant; grant ops_audit access only to the Ops Hub group roles.
deny_audit_access_for_public_roles contains msg if {
	is_audit_grant(input)
	role := lower(prop(input, "role", ""))
	role in {"anon", "public"}
	privileges := prop(input, "privileges", [])
	count(privileges) > 0 # an empty list is how pulumi-postgresql revokes
	msg := concat("", [label(input), " grants ", concat(", ", privileges), " on ops_audit to '", role, "'"])
}
