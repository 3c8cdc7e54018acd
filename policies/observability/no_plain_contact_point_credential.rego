package opshub

import rego.v1

# METADATA
# title: Contact-point credentials are secrets
# description: >-
#   PagerDuty integration keys, Slack webhook URLs and tokens, and webhook passwords let
#   anyone who reads the state page or post as the Ops Hub; they must be Pulumi secrets.
# custom:
#   id: OPS-OBS-005
#   severity: high
#   remediation: Pass the value as a Pulumi secret (pulumi.Output.secret or a secret config/Secrets Manager value).
deny_plain_contact_point_credential contains msg if {
	input.__type == "grafana:alerting/contactPoint:ContactPoint"
	some integration, keys in contact_point_credentials
	entries := prop(input, integration, [])
	is_array(entries) # a whole list passed as a secret is fine
	some i, entry in entries
	some key in keys
	is_plain_credential(object.get(entry, key, ""))
	msg := concat("", [label(input), ": ", integration, "[", format_int(i, 10), "].", key, " is not a Pulumi secret"])
}

contact_point_credentials := {
	"pagerduties": ["integrationKey"],
	"slacks": ["url", "token"],
	"webhooks": ["basicAuthPassword", "authorizationCredentials"],
	"opsgenies": ["apiKey"],
	"teams": ["url"],
	"discords": ["url"],
	"googlechats": ["url"],
	"telegrams": ["token"],
	"victorops": ["url"],
	"oncalls": ["basicAuthPassword", "authorizationCredentials"],
}
