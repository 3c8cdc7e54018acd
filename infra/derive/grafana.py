"""Grafana folder permissions from the access model's `grafana` integration levels.

Pure, no Pulumi. A role whose permissions grant `view` on Grafana may view the
Ops Hub folders, `edit` may edit them, `admin` may administer them; roles with
no Grafana level get nothing (the folder permission is authoritative, so the
default Viewer/Editor org-role grants are removed).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.errors import ModelError
from infra.model.access import AccessModel

GRAFANA_INTEGRATION = "grafana"
# Access-model level -> Grafana folder permission.
FOLDER_PERMISSION = {"view": "View", "edit": "Edit", "admin": "Admin"}


@dataclass(frozen=True)
class FolderGrant:
    """A Grafana team (named like the access-model role) and its folder permission."""

    role: str
    permission: str


def folder_grants(model: AccessModel) -> list[FolderGrant]:
    integration = next((i for i in model.integrations if i.name == GRAFANA_INTEGRATION), None)
    if integration is None:
        problem = f"integrations: no {GRAFANA_INTEGRATION!r} integration, so no role may see Grafana"
        raise ModelError("access model", [problem])
    grants = [
        FolderGrant(role.name, FOLDER_PERMISSION[level])
        for role in model.roles
        if (level := model.role_level(role, integration)) is not None
    ]
    if not any(g.permission in ("Edit", "Admin") for g in grants):
        problem = "integrations.grafana: no role may edit Grafana, so nobody could maintain the folders"
        raise ModelError("access model", [problem])
    return grants
