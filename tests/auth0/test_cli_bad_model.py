"""`opshub plan` refuses a broken access model: exit 2, a message naming the culprit and range, no partial output.

The CLI runs in-process with the real program; only the model file it loads is
swapped for a broken copy written to a temporary directory.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.model_edits import ModelChange, role_of, route_of, secret_of

CASES = [
    ModelChange(
        "undeclared-permission",
        lambda d: role_of(d, "ops-payments")["permissions"].append("payments:*"),
        "role 'ops-payments': grants undeclared permission 'payments:*'",
    ),
    ModelChange(
        "duplicate-role",
        lambda d: d["roles"].append(copy.deepcopy(role_of(d, "ops-sre"))),
        "role 'ops-sre': declared more than once",
    ),
    ModelChange(
        "unknown-mfa-factor",
        lambda d: role_of(d, "ops-admin")["mfa"].append("sms"),
        "role 'ops-admin': unknown MFA factor 'sms'",
    ),
    ModelChange(
        "refund-route-without-audit-action",
        lambda d: route_of(d, "POST /ops/payments/stripe/refunds").pop("audit_action"),
        "route POST /ops/payments/stripe/refunds: 'payments:refund' writes, so the route must record an audit_action",
    ),
    ModelChange(
        "made-up-vendor-scope",
        lambda d: secret_of(d, "grafana/service-account-token")["vendor_scopes"].update(role="SuperAdmin"),
        "secret 'grafana/service-account-token': vendor_scopes: role 'SuperAdmin' is not a grafana role",
    ),
    ModelChange(
        "mfa-max-age-zero",
        lambda d: d["sign_in"].update(mfa_max_age_minutes=0),
        "sign_in.mfa_max_age_minutes: Value error, expected whole minutes from 1 to 60 (found 0)",
    ),
    ModelChange(
        "connection-for-a-machine-client",
        lambda d: d["sign_in"]["connections"][0]["clients"].append("access-review-job"),
        "sign_in.connections 'ops-operators': enabled for machine identity 'access-review-job'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_plan_exits_2_naming_the_culprit(case: ModelChange, access_model_data: dict, plan_cli_with_model) -> None:
    run = plan_cli_with_model(case.applied_to(access_model_data))

    assert run.code == 2, f"expected exit 2, got {run.code}; stderr: {run.err}"
    assert case.message in run.err, run.err
    assert str(run.model_file) in run.err, "the message names the model file"
    assert "Traceback" not in run.err
    assert not (run.out / "resources.json").exists(), "a refused plan writes nothing"
    assert not (run.out / "ops-actions.json").exists(), "a refused plan writes nothing"


def test_plan_writes_the_catalogue_of_the_model_it_planned(access_model_data: dict, plan_cli_with_model) -> None:
    changed = ModelChange("cache", lambda d: route_of(d, "GET /ops/analytics").update(cache_seconds=120), "")

    run = plan_cli_with_model(changed.applied_to(access_model_data))

    assert run.code == 0, run.err
    catalogue = json.loads((run.out / "ops-actions.json").read_text())
    assert next(r for r in catalogue["routes"] if r["path"] == "/ops/analytics")["cache_seconds"] == 120
