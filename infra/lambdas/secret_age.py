"""Publishes how old each secret's current value is, so CloudWatch alarms can ticket people.

Handler: `secret_age.lambda_handler` (package root infra/lambdas), run by
EventBridge Scheduler. For every ARN in SECRET_ARNS (a JSON list) it publishes
`SecretAgeDays` (dimension `SecretName`) in METRIC_NAMESPACE: the days since the
AWSCURRENT version was created, or since the secret was created if it has no
value yet (an empty secret ages towards its alarm like a stale one).

It reads version dates, never values. It does not use the secret's
LastChangedDate, which also moves when only tags or the description change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import boto3

METRIC_NAME = "SecretAgeDays"
DIMENSION = "SecretName"


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, float]:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    secrets = boto3.client("secretsmanager", region_name=region)
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    now = dt.datetime.now(dt.UTC)
    ages = {}
    for arn in json.loads(os.environ["SECRET_ARNS"]):
        name, changed = current_value_date(secrets, arn)
        ages[name] = (now - changed).total_seconds() / 86400
    cloudwatch.put_metric_data(
        Namespace=os.environ["METRIC_NAMESPACE"],
        MetricData=[
            {"MetricName": METRIC_NAME, "Dimensions": [{"Name": DIMENSION, "Value": name}], "Value": age, "Unit": "None"}
            for name, age in sorted(ages.items())
        ],
    )
    return ages


def current_value_date(client: Any, arn: str) -> tuple[str, dt.datetime]:
    """The secret's name and when its AWSCURRENT value was stored (its creation date if it has none)."""
    described = client.describe_secret(SecretId=arn)
    versions = client.list_secret_version_ids(SecretId=arn)["Versions"]
    dates = [v["CreatedDate"] for v in versions if "AWSCURRENT" in v.get("VersionStages", [])]
    return described["Name"], dates[0] if dates else described["CreatedDate"]
