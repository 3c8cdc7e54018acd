"""docs/access-model.md follows the model (its currency is checked by tests/test_generated.py)."""

from __future__ import annotations

import copy

from infra.model.access import AccessModel, parse_model
from infra.model.doc import render_access_model_doc


def _row(doc: str, first_cell: str) -> list[str]:
    line = next(line for line in doc.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_each_role_row_shows_its_flags_and_mfa_requirement(access_model: AccessModel) -> None:
    doc = render_access_model_doc(access_model)
    for role in access_model.roles:
        _, _, read_only, privileged, mfa = _row(doc, f"`{role.name}`")
        assert (read_only == "yes") is role.read_only, role.name
        assert (privileged == "yes") is access_model.is_privileged(role), role.name
        assert mfa.startswith("phishing-resistant only") is (set(role.mfa) <= access_model.phishing_resistant_factors), role.name
        assert all(f in mfa for f in role.mfa), f"{role.name}: every accepted factor is listed"


def test_the_matrix_marks_exactly_the_held_permissions(access_model: AccessModel) -> None:
    doc = render_access_model_doc(access_model)
    roles = [r.name for r in access_model.roles]
    for perm in access_model.permissions:
        cells = _row(doc, f"`{perm.name}`")[2:]
        marked = {role for role, cell in zip(roles, cells, strict=True) if cell}
        assert marked == {r.name for r in access_model.roles if perm.name in r.permissions}, perm.name


def test_a_model_change_shows_in_the_doc(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["roles"] = [r for r in data["roles"] if r["name"] != "ops-lifecycle"]
    next(r for r in data["roles"] if r["name"] == "ops-sre")["mfa"] = ["webauthn-roaming"]

    doc = render_access_model_doc(parse_model(data))

    assert "ops-lifecycle" not in doc
    assert _row(doc, "`ops-sre`")[4] == "phishing-resistant only: webauthn-roaming"
