"""The declared-access report as plain data: a plan's resources joined with the model it carries.

`report_for(planned)` returns a JSON-ready dict that every renderer reads.
Where the plan declares a domain (Auth0 roles, IAM, Postgres, secrets) the
report states what the plan declares and names any drift from the model;
where it does not, it falls back to the model and says so in `sources`.
Everything comes from the plan (infra/report/planned.py), never from the
checkout. The fingerprint hashes the declared graph (resources + model) and
the report's access content, so two reports with the same access have the same
`report_sha256` whatever revision produced them and whenever they were made:
`revision`, `identity`, `generated_at` and `since_review` are outside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from infra.config import StackConfig
from infra.model.access import LEVEL_ORDER, AccessModel, Role
from infra.model.assignments import Assignments
from infra.provenance import canonical_sha256
from infra.report.credentials import credential_reach
from infra.report.declared import Declared, read_declared
from infra.report.findings import PolicyResult, evaluate
from infra.report.planned import PlannedRevision
from infra.report.sign_in import archive_writers, sign_in_applications
from infra.report.trail import trail_principals

DEPLOY_ROLE_KEY = StackConfig.model_fields["deploy_role_arn"].alias

DECLARED = "declared in the plan"
MODEL_ONLY = "access model only: the plan declares no resource for this yet"

# Keys of the report that describe where and when it was made, not the access it shows.
OUTSIDE_FINGERPRINT = ("revision", "identity", "generated_at", "since_review", "fingerprint")


def _role_permissions(role: Role, declared: Declared) -> tuple[list[str], dict[str, list[str]]]:
    """The permissions the plan gives the role, and how they differ from the model."""
    modelled = set(role.permissions)
    if declared.auth0_roles is None:
        return sorted(modelled), {}
    held = set(declared.auth0_roles.get(role.name, ()))
    drift = {"declared_not_modelled": sorted(held - modelled), "modelled_not_declared": sorted(modelled - held)}
    return sorted(held), {k: v for k, v in drift.items() if v}


def _identity_reads(model: AccessModel, declared: Declared) -> dict[str, list[str]]:
    """Secret keys each identity can read: from its IAM role(s) when declared, else from the model."""
    if declared.iam_reads is None:
        return {i.name: sorted(i.reads_secrets) for i in model.identities}
    reads = {}
    for ident in model.identities:
        roles = [name for name in declared.iam_reads if ident.name in name]
        reads[ident.name] = sorted({k for name in roles for k in declared.iam_reads[name]})
    return reads


def _policies_for(role_name: str, declared: Declared) -> list[str]:
    """RLS policies that give this ops role rows: those naming it or testing a claim list that holds it."""
    return [
        f"{p.name} ({p.command} on {p.table}, to {', '.join(p.to)})"
        for p in declared.rls_policies or ()
        if role_name in p.ops_roles
    ]


def _reach(model: AccessModel, permissions: list[str], reads: dict[str, list[str]], role_name: str, declared: Declared) -> list[dict]:
    """Per permission: the /ops routes, the integrations, the database rows and the backend's secrets."""
    server = next((i.name for i in model.identities if i.serves_routes), None)
    server_reads = set(reads.get(server, [])) if server else set()
    rows = []
    for perm in permissions:
        integrations = [i for i in model.integrations if perm in i.grants]
        vendors = {i.name for i in integrations}
        rows.append(
            {
                "permission": perm,
                "routes": [
                    r.label + (f" (records {r.audit_action})" if r.audit_action else "")
                    for r in model.routes
                    if r.permission == perm
                ],
                "integrations": [f"{i.title}: {i.grants[perm]}" for i in integrations],
                "database": _policies_for(role_name, declared) if "supabase" in vendors else [],
                "secrets": sorted(k for k in server_reads if k.split("/")[0] in vendors),
                "via": server if vendors & {k.split("/")[0] for k in server_reads} else None,
            }
        )
    return rows


def _levels(model: AccessModel, permissions: list[str]) -> dict[str, str]:
    """The highest level the permissions grant on each integration (e.g. stripe: edit)."""
    levels: dict[str, str] = {}
    for integration in model.integrations:
        granted = [integration.grants[p] for p in permissions if p in integration.grants]
        if granted:
            levels[integration.name] = max(granted, key=LEVEL_ORDER.__getitem__)
    return levels


def _roles(model: AccessModel, declared: Declared, reads: dict[str, list[str]]) -> list[dict]:
    out = []
    for role in model.roles:
        permissions, drift = _role_permissions(role, declared)
        reach = _reach(model, permissions, reads, role.name, declared)
        out.append(
            {
                "name": role.name,
                "description": role.description,
                "read_only": role.read_only,
                "privileged": any(model.permission_by_name[p].privileged for p in permissions if p in model.permission_by_name),
                "mfa": list(role.mfa),
                "mfa_phishing_resistant_only": set(role.mfa) <= model.phishing_resistant_factors,
                "permissions": permissions,
                "drift": drift,
                "reach": reach,
                "secrets": sorted({k for row in reach for k in row["secrets"]}),
                "database": _policies_for(role.name, declared),
                "integrations": _levels(model, permissions),
            }
        )
    unmodelled = sorted(set(declared.auth0_roles or {}) - set(model.role_by_name))
    out += [
        {
            "name": name,
            "description": "declared in the plan but absent from the access model",
            "read_only": False,
            "privileged": False,
            "mfa": [],
            "mfa_phishing_resistant_only": False,
            "permissions": list(declared.auth0_roles[name]),
            "drift": {"declared_not_modelled": list(declared.auth0_roles[name])},
            "reach": [],
            "secrets": [],
            "database": [],
            "integrations": _levels(model, list(declared.auth0_roles[name])),
        }
        for name in unmodelled
    ]
    return out


def _readers(credentials: list[dict]) -> dict[str, list[str]]:
    """Per secret key, the principals that can read its value (people only use it, so they are not readers)."""
    return {c["key"]: sorted(p["principal"] for p in c["principals"] if "read" in p["access"]) for c in credentials}


def _secrets(model: AccessModel, declared: Declared, reads: dict[str, list[str]], credentials: list[dict]) -> list[dict]:
    readers = _readers(credentials) if declared.secrets is not None else {}
    out = []
    for spec in model.secrets:
        found = (declared.secrets or {}).get(spec.key)
        out.append(
            {
                "key": spec.key,
                "name": found.name if found else None,
                "rotation": spec.rotation,
                "rotation_days": spec.rotation_days,
                "database_user": spec.database_user,
                "declared_rotation_days": found.rotation_days if found else None,
                "declared_rotation_lambda": found.rotation_lambda if found else False,
                "customer_kms_key": found.kms_key if found else None,
                # What the key may do at its vendor, as the declared secret's tags say.
                "vendor_scopes": list(found.vendor_scopes) if found else [],
                "readers": readers.get(spec.key) or sorted(name for name, keys in reads.items() if spec.key in keys),
            }
        )
    return out


def _identities(model: AccessModel, declared: Declared, reads: dict[str, list[str]]) -> list[dict]:
    out = []
    for ident in model.identities:
        grants = sorted({s for client, scopes in declared.client_grants.items() if ident.name in client for s in scopes})
        drift = sorted(set(reads[ident.name]) - set(ident.reads_secrets))
        out.append(
            {
                "name": ident.name,
                "description": ident.description,
                "serves_routes": ident.serves_routes,
                "api_permissions": list(ident.api_permissions),
                "client_grants": grants,
                "secrets": reads[ident.name],
                "reads_beyond_model": drift,
            }
        )
    return out


def _sod(model: AccessModel, roles: list[dict]) -> list[dict]:
    """Each pair: roles holding both (a violation) and role combinations a person must not hold together."""
    out = []
    for pair in model.segregation_of_duties:
        a, b = pair.permissions
        holders_a = {r["name"] for r in roles if a in r["permissions"]}
        holders_b = {r["name"] for r in roles if b in r["permissions"]}
        violating = sorted(holders_a & holders_b)
        out.append(
            {
                "permissions": [a, b],
                "reason": pair.reason,
                "status": "violated" if violating else "holds",
                "roles_holding_both": violating,
                "conflicting_role_pairs": sorted(
                    [x, y] for x in holders_a for y in holders_b if x != y and x not in holders_b and y not in holders_a
                ),
            }
        )
    return out


def _database(declared: Declared) -> dict:
    return {
        "source": DECLARED if declared.db_roles is not None else MODEL_ONLY,
        "roles": [r.as_dict() for r in declared.db_roles or ()],
        "grants": [g.as_dict() for g in declared.db_grants],
        "rls_policies": [p.as_dict() for p in declared.rls_policies or ()],
        "unverified_migrations": list(declared.rls_unverified),
    }


def _people(roles: list[dict], assignments: Assignments | None, model: AccessModel) -> dict[str, Any]:
    """Approved holders per role, and the segregation-of-duties pairs any one person would hold."""
    if assignments is None:
        return {"available": False, "roles": [], "persons": []}
    by_role = {r["name"]: r for r in roles}
    holders: dict[str, list[dict]] = {r["name"]: [] for r in roles}
    for a in assignments.assignments:
        entry = {"user": a.user, "approver": a.approver, "approved": a.approved.isoformat(), "expires": a.expires.isoformat()}
        holders.setdefault(a.role, []).append(entry)
    persons = []
    for user in sorted({a.user for a in assignments.assignments}):
        held = sorted({a.role for a in assignments.assignments if a.user == user})
        permissions = {p for r in held for p in by_role.get(r, {}).get("permissions", [])}
        pairs = [list(pair.permissions) for pair in model.segregation_of_duties if set(pair.permissions) <= permissions]
        persons.append({"user": user, "roles": held, "sod_pairs": pairs})
    return {
        "available": True,
        "roles": [{"role": name, "holders": sorted(h, key=lambda e: e["user"])} for name, h in holders.items()],
        "persons": persons,
    }


def build_report(
    planned: PlannedRevision, findings: PolicyResult, generated_at: str, since_review: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole report; `fingerprint.report_sha256` covers everything but OUTSIDE_FINGERPRINT."""
    model = planned.model
    declared = read_declared(planned.resources, planned.sql_files)
    reads = _identity_reads(model, declared)
    roles = _roles(model, declared, reads)
    credentials = credential_reach(
        planned.resources, model, declared.secrets, roles, planned.assignments, planned.config.get(DEPLOY_ROLE_KEY)
    )
    body = {
        "stack": planned.stack,
        "sources": {
            "auth0_roles": DECLARED if declared.auth0_roles is not None else MODEL_ONLY,
            "iam_secret_access": DECLARED if declared.iam_reads is not None else MODEL_ONLY,
            "database": DECLARED if declared.db_roles is not None else MODEL_ONLY,
            "rls_policies": DECLARED if declared.rls_policies is not None else MODEL_ONLY,
            "secrets": DECLARED if declared.secrets is not None else MODEL_ONLY,
            "mfa": "access model (enforced by the Auth0 post-login Action)",
            "routes": "access model (/ops routes)",
            "people": "approved assignments (infra/model/assignments.yaml) the plan was made with",
        },
        "permissions": [p.model_dump() for p in model.permissions],
        "routes": [r.model_dump() for r in model.routes],
        "integrations": [{"name": i.name, "title": i.title, "grants": dict(i.grants)} for i in model.integrations],
        "roles": roles,
        "identities": _identities(model, declared, reads),
        "secrets": _secrets(model, declared, reads, credentials),
        "credentials": credentials,
        "people": _people(roles, planned.assignments, model),
        "database": _database(declared),
        "trail_principals": trail_principals(planned.resources, declared, planned.platform),
        "segregation_of_duties": _sod(model, roles),
        "sign_in": {"applications": sign_in_applications(planned.resources), "archives": archive_writers(planned.resources)},
        "findings": findings.as_dict(),
        "plan": {"resources": declared.resource_count},
    }
    graph = {"resources": planned.resources, "model": model.model_dump(mode="json"), "sql": planned.sql_files}
    return {
        **body,
        "revision": planned.label,
        "identity": planned.identity,
        "generated_at": generated_at,
        "since_review": since_review,
        "fingerprint": {"declared_graph_sha256": canonical_sha256(graph), "report_sha256": canonical_sha256(body)},
    }


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def report_for(
    planned: PlannedRevision, *, generated_at: str | None = None, since_review: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The report of a plan, with the policy findings of its resources and its model's invariant violations."""
    # A model that breaks its invariants may name undeclared permissions: the pack's own data is used then.
    policy_model = None if planned.problems else planned.model
    findings = evaluate(planned.resources, policy_model).with_model_problems(list(planned.problems))
    return build_report(planned, findings, generated_at or utc_now(), since_review)
