package opshub

import rego.v1

# METADATA
# title: No PassRole together with compute create or invoke
# description: >-
#   iam:PassRole with the right to create or invoke compute (a Lambda, an instance, a
#   stack) lets the holder run code as any role it can pass: a privilege-escalation path.
# custom:
#   id: OPS-AWS-003
#   severity: critical
#   remediation: Split PassRole from compute creation, or drop it; rotation Lambdas are deployed by Pulumi, not by their own roles.
deny_iam_passrole_escalation contains msg if {
	some doc in iam_documents
	document_allows(doc, "iam:passrole")
	some action in escalation_partners
	document_allows(doc, action)
	msg := concat("", [label(input), " allows iam:PassRole together with ", action])
}

escalation_partners := {
	"lambda:createfunction",
	"lambda:invokefunction",
	"lambda:updatefunctionconfiguration",
	"ec2:runinstances",
	"cloudformation:createstack",
	"glue:createdevendpoint",
	"ecs:runtask",
}
