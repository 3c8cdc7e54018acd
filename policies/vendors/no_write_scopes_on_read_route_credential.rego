package opshub

import rego.v1

# METADATA
# title: No write scopes on a vendor key only read routes use
# description: >-
#   The backend uses some vendor keys for read routes only (the model's
#   read_route_secrets). Such a key needs no power to change anything at the
#   vendor; a writing key type, role or grant in its vendor_scopes tags (or no
#   scopes at all) lets a leaked key do what no route needs. Writing scopes are
#   those the vendor's vocabulary marks as writing (infra/model/vendor_scopes.py).
# custom:
#   id: OPS-VEND-001
#   severity: high
#   remediation: >-
#     Declare the key's read-only form in the access model's vendor_scopes and create it that way
#     at the vendor (e.g. a Plausible Stats API key), or add the writing route that needs the power.
deny_write_scopes_on_read_route_credential contains msg if {
	some scope in read_route_credential_write_scopes
	msg := concat("", [label(input), " (", read_route_credential_key, ") is used only by read routes but declares ", scope, " at the vendor"])
}

deny_write_scopes_on_read_route_credential contains msg if {
	read_route_credential_key
	not secret_scope_tags["vendor-key-type"]
	msg := concat("", [label(input), " (", read_route_credential_key, ") is used only by read routes but declares no vendor scopes"])
}

# The model key of the secret under evaluation, when only read routes use it.
read_route_credential_key := key if {
	input.__type == secret_type
	key := secret_model_key(input)
	key in model.read_route_secrets
}

read_route_credential_vocabulary := model.vendor_scopes[model.secrets[read_route_credential_key].vendor]

secret_scope_tags := tags if {
	tags := prop(input, "tags", {})
	is_object(tags)
} else := {}

read_route_credential_write_scopes contains concat(" ", ["key type", value]) if {
	value := secret_scope_tags["vendor-key-type"]
	value in read_route_credential_vocabulary.write_key_types
}

read_route_credential_write_scopes contains concat(" ", ["role", value]) if {
	value := secret_scope_tags["vendor-role"]
	value in read_route_credential_vocabulary.write_roles
}

# Grants sit space-separated in vendor-grants, vendor-grants-2, ... (AWS caps a tag value at 256 characters).
read_route_credential_write_scopes contains concat(" ", ["grant", grant]) if {
	pattern := read_route_credential_vocabulary.write_grant_pattern
	is_string(pattern)
	some tag, value in secret_scope_tags
	startswith(tag, "vendor-grants")
	some grant in split(value, " ")
	regex.match(pattern, grant)
}
