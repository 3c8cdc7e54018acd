"""OPS-VEND-001 follows the model: which keys only read routes use, and which scopes write.

The pack is evaluated with policies/model.rego generated from a changed model (as
`opshub docs` would generate it), against the tags VendorSecrets puts on the secret.
"""

from __future__ import annotations

import dataclasses

import pytest

from infra.derive.secrets import secret_plans
from infra.model.access import AccessModel, parse_model
from infra.policy.check import run_check
from infra.policy.engines import ENGINES, make_engine
from infra.policy.generate import model_rego
from infra.policy.pack import PolicyPack
from tests.policies.conftest import expand
from tests.support.model_edits import ModelChange


def without_routes(*labels: str) -> ModelChange:
    return ModelChange(
        f"without {labels}",
        lambda d: d.update(routes=[r for r in d["routes"] if f"{r['method']} {r['path']}" not in labels]),
        "",
    )


def findings(pack: PolicyPack, model: AccessModel, key: str) -> dict[str, list[str]]:
    """OPS-VEND-001's messages per engine, for the secret `key` as VendorSecrets declares it."""
    plan = next(p for p in secret_plans(model, "prod") if p.key == key)
    resources = expand([{"type": "aws:secretsmanager/secret:Secret", "name": plan.slug,
                         "properties": {"name": plan.name, "tags": plan.tags}}])
    changed = dataclasses.replace(pack, modules={**pack.modules, "model.rego": model_rego(model)})
    reports = {name: run_check(changed, make_engine(name, changed.package, changed.modules, per_rule=name == "opa"), resources) for name in ENGINES}
    return {name: sorted(f.message for f in report.findings if f.rule.id == "OPS-VEND-001") for name, report in reports.items()}


def test_a_refund_key_whose_refund_routes_are_gone_fails_on_its_write_grant(pack, access_model_data):
    model = parse_model(without_routes("POST /ops/payments/stripe/refunds", "POST /ops/payments/payu/refunds")
                        .applied_to(access_model_data))

    found = findings(pack, model, "stripe/secret-key")

    assert found["regorus"] == found["opa"] == [
        "Secret 'stripe-secret-key' (stripe/secret-key) is used only by read routes but declares grant rak_refund_write at the vendor"
    ]


def test_an_editor_service_account_without_the_ack_route_fails_on_its_role(pack, access_model_data):
    model = parse_model(without_routes("POST /ops/incidents/ack").applied_to(access_model_data))

    found = findings(pack, model, "grafana/service-account-token")

    assert found["regorus"] == found["opa"] == [
        "Secret 'grafana-service-account-token' (grafana/service-account-token) is used only by read routes "
        "but declares role Editor at the vendor"
    ]


@pytest.mark.parametrize("key", ["stripe/secret-key", "grafana/service-account-token", "plausible/api-key", "strapi/api-token"])
def test_the_committed_model_passes(pack, access_model: AccessModel, key):
    assert findings(pack, access_model, key) == {name: [] for name in ENGINES}
