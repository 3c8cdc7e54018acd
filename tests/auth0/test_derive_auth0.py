"""infra/derive/auth0.py on plain data: the model and config in, Auth0 declarations out."""

from __future__ import annotations

import copy
import json

import pytest

from infra.config import StackConfig
from infra.derive.auth0 import (
    ACCESS_REVIEW_IDENTITY,
    BACKEND_IDENTITY,
    derive_auth,
    guardian_declaration,
    machine_clients,
)
from infra.errors import ModelError
from infra.model.access import AccessModel, parse_model
from tests.support.model_edits import role_of


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


def test_action_secrets_carry_the_configured_namespace(access_model: AccessModel, prod_config: StackConfig) -> None:
    config = prod_config.model_copy(update={"claims_namespace": "https://claims.example.org"})

    secrets = derive_auth(access_model, config).action.secrets()

    assert secrets["CLAIMS_NAMESPACE"] == "https://claims.example.org"
    assert json.loads(secrets["PHISHING_RESISTANT_ROLES"]) == list(derive_auth(access_model, config).action.phishing_resistant_roles)


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


def test_the_review_job_may_not_hold_ops_api_permissions(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    next(i for i in data["identities"] if i["name"] == ACCESS_REVIEW_IDENTITY)["api_permissions"] = ["audit:read"]

    with pytest.raises(ModelError, match="'access-review-job': must hold no ops API permissions"):
        machine_clients(parse_model(data), "https://ops.example.org/api", "tenant.eu.auth0.com")
