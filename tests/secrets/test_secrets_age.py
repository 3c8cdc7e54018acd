"""The reminder Lambda (secret_age) against moto's Secrets Manager and CloudWatch."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto.secretsmanager import models as sm_models

from infra.derive.secrets import AGE_METRIC_DIMENSION, AGE_METRIC_NAME, AGE_METRIC_NAMESPACE
from infra.lambdas import secret_age
from tests.secrets.rotation_rig import REGION

DAY = 86400


class _Clock:
    """Stands in for the `time` module inside moto's Secrets Manager, to create versions in the past."""

    def __init__(self, offset_days: float) -> None:
        self.offset = offset_days * DAY

    def time(self) -> float:
        return time.time() - self.offset


def _list_versions_with_their_dates(self: sm_models.SecretsManagerBackend, secret_id: str) -> str:
    """moto gap (not in reference.md's five): its list_secret_version_ids reports every version's
    CreatedDate as "now"; AWS reports when each version was stored, which is what the reminder reads."""
    secret = self.secrets[secret_id]
    versions = [
        {"CreatedDate": v["createdate"], "VersionId": vid, "VersionStages": v["version_stages"]}
        for vid, v in secret.versions.items()
    ]
    return json.dumps({"ARN": secret.arn, "Name": secret.name, "Versions": versions})


@pytest.fixture
def secrets(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(sm_models.SecretsManagerBackend, "list_secret_version_ids", _list_versions_with_their_dates)
    sm = boto3.client("secretsmanager", region_name=REGION)
    monkeypatch.setattr(sm_models, "time", _Clock(100))
    arns = {
        "stale": sm.create_secret(Name="ops-hub/test/stripe/secret-key", SecretString="sk_live_1")["ARN"],
        "empty-old": sm.create_secret(Name="ops-hub/test/payu/client-secret")["ARN"],
    }
    monkeypatch.setattr(sm_models, "time", time)
    arns["fresh"] = sm.create_secret(Name="ops-hub/test/slack/webhook-url", SecretString="https://hooks")["ARN"]
    monkeypatch.setenv("SECRET_ARNS", json.dumps(sorted(arns.values())))
    monkeypatch.setenv("METRIC_NAMESPACE", AGE_METRIC_NAMESPACE)
    return arns


def ages(result: dict[str, float]) -> dict[str, int]:
    return {name.rsplit("/", 2)[-2]: round(age) for name, age in result.items()}


def test_age_is_that_of_the_current_value_or_of_the_secret_when_empty(secrets: dict[str, str]) -> None:
    result = secret_age.lambda_handler({}, None)

    assert ages(result) == {"stripe": 100, "payu": 100, "slack": 0}


def test_a_new_value_resets_the_age_but_a_tag_change_does_not(secrets: dict[str, str]) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.tag_resource(SecretId=secrets["stale"], Tags=[{"Key": "touched", "Value": "yes"}])
    assert ages(secret_age.lambda_handler({}, None))["stripe"] == 100, "a tag edit is not a rotation"

    sm.put_secret_value(SecretId=secrets["stale"], SecretString="sk_live_2")

    assert ages(secret_age.lambda_handler({}, None))["stripe"] == 0


def test_ages_are_published_as_the_metric_the_alarms_watch(secrets: dict[str, str]) -> None:
    secret_age.lambda_handler({}, None)

    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    metrics = cloudwatch.list_metrics(Namespace=AGE_METRIC_NAMESPACE, MetricName=AGE_METRIC_NAME)["Metrics"]
    names = {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == AGE_METRIC_DIMENSION}
    assert names == {"ops-hub/test/stripe/secret-key", "ops-hub/test/payu/client-secret", "ops-hub/test/slack/webhook-url"}
    stats = cloudwatch.get_metric_statistics(
        Namespace=AGE_METRIC_NAMESPACE, MetricName=AGE_METRIC_NAME,
        Dimensions=[{"Name": AGE_METRIC_DIMENSION, "Value": "ops-hub/test/stripe/secret-key"}],
        StartTime=time.time() - 3600, EndTime=time.time() + 60, Period=60, Statistics=["Maximum"],
    )["Datapoints"]
    assert [round(p["Maximum"]) for p in stats] == [100]
