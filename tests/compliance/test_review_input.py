"""The access review's packaged input, derived from the model and the approvals (plain data)."""

from __future__ import annotations

import pytest

from infra.derive.compliance import review_input
from infra.errors import ModelError
from infra.model.assignments import load_assignments


def test_roles_carry_permissions_and_the_auth0_method_types_their_mfa_accepts(access_model) -> None:
    spec = review_input(access_model, load_assignments(access_model))

    assert set(spec["roles"]) == set(access_model.role_by_name)
    assert spec["roles"]["ops-admin"]["mfa_types"] == ["passkey", "webauthn-platform", "webauthn-roaming"], "no TOTP for a privileged role"
    assert "totp" in spec["roles"]["ops-viewer"]["mfa_types"]
    assert spec["roles"]["ops-payments"]["permissions"] == ["payments:read", "payments:refund"]
    assert len(spec["approved"]) == len(load_assignments(access_model).assignments)


def test_an_mfa_factor_without_an_auth0_method_type_is_a_model_error(access_model) -> None:
    viewer = access_model.role_by_name["ops-viewer"]
    roles = tuple(r.model_copy(update={"mfa": (*r.mfa, "sms")}) if r is viewer else r for r in access_model.roles)

    with pytest.raises(ModelError, match="MFA factor 'sms'"):
        review_input(access_model.model_copy(update={"roles": roles}), load_assignments(access_model))
