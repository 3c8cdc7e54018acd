"""The access report joins the declared plan with the model: acceptance on prod, drift, SoD, fingerprint."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from infra.errors import ModelError
from infra.model.access import AccessModel, parse_model
from infra.report.access import report_for
from infra.provenance import canonical_sha256
from infra.report.access import OUTSIDE_FINGERPRINT
from infra.report.declared import AUTH0_ROLE_PERMISSIONS
from infra.report.findings import MODEL_RULE
from tests.report.conftest import resource

POLICY_SQL = """
create policy events_read_all on ops_audit.events for select to authenticated
    using ((select auth.jwt()) -> 'https://ops.clarivum.com/roles' ?| array['ops-auditor']);
"""


def test_json_lists_every_model_role_with_permissions_mfa_secrets_and_database(prod_report: dict, access_model: AccessModel) -> None:
    roles = {r["name"]: r for r in prod_report["roles"]}

    assert list(roles) == [r.name for r in access_model.roles], "every model role, in model order"
    for role in access_model.roles:
        entry = roles[role.name]
        assert entry["permissions"] == sorted(role.permissions), f"{role.name}: declared permissions differ from the model"
        assert entry["mfa"] == list(role.mfa), f"{role.name}: MFA factors"
        assert {"secrets", "database", "reach"} <= entry.keys(), f"{role.name}: a reach section is missing"
    assert roles["ops-payments"]["secrets"] == ["payu/client-secret", "stripe/secret-key"], "payments reach the PSP keys"
    assert roles["ops-payments"]["mfa_phishing_resistant_only"] and not roles["ops-viewer"]["mfa_phishing_resistant_only"]
    assert "audit/" not in " ".join(roles["ops-viewer"]["secrets"])


def test_reach_traces_a_permission_to_route_integration_and_secret(prod_report: dict) -> None:
    payments = next(r for r in prod_report["roles"] if r["name"] == "ops-payments")
    refund = next(row for row in payments["reach"] if row["permission"] == "payments:refund")

    assert refund["routes"] == [
        "POST /ops/payments/stripe/refunds (records payments:refund:stripe)",
        "POST /ops/payments/payu/refunds (records payments:refund:payu)",
    ], "each route with the audit action it records"
    assert refund["integrations"] == ["Stripe: edit", "PayU: edit"]
    assert refund["via"] == "ops-hub-runtime" and "stripe/secret-key" in refund["secrets"]


def test_prod_plan_is_the_source_where_it_declares_the_domain(prod_report: dict) -> None:
    assert prod_report["sources"]["auth0_roles"] == "declared in the plan"
    assert prod_report["sources"]["secrets"] == "declared in the plan"
    readers = {s["key"]: s["readers"] for s in prod_report["secrets"]}
    assert "access-review-job" in readers["auth0/access-review-client"], "the review job reads its client secret"
    assert "ops-hub-runtime" not in readers["auth0/access-review-client"]


def test_a_permission_missing_from_the_plan_shows_as_drift(prod_resources: list[dict], report_of) -> None:
    grants = next(r for r in prod_resources if r["type"] == AUTH0_ROLE_PERMISSIONS and "ops-sre" in r["name"])
    grants["properties"]["permissions"] = [p for p in grants["properties"]["permissions"] if p["name"] != "incidents:ack"]

    report = report_of(resources=prod_resources)

    sre = next(r for r in report["roles"] if r["name"] == "ops-sre")
    assert "incidents:ack" not in sre["permissions"], "the report must show what the plan declares"
    assert sre["drift"] == {"modelled_not_declared": ["incidents:ack"]}


def test_rls_policies_of_the_applied_migrations_give_rows_to_the_roles_they_cover(prod_report: dict) -> None:
    database = {r["name"]: r["database"] for r in prod_report["roles"]}
    reads_all = "events_select_all (select on ops_audit.events, to authenticated, ops_audit_writer)"

    assert prod_report["sources"]["rls_policies"] == "declared in the plan"
    assert reads_all in database["ops-auditor"] and reads_all in database["ops-admin"]
    assert reads_all not in database["ops-viewer"], "only audit:read holders may read the whole trail"
    assert any(p.startswith("events_select_own ") for p in database["ops-viewer"]), "every ops role sees its own rows"


def test_policies_naming_roles_count_only_from_sql_matching_the_plan_digest(prod_resources: list[dict], prod_planned, report_of) -> None:
    sql = POLICY_SQL
    digest = hashlib.sha256(sql.encode()).hexdigest()
    migration = resource("pulumi-python:dynamic/opshub:Migrations", "extra", {"digests": {"9999_extra.sql": digest}, "opsRoles": []})
    resources = [*prod_resources, migration]

    matching = report_of(resources=resources, sql_files={**prod_planned.sql_files, "9999_extra.sql": sql})
    tampered = report_of(resources=resources, sql_files={**prod_planned.sql_files, "9999_extra.sql": sql + "-- edited"})

    auditor = next(r for r in matching["roles"] if r["name"] == "ops-auditor")
    viewer = next(r for r in matching["roles"] if r["name"] == "ops-viewer")
    assert "events_read_all (select on ops_audit.events, to authenticated)" in auditor["database"]
    assert not any(p.startswith("events_read_all") for p in viewer["database"]), "a policy naming ops-auditor gives ops-viewer nothing"
    assert tampered["database"]["unverified_migrations"] == ["9999_extra.sql"], "SQL other than the planned file must not count"
    assert not any(p["name"] == "events_read_all" for p in tampered["database"]["rls_policies"])


def test_a_role_holding_a_sod_pair_is_reported_violated(prod_resources: list[dict], access_model: AccessModel, report_of) -> None:
    auditor = access_model.role_by_name["ops-auditor"]
    roles = tuple(r.model_copy(update={"permissions": (*auditor.permissions, "payments:refund")}) if r is auditor else r for r in access_model.roles)
    model = access_model.model_copy(update={"roles": roles})
    grants = next(r for r in prod_resources if r["type"] == AUTH0_ROLE_PERMISSIONS and "ops-auditor" in r["name"])
    grants["properties"]["permissions"].append({"name": "payments:refund", "resourceServerIdentifier": "api"})

    report = report_of(resources=prod_resources, model=model)

    status = {tuple(p["permissions"]): (p["status"], p["roles_holding_both"]) for p in report["segregation_of_duties"]}
    assert status[("payments:refund", "audit:export")] == ("violated", ["ops-auditor"])
    assert status[("integrations:manage", "access:review")][0] == "holds"


def test_model_problems_become_mandatory_findings(report_of) -> None:
    problem = {"source": "infra/model/access.yaml", "message": "role 'ops-viewer': is read_only but ..."}
    report = report_of(problems=(problem,))

    first = report["findings"]["findings"][0]
    assert (first["ruleId"], first["enforcementLevel"], first["name"]) == (MODEL_RULE, "mandatory", "infra/model/access.yaml"), first


def test_report_hash_covers_the_content_but_not_the_revision_or_the_time(prod_planned, prod_resources: list[dict], report_of) -> None:
    one = report_of(label="rev-a")
    two = report_of(label="rev-b", identity={**prod_planned.identity, "revision": "b" * 40})
    later = report_for(prod_planned, generated_at="2027-01-01T00:00:00Z")
    body = {k: v for k, v in json.loads(json.dumps(one)).items() if k not in OUTSIDE_FINGERPRINT}
    prod_resources[0]["properties"]["changed"] = True
    changed = report_of(resources=prod_resources)

    assert one["fingerprint"] == two["fingerprint"] == later["fingerprint"], "the revision and the date must not change the fingerprint"
    assert one["fingerprint"]["report_sha256"] == canonical_sha256(body), "the documented recipe must reproduce the hash"
    assert changed["fingerprint"]["declared_graph_sha256"] != one["fingerprint"]["declared_graph_sha256"]


def test_only_one_identity_may_serve_the_routes(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    for ident in data["identities"]:
        ident["serves_routes"] = True

    with pytest.raises(ModelError) as caught:
        parse_model(data, "test model")

    assert any("only one identity may have serves_routes: true" in p and "access-review-job" in p for p in caught.value.problems)


def test_database_grants_include_the_applied_migrations_and_no_one_may_change_the_trail(prod_report: dict) -> None:
    grants = prod_report["database"]["grants"]

    assert {"role": "authenticated", "on": "table ops_audit.events (0003_access.sql)", "privileges": ["SELECT"]} in grants
    changing = [g for g in grants if "ops_audit" in g["on"] and {"UPDATE", "DELETE", "TRUNCATE"} & {p.split()[0] for p in g["privileges"]}]
    assert changing == [], f"the report shows a grant that could change the trail: {changing}"


def test_each_credential_shows_what_it_can_do_at_the_vendor(prod_report: dict) -> None:
    secrets = {s["key"]: s for s in prod_report["secrets"]}

    assert secrets["stripe/secret-key"]["vendor_scopes"] == [
        "key type restricted", "grant rak_balance_read", "grant rak_charge_read", "grant rak_dispute_read",
        "grant rak_payment_intent_read", "grant rak_payout_read", "grant rak_refund_write",
    ]
    assert secrets["grafana/service-account-token"]["vendor_scopes"] == ["key type service-account-token", "role Editor"]
    assert secrets["plausible/api-key"]["vendor_scopes"] == ["key type stats-api"]
    assert secrets["slack/webhook-url"]["vendor_scopes"] == [], "a vendor without a scope vocabulary declares none"


def test_vendor_scopes_are_read_from_the_declared_secret_not_the_model(prod_resources: list[dict], report_of) -> None:
    secret = next(r for r in prod_resources if r["properties"].get("name", "").endswith("/plausible/api-key"))
    secret["properties"]["tags"]["vendor-key-type"] = "sites-api"

    report = report_of(resources=prod_resources)

    assert next(s for s in report["secrets"] if s["key"] == "plausible/api-key")["vendor_scopes"] == ["key type sites-api"]
