"""Bad secret declarations fail `opshub plan` with exit 2, naming the secret, identity or integration."""

from __future__ import annotations

import pytest

from tests.support.model_edits import ModelChange, identity_of, secret_of


def drop_stripe_secret(data: dict) -> None:
    data["secrets"].remove(secret_of(data, "stripe/secret-key"))
    identity_of(data, "ops-hub-runtime")["reads_secrets"].remove("stripe/secret-key")


CASES = [
    ModelChange("vendor-without-secret", drop_stripe_secret,
               "integration 'stripe': has no secret; declare its credential under secrets (vendor: stripe)"),
    ModelChange("secret-without-rotation-plan", lambda d: secret_of(d, "payu/client-secret").pop("rotation"),
               "secrets[3].rotation: Field required"),
    ModelChange("runtime-reads-undeclared-secret",
               lambda d: identity_of(d, "ops-hub-runtime")["reads_secrets"].append("stripe/restricted-key"),
               "identity 'ops-hub-runtime': reads undeclared secret 'stripe/restricted-key'"),
    ModelChange("runtime-reads-master-secret",
               lambda d: identity_of(d, "ops-hub-runtime")["reads_secrets"].append("supabase/rotator"),
               "identity 'ops-hub-runtime': reads master secret 'supabase/rotator', which only its rotation Lambda may read"),
    ModelChange("runtime-reads-admin-secret",
               lambda d: identity_of(d, "ops-hub-runtime")["reads_secrets"].append("supabase/master"),
               "identity 'ops-hub-runtime': reads the database admin secret 'supabase/master', which only Pulumi may read"),
    ModelChange("admin-secret-as-master",
               lambda d: secret_of(d, "supabase/ops-hub-writer").update(master="supabase/master"),
               "master 'supabase/master' must be a reminder-rotated rotator login (database_group: rotator) of vendor 'supabase'"),
    ModelChange("rotator-rotated-by-lambda",
               lambda d: secret_of(d, "supabase/rotator").update(rotation="lambda", rotation_days=30, master="supabase/rotator"),
               "secret 'supabase/rotator': the rotator login is rotated by people (rotation: reminder), never by itself"),
    ModelChange("lambda-rotation-without-master", lambda d: secret_of(d, "supabase/ops-hub-writer").pop("master"),
               "secret 'supabase/ops-hub-writer': lambda rotation needs master"),
    ModelChange("undeclared-master", lambda d: secret_of(d, "supabase/ops-hub-writer").update(master="supabase/root"),
               "secret 'supabase/ops-hub-writer': master 'supabase/root' is not a declared secret"),
    ModelChange("master-of-another-vendor",
               lambda d: secret_of(d, "supabase/ops-hub-writer").update(master="stripe/secret-key"),
               "master 'stripe/secret-key' must be a reminder-rotated rotator login (database_group: rotator) of vendor 'supabase'"),
    ModelChange("reminder-secret-naming-a-master",
               lambda d: secret_of(d, "slack/webhook-url").update(master="supabase/master"),
               "secret 'slack/webhook-url': lambda rotation needs master (the secret that can ALTER ROLE), and only lambda"),
    ModelChange("unknown-runs-on", lambda d: identity_of(d, "audit-export-job").update(runs_on="vm"),
               "identities[2] (audit-export-job).runs_on: Input should be 'lambda' or 'ecs'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_model_refuses_it(case: ModelChange, access_model_data: dict) -> None:
    problems = case.refusal(access_model_data)

    assert any(case.message in p for p in problems), problems


@pytest.mark.parametrize("case", CASES[:4], ids=[c.test_id for c in CASES[:4]])
def test_plan_exits_2_and_writes_nothing(case: ModelChange, access_model_data: dict, plan_cli_with_model) -> None:
    run = plan_cli_with_model(case.applied_to(access_model_data))

    assert run.code == 2, f"expected exit 2, got {run.code}; stderr: {run.err}"
    assert case.message in run.err, run.err
    assert "Traceback" not in run.err
    assert not (run.out / "resources.json").exists(), "a refused plan writes nothing"
