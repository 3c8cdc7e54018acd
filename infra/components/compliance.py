"""ComplianceJobs: the monthly access review and audit export, the audit checkpoint, and the locked archive.

Creates, all with the explicit AWS provider:

- a customer-managed KMS key (rotation on) for the archive and the notice topic,
  used by the review and export only through S3 (for the archive) and SNS (for the
  topic), each pinned by its encryption context;
- the archive: an S3 bucket with Object Lock in compliance mode (default
  retention `retention_days`), versioning, SSE-KMS with that key, all public
  access blocked, bucket-owner-enforced ownership, and a bucket policy that
  refuses requests without TLS, principals outside the account, deletes, and
  object writes by anyone but the jobs' roles (the deploy role included);
- an encrypted SNS topic for ticket-severity notices, subscribed to `notice_route`;
- per job of `jobs` (infra/derive/compliance.py: access review, audit export, audit checkpoint): its log group, a
  policy on the job's identity role (from VendorSecrets, which already reads
  exactly its secret) that adds "put objects under its own prefix, notify, log"
  (the review may also read the checkpoints), the Lambda (infra/lambdas), and an
  EventBridge Scheduler schedule with a role that may invoke only that Lambda;
- for the checkpoint: an asymmetric KMS signing key (ECC_NIST_P256, SIGN_VERIFY)
  that only the checkpoint job may sign with, and two ticket alarms on its
  metrics, to the ticket alarm topic: deviations found, and checkpoints missing
  for two intervals.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from infra.components.aws_blocks import LAMBDA_RUNTIME, customer_key, lambda_schedule, private_bucket
from infra.components.secrets import LAMBDA_DIR, LOG_RETENTION_DAYS, ReminderRoute
from infra.config import StackConfig
from infra.derive import iam
from infra.derive.compliance import (
    ANCHOR_KEY_SPEC,
    ANCHOR_SIGNING_ALGORITHM,
    CHECKPOINT_ENCRYPTION,
    CHECKPOINT_IDENTITY,
    CHECKPOINT_METRIC_NAMESPACE,
    CHECKPOINT_PREFIX,
    CHECKPOINTS_WRITTEN_METRIC,
    DORMANT_DAYS,
    RETENTION_DAYS,
    UNEXPECTED_ACCESS_METRIC,
    JobSpec,
    anchor_key_policy,
    archive_bucket_name,
    archive_bucket_policy,
    archive_key_policy,
    bucket_arn,
    checkpoint_policy,
    job_function_name,
    job_policy,
    notice_topic_name,
    notice_topic_policy,
)
from infra.errors import ModelError

RUNBOOK = "docs/runbook.md#audit-trail-anchors"


def _packaged(*modules: str, extra: dict[str, str] | None = None) -> pulumi.AssetArchive:
    """Lambda code that imports `infra.lambdas.<module>`: the files keep their repository paths.

    `extra` adds generated files (name -> text) beside them in infra/lambdas/.
    """
    assets: dict[str, pulumi.Asset] = {
        f"infra/lambdas/{m}.py": pulumi.FileAsset(str(LAMBDA_DIR / f"{m}.py")) for m in modules
    }
    assets |= {f"infra/lambdas/{name}": pulumi.StringAsset(text) for name, text in (extra or {}).items()}
    return pulumi.AssetArchive(assets)


class ComplianceJobsArgs(BaseModel):
    """What the jobs need: config, their identity roles and secrets (VendorSecrets), and where notices go."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    provider: aws.Provider
    review_input: dict  # infra.derive.compliance.review_input(model, assignments)
    # The jobs (infra.derive.compliance.compliance_jobs) and the identity roles (VendorSecrets) they run as.
    jobs: tuple[JobSpec, ...]
    job_roles: dict[str, aws.iam.Role]
    checkpoint_expected: dict  # infra.derive.compliance.checkpoint_expected(admin user, platform)
    review_client_secret_arn: pulumi.Output  # ops-hub/<env>/auth0/access-review-client
    exporter_secret_arn: pulumi.Output  # ops-hub/<env>/supabase/ops-audit-exporter
    checkpointer_secret_arn: pulumi.Output  # ops-hub/<env>/supabase/ops-audit-checkpointer
    lambda_layer_arn: pulumi.Output  # psycopg and cryptography
    notice_route: ReminderRoute
    # The topic CloudWatch alarms publish tickets to (VendorSecrets' alarm topic).
    alarm_topic_arn: pulumi.Output
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
        # The archive's key and the notice topic serve the jobs that write SSE-KMS objects and notify.
        self._key_users = [args.job_roles[j.identity] for j in args.jobs if j.notifies]
        self._bucket_name = archive_bucket_name(args.config.environment, args.config.aws_account_id)
        self._topic_name = notice_topic_name(args.config.environment)
        self.key = self._key()
        self.bucket = self._bucket()
        self.topic = self._topic()
        self.signing_key = self._signing_key()
        self.functions = {spec.job: self._job(spec, **self._runtime(spec.job)) for spec in args.jobs}
        self.review = self.functions["access-review"]
        self.export = self.functions["audit-export"]
        self.checkpoint = self.functions["audit-checkpoint"]
        self.checkpoint_alarms = self._checkpoint_alarms()
        self.register_outputs({
            "bucket": self.bucket.bucket,
            "key_arn": self.key.arn,
            "signing_key_arn": self.signing_key.arn,
            "notice_topic_arn": self.topic.arn,
            "review_function": self.review.name,
            "export_function": self.export.name,
            "checkpoint_function": self.checkpoint.name,
        })

    def _runtime(self, job: str) -> dict:
        """What differs between the jobs' Lambdas: code, handler, layers, environment and role policy."""
        cfg, args = self._args.config, self._args
        runtimes = {
            "access-review": lambda: {
                "code": pulumi.AssetArchive({
                    "access_review.py": pulumi.FileAsset(str(LAMBDA_DIR / "access_review.py")),
                    "review_input.json": pulumi.StringAsset(json.dumps(args.review_input, indent=2, sort_keys=True)),
                }),
                "handler": "access_review.lambda_handler",
                # cryptography signs the client assertion (private_key_jwt) with the client's key.
                "layers": [args.lambda_layer_arn],
                "environment": {
                    "AUTH0_DOMAIN": cfg.auth0_domain,
                    "CLIENT_SECRET_ARN": args.review_client_secret_arn,
                    "REVIEW_BUCKET": self.bucket.bucket,
                    "NOTICE_TOPIC_ARN": self.topic.arn,
                    "CHECKPOINT_PREFIX": CHECKPOINT_PREFIX,
                    "DORMANT_DAYS": str(DORMANT_DAYS),
                },
                "policy": lambda prefix, logs: self._notice_job_policy(prefix, logs, reads_checkpoints=True),
            },
            "audit-export": lambda: {
                "code": _packaged("audit_export", "database"),
                "handler": "infra.lambdas.audit_export.lambda_handler",
                "layers": [args.lambda_layer_arn],
                "environment": {
                    "EXPORTER_SECRET_ARN": args.exporter_secret_arn,
                    "ARCHIVE_BUCKET": self.bucket.bucket,
                    "NOTICE_TOPIC_ARN": self.topic.arn,
                },
                "policy": self._notice_job_policy,
            },
            "audit-checkpoint": lambda: {
                "code": _packaged(
                    "audit_checkpoint", "database",
                    extra={"checkpoint_expected.json": json.dumps(args.checkpoint_expected, indent=2, sort_keys=True)},
                ),
                "handler": "infra.lambdas.audit_checkpoint.lambda_handler",
                "layers": [args.lambda_layer_arn],
                "environment": {
                    "CHECKPOINTER_SECRET_ARN": args.checkpointer_secret_arn,
                    "ARCHIVE_BUCKET": self.bucket.bucket,
                    "CHECKPOINT_ENCRYPTION": CHECKPOINT_ENCRYPTION,
                    "SIGNING_KEY_ARN": self.signing_key.arn,
                    "SIGNING_ALGORITHM": ANCHOR_SIGNING_ALGORITHM,
                    "METRIC_NAMESPACE": CHECKPOINT_METRIC_NAMESPACE,
                    "ENVIRONMENT": cfg.environment,
                },
                "policy": lambda _prefix, logs: self._checkpoint_policy(logs),
            },
        }
        return runtimes[job]()

    # --- archive ------------------------------------------------------------------

    def _key(self) -> aws.kms.Key:
        cfg = self._args.config
        archive = bucket_arn(self._bucket_name)
        topic = iam.sns_topic_arn(cfg.aws_region, cfg.aws_account_id, self._topic_name)
        users = pulumi.Output.all(*[r.arn for r in self._key_users])
        return customer_key(
            f"{self._name}-key", f"{self._prefix}-compliance", f"Ops Hub {cfg.environment} compliance archive and notices",
            users.apply(lambda arns: archive_key_policy(cfg.aws_account_id, cfg.aws_region, arns, archive, topic).to_json()),
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
        publishers = pulumi.Output.all(topic.arn, *[r.arn for r in self._key_users])
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

    # --- the checkpoint's key and alarms ------------------------------------------

    def _signing_key(self) -> aws.kms.Key:
        cfg = self._args.config
        key = aws.kms.Key(
            f"{self._name}-signing-key",
            description=f"Ops Hub {cfg.environment} ops_audit checkpoint signatures",
            customer_master_key_spec=ANCHOR_KEY_SPEC,
            key_usage="SIGN_VERIFY",
            # KMS rotates only symmetric keys; a new signing key means a new key id in the checkpoints.
            enable_key_rotation=False,
            deletion_window_in_days=30,
            policy=self._args.job_roles[CHECKPOINT_IDENTITY].arn.apply(lambda arn: anchor_key_policy(cfg.aws_account_id, arn).to_json()),
            # Deleting it would leave the checkpoints checkable only against a saved public key.
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(protect=True)),
        )
        aws.kms.Alias(
            f"{self._name}-signing-key-alias", name=f"alias/{self._prefix}-audit-checkpoints", target_key_id=key.arn, opts=self._child
        )
        return key

    def _checkpoint_alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        cfg = self._args.config
        period = cfg.audit_checkpoint_minutes * 60
        common = {
            "namespace": CHECKPOINT_METRIC_NAMESPACE,
            "dimensions": {"Environment": cfg.environment},
            "period": period,
            "alarm_actions": [self._args.alarm_topic_arn],
            "ok_actions": [self._args.alarm_topic_arn],
        }
        unexpected = aws.cloudwatch.MetricAlarm(
            f"{self._name}-audit-unexpected-access",
            name=f"{self._prefix}-audit-unexpected-access",
            alarm_description="[ticket] The ops_audit checkpoint found an owner member, BYPASSRLS holder or superuser "
            f"beyond the expected, or a trail table without forced RLS. See {RUNBOOK}",
            metric_name=UNEXPECTED_ACCESS_METRIC,
            statistic="Maximum",
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            treat_missing_data="notBreaching",  # a missing checkpoint is the other alarm's
            **common,
            opts=self._child,
        )
        missing = aws.cloudwatch.MetricAlarm(
            f"{self._name}-audit-checkpoints-missing",
            name=f"{self._prefix}-audit-checkpoints-missing",
            alarm_description="[ticket] No ops_audit checkpoint was written for two intervals: the chain is not "
            f"anchored. See {RUNBOOK}",
            metric_name=CHECKPOINTS_WRITTEN_METRIC,
            statistic="Sum",
            evaluation_periods=2,
            comparison_operator="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
            **common,
            opts=self._child,
        )
        return [unexpected, missing]

    # --- jobs ---------------------------------------------------------------------

    def _notice_job_policy(self, prefix: str, logs_arn: pulumi.Output, *, reads_checkpoints: bool = False) -> pulumi.Output:
        region = self._args.config.aws_region
        return pulumi.Output.all(self.bucket.arn, self.key.arn, self.topic.arn, logs_arn).apply(
            lambda v: job_policy(v[0], prefix, v[1], v[2], v[3], region, reads_checkpoints=reads_checkpoints).to_json()
        )

    def _checkpoint_policy(self, logs_arn: pulumi.Output) -> pulumi.Output:
        return pulumi.Output.all(self.bucket.arn, self.signing_key.arn, logs_arn).apply(
            lambda v: checkpoint_policy(v[0], v[1], v[2]).to_json()
        )

    def _job(
        self,
        spec: JobSpec,
        *,
        code: pulumi.AssetArchive,
        handler: str,
        layers: list[pulumi.Output],
        environment: dict[str, pulumi.Input[str]],
        policy: Callable[[str, pulumi.Output], pulumi.Output],  # (prefix, the log group's ARN) -> the role policy's JSON
    ) -> aws.lambda_.Function:
        role = self._args.job_roles[spec.identity]
        job, prefix, schedule, description = spec.job, spec.prefix, spec.schedule, spec.description
        cfg = self._args.config
        base = f"{self._name}-{job}"
        function_name = job_function_name(cfg.environment, job)
        logs = aws.cloudwatch.LogGroup(
            f"{base}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=LOG_RETENTION_DAYS, opts=self._child
        )
        role_policy = aws.iam.RolePolicy(f"{base}-policy", role=role.id, policy=policy(prefix, logs.arn), opts=self._child)
        function = aws.lambda_.Function(
            base,
            name=function_name,
            description=description,
            runtime=LAMBDA_RUNTIME,
            handler=handler,
            code=code,
            layers=layers,
            role=role.arn,
            timeout=300,
            memory_size=512,
            # One run at a time: a retried schedule must not race the run it retries.
            reserved_concurrent_executions=1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[logs, role_policy])),
        )
        lambda_schedule(base, function_name, schedule, function, cfg.aws_account_id, cfg.aws_region, self._child)
        return function
