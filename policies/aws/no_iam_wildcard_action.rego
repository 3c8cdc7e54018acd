package opshub

import rego.v1

# METADATA
# title: No wildcard IAM action
# description: >-
#   An Allow of "*", of a whole service ("secretsmanager:*") or of NotAction grants
#   every current and future action of it, which no least-privilege review can approve.
# custom:
#   id: OPS-AWS-001
#   severity: high
#   remediation: List the exact actions the identity needs in the policy document's Action.
deny_iam_wildcard_action contains msg if {
	some doc in iam_documents
	some s in allow_statements(doc)
	some action in statement_actions(s)
	is_wildcard_action(action)
	msg := concat("", [label(input), " allows the wildcard action '", action, "'"])
}

deny_iam_wildcard_action contains msg if {
	some doc in iam_documents
	some s in allow_statements(doc)
	object.get(s, "NotAction", null) != null
	msg := concat("", [label(input), " allows everything but a NotAction list"])
}

is_wildcard_action(action) if action == "*"

is_wildcard_action(action) if endswith(action, ":*")
