package opshub

import rego.v1

# METADATA
# title: Tokens are signed asymmetrically (RS256 or PS256)
# description: >-
#   The ops API's tokens and the applications' ID tokens must use an algorithm from the
#   model's list: a shared-secret HS256 key lets anyone holding it mint tokens, and
#   Supabase's third-party auth verifies only asymmetric keys.
# custom:
#   id: OPS-AUTH-011
#   severity: high
#   remediation: Set signing_alg (ResourceServer) or jwt_configuration.alg (Client) to RS256.
deny_weak_signing_algorithm contains msg if {
	input.__type == "auth0:index/resourceServer:ResourceServer"
	alg := prop(input, "signingAlg", "RS256")
	not alg in model.auth0.signing_algorithms
	msg := concat("", [label(input), " signs tokens with ", alg, "; allowed: ", concat(", ", model.auth0.signing_algorithms)])
}

deny_weak_signing_algorithm contains msg if {
	input.__type == auth0_client_type
	alg := prop(input, ["jwtConfiguration", "alg"], "RS256")
	not alg in model.auth0.signing_algorithms
	msg := concat("", [label(input), " signs its tokens with ", alg, "; allowed: ", concat(", ", model.auth0.signing_algorithms)])
}
