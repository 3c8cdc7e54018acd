package opshub

import rego.v1

# METADATA
# title: Only the compliance jobs write to the locked archive
# description: >-
#   An Object Lock archive keeps whatever lands in it for years, so a forged review or
#   export could never be removed. Its bucket policy must deny object writes to everyone but
#   the roles of the model's compliance jobs (not even the deploy role); bucket
#   administration stays with the account.
# custom:
#   id: OPS-AWS-015
#   severity: critical
#   remediation: Keep DenyWritesByOthers on the archive's bucket policy, naming exactly the jobs' roles.
stack_deny_archive_writer_beyond_jobs contains f.msg if some f in archive_writer_beyond_jobs

locked_buckets := [b | some b in resources_of("aws:s3/bucket:Bucket"); prop(b, "objectLockEnabled", false) == true]

archive_policies(bucket) := [p |
	some p in resources_of("aws:s3/bucketPolicy:BucketPolicy")
	bucket.__urn in referenced_urns(p, "bucket")
]

writer_denies(bucket) := [[policy, arns] |
	some policy in archive_policies(bucket)
	some arns in exempting_denies(resource_policy_document(policy), "s3:PutObject")
]

archive_writer_beyond_jobs contains finding(bucket, msg) if {
	some bucket in locked_buckets
	count(writer_denies(bucket)) == 0
	msg := concat("", [label(bucket), " does not deny object writes by principals other than the compliance jobs"])
}

archive_writer_beyond_jobs contains finding(bucket, msg) if {
	some bucket in locked_buckets
	some [policy, arns] in writer_denies(bucket)
	some role in roles_referenced(policy, "policy")
	not model.archive_writers[role_tag(role, "identity")]
	msg := concat("", [label(bucket), " lets role '", prop(role, "name", role.__name), "' write objects; only the compliance jobs may"])
}

archive_writer_beyond_jobs contains finding(bucket, msg) if {
	some bucket in locked_buckets
	some [policy, arns] in writer_denies(bucket)
	count(arns) > count(roles_referenced(policy, "policy"))
	msg := concat("", [label(bucket), " lets principals other than the compliance jobs' roles write objects"])
}
