# METADATA
# title: Ops Hub least-privilege policy pack
# description: >-
#   Shared predicates of the pack. Rules read the analyzer's collision-safe fields
#   (__type, __urn, __name, __properties, __provider) and never a logical name or a URN shape.
# scope: package
package opshub

import rego.v1

# ---------------------------------------------------------------------------
# Secrets, recognised by their shape, never by their content (which rules never read):
# - the real pulumi-policy-opa analyzer hands a secret to Rego as Go's JSON of a
#   `*resource.Secret`: {"Element": {"V": <value>}} (pulumi sdk/go/common/resource/properties.go).
#   A value still unknown in a preview has the same shape (a `resource.Computed`); it is no
#   plain value either;
# - the engine's wire marker, which `pulumi stack export` carries;
# - the "[secret]" a preview prints.
secret_signature_key := "4dabf18193072939515e22adb298388d"

secret_signature_value := "1b47061264138c4ac30d75fd1eb44270"

is_secret_value(value) if {
	is_object(value)
	object.keys(value) == {"Element"}
	is_object(value.Element)
	object.keys(value.Element) == {"V"}
}

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

resources_of(type_token) := [r | some r in resources_by_type[type_token]]

# Built once per stack, so that rules looking up a type inside a loop stay linear.
resources_by_type[r.__type] contains r if some r in input.resources

resources_by_urn := {r.__urn: r | some r in input.resources}

# The SecretPolicy resources of each secret URN, built once per stack so joins stay linear.
secret_policies_by_secret[u] contains sp if {
	some sp in resources_of("aws:secretsmanager/secretPolicy:SecretPolicy")
	some u in referenced_urns(sp, "secretArn")
}

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
# Paging: alert rules, the notification tree, PagerDuty. Limits and derived values
# come from model.paging (generated from alerts/ and the derivations).

rule_group_type := "grafana:alerting/ruleGroup:RuleGroup"

notification_policy_type := "grafana:alerting/notificationPolicy:NotificationPolicy"

contact_point_type := "grafana:alerting/contactPoint:ContactPoint"

pagerduty_service_type := "pagerduty:index/service:Service"

escalation_policy_type := "pagerduty:index/escalationPolicy:EscalationPolicy"

# Alerting rules of a RuleGroup whose severity label pages.
page_alerts(r) := [rule |
	some rule in alert_rules(r)
	object.get(rule, ["labels", "severity"], "") == model.paging.page_label
]

# The Grafana org a resource lives in: its provider. A NotificationPolicy owns the whole
# tree of its org, so alerts, routes and contact points are joined within one org
# (which also keeps these joins linear in the size of the stack).
org_of(r) := object.get(r, ["__provider", "urn"], "")

# Every page alert of the stack, by org, with the group it sits in.
page_alerts_by_org[org] contains [group.__urn, rule] if {
	some group in resources_of(rule_group_type)
	org := org_of(group)
	some rule in page_alerts(group)
}

notification_policies_by_org[org] contains policy if {
	some policy in resources_of(notification_policy_type)
	org := org_of(policy)
}

# (regorus leaves a multi-value object rule without values undefined, where OPA has {}.)
org_page_alerts(org) := alerts if {
	alerts := page_alerts_by_org[org]
} else := set()

# "1h30m" -> 5400: Prometheus/Grafana durations in seconds.
duration_seconds(text) := sum([seconds |
	some part in regex.find_all_string_submatch_n(`([0-9]+)(ms|s|m|h|d|w)`, text, -1)
	seconds := to_number(part[1]) * duration_unit_seconds[part[2]]
])

duration_unit_seconds := {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# A route's matchers all hold for an alert's labels (Alertmanager matcher semantics;
# a missing label is the empty string).
route_matches_labels(route, labels) if {
	every matcher in object.get(route, "matchers", []) {
		matcher_holds(matcher, object.get(labels, matcher.label, ""))
	}
}

matcher_holds(matcher, value) if {
	matcher.match == "="
	value == matcher.value
}

matcher_holds(matcher, value) if {
	matcher.match == "!="
	value != matcher.value
}

matcher_holds(matcher, value) if {
	matcher.match == "=~"
	regex.match(concat("", ["^(?:", matcher.value, ")$"]), value)
}

matcher_holds(matcher, value) if {
	matcher.match == "!~"
	not regex.match(concat("", ["^(?:", matcher.value, ")$"]), value)
}

# A route that takes pages: it matches severity=page.
is_page_route(route) if route_matches_severity(route, model.paging.page_label)

# Every route of a NotificationPolicy, at any depth.
policy_routes(policy) := [route |
	walk(prop(policy, "policies", []), [_, route])
	is_object(route)
	"matchers" in object.keys(route)
]

# Contact points by org and name; a set per key, so two with one name never break evaluation.
contact_points_named[key] contains cp if {
	some cp in resources_of(contact_point_type)
	key := concat("|", [org_of(cp), prop(cp, "name", "")])
}
# Auth0 clients: machine clients (a model identity, non-interactive, or using a
# machine grant) and the rest, which people sign in through.

auth0_client_type := "auth0:index/client:Client"

auth0_clients := resources_of(auth0_client_type)

is_machine_client(c) if model.identities[prop(c, "name", "")]

is_machine_client(c) if prop(c, "appType", "") == model.auth0.machine_app_type

is_machine_client(c) if {
	some grant in prop(c, "grantTypes", [])
	grant in model.auth0.machine_grant_types
}

# Auth0's defaults for tenant singletons left unset (Auth0 Management API, tenant settings).
auth0_default_idle_session_hours := 72

auth0_default_session_hours := 168

ops_apis := resources_of("auth0:index/resourceServer:ResourceServer")

# ---------------------------------------------------------------------------
# AWS: the statements of any IAM-shaped document, and the values a condition key is tested against.

condition_values(s, key) := {v |
	tests := object.get(s, "Condition", {})[_]
	values := tests[k]
	lower(k) == lower(key)
	some v in as_array(values)
}

has_condition(s, key) if count(condition_values(s, key)) > 0

# A reminder alarm that can notify someone: actions enabled, at least one action,
# and every SNS topic among them subscribed to.
is_notifying_alarm(alarm) if {
	prop(alarm, "actionsEnabled", true) != false
	count(prop(alarm, "alarmActions", [])) > 0
	every u in referenced_urns(alarm, "alarmActions") {
		is_subscribed_target(u)
	}
}

is_subscribed_target(u) if resources_by_urn[u].__type != "aws:sns/topic:Topic"

is_subscribed_target(u) if u in subscribed_topics

subscribed_topics := {u |
	some s in resources_of("aws:sns/topicSubscription:TopicSubscription")
	some u in referenced_urns(s, "topic")
}

# The resource-based policy a resource carries, by type (JSON string or object).
resource_policy_properties := {
	"aws:kms/key:Key": "policy",
	"aws:secretsmanager/secret:Secret": "policy",
	"aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
	"aws:s3/bucketPolicy:BucketPolicy": "policy",
	"aws:sns/topicPolicy:TopicPolicy": "policy",
	"aws:sqs/queuePolicy:QueuePolicy": "policy",
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
	"aws:iam/role:Role": "assumeRolePolicy",
}

resource_policy_document(r) := doc if {
	key := resource_policy_properties[r.__type]
	doc := as_object(prop(r, key, ""))
}

# Principals of a statement: "*" for anyone, and each AWS and Service principal.
aws_principals(s) := {p | some p in principal_values(object.get(s, "Principal", ""))}

service_principals(s) := {p |
	principal := object.get(s, "Principal", "")
	is_object(principal)
	some p in as_array(object.get(principal, "Service", []))
}

# The statement can only match requests made by or for the stack's own account.
is_pinned_to_account(r, s) if {
	some key in ["aws:PrincipalAccount", "aws:SourceAccount", "aws:SourceOwner", "kms:CallerAccount"]
	values := condition_values(s, key)
	count(values) > 0
	every v in values {
		v in stack_accounts(r)
	}
}

is_pinned_to_account(r, s) if {
	values := condition_values(s, "aws:SourceArn")
	count(values) > 0
	every v in values {
		some account in stack_accounts(r)
		contains(v, concat("", [":", account, ":"]))
	}
}

# A Deny of reading/writing by everyone but the principals listed in an aws:PrincipalArn test.
# [the listed ARNs] for each such statement; [] when it denies everyone.
exempting_denies(doc, action) := [arns |
	some s in statements(doc)
	s.Effect == "Deny"
	is_everyone(object.get(s, "Principal", ""))
	some pattern in statement_actions(s)
	covers(pattern, lower(action))
	arns := except_principal_arns(s)
]

except_principal_arns(s) := [] if not object.get(s, "Condition", false)

except_principal_arns(s) := arns if {
	object.get(s, "Condition", false)
	some operator in ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"]
	arns := as_array(s.Condition[operator]["aws:PrincipalArn"])
}

# The IAM roles whose outputs (their ARNs) a resource's property was built from.
roles_referenced(r, key) := [role |
	some u in object.get(r, ["propertyDependencies", key], [])
	role := resources_by_urn[u]
	role.__type == "aws:iam/role:Role"
]

role_tag(role, key) := object.get(prop(role, "tags", {}), key, "")
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
