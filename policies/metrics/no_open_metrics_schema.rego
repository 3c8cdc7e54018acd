package opshub

import rego.v1

# METADATA
# title: ops_metrics is reachable only through USAGE, and never by anon or PUBLIC
# description: >-
#   Snapshots are readable under RLS by holders of analytics:read only. A schema grant to anon
#   (or PUBLIC) exposes ops_metrics to unauthenticated PostgREST requests, and CREATE or ALL on
#   the schema lets its holder add objects that RLS does not guard.
# custom:
#   id: OPS-MET-001
#   severity: critical
#   remediation: Grant only USAGE on schema ops_metrics, and only to the groups, authenticated and the backend's group.
deny_open_metrics_schema contains msg if {
	is_metrics_grant(input)
	role := lower(prop(input, "role", ""))
	role in {"anon", "public"}
	privileges := prop(input, "privileges", [])
	count(privileges) > 0 # an empty list is how pulumi-postgresql revokes
	msg := concat("", [label(input), " grants ", concat(", ", privileges), " on ops_metrics to '", role, "'"])
}

deny_open_metrics_schema contains msg if {
	is_metrics_grant(input)
	prop(input, "objectType", "") == "schema"
	some privilege in prop(input, "privileges", [])
	upper(privilege) != "USAGE"
	msg := concat("", [label(input), " grants ", upper(privilege), " on schema ops_metrics to '", prop(input, "role", ""), "'"])
}

is_metrics_grant(r) if {
	r.__type in grant_types
	prop(r, "schema", "") == "ops_metrics"
}
