"""The daily engineering metrics job: GitHub and PagerDuty in, a validated snapshot out to S3 and ops_metrics.

AWS Lambda handler `metrics_snapshot.lambda_handler`, started daily by EventBridge
Scheduler; its archive carries infra/metrics, the catalogue and the schema
(infra/components/metrics.py), its layers psycopg and the metrics dependencies
(`make lambda-layer`). It runs as the `metrics-job` identity, which reads exactly
its three secrets:

- GITHUB_SECRET_ARN: the read-only GitHub token (the secret string is the token);
- PAGERDUTY_SECRET_ARN: the read-only PagerDuty REST API key (likewise);
- DATABASE_SECRET_ARN: AWS's PostgreSQL secret JSON of the `ops_metrics_job` login;

and writes to SNAPSHOT_BUCKET (see infra/metrics/publish.py for the order and for
what a partial run does). GITHUB_API_URL and PAGERDUTY_API_URL default as in the
CLI. The event may name the day to compute, for a back-fill: {"as_of": "2026-11-01T00:00:00Z"}
(an older day writes its dated key and row but leaves latest.json); by default it is today 00:00 UTC. A partial or failed run raises, so the Lambda's
error alarm tickets people.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import quote

import boto3

from infra.metrics import github, pagerduty
from infra.metrics.http import HttpClient
from infra.metrics.publish import postgres_appender, publish
from infra.metrics.run import DEFAULT_GITHUB_API_URL, DEFAULT_PAGERDUTY_API_URL, Scope, run
from infra.metrics.timeutil import UTC, parse_time
from infra.model.metrics import DEFAULT_CATALOGUE_PATH, catalogue_digest, load_catalogue


def database_dsn(secret: dict) -> str:
    creds = f"{quote(secret['username'], safe='')}:{quote(secret['password'], safe='')}"
    mode = os.environ.get("PGSSLMODE", "require")
    return f"postgresql://{creds}@{secret['host']}:{secret['port']}/{quote(secret['dbname'], safe='')}?sslmode={mode}"


def _secret(client, arn: str) -> str:
    return client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]


def lambda_handler(event: dict | None, _context: object = None, catalogue_path: Path = DEFAULT_CATALOGUE_PATH,
                   now: dt.datetime | None = None) -> dict:
    """`now` (the reading time) is the clock's unless a test gives it."""
    now = now or dt.datetime.now(UTC).replace(microsecond=0)
    as_of = parse_time(event["as_of"]) if event and event.get("as_of") else now.replace(hour=0, minute=0, second=0)
    if as_of > now:
        raise ValueError(f"as_of {event['as_of']} is in the future")
    secrets = boto3.client("secretsmanager")
    catalogue = load_catalogue(catalogue_path)
    outcome = run(
        catalogue, catalogue_digest(catalogue_path), Scope.of(catalogue), as_of, now,
        HttpClient(os.environ.get("GITHUB_API_URL", DEFAULT_GITHUB_API_URL),
                   github.headers(_secret(secrets, os.environ["GITHUB_SECRET_ARN"]).strip())),
        HttpClient(os.environ.get("PAGERDUTY_API_URL", DEFAULT_PAGERDUTY_API_URL),
                   pagerduty.headers(_secret(secrets, os.environ["PAGERDUTY_SECRET_ARN"]).strip())),
    )
    database = json.loads(_secret(secrets, os.environ["DATABASE_SECRET_ARN"]))
    keys = publish(outcome, boto3.client("s3"), os.environ["SNAPSHOT_BUCKET"], postgres_appender(database_dsn(database)),
                   replace_latest=as_of.date() >= now.date())  # a back-fill of an older day keeps latest.json
    return {"status": "complete", "as_of": outcome.document["as_of"], "keys": keys}
