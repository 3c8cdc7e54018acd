package opshub

import rego.v1

# METADATA
# title: Read-only roles hold no write permission
# description: >-
#   A role the access model marks read_only must not hold a permission that changes state,
#   whatever the Auth0 declarations say.
# custom:
#   id: OPS-AUTH-002
#   severity: high
#   remediation: Remove the writing permission from the role's RolePermissions, or give it to a role that is not read-only.
stack_deny_write_permission_on_read_only_role contains f.msg if some f in write_permission_on_read_only_role

write_permission_on_read_only_role contains {"urn": urn, "msg": msg} if {
	some [urn, role_name, permission] in role_permission_pairs
	is_read_only_role(role_name)
	is_writing_permission(permission)
	msg := concat("", ["Auth0 role '", role_name, "' is read-only but holds the writing permission '", permission, "'"])
}
