package opshub

import rego.v1

# METADATA
# title: No broad AWS-managed policy on any role
# description: >-
#   AdministratorAccess, PowerUserAccess, IAMFullAccess and every *FullAccess policy grant
#   far more than any Ops Hub identity needs, and change with AWS's releases, not ours.
# custom:
#   id: OPS-AWS-012
#   severity: critical
#   remediation: Replace the attachment with an inline policy listing the exact actions and resources.
deny_broad_managed_policy contains msg if {
	some arn in attached_policy_arns
	startswith(arn, "arn:aws:iam::aws:policy/")
	parts := split(arn, "/")
	name := parts[count(parts) - 1]
	some pattern in model.aws.broad_managed_policies
	glob.match(pattern, [], name)
	msg := concat("", [label(input), " attaches the AWS-managed policy ", name])
}

attached_policy_arns contains prop(input, "policyArn", "") if {
	input.__type in {
		"aws:iam/rolePolicyAttachment:RolePolicyAttachment",
		"aws:iam/policyAttachment:PolicyAttachment",
		"aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
		"aws:iam/userPolicyAttachment:UserPolicyAttachment",
	}
}

attached_policy_arns contains arn if {
	input.__type == "aws:iam/role:Role"
	some arn in prop(input, "managedPolicyArns", [])
}

attached_policy_arns contains arn if {
	input.__type == "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
	some arn in prop(input, "policyArns", [])
}
