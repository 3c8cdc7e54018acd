"""The /ops action catalogue as plain data (pure, no Pulumi): what `opshub plan` writes as ops-actions.json.

Per route: method, path, permission (and whether it writes), the integration,
the ops_audit action it records, how long a read may be served from cache,
and the secret the backend uses for it: its Secrets Manager name and what it
may do at the vendor. The backend's middleware and its contract tests read
this file, so the backend cannot drift from what is deployed.
"""

from __future__ import annotations

from typing import Any

from infra.derive.secrets import secret_name
from infra.model.access import AccessModel, Route
from infra.model.vendor_scopes import VOCABULARIES

VERSION = 1


def _vendor_scopes(model: AccessModel, key: str) -> dict[str, Any] | None:
    secret = model.secret_by_key[key]
    scopes = secret.vendor_scopes
    if scopes is None:
        return None
    return {
        "key_type": scopes.key_type,
        "role": scopes.role,
        "grants": list(scopes.grants),
        "writing_scopes": VOCABULARIES[secret.vendor].writing_scopes(scopes),
    }


def _route(model: AccessModel, route: Route, environment: str) -> dict[str, Any]:
    secret = model.route_secret(route)
    return {
        "method": route.method,
        "path": route.path,
        "permission": route.permission,
        "writes": model.route_writes(route),
        "integration": route.integration,
        "audit_action": route.audit_action,
        # Writes are never served from cache.
        "cache_seconds": route.cache_seconds or 0,
        "secret": {
            "key": secret.key,
            "name": secret_name(environment, secret.key),
            "vendor": secret.vendor,
            "vendor_scopes": _vendor_scopes(model, secret.key),
        },
    }


def ops_actions(model: AccessModel, stack: str, environment: str) -> dict[str, Any]:
    """The ops-actions.json document: routes in path order, every field present (null when none)."""
    routes = sorted(model.routes, key=lambda r: (r.path, r.method))
    return {
        "version": VERSION,
        "stack": stack,
        "route_cache_max_seconds": model.route_cache_max_seconds,
        "routes": [_route(model, r, environment) for r in routes],
    }
