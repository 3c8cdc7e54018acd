"""What the policy pack needs to know from the access model, as plain data.

The pack reads it as `data.opshub.model` from the generated policies/model.rego
(pulumi-policy-opa loads only .rego files from the pack, so a data.json would be
invisible to `pulumi preview --policy-pack policies`). The paging facts come from
the SLO catalogue and on-call roster (alerts/) and the derivations that use them.
"""

from __future__ import annotations

from typing import Any

from infra.derive.routing import PAGE_SEVERITY
from infra.derive.slo import EXEC_ERR_STATE, NO_DATA_STATE, PAGE_SEVERITY_LABEL
from infra.model.access import AccessModel
from infra.model.observability import Catalogue
from infra.model.vendor_scopes import policy_vocabularies

# Longest rotation period a secret may have: automatically rotated database
# credentials at most 30 days, credentials rolled by hand at most 90.
DATABASE_ROTATION_LIMIT_DAYS = 30
VENDOR_ROTATION_LIMIT_DAYS = 90


def read_route_secrets(model: AccessModel) -> list[str]:
    """Secrets the backend uses for routes, none of which writes: their keys need no write scope."""
    uses: dict[str, list[bool]] = {}
    for route in model.routes:
        uses.setdefault(model.route_secret(route).key, []).append(model.route_writes(route))
    return sorted(key for key, writes in uses.items() if not any(writes))


def paging_data(catalogue: Catalogue) -> dict[str, Any]:
    """What the paging rules hold a plan to: the catalogue's limits, the alert states and the
    PagerDuty severity the derivation sets, and the declared maintenance windows."""
    oncall = catalogue.oncall
    return {
        **oncall.paging_limits.seconds(),
        "max_escalation_delay_minutes": oncall.paging_limits.max_escalation_delay_minutes,
        "page_label": PAGE_SEVERITY_LABEL,
        "pagerduty_page_severity": PAGE_SEVERITY,
        "alert_states": {"noDataState": NO_DATA_STATE, "execErrState": EXEC_ERR_STATE},
        "maintenance_windows": {
            w.name: {"weekdays": list(w.weekdays), "start": w.start, "end": w.end, "location": w.location}
            for w in oncall.maintenance_windows
        },
    }


def policy_model_data(model: AccessModel, catalogue: Catalogue) -> dict[str, Any]:
    """The model facts the rules need: permissions, roles, SoD pairs, identities, secrets, paging."""
    return {
        "paging": paging_data(catalogue),
        "permissions": {p.name: {"writes": p.writes, "privileged": p.privileged} for p in model.permissions},
        "roles": {
            r.name: {
                "permissions": sorted(r.permissions),
                "read_only": r.read_only,
                "privileged": model.is_privileged(r),
                "mfa": list(r.mfa),
            }
            for r in model.roles
        },
        "sod_pairs": [list(pair.permissions) for pair in model.segregation_of_duties],
        "identities": {
            i.name: {"api_permissions": sorted(i.api_permissions), "reads_secrets": sorted(i.reads_secrets)}
            for i in model.identities
        },
        "secrets": {
            s.key: {
                "vendor": s.vendor,
                "database_credential": s.database_user is not None,
                "max_rotation_days": DATABASE_ROTATION_LIMIT_DAYS
                if s.database_user is not None
                else VENDOR_ROTATION_LIMIT_DAYS,
            }
            for s in model.secrets
        },
        "vendor_rotation_limit_days": VENDOR_ROTATION_LIMIT_DAYS,
        "read_route_secrets": read_route_secrets(model),
        "vendor_scopes": policy_vocabularies(),
    }
