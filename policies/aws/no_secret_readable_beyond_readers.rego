package opshub

import rego.v1

# METADATA
# title: Each secret denies reads by all but its declared readers
# description: >-
#   The keys give the account kms:*, so only the secret's own policy keeps other principals
#   of the account from reading it. It must deny secretsmanager:GetSecretValue to everyone
#   but its readers: the roles of the identities the model says read it, its rotation
#   Lambdas (own or master), and the deploy role where Pulumi stores the value.
# custom:
#   id: OPS-AWS-011
#   severity: critical
#   remediation: >-
#     Keep the DenyReadsByOtherPrincipals statement VendorSecrets declares; give a new reader
#     reads_secrets in infra/model/access.yaml instead of listing its ARN by hand.
stack_deny_secret_readable_beyond_readers contains f.msg if some f in secret_readable_beyond_readers

secret_readable_beyond_readers contains finding(secret, msg) if {
	some secret in aws_secrets
	key := secret_model_key(secret)
	count(reader_denies(secret)) == 0
	msg := concat("", ["secret '", key, "' does not deny reads by principals other than its readers"])
}

secret_readable_beyond_readers contains finding(secret, msg) if {
	some secret in aws_secrets
	key := secret_model_key(secret)
	some [holder, arns] in reader_denies(secret)
	some role in roles_referenced(holder, "policy")
	not is_declared_reader(role, key)
	msg := concat("", ["secret '", key, "' may be read by role '", prop(role, "name", role.__name), "', which the model does not make a reader"])
}

secret_readable_beyond_readers contains finding(secret, msg) if {
	some secret in aws_secrets
	key := secret_model_key(secret)
	some [holder, arns] in reader_denies(secret)
	model.aws.deploy_role_arn in arns
	model.secrets[key].stored_by_pulumi != true
	msg := concat("", ["secret '", key, "' may be read by the deploy role, though Pulumi never stores its value"])
}

secret_readable_beyond_readers contains finding(secret, msg) if {
	some secret in aws_secrets
	key := secret_model_key(secret)
	some [holder, arns] in reader_denies(secret)
	named := count(roles_referenced(holder, "policy")) + count({a | some a in arns; a == model.aws.deploy_role_arn})
	count(arns) > named
	msg := concat("", ["secret '", key, "' may be read by ", format_int(count(arns) - named, 10), " principal(s) the model does not declare"])
}

# [policy holder, exempted ARNs] for each Deny of GetSecretValue by all but a list.
reader_denies(secret) := [[holder, arns] |
	some holder in secret_policy_holders(secret)
	some arns in exempting_denies(resource_policy_document(holder), "secretsmanager:GetSecretValue")
]

# The secret itself (an inline policy) and the SecretPolicy resources attached to it.
secret_policy_holders(secret) := array.concat(
	[secret | resource_policy_document(secret)],
	[sp | some sp in secret_policies_by_secret[secret.__urn]],
)

# A reader role: an identity that reads the secret, or the rotation of it or of a secret it is master of.
is_declared_reader(role, key) if key in model.identities[role_tag(role, "identity")].reads_secrets

is_declared_reader(role, key) if role_tag(role, "rotates") == key

is_declared_reader(role, key) if model.secrets[role_tag(role, "rotates")].master == key
