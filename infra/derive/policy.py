"""What the policy pack needs to know from the access model and the stack config, as plain data.

The pack reads it as `data.opshub.model` from the generated policies/model.rego
(pulumi-policy-opa loads only .rego files from the pack, so a data.json would be
invisible to `pulumi preview --policy-pack policies`). Allowed values and limits
come from here, never as constants repeated in Rego: the access model, the prod stack's
settings, and the paging facts of the SLO catalogue and on-call roster (alerts/).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra import config as stack_limits
from infra.derive import auth0
from infra.derive.auth_logs import EVIDENCE_RETENTION_DAYS
from infra.derive.compliance import CHECKPOINT_IDENTITY, compliance_jobs
from infra.derive.routing import PAGE_SEVERITY
from infra.derive.slo import EXEC_ERR_STATE, NO_DATA_STATE, PAGE_SEVERITY_LABEL
from infra.model.access import AccessModel
from infra.model.observability import Catalogue
from infra.model.vendor_scopes import policy_vocabularies

if TYPE_CHECKING:
    from infra.config import StackConfig

# Longest rotation period a secret may have: database logins rotated by Lambda at most
# 30 days, credentials rolled by hand (the rotator and admin logins too) at most 90.
DATABASE_ROTATION_LIMIT_DAYS = 30
VENDOR_ROTATION_LIMIT_DAYS = 90
# AWS-managed policies broad enough to be an escalation path on any role (Cloudsplaining's
# "privilege escalation / resource exposure" classes); glob patterns over the policy name.
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "*FullAccess")


def read_route_secrets(model: AccessModel) -> list[str]:
    """Secrets the backend uses for routes, none of which writes: their keys need no write scope."""
    uses: dict[str, list[bool]] = {}
    for route in model.routes:
        uses.setdefault(model.route_secret(route).key, []).append(model.route_writes(route))
    return sorted(key for key, writes in uses.items() if not any(writes))


def _auth0_data(model: AccessModel, config: StackConfig) -> dict[str, Any]:
    settings = auth0.action_settings(model, config.claims_namespace)
    return {
        "application": model.sign_in.application.name,
        "connections": {c.name: sorted(c.clients) for c in model.sign_in.connections},
        "mfa_factors": sorted(f.name for f in model.mfa_factors),
        "guardian_properties": auth0.GUARDIAN_PROPERTIES,
        "subject_type_policy": auth0.SUBJECT_TYPE_POLICY,
        "action_settings_prefix": auth0.ACTION_SETTINGS_PREFIX,
        "action_settings_marker": auth0.ACTION_SETTINGS_MARKER,
        "signing_algorithms": list(auth0.SIGNING_ALGORITHMS),
        "machine_grant_types": list(auth0.MACHINE_GRANT_TYPES),
        "machine_app_type": auth0.MACHINE_APP_TYPE,
        "machine_auth_methods": list(auth0.MACHINE_AUTH_METHODS),
        "ops_app_type": auth0.OPS_APP_TYPE,
        "ops_grant_types": list(stack_limits.OPS_GRANT_TYPES),
        "ops_auth_method": auth0.OPS_AUTH_METHOD,
        "action_runtimes": list(auth0.ACTION_RUNTIMES),
        "action_settings": settings.document(),
        "password_policies": list(auth0.PASSWORD_POLICIES),
        "password_min_length": auth0.PASSWORD_MIN_LENGTH,
        "session_max_idle_hours": stack_limits.SESSION_IDLE_HOURS[1],
        "session_max_absolute_hours": stack_limits.SESSION_ABSOLUTE_HOURS[1],
        "brute_force_shields": list(auth0.BRUTE_FORCE_SHIELDS),
        "suspicious_ip_shields": list(auth0.SUSPICIOUS_IP_SHIELDS),
        "breached_password_shields": list(auth0.BREACHED_PASSWORD_SHIELDS),
        "breached_password_signup_shields": list(auth0.BREACHED_PASSWORD_SIGNUP_SHIELDS),
    }


def paging_data(catalogue: Catalogue) -> dict[str, Any]:
    """What the paging rules hold a plan to: the catalogue's limits, the alert states and the
    PagerDuty severity the derivation sets, and the declared maintenance windows."""
    oncall = catalogue.oncall
    return {
        **oncall.paging_limits.seconds(),
        "max_escalation_delay_minutes": oncall.paging_limits.max_escalation_delay_minutes,
        "page_label": PAGE_SEVERITY_LABEL,
        "pagerduty_page_severity": PAGE_SEVERITY,
        "alert_states": {"noDataState": NO_DATA_STATE, "execErrState": EXEC_ERR_STATE},
        "maintenance_windows": {
            w.name: {"weekdays": list(w.weekdays), "start": w.start, "end": w.end, "location": w.location}
            for w in oncall.maintenance_windows
        },
    }


def policy_model_data(model: AccessModel, config: StackConfig, catalogue: Catalogue) -> dict[str, Any]:
    """The model facts the rules need: permissions, roles, SoD pairs, identities, secrets, paging,
    Auth0 and AWS limits, the compliance jobs' archive prefixes."""
    identities = {i.name for i in model.identities}
    jobs = compliance_jobs(config.audit_checkpoint_minutes)
    return {
        "paging": paging_data(catalogue),
        "permissions": {p.name: {"writes": p.writes, "privileged": p.privileged} for p in model.permissions},
        "roles": {
            r.name: {
                "permissions": sorted(r.permissions),
                "read_only": r.read_only,
                "privileged": model.is_privileged(r),
                "phishing_resistant_only": auth0.needs_phishing_resistant(model, r),
                "mfa": list(r.mfa),
            }
            for r in model.roles
        },
        "sod_pairs": [list(pair.permissions) for pair in model.segregation_of_duties],
        "identities": {
            i.name: {
                "api_permissions": sorted(i.api_permissions),
                "management_api_scopes": sorted(i.management_api_scopes),
                "reads_secrets": sorted(i.reads_secrets),
            }
            for i in model.identities
        },
        "secrets": {
            s.key: {
                "vendor": s.vendor,
                "database_credential": s.database_user is not None,
                "max_rotation_days": DATABASE_ROTATION_LIMIT_DAYS if s.rotation == "lambda" else VENDOR_ROTATION_LIMIT_DAYS,
                "rotation": s.rotation,
                "master": s.master or "",
                "stored_by_pulumi": s.stored_by_pulumi,
            }
            for s in model.secrets
        },
        "vendor_rotation_limit_days": VENDOR_ROTATION_LIMIT_DAYS,
        "read_route_secrets": read_route_secrets(model),
        "vendor_scopes": policy_vocabularies(),
        "auth0": _auth0_data(model, config),
        "aws": {
            "deploy_role_arn": config.deploy_role_arn,
            "broad_managed_policies": list(BROAD_MANAGED_POLICIES),
            "evidence_retention_days": EVIDENCE_RETENTION_DAYS,
        },
        # The compliance jobs' identities and the archive prefix each may add objects under.
        "archive_writers": {job.identity: job.prefix for job in jobs if job.identity in identities},
        # Identities whose role alone may sign with a SIGN_VERIFY key (the audit checkpoints).
        "checkpoint_signers": sorted({CHECKPOINT_IDENTITY} & identities),
    }
