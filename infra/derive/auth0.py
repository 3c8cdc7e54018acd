"""Auth0 declarations derived from the access model and stack config (pure, no Pulumi).

`derive_auth(model, config)` returns everything `OpsAuth` declares, as plain data:
the ops API and its scopes, one role per model role with exactly the model's
permissions, the Guardian factors the model allows, the post-login Action's
settings (and its code with them written in), the machine clients with their
grants (the backend on the ops API; the access review job, alone, on the
Management API, read-only), the /ops application and the operators' database
connections, and, where the stack owns the tenant, its session and attack
protection settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from infra.errors import ModelError
from infra.model.access import AccessModel, Identity, Role

if TYPE_CHECKING:
    from infra.config import StackConfig

# The identity whose client the Ops Hub backend uses, and the one the monthly
# access review uses to read Auth0 (a separate client, so the backend never
# holds Management API scopes).
BACKEND_IDENTITY = "ops-hub-runtime"
ACCESS_REVIEW_IDENTITY = "access-review-job"

ACTION_SOURCE = Path(__file__).resolve().parent.parent / "actions" / "post_login.js"
# The line of post_login.js that holds its settings; the deployed code carries the model's there.
ACTION_SETTINGS_LINE = "const SETTINGS = null; // opshub:settings"
ACTION_SETTINGS_MARKER = "; // opshub:settings"
ACTION_SETTINGS_PREFIX = "const SETTINGS = "
# Node runtimes Auth0 Actions support today (the post-login trigger v3); older ones are deprecated.
ACTION_RUNTIMES = ("node22",)

# How each model factor appears on auth0.Guardian (its engine property names), and the
# factors Guardian has that the model may not list (phone covers SMS and voice).
GUARDIAN_PROPERTIES = {
    "webauthn-roaming": "webauthnRoaming",
    "webauthn-platform": "webauthnPlatform",
    "otp": "otp",
    "recovery-code": "recoveryCode",
    "email": "email",
    "phone": "phone",
    "push": "push",
    "duo": "duo",
}
# The ops API's subject_type_authorization: users and machines only through a client grant.
SUBJECT_TYPE_POLICY = "require_client_grant"

# Asymmetric signing only: Supabase's third-party auth verifies RS256/PS256 tokens.
SIGNING_ALGORITHMS = ("RS256", "PS256")
SIGNING_ALGORITHM = "RS256"
# Machine clients: the one grant they use, their app type, and how they authenticate
# (docs/adr/0007-machine-client-authentication.md).
MACHINE_GRANT_TYPES = ("client_credentials",)
MACHINE_APP_TYPE = "non_interactive"
MACHINE_AUTH_METHODS = ("private_key_jwt",)
CLIENT_KEY_ALGORITHM = "RS256"
CLIENT_KEY_RSA_BITS = 2048
# The /ops application: a browser SPA, a public client using PKCE (no client secret).
OPS_APP_TYPE = "spa"
OPS_AUTH_METHOD = "none"

# The operators' database connections (strategy `auth0`).
PASSWORD_POLICIES = ("good", "excellent")
PASSWORD_POLICY = "good"
PASSWORD_MIN_LENGTH = 14
PASSWORD_HISTORY_SIZE = 5

# Attack protection: shields each protection must hold.
BRUTE_FORCE_SHIELDS = ("block", "user_notification")
BRUTE_FORCE_MAX_ATTEMPTS = 10
SUSPICIOUS_IP_SHIELDS = ("block", "admin_notification")
BREACHED_PASSWORD_SHIELDS = ("block", "admin_notification")
BREACHED_PASSWORD_SIGNUP_SHIELDS = ("block",)

# Model factor names Auth0 Guardian can offer. The WebAuthn and OTP names are
# also the `type` Auth0 reports for a completed MFA step in
# `event.authentication.methods`, which the post-login Action compares against.
GUARDIAN_FACTORS = ("webauthn-roaming", "webauthn-platform", "otp", "recovery-code")



@dataclass(frozen=True)
class ApiScope:
    name: str
    description: str


@dataclass(frozen=True)
class RoleDecl:
    name: str
    description: str
    permissions: tuple[str, ...]
    mfa: tuple[str, ...]
    needs_phishing_resistant: bool


@dataclass(frozen=True)
class GuardianDecl:
    """Which Guardian factors are on; factors the model does not name stay off."""

    webauthn_roaming: bool
    webauthn_platform: bool
    otp: bool
    recovery_code: bool
    policy: str = "all-applications"


@dataclass(frozen=True)
class ActionSettings:
    """What the post-login Action needs from the model and config, written into its code.

    Not Action secrets: the provider marks every secret value sensitive, so a policy (and a
    reviewer) could never see what the deployed Action enforces. These values are public.
    """

    claims_namespace: str
    phishing_resistant_roles: tuple[str, ...]
    phishing_resistant_factors: tuple[str, ...]
    fresh_mfa_roles: tuple[str, ...]
    mfa_max_age_seconds: int

    def document(self) -> dict[str, object]:
        """The settings object post_login.js reads (its field names)."""
        return {
            "claimsNamespace": self.claims_namespace,
            "phishingResistantRoles": list(self.phishing_resistant_roles),
            "phishingResistantFactors": list(self.phishing_resistant_factors),
            "freshMfaRoles": list(self.fresh_mfa_roles),
            "mfaMaxAgeSeconds": self.mfa_max_age_seconds,
        }

    def code(self, source: str) -> str:
        """post_login.js with these settings on its settings line (which must appear exactly once)."""
        if source.count(ACTION_SETTINGS_LINE) != 1:
            raise ModelError(str(ACTION_SOURCE), [f"expected the line {ACTION_SETTINGS_LINE!r} exactly once"])
        rendered = json.dumps(self.document(), sort_keys=True, separators=(",", ":"))
        return source.replace(ACTION_SETTINGS_LINE, f"{ACTION_SETTINGS_PREFIX}{rendered}{ACTION_SETTINGS_MARKER}")


@dataclass(frozen=True)
class GrantDecl:
    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class MachineClientDecl:
    identity: str
    description: str
    grant: GrantDecl
    # The model secret that holds the client's private key (private_key_jwt).
    key_secret: str


@dataclass(frozen=True)
class OpsAppDecl:
    """The /ops application operators sign in with: a SPA using Authorization Code with PKCE."""

    name: str
    description: str
    grant_types: tuple[str, ...]
    callbacks: tuple[str, ...]
    logout_urls: tuple[str, ...]
    web_origins: tuple[str, ...]
    # Refresh tokens rotate and expire with the session; without the refresh_token grant none are issued.
    refresh_token_lifetime: int
    refresh_token_idle_lifetime: int
    id_token_lifetime: int


@dataclass(frozen=True)
class ConnectionDecl:
    """A database connection of operators' accounts, enabled only for the /ops application."""

    name: str
    clients: tuple[str, ...]
    password_policy: str = PASSWORD_POLICY
    min_length: int = PASSWORD_MIN_LENGTH
    history_size: int = PASSWORD_HISTORY_SIZE


@dataclass(frozen=True)
class TenantDecl:
    """Tenant-wide settings, declared only where the stack owns the tenant."""

    idle_session_hours: int
    session_hours: int
    allowed_logout_urls: tuple[str, ...]


@dataclass(frozen=True)
class LogStreamDecl:
    """Every tenant log to an EventBridge partner event source in the stack's account (infra/derive/auth_logs.py)."""

    aws_account_id: str
    aws_region: str


@dataclass(frozen=True)
class AuthDeclarations:
    api_identifier: str
    token_lifetime: int
    scopes: tuple[ApiScope, ...]
    roles: tuple[RoleDecl, ...]
    guardian: GuardianDecl
    action: ActionSettings
    backend: MachineClientDecl
    access_review: MachineClientDecl
    ops_app: OpsAppDecl
    connections: tuple[ConnectionDecl, ...]
    # None where another team owns the tenant: see expected_tenant_protections().
    tenant: TenantDecl | None
    log_stream: LogStreamDecl


def needs_phishing_resistant(model: AccessModel, role: Role) -> bool:
    """A role whose every allowed factor is phishing-resistant (the model forces this on privileged roles)."""
    return set(role.mfa) <= model.phishing_resistant_factors


def api_scopes(model: AccessModel) -> tuple[ApiScope, ...]:
    return tuple(ApiScope(p.name, p.description) for p in model.permissions)


def role_declarations(model: AccessModel) -> tuple[RoleDecl, ...]:
    return tuple(
        RoleDecl(
            name=role.name,
            description=role.description,
            permissions=tuple(sorted(role.permissions)),
            mfa=role.mfa,
            needs_phishing_resistant=needs_phishing_resistant(model, role),
        )
        for role in model.roles
    )


def guardian_declaration(model: AccessModel) -> GuardianDecl:
    offered = {f.name for f in model.mfa_factors}
    unsupported = sorted(offered - set(GUARDIAN_FACTORS))
    if unsupported:
        raise ModelError(
            "access model",
            [f"mfa factor {name!r}: Auth0 Guardian is declared only for {list(GUARDIAN_FACTORS)}" for name in unsupported],
        )
    return GuardianDecl(
        webauthn_roaming="webauthn-roaming" in offered,
        webauthn_platform="webauthn-platform" in offered,
        otp="otp" in offered,
        recovery_code="recovery-code" in offered,
    )


def action_settings(model: AccessModel, claims_namespace: str) -> ActionSettings:
    return ActionSettings(
        claims_namespace=claims_namespace,
        phishing_resistant_roles=tuple(r.name for r in model.roles if needs_phishing_resistant(model, r)),
        phishing_resistant_factors=tuple(sorted(model.phishing_resistant_factors)),
        fresh_mfa_roles=tuple(r.name for r in model.roles if model.is_privileged(r)),
        mfa_max_age_seconds=model.sign_in.mfa_max_age_minutes * 60,
    )


def _identity(model: AccessModel, name: str, purpose: str) -> Identity:
    found = next((i for i in model.identities if i.name == name), None)
    if found is None:
        raise ModelError("access model", [f"identity {name!r}: missing; Auth0 declares its client for {purpose}"])
    return found


def client_key_secret(identity: str) -> str:
    """The model secret holding a machine client's private key: `auth0/<identity>-client`."""
    return f"auth0/{identity.removesuffix('-job')}-client"


def management_api_audience(auth0_domain: str) -> str:
    return f"https://{auth0_domain}/api/v2/"


def machine_clients(model: AccessModel, api_identifier: str, auth0_domain: str) -> tuple[MachineClientDecl, MachineClientDecl]:
    """The backend's client (ops API grant) and the access review's client (Management API, read-only)."""
    backend = _identity(model, BACKEND_IDENTITY, "the Ops Hub backend")
    review = _identity(model, ACCESS_REVIEW_IDENTITY, "the access review")
    problems = [
        f"identity {i.name!r}: its client authenticates with the key in secret {client_key_secret(i.name)!r}, "
        "which the model must declare and the identity read"
        for i in (backend, review)
        if client_key_secret(i.name) not in i.reads_secrets
    ]
    if not review.management_api_scopes:
        problems.append(f"identity {ACCESS_REVIEW_IDENTITY!r}: needs management_api_scopes to read users and roles")
    if problems:
        raise ModelError("access model", problems)
    return (
        MachineClientDecl(
            backend.name, backend.description, GrantDecl(api_identifier, tuple(sorted(backend.api_permissions))),
            client_key_secret(backend.name),
        ),
        MachineClientDecl(
            review.name, review.description,
            GrantDecl(management_api_audience(auth0_domain), tuple(review.management_api_scopes)),
            client_key_secret(review.name),
        ),
    )


def ops_app(model: AccessModel, config: StackConfig) -> OpsAppDecl:
    app = model.sign_in.application
    return OpsAppDecl(
        name=app.name,
        description=app.description,
        grant_types=tuple(config.ops_grant_types),
        callbacks=tuple(config.ops_callback_urls),
        logout_urls=tuple(config.ops_logout_urls),
        web_origins=tuple(config.ops_web_origins),
        refresh_token_lifetime=config.session_absolute_hours * 3600,
        refresh_token_idle_lifetime=config.session_idle_hours * 3600,
        id_token_lifetime=config.token_lifetime_seconds,
    )


def connections(model: AccessModel) -> tuple[ConnectionDecl, ...]:
    return tuple(ConnectionDecl(c.name, c.clients) for c in model.sign_in.connections)


def tenant(config: StackConfig) -> TenantDecl | None:
    if not config.auth0_tenant_owned:
        return None
    return TenantDecl(
        idle_session_hours=config.session_idle_hours,
        session_hours=config.session_absolute_hours,
        allowed_logout_urls=tuple(config.ops_logout_urls),
    )


def expected_tenant_protections(config: StackConfig) -> list[str]:
    """What a stack that does not own the tenant expects the tenant's owner to hold (docs/runbook.md)."""
    return [
        "attack protection: brute-force protection on (block, notify the user); suspicious IP throttling on (block, "
        "notify admins); breached password detection on (block at login and signup, notify admins)",
        f"sessions: idle at most {config.session_idle_hours} h, absolute at most {config.session_absolute_hours} h, "
        "non-persistent session cookie",
        "dynamic client registration off",
        f"allowed logout URLs exactly {', '.join(config.ops_logout_urls)}",
        "no default audience (the ops API's tokens go only to applications that ask for them)",
    ]


def derive_auth(model: AccessModel, config: StackConfig) -> AuthDeclarations:
    """Everything OpsAuth declares, from the model and the stack config."""
    backend, review = machine_clients(model, config.api_identifier, config.auth0_domain)
    return AuthDeclarations(
        api_identifier=config.api_identifier,
        token_lifetime=config.token_lifetime_seconds,
        scopes=api_scopes(model),
        roles=role_declarations(model),
        guardian=guardian_declaration(model),
        action=action_settings(model, config.claims_namespace),
        backend=backend,
        access_review=review,
        ops_app=ops_app(model, config),
        connections=connections(model),
        tenant=tenant(config),
        log_stream=LogStreamDecl(aws_account_id=config.aws_account_id, aws_region=config.aws_region),
    )
