package opshub

import rego.v1

# METADATA
# title: Only the checkpoint job signs with a signing key
# description: >-
#   A KMS key with key usage SIGN_VERIFY signs the checkpoints that anchor the ops_audit
#   hash chain outside the database. Its key policy may allow kms:Sign to the checkpoint
#   job's role alone, and must deny kms:Sign to every other principal, so that no IAM grant
#   made later lets anyone else sign. Whoever else can sign can vouch for a rewritten chain.
# custom:
#   id: OPS-AWS-018
#   severity: critical
#   remediation: >-
#     Allow kms:Sign only to arn:aws:iam::<account>:role/<checkpoint identity>-<env>, and add a
#     Deny of kms:Sign for Principal "*" with Condition ArnNotEquals aws:PrincipalArn set to that role.
deny_signing_by_others_than_checkpoint_job contains msg if {
	is_signing_key(input)
	some s in allow_statements(key_policy(input))
	allows_sign(s)
	some principal in statement_principals(s)
	not is_account_root(principal)
	not is_checkpoint_signer(principal)
	msg := concat("", [label(input), " lets '", principal, "' sign: only the checkpoint job may"])
}

deny_signing_by_others_than_checkpoint_job contains msg if {
	is_signing_key(input)
	doc := key_policy(input)
	not denies_sign_to_others(doc)
	msg := concat("", [label(input), " does not deny kms:Sign to every principal but the checkpoint job"])
}

# Without a key policy AWS applies its default one, which denies nothing.
deny_signing_by_others_than_checkpoint_job contains msg if {
	is_signing_key(input)
	prop(input, "policy", null) == null
	msg := concat("", [label(input), " has no key policy, so nothing denies kms:Sign to other principals"])
}

allows_sign(s) if {
	some pattern in statement_actions(s)
	covers(pattern, "kms:sign")
}

denies_sign_to_others(doc) if {
	some s in statements(doc)
	s.Effect == "Deny"
	is_everyone(object.get(s, "Principal", ""))
	allows_sign(s)
	exempts_only_signers(object.get(s, "Condition", {}))
}

# A deny without a condition denies everyone; one with an exception may exempt only the signers.
exempts_only_signers(condition) if count(condition) == 0

exempts_only_signers(condition) if {
	count(condition) == 1
	some operator in ["ArnNotEquals", "ArnNotLike"]
	exception := condition[operator]
	count(exception) == 1
	every arn in as_array(exception["aws:PrincipalArn"]) {
		is_checkpoint_signer(arn)
	}
}
