"""Contract tests for role coverage: the /ops routes against the Auth0 roles the plan declares.

The routes and permission flags come from the access model; who holds what comes
from the declared RolePermissions, so a derivation bug cannot hide behind the model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from infra.model.access import AccessModel, parse_model
from infra.offline.plan import Plan
from tests.auth0.plan_reading import declared_role_permissions

RolePermissions = dict[str, set[str]]


def unreachable_routes(model: AccessModel, held: RolePermissions) -> list[str]:
    return [
        f"{r.method} {r.path} needs {r.permission!r}, which no role holds"
        for r in model.routes
        if not any(r.permission in perms for perms in held.values())
    ]


def read_only_roles_reaching_writes(model: AccessModel, held: RolePermissions) -> list[str]:
    return [
        f"read-only role {role.name!r} reaches writing route {r.method} {r.path}"
        for role in model.roles
        if role.read_only
        for r in model.routes
        if model.permission_by_name[r.permission].writes and r.permission in held.get(role.name, set())
    ]


def sod_breaches(model: AccessModel, held: RolePermissions) -> list[str]:
    return [
        f"role {name!r} holds both {a!r} and {b!r}"
        for name, perms in held.items()
        for a, b in (pair.permissions for pair in model.segregation_of_duties)
        if {a, b} <= perms
    ]


def test_every_route_is_reachable_by_a_role(prod_plan: Plan, access_model: AccessModel) -> None:
    assert access_model.routes, "the model lists the /ops routes"
    assert unreachable_routes(access_model, declared_role_permissions(prod_plan)) == []


def test_no_read_only_role_reaches_a_writing_route(prod_plan: Plan, access_model: AccessModel) -> None:
    assert any(r.read_only for r in access_model.roles), "the model has read-only roles to check"
    assert read_only_roles_reaching_writes(access_model, declared_role_permissions(prod_plan)) == []


def test_segregation_of_duties_holds_for_every_role(prod_plan: Plan, access_model: AccessModel) -> None:
    assert access_model.segregation_of_duties, "the model has SoD pairs to check"
    assert sod_breaches(access_model, declared_role_permissions(prod_plan)) == []


def test_a_route_no_role_holds_is_reported(plan_model: Callable[[dict], Plan], access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["permissions"].append({"name": "payouts:approve", "description": "Approve payouts", "writes": True, "privileged": True})
    next(i for i in data["integrations"] if i["name"] == "stripe")["grants"]["payouts:approve"] = "edit"
    data["routes"].append({"method": "POST", "path": "/ops/payouts/approve", "permission": "payouts:approve",
                           "integration": "stripe", "audit_action": "payouts:approve"})

    plan = plan_model(data)

    assert unreachable_routes(parse_model(data), declared_role_permissions(plan)) == [
        "POST /ops/payouts/approve needs 'payouts:approve', which no role holds"
    ]


def test_a_read_only_role_with_a_writing_permission_is_reported(prod_plan: Plan, access_model: AccessModel) -> None:
    held = declared_role_permissions(prod_plan)
    held["ops-viewer"] = held["ops-viewer"] | {"content:write"}

    assert read_only_roles_reaching_writes(access_model, held) == [
        "read-only role 'ops-viewer' reaches writing route POST /ops/content/publish"
    ]


def test_a_role_holding_both_sides_of_a_pair_is_reported(prod_plan: Plan, access_model: AccessModel) -> None:
    held = declared_role_permissions(prod_plan)
    held["ops-payments"] = held["ops-payments"] | {"audit:export"}

    assert sod_breaches(access_model, held) == ["role 'ops-payments' holds both 'payments:refund' and 'audit:export'"]
