"""Secrets whose value another part of the program knows are stored, secret, and kept current by Pulumi."""

from __future__ import annotations

import json

import pytest

from infra.components.secrets import VendorSecretsArgs, _check_wiring
from infra.errors import ModelError
from infra.model.access import AccessModel, load_model
from infra.offline.plan import Plan
from tests.secrets.test_secrets_plan import SECRET_VERSION, linked, ours

PROVIDED = {
    "pagerduty/routing-key": "oncall-ops-hub-events-integrationKey",
    "slack/webhook-url": "offline-placeholder:opshub:slackWebhookUrl",
}


def version_of(plan: Plan, secret_name_suffix: str) -> dict:
    for version in ours(plan, SECRET_VERSION):
        (secret,) = linked(plan, version, "secretId")
        if secret["properties"]["name"].endswith(secret_name_suffix):
            return version
    raise AssertionError(f"no value is stored for {secret_name_suffix}")


@pytest.mark.parametrize(("key", "value"), PROVIDED.items(), ids=list(PROVIDED))
def test_provided_value_is_stored_as_a_secret_pulumi_keeps_current(prod_plan: Plan, key: str, value: str) -> None:
    version = version_of(prod_plan, key)

    assert version["properties"]["secretString"] == value
    assert "secretString" in version["secretProperties"], "the stored value stays a Pulumi secret"
    assert not version["options"]["ignoreChanges"], "Pulumi owns the value, so a new key flows in on `pulumi up`"


@pytest.mark.parametrize("key", ["auth0/access-review-client", "auth0/ops-hub-runtime-client"])
def test_machine_client_keys_are_stored_as_the_jobs_read_them(prod_plan: Plan, key: str) -> None:
    """private_key_jwt (docs/adr/0007): the client id and the private key from pulumi-tls, never a client secret."""
    version = version_of(prod_plan, key)

    document = json.loads(version["properties"]["secretString"])

    assert set(document) == {"client_id", "private_key_pem", "algorithm"}
    assert document["algorithm"] == "RS256"
    assert "secretString" in version["secretProperties"]


ALL_PROVIDED = ("pagerduty/routing-key", "slack/webhook-url", "auth0/access-review-client", "auth0/ops-hub-runtime-client")


@pytest.mark.parametrize(
    ("key", "expect"),
    [
        ("stripe/live-key", "the access model declares no such secret"),
        ("stripe/secret-key", "the model does not mark it set_by: pulumi (or it is a database login)"),
        ("supabase/ops-hub-writer", "the model does not mark it set_by: pulumi (or it is a database login)"),
    ],
    ids=["undeclared", "set-by-people", "rotated-login"],
)
def test_a_provided_value_must_fill_a_secret_the_model_says_pulumi_sets(access_model: AccessModel, key: str, expect: str) -> None:
    values = dict.fromkeys((*ALL_PROVIDED, key), "value")
    args = VendorSecretsArgs.model_construct(model=access_model, provided_values=values, identity_functions=FUNCTIONS)

    with pytest.raises(ModelError) as raised:
        _check_wiring(args)

    assert raised.value.problems == [f"provided value for {key!r}: {expect}"]


# One function per Lambda identity that reads secrets, as the program wires them.
FUNCTIONS = {i.name: f"ops-hub-prod-{i.name}" for i in load_model().identities if i.runs_on == "lambda" and i.reads_secrets}


def test_a_secret_pulumi_sets_without_a_provided_value_is_named(access_model: AccessModel) -> None:
    values = dict.fromkeys(ALL_PROVIDED[1:], "value")
    args = VendorSecretsArgs.model_construct(model=access_model, provided_values=values, identity_functions=FUNCTIONS)

    with pytest.raises(ModelError) as raised:
        _check_wiring(args)

    assert raised.value.problems == ["secret 'pagerduty/routing-key': set_by: pulumi, but the program provides no value"]


def test_a_lambda_identity_without_its_function_is_named(access_model: AccessModel) -> None:
    args = VendorSecretsArgs.model_construct(
        model=access_model, provided_values=dict.fromkeys(ALL_PROVIDED, "value"), identity_functions={}
    )

    with pytest.raises(ModelError) as raised:
        _check_wiring(args)

    assert raised.value.problems == [
        f"identity {name!r}: runs on lambda, but no function runs as it (identity_functions)" for name in FUNCTIONS
    ]
