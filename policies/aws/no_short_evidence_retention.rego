package opshub

import rego.v1

# METADATA
# title: Sign-in evidence is encrypted and kept at least a year
# description: >-
#   A log group that an EventBridge rule fills (the Auth0 log stream's evidence) must be
#   encrypted with a customer key and kept at least the model's evidence retention; the
#   monthly access review and any investigation read it.
# custom:
#   id: OPS-AWS-017
#   severity: medium
#   remediation: Set kms_key_id and retention_in_days (at least the model's evidence retention) on the log group.
stack_deny_short_evidence_retention contains f.msg if some f in short_evidence_retention

evidence_log_groups := [g |
	some target in resources_of("aws:cloudwatch/eventTarget:EventTarget")
	some g in targets_of(target, "arn", "aws:cloudwatch/logGroup:LogGroup")
]

short_evidence_retention contains finding(group, msg) if {
	some group in evidence_log_groups
	days := prop(group, "retentionInDays", 0)
	days > 0
	days < model.aws.evidence_retention_days
	msg := concat("", [label(group), " keeps sign-in evidence ", format_int(days, 10), " days; at least ", format_int(model.aws.evidence_retention_days, 10), " are required"])
}

short_evidence_retention contains finding(group, msg) if {
	some group in evidence_log_groups
	prop(group, "kmsKeyId", "") == ""
	msg := concat("", [label(group), " keeps sign-in evidence without a customer-managed key"])
}
