"""The Pulumi program: the access model and stack config in, one component per domain out.

`main()` is what `pulumi up` runs through `run_for_pulumi()` (infra/__main__.py),
which first checks the files a real deployment uploads; the offline plan runs
`build_from()` with the inputs it loaded (infra/inputs.py). `build()` takes
everything as typed arguments, so tests can run it with a changed model.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

import dashboards
from infra.alerting_files import dashboard_url
from infra.components.audit import OpsAudit, OpsAuditArgs
from infra.components.auth import OpsAuth, OpsAuthArgs
from infra.components.auth_logs import AuthLogs, AuthLogsArgs
from infra.components.compliance import ComplianceJobs, ComplianceJobsArgs
from infra.components.metrics import EngineeringMetrics, EngineeringMetricsArgs
from infra.components.observability import DASHBOARDS_FOLDER_UID, Observability, ObservabilityArgs, team_folder_uid
from infra.components.oncall import OnCall, OnCallArgs
from infra.components.providers import ProviderSettings, Providers
from infra.components.secrets import ReminderRoute, VendorSecrets, VendorSecretsArgs
from infra.config import StackConfig, StackSecrets, config_from_pulumi
from infra.derive.audit import derive_audit
from infra.derive.auth0 import derive_auth, expected_tenant_protections
from infra.derive.auth_logs import derive_auth_logs
from infra.derive.compliance import checkpoint_expected, compliance_identities, compliance_jobs, job_function_name, review_input
from infra.derive.grafana import folder_grants
from infra.derive.metrics import derive_metrics, freshness_rule
from infra.derive.routing import routing_tree
from infra.errors import UsageError
from infra.inputs import ProgramInputs, load_inputs
from infra.lambda_layer import LAYER_DIR, METRICS_LAYER_DIR, require_lambda_layer, require_metrics_layer
from infra.model.access import AccessModel
from infra.model.assignments import Assignments, load_assignments
from infra.model.metrics import MetricsCatalogue
from infra.model.metrics import load_catalogue as load_metrics_catalogue
from infra.model.observability import Catalogue, load_catalogue
from infra.model.platform import Platform, load_platform


def build(
    config: StackConfig,
    model: AccessModel,
    secrets: StackSecrets,
    catalogue: Catalogue | None = None,
    assignments: Assignments | None = None,
    metrics_catalogue: MetricsCatalogue | None = None,
    platform: Platform | None = None,
) -> None:
    """Declare every domain of the stack from the model, the SLO catalogue (default: alerts/),
    the approved role assignments (default: infra/model/assignments.yaml), the metrics
    catalogue (default: infra/model/metrics.yaml), Supabase's platform principals
    (default: infra/model/platform.yaml) and config."""
    catalogue = catalogue or load_catalogue()
    assignments = assignments or load_assignments(model)
    platform = platform or load_platform()
    metrics_catalogue = metrics_catalogue or load_metrics_catalogue(permissions=frozenset(model.permission_by_name))
    metrics = derive_metrics(model, metrics_catalogue, config.environment, config.aws_account_id)
    jobs = compliance_jobs(config.audit_checkpoint_minutes)
    compliance_identities(model, jobs)
    providers = Providers(
        "opshub",
        ProviderSettings(
            config=config,
            auth0_client_secret=secrets["opshub:auth0ClientSecret"],
            supabase_admin_password=secrets["opshub:supabaseAdminPassword"],
            grafana_auth=secrets["opshub:grafanaAuth"],
            pagerduty_token=secrets["opshub:pagerdutyToken"],
        ),
    )
    # Auth0: the ops API, roles, MFA, the post-login Action, the machine clients, the /ops
    # application and its connection, and (where this stack owns it) the tenant's protections.
    auth = OpsAuth(
        "ops-auth",
        OpsAuthArgs(declarations=derive_auth(model, config), provider=providers.auth0, tls_provider=providers.tls),
    )
    if not config.auth0_tenant_owned:
        # `pulumi up` shows what this stack relies on the tenant's owner for (docs/runbook.md).
        pulumi.export("auth0TenantProtectionsExpected", expected_tenant_protections(config))
    # PagerDuty: on-call schedules, escalation, one service per team and its Events API key.
    oncall = OnCall("oncall", OnCallArgs(oncall=catalogue.oncall, pagerduty_team=config.pagerduty_team, provider=providers.pagerduty))
    # AWS Secrets Manager: vendor credentials, their KMS key, reader roles, rotation and reminders.
    vendor_secrets = VendorSecrets(
        "vendor-secrets",
        VendorSecretsArgs(
            config=config,
            model=model,
            provider=providers.aws,
            random_provider=providers.random,
            supabase_admin_password=secrets["opshub:supabaseAdminPassword"],
            provided_values={
                "pagerduty/routing-key": oncall.integration_key,
                "slack/webhook-url": secrets["opshub:slackWebhookUrl"],
                **{client.key_secret: client.credentials_json() for client in auth.machine_clients},
            },
            identity_functions={
                **{job.identity: job_function_name(config.environment, job.job) for job in jobs},
                metrics.identity: metrics.function_name,
            },
            reminder_route=ReminderRoute(protocol="email", endpoint=config.secret_alarm_email),
        ),
    )
    # AWS: the Auth0 tenant's logs kept as evidence, and a ticket on a burst of operators' failures.
    AuthLogs(
        "auth-logs",
        AuthLogsArgs(
            config=config,
            declarations=derive_auth_logs(model, config.environment),
            provider=providers.aws,
            partner_event_source=auth.log_stream.sink.aws_partner_event_source,
            ticket_topic_arn=vendor_secrets.alarm_topic.arn,
        ),
    )
    # Grafana: SLO alerts, their routing to PagerDuty and Slack, and the dashboards.
    observability = Observability(
        "observability",
        ObservabilityArgs(
            config=config,
            catalogue=catalogue,
            routing=routing_tree(catalogue.oncall),
            folder_grants=tuple(folder_grants(model)),
            dashboards=dashboards.render_all(catalogue),
            dashboard_url=dashboard_url(config),
            pagerduty_integration_keys=oncall.integration_keys,
            slack_webhook_url=secrets["opshub:slackWebhookUrl"],
            provider=providers.grafana,
        ),
    )
    # Engineering metrics: the daily snapshot job, its bucket and database login, dashboard and freshness ticket.
    engineering_metrics = EngineeringMetrics(
        "engineering-metrics",
        EngineeringMetricsArgs(
            config=config,
            declarations=metrics,
            job_role=vendor_secrets.identity_roles[metrics.identity],
            secret_arns={k: vendor_secrets.secrets[k].arn for k in (metrics.github_secret, metrics.pagerduty_secret, metrics.database_secret)},
            login_password=vendor_secrets.initial_passwords[metrics.login.name],
            database=config.supabase_database,
            admin_user=config.supabase_admin_user,
            psycopg_layer_arn=vendor_secrets.layer.arn,
            alarm_topic_arn=vendor_secrets.alarm_topic.arn,
            dashboard_json=dashboards.engineering_metrics_json(metrics_catalogue),
            dashboards_folder_uid=observability.folders[DASHBOARDS_FOLDER_UID].uid,
            alert_folder_uid=observability.folders[team_folder_uid(catalogue.oncall.default_team)].uid,
            freshness=freshness_rule(metrics, catalogue.oncall.default_team, catalogue.oncall.runbook_url),
            aws_provider=providers.aws,
            postgresql_provider=providers.postgresql,
            grafana_provider=providers.grafana,
        ),
    )
    # Supabase ops_audit: schema, roles and grants, then the migrations (tables, RLS, triggers).
    audit = OpsAudit(
        "ops-audit",
        OpsAuditArgs(
            declarations=derive_audit(model, config, metrics_read_roles=metrics.read_roles),
            database=config.supabase_database,
            admin_user=config.supabase_admin_user,
            host=config.supabase_host,
            port=config.supabase_port,
            admin_password=secrets["opshub:supabaseAdminPassword"],
            login_passwords=vendor_secrets.initial_passwords,
            provider=providers.postgresql,
            migrations_after=tuple(engineering_metrics.database_resources),
        ),
    )
    # What the migration files reported (e.g. "pg_cron is not enabled"), printed by `pulumi up`.
    pulumi.export("opsAuditMigrationNotices", audit.migrations.notices)
    # Compliance: the monthly access review and audit export, the audit checkpoint, and the locked archive.
    ComplianceJobs(
        "compliance",
        ComplianceJobsArgs(
            config=config,
            provider=providers.aws,
            review_input=review_input(model, assignments),
            jobs=jobs,
            job_roles=vendor_secrets.identity_roles,
            checkpoint_expected=checkpoint_expected(config.supabase_admin_user, platform),
            review_client_secret_arn=vendor_secrets.secrets[auth.access_review.key_secret].arn,
            exporter_secret_arn=vendor_secrets.secrets["supabase/ops-audit-exporter"].arn,
            checkpointer_secret_arn=vendor_secrets.secrets["supabase/ops-audit-checkpointer"].arn,
            lambda_layer_arn=vendor_secrets.layer.arn,
            notice_route=ReminderRoute(protocol="email", endpoint=config.secret_alarm_email),
            alarm_topic_arn=vendor_secrets.alarm_topic.arn,
        ),
    )


def build_from(inputs: ProgramInputs) -> None:
    """Declare the stack from inputs already loaded and checked."""
    build(inputs.config, inputs.model, StackSecrets(), inputs.catalogue, inputs.assignments, inputs.metrics, inputs.platform)


def main() -> None:
    """The real run: the engine's settings, and every other input checked with them at once."""
    build_from(load_inputs(pulumi.get_stack(), config=config_from_pulumi))


def run_for_pulumi(layer_dir: Path = LAYER_DIR, metrics_layer_dir: Path = METRICS_LAYER_DIR) -> None:
    """What `pulumi preview` and `pulumi up` run (infra/__main__.py).

    A user error (config, access model, the unbuilt Lambda layer) ends the run as a
    `pulumi.RunError`, which the CLI prints as a message without a traceback, and the
    layer is checked before anything is registered.
    """
    try:
        require_lambda_layer(layer_dir)
        require_metrics_layer(metrics_layer_dir)
        main()
    except UsageError as exc:
        raise pulumi.RunError(exc.render()) from None
