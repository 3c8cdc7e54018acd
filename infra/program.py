"""The Pulumi program: the access model and stack config in, one component per domain out.

`main()` is what the offline plan runs under mocks, and what `pulumi up` runs
through `run_for_pulumi()` (infra/__main__.py), which first checks the files a
real deployment uploads. `build()` takes everything as typed arguments,
so tests can run it with a changed model.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

import dashboards
from infra.alerting_files import dashboard_url
from infra.components.audit import OpsAudit, OpsAuditArgs
from infra.components.auth import OpsAuth, OpsAuthArgs
from infra.components.compliance import ComplianceJobs, ComplianceJobsArgs
from infra.components.observability import Observability, ObservabilityArgs
from infra.components.oncall import OnCall, OnCallArgs
from infra.components.providers import ProviderSettings, Providers
from infra.components.secrets import ReminderRoute, VendorSecrets, VendorSecretsArgs
from infra.config import StackConfig, StackSecrets, config_from_pulumi
from infra.derive.audit import derive_audit
from infra.derive.auth0 import derive_auth
from infra.derive.compliance import (
    CHECKPOINT_IDENTITY,
    EXPORT_IDENTITY,
    REVIEW_IDENTITY,
    checkpoint_expected,
    compliance_identities,
    review_input,
)
from infra.derive.grafana import folder_grants
from infra.derive.routing import routing_tree
from infra.errors import UsageError
from infra.lambda_layer import LAYER_DIR, require_lambda_layer
from infra.model.access import AccessModel, load_model
from infra.model.assignments import Assignments, load_assignments
from infra.model.observability import Catalogue, load_catalogue
from infra.model.platform import Platform, load_platform


def build(
    config: StackConfig,
    model: AccessModel,
    secrets: StackSecrets,
    catalogue: Catalogue | None = None,
    assignments: Assignments | None = None,
    platform: Platform | None = None,
) -> None:
    """Declare every domain of the stack from the model, the SLO catalogue (default: alerts/),
    the approved role assignments (default: infra/model/assignments.yaml), Supabase's platform
    principals (default: infra/model/platform.yaml) and config."""
    catalogue = catalogue or load_catalogue()
    assignments = assignments or load_assignments(model)
    platform = platform or load_platform()
    compliance_identities(model)
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
    # Auth0: the ops API, roles, MFA, the post-login Action and the machine clients.
    auth = OpsAuth("ops-auth", OpsAuthArgs(declarations=derive_auth(model, config), provider=providers.auth0))
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
                "auth0/access-review-client": auth.access_review.credentials_json(),
                "slack/webhook-url": secrets["opshub:slackWebhookUrl"],
            },
            reminder_route=ReminderRoute(protocol="email", endpoint=config.secret_alarm_email),
        ),
    )
    # Supabase ops_audit: schema, roles and grants, then the migrations (tables, RLS, triggers).
    audit = OpsAudit(
        "ops-audit",
        OpsAuditArgs(
            declarations=derive_audit(model, config),
            database=config.supabase_database,
            admin_user=config.supabase_admin_user,
            host=config.supabase_host,
            port=config.supabase_port,
            admin_password=secrets["opshub:supabaseAdminPassword"],
            login_passwords=vendor_secrets.initial_passwords,
            provider=providers.postgresql,
        ),
    )
    # What the migration files reported (e.g. "pg_cron is not enabled"), printed by `pulumi up`.
    pulumi.export("opsAuditMigrationNotices", audit.migrations.notices)
    # Grafana: SLO alerts, their routing to PagerDuty and Slack, and the dashboards.
    Observability(
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
    # Compliance: the monthly access review and audit export, the audit checkpoint, and the locked archive.
    roles = vendor_secrets.identity_roles
    ComplianceJobs(
        "compliance",
        ComplianceJobsArgs(
            config=config,
            provider=providers.aws,
            review_input=review_input(model, assignments),
            checkpoint_expected=checkpoint_expected(config.supabase_admin_user, platform),
            review_role=roles[REVIEW_IDENTITY],
            export_role=roles[EXPORT_IDENTITY],
            checkpoint_role=roles[CHECKPOINT_IDENTITY],
            review_client_secret_arn=vendor_secrets.secrets["auth0/access-review-client"].arn,
            exporter_secret_arn=vendor_secrets.secrets["supabase/ops-audit-exporter"].arn,
            checkpointer_secret_arn=vendor_secrets.secrets["supabase/ops-audit-checkpointer"].arn,
            psycopg_layer_arn=vendor_secrets.layer.arn,
            notice_route=ReminderRoute(protocol="email", endpoint=config.secret_alarm_email),
            alarm_topic_arn=vendor_secrets.alarm_topic.arn,
        ),
    )


def main() -> None:
    build(config_from_pulumi(), load_model(), StackSecrets())


def run_for_pulumi(layer_dir: Path = LAYER_DIR) -> None:
    """What `pulumi preview` and `pulumi up` run (infra/__main__.py).

    A user error (config, access model, the unbuilt Lambda layer) ends the run as a
    `pulumi.RunError`, which the CLI prints as a message without a traceback, and the
    layer is checked before anything is registered.
    """
    try:
        require_lambda_layer(layer_dir)
        main()
    except UsageError as exc:
        raise pulumi.RunError(exc.render()) from None
