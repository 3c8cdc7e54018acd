"""docs/access-model.md: the access model as tables people review (generated, see infra/generated.py).

Roles with their flags and MFA requirement, the roles x permissions matrix, the
/ops routes with the permission each needs and the roles that reach it, the
segregation-of-duties pairs, and what the machine clients are granted in Auth0.
"""

from __future__ import annotations

from infra.derive.auth0 import ACCESS_REVIEW_IDENTITY, ACCESS_REVIEW_MANAGEMENT_SCOPES, needs_phishing_resistant
from infra.model.access import AccessModel

YES = "yes"
HELD = "✓"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


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
        "phishing-resistant factors; the post-login Action denies a sign-in that used another factor.",
        "",
        *_table(["role", "description", "read-only", "privileged", "MFA"], rows),
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
        *_table(["permission", "flags", *(f"`{r}`" for r in roles)], [*rows, mfa_row]),
    ]


def _routes_section(model: AccessModel) -> list[str]:
    rows = []
    for route in model.routes:
        perm = model.permission_by_name[route.permission]
        reached_by = [r.name for r in model.roles if route.permission in r.permissions]
        rows.append([route.method, f"`{route.path}`", f"`{route.permission}`", YES if perm.writes else "", _code(reached_by)])
    return ["## /ops routes", "", *_table(["method", "path", "permission", "writes", "roles"], rows)]


def _sod_section(model: AccessModel) -> list[str]:
    rows = [[_code(pair.permissions), pair.reason] for pair in model.segregation_of_duties]
    return [
        "## Segregation of duties",
        "",
        "No role holds both permissions of a pair.",
        "",
        *_table(["permissions", "reason"], rows),
    ]


def _machine_section(model: AccessModel) -> list[str]:
    rows = [[f"`{i.name}`", "ops API", _code(i.api_permissions)] for i in model.identities if i.api_permissions]
    rows.append([f"`{ACCESS_REVIEW_IDENTITY}`", "Auth0 Management API (own client)", _code(ACCESS_REVIEW_MANAGEMENT_SCOPES)])
    return ["## Machine clients in Auth0", "", *_table(["identity", "audience", "scopes"], rows)]


def render_access_model_doc(model: AccessModel) -> str:
    sections = [_roles_section(model), _matrix_section(model), _routes_section(model), _sod_section(model), _machine_section(model)]
    lines = ["# Access model", "", "Who may do what in the Ops Hub (`/ops`), from `infra/model/access.yaml`.", ""]
    for section in sections:
        lines += [*section, ""]
    return "\n".join(lines)
