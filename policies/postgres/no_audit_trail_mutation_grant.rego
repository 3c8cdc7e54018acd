package opshub

import rego.v1

# METADATA
# title: No UPDATE, DELETE or TRUNCATE on ops_audit
# description: >-
#   The audit trail is append-only for everyone, service_role included; a grant of a
#   changing privilege (or ALL) on ops_audit lets its holder rewrite history.
# custom:
#   id: OPS-PG-002
#   severity: critical
#   remediation: Grant only SELECT and INSERT on ops_audit objects; drop UPDATE, DELETE, TRUNCATE and ALL.
deny_audit_trail_mutation_grant contains msg if {
	is_audit_grant(input)
	some privilege in prop(input, "privileges", [])
	upper(privilege) in {"UPDATE", "DELETE", "TRUNCATE", "ALL"}
	msg := concat("", [label(input), " grants ", upper(privilege), " on ops_audit to '", prop(input, "role", ""), "'"])
}

audit_schema := "ops_audit"

grant_types := {"postgresql:index/grant:Grant", "postgresql:index/defaultPrivileges:DefaultPrivileges"}

is_audit_grant(r) if {
	r.__type in grant_types
	prop(r, "schema", "") == audit_schema
}
