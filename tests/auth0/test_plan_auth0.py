"""OpsAuth under the SDK's mocks: the real pulumi_auth0 types, as the prod plan records them.

The plan's `properties` are the engine's camelCase input names, so these tests also
prove the Python argument names map to the provider's schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.cli.main import main
from infra.config import StackConfig, stack_file
from infra.derive.auth0 import ACTION_SOURCE, derive_auth
from infra.model.access import AccessModel
from infra.offline.plan import Plan, run_plan
from tests.auth0.plan_reading import (
    ACTION,
    CLIENT,
    CLIENT_CREDENTIALS,
    CLIENT_GRANT,
    GUARDIAN,
    RESOURCE_SERVER,
    ROLE_PERMISSIONS,
    SCOPES,
    TRIGGER_ACTIONS,
    client_grants,
    declared_role_grants,
    declared_role_permissions,
    linked,
)
from tests.support.model_edits import role_of


CONNECTION = "auth0:index/connection:Connection"
CONNECTION_CLIENTS = "auth0:index/connectionClients:ConnectionClients"
TENANT = "auth0:index/tenant:Tenant"
ATTACK_PROTECTION = "auth0:index/attackProtection:AttackProtection"


def _only(plan: Plan, token: str) -> dict:
    found = plan.of_type(token)
    assert len(found) == 1, f"expected one {token}, found {len(found)}"
    return found[0]


def test_the_ops_api_enforces_rbac_with_short_tokens(prod_plan: Plan, prod_config: StackConfig) -> None:
    api = _only(prod_plan, RESOURCE_SERVER)["properties"]
    assert api["identifier"] == prod_config.api_identifier
    assert api["enforcePolicies"] is True, "RBAC on"
    assert api["tokenDialect"] == "access_token_authz", "permissions in the access token"
    assert api["tokenLifetime"] == prod_config.token_lifetime_seconds <= 3600
    assert api["tokenLifetimeForWeb"] <= api["tokenLifetime"]
    assert api["allowOfflineAccess"] is False, "no refresh tokens for the ops API"
    assert api["signingAlg"] == "RS256", "Supabase third-party auth needs asymmetric keys"


def test_the_api_scopes_are_the_model_permissions(prod_plan: Plan, access_model: AccessModel, prod_config: StackConfig) -> None:
    scopes = _only(prod_plan, SCOPES)["properties"]
    assert scopes["resourceServerIdentifier"] == prod_config.api_identifier
    assert sorted(s["name"] for s in scopes["scopes"]) == sorted(p.name for p in access_model.permissions)


def test_each_role_holds_exactly_the_model_permissions_on_the_ops_api(
    prod_plan: Plan, access_model: AccessModel, prod_config: StackConfig
) -> None:
    grants = declared_role_grants(prod_plan)
    assert set(grants) == {r.name for r in access_model.roles}, "one Auth0 role per model role, no more"
    assert len(prod_plan.of_type(ROLE_PERMISSIONS)) == len(access_model.roles), "one RolePermissions per role"
    for role in access_model.roles:
        expected = {(p, prod_config.api_identifier) for p in role.permissions}
        assert grants[role.name] == expected, f"{role.name}: declared {sorted(grants[role.name])}"


def test_role_permissions_wait_for_the_scopes_they_name(prod_plan: Plan) -> None:
    (scopes,) = prod_plan.of_type(SCOPES)
    for holder in prod_plan.of_type(ROLE_PERMISSIONS):
        assert scopes["urn"] in holder["dependencies"], f"{holder['name']} must be created after the API scopes"


def test_guardian_offers_webauthn_and_otp_and_nothing_phishable_by_sms(prod_plan: Plan) -> None:
    guardian = _only(prod_plan, GUARDIAN)["properties"]
    assert guardian["policy"] == "all-applications"
    assert guardian["webauthnRoaming"]["enabled"] is True
    assert guardian["webauthnPlatform"]["enabled"] is True
    assert guardian["otp"] is True
    assert guardian["recoveryCode"] is True
    assert guardian["phone"] == {"enabled": False}, "no SMS or voice"
    assert guardian["email"] is False
    assert guardian["push"] == {"enabled": False}
    assert guardian["duo"] == {"enabled": False}


def test_the_post_login_action_runs_the_committed_code_and_is_bound(
    prod_plan: Plan, prod_config: StackConfig, access_model: AccessModel
) -> None:
    action = _only(prod_plan, ACTION)
    props = action["properties"]
    assert props["runtime"] == "node22"
    assert props["deploy"] is True
    assert props["code"] == derive_auth(access_model, prod_config).action.code(ACTION_SOURCE.read_text(encoding="utf-8"))
    assert f'"claimsNamespace":"{prod_config.claims_namespace}"' in props["code"]
    assert props["supportedTriggers"] == {"id": "post-login", "version": "v3"}
    assert "secrets" not in props, "settings are public and live in the code, where the policy pack can read them"
    binding = _only(prod_plan, TRIGGER_ACTIONS)
    assert binding["properties"]["trigger"] == "post-login"
    (bound,) = binding["properties"]["actions"]
    assert bound["displayName"] == props["name"]
    assert linked(prod_plan, binding, "actions") == [action], "the trigger binds this Action"


def test_backend_client_is_granted_only_its_api_permissions(
    prod_plan: Plan, access_model: AccessModel, prod_config: StackConfig
) -> None:
    runtime = next(i for i in access_model.identities if i.name == "ops-hub-runtime")
    (grant,) = client_grants(prod_plan)["ops-hub-runtime"]
    assert grant["audience"] == prod_config.api_identifier
    assert sorted(grant["scopes"]) == sorted(runtime.api_permissions)


def test_management_api_scopes_go_only_to_the_review_client_and_are_read_only(
    prod_plan: Plan, prod_config: StackConfig
) -> None:
    management = f"https://{prod_config.auth0_domain}/api/v2/"
    grants = client_grants(prod_plan)
    holders = {name for name, gs in grants.items() if any(g["audience"] == management for g in gs)}
    assert holders == {"access-review-job"}, "only the access review client reaches the Management API"
    (grant,) = grants["access-review-job"]
    assert grant["scopes"], "an empty scope list would not be least privilege, it would be a broken job"
    assert all(s.startswith("read:") for s in grant["scopes"]), grant["scopes"]
    assert not grant.get("allowAllScopes"), "never all scopes"


def machine_clients(plan: Plan) -> list[dict]:
    return [c for c in plan.of_type(CLIENT) if c["properties"]["appType"] == "non_interactive"]


def test_machine_clients_are_m2m_and_authenticate_with_a_key_pair(prod_plan: Plan) -> None:
    clients = machine_clients(prod_plan)
    assert {c["properties"]["name"] for c in clients} == {"ops-hub-runtime", "access-review-job"}
    for client in clients:
        assert client["properties"]["grantTypes"] == ["client_credentials"]
        assert client["properties"]["jwtConfiguration"] == {"alg": "RS256"}
    for cred in prod_plan.of_type(CLIENT_CREDENTIALS):
        (client,) = linked(prod_plan, cred, "clientId")
        if client["properties"]["appType"] != "non_interactive":
            continue
        props = cred["properties"]
        assert props["authenticationMethod"] == "private_key_jwt", client["properties"]["name"]
        (credential,) = props["privateKeyJwt"]["credentials"]
        assert (credential["credentialType"], credential["algorithm"]) == ("public_key", "RS256")
        (key,) = linked(prod_plan, cred, "privateKeyJwt")
        assert key["type"] == "tls:index/privateKey:PrivateKey"
        assert key["properties"] == {"algorithm": "RSA", "rsaBits": 2048.0}
        assert "privateKeyPem" in key["options"]["additionalSecretOutputs"], "the private key is a Pulumi secret"
        assert "clientSecret" not in props


def ops_app(plan: Plan) -> dict:
    (app,) = [c for c in plan.of_type(CLIENT) if c["properties"]["appType"] == "spa"]
    return app


def test_the_ops_app_is_a_pkce_spa_with_exact_urls_from_config(prod_plan: Plan, prod_config: StackConfig) -> None:
    app = ops_app(prod_plan)
    props = app["properties"]
    assert props["name"] == "ops-web"
    assert props["grantTypes"] == prod_config.ops_grant_types
    assert not {"implicit", "password"} & set(props["grantTypes"])
    assert props["callbacks"] == prod_config.ops_callback_urls
    assert props["allowedLogoutUrls"] == prod_config.ops_logout_urls
    assert props["webOrigins"] == prod_config.ops_web_origins
    assert props["oidcConformant"] is True and props["crossOriginAuth"] is False
    assert props["jwtConfiguration"]["alg"] == "RS256"
    refresh = props["refreshToken"]
    assert (refresh["rotationType"], refresh["expirationType"]) == ("rotating", "expiring")
    assert refresh["tokenLifetime"] <= prod_config.session_absolute_hours * 3600
    assert refresh["infiniteTokenLifetime"] is False
    (cred,) = [c for c in prod_plan.of_type(CLIENT_CREDENTIALS) if linked(prod_plan, c, "clientId") == [app]]
    assert cred["properties"]["authenticationMethod"] == "none", "a public client: PKCE, no secret"


def test_users_get_ops_api_tokens_only_through_the_ops_app(prod_plan: Plan) -> None:
    api = _only(prod_plan, RESOURCE_SERVER)["properties"]
    assert api["subjectTypeAuthorization"] == {"user": {"policy": "require_client_grant"}, "client": {"policy": "require_client_grant"}}
    user_grants = [g for g in prod_plan.of_type(CLIENT_GRANT) if g["properties"]["subjectType"] == "user"]
    assert [linked(prod_plan, g, "clientId") for g in user_grants] == [[ops_app(prod_plan)]]
    assert all(g["properties"]["subjectType"] == "client" for g in prod_plan.of_type(CLIENT_GRANT) if g not in user_grants)


def test_the_operators_connection_is_for_the_ops_app_only_with_a_strong_password_policy(prod_plan: Plan) -> None:
    (connection,) = prod_plan.of_type(CONNECTION)
    options = connection["properties"]["options"]
    assert connection["properties"]["strategy"] == "auth0"
    assert options["disableSignup"] is True
    assert options["passwordPolicy"] in ("good", "excellent")
    assert options["passwordComplexityOptions"]["minLength"] >= 14
    assert options["passwordHistories"] == [{"enable": True, "size": 5.0}]
    assert options["passwordNoPersonalInfo"] == {"enable": True}
    assert options["passwordDictionary"]["enable"] is True
    (clients,) = prod_plan.of_type(CONNECTION_CLIENTS)
    assert linked(prod_plan, clients, "connectionId") == [connection]
    assert linked(prod_plan, clients, "enabledClients") == [ops_app(prod_plan)]


def test_an_owned_tenant_declares_sessions_and_attack_protection(prod_plan: Plan, prod_config: StackConfig) -> None:
    tenant = _only(prod_plan, TENANT)["properties"]
    assert (tenant["idleSessionLifetime"], tenant["sessionLifetime"]) == (8.0, 24.0)
    assert tenant["flags"] == {"enableDynamicClientRegistration": False}
    assert tenant["allowedLogoutUrls"] == prod_config.ops_logout_urls
    assert tenant["defaultAudience"] == ""
    protection = _only(prod_plan, ATTACK_PROTECTION)["properties"]
    assert protection["bruteForceProtection"]["enabled"] is True
    assert set(protection["bruteForceProtection"]["shields"]) == {"block", "user_notification"}
    assert protection["suspiciousIpThrottling"] == {"enabled": True, "shields": ["block", "admin_notification"]}
    breached = protection["breachedPasswordDetection"]
    assert breached["enabled"] is True and "block" in breached["shields"] and "admin_notification" in breached["shields"]
    assert breached["preUserRegistration"] == {"shields": ["block"]}


def not_owning(stack_root: Path) -> Path:
    settings = yaml.safe_load(stack_file("prod", stack_root).read_text())
    settings["config"]["opshub:auth0TenantOwned"] = False
    stack_file("prod", stack_root).write_text(yaml.safe_dump(settings))
    return stack_root


def test_a_stack_that_does_not_own_the_tenant_leaves_its_singletons_alone(stack_root: Path) -> None:
    plan = run_plan("prod", root=not_owning(stack_root))

    assert plan.of_type(TENANT) == [] and plan.of_type(ATTACK_PROTECTION) == []
    assert plan.of_type(CONNECTION), "the /ops connection and application are the stack's either way"


def test_opshub_plan_says_which_protections_it_expects_the_tenant_owner_to_hold(
    stack_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", "--stack", "prod", "--cwd", str(not_owning(stack_root)), "--out", str(tmp_path / "out")])

    out = capsys.readouterr().out
    assert code == 0
    assert "is not owned by this stack (opshub:auth0TenantOwned: false); its owner must hold:" in out
    for protection in ("brute-force protection on", "idle at most 8 h", "dynamic client registration off", "no default audience"):
        assert protection in out, protection
    assert "Tenant protections held by another team" in out, "it points at the runbook's check"


def test_a_stack_that_owns_the_tenant_says_nothing_about_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "--stack", "prod", "--out", str(tmp_path / "out")])

    assert "not owned by this stack" not in capsys.readouterr().out


def test_every_tenant_log_streams_to_eventbridge_in_the_stack_account(prod_plan: Plan, prod_config: StackConfig) -> None:
    stream = _only(prod_plan, "auth0:index/logStream:LogStream")["properties"]
    assert stream["type"] == "eventbridge"
    assert stream["sink"] == {"awsAccountId": prod_config.aws_account_id, "awsRegion": prod_config.aws_region}
    assert "filters" not in stream, "every category is evidence"


def test_every_auth0_resource_uses_the_explicit_auth0_provider(prod_plan: Plan) -> None:
    auth0_resources = [r for r in prod_plan.resources if r["type"].startswith("auth0:")]
    assert auth0_resources
    wrong = [r["name"] for r in auth0_resources if r["provider"].get("type") != "pulumi:providers:auth0"]
    assert wrong == []



def test_a_role_removed_from_the_model_is_no_longer_declared(plan_model: Callable[[dict], Plan], access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["roles"] = [r for r in data["roles"] if r["name"] != "ops-lifecycle"]

    plan = plan_model(data)

    expected = {r["name"]: set(r["permissions"]) for r in data["roles"]}
    assert declared_role_permissions(plan) == expected, "the declared roles are exactly the new model's"
    assert not [r for r in plan.resources if "ops-lifecycle" in r["name"]], "nothing of the removed role remains"


def test_a_permission_removed_from_the_model_is_no_longer_declared(plan_model: Callable[[dict], Plan], access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["permissions"] = [p for p in data["permissions"] if p["name"] != "comms:send"]
    data["routes"] = [r for r in data["routes"] if r["permission"] != "comms:send"]
    for integration in data["integrations"]:
        integration["grants"].pop("comms:send", None)
    role_of(data, "ops-lifecycle")["permissions"].remove("comms:send")

    plan = plan_model(data)

    expected = {r["name"]: set(r["permissions"]) for r in data["roles"]}
    assert declared_role_permissions(plan) == expected, "the declared role permissions are exactly the new model's"
    (scopes,) = plan.of_type(SCOPES)
    names = {s["name"] for s in scopes["properties"]["scopes"]}
    assert "comms:send" not in names, "the API scope is removed with the permission"
    assert names == {p["name"] for p in data["permissions"]}
