package opshub

import rego.v1

# METADATA
# title: Keys are used only through their service, pinned, and never decrypt through S3
# description: >-
#   A key policy statement for anyone but the account root must pin its use by
#   kms:ViaService, a kms:EncryptionContext key or the calling resource (aws:SourceArn).
#   Nothing in the stack reads objects through S3, so no key policy or role policy may
#   allow kms:Decrypt through S3: writing an SSE-KMS object needs only a data key.
#   Signing keys (SIGN_VERIFY) are used directly, not through a service, and have no
#   encryption context: OPS-AWS-018 and OPS-AWS-019 hold their policies instead.
# custom:
#   id: OPS-AWS-016
#   severity: high
#   remediation: >-
#     Add kms:ViaService and kms:EncryptionContext conditions to the statement; grant only
#     kms:GenerateDataKey through S3.
deny_unpinned_key_use contains msg if {
	input.__type == "aws:kms/key:Key"
	not is_signing_key(input)
	some s in allow_statements(resource_policy_document(input))
	not is_account_root_statement(input, s)
	not is_key_use_pinned(s)
	msg := concat("", [label(input), " lets statement '", object.get(s, "Sid", "?"), "' use the key without kms:ViaService, an encryption context or aws:SourceArn"])
}

deny_unpinned_key_use contains msg if {
	some doc in key_policy_or_iam_documents
	some s in allow_statements(doc)
	some pattern in statement_actions(s)
	covers(pattern, "kms:decrypt")
	some via in condition_values(s, "kms:ViaService")
	startswith(via, "s3.")
	msg := concat("", [label(input), " allows kms:Decrypt through S3 (statement '", object.get(s, "Sid", "?"), "'), which nothing here needs"])
}

key_policy_or_iam_documents contains doc if some doc in iam_documents

key_policy_or_iam_documents contains doc if {
	input.__type == "aws:kms/key:Key"
	doc := resource_policy_document(input)
}

is_account_root_statement(r, s) if {
	principals := aws_principals(s)
	count(principals) > 0
	count(service_principals(s)) == 0
	every p in principals {
		some account in stack_accounts(r)
		p in {account, concat("", ["arn:aws:iam::", account, ":root"])}
	}
}

is_key_use_pinned(s) if has_condition(s, "kms:ViaService")

is_key_use_pinned(s) if has_condition(s, "aws:SourceArn")

is_key_use_pinned(s) if {
	some _, tests in s.Condition
	some key, _ in tests
	startswith(lower(key), "kms:encryptioncontext:")
}
