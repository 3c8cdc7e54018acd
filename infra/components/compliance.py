"""ComplianceJobs: the monthly access review and audit export, and the locked archive they write to.

Creates, all with the explicit AWS provider:

- a customer-managed KMS key (rotation on) for the archive and the notice topic,
  used by the two jobs only through S3 and SNS;
- the archive: an S3 bucket with Object Lock in compliance mode (default
  retention `retention_days`), versioning, SSE-KMS with that key, all public
  access blocked, bucket-owner-enforced ownership, and a bucket policy that
  refuses requests without TLS, principals outside the account, and deletes;
- an encrypted SNS topic for ticket-severity notices, subscribed to `notice_route`;
- per job (access review, audit export): its log group, a policy on the job's
  identity role (from VendorSecrets, which already reads exactly its secret)
  that adds "put objects under its own prefix, notify, log", the Lambda
  (infra/lambdas), and an EventBridge Scheduler schedule with a role that may
  invoke only that Lambda.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from infra.components.aws_blocks import customer_key, lambda_schedule, private_bucket
from infra.components.secrets import LAMBDA_DIR, LAMBDA_RUNTIME, LOG_RETENTION_DAYS, ReminderRoute
from infra.config import StackConfig
from infra.derive.compliance import (
    DORMANT_DAYS,
    EXPORT_PREFIX,
    EXPORT_SCHEDULE,
    RETENTION_DAYS,
    REVIEW_PREFIX,
    REVIEW_SCHEDULE,
    archive_bucket_policy,
    archive_key_policy,
    job_policy,
    notice_topic_policy,
)


class ComplianceJobsArgs(BaseModel):
    """What the jobs need: config, their identity roles and secrets (VendorSecrets), and where notices go."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    provider: aws.Provider
    review_input: dict  # infra.derive.compliance.review_input(model, assignments)
    review_role: aws.iam.Role
    export_role: aws.iam.Role
    review_client_secret_arn: pulumi.Output  # ops-hub/<env>/auth0/access-review-client
    exporter_secret_arn: pulumi.Output  # ops-hub/<env>/supabase/ops-audit-exporter
    psycopg_layer_arn: pulumi.Output
    notice_route: ReminderRoute
    retention_days: int = RETENTION_DAYS


class ComplianceJobs(pulumi.ComponentResource):
    def __init__(self, name: str, args: ComplianceJobsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:compliance:ComplianceJobs", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._prefix = f"ops-hub-{args.config.environment}"
        self.key = self._key()
        self.bucket = self._bucket()
        self.topic = self._topic()
        cfg = args.config
        self.review = self._job(
            "access-review",
            role=args.review_role,
            prefix=REVIEW_PREFIX,
            schedule=REVIEW_SCHEDULE,
            description="Monthly access review: Auth0 role holders against infra/model/assignments.yaml",
            code={
                "access_review.py": pulumi.FileAsset(str(LAMBDA_DIR / "access_review.py")),
                "review_input.json": pulumi.StringAsset(json.dumps(args.review_input, indent=2, sort_keys=True)),
            },
            handler="access_review.lambda_handler",
            layers=[],
            environment={
                "AUTH0_DOMAIN": cfg.auth0_domain,
                "CLIENT_SECRET_ARN": args.review_client_secret_arn,
                "REVIEW_BUCKET": self.bucket.bucket,
                "NOTICE_TOPIC_ARN": self.topic.arn,
                "DORMANT_DAYS": str(DORMANT_DAYS),
            },
        )
        self.export = self._job(
            "audit-export",
            role=args.export_role,
            prefix=EXPORT_PREFIX,
            schedule=EXPORT_SCHEDULE,
            description="Monthly export of last month's ops_audit.events partition with its chain head",
            code={"audit_export.py": pulumi.FileAsset(str(LAMBDA_DIR / "audit_export.py"))},
            handler="audit_export.lambda_handler",
            layers=[args.psycopg_layer_arn],
            environment={
                "EXPORTER_SECRET_ARN": args.exporter_secret_arn,
                "ARCHIVE_BUCKET": self.bucket.bucket,
                "NOTICE_TOPIC_ARN": self.topic.arn,
            },
        )
        self.register_outputs({
            "bucket": self.bucket.bucket,
            "key_arn": self.key.arn,
            "notice_topic_arn": self.topic.arn,
            "review_function": self.review.name,
            "export_function": self.export.name,
        })

    # --- archive ------------------------------------------------------------------

    def _key(self) -> aws.kms.Key:
        cfg = self._args.config
        jobs = pulumi.Output.all(self._args.review_role.arn, self._args.export_role.arn)
        return customer_key(
            f"{self._name}-key", f"{self._prefix}-compliance", f"Ops Hub {cfg.environment} compliance archive and notices",
            jobs.apply(lambda arns: archive_key_policy(cfg.aws_account_id, cfg.aws_region, arns).to_json()), self._child,
        )

    def _bucket(self) -> aws.s3.Bucket:
        cfg = self._args.config
        archive = private_bucket(
            f"{self._name}-archive",
            f"{self._prefix}-compliance-{cfg.aws_account_id}",
            self.key.arn,
            lambda arn: archive_bucket_policy(arn, cfg.aws_account_id).to_json(),
            self._child,
            lock_days=self._args.retention_days,
        )
        self.versioning, self.object_lock, self.encryption = archive.versioning, archive.object_lock, archive.encryption
        self.public_access, self.ownership, self.bucket_policy = archive.public_access, archive.ownership, archive.policy
        return archive.bucket

    def _topic(self) -> aws.sns.Topic:
        topic = aws.sns.Topic(
            f"{self._name}-notices", name=f"{self._prefix}-compliance-notices", kms_master_key_id=self.key.arn, opts=self._child
        )
        publishers = pulumi.Output.all(topic.arn, self._args.review_role.arn, self._args.export_role.arn)
        aws.sns.TopicPolicy(
            f"{self._name}-notices-policy",
            arn=topic.arn,
            policy=publishers.apply(lambda v: notice_topic_policy(v[0], v[1:]).to_json()),
            opts=self._child,
        )
        route = self._args.notice_route
        self.notice_subscription = aws.sns.TopicSubscription(
            f"{self._name}-notices-route", topic=topic.arn, protocol=route.protocol, endpoint=route.endpoint, opts=self._child
        )
        return topic

    # --- jobs ---------------------------------------------------------------------

    def _job(
        self,
        job: str,
        *,
        role: aws.iam.Role,
        prefix: str,
        schedule: str,
        description: str,
        code: dict[str, pulumi.Asset],
        handler: str,
        layers: list[pulumi.Output],
        environment: dict[str, pulumi.Input[str]],
    ) -> aws.lambda_.Function:
        cfg = self._args.config
        base = f"{self._name}-{job}"
        function_name = f"{self._prefix}-{job}"
        logs = aws.cloudwatch.LogGroup(
            f"{base}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=LOG_RETENTION_DAYS, opts=self._child
        )
        policy = aws.iam.RolePolicy(
            f"{base}-policy",
            role=role.id,
            policy=pulumi.Output.all(self.bucket.arn, self.key.arn, self.topic.arn, logs.arn).apply(
                lambda v: job_policy(v[0], prefix, v[1], v[2], v[3], cfg.aws_region).to_json()
            ),
            opts=self._child,
        )
        function = aws.lambda_.Function(
            base,
            name=function_name,
            description=description,
            runtime=LAMBDA_RUNTIME,
            handler=handler,
            code=pulumi.AssetArchive(code),
            layers=layers,
            role=role.arn,
            timeout=300,
            memory_size=512,
            # One run at a time: a retried schedule must not race the run it retries.
            reserved_concurrent_executions=1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[logs, policy])),
        )
        lambda_schedule(base, function_name, schedule, function, cfg.aws_account_id, self._child)
        return function
