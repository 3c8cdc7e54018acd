"""Vendor scopes: each vendor's vocabulary, which scopes write, and their form as AWS tags."""

from __future__ import annotations

import re

import pytest

from infra.derive.secrets import secret_plans
from infra.model.access import AccessModel
from infra.model.vendor_scopes import (
    MAX_GRANT_TAGS,
    TAG_VALUE_MAX,
    VOCABULARIES,
    VendorScopes,
    policy_vocabularies,
    scope_tags,
    tag_problems,
)

# Strapi content types enough to need several tags: 12 types x 5 actions.
MANY_STRAPI_GRANTS = tuple(f"api::type-{i:02d}.type-{i:02d}.{a}" for i in range(12) for a in ("find", "findOne", "create", "update", "delete"))


def test_the_secret_carries_its_scopes_beside_its_rotation_plan(access_model: AccessModel) -> None:
    plans = {p.key: p for p in secret_plans(access_model, "prod")}

    assert plans["grafana/service-account-token"].tags == {
        "rotation": "reminder", "rotation-days": "90", "vendor": "grafana",
        "vendor-key-type": "service-account-token", "vendor-role": "Editor",
    }
    assert plans["pagerduty/routing-key"].tags["vendor-key-type"] == "events-integration"
    assert not any(k.startswith("vendor-") and k != "vendor" for k in plans["supabase/master"].tags), "no vocabulary, no scope tags"


def test_many_grants_are_packed_into_numbered_tags_within_awss_limit() -> None:
    tags = scope_tags(VendorScopes(key_type="custom", grants=MANY_STRAPI_GRANTS))

    grant_tags = [k for k in tags if k.startswith("vendor-grants")]
    assert grant_tags == ["vendor-grants", *(f"vendor-grants-{n}" for n in range(2, len(grant_tags) + 1))]
    assert all(len(tags[k]) <= TAG_VALUE_MAX for k in grant_tags)
    assert tuple(g for k in grant_tags for g in tags[k].split(" ")) == MANY_STRAPI_GRANTS, "every grant, in order, once"
    assert tag_problems(VendorScopes(key_type="custom", grants=MANY_STRAPI_GRANTS)) == []


def test_grants_that_need_too_many_tags_are_refused() -> None:
    grants = tuple(f"api::type-{i:03d}.type-{i:03d}.{a}" for i in range(200) for a in ("find", "findOne", "update"))

    assert tag_problems(VendorScopes(key_type="custom", grants=grants)) == [
        f"the grants need {len(scope_tags(VendorScopes(key_type='custom', grants=grants))) - 1} tags, "
        f"more than {MAX_GRANT_TAGS}; split the key or use a broader grant"
    ]


def test_a_value_aws_cannot_store_is_refused() -> None:
    assert tag_problems(VendorScopes(key_type="api-user", role="ops,hub", grants=("campaigns:send",))) == [
        "tag vendor-role = 'ops,hub' is not a valid AWS tag value (at most 256 of letters, digits, spaces, _ . : / = + - @)"
    ]


WRITES = [
    ("stripe", VendorScopes(key_type="restricted", grants=("rak_charge_read", "rak_refund_write")), ["grant rak_refund_write"]),
    ("stripe", VendorScopes(key_type="secret"), ["key type secret"]),
    ("strapi", VendorScopes(key_type="custom", grants=("api::a.a.find", "api::a.a.delete")), ["grant api::a.a.delete"]),
    ("strapi", VendorScopes(key_type="read-only"), []),
    ("listmonk", VendorScopes(key_type="api-user", role="r", grants=("campaigns:get_all", "subscribers:sql_query")), []),
    ("listmonk", VendorScopes(key_type="api-user", role="r", grants=("tx:send",)), ["grant tx:send"]),
    ("grafana", VendorScopes(key_type="service-account-token", role="Viewer"), []),
    ("grafana", VendorScopes(key_type="service-account-token", role="Admin"), ["role Admin"]),
    ("plausible", VendorScopes(key_type="stats-api"), []),
    ("pagerduty", VendorScopes(key_type="general-access-read-only"), []),
    ("pagerduty", VendorScopes(key_type="events-integration"), ["key type events-integration"]),
    ("payu", VendorScopes(key_type="pos-oauth-client", grants=("client_credentials",)), ["grant client_credentials"]),
    ("github", VendorScopes(key_type="fine-grained-token", grants=("pull_requests:read", "deployments:read")), []),
    ("github", VendorScopes(key_type="fine-grained-token", grants=("contents:write",)), ["grant contents:write"]),
]


@pytest.mark.parametrize(("vendor", "scopes", "writing"), WRITES, ids=[f"{v}-{s.key_type}-{w}" for v, s, w in WRITES])
def test_which_declared_scopes_write(vendor: str, scopes: VendorScopes, writing: list[str]) -> None:
    vocabulary = VOCABULARIES[vendor]

    assert vocabulary.problems(scopes) == []
    assert vocabulary.writing_scopes(scopes) == writing


@pytest.mark.parametrize(("vendor", "scopes", "writing"), WRITES, ids=[f"{v}-{s.key_type}-{w}" for v, s, w in WRITES])
def test_the_policy_packs_patterns_agree_with_the_vocabulary(vendor: str, scopes: VendorScopes, writing: list[str]) -> None:
    """policies/model.rego's write patterns (read with Go's RE2 by OPA; the same syntax here) find the same grants."""
    data = policy_vocabularies()[vendor]
    pattern = data["write_grant_pattern"]
    found = [f"key type {scopes.key_type}"] if scopes.key_type in data["write_key_types"] else []
    found += [f"role {scopes.role}"] if scopes.role in data["write_roles"] else []
    found += [f"grant {g}" for g in scopes.grants if pattern and re.search(pattern, g)]
    assert found == writing
