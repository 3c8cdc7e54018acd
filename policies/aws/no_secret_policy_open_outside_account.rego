package opshub

import rego.v1

# METADATA
# title: Secret resource policies deny principals outside the account
# description: >-
#   Each secret's resource policy (inline or a SecretPolicy) must deny every principal
#   whose aws:PrincipalAccount is not the stack's account, and must allow nobody outside it.
# custom:
#   id: OPS-AWS-008
#   severity: critical
#   remediation: >-
#     Add a Deny statement for Principal "*" with Condition StringNotEquals
#     aws:PrincipalAccount set to the account id, and remove cross-account Allow statements.
stack_deny_secret_policy_open_outside_account contains f.msg if some f in secret_policy_open_outside_account

secret_policy_open_outside_account contains finding(secret, msg) if {
	some secret in aws_secrets
	not denies_outside_account(secret)
	msg := concat("", ["secret '", prop(secret, "name", secret.__name), "' has no resource policy denying principals outside the account"])
}

secret_policy_open_outside_account contains finding(secret, msg) if {
	some secret in aws_secrets
	some doc in secret_policy_documents(secret)
	some s in allow_statements(doc)
	some principal in outside_principals(secret, s)
	msg := concat("", ["secret '", prop(secret, "name", secret.__name), "' allows principal '", principal, "' outside the account"])
}

secret_policy_documents(secret) := {doc | doc := as_object(prop(secret, "policy", ""))} | {doc |
	some sp in secret_policies_by_secret[secret.__urn]
	doc := as_object(prop(sp, "policy", ""))
}

denies_outside_account(secret) if {
	some doc in secret_policy_documents(secret)
	some s in statements(doc)
	s.Effect == "Deny"
	is_everyone(object.get(s, "Principal", ""))
	some operator in ["StringNotEquals", "StringNotEqualsIgnoreCase"]
	value := s.Condition[operator]["aws:PrincipalAccount"]
	is_account_of(secret, value)
}

is_everyone(principal) if principal == "*"

is_everyone(principal) if principal.AWS == "*"

# The condition names the stack's account (from the AWS provider's allowedAccountIds),
# or, when the provider does not pin one, some 12-digit account.
is_account_of(r, value) if {
	accounts := stack_accounts(r)
	count(accounts) > 0
	every v in as_array(value) {
		v in accounts
	}
}

is_account_of(r, value) if {
	count(stack_accounts(r)) == 0
	every v in as_array(value) {
		regex.match(`^[0-9]{12}$`, v)
	}
}

stack_accounts(r) := {a | some a in as_array(decoded(object.get(r, ["__provider", "properties", "allowedAccountIds"], [])))}

# Principals of an Allow statement that lie outside the account.
outside_principals(secret, s) := {p |
	some p in principal_values(object.get(s, "Principal", ""))
	not is_inside(secret, p, s)
}

principal_values(principal) := ["*"] if principal == "*"

principal_values(principal) := [p | some p in as_array(principal.AWS)] if is_object(principal)

is_inside(secret, p, _) if {
	some account in stack_accounts(secret)
	contains(p, concat("", [":", account, ":"]))
}

is_inside(secret, p, _) if p in stack_accounts(secret)

# "*" limited to the account by a PrincipalAccount condition.
is_inside(secret, "*", s) if is_account_of(secret, s.Condition.StringEquals["aws:PrincipalAccount"])
