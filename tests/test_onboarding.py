"""docs/onboarding.md is derived from the model: a changed model changes what each role is told."""

from __future__ import annotations

import copy

from infra.model.access import AccessModel, parse_model
from infra.model.doc import render_onboarding_doc


def section(doc: str, role: str) -> str:
    start = doc.index(f"### `{role}`")
    end = doc.find("\n### ", start + 1)
    return doc[start : end if end != -1 else None]


def test_every_role_has_a_guide_with_its_routes_and_sign_in(access_model: AccessModel) -> None:
    doc = render_onboarding_doc(access_model)

    for role in access_model.roles:
        guide = section(doc, role.name)
        for route in (r for r in access_model.routes if r.permission in role.permissions):
            assert f"`{route.method} {route.path}`" in guide, f"{role.name} is not told about {route.path}"
        expected = "phishing-resistant only" if access_model.is_privileged(role) else "any of"
        assert expected in guide, role.name


def test_a_granted_permission_shows_up_in_the_role_guide(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    sre = next(r for r in data["roles"] if r["name"] == "ops-sre")
    sre["permissions"].append("content:read")

    guide = section(render_onboarding_doc(parse_model(data)), "ops-sre")

    assert "`GET /ops/content`" in guide
    assert "Strapi (view)" in guide
