"""OpsAuditMigrations: a Pulumi dynamic resource that applies infra/migrations with the runner.

Its own type token, `pulumi-python:dynamic/opshub:OpsAuditMigrations`, keeps it
apart from other dynamic resources in plans and policies. Inputs: the admin
DSN (a secret), the sha256 of every migration file, the settings row and the
action catalogue (each route's audit action and permission, each role's
permissions). A new or changed file, changed settings or a changed catalogue
is an update, which runs the
runner again (pending files only; a changed applied file is refused by the
runner, naming it). Deleting the resource never drops the trail: audit data
outlives the stack, and removing it is a documented manual act.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from infra.derive.audit import AuditSettings

# Inputs whose change means "run the runner again".
TRIGGER_INPUTS = ("digests", "rolesClaim", "opsRoles", "readAllRoles", "actions", "rolePermissions", "metricsReadRoles")


def settings_inputs(settings: AuditSettings) -> dict[str, Any]:
    """The settings and the action catalogue as the resource's inputs (camelCase, maps where a diff helps)."""
    return {
        "rolesClaim": settings.roles_claim,
        "opsRoles": list(settings.ops_roles),
        "readAllRoles": list(settings.read_all_roles),
        "metricsReadRoles": list(settings.metrics_read_roles),
        # action -> permission, and role -> permissions: maps, so a diff names what changed.
        "actions": dict(settings.actions),
        "rolePermissions": {
            role: sorted(p for r, p in settings.role_permissions if r == role) for role in settings.ops_roles
        },
    }


def _settings(props: dict[str, Any]) -> AuditSettings:
    return AuditSettings(
        roles_claim=props["rolesClaim"],
        ops_roles=tuple(props["opsRoles"]),
        read_all_roles=tuple(props["readAllRoles"]),
        actions=tuple(sorted(props["actions"].items())),
        role_permissions=tuple((role, p) for role, perms in sorted(props["rolePermissions"].items()) for p in perms),
        metrics_read_roles=tuple(props.get("metricsReadRoles") or ()),
    )


def _run(props: dict[str, Any]) -> dict[str, Any]:
    from infra.migrations.runner import migrate  # psycopg only where a database is reached, never in a plan

    result = migrate(props["dsn"], _settings(props))
    outs = {k: v for k, v in props.items() if k != "dsn"}
    return {**outs, "lastApplied": list(result.applied), "notices": list(result.notices)}


class MigrationsProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="ops_audit-migrations", outs=_run(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in TRIGGER_INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_run(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Never drop the trail with the stack (see the module docstring)."""


class OpsAuditMigrations(Resource, module="opshub", name="OpsAuditMigrations"):
    # What the last run applied and what the files said (`raise notice`), e.g. that pg_cron
    # is missing; the program exports the notices, so `pulumi up` prints them.
    lastApplied: pulumi.Output[list[str]]  # noqa: N815 - the provider's output name
    notices: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        dsn: pulumi.Input[str],
        digests: dict[str, str],
        settings: AuditSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "dsn": pulumi.Output.secret(dsn),
            "digests": digests,
            **settings_inputs(settings),
            "lastApplied": None,
            "notices": None,
        }
        super().__init__(MigrationsProvider(), name, props, opts)
