package opshub

import rego.v1

# METADATA
# title: Resources use the stack's explicit providers
# description: >-
#   A resource on a default provider takes its account, region, credentials and default
#   tags from the ambient environment instead of the reviewed provider settings
#   (infra/components/providers.py), so it can land in the wrong account untagged.
# custom:
#   id: OPS-XC-003
#   severity: medium
#   remediation: Pass the matching provider of the Providers component in the resource's ResourceOptions.
deny_default_provider contains msg if {
	startswith(object.get(input.__provider, "name", ""), "default")
	msg := concat("", [label(input), " uses the default provider '", input.__provider.name, "', not an explicit one"])
}
