package opshub

import rego.v1

# METADATA
# title: No "*" resource on data-reading, escalation or permissions-management actions
# description: >-
#   The Cloudsplaining/Checkov classes: reading secrets or decrypting data (exfiltration),
#   PassRole and policy edits (privilege escalation) and resource-policy or grant changes
#   (permissions management) must name the resources they apply to, never "*".
# custom:
#   id: OPS-AWS-002
#   severity: critical
#   remediation: Replace "*" in Resource with the ARNs of the secrets, keys or roles the identity needs.
deny_iam_wildcard_resource_on_sensitive_action contains msg if {
	some doc in iam_documents
	some s in allow_statements(doc)
	has_wildcard_resource(s)
	some action, risk in sensitive_actions
	some pattern in statement_actions(s)
	covers(pattern, action)
	msg := concat("", [label(input), " allows '", action, "' on every resource (", risk, ")"])
}

has_wildcard_resource(s) if "*" in statement_resources(s)

has_wildcard_resource(s) if object.get(s, "NotResource", null) != null

sensitive_actions := {
	"secretsmanager:getsecretvalue": "data exfiltration",
	"secretsmanager:batchgetsecretvalue": "data exfiltration",
	"ssm:getparameter": "data exfiltration",
	"ssm:getparameters": "data exfiltration",
	"ssm:getparametersbypath": "data exfiltration",
	"kms:decrypt": "data exfiltration",
	"s3:getobject": "data exfiltration",
	"iam:passrole": "privilege escalation",
	"iam:createpolicyversion": "privilege escalation",
	"iam:setdefaultpolicyversion": "privilege escalation",
	"iam:attachrolepolicy": "privilege escalation",
	"iam:putrolepolicy": "privilege escalation",
	"iam:updateassumerolepolicy": "privilege escalation",
	"iam:createaccesskey": "privilege escalation",
	"sts:assumerole": "privilege escalation",
	"lambda:updatefunctioncode": "privilege escalation",
	"secretsmanager:putresourcepolicy": "permissions management",
	"secretsmanager:deleteresourcepolicy": "permissions management",
	"kms:putkeypolicy": "permissions management",
	"kms:creategrant": "permissions management",
	"iam:createpolicy": "permissions management",
	"lambda:addpermission": "permissions management",
	"s3:putbucketpolicy": "permissions management",
}
