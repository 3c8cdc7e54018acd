package opshub

import rego.v1

# METADATA
# title: AWS services act only for this account's own resources
# description: >-
#   A role a service assumes must trust it only with aws:SourceAccount and aws:SourceArn
#   (a Lambda permission with sourceAccount and sourceArn), so the service cannot be made a
#   confused deputy for another account's resource. Other resource policies must pin a
#   service principal by aws:SourceAccount, aws:SourceArn or a KMS encryption context.
# custom:
#   id: OPS-AWS-010
#   severity: high
#   remediation: >-
#     Add aws:SourceAccount and aws:SourceArn conditions (the function, schedule group or task
#     ARNs) to the trust policy, or source_account and source_arn to the Lambda permission.
deny_unpinned_service_principal contains msg if {
	input.__type == "aws:iam/role:Role"
	some s in allow_statements(resource_policy_document(input))
	some service in service_principals(s)
	some key in ["aws:SourceAccount", "aws:SourceArn"]
	not has_condition(s, key)
	msg := concat("", [label(input), " lets ", service, " assume it without ", key])
}

deny_unpinned_service_principal contains msg if {
	input.__type == "aws:lambda/permission:Permission"
	endswith(prop(input, "principal", ""), ".amazonaws.com")
	some key in ["sourceAccount", "sourceArn"]
	prop(input, key, "") == ""
	msg := concat("", [label(input), " lets ", prop(input, "principal", ""), " invoke the function without ", key])
}

deny_unpinned_service_principal contains msg if {
	input.__type != "aws:iam/role:Role"
	some s in allow_statements(resource_policy_document(input))
	some service in service_principals(s)
	not is_service_pinned(s)
	msg := concat("", [label(input), " allows ", service, " without aws:SourceAccount, aws:SourceArn or an encryption context"])
}

is_service_pinned(s) if has_condition(s, "aws:SourceAccount")

is_service_pinned(s) if has_condition(s, "aws:SourceArn")

is_service_pinned(s) if {
	some _, tests in s.Condition
	some key, _ in tests
	startswith(lower(key), "kms:encryptioncontext:")
}
