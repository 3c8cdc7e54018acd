package opshub

import rego.v1

# METADATA
# title: No database role with SUPERUSER, CREATEROLE or BYPASSRLS
# description: >-
#   Each of these attributes defeats row-level security and the append-only audit trail:
#   a superuser or BYPASSRLS role skips policies, and CREATEROLE can mint such a role.
# custom:
#   id: OPS-PG-001
#   severity: critical
#   remediation: Remove superuser, create_role and bypass_row_level_security from the postgresql.Role.
deny_privileged_database_role contains msg if {
	input.__type == "postgresql:index/role:Role"
	some attribute in ["superuser", "createRole", "bypassRowLevelSecurity"]
	prop(input, attribute, false) == true
	msg := concat("", [label(input), " (database role '", prop(input, "name", input.__name), "') has ", attribute])
}
