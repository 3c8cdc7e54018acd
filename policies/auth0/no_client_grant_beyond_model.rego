package opshub

import rego.v1

# METADATA
# title: Client grants are a subset of the model
# description: >-
#   A machine client may hold on the ops API only the permissions the access model gives
#   its identity (matched by the client's name), or, for a client the model does not
#   name, only permissions some identity is given. A user grant (subjectType user), which
#   lets an application get tokens for people, may exist only for the model's /ops
#   application and carry only declared permissions (each user's roles narrow them).
# custom:
#   id: OPS-AUTH-008
#   severity: high
#   remediation: Limit the ClientGrant's scopes to the identity's api_permissions in infra/model/access.yaml.
stack_deny_client_grant_beyond_model contains f.msg if some f in client_grant_beyond_model

client_grant_beyond_model contains finding(grant, msg) if {
	some grant in resources_of("auth0:index/clientGrant:ClientGrant")
	prop(grant, "audience", "") in ops_api_identifiers
	allowed := allowed_client_scopes(grant)
	some scope in prop(grant, "scopes", [])
	not scope in allowed
	msg := concat("", [label(grant), " grants '", scope, "' on the ops API beyond what the access model gives the client"])
}

ops_api_identifiers := {prop(api, "identifier", "") | some api in resources_of("auth0:index/resourceServer:ResourceServer")}

allowed_client_scopes(grant) := declared_permissions if {
	is_user_grant(grant)
	client_name(grant) == model.auth0.application
} else := set() if {
	is_user_grant(grant)
} else := permissions if {
	identity := model.identities[client_name(grant)]
	permissions := {p | some p in identity.api_permissions}
} else := {p | some identity in model.identities; some p in identity.api_permissions}

is_user_grant(grant) if prop(grant, "subjectType", "client") == "user"

client_name(grant) := name if {
	some client in targets_of(grant, "clientId", "auth0:index/client:Client")
	name := prop(client, "name", "")
}

declared_permissions := {name | model.permissions[name]}
