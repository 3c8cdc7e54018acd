package opshub

import rego.v1

# METADATA
# title: A compliance job writes to the archive only under its own prefix
# description: >-
#   The access review, the audit export and the audit checkpoint each add objects to the
#   Object Lock archive under their own prefix (the model's archive_writers). A role of one
#   of those identities allowed to write anywhere else could plant a forged checkpoint,
#   export or review beside the real ones.
# custom:
#   id: OPS-AWS-020
#   severity: high
#   remediation: Limit the job's S3 write statements to arn:aws:s3:::<bucket>/<its prefix>/*.
stack_deny_archive_write_outside_own_prefix contains f.msg if some f in archive_write_outside_own_prefix

archive_write_outside_own_prefix contains finding(policy, msg) if {
	some identity, prefix in model.archive_writers
	some role in resources_of("aws:iam/role:Role")
	is_role_of(role, identity)
	some [policy, doc] in role_documents(role)
	some s in allow_statements(doc)
	some action in s3_write_actions
	some pattern in statement_actions(s)
	covers(pattern, action)
	some resource in statement_resources(s)
	not is_under_prefix(resource, prefix)
	msg := concat("", [
		label(policy), " lets ", identity, " '", action, "' on '", resource,
		"': its archive writes belong under '", prefix, "/'",
	])
}

# An identity's role is named <identity>-<environment> (infra/derive/secrets.py).
is_role_of(role, identity) if regex.match(concat("", ["^", identity, "-[a-z]+$"]), prop(role, "name", ""))

# The role's inline policies and the role policies attached to it, each with the resource that holds it.
role_documents(role) := {[role, doc] | some inline in prop(role, "inlinePolicies", []); doc := as_object(object.get(inline, "policy", ""))} | {[rp, doc] |
	some rp in role_policies_by_role[role.__urn]
	doc := as_object(prop(rp, "policy", ""))
}

# The RolePolicy resources of each role, built once per stack so the join stays linear.
role_policies_by_role[u] contains rp if {
	some rp in resources_of("aws:iam/rolePolicy:RolePolicy")
	some u in referenced_urns(rp, "role")
}

is_under_prefix(resource, prefix) if {
	suffix := concat("", ["/", prefix, "/*"])
	endswith(resource, suffix)
	bucket := trim_suffix(resource, suffix)
	bucket != ""
	not contains(bucket, "*")
	not contains(bucket, "/")
}

s3_write_actions := {
	"s3:putobject",
	"s3:deleteobject",
	"s3:deleteobjectversion",
	"s3:putobjectretention",
	"s3:putobjectlegalhold",
	"s3:putobjectacl",
	"s3:bypassgovernanceretention",
	"s3:restoreobject",
}
