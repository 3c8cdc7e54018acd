package opshub

import rego.v1

# METADATA
# title: S3 buckets are private, versioned and encrypted with a KMS key
# description: >-
#   Snapshots, reviews and exports must not leak, be overwritten without a trace or sit
#   under an AWS-owned key: every bucket needs a public access block with all four
#   settings on, versioning enabled, and default encryption with aws:kms.
# custom:
#   id: OPS-STOR-001
#   severity: high
#   remediation: Declare BucketPublicAccessBlock (all four true), BucketVersioning (Enabled) and BucketServerSideEncryptionConfiguration (aws:kms) for the bucket.
stack_deny_public_unversioned_or_unencrypted_bucket contains f.msg if some f in public_unversioned_or_unencrypted_bucket

public_unversioned_or_unencrypted_bucket contains finding(bucket, msg) if {
	some bucket in s3_buckets
	some check, problem in bucket_checks
	not bucket.__urn in bucket_passes[check]
	msg := concat("", ["bucket '", prop(bucket, "bucket", bucket.__name), "' ", problem])
}

s3_buckets := [b | some b in input.resources; b.__type in {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}]

bucket_checks := {
	"private": "has no public access block with all four settings on",
	"versioned": "has no versioning enabled",
	"encrypted": "has no default encryption with a KMS key (aws:kms)",
}

public_access_settings := ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]

# Bucket URNs each check passes for, joined through the settings resources' `bucket` input.
bucket_passes["private"] contains urn if {
	some block in resources_of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	every setting in public_access_settings {
		prop(block, setting, false) == true
	}
	some urn in referenced_urns(block, "bucket")
}

bucket_passes["versioned"] contains urn if {
	some versioning in bucket_settings({"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"})
	object.get(prop(versioning, "versioningConfiguration", {}), "status", "") == "Enabled"
	some urn in referenced_urns(versioning, "bucket")
}

bucket_passes["encrypted"] contains urn if {
	some encryption in bucket_settings({
		"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
	})
	some rule in prop(encryption, "rules", [])
	startswith(object.get(object.get(rule, "applyServerSideEncryptionByDefault", {}), "sseAlgorithm", ""), "aws:kms")
	some urn in referenced_urns(encryption, "bucket")
}

bucket_settings(types) := [r | some r in input.resources; r.__type in types]
