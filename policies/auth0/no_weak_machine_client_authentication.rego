package opshub

import rego.v1

# METADATA
# title: Machine clients authenticate with a key pair
# description: >-
#   Each machine client must declare ClientCredentials with an authentication method the
#   model allows (private_key_jwt): "none" lets anyone who knows the client id get tokens,
#   and a client secret is a bearer credential that can leak. Without ClientCredentials
#   Auth0 keeps its default, a client secret.
# custom:
#   id: OPS-AUTH-013
#   severity: high
#   remediation: Declare ClientCredentials with authentication_method private_key_jwt and the client's public key.
stack_deny_weak_machine_client_authentication contains f.msg if some f in weak_machine_client_authentication

weak_machine_client_authentication contains finding(cred, msg) if {
	some cred in resources_of("auth0:index/clientCredentials:ClientCredentials")
	some client in targets_of(cred, "clientId", auth0_client_type)
	is_machine_client(client)
	method := prop(cred, "authenticationMethod", "client_secret_post")
	not method in model.auth0.machine_auth_methods
	msg := concat("", [
		label(cred), " lets machine client '", prop(client, "name", client.__name), "' authenticate with '",
		method, "'; allowed: ", concat(", ", model.auth0.machine_auth_methods),
	])
}

weak_machine_client_authentication contains finding(client, msg) if {
	some client in auth0_clients
	is_machine_client(client)
	not client.__urn in clients_with_credentials
	msg := concat("", [label(client), " is a machine client without ClientCredentials, so it keeps Auth0's default client secret"])
}

clients_with_credentials := {u |
	some cred in resources_of("auth0:index/clientCredentials:ClientCredentials")
	some client in targets_of(cred, "clientId", auth0_client_type)
	u := client.__urn
}
