"""The trail accepts an event only if one of the actor's ops roles holds the permission of its action.

Acted out the way PostgREST does it (login as `authenticator`, then `role` and
`request.jwt.claims` for the transaction; PostgREST's docs, "Transactions" and
"Roles"), and through the backend's writer login with a user's claims. The
catalogue is what the runner wrote from the committed access model.
"""

from __future__ import annotations

import copy
import json

import psycopg
import pytest

from infra.derive.audit import audit_settings
from infra.migrations.runner import migrate
from infra.model.access import AccessModel, parse_model
from tests.audit.conftest import LOGIN_PASSWORD, ROLES_CLAIM, AuditDb, claims_for, create_logins
from tests.support.model_edits import role_of, route_of

pytestmark = pytest.mark.postgres

VIEWER = claims_for("auth0|viewer", "ops-viewer")
PAYMENTS = claims_for("auth0|payments", "ops-payments")


@pytest.fixture(scope="module")
def db(pg_cluster, audit_decl) -> AuditDb:
    database = AuditDb(pg_cluster, pg_cluster.create_database("audit_actions"))
    migrate(database.admin_dsn, audit_decl.settings)
    create_logins(database, audit_decl)
    return database


def recorded(db: AuditDb, target: str) -> list[tuple]:
    with db.superuser() as conn:
        return conn.execute("select actor_sub, action from ops_audit.events where target = %s", (target,)).fetchall()


def test_ops_viewer_cannot_record_a_refund(db):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        db.insert(VIEWER, action="payments:refund:stripe", target="viewer-refund")

    assert str(refused.value).startswith(
        'ops_audit: action "payments:refund:stripe" needs permission "payments:refund", '
        "which none of the JWT's ops roles (ops-viewer) holds"
    )
    assert recorded(db, "viewer-refund") == []


def test_ops_payments_records_refunds_through_either_psp(db):
    db.insert(PAYMENTS, action="payments:refund:stripe", target="refund-ch_1")
    db.insert(PAYMENTS, action="payments:refund:payu", target="refund-payu-1")

    assert recorded(db, "refund-ch_1") == [("auth0|payments", "payments:refund:stripe")]
    assert recorded(db, "refund-payu-1") == [("auth0|payments", "payments:refund:payu")]


@pytest.mark.parametrize("claims", [VIEWER, PAYMENTS, claims_for("auth0|admin", "ops-admin")], ids=lambda c: c[ROLES_CLAIM][0])
def test_an_unknown_action_is_refused_for_everyone(db, claims):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        db.insert(claims, action="payments:refund", target="unknown")

    assert str(refused.value).startswith('ops_audit: unknown action "payments:refund"')
    assert refused.value.diag.message_hint == "Record the audit_action of the route that acted."


def test_a_second_role_holding_the_permission_is_enough(db):
    db.insert(claims_for("auth0|both", "ops-viewer", "ops-payments"), action="payments:refund:payu", target="two-roles")

    assert recorded(db, "two-roles") == [("auth0|both", "payments:refund:payu")]


def test_a_role_claimed_outside_the_roles_claim_grants_no_action(db):
    forged = {"sub": "auth0|viewer", "role": "authenticated", ROLES_CLAIM: ["ops-viewer"],
              "app_metadata": {ROLES_CLAIM: ["ops-payments"]}, "permissions": ["payments:refund"]}

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="none of the JWT's ops roles"):
        db.insert(forged, action="payments:refund:stripe", target="forged")


def test_every_action_is_recordable_exactly_by_the_roles_holding_its_permission(db, access_model: AccessModel):
    """The whole matrix of the committed model: accepted iff the role holds the route's permission."""
    outcome = {}
    for route in (r for r in access_model.routes if r.audit_action):
        for role in access_model.roles:
            try:
                db.insert(claims_for(f"auth0|{role.name}", role.name), action=route.audit_action, target=f"matrix-{role.name}")
                outcome[route.audit_action, role.name] = True
            except psycopg.errors.InsufficientPrivilege:
                outcome[route.audit_action, role.name] = False

    permission_of = {r.audit_action: r.permission for r in access_model.routes if r.audit_action}
    expected = {(action, role): permission_of[action] in access_model.role_by_name[role].permissions for action, role in outcome}
    assert outcome == expected
    assert any(outcome.values()) and not all(outcome.values()), "the matrix must hold both outcomes"


def test_the_backend_writer_login_is_held_to_the_users_roles(db):
    with db.login("ops_hub_writer", LOGIN_PASSWORD) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match='needs permission "payments:refund"'), conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(VIEWER),))
            conn.execute("insert into ops_audit.events (action, target) values ('payments:refund:stripe', 'backend-viewer')")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="unknown action"), conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(PAYMENTS),))
            conn.execute("insert into ops_audit.events (action, target) values ('payments:refund:paypal', 'backend-unknown')")
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(PAYMENTS),))
            conn.execute("insert into ops_audit.events (action, target) values ('payments:refund:stripe', 'backend-payments')")

    assert recorded(db, "backend-payments") == [("auth0|payments", "payments:refund:stripe")]
    assert recorded(db, "backend-viewer") == recorded(db, "backend-unknown") == []


CATALOGUE_CHANGES = {
    "add an action": "insert into ops_audit.actions values ('payments:refund:cash', 'payments:read')",
    "weaken an action": "update ops_audit.actions set permission = 'payments:read' where action = 'payments:refund:stripe'",
    "grant a permission": "insert into ops_audit.role_permissions values ('ops-viewer', 'payments:refund')",
    "take a role's permissions": "delete from ops_audit.role_permissions where role = 'ops-admin'",
}


@pytest.mark.parametrize("statement", CATALOGUE_CHANGES.values(), ids=CATALOGUE_CHANGES.keys())
@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_nobody_changes_the_catalogue_through_postgrest(db, statement, role):
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.request(claims_for("auth0|admin", "ops-admin"), role) as conn:
        conn.execute(statement)


@pytest.mark.parametrize("login", ["ops_hub_writer", "ops_audit_exporter"])
def test_the_login_users_cannot_change_the_catalogue(db, login):
    with db.login(login, LOGIN_PASSWORD) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(CATALOGUE_CHANGES["grant a permission"])


def catalogue(db: AuditDb) -> tuple[dict, set]:
    with db.superuser() as conn:
        actions = dict(conn.execute("select action, permission from ops_audit.actions").fetchall())
        held = set(conn.execute("select role, permission from ops_audit.role_permissions").fetchall())
    return actions, held


def test_the_catalogue_is_the_models(db, access_model: AccessModel):
    actions, held = catalogue(db)

    assert actions == {r.audit_action: r.permission for r in access_model.routes if r.audit_action}
    assert held == {(r.name, p) for r in access_model.roles for p in r.permissions}


def test_the_runner_follows_a_changed_model_and_keeps_what_was_recorded(fresh_audit_db, access_model_data):
    fresh_audit_db.insert(claims_for("auth0|sre", "ops-sre"), action="incidents:ack", target="before")
    data = copy.deepcopy(access_model_data)
    route_of(data, "POST /ops/incidents/ack")["audit_action"] = "incidents:acknowledge"
    role_of(data, "ops-sre")["permissions"].remove("analytics:read")
    changed = parse_model(data, "changed model")

    result = migrate(fresh_audit_db.admin_dsn, audit_settings(changed, ROLES_CLAIM))
    again = migrate(fresh_audit_db.admin_dsn, audit_settings(changed, ROLES_CLAIM))

    actions, held = catalogue(fresh_audit_db)
    assert result.settings_changed and not again.changed, "one run brings the catalogue current, the next does nothing"
    assert "incidents:ack" not in actions and actions["incidents:acknowledge"] == "incidents:ack"
    assert ("ops-sre", "analytics:read") not in held and ("ops-sre", "incidents:ack") in held
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        fresh_audit_db.insert(claims_for("auth0|sre", "ops-sre"), action="incidents:ack", target="after")
    fresh_audit_db.insert(claims_for("auth0|sre", "ops-sre"), action="incidents:acknowledge", target="after")
    assert recorded(fresh_audit_db, "before") == [("auth0|sre", "incidents:ack")], "an event of a retired action stays"
