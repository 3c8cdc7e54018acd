package opshub

import rego.v1

# METADATA
# title: Resources use the stack's explicit providers
# description: >-
#   A resource on a default provider takes its account, region, credentials and default
#   tags from the ambient environment instead of the reviewed provider settings
#   (infra/components/providers.py), so it can land in the wrong account untagged.
#   The one exception is a Python dynamic resource on the default pulumi-python provider:
#   its CRUD code travels pickled in its `__provider` input, the SDK offers no provider
#   resource for that package, and the engine always gives it the default one.
# custom:
#   id: OPS-XC-003
#   severity: medium
#   remediation: Pass the matching provider of the Providers component in the resource's ResourceOptions.
deny_default_provider contains msg if {
	startswith(object.get(input.__provider, "name", ""), "default")
	not is_dynamic_on_its_provider(input)
	msg := concat("", [label(input), " uses the default provider '", input.__provider.name, "', not an explicit one"])
}

# pulumi sdk/python/lib/pulumi/dynamic/dynamic.py: a dynamic Resource registers as
# `pulumi-python:dynamic...` with its provider pickled into `__provider`; the engine
# routes it to the package's default provider (pkg/resource/deploy/source_eval.go).
is_dynamic_on_its_provider(r) if {
	startswith(r.__type, "pulumi-python:dynamic")
	r.__provider.type == "pulumi:providers:pulumi-python"
}
