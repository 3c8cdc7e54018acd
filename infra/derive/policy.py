"""What the policy pack needs to know from the access model, as plain data.

The pack reads it as `data.opshub.model` from the generated policies/model.rego
(pulumi-policy-opa loads only .rego files from the pack, so a data.json would be
invisible to `pulumi preview --policy-pack policies`).
"""

from __future__ import annotations

from typing import Any

from infra.derive.compliance import ARCHIVE_WRITERS, CHECKPOINT_IDENTITY
from infra.model.access import AccessModel

# Longest rotation period a secret may have: automatically rotated database
# credentials at most 30 days, credentials rolled by hand at most 90.
DATABASE_ROTATION_LIMIT_DAYS = 30
VENDOR_ROTATION_LIMIT_DAYS = 90


def policy_model_data(model: AccessModel) -> dict[str, Any]:
    """The model facts the rules need: permissions, roles, SoD pairs, identities, secrets, the jobs' archive prefixes."""
    identities = {i.name for i in model.identities}
    return {
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
                "database_credential": s.database_user is not None,
                "max_rotation_days": DATABASE_ROTATION_LIMIT_DAYS
                if s.database_user is not None
                else VENDOR_ROTATION_LIMIT_DAYS,
            }
            for s in model.secrets
        },
        "vendor_rotation_limit_days": VENDOR_ROTATION_LIMIT_DAYS,
        # The compliance jobs' identities and the archive prefix each may add objects under.
        "archive_writers": {name: prefix for name, prefix in ARCHIVE_WRITERS.items() if name in identities},
        # Identities whose role alone may sign with a SIGN_VERIFY key (the audit checkpoints).
        "checkpoint_signers": sorted({CHECKPOINT_IDENTITY} & identities),
    }
