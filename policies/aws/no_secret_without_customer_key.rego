package opshub

import rego.v1

# METADATA
# title: Every secret uses a customer-managed KMS key
# description: >-
#   With the AWS-managed aws/secretsmanager key anyone allowed to read secrets in the
#   account can decrypt them; a customer key's policy limits decryption to named roles.
# custom:
#   id: OPS-AWS-004
#   severity: high
#   remediation: Set kms_key_id on the secret to the Ops Hub customer-managed key.
deny_secret_without_customer_key contains msg if {
	input.__type == "aws:secretsmanager/secret:Secret"
	not is_customer_key(prop(input, "kmsKeyId", ""))
	msg := concat("", [label(input), " is not encrypted with a customer-managed KMS key"])
}

is_customer_key(key) if {
	is_string(key)
	key != ""
	not startswith(key, "alias/aws/")
}

# A key passed as a secret or still unknown is an explicit customer key.
is_customer_key(key) if is_secret_value(key)
