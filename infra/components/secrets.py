"""VendorSecrets: the vendor credentials in AWS Secrets Manager, their key, readers and rotation.

Creates, all with the explicit AWS provider (random passwords with the
explicit `random` provider):

- a customer-managed KMS key (rotation on) and alias for the secrets, whose key
  policy lets the account administer it and only the named roles use it, only
  through Secrets Manager;
- one Secrets Manager secret per model secret, named `ops-hub/<env>/<vendor>/<purpose>`,
  with a resource policy (no principal outside the account, no request without
  TLS, and reads only by its readers: its identities' roles, its rotation
  Lambdas, and the deploy role where Pulumi stores the value) and its rotation
  plan as tags;
- the initial value of the database secrets (AWS's PostgreSQL JSON; a random
  password for the logins, the admin login for the admin secret), after which
  rotation or people own the value (`ignore_changes`); vendor API keys are
  created empty and filled by people (docs/runbook.md), except those the model
  marks `set_by: pulumi`, whose value another part of the program provides
  (`provided_values`, e.g. the PagerDuty integration key) and Pulumi keeps current;
- one IAM role per secret-reading identity (tagged `identity`), trusting its
  service only for the Lambda function (`identity_functions`) or ECS tasks of
  this account, with a policy reading exactly its secrets (exposed as
  `identity_roles` for the components that run those jobs);
- per Lambda-rotated secret: a rotation Lambda (`rotate_postgres.lambda_handler`
  from infra/lambdas, psycopg from the layer `make lambda-layer` builds), its
  role, log group, the permission for Secrets Manager to invoke it, and `SecretRotation`;
- the reminders: a Lambda run by EventBridge Scheduler that publishes each
  secret's age as a CloudWatch metric, one age alarm per secret, one error alarm
  per rotation Lambda, and an encrypted SNS topic subscribed to the routing
  target given in `reminder_route`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import BaseModel, ConfigDict

from infra.components.aws_blocks import LAMBDA_RUNTIME, lambda_error_alarm, lambda_layer
from infra.config import REPO_ROOT, StackConfig
from infra.derive import iam
from infra.derive.secrets import (
    AGE_METRIC_DIMENSION,
    AGE_METRIC_NAME,
    AGE_METRIC_NAMESPACE,
    RECOVERY_WINDOW_DAYS,
    REMINDER_RATE,
    IdentityPlan,
    SecretPlan,
    database_secret,
    identity_plans,
    secret_plans,
)
from infra.errors import ModelError
from infra.lambda_layer import LAYER_DIR
from infra.model.access import AccessModel

LAMBDA_DIR = REPO_ROOT / "infra" / "lambdas"
ROTATION_HANDLER = "rotate_postgres.lambda_handler"
REMINDER_HANDLER = "secret_age.lambda_handler"
LOG_RETENTION_DAYS = 365
RUNBOOK = "docs/runbook.md#secret-rotation"


class ReminderRoute(BaseModel):
    """Where secret-age alarms reach people: an SNS subscription (a ticket inbox or an HTTPS ticketing endpoint)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    protocol: Literal["email", "https"]
    endpoint: str | pulumi.Output


class VendorSecretsArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    model: AccessModel
    provider: aws.Provider
    random_provider: random.Provider
    supabase_admin_password: pulumi.Output
    # Model secret key -> a value the program knows (a secret Output), stored and kept current by
    # Pulumi: exactly the model's `set_by: pulumi` secrets that are not database logins.
    provided_values: dict[str, pulumi.Output] = {}
    # Identity -> the name of the Lambda function that runs as it (its role's aws:SourceArn).
    identity_functions: dict[str, str] = {}
    reminder_route: ReminderRoute
    layer_dir: Path = LAYER_DIR


def _check_wiring(args: VendorSecretsArgs) -> None:
    """Provided values fill exactly the model's Pulumi-set vendor secrets; every Lambda identity has its function."""
    model = args.model
    expected = {s.key for s in model.secrets if s.set_by == "pulumi" and not s.database_user and not s.database_admin}
    problems = [
        f"provided value for {key!r}: the access model declares no such secret"
        if key not in model.secret_by_key
        else f"provided value for {key!r}: the model does not mark it set_by: pulumi (or it is a database login)"
        for key in sorted(set(args.provided_values) - expected)
    ]
    problems += [f"secret {key!r}: set_by: pulumi, but the program provides no value" for key in sorted(expected - set(args.provided_values))]
    problems += [
        f"identity {i.name!r}: runs on lambda, but no function runs as it (identity_functions)"
        for i in model.identities
        if i.runs_on == "lambda" and i.reads_secrets and i.name not in args.identity_functions
    ]
    if problems:
        raise ModelError("vendor secrets", problems)


class VendorSecrets(pulumi.ComponentResource):
    """Secrets, key, reader roles, rotation and reminders for every credential in the access model."""

    def __init__(self, name: str, args: VendorSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:secrets:VendorSecrets", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        cfg = args.config
        self._prefix = f"ops-hub-{cfg.environment}"
        _check_wiring(args)
        plans = secret_plans(args.model, cfg.environment)
        self.plans = {p.key: p for p in plans}

        self.identity_roles = {
            ip.identity: self._role(
                f"{name}-{ip.identity}", ip.role_name, ip.service_principal, self._identity_source(ip), {"identity": ip.identity}
            )
            for ip in identity_plans(args.model, cfg.environment)
        }
        rotated = [p for p in plans if p.rotation == "lambda"]
        self.rotation_roles = {
            p.key: self._role(
                f"{name}-rotate-{p.slug}", self._rotation_function_name(p), "lambda.amazonaws.com",
                self._function_arn(self._rotation_function_name(p)), {"rotates": p.key},
            )
            for p in rotated
        }
        self.key = self._secrets_key()
        self.key_alias = aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{self._prefix}-secrets", target_key_id=self.key.arn, opts=self._child
        )
        self.secrets = {p.key: self._secret(p) for p in plans}
        self.secret_policies = {p.key: self._secret_policy(p) for p in plans}
        # First password of each rotated database user: OpsAudit creates the login with it.
        self.initial_passwords: dict[str, pulumi.Output] = {}
        self.initial_values = self._database_values(plans)
        self.provided_versions = {key: self._provided_version(key, value) for key, value in args.provided_values.items()}
        self.identity_policies = {
            ip.identity: self._reader_policy(ip) for ip in identity_plans(args.model, cfg.environment)
        }
        self.layer = lambda_layer(
            f"{name}-psycopg-layer", f"{self._prefix}-psycopg", str(args.layer_dir),
            "psycopg[binary] and cryptography pinned in pyproject.toml, built by `make lambda-layer`", self._child,
        )
        self.rotation_functions: dict[str, aws.lambda_.Function] = {}
        self.rotations = {p.key: self._rotation(p) for p in rotated}
        self._reminders(plans)
        self.register_outputs({
            "key_arn": self.key.arn,
            "secret_arns": {k: s.arn for k, s in self.secrets.items()},
            "identity_role_arns": {k: r.arn for k, r in self.identity_roles.items()},
            "alarm_topic_arn": self.alarm_topic.arn,
        })

    # --- roles, key and secrets ------------------------------------------------

    def _role(
        self, resource_name: str, role_name: str, service: str, source_arn: str, tags: dict[str, str] | None = None
    ) -> aws.iam.Role:
        trust = iam.assume_role_policy(service, self._args.config.aws_account_id, source_arn)
        return aws.iam.Role(resource_name, name=role_name, assume_role_policy=trust.to_json(), tags=tags, opts=self._child)

    def _function_arn(self, function_name: str) -> str:
        cfg = self._args.config
        return iam.lambda_function_arn(cfg.aws_region, cfg.aws_account_id, function_name)

    def _rotation_function_name(self, plan: SecretPlan) -> str:
        return f"{self._prefix}-rotate-{plan.slug}"

    def _identity_source(self, identity: IdentityPlan) -> str:
        """What may act as the identity: its one Lambda function, or any ECS task of this account and region."""
        cfg = self._args.config
        if identity.runs_on == "ecs":
            return iam.ecs_tasks_arn(cfg.aws_region, cfg.aws_account_id)
        return self._function_arn(self._args.identity_functions[identity.identity])

    def _secrets_key(self) -> aws.kms.Key:
        cfg = self._args.config
        readers = pulumi.Output.all(*[r.arn for r in self.identity_roles.values()])
        rotators = pulumi.Output.all(*[r.arn for r in self.rotation_roles.values()])
        policy = pulumi.Output.all(readers, rotators).apply(
            lambda arns: iam.secrets_key_policy(cfg.aws_account_id, cfg.aws_region, arns[0], arns[1]).to_json()
        )
        return aws.kms.Key(
            f"{self._name}-key",
            description=f"Ops Hub {cfg.environment} vendor secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
            opts=self._child,
        )

    def _secret(self, plan: SecretPlan) -> aws.secretsmanager.Secret:
        return aws.secretsmanager.Secret(
            f"{self._name}-{plan.slug}",
            name=plan.name,
            description=f"{plan.key}: rotation {plan.rotation} every {plan.rotation_days} days ({RUNBOOK})",
            kms_key_id=self.key.arn,
            recovery_window_in_days=RECOVERY_WINDOW_DAYS,
            tags=plan.tags,
            opts=self._child,
        )

    def _role_arns_reading(self, plan: SecretPlan) -> list[pulumi.Input[str]]:
        """Who may read a secret: its identities, the rotation Lambdas it belongs to or is master of,
        and the deploy role where Pulumi stores the value (it reads it back on refresh)."""
        arns: list[pulumi.Input[str]] = [self.identity_roles[i].arn for i in plan.readers]
        arns += [role.arn for key, role in self.rotation_roles.items() if plan.key in (key, self.plans[key].master)]
        if plan.seeded:
            arns.append(self._args.config.deploy_role_arn)
        return arns

    def _secret_policy(self, plan: SecretPlan) -> aws.secretsmanager.SecretPolicy:
        account = self._args.config.aws_account_id
        policy = pulumi.Output.all(*self._role_arns_reading(plan)).apply(
            lambda arns: iam.secret_resource_policy(account, arns).to_json()
        )
        return aws.secretsmanager.SecretPolicy(
            f"{self._name}-{plan.slug}-policy",
            secret_arn=self.secrets[plan.key].arn,
            policy=policy,
            block_public_policy=True,
            opts=self._child,
        )

    def _database_values(self, plans: list[SecretPlan]) -> dict[str, aws.secretsmanager.SecretVersion]:
        """First values of the database secrets; afterwards rotation (or people, for the admin and rotator) own them."""
        cfg = self._args.config
        versions = {}
        for plan in (p for p in plans if p.database_admin):
            value = pulumi.Output.all(self._args.supabase_admin_password).apply(
                lambda pw: json.dumps(database_secret(
                    cfg.supabase_host, cfg.supabase_port, cfg.supabase_database, cfg.supabase_admin_user, pw[0], None
                ))
            )
            versions[plan.key] = self._initial_version(plan, value)
        for plan in (p for p in plans if p.database_user):
            password = random.RandomPassword(
                f"{self._name}-{plan.slug}-initial-password", length=40, special=False,
                opts=pulumi.ResourceOptions(parent=self, provider=self._args.random_provider),
            )
            self.initial_passwords[plan.database_user] = password.result
            master_arn = self.secrets[plan.master].arn if plan.master else None
            value = pulumi.Output.all(password.result, master_arn).apply(
                lambda v, user=plan.database_user: json.dumps(database_secret(
                    cfg.supabase_host, cfg.supabase_port, cfg.supabase_database, user, v[0], v[1]
                ))
            )
            versions[plan.key] = self._initial_version(plan, value)
        return versions

    def _initial_version(self, plan: SecretPlan, value: pulumi.Output) -> aws.secretsmanager.SecretVersion:
        return aws.secretsmanager.SecretVersion(
            f"{self._name}-{plan.slug}-initial",
            secret_id=self.secrets[plan.key].arn,
            secret_string=pulumi.Output.secret(value),
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(ignore_changes=["secretString"])),
        )

    def _provided_version(self, key: str, value: pulumi.Output) -> aws.secretsmanager.SecretVersion:
        plan = self.plans[key]
        return aws.secretsmanager.SecretVersion(
            f"{self._name}-{plan.slug}-value",
            secret_id=self.secrets[key].arn,
            secret_string=pulumi.Output.secret(value),
            opts=self._child,
        )

    def _reader_policy(self, identity: IdentityPlan) -> aws.iam.RolePolicy:
        cfg = self._args.config
        arns = pulumi.Output.all(*[self.secrets[k].arn for k in identity.secrets])
        policy = pulumi.Output.all(arns, self.key.arn).apply(
            lambda v: iam.reader_policy(v[0], v[1], cfg.aws_region).to_json()
        )
        return aws.iam.RolePolicy(
            f"{self._name}-{identity.identity}-reads",
            role=self.identity_roles[identity.identity].id,
            policy=policy,
            opts=self._child,
        )

    # --- rotation ----------------------------------------------------------------

    def _log_group(self, resource_name: str, function_name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            resource_name, name=f"/aws/lambda/{function_name}", retention_in_days=LOG_RETENTION_DAYS, opts=self._child
        )

    def _rotation(self, plan: SecretPlan) -> aws.secretsmanager.SecretRotation:
        cfg = self._args.config
        base = f"{self._name}-rotate-{plan.slug}"
        function_name = self._rotation_function_name(plan)
        role = self.rotation_roles[plan.key]
        logs = self._log_group(f"{base}-logs", function_name)
        secret, master = self.secrets[plan.key], self.secrets[plan.master]
        policy = aws.iam.RolePolicy(
            f"{base}-policy",
            role=role.id,
            policy=pulumi.Output.all(secret.arn, master.arn, self.key.arn, logs.arn).apply(
                lambda v: iam.rotation_policy(v[0], v[1], v[2], cfg.aws_region, v[3]).to_json()
            ),
            opts=self._child,
        )
        function = aws.lambda_.Function(
            base,
            name=function_name,
            description=f"Rotates {plan.name}, alternating {plan.database_user} and {plan.database_user}_clone",
            runtime=LAMBDA_RUNTIME,
            handler=ROTATION_HANDLER,
            code=pulumi.AssetArchive({"rotate_postgres.py": pulumi.FileAsset(str(LAMBDA_DIR / "rotate_postgres.py"))}),
            layers=[self.layer.arn],
            role=role.arn,
            timeout=60,
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[logs, policy])),
        )
        self.rotation_functions[plan.key] = function
        permission = aws.lambda_.Permission(
            f"{base}-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret.arn,
            source_account=cfg.aws_account_id,
            opts=self._child,
        )
        return aws.secretsmanager.SecretRotation(
            f"{base}-schedule",
            secret_id=secret.arn,
            rotation_lambda_arn=function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=plan.rotation_days,
            ),
            opts=pulumi.ResourceOptions.merge(
                self._child,
                # Rotation starts at once: the function must be invocable and the first value stored.
                pulumi.ResourceOptions(depends_on=[permission, self.secret_policies[plan.key], self.initial_values[plan.key]]),
            ),
        )

    # --- reminders ----------------------------------------------------------------

    def _reminders(self, plans: list[SecretPlan]) -> None:
        base = f"{self._name}-secret-age"
        function_name = f"{self._prefix}-secret-age"
        role = self._role(f"{base}-role", function_name, "lambda.amazonaws.com", self._function_arn(function_name))
        logs = self._log_group(f"{base}-logs", function_name)
        arns = pulumi.Output.all(*[self.secrets[p.key].arn for p in plans])
        policy = aws.iam.RolePolicy(
            f"{base}-policy",
            role=role.id,
            policy=pulumi.Output.all(arns, logs.arn).apply(
                lambda v: iam.reminder_policy(v[0], AGE_METRIC_NAMESPACE, v[1]).to_json()
            ),
            opts=self._child,
        )
        self.reminder_function = aws.lambda_.Function(
            base,
            name=function_name,
            description="Publishes the age of every Ops Hub secret's current value as a CloudWatch metric",
            runtime=LAMBDA_RUNTIME,
            handler=REMINDER_HANDLER,
            code=pulumi.AssetArchive({"secret_age.py": pulumi.FileAsset(str(LAMBDA_DIR / "secret_age.py"))}),
            role=role.arn,
            timeout=60,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "SECRET_ARNS": arns.apply(lambda values: json.dumps(sorted(values))),
                "METRIC_NAMESPACE": AGE_METRIC_NAMESPACE,
            }),
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[logs, policy])),
        )
        self.reminder_schedule = self._schedule(base)
        self.alarm_topic = self._alarm_topic()
        self.alarms = {p.key: self._age_alarm(p) for p in plans}
        self.rotation_error_alarms = {key: self._error_alarm(self.plans[key]) for key in self.rotation_functions}

    def _schedule(self, base: str) -> aws.scheduler.Schedule:
        cfg = self._args.config
        role = self._role(
            f"{base}-scheduler-role", f"{self._prefix}-secret-age-scheduler", "scheduler.amazonaws.com",
            iam.schedule_group_arn(cfg.aws_region, cfg.aws_account_id),
        )
        aws.iam.RolePolicy(
            f"{base}-scheduler-policy",
            role=role.id,
            policy=self.reminder_function.arn.apply(lambda arn: iam.scheduler_invoke_policy(arn).to_json()),
            opts=self._child,
        )
        return aws.scheduler.Schedule(
            f"{base}-schedule",
            name=f"{self._prefix}-secret-age",
            schedule_expression=REMINDER_RATE,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(arn=self.reminder_function.arn, role_arn=role.arn),
            opts=self._child,
        )

    def _alarm_topic(self) -> aws.sns.Topic:
        cfg = self._args.config
        topic_name = f"{self._prefix}-secret-alarms"
        key = aws.kms.Key(
            f"{self._name}-alarm-key",
            description=f"Ops Hub {cfg.environment} secret-age alarm topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=iam.alarm_topic_key_policy(
                cfg.aws_account_id, cfg.aws_region, iam.sns_topic_arn(cfg.aws_region, cfg.aws_account_id, topic_name)
            ).to_json(),
            opts=self._child,
        )
        topic = aws.sns.Topic(f"{self._name}-alarms", name=topic_name, kms_master_key_id=key.arn, opts=self._child)
        aws.sns.TopicPolicy(
            f"{self._name}-alarms-policy",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: iam.alarm_topic_policy(arn, cfg.aws_account_id, cfg.aws_region).to_json()),
            opts=self._child,
        )
        route = self._args.reminder_route
        self.alarm_subscription = aws.sns.TopicSubscription(
            f"{self._name}-alarms-route",
            topic=topic.arn,
            protocol=route.protocol,
            endpoint=route.endpoint,
            opts=self._child,
        )
        return topic

    def _age_alarm(self, plan: SecretPlan) -> aws.cloudwatch.MetricAlarm:
        what = "is due for rotation by hand" if plan.rotation == "reminder" else "has not rotated on schedule"
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{plan.slug}-age",
            name=f"{self._prefix}-secret-age-{plan.slug}",
            alarm_description=f"{plan.name} {what} (every {plan.rotation_days} days). See {RUNBOOK}",
            namespace=AGE_METRIC_NAMESPACE,
            metric_name=AGE_METRIC_NAME,
            dimensions={AGE_METRIC_DIMENSION: plan.name},
            statistic="Maximum",
            period=86400,
            evaluation_periods=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=plan.alarm_after_days,
            # No age reported for a day means the reminder itself is broken: that tickets too.
            treat_missing_data="breaching",
            alarm_actions=[self.alarm_topic.arn],
            opts=self._child,
        )

    def _error_alarm(self, plan: SecretPlan) -> aws.cloudwatch.MetricAlarm:
        """A failed rotation step tickets the same day, long before the secret-age alarm would."""
        return lambda_error_alarm(
            f"{self._name}-rotate-{plan.slug}-errors",
            f"{self._prefix}-rotation-errors-{plan.slug}",
            f"Rotation of {plan.name} failed; AWSCURRENT still works. See {RUNBOOK}",
            self.rotation_functions[plan.key],
            self.alarm_topic.arn,
            self._child,
        )
