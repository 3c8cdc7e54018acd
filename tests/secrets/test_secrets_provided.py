"""Secrets whose value another part of the program knows are stored, secret, and kept current by Pulumi."""

from __future__ import annotations

import json

import pytest

from infra.components.secrets import VendorSecretsArgs, _check_provided
from infra.errors import ModelError
from infra.model.access import AccessModel
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


def test_access_review_credentials_are_stored_as_the_job_reads_them(prod_plan: Plan) -> None:
    version = version_of(prod_plan, "auth0/access-review-client")

    document = json.loads(version["properties"]["secretString"])

    assert set(document) == {"client_id", "client_secret"}
    assert "secretString" in version["secretProperties"]


@pytest.mark.parametrize(
    ("key", "expect"),
    [
        ("stripe/live-key", "the access model declares no such secret"),
        ("supabase/ops-hub-writer", "a database login's value belongs to its rotation"),
    ],
    ids=["undeclared", "rotated-login"],
)
def test_a_provided_value_must_fill_a_declared_vendor_secret(access_model: AccessModel, key: str, expect: str) -> None:
    args = VendorSecretsArgs.model_construct(model=access_model, provided_values={key: "value"})

    with pytest.raises(ModelError) as raised:
        _check_provided(args)

    assert raised.value.problems == [f"provided value for {key!r}: {expect}"]
