package opshub

import rego.v1

# METADATA
# title: Management API grants stay within the model's read-only allowlist
# description: >-
#   A grant on Auth0's Management API may carry only scopes the access model gives the
#   client's identity (management_api_scopes), all read-only. Any create:, update: or
#   delete: scope on users, roles, role members, clients or grants is a path to ops-admin.
# custom:
#   id: OPS-AUTH-014
#   severity: critical
#   remediation: Limit the grant to the identity's management_api_scopes in infra/model/access.yaml.
stack_deny_management_api_write_grant contains f.msg if some f in management_api_write_grant

management_api_write_grant contains finding(grant, msg) if {
	some grant in resources_of("auth0:index/clientGrant:ClientGrant")
	endswith(prop(grant, "audience", ""), "/api/v2/")
	allowed := management_scopes_of(grant)
	some scope in prop(grant, "scopes", [])
	not scope in allowed
	msg := concat("", [label(grant), " grants '", scope, "' on the Management API beyond the model's read-only allowlist"])
}

management_api_write_grant contains finding(grant, msg) if {
	some grant in resources_of("auth0:index/clientGrant:ClientGrant")
	endswith(prop(grant, "audience", ""), "/api/v2/")
	prop(grant, "allowAllScopes", false) == true
	msg := concat("", [label(grant), " grants every Management API scope"])
}

# The identity's read-only scopes (never a writing one, even if the model listed it).
management_scopes_of(grant) := {s |
	some client in targets_of(grant, "clientId", auth0_client_type)
	some s in model.identities[prop(client, "name", "")].management_api_scopes
	startswith(s, "read:")
}
