"""EngineeringMetrics: the daily engineering metrics job, where it publishes, and how people see it.

Creates, from `infra.derive.metrics.MetricsDecl` (explicit providers throughout):

- AWS: a customer-managed KMS key (rotation on) and the snapshot bucket: versioned,
  SSE-KMS with that key, all public access blocked, bucket-owner-enforced, and a
  policy refusing requests without TLS, principals outside the account and deletes;
  the job's log group; a policy on the job's identity role (from VendorSecrets, which
  already lets it read exactly its three secrets) that adds "put snapshots/* and
  latest.json, encrypt via S3, log"; the dependencies layer (`make lambda-layer`);
  the Lambda (infra/lambdas/metrics_snapshot.py with infra/metrics, the catalogue
  and the schema); an EventBridge Scheduler schedule whose role may invoke only it;
  an error alarm on the Lambda to the secret-alarm topic, as the rotation Lambdas have;
- Postgres: the NOLOGIN owner and groups (`ops_metrics_writer` appends, `ops_metrics_reader`
  for the Grafana datasource), the admin's membership in the owner, the schema with USAGE
  for the groups, `authenticated` and the backend's group, no EXECUTE for PUBLIC on the
  owner's functions, and the job's LOGIN role in the writer group with a connection limit
  (its first password comes from VendorSecrets, the rotation Lambda owns it afterwards).
  Migrations 0017-0019 (run by OpsAudit's migrations resource, which waits for
  `database_resources`) add the table, its RLS and grants. No role has any power;
- Grafana: the "Engineering metrics" dashboard in the Ops Hub folder, and a rule
  that opens a ticket when no good snapshot is newer than the catalogue's freshness
  bound (labels severity=ticket, so it is routed like the SLO tickets).
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql
import pulumiverse_grafana as grafana
from pydantic import BaseModel, ConfigDict

from infra.components.audit import NO_POWERS
from infra.components.aws_blocks import LAMBDA_RUNTIME, customer_key, lambda_error_alarm, lambda_layer, lambda_schedule, private_bucket
from infra.components.secrets import LAMBDA_DIR, LOG_RETENTION_DAYS
from infra.config import REPO_ROOT, StackConfig
from infra.derive.metrics import FreshnessRule, MetricsDecl, bucket_policy, job_policy, key_policy
from infra.lambda_layer import METRICS_LAYER_DIR

HANDLER = "metrics_snapshot.lambda_handler"
# The job's code: the handler at the archive's root and the modules it imports.
CODE_FILES = (
    "infra/__init__.py", "infra/errors.py", "infra/yamlio.py", "infra/markdown.py",
    "infra/model/__init__.py", "infra/model/metrics.py", "infra/model/metrics.yaml",
)
RULE_INTERVAL_SECONDS = 300
EXPRESSION_DATASOURCE = "__expr__"
SQL_DATASOURCE_TYPE = "grafana-postgresql-datasource"


def code_assets() -> dict[str, pulumi.Asset]:
    """Archive path -> file: the handler, infra/metrics (modules and schema) and what they import."""
    files = [*CODE_FILES, *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "infra" / "metrics").iterdir()
                                   if p.suffix in (".py", ".json"))]
    assets: dict[str, pulumi.Asset] = {"metrics_snapshot.py": pulumi.FileAsset(str(LAMBDA_DIR / "metrics_snapshot.py"))}
    assets.update({path: pulumi.FileAsset(str(REPO_ROOT / path)) for path in files})
    return assets


class EngineeringMetricsArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    declarations: MetricsDecl
    job_role: aws.iam.Role  # the metrics-job identity's role (VendorSecrets)
    secret_arns: dict[str, pulumi.Output]  # the job's model secret keys -> ARNs
    login_password: pulumi.Output  # first password of the job's database login
    database: str
    admin_user: str  # the login migrations run as: it joins the owner role to hand it the objects
    psycopg_layer_arn: pulumi.Output
    alarm_topic_arn: pulumi.Output
    dashboard_json: str
    dashboards_folder_uid: pulumi.Output
    alert_folder_uid: pulumi.Output
    freshness: FreshnessRule
    aws_provider: aws.Provider
    postgresql_provider: postgresql.Provider
    grafana_provider: grafana.Provider
    layer_dir: Path = METRICS_LAYER_DIR


class EngineeringMetrics(pulumi.ComponentResource):
    def __init__(self, name: str, args: EngineeringMetricsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:metrics:EngineeringMetrics", name, None, opts)
        self._name, self._args = name, args
        self._aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        self._prefix = f"ops-hub-{args.config.environment}"
        self._function_name = args.declarations.function_name
        self.key = self._key()
        self.bucket = self._bucket()
        self.function = self._job()
        self.schedule = self._schedule()
        self.error_alarm = self._error_alarm()
        self.database_resources = self._database()
        self.dashboard = grafana.oss.Dashboard(
            f"{name}-dashboard",
            folder=args.dashboards_folder_uid,
            config_json=args.dashboard_json,
            overwrite=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.grafana_provider),
        )
        self.freshness_rules = self._freshness_rules()
        self.register_outputs({
            "bucket": self.bucket.bucket,
            "key_arn": self.key.arn,
            "function": self.function.name,
            "login": self.login.name,
            "schema": self.schema.name,
        })

    # --- bucket -------------------------------------------------------------------

    def _key(self) -> aws.kms.Key:
        cfg = self._args.config
        return customer_key(
            f"{self._name}-key", f"{self._prefix}-metrics", f"Ops Hub {cfg.environment} engineering metrics snapshots",
            self._args.job_role.arn.apply(lambda arn: key_policy(cfg.aws_account_id, cfg.aws_region, arn).to_json()), self._aws,
        )

    def _bucket(self) -> aws.s3.Bucket:
        cfg = self._args.config
        snapshots = private_bucket(
            f"{self._name}-snapshots",
            self._args.declarations.bucket,
            self.key.arn,
            lambda arn: bucket_policy(arn, cfg.aws_account_id).to_json(),
            self._aws,
        )
        self.public_access, self.bucket_policy = snapshots.public_access, snapshots.policy
        return snapshots.bucket

    # --- the job ------------------------------------------------------------------------

    def _job(self) -> aws.lambda_.Function:
        args, cfg, decl = self._args, self._args.config, self._args.declarations
        logs = aws.cloudwatch.LogGroup(
            f"{self._name}-logs", name=f"/aws/lambda/{self._function_name}", retention_in_days=LOG_RETENTION_DAYS, opts=self._aws
        )
        self.job_policy = aws.iam.RolePolicy(
            f"{self._name}-job-policy",
            role=args.job_role.id,
            policy=pulumi.Output.all(self.bucket.arn, self.key.arn, logs.arn).apply(
                lambda v: job_policy(v[0], v[1], v[2], cfg.aws_region).to_json()
            ),
            opts=self._aws,
        )
        self.layer = lambda_layer(
            f"{self._name}-deps-layer", f"{self._prefix}-metrics-deps", str(args.layer_dir),
            "urllib3, jsonschema, pydantic and PyYAML pinned in pyproject.toml, built by `make lambda-layer`", self._aws,
        )
        return aws.lambda_.Function(
            f"{self._name}-snapshot",
            name=self._function_name,
            description="Daily engineering metrics snapshot: GitHub and PagerDuty to S3 and ops_metrics.snapshots",
            runtime=LAMBDA_RUNTIME,
            handler=HANDLER,
            code=pulumi.AssetArchive(code_assets()),
            layers=[args.psycopg_layer_arn, self.layer.arn],
            role=args.job_role.arn,
            timeout=900,
            memory_size=1024,
            # One run at a time: a retried schedule must not race the run it retries.
            reserved_concurrent_executions=1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "GITHUB_SECRET_ARN": args.secret_arns[decl.github_secret],
                "PAGERDUTY_SECRET_ARN": args.secret_arns[decl.pagerduty_secret],
                "DATABASE_SECRET_ARN": args.secret_arns[decl.database_secret],
                "SNAPSHOT_BUCKET": self.bucket.bucket,
            }),
            opts=pulumi.ResourceOptions.merge(self._aws, pulumi.ResourceOptions(depends_on=[logs, self.job_policy])),
        )

    def _schedule(self) -> aws.scheduler.Schedule:
        cfg = self._args.config
        return lambda_schedule(self._name, self._function_name, self._args.declarations.schedule, self.function,
                               cfg.aws_account_id, cfg.aws_region, self._aws)

    def _error_alarm(self) -> aws.cloudwatch.MetricAlarm:
        """A failed or partial run tickets the same day, as a failed rotation does."""
        return lambda_error_alarm(
            f"{self._name}-errors",
            f"{self._function_name}-errors",
            "The engineering metrics job failed or was partial; latest.json was kept. See docs/runbook.md#engineering-metrics",
            self.function,
            self._args.alarm_topic_arn,
            self._aws,
        )

    # --- database and Grafana ---------------------------------------------------------------

    def _database(self) -> list[pulumi.Resource]:
        """Roles, schema and grants; OpsAudit's migrations wait for all of them."""
        args, decl = self._args, self._args.declarations
        child = pulumi.ResourceOptions(parent=self, provider=args.postgresql_provider)
        self.owner = postgresql.Role(f"{self._name}-owner", name=decl.owner.name, login=False, **NO_POWERS, opts=child)
        self.groups = {
            g.name: postgresql.Role(f"{self._name}-{g.name.removeprefix('ops_metrics_')}", name=g.name, login=False, **NO_POWERS, opts=child)
            for g in decl.groups
        }
        admin = postgresql.GrantRole(f"{self._name}-admin-in-owner", role=args.admin_user, grant_role=self.owner.name, opts=child)
        self.schema = postgresql.Schema(
            f"{self._name}-schema", name=decl.schema, database=args.database, owner=self.owner.name,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[admin])),
        )
        grants = [
            postgresql.Grant(
                f"{self._name}-usage-{g.role}", database=args.database, schema=self.schema.name, object_type="schema",
                role=g.role, privileges=list(g.privileges),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(self.groups.values()))),
            )
            for g in decl.schema_grants
        ]
        defaults = [
            postgresql.DefaultPrivileges(
                f"{self._name}-default-{d.object_type}-{d.role}", database=args.database, schema=self.schema.name,
                owner=self.owner.name, role=d.role, object_type=d.object_type, privileges=list(d.privileges), opts=child,
            )
            for d in decl.default_privileges
        ]
        login = decl.login
        self.login = postgresql.Role(
            f"{self._name}-login-{login.name}",
            name=login.name,
            login=True,
            inherit=True,
            roles=[self.groups[g].name for g in login.member_of],
            connection_limit=login.connection_limit,
            password=pulumi.Output.secret(args.login_password),
            **NO_POWERS,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                # The rotation Lambda sets the password from the first rotation on.
                ignore_changes=["password"], additional_secret_outputs=["password"],
            )),
        )
        return [self.owner, *self.groups.values(), admin, self.schema, *grants, *defaults, self.login]

    def _freshness_rules(self) -> grafana.alerting.RuleGroup:
        args, rule = self._args, self._args.freshness
        uid = args.config.grafana_metrics_datasource_uid
        query = {"refId": "A", "datasource": {"type": SQL_DATASOURCE_TYPE, "uid": uid}, "rawSql": rule.sql,
                 "format": "table", "rawQuery": True, "editorMode": "code"}
        threshold = {"refId": "B", "type": "threshold", "expression": "A",
                     "conditions": [{"evaluator": {"type": "gt", "params": [rule.hours]}}],
                     "datasource": {"type": "__expr__", "uid": EXPRESSION_DATASOURCE}}
        window = grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(from_=600, to=0)
        return grafana.alerting.RuleGroup(
            f"{self._name}-freshness",
            name="engineering-metrics",
            folder_uid=args.alert_folder_uid,
            interval_seconds=RULE_INTERVAL_SECONDS,
            rules=[
                grafana.alerting.RuleGroupRuleArgs(
                    name=rule.alert,
                    condition="B",
                    for_="0s",
                    # The query always returns one row, so no data means it is broken: alert.
                    no_data_state="Alerting",
                    exec_err_state="Error",
                    labels=rule.labels,
                    annotations=rule.annotations,
                    datas=[
                        grafana.alerting.RuleGroupRuleDataArgs(ref_id="A", datasource_uid=uid, model=json.dumps(query), relative_time_range=window),
                        grafana.alerting.RuleGroupRuleDataArgs(ref_id="B", datasource_uid=EXPRESSION_DATASOURCE, model=json.dumps(threshold), relative_time_range=window),
                    ],
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.grafana_provider),
        )
