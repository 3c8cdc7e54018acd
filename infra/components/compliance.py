"""ComplianceJobs: the monthly access review and audit export, and the locked archive they write to.

Creates, all with the explicit AWS provider:

- a customer-managed KMS key (rotation on) for the archive and the notice topic,
  used by the jobs only through S3 (for the archive) and SNS (for the topic), each
  pinned by its encryption context;
- the archive: an S3 bucket with Object Lock in compliance mode (default
  retention `retention_days`), versioning, SSE-KMS with that key, all public
  access blocked, bucket-owner-enforced ownership, and a bucket policy that
  refuses requests without TLS, principals outside the account, deletes, and
  object writes by anyone but the jobs' roles (the deploy role included);
- an encrypted SNS topic for ticket-severity notices, subscribed to `notice_route`;
- per job of `jobs` (infra/derive/compliance.py: access review, audit export): its log group, a policy on the job's
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

from infra.components.aws_blocks import LAMBDA_RUNTIME, customer_key, lambda_schedule, private_bucket
from infra.components.secrets import LAMBDA_DIR, LOG_RETENTION_DAYS, ReminderRoute
from infra.config import StackConfig
from infra.derive import iam
from infra.derive.compliance import (
    COMPLIANCE_JOBS,
    DORMANT_DAYS,
    RETENTION_DAYS,
    JobSpec,
    archive_bucket_name,
    archive_bucket_policy,
    archive_key_policy,
    bucket_arn,
    job_function_name,
    job_policy,
    notice_topic_name,
    notice_topic_policy,
)
from infra.errors import ModelError


class ComplianceJobsArgs(BaseModel):
    """What the jobs need: config, their identity roles and secrets (VendorSecrets), and where notices go."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    provider: aws.Provider
    review_input: dict  # infra.derive.compliance.review_input(model, assignments)
    # The identity roles (VendorSecrets) the jobs run as, by identity name.
    job_roles: dict[str, aws.iam.Role]
    jobs: tuple[JobSpec, ...] = COMPLIANCE_JOBS
    review_client_secret_arn: pulumi.Output  # ops-hub/<env>/auth0/access-review-client
    exporter_secret_arn: pulumi.Output  # ops-hub/<env>/supabase/ops-audit-exporter
    lambda_layer_arn: pulumi.Output
    notice_route: ReminderRoute
    retention_days: int = RETENTION_DAYS


class ComplianceJobs(pulumi.ComponentResource):
    def __init__(self, name: str, args: ComplianceJobsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:compliance:ComplianceJobs", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._prefix = f"ops-hub-{args.config.environment}"
        missing = [j.identity for j in args.jobs if j.identity not in args.job_roles]
        if missing:
            raise ModelError("access model", [f"identity {i!r}: a compliance job runs as it, but it has no role" for i in missing])
        self._writers = [args.job_roles[j.identity] for j in args.jobs]
        self._bucket_name = archive_bucket_name(args.config.environment, args.config.aws_account_id)
        self._topic_name = notice_topic_name(args.config.environment)
        self.key = self._key()
        self.bucket = self._bucket()
        self.topic = self._topic()
        self.functions = {spec.job: self._job(spec, **self._runtime(spec.job)) for spec in args.jobs}
        self.review = self.functions["access-review"]
        self.export = self.functions["audit-export"]
        self.register_outputs({
            "bucket": self.bucket.bucket,
            "key_arn": self.key.arn,
            "notice_topic_arn": self.topic.arn,
            "review_function": self.review.name,
            "export_function": self.export.name,
        })

    def _runtime(self, job: str) -> dict:
        """What differs between the jobs' Lambdas: code, handler, layers and environment."""
        cfg, args = self._args.config, self._args
        runtimes = {
            "access-review": {
                "code": {
                    "access_review.py": pulumi.FileAsset(str(LAMBDA_DIR / "access_review.py")),
                    "review_input.json": pulumi.StringAsset(json.dumps(args.review_input, indent=2, sort_keys=True)),
                },
                "handler": "access_review.lambda_handler",
                # cryptography signs the client assertion (private_key_jwt) with the client's key.
                "layers": [args.lambda_layer_arn],
                "environment": {
                    "AUTH0_DOMAIN": cfg.auth0_domain,
                    "CLIENT_SECRET_ARN": args.review_client_secret_arn,
                    "REVIEW_BUCKET": self.bucket.bucket,
                    "NOTICE_TOPIC_ARN": self.topic.arn,
                    "DORMANT_DAYS": str(DORMANT_DAYS),
                },
            },
            "audit-export": {
                "code": {"audit_export.py": pulumi.FileAsset(str(LAMBDA_DIR / "audit_export.py"))},
                "handler": "audit_export.lambda_handler",
                "layers": [args.lambda_layer_arn],
                "environment": {
                    "EXPORTER_SECRET_ARN": args.exporter_secret_arn,
                    "ARCHIVE_BUCKET": self.bucket.bucket,
                    "NOTICE_TOPIC_ARN": self.topic.arn,
                },
            },
        }
        return runtimes[job]

    # --- archive ------------------------------------------------------------------

    def _key(self) -> aws.kms.Key:
        cfg = self._args.config
        archive = bucket_arn(self._bucket_name)
        topic = iam.sns_topic_arn(cfg.aws_region, cfg.aws_account_id, self._topic_name)
        writers = pulumi.Output.all(*[r.arn for r in self._writers])
        return customer_key(
            f"{self._name}-key", f"{self._prefix}-compliance", f"Ops Hub {cfg.environment} compliance archive and notices",
            writers.apply(lambda arns: archive_key_policy(cfg.aws_account_id, cfg.aws_region, arns, archive, topic).to_json()),
            self._child,
        )

    def _bucket(self) -> aws.s3.Bucket:
        cfg = self._args.config
        writers = pulumi.Output.all(*[r.arn for r in self._writers])
        archive = private_bucket(
            f"{self._name}-archive",
            self._bucket_name,
            self.key.arn,
            lambda arn: writers.apply(lambda arns: archive_bucket_policy(arn, cfg.aws_account_id, arns).to_json()),
            self._child,
            lock_days=self._args.retention_days,
        )
        self.versioning, self.object_lock, self.encryption = archive.versioning, archive.object_lock, archive.encryption
        self.public_access, self.ownership, self.bucket_policy = archive.public_access, archive.ownership, archive.policy
        return archive.bucket

    def _topic(self) -> aws.sns.Topic:
        topic = aws.sns.Topic(
            f"{self._name}-notices", name=self._topic_name, kms_master_key_id=self.key.arn, opts=self._child
        )
        publishers = pulumi.Output.all(topic.arn, *[r.arn for r in self._writers])
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
        spec: JobSpec,
        *,
        code: dict[str, pulumi.Asset],
        handler: str,
        layers: list[pulumi.Output],
        environment: dict[str, pulumi.Input[str]],
    ) -> aws.lambda_.Function:
        role = self._args.job_roles[spec.identity]
        job, prefix, schedule, description = spec.job, spec.prefix, spec.schedule, spec.description
        cfg = self._args.config
        base = f"{self._name}-{job}"
        function_name = job_function_name(cfg.environment, job)
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
        lambda_schedule(base, function_name, schedule, function, cfg.aws_account_id, cfg.aws_region, self._child)
        return function
