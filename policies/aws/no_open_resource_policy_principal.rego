package opshub

import rego.v1

# METADATA
# title: Resource policies open nothing to anyone or to other accounts
# description: >-
#   An Allow in a key, secret, bucket, topic, queue or log resource policy, a role's trust
#   policy or a Lambda permission may name "*" or a principal outside the stack's account
#   only with a condition pinning it to this account (aws:PrincipalAccount,
#   aws:SourceAccount, kms:CallerAccount, or an aws:SourceArn of this account).
# custom:
#   id: OPS-AWS-009
#   severity: critical
#   remediation: Name the account's own principals, or add a condition that pins the statement to the account.
deny_open_resource_policy_principal contains msg if {
	doc := resource_policy_document(input)
	some s in allow_statements(doc)
	some principal in aws_principals(s)
	not is_inside(input, principal, s)
	not is_pinned_to_account(input, s)
	msg := concat("", [label(input), " allows principal '", principal, "' without a condition pinning it to the account"])
}

deny_open_resource_policy_principal contains msg if {
	input.__type == "aws:lambda/permission:Permission"
	principal := prop(input, "principal", "")
	not endswith(principal, ".amazonaws.com")
	not is_inside(input, principal, {})
	not prop(input, "sourceAccount", "") in stack_accounts(input)
	msg := concat("", [label(input), " lets '", principal, "' invoke the function without pinning it to the account"])
}
