package opshub

import rego.v1

# METADATA
# title: Writers put objects under their own prefix, never anywhere in a bucket
# description: >-
#   A job that may put any key can overwrite another job's objects (latest.json, an export,
#   a review); s3:PutObject must name a prefix or key, never "*", every bucket, or a
#   bucket's whole object space ("<bucket>/*").
# custom:
#   id: OPS-STOR-002
#   severity: high
#   remediation: Narrow the statement's Resource to arn:aws:s3:::<bucket>/<prefix>/* or the exact keys the job writes.
deny_write_to_whole_bucket contains msg if {
	some doc in iam_documents
	some s in allow_statements(doc)
	some pattern in statement_actions(s)
	covers(pattern, "s3:putobject")
	some resource in statement_resources(s)
	is_whole_bucket(resource)
	msg := concat("", [label(input), " allows s3:PutObject on '", resource, "', a whole bucket"])
}

is_whole_bucket(resource) if resource == "*"

# arn:aws:s3:::* and arn:aws:s3:::<bucket>/* (any partition, region or account fields).
is_whole_bucket(resource) if regex.match(`^arn:[a-z-]+:s3:[^:]*:[^:]*:(\*|[^/]+/\*)$`, resource)
