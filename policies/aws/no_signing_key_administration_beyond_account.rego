package opshub

import rego.v1

# METADATA
# title: Nobody but the account administers a signing key
# description: >-
#   The checkpoint signing key (key usage SIGN_VERIFY) is administered by the account, whose
#   root statement hands key administration to IAM as every key of the stack does. Any other
#   principal given a wildcard (kms:*) or a key-administration action could rewrite the key
#   policy, grant itself kms:Sign, or disable or delete the key that vouches for the anchors.
# custom:
#   id: OPS-AWS-019
#   severity: high
#   remediation: >-
#     Give other principals only the exact actions they need (the checkpoint job kms:Sign);
#     leave kms:* to the account root statement.
deny_signing_key_administration_beyond_account contains msg if {
	is_signing_key(input)
	some s in allow_statements(key_policy(input))
	some action in statement_actions(s)
	is_key_administration(action)
	some principal in statement_principals(s)
	not is_account_root(principal)
	msg := concat("", [label(input), " allows '", action, "' to '", principal, "': only the account administers a signing key"])
}

is_key_administration(action) if contains(action, "*")

is_key_administration(action) if action in key_administration_actions

key_administration_actions := {
	"kms:putkeypolicy",
	"kms:creategrant",
	"kms:revokegrant",
	"kms:schedulekeydeletion",
	"kms:cancelkeydeletion",
	"kms:disablekey",
	"kms:enablekey",
	"kms:replicatekey",
	"kms:updateprimaryregion",
}
