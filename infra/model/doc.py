"""docs/access-model.md: the access model as tables people review (generated, see infra/generated.py).

Roles with their flags and MFA requirement, the roles x permissions matrix, the
/ops routes with the permission each needs and the roles that reach it, the
segregation-of-duties pairs, and what the machine clients are granted in Auth0.
"""

from __future__ import annotations

from infra.derive.auth0 import needs_phishing_resistant
from infra.markdown import table
from infra.model.access import AccessModel

YES = "yes"
HELD = "✓"


def _code(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


def _mfa_requirement(model: AccessModel, role_name: str) -> str:
    role = model.role_by_name[role_name]
    if needs_phishing_resistant(model, role):
        return "phishing-resistant only: " + ", ".join(role.mfa)
    return "any of: " + ", ".join(role.mfa)


def _roles_section(model: AccessModel) -> list[str]:
    rows = [
        [
            f"`{r.name}`",
            r.description,
            YES if r.read_only else "",
            YES if model.is_privileged(r) else "",
            _mfa_requirement(model, r.name),
        ]
        for r in model.roles
    ]
    return [
        "## Roles",
        "",
        "Every role requires MFA. A privileged role holds a privileged permission and accepts only",
        "phishing-resistant factors; the post-login Action denies a sign-in that used another factor,",
        f"and challenges again when the MFA is older than {model.sign_in.mfa_max_age_minutes} minutes.",
        "",
        *table(["role", "description", "read-only", "privileged", "MFA"], rows),
    ]


def _matrix_section(model: AccessModel) -> list[str]:
    roles = [r.name for r in model.roles]
    rows = []
    for perm in model.permissions:
        flags = ", ".join(f for f, on in (("writes", perm.writes), ("privileged", perm.privileged)) if on)
        held = [HELD if perm.name in model.role_by_name[r].permissions else "" for r in roles]
        rows.append([f"`{perm.name}`", flags, *held])
    mfa_row = ["MFA", "", *("phishing-resistant" if needs_phishing_resistant(model, model.role_by_name[r]) else "any" for r in roles)]
    return [
        "## Roles × permissions",
        "",
        "Each role's Auth0 `RolePermissions` hold exactly the marked permissions of the ops API.",
        "",
        *table(["permission", "flags", *(f"`{r}`" for r in roles)], [*rows, mfa_row]),
    ]


def _routes_section(model: AccessModel) -> list[str]:
    rows = []
    for route in model.routes:
        perm = model.permission_by_name[route.permission]
        reached_by = [r.name for r in model.roles if route.permission in r.permissions]
        rows.append([route.method, f"`{route.path}`", f"`{route.permission}`", YES if perm.writes else "", _code(reached_by)])
    return ["## /ops routes", "", *table(["method", "path", "permission", "writes", "roles"], rows)]


def _sod_section(model: AccessModel) -> list[str]:
    rows = [[_code(pair.permissions), pair.reason] for pair in model.segregation_of_duties]
    return [
        "## Segregation of duties",
        "",
        "No role holds both permissions of a pair.",
        "",
        *table(["permissions", "reason"], rows),
    ]


def _machine_section(model: AccessModel) -> list[str]:
    rows = [[f"`{i.name}`", "ops API", _code(i.api_permissions)] for i in model.identities if i.api_permissions]
    rows += [
        [f"`{i.name}`", "Auth0 Management API (own client, read-only)", _code(i.management_api_scopes)]
        for i in model.identities
        if i.management_api_scopes
    ]
    return ["## Machine clients in Auth0", "", *table(["identity", "audience", "scopes"], rows)]


def render_access_model_doc(model: AccessModel) -> str:
    sections = [_roles_section(model), _matrix_section(model), _routes_section(model), _sod_section(model), _machine_section(model)]
    lines = ["# Access model", "", "Who may do what in the Ops Hub (`/ops`), from `infra/model/access.yaml`.", ""]
    for section in sections:
        lines += [*section, ""]
    return "\n".join(lines)


def _levels(model: AccessModel, role_name: str) -> str:
    role = model.role_by_name[role_name]
    reached = [(i.title, model.role_level(role, i)) for i in model.integrations]
    return ", ".join(f"{title} ({level})" for title, level in reached if level) or "none"


def _role_guide(model: AccessModel, role_name: str) -> list[str]:
    role = model.role_by_name[role_name]
    routes = [f"`{r.method} {r.path}`" for r in model.routes if r.permission in role.permissions]
    return [
        f"### `{role.name}`: {role.description}",
        "",
        f"- Can do in `/ops`: {', '.join(routes) or 'nothing'}",
        f"- Reaches: {_levels(model, role.name)}",
        f"- Sign-in: {_mfa_requirement(model, role.name)}",
        "",
    ]


def render_onboarding_doc(model: AccessModel) -> str:
    """docs/onboarding.md: how an operator gets a role, enrols MFA, and what each role can do."""
    lines = [
        "# Onboarding to the Ops Hub",
        "",
        "How an operator gets access to `/ops`, enrols MFA, and what each role can do.",
        "",
        "## Getting a role",
        "",
        "1. Pick the least role that covers the work (see below). Roles are combined only where no",
        "   segregation-of-duties pair results (see [access-model.md](access-model.md)).",
        "2. Open a pull request adding `{user, role, approver, approved, expires}` to `infra/model/assignments.yaml`.",
        "   `user` is your Auth0 user id (`auth0|...`); `approver` is someone else, who approves the pull",
        "   request. `opshub plan` refuses self-approval, unknown roles and SoD pairs.",
        "3. After the merge an Auth0 administrator assigns the role. The monthly access review lists any",
        "   holder without an approval, and any approval past its `expires` date.",
        "",
        "## Enrolling MFA",
        "",
        "Every ops role requires MFA at sign-in; you are asked to enrol at your first sign-in after the",
        "role is assigned. Recovery codes are on: store yours in your password manager.",
        "",
        "- Roles marked *phishing-resistant only* accept a security key (WebAuthn roaming) or the",
        "  device's platform authenticator (WebAuthn platform, such as Touch ID or Windows Hello). A",
        "  sign-in with another factor is denied.",
        "- Other roles also accept a one-time-password app.",
        "",
        "## What each role can do",
        "",
    ]
    for role in model.roles:
        lines += _role_guide(model, role.name)
    return "\n".join(lines)
