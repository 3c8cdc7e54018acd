"""Auth0 declarations derived from the access model and stack config (pure, no Pulumi).

`derive_auth(model, config)` returns everything `OpsAuth` declares, as plain data:
the ops API and its scopes, one role per model role with exactly the model's
permissions, the Guardian factors the model allows, the post-login Action's
settings, and the machine clients with their grants (the backend on the ops
API; the access review job, alone, on the Management API, read-only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.errors import ModelError
from infra.model.access import AccessModel, Role

if TYPE_CHECKING:
    from infra.config import StackConfig

# The identity whose client the Ops Hub backend uses, and the one the monthly
# access review uses to read Auth0 (a separate client, so the backend never
# holds Management API scopes).
BACKEND_IDENTITY = "ops-hub-runtime"
ACCESS_REVIEW_IDENTITY = "access-review-job"

# What the access review reads, and nothing more: users with their last login
# (read:users), roles and who holds them (read:roles, read:role_members), and
# each user's enrolled MFA factors (read:authentication_methods).
ACCESS_REVIEW_MANAGEMENT_SCOPES = ("read:users", "read:roles", "read:role_members", "read:authentication_methods")

# Model factor names Auth0 Guardian can offer. The WebAuthn and OTP names are
# also the `type` Auth0 reports for a completed MFA step in
# `event.authentication.methods`, which the post-login Action compares against.
GUARDIAN_FACTORS = ("webauthn-roaming", "webauthn-platform", "otp", "recovery-code")

# Names of the post-login Action's secrets; infra/actions/post_login.js reads them.
ACTION_SECRET_NAMESPACE = "CLAIMS_NAMESPACE"
ACTION_SECRET_PR_ROLES = "PHISHING_RESISTANT_ROLES"
ACTION_SECRET_PR_FACTORS = "PHISHING_RESISTANT_FACTORS"


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
    """What the post-login Action needs from the model and config, passed as Action secrets."""

    claims_namespace: str
    phishing_resistant_roles: tuple[str, ...]
    phishing_resistant_factors: tuple[str, ...]

    def secrets(self) -> dict[str, str]:
        return {
            ACTION_SECRET_NAMESPACE: self.claims_namespace,
            ACTION_SECRET_PR_ROLES: json.dumps(list(self.phishing_resistant_roles)),
            ACTION_SECRET_PR_FACTORS: json.dumps(list(self.phishing_resistant_factors)),
        }


@dataclass(frozen=True)
class GrantDecl:
    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class MachineClientDecl:
    identity: str
    description: str
    grant: GrantDecl


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
    )


def _identity(model: AccessModel, name: str, purpose: str) -> tuple[str, tuple[str, ...]]:
    found = next((i for i in model.identities if i.name == name), None)
    if found is None:
        raise ModelError("access model", [f"identity {name!r}: missing; Auth0 declares its client for {purpose}"])
    return found.description, found.api_permissions


def machine_clients(model: AccessModel, api_identifier: str, auth0_domain: str) -> tuple[MachineClientDecl, MachineClientDecl]:
    """The backend's client (ops API grant) and the access review's client (Management API, read-only)."""
    backend_description, backend_permissions = _identity(model, BACKEND_IDENTITY, "the Ops Hub backend")
    review_description, review_permissions = _identity(model, ACCESS_REVIEW_IDENTITY, "the access review")
    if review_permissions:
        raise ModelError(
            "access model",
            [f"identity {ACCESS_REVIEW_IDENTITY!r}: must hold no ops API permissions, it only reads Auth0; found {list(review_permissions)}"],
        )
    backend = MachineClientDecl(BACKEND_IDENTITY, backend_description, GrantDecl(api_identifier, tuple(sorted(backend_permissions))))
    review = MachineClientDecl(
        ACCESS_REVIEW_IDENTITY,
        review_description,
        GrantDecl(f"https://{auth0_domain}/api/v2/", ACCESS_REVIEW_MANAGEMENT_SCOPES),
    )
    return backend, review


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
    )
