package opshub

import rego.v1

# METADATA
# title: Taggable resources carry owner and environment tags
# description: >-
#   Owner and environment tags are how cost, incidents and access reviews find who is
#   responsible; the AWS provider's default_tags count, since AWS applies them to every resource.
# custom:
#   id: OPS-XC-002
#   severity: low
#   remediation: Set default_tags on the AWS provider (owner, environment) or tags on the resource.
deny_untagged_resource contains msg if {
	input.__type in taggable_types
	tags := effective_tags(input)
	some key in ["owner", "environment"]
	object.get(tags, key, "") == ""
	msg := concat("", [label(input), " has no '", key, "' tag (neither on the resource nor in the provider's default tags)"])
}

# Resource tags win over the provider's default tags, as in AWS.
effective_tags(r) := object.union(provider_default_tags(r), resource_tags(r))

resource_tags(r) := tags if {
	tags := as_object(prop(r, "tags", {}))
} else := {}

provider_default_tags(r) := tags if {
	tags := object.get(as_object(object.get(r, ["__provider", "properties", "defaultTags"], {})), "tags", {})
} else := {}

# AWS types that take tags. Listed by hand: the SDK has about 865, and a set that large costs
# 0.2 ms per resource in regorus; tests/policies checks that every taggable AWS type the plan
# declares is here.
taggable_types := {
	"aws:secretsmanager/secret:Secret",
	"aws:kms/key:Key",
	"aws:iam/role:Role",
	"aws:iam/policy:Policy",
	"aws:lambda/function:Function",
	"aws:cloudwatch/eventRule:EventRule",
	"aws:cloudwatch/eventBus:EventBus",
	"aws:cloudwatch/metricAlarm:MetricAlarm",
	"aws:cloudwatch/logGroup:LogGroup",
	"aws:sns/topic:Topic",
	"aws:sqs/queue:Queue",
	"aws:s3/bucketV2:BucketV2",
	"aws:s3/bucket:Bucket",
}
