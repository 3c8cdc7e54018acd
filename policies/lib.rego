# METADATA
# title: Ops Hub least-privilege policy pack
# description: >-
#   Shared predicates of the pack. Rules read the analyzer's collision-safe fields
#   (__type, __urn, __name, __properties, __provider) and never a logical name or a URN shape.
# scope: package
package opshub

import rego.v1

# ---------------------------------------------------------------------------
# Secrets: the engine's wire marker for a secret value (pulumi sdk rpc), which
# `pulumi stack export` and `opshub policy check` also carry; a preview prints
# secrets as "[secret]". Under the native analyzer a secret is never a string.
secret_signature_key := "4dabf18193072939515e22adb298388d"

secret_signature_value := "1b47061264138c4ac30d75fd1eb44270"

is_secret_value(value) if {
	is_object(value)
	value[secret_signature_key] == secret_signature_value
}

is_secret_value(value) if value == "[secret]"

# A credential handed over in plain text: a non-empty string that is not a secret.
is_plain_credential(value) if {
	is_string(value)
	value != ""
	not is_secret_value(value)
}

# ---------------------------------------------------------------------------
# Resources and references

prop(r, path, fallback) := object.get(r.__properties, path, fallback)

# The short kind of a type token, e.g. "RolePermissions" for auth0:index/rolePermissions:RolePermissions.
kind(r) := parts[count(parts) - 1] if parts := split(r.__type, ":")

label(r) := concat("", [kind(r), " '", r.__name, "'"])

finding(r, msg) := {"urn": r.__urn, "msg": msg}

resources_of(type_token) := [r | some r in input.resources; r.__type == type_token]

resources_by_urn := {r.__urn: r | some r in input.resources}

# Values by which another resource may name r: its ARN, id, client id, name or uid, or its URN.
handles(r) := {h |
	some key in ["arn", "id", "clientId", "name", "uid"]
	h := prop(r, key, "")
	is_string(h)
	h != ""
} | {r.__urn}

# Which resources each handle names (built once per stack, so joins stay linear).
urns_by_handle[h] contains r.__urn if {
	some r in input.resources
	some h in handles(r)
}

# The URNs r points at through its property `key`: its recorded property dependencies
# (the engine knows them even while the value is unknown), else the resources the value names.
referenced_urns(r, key) := urns if {
	urns := {u | some u in object.get(r, ["propertyDependencies", key], [])}
	count(urns) > 0
} else := urns_named(prop(r, key, ""))

# (regorus leaves a multi-value object rule without values undefined, where OPA has {}.)
urns_named(handle) := urns if {
	urns := urns_by_handle[handle]
} else := set()

# The resources of one type that r points at through `key`.
targets_of(r, key, type_token) := [t |
	some u in referenced_urns(r, key)
	t := resources_by_urn[u]
	t.__type == type_token
]

# JSON strings decoded, anything else as it is: provider settings and IAM documents
# arrive as JSON strings on the wire, as objects in hand-written input.
decoded(value) := json.unmarshal(value) if {
	is_string(value)
	json.is_valid(value)
}

decoded(value) := value if not is_string(value)

as_object(value) := doc if {
	doc := decoded(value)
	is_object(doc)
}

as_array(value) := value if is_array(value)

as_array(value) := [value] if not is_array(value)

# ---------------------------------------------------------------------------
# Auth0

auth0_roles := resources_of("auth0:index/role:Role")

# [role URN, role name, permission] for every permission a role holds, through
# RolePermissions (one resource per role) or RolePermission (one per permission).
role_permission_pairs contains [role.__urn, role_name, p.name] if {
	some rp in resources_of("auth0:index/rolePermissions:RolePermissions")
	some role in targets_of(rp, "roleId", "auth0:index/role:Role")
	role_name := prop(role, "name", "")
	some p in prop(rp, "permissions", [])
}

role_permission_pairs contains [role.__urn, role_name, prop(rp, "permission", "")] if {
	some rp in resources_of("auth0:index/rolePermission:RolePermission")
	some role in targets_of(rp, "roleId", "auth0:index/role:Role")
	role_name := prop(role, "name", "")
}

is_read_only_role(name) if model.roles[name].read_only == true

is_privileged_role(name) if model.roles[name].privileged == true

is_writing_permission(name) if model.permissions[name].writes == true

# ---------------------------------------------------------------------------
# AWS IAM documents: JSON strings or objects, one Statement or a list of them.

iam_policy_types := {
	"aws:iam/policy:Policy",
	"aws:iam/rolePolicy:RolePolicy",
	"aws:iam/userPolicy:UserPolicy",
	"aws:iam/groupPolicy:GroupPolicy",
}

iam_documents contains doc if {
	input.__type in iam_policy_types
	doc := as_object(prop(input, "policy", ""))
}

iam_documents contains doc if {
	input.__type == "aws:iam/role:Role"
	some inline in prop(input, "inlinePolicies", [])
	doc := as_object(object.get(inline, "policy", ""))
}

statements(doc) := [s | some s in as_array(object.get(doc, "Statement", []))]

allow_statements(doc) := [s | some s in statements(doc); s.Effect == "Allow"]

statement_actions(s) := [lower(a) | some a in as_array(object.get(s, "Action", []))]

statement_resources(s) := as_array(object.get(s, "Resource", []))

# An action pattern of a statement ("secretsmanager:Get*") covers a concrete action.
covers(pattern, action) if glob.match(pattern, [], action)

document_allows(doc, action) if {
	some s in allow_statements(doc)
	some pattern in statement_actions(s)
	covers(pattern, action)
}

# ---------------------------------------------------------------------------
# AWS Secrets Manager

secret_type := "aws:secretsmanager/secret:Secret"

aws_secrets := resources_of(secret_type)

secret_rotations := resources_of("aws:secretsmanager/secretRotation:SecretRotation")

# The model key (`vendor/purpose`) a secret named ops-hub/<env>/<vendor>/<purpose> stores.
secret_model_key(secret) := key if {
	some key, _ in model.secrets
	endswith(prop(secret, "name", ""), concat("", ["/", key]))
}

# Days between rotations: 30 for database credentials, 90 for the rest (and for a secret the model does not know).
rotation_limit(secret) := model.secrets[secret_model_key(secret)].max_rotation_days

rotation_limit(secret) := model.vendor_rotation_limit_days if not secret_model_key(secret)

# "rate(30 days)" -> 30; other schedule expressions (cron) are not compared.
rate_days(expression) := to_number(parts[0]) if {
	startswith(expression, "rate(")
	parts := split(trim_suffix(trim_prefix(expression, "rate("), ")"), " ")
	parts[1] in {"day", "days"}
}

# ---------------------------------------------------------------------------
# AWS KMS key policies

# An asymmetric key that signs (the ops_audit checkpoints).
is_signing_key(r) if {
	r.__type == "aws:kms/key:Key"
	prop(r, "keyUsage", "") == "SIGN_VERIFY"
}

# The key policy as a document; undefined while it is unknown (a first preview) or unreadable.
key_policy(key) := as_object(prop(key, "policy", ""))

# The principals a statement names: "*", or the values of its AWS and Service entries.
statement_principals(s) := ["*"] if object.get(s, "Principal", "") == "*"

statement_principals(s) := [p | some principal_kind in ["AWS", "Service"]; some p in as_array(object.get(s.Principal, principal_kind, []))] if is_object(object.get(s, "Principal", ""))

# The account itself (its root, or its bare id), whose statement delegates to IAM.
is_account_root(principal) if regex.match(`^arn:aws:iam::[0-9]{12}:root$`, principal)

is_account_root(principal) if regex.match(`^[0-9]{12}$`, principal)

# The role of a checkpoint-signing identity: arn:aws:iam::<account>:role/<identity>-<environment>.
is_checkpoint_signer(principal) if {
	some identity in model.checkpoint_signers
	regex.match(concat("", [`^arn:aws:iam::[0-9]{12}:role/`, identity, `-[a-z]+$`]), principal)
}
