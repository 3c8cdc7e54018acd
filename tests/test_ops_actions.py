"""ops-actions.json: the /ops action catalogue the backend reads, its schema, and the contract with
the trail's action catalogue and the declared secrets."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra import actions_file
from infra.cli.main import main
from infra.derive.audit import audit_settings
from infra.derive.secrets import secret_name
from infra.errors import UsageError
from infra.model.access import AccessModel
from infra.model.vendor_scopes import VendorScopes, scope_tags
from infra.offline.plan import Plan

ROLES_CLAIM = "https://ops.clarivum.com/roles"


@pytest.fixture(scope="module")
def catalogue() -> dict:
    return actions_file.stack_document("prod")


def test_plan_writes_a_catalogue_its_schema_accepts(tmp_path: Path) -> None:
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path)]) == 0

    written = (tmp_path / "ops-actions.json").read_text(encoding="utf-8")
    assert actions_file.schema_problems(json.loads(written)) == []
    assert written == actions_file.render(actions_file.stack_document("prod")), "the plan writes the canonical text"


def test_every_route_is_in_the_catalogue_once(catalogue: dict, access_model: AccessModel) -> None:
    listed = [(r["method"], r["path"]) for r in catalogue["routes"]]
    assert sorted(listed) == sorted((r.method, r.path) for r in access_model.routes)
    assert len(set(listed)) == len(listed)


# -- the contract the issue states ---------------------------------------------

def test_every_writing_route_records_an_audit_action(catalogue: dict) -> None:
    writing = [r for r in catalogue["routes"] if r["writes"]]
    assert writing, "the catalogue has writing routes"
    assert [f"{r['method']} {r['path']}" for r in writing if not r["audit_action"]] == []


def test_every_audit_action_belongs_to_exactly_one_route(catalogue: dict, access_model: AccessModel) -> None:
    """Every action the trail accepts (the runner's catalogue) is recorded by exactly one route."""
    trail_actions = dict(audit_settings(access_model, ROLES_CLAIM).actions)
    routes_of = {action: [r for r in catalogue["routes"] if r["audit_action"] == action] for action in trail_actions}

    assert {action: len(routes) for action, routes in routes_of.items()} == dict.fromkeys(trail_actions, 1)
    assert {r["audit_action"] for r in catalogue["routes"] if r["audit_action"]} == set(trail_actions)


def test_an_actions_permission_is_its_routes_permission(catalogue: dict, access_model: AccessModel) -> None:
    trail_actions = dict(audit_settings(access_model, ROLES_CLAIM).actions)

    assert {r["audit_action"]: r["permission"] for r in catalogue["routes"] if r["audit_action"]} == trail_actions


def test_reads_are_cached_within_the_maximum_and_privileged_reads_never(catalogue: dict, access_model: AccessModel) -> None:
    for route in catalogue["routes"]:
        where = f"{route['method']} {route['path']}"
        assert 0 <= route["cache_seconds"] <= catalogue["route_cache_max_seconds"], where
        if route["writes"] or access_model.permission_by_name[route["permission"]].privileged:
            assert route["cache_seconds"] == 0, f"{where} must never be served from cache"
    assert {r["path"] for r in catalogue["routes"] if r["cache_seconds"] == 0} >= {"/ops/audit", "/ops/audit/export", "/ops/access-review"}


# -- the secrets the plan declares ---------------------------------------------

def test_each_routes_secret_is_declared_with_its_vendor_scopes_as_tags(catalogue: dict, prod_plan: Plan) -> None:
    secrets = {r["properties"]["name"]: r["properties"] for r in prod_plan.of_type("aws:secretsmanager/secret:Secret")}
    for route in catalogue["routes"]:
        secret = route["secret"]
        declared = secrets.get(secret["name"])
        assert declared is not None, f"{route['path']}: {secret['name']} is not declared"
        scopes = secret["vendor_scopes"]
        if scopes:
            expected = scope_tags(VendorScopes(key_type=scopes["key_type"], role=scopes["role"], grants=scopes["grants"]))
            assert {k: v for k, v in declared["tags"].items() if k.startswith("vendor-")} == expected, secret["name"]


def test_each_routes_secret_is_one_the_backend_may_read(catalogue: dict, access_model: AccessModel) -> None:
    readable = {secret_name("prod", key) for key in access_model.route_server.reads_secrets}
    assert {r["secret"]["name"] for r in catalogue["routes"]} <= readable


def test_only_read_routes_use_a_key_without_write_scopes(catalogue: dict) -> None:
    """The committed model: the analytics key is read-only at Plausible; the refund keys can refund."""
    by_path = {r["path"]: r for r in catalogue["routes"]}
    assert by_path["/ops/analytics"]["secret"]["vendor_scopes"]["writing_scopes"] == []
    assert by_path["/ops/payments/stripe/refunds"]["secret"]["vendor_scopes"]["writing_scopes"] == ["grant rak_refund_write"]


# -- the schema refuses a broken catalogue --------------------------------------

BREAKAGES = {
    "writing route without an action": (lambda d: d["routes"][1].update(writes=True, audit_action=None), "routes[1].audit_action"),
    "cached write": (lambda d: d["routes"][5].update(cache_seconds=30), "routes[5].cache_seconds: 0 was expected"),
    "unknown field": (lambda d: d["routes"][0].update(ttl=5), "routes[0]: Additional properties are not allowed ('ttl' was unexpected)"),
    "absent rather than null": (lambda d: d["routes"][1].pop("audit_action"), "routes[1]: 'audit_action' is a required property"),
    "secret outside the naming scheme": (lambda d: d["routes"][0]["secret"].update(name="stripe-live"), "routes[0].secret.name"),
    "negative cache": (lambda d: d["routes"][2].update(cache_seconds=-1), "routes[2].cache_seconds: -1 is less than the minimum of 0"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_the_schema_refuses_a_broken_catalogue_naming_the_place(catalogue: dict, name: str) -> None:
    edit, where = BREAKAGES[name]
    broken = copy.deepcopy(catalogue)
    edit(broken)

    with pytest.raises(UsageError) as refused:
        actions_file.render(broken)

    assert refused.value.source == "ops-actions.json (against infra/schemas/ops-actions.schema.json)"
    assert any(p.startswith(where) for p in refused.value.problems), refused.value.problems


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(actions_file.schema())
