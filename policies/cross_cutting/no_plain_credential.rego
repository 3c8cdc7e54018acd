package opshub

import rego.v1

# METADATA
# title: Credentials are passed as Pulumi secrets
# description: >-
#   A password, token, key, webhook URL or client secret passed in plain text is stored
#   unencrypted in the state and shown in previews; every such property must be a secret.
# custom:
#   id: OPS-XC-001
#   severity: critical
#   remediation: Wrap the value in pulumi.Output.secret (or read it with require_secret) before passing it.
deny_plain_credential contains msg if {
	walk(input.__properties, [path, value])
	is_plain_credential(value) # cheap, and rules out most nodes before the key test
	is_credential_path(path)
	msg := concat("", [label(input), ": property '", concat(".", [format_step(step) | some step in path]), "' holds a credential that is not a Pulumi secret"])
}

is_credential_path(path) if {
	key := path[count(path) - 1]
	is_string(key)
	is_credential_name(key)
}

# An Auth0 Action's secrets are {name, value} pairs (Auth0's only way to pass
# settings too): the value is a credential when the name says so (CLIENT_SECRET).
is_credential_path(path) if {
	count(path) >= 3
	path[count(path) - 3] == "secrets"
	path[count(path) - 1] == "value"
	entry := object.get(input.__properties, array.slice(path, 0, count(path) - 1), {})
	is_credential_name(replace(object.get(entry, "name", ""), "_", ""))
}

# One regular expression, not a loop over suffixes: this rule walks every property of every resource.
is_credential_name(name) if regex.match(credential_key_pattern, lower(name))

credential_key_pattern := `(password|passwd|secret|token|apikey|integrationkey|routingkey|privatekey|secretkey|accesskey|secretstring|webhookurl|credentials|auth)$`

format_step(step) := format_int(step, 10) if is_number(step)

format_step(step) := step if is_string(step)
