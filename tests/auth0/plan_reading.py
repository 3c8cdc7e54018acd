"""Readers of the Auth0 part of an offline plan, for the Auth0 tests.

Links between resources follow `propertyDependencies` (as the engine records them),
never URN shapes or mock ids.
"""

from __future__ import annotations

from typing import Any

from infra.offline.plan import Plan

ROLE = "auth0:index/role:Role"
ROLE_PERMISSIONS = "auth0:index/rolePermissions:RolePermissions"
RESOURCE_SERVER = "auth0:index/resourceServer:ResourceServer"
SCOPES = "auth0:index/resourceServerScopes:ResourceServerScopes"
GUARDIAN = "auth0:index/guardian:Guardian"
ACTION = "auth0:index/action:Action"
TRIGGER_ACTIONS = "auth0:index/triggerActions:TriggerActions"
CLIENT = "auth0:index/client:Client"
CLIENT_CREDENTIALS = "auth0:index/clientCredentials:ClientCredentials"
CLIENT_GRANT = "auth0:index/clientGrant:ClientGrant"


def linked(plan: Plan, resource: dict[str, Any], prop: str) -> list[dict[str, Any]]:
    """The resources whose outputs fed `prop` of `resource`."""
    by_urn = {r["urn"]: r for r in plan.resources}
    return [by_urn[u] for u in resource["propertyDependencies"].get(prop, [])]


def declared_role_grants(plan: Plan) -> dict[str, set[tuple[str, str]]]:
    """Auth0 role name -> {(permission, resource server identifier)} its RolePermissions declare."""
    grants: dict[str, set[tuple[str, str]]] = {r["properties"]["name"]: set() for r in plan.of_type(ROLE)}
    for holder in plan.of_type(ROLE_PERMISSIONS):
        (role,) = linked(plan, holder, "roleId")
        grants[role["properties"]["name"]] |= {
            (p["name"], p["resourceServerIdentifier"]) for p in holder["properties"]["permissions"]
        }
    return grants


def declared_role_permissions(plan: Plan) -> dict[str, set[str]]:
    return {role: {name for name, _ in held} for role, held in declared_role_grants(plan).items()}


def client_grants(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Client name -> the ClientGrant properties declared for it."""
    grants: dict[str, list[dict[str, Any]]] = {c["properties"]["name"]: [] for c in plan.of_type(CLIENT)}
    for grant in plan.of_type(CLIENT_GRANT):
        (client,) = linked(plan, grant, "clientId")
        grants[client["properties"]["name"]].append(grant["properties"])
    return grants
