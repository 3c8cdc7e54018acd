"""The daily job end to end: moto's Secrets Manager and S3, loopback GitHub and PagerDuty, real PostgreSQL.

moto 5.2.5 stands in for AWS (its S3 keeps versions when versioning is on); the
Lambda handler runs in-process with the environment its component gives it.
"""

from __future__ import annotations

import json
import os
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from psycopg import sql

from infra.derive.audit import derive_audit
from infra.derive.metrics import derive_metrics
from infra.lambdas import metrics_snapshot
from infra.metrics.publish import LATEST_KEY, PartialSnapshot
from infra.metrics.timeutil import parse_time
from infra.migrations.runner import migrate
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb
from tests.metrics.shapes import RECORDED_AT, scenario
from tests.support.standin import Answer, GitHubStandIn, LoopbackServer, PagerDutyStandIn

pytestmark = pytest.mark.postgres
REGION = "eu-central-1"
BUCKET = "ops-hub-prod-metrics-210987654321"


@pytest.fixture(scope="module")
def database(pg_cluster, access_model, catalogue) -> AuditDb:
    from infra.config import REPO_ROOT, load_stack_config, stack_file

    decl = derive_metrics(access_model, catalogue, "prod", "210987654321")
    db = AuditDb(pg_cluster, pg_cluster.create_database("metrics_publish"))
    migrate(db.admin_dsn, derive_audit(access_model, load_stack_config(stack_file("prod", REPO_ROOT)), decl.read_roles).settings)
    with db.superuser() as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (decl.login.name,)).fetchone():
            conn.execute(sql.SQL("create role {} login password {} in role ops_metrics_writer").format(
                sql.Identifier(decl.login.name), sql.Literal(LOGIN_PASSWORD)))
    return db


@pytest.fixture
def job(database, monkeypatch: pytest.MonkeyPatch):
    """moto AWS with the job's three secrets and a versioned bucket, and the stand-ins; yields (s3, servers, run)."""
    gh, pd = scenario()
    with mock_aws(), LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        env = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION, "PGSSLMODE": "disable",
               "GITHUB_API_URL": gh_server.base, "PAGERDUTY_API_URL": pd_server.base, "SNAPSHOT_BUCKET": BUCKET}
        with mock.patch.dict(os.environ, env):
            sm, s3 = boto3.client("secretsmanager"), boto3.client("s3")
            cluster = database.cluster
            secrets = {
                "GITHUB_SECRET_ARN": ("ops-hub/prod/github/metrics-token", "ghs_readonly\n"),
                "PAGERDUTY_SECRET_ARN": ("ops-hub/prod/pagerduty/metrics-api-key", "pd-readonly"),
                "DATABASE_SECRET_ARN": ("ops-hub/prod/supabase/ops-metrics-writer", json.dumps({
                    "engine": "postgres", "host": cluster.host, "port": cluster.port, "username": "ops_metrics_job",
                    "password": LOGIN_PASSWORD, "dbname": database.name})),
            }
            for variable, (name, value) in secrets.items():
                os.environ[variable] = sm.create_secret(Name=name, SecretString=value)["ARN"]
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

            def run(as_of: str = "2026-12-08T00:00:00Z") -> dict:
                return metrics_snapshot.lambda_handler({"as_of": as_of}, None, now=parse_time(RECORDED_AT))

            yield s3, (gh_server, pd_server), run


def rows(database: AuditDb) -> list[tuple]:
    with database.superuser() as conn:
        return conn.execute("select as_of::text, snapshot ->> 'status' from ops_metrics.snapshots order by id").fetchall()


def body(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_a_complete_run_writes_the_dated_key_the_row_and_then_latest(job, database) -> None:
    s3, (gh_server, pd_server), run = job
    before = len(rows(database))
    result = run()
    assert result == {"status": "complete", "as_of": "2026-12-08T00:00:00Z", "keys": ["snapshots/2026/12/08.json", LATEST_KEY]}
    dated, latest = body(s3, "snapshots/2026/12/08.json"), body(s3, LATEST_KEY)
    assert dated == latest and dated["status"] == "complete"
    assert len(rows(database)) == before + 1
    assert {h["authorization"] for h in gh_server.headers} == {"Bearer ghs_readonly"}, "the token from Secrets Manager, trimmed"


def test_a_partial_run_keeps_latest_and_the_last_good_row(job, database) -> None:
    s3, (_, pd_server), run = job
    run()
    good, count = body(s3, LATEST_KEY), len(rows(database))
    pd_server.faults["/incidents"] = [Answer(503, {}, {"error": {"message": "down"}})] * 10
    with pytest.raises(PartialSnapshot, match="latest.json and ops_metrics were left as they were"):
        run("2026-12-08T00:00:00Z")
    assert body(s3, LATEST_KEY) == good and len(rows(database)) == count
    partial = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="snapshots/partial/")["Contents"]]
    assert partial == ["snapshots/partial/2026/12/08/2026-12-08T060000Z.json"]
    assert body(s3, partial[0])["status"] == "partial"


def test_a_back_fill_writes_its_own_day_and_leaves_latest(job) -> None:
    s3, _, run = job
    run("2026-12-08T00:00:00Z")
    assert run("2026-12-05T00:00:00Z")["keys"] == ["snapshots/2026/12/05.json"]
    assert body(s3, "snapshots/2026/12/05.json")["as_of"] == "2026-12-05T00:00:00Z"
    assert body(s3, LATEST_KEY)["as_of"] == "2026-12-08T00:00:00Z"


def test_a_rerun_of_the_day_keeps_the_earlier_version(job) -> None:
    s3, _, run = job
    run()
    run()
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="snapshots/2026/12/08.json")["Versions"]
    assert len(versions) == 2, "the bucket is versioned: nothing is lost"
