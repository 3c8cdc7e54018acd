"""Access model invariants: each broken rule is reported, naming the role, permission or secret."""

from __future__ import annotations

import copy

import pytest

from infra.model.access import AccessModel
from tests.support.model_edits import ModelChange, identity_of, role_of, secret_of

BREAKAGES = [
    ModelChange("undeclared-permission", lambda d: role_of(d, "ops-sre")["permissions"].append("incidents:delete"),
             "role 'ops-sre': grants undeclared permission 'incidents:delete'"),
    ModelChange("duplicate-role", lambda d: d["roles"].append(copy.deepcopy(role_of(d, "ops-viewer"))),
             "role 'ops-viewer': declared more than once"),
    ModelChange("unknown-mfa-factor", lambda d: role_of(d, "ops-sre")["mfa"].append("carrier-pigeon"),
             "role 'ops-sre': unknown MFA factor 'carrier-pigeon'"),
    ModelChange("read-only-role-writes", lambda d: role_of(d, "ops-viewer")["permissions"].append("payments:refund"),
             "role 'ops-viewer': is read_only but grants writing permission 'payments:refund'"),
    ModelChange("privileged-role-with-otp", lambda d: role_of(d, "ops-payments")["mfa"].append("otp"),
             "role 'ops-payments': is privileged, so its MFA must be phishing-resistant; remove ['otp']"),
    ModelChange("sod-pair-on-one-role", lambda d: role_of(d, "ops-payments")["permissions"].append("audit:export"),
             "role 'ops-payments': holds both 'payments:refund' and 'audit:export'"),
    ModelChange("route-to-undeclared-permission", lambda d: d["routes"].append({"method": "GET", "path": "/ops/x", "permission": "x:read"}),
             "route GET /ops/x: needs undeclared permission 'x:read'"),
    ModelChange("identity-reads-undeclared-secret", lambda d: d["identities"][0]["reads_secrets"].append("stripe/live-key"),
             "identity 'ops-hub-runtime': reads undeclared secret 'stripe/live-key'"),
    ModelChange("lambda-rotation-too-slow", lambda d: secret_of(d, "supabase/ops-audit-exporter").update(rotation_days=45),
             "rotation_days 45 exceeds 30 for lambda rotation"),
    ModelChange("reminder-rotation-too-slow", lambda d: d["secrets"][0].update(rotation_days=120),
             "secret 'strapi/api-token': rotation_days 120 exceeds 90"),
    ModelChange("bad-permission-name", lambda d: d["permissions"].append({"name": "Refund", "description": "x", "writes": True}),
             "permission name 'Refund' must have the form domain:action"),
    ModelChange("mfa-max-age-zero", lambda d: d["sign_in"].update(mfa_max_age_minutes=0),
             "sign_in.mfa_max_age_minutes: Value error, expected whole minutes from 1 to 60 (found 0)"),
    ModelChange("mfa-max-age-two-hours", lambda d: d["sign_in"].update(mfa_max_age_minutes=120),
             "sign_in.mfa_max_age_minutes: Value error, expected whole minutes from 1 to 60 (found 120)"),
    ModelChange("connection-for-machine-client",
             lambda d: d["sign_in"]["connections"][0]["clients"].append("ops-hub-runtime"),
             "sign_in.connections 'ops-operators': enabled for machine identity 'ops-hub-runtime'; "
             "a connection may be enabled only for the /ops application 'ops-web'"),
    ModelChange("connection-for-unknown-client", lambda d: d["sign_in"]["connections"][0]["clients"].append("legacy-portal"),
             "sign_in.connections 'ops-operators': enabled for unknown application 'legacy-portal'; allowed: 'ops-web'"),
    ModelChange("management-scope-that-writes",
             lambda d: identity_of(d, "access-review-job")["management_api_scopes"].append("update:users"),
             "identity 'access-review-job': Management API scope 'update:users' is not read-only"),
    ModelChange("management-scope-with-api-permissions",
             lambda d: identity_of(d, "access-review-job")["api_permissions"].append("content:read"),
             "identity 'access-review-job': reads Auth0's Management API, so it may hold no ops API permissions"),
    ModelChange("unknown-field", lambda d: role_of(d, "ops-sre").update(superpowers=True),
             "roles[4] (ops-sre).superpowers: Extra inputs are not permitted"),
]


@pytest.mark.parametrize("case", BREAKAGES, ids=[b.test_id for b in BREAKAGES])
def test_broken_model_is_refused_naming_the_culprit(case: ModelChange, access_model_data: dict) -> None:
    problems = case.refusal(access_model_data)

    assert any(case.message in p for p in problems), problems


def test_committed_model_is_valid(access_model: AccessModel) -> None:
    assert {r.name for r in access_model.roles} == {
        "ops-viewer", "ops-editorial", "ops-lifecycle", "ops-payments", "ops-sre", "ops-admin", "ops-auditor",
    }


def test_role_level_is_the_highest_its_permissions_grant(access_model: AccessModel) -> None:
    grafana = next(i for i in access_model.integrations if i.name == "grafana")
    levels = {r.name: access_model.role_level(r, grafana) for r in access_model.roles}
    assert levels["ops-sre"] == "edit"
    assert levels["ops-viewer"] == "view"
    assert levels["ops-payments"] is None
