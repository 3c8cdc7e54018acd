package opshub

import rego.v1

# METADATA
# title: Login roles have a connection limit
# description: >-
#   A leaked or looping login user without a limit can exhaust Supabase's connection
#   slots and take the Ops Hub (and its audit writes) down.
# custom:
#   id: OPS-PG-004
#   severity: medium
#   remediation: Set connection_limit to a positive number on every postgresql.Role with login=True.
deny_login_role_without_connection_limit contains msg if {
	input.__type == "postgresql:index/role:Role"
	prop(input, "login", false) == true
	limit := prop(input, "connectionLimit", -1)
	limit < 1
	msg := concat("", [label(input), " (database role '", prop(input, "name", input.__name), "') can log in without a connection limit"])
}
