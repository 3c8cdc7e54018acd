"""infra/derive/auth0.py on plain data: the model and config in, Auth0 declarations out."""

from __future__ import annotations

import copy
import json

import pytest

from infra.config import StackConfig
from infra.derive.auth0 import (
    ACCESS_REVIEW_IDENTITY,
    ACTION_SETTINGS_LINE,
    ACTION_SOURCE,
    BACKEND_IDENTITY,
    derive_auth,
    expected_tenant_protections,
    guardian_declaration,
    machine_clients,
)
from infra.errors import ModelError
from infra.model.access import AccessModel, parse_model
from tests.support.model_edits import identity_of, role_of


def test_scopes_are_exactly_the_model_permissions(access_model: AccessModel, prod_config: StackConfig) -> None:
    decl = derive_auth(access_model, prod_config)
    assert {(s.name, s.description) for s in decl.scopes} == {(p.name, p.description) for p in access_model.permissions}


def test_each_role_declares_exactly_its_model_permissions(access_model: AccessModel, prod_config: StackConfig) -> None:
    decl = derive_auth(access_model, prod_config)
    assert [r.name for r in decl.roles] == [r.name for r in access_model.roles], "one declaration per model role"
    for role in decl.roles:
        assert set(role.permissions) == set(access_model.role_by_name[role.name].permissions), role.name
        assert not any("*" in p for p in role.permissions), f"{role.name}: no wildcard permission"


def test_every_privileged_role_needs_a_phishing_resistant_factor(access_model: AccessModel, prod_config: StackConfig) -> None:
    decl = derive_auth(access_model, prod_config)
    strict = set(decl.action.phishing_resistant_roles)
    privileged = {r.name for r in access_model.roles if access_model.is_privileged(r)}
    assert privileged, "the committed model has privileged roles"
    assert privileged <= strict, f"privileged roles missing from the Action's list: {privileged - strict}"
    assert "ops-viewer" not in strict, "a role that accepts OTP is not in the strict list"
    assert set(decl.action.phishing_resistant_factors) == {"webauthn-roaming", "webauthn-platform"}


def test_a_non_privileged_role_that_only_accepts_webauthn_is_strict_too(access_model_data: dict, prod_config: StackConfig) -> None:
    data = copy.deepcopy(access_model_data)
    role_of(data, "ops-sre")["mfa"] = ["webauthn-roaming"]

    decl = derive_auth(parse_model(data), prod_config)

    assert "ops-sre" in decl.action.phishing_resistant_roles


def test_action_code_carries_the_configured_namespace_and_model_settings(access_model: AccessModel, prod_config: StackConfig) -> None:
    config = prod_config.model_copy(update={"claims_namespace": "https://claims.example.org"})
    action = derive_auth(access_model, config).action
    source = ACTION_SOURCE.read_text(encoding="utf-8")

    code = action.code(source)

    (line,) = [line for line in code.splitlines() if line.endswith("; // opshub:settings")]
    settings = json.loads(line.removeprefix("const SETTINGS = ").removesuffix("; // opshub:settings"))
    assert settings["claimsNamespace"] == "https://claims.example.org"
    assert settings["phishingResistantRoles"] == list(action.phishing_resistant_roles)
    assert set(settings["freshMfaRoles"]) == {r.name for r in access_model.roles if access_model.is_privileged(r)}
    assert settings["mfaMaxAgeSeconds"] == access_model.sign_in.mfa_max_age_minutes * 60
    assert code.replace(line, ACTION_SETTINGS_LINE) == source, "only the settings line differs from the committed file"


def test_action_code_needs_exactly_one_settings_line(access_model: AccessModel, prod_config: StackConfig) -> None:
    action = derive_auth(access_model, prod_config).action
    for source in ("exports.onExecutePostLogin = async () => {};", f"{ACTION_SETTINGS_LINE}\n{ACTION_SETTINGS_LINE}\n"):
        with pytest.raises(ModelError, match="exactly once"):
            action.code(source)


def test_the_ops_app_takes_its_urls_and_grants_from_config_and_refresh_tokens_end_with_the_session(
    access_model: AccessModel, prod_config: StackConfig
) -> None:
    app = derive_auth(access_model, prod_config).ops_app

    assert app.name == access_model.sign_in.application.name
    assert app.callbacks == tuple(prod_config.ops_callback_urls)
    assert app.logout_urls == tuple(prod_config.ops_logout_urls)
    assert app.web_origins == tuple(prod_config.ops_web_origins)
    assert set(app.grant_types) <= {"authorization_code", "refresh_token"}
    assert app.refresh_token_lifetime == prod_config.session_absolute_hours * 3600
    assert app.refresh_token_idle_lifetime == prod_config.session_idle_hours * 3600


def test_a_stack_that_does_not_own_the_tenant_declares_no_tenant_settings_and_says_what_it_expects(
    access_model: AccessModel, prod_config: StackConfig
) -> None:
    config = prod_config.model_copy(update={"auth0_tenant_owned": False})

    decl = derive_auth(access_model, config)

    assert decl.tenant is None
    expected = " ".join(expected_tenant_protections(config))
    for protection in ("brute-force", "suspicious IP", "breached password", "idle at most 8 h", "dynamic client registration off",
                       "no default audience", *config.ops_logout_urls):
        assert protection in expected, protection


def test_an_owned_tenant_gets_the_configured_sessions_and_the_ops_logout_urls(access_model: AccessModel, prod_config: StackConfig) -> None:
    tenant = derive_auth(access_model, prod_config).tenant

    assert tenant is not None
    assert (tenant.idle_session_hours, tenant.session_hours) == (prod_config.session_idle_hours, prod_config.session_absolute_hours)
    assert tenant.allowed_logout_urls == tuple(prod_config.ops_logout_urls)


def test_guardian_offers_exactly_the_model_factors(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["mfa_factors"] = [f for f in data["mfa_factors"] if f["name"] != "otp"]
    for role in data["roles"]:
        role["mfa"] = [f for f in role["mfa"] if f != "otp"]

    guardian = guardian_declaration(parse_model(data))

    assert not guardian.otp, "a factor the model drops is switched off"
    assert guardian.webauthn_roaming and guardian.webauthn_platform and guardian.recovery_code
    assert guardian.policy == "all-applications"


def test_a_factor_guardian_cannot_offer_is_refused_by_name(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["mfa_factors"].append({"name": "sms", "phishing_resistant": False})

    with pytest.raises(ModelError, match="mfa factor 'sms'"):
        guardian_declaration(parse_model(data))


def test_backend_grant_is_its_api_permissions_and_review_grant_is_read_only(access_model: AccessModel) -> None:
    backend, review = machine_clients(access_model, "https://ops.example.org/api", "tenant.eu.auth0.com")
    runtime = next(i for i in access_model.identities if i.name == BACKEND_IDENTITY)

    assert backend.grant.audience == "https://ops.example.org/api"
    assert set(backend.grant.scopes) == set(runtime.api_permissions)
    assert review.identity == ACCESS_REVIEW_IDENTITY
    assert review.grant.audience == "https://tenant.eu.auth0.com/api/v2/"
    assert all(s.startswith("read:") for s in review.grant.scopes), f"read-only scopes only: {review.grant.scopes}"
    assert {"read:users", "read:roles", "read:role_members"} <= set(review.grant.scopes)


@pytest.mark.parametrize("missing", [BACKEND_IDENTITY, ACCESS_REVIEW_IDENTITY])
def test_a_missing_identity_is_refused_by_name(access_model_data: dict, missing: str) -> None:
    data = copy.deepcopy(access_model_data)
    data["identities"] = [i for i in data["identities"] if i["name"] != missing]

    with pytest.raises(ModelError, match=f"identity '{missing}': missing"):
        machine_clients(parse_model(data), "https://ops.example.org/api", "tenant.eu.auth0.com")


def test_the_review_job_needs_management_scopes(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    identity_of(data, ACCESS_REVIEW_IDENTITY)["management_api_scopes"] = []

    with pytest.raises(ModelError, match="'access-review-job': needs management_api_scopes"):
        machine_clients(parse_model(data), "https://ops.example.org/api", "tenant.eu.auth0.com")


def test_a_machine_client_whose_identity_does_not_read_its_key_is_refused(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    identity_of(data, BACKEND_IDENTITY)["reads_secrets"].remove("auth0/ops-hub-runtime-client")

    with pytest.raises(ModelError, match="'ops-hub-runtime': its client authenticates with the key in secret 'auth0/ops-hub-runtime-client'"):
        machine_clients(parse_model(data), "https://ops.example.org/api", "tenant.eu.auth0.com")
