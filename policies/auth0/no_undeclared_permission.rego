package opshub

import rego.v1

# METADATA
# title: No wildcard or undeclared Auth0 permission
# description: >-
#   Every permission the ops API declares, a role holds or a client is granted must be
#   one the access model declares; a wildcard (or allowAllScopes) grants what nobody reviewed.
# custom:
#   id: OPS-AUTH-001
#   severity: high
#   remediation: >-
#     Declare the permission in infra/model/access.yaml (and regenerate), or remove it;
#     replace wildcards with the explicit permissions.
deny_undeclared_permission contains msg if {
	some name in auth0_permission_names
	contains(name, "*")
	msg := concat("", [label(input), " grants the wildcard permission '", name, "'"])
}

deny_undeclared_permission contains msg if {
	some name in auth0_permission_names
	not contains(name, "*")
	not model.permissions[name]
	msg := concat("", [label(input), " names permission '", name, "', which the access model does not declare"])
}

deny_undeclared_permission contains msg if {
	input.__type == "auth0:index/clientGrant:ClientGrant"
	prop(input, "allowAllScopes", false) == true
	msg := concat("", [label(input), " grants all scopes of '", prop(input, "audience", ""), "' (allowAllScopes)"])
}

# Client grants may carry Management API scopes; only wildcards are checked on them.
auth0_permission_names contains s.name if {
	input.__type == "auth0:index/resourceServerScopes:ResourceServerScopes"
	some s in prop(input, "scopes", [])
}

auth0_permission_names contains prop(input, "scope", "") if input.__type == "auth0:index/resourceServerScope:ResourceServerScope"

auth0_permission_names contains p.name if {
	input.__type == "auth0:index/rolePermissions:RolePermissions"
	some p in prop(input, "permissions", [])
}

auth0_permission_names contains prop(input, "permission", "") if input.__type == "auth0:index/rolePermission:RolePermission"

auth0_permission_names contains scope if {
	input.__type == "auth0:index/clientGrant:ClientGrant"
	some scope in prop(input, "scopes", [])
	contains(scope, "*")
}
