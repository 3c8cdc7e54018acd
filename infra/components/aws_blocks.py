"""AWS pieces that several components declare alike, so they are written once.

- `private_bucket`: an S3 bucket with versioning, optional Object Lock (compliance mode),
  SSE-KMS with the given key, all public access blocked, bucket-owner-enforced ownership
  and a bucket policy (applied after the public access block);
- `lambda_schedule`: an EventBridge Scheduler schedule (UTC, two retries) with a role
  that may invoke only that Lambda;
- `lambda_error_alarm`: an alarm on a Lambda's errors, to a topic people watch;
- `customer_key`: a customer-managed KMS key (rotation on, 30-day deletion window) and its alias;
- `lambda_layer`: a Lambda layer from a directory `make lambda-layer` builds.

Callers pass resource names and `opts` (parent and provider); nothing here reads config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.derive import iam

LAMBDA_RUNTIME = "python3.12"


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    object_lock: aws.s3.BucketObjectLockConfiguration | None
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    public_access: aws.s3.BucketPublicAccessBlock
    ownership: aws.s3.BucketOwnershipControls
    policy: aws.s3.BucketPolicy


def private_bucket(
    resource_name: str,
    bucket_name: str,
    key_arn: pulumi.Input[str],
    policy: Callable[[str], pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    *,
    lock_days: int | None = None,
) -> PrivateBucket:
    """The bucket and its settings, named `<resource_name>-<setting>`; `policy` renders the bucket policy
    (a string or an Output of one) from the bucket's ARN.

    With `lock_days`, Object Lock in compliance mode keeps every version that long, and the
    bucket is protected from `pulumi destroy` too, since such locks cannot be lifted.
    """
    locked = lock_days is not None
    bucket = aws.s3.Bucket(
        resource_name,
        bucket=bucket_name,
        object_lock_enabled=True if locked else None,
        force_destroy=False,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=locked)),
    )
    versioning = aws.s3.BucketVersioning(
        f"{resource_name}-versioning",
        bucket=bucket.bucket,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    object_lock = aws.s3.BucketObjectLockConfiguration(
        f"{resource_name}-lock",
        bucket=bucket.bucket,
        object_lock_enabled="Enabled",
        rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
            default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(mode="COMPLIANCE", days=lock_days),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning])),
    ) if locked else None
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{resource_name}-encryption",
        bucket=bucket.bucket,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=opts,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{resource_name}-public-access",
        bucket=bucket.bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{resource_name}-ownership",
        bucket=bucket.bucket,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    bucket_policy = aws.s3.BucketPolicy(
        f"{resource_name}-policy",
        bucket=bucket.bucket,
        policy=bucket.arn.apply(policy),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[public_access])),
    )
    return PrivateBucket(bucket, versioning, object_lock, encryption, public_access, ownership, bucket_policy)


def lambda_schedule(
    resource_name: str,
    function_name: str,
    expression: str,
    function: aws.lambda_.Function,
    account_id: str,
    region: str,
    opts: pulumi.ResourceOptions,
) -> aws.scheduler.Schedule:
    """Run `function` on `expression` (UTC), through a role that may invoke only it and that only
    the account's default schedule group may assume."""
    scheduler = aws.iam.Role(
        f"{resource_name}-scheduler-role",
        name=f"{function_name}-scheduler",
        assume_role_policy=iam.assume_role_policy(
            "scheduler.amazonaws.com", account_id, iam.schedule_group_arn(region, account_id)
        ).to_json(),
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{resource_name}-scheduler-policy",
        role=scheduler.id,
        policy=function.arn.apply(lambda arn: iam.scheduler_invoke_policy(arn).to_json()),
        opts=opts,
    )
    return aws.scheduler.Schedule(
        f"{resource_name}-schedule",
        name=function_name,
        schedule_expression=expression,
        schedule_expression_timezone="UTC",
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=function.arn,
            role_arn=scheduler.arn,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=2),
        ),
        opts=opts,
    )


def lambda_error_alarm(
    resource_name: str, alarm_name: str, description: str, function: aws.lambda_.Function, topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """Any error of the Lambda within an hour tickets through the topic; no invocation is no error."""
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=alarm_name,
        alarm_description=description,
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions={"FunctionName": function.name},
        statistic="Sum",
        period=3600,
        evaluation_periods=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        opts=opts,
    )


def customer_key(resource_name: str, alias: str, description: str, policy: pulumi.Input[str], opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """The key, with rotation on and the longest deletion window, and `alias/<alias>` pointing at it."""
    key = aws.kms.Key(
        resource_name, description=description, enable_key_rotation=True, deletion_window_in_days=30, policy=policy, opts=opts
    )
    aws.kms.Alias(f"{resource_name}-alias", name=f"alias/{alias}", target_key_id=key.arn, opts=opts)
    return key


def lambda_layer(resource_name: str, layer_name: str, directory: str, description: str, opts: pulumi.ResourceOptions) -> aws.lambda_.LayerVersion:
    """A layer for the Lambdas' runtime (x86_64) from a built directory."""
    return aws.lambda_.LayerVersion(
        resource_name,
        layer_name=layer_name,
        code=pulumi.FileArchive(directory),
        compatible_runtimes=[LAMBDA_RUNTIME],
        compatible_architectures=["x86_64"],
        description=description,
        opts=opts,
    )
