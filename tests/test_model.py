"""Access model invariants: each broken rule is reported, naming the role, permission, route or secret."""

from __future__ import annotations

import copy

import pytest

from infra.model.access import AccessModel
from tests.support.model_edits import ModelChange, identity_of, role_of, route_of, secret_of

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
    ModelChange("route-to-undeclared-permission",
                lambda d: d["routes"].append({"method": "GET", "path": "/ops/x", "permission": "x:read", "integration": "strapi", "cache_seconds": 0}),
             "route GET /ops/x: needs undeclared permission 'x:read'"),
    ModelChange("route-without-integration", lambda d: route_of(d, "GET /ops/content").pop("integration"),
             "routes[0] (GET /ops/content).integration: Field required"),
    ModelChange("route-on-undeclared-integration", lambda d: route_of(d, "GET /ops/content").update(integration="wordpress"),
             "route GET /ops/content: acts on undeclared integration 'wordpress'"),
    ModelChange("route-on-integration-without-its-permission", lambda d: route_of(d, "GET /ops/content").update(integration="listmonk"),
             "route GET /ops/content: integration 'listmonk' grants nothing for its permission 'content:read'"),
    ModelChange("writing-route-without-audit-action", lambda d: route_of(d, "POST /ops/content/publish").pop("audit_action"),
             "route POST /ops/content/publish: 'content:write' writes, so the route must record an audit_action"),
    ModelChange("privileged-read-without-audit-action", lambda d: route_of(d, "POST /ops/audit/export").pop("audit_action"),
             "route POST /ops/audit/export: 'audit:export' is privileged, so the route must record an audit_action"),
    ModelChange("audit-action-on-two-routes", lambda d: route_of(d, "POST /ops/payments/payu/refunds").update(audit_action="payments:refund:stripe"),
             "audit action 'payments:refund:stripe': recorded by more than one route "
             "(POST /ops/payments/stripe/refunds, POST /ops/payments/payu/refunds)"),
    ModelChange("audit-action-outside-the-trail-form", lambda d: route_of(d, "POST /ops/content/publish").update(audit_action="Content Publish"),
             "routes[1] (POST /ops/content/publish).audit_action: String should match pattern"),
    ModelChange("read-without-cache-lifetime", lambda d: route_of(d, "GET /ops/content").pop("cache_seconds"),
             "route GET /ops/content: is a read, so it needs cache_seconds (0 for never cached)"),
    ModelChange("write-with-cache-lifetime", lambda d: route_of(d, "POST /ops/comms/campaigns/send").update(cache_seconds=10),
             "route POST /ops/comms/campaigns/send: writes, so it takes no cache_seconds"),
    ModelChange("cached-audit-read", lambda d: route_of(d, "GET /ops/audit").update(cache_seconds=60),
             "route GET /ops/audit: reads privileged 'audit:read', so cache_seconds must be 0 (found 60)"),
    ModelChange("cached-access-review", lambda d: route_of(d, "POST /ops/access-review").update(cache_seconds=5),
             "route POST /ops/access-review: reads privileged 'access:review', so cache_seconds must be 0 (found 5)"),
    ModelChange("cache-beyond-the-maximum", lambda d: route_of(d, "GET /ops/analytics").update(cache_seconds=3600),
             "route GET /ops/analytics: cache_seconds 3600 exceeds route_cache_max_seconds 300"),
    ModelChange("route-without-a-backend-secret", lambda d: d["identities"][0]["reads_secrets"].remove("plausible/api-key"),
             "route GET /ops/analytics: the route server 'ops-hub-runtime' reads no plausible secret"),
    ModelChange("two-secrets-of-the-route-vendor", lambda d: (
                    d["secrets"].append({"vendor": "stripe", "purpose": "reporting-key", "rotation": "reminder", "rotation_days": 90,
                                         "vendor_scopes": {"key_type": "restricted", "grants": ["rak_charge_read"]}}),
                    d["identities"][0]["reads_secrets"].append("stripe/reporting-key")),
             "route GET /ops/payments/stripe: the route server 'ops-hub-runtime' reads ['stripe/secret-key', 'stripe/reporting-key']; "
             "name the one this route uses with `secret`"),
    ModelChange("route-names-a-secret-the-server-does-not-read", lambda d: route_of(d, "GET /ops/content").update(secret="strapi/preview-token"),
             "route GET /ops/content: secret 'strapi/preview-token' is not a strapi secret the route server 'ops-hub-runtime' reads"),
    ModelChange("vendor-key-without-scopes", lambda d: secret_of(d, "stripe/secret-key").pop("vendor_scopes"),
             "secret 'stripe/secret-key': declare vendor_scopes (what the key may do at stripe; key_type one of ['restricted', 'secret', 'webhook-signing-secret'])"),
    ModelChange("scopes-for-a-vendor-without-vocabulary", lambda d: secret_of(d, "slack/webhook-url").update(vendor_scopes={"key_type": "webhook"}),
             "secret 'slack/webhook-url': vendor 'slack' has no scope vocabulary; remove vendor_scopes"),
    ModelChange("unknown-key-type", lambda d: secret_of(d, "plausible/api-key")["vendor_scopes"].update(key_type="admin"),
             "secret 'plausible/api-key': vendor_scopes: key_type 'admin' is not a plausible credential type; use one of ['sites-api', 'stats-api']"),
    ModelChange("made-up-stripe-permission", lambda d: secret_of(d, "stripe/secret-key")["vendor_scopes"]["grants"].append("rak_everything_write"),
             "secret 'stripe/secret-key': vendor_scopes: grant 'rak_everything_write' is not one of stripe's restricted-key permissions"),
    ModelChange("restricted-key-without-permissions", lambda d: secret_of(d, "stripe/secret-key")["vendor_scopes"].update(grants=[]),
             "secret 'stripe/secret-key': vendor_scopes: key_type 'restricted' needs grants"),
    ModelChange("grants-on-a-typed-key", lambda d: secret_of(d, "plausible/api-key")["vendor_scopes"].update(grants=["stats:read:*"]),
             "secret 'plausible/api-key': vendor_scopes: key_type 'stats-api' takes no grants; remove ['stats:read:*']"),
    ModelChange("unknown-grafana-role", lambda d: secret_of(d, "grafana/service-account-token")["vendor_scopes"].update(role="Owner"),
             "secret 'grafana/service-account-token': vendor_scopes: role 'Owner' is not a grafana role; use one of ['Admin', 'Editor', 'None', 'Viewer']"),
    ModelChange("strapi-action-strapi-lacks", lambda d: secret_of(d, "strapi/api-token")["vendor_scopes"]["grants"].append("api::article.article.publish"),
             "secret 'strapi/api-token': vendor_scopes: grant 'api::article.article.publish' is not one of strapi's content-API actions"),
    ModelChange("role-on-a-vendor-without-roles", lambda d: secret_of(d, "payu/client-secret")["vendor_scopes"].update(role="admin"),
             "secret 'payu/client-secret': vendor_scopes: payu credentials have no role; remove role 'admin'"),
    ModelChange("repeated-grant", lambda d: secret_of(d, "listmonk/api-credentials")["vendor_scopes"]["grants"].append("campaigns:send"),
             "secret 'listmonk/api-credentials': vendor_scopes: grant 'campaigns:send' is listed twice"),
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


def test_every_problem_is_reported_at_once(access_model_data: dict) -> None:
    def break_three_routes(data: dict) -> None:
        route_of(data, "POST /ops/content/publish").pop("audit_action")
        route_of(data, "GET /ops/audit").update(cache_seconds=60)
        secret_of(data, "grafana/service-account-token")["vendor_scopes"].update(role="Owner")

    problems = ModelChange("three", break_three_routes, "").refusal(access_model_data)

    assert [p.split(":")[0] for p in problems] == [
        "route POST /ops/content/publish", "route GET /ops/audit", "secret 'grafana/service-account-token'",
    ], problems
