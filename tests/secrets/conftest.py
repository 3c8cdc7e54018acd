"""Fixtures for the secrets tests: moto's AWS, a real PostgreSQL 15 login with its secrets, and the rotation rig."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from tests.secrets.rotation_rig import REGION, RotationRig
from tests.support.fixtures import pg_cluster, pg_database  # noqa: F401 - fixtures used by the tests here
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, PgCluster

_users = itertools.count(1)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call; the handler reads its region from AWS_REGION as in Lambda."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.fixture
def rig(aws: None, pg_cluster: PgCluster, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> RotationRig:  # noqa: F811
    """A fresh login (unique per test: roles are cluster-wide) with a group, its secrets, and a rotation Lambda in moto."""
    n = next(_users)
    user, group = f"ops_writer_{n}", f"ops_writer_group_{n}"
    with pg_cluster.connect(pg_database) as conn:
        conn.execute(f"create role {group} nologin")
        conn.execute(f"create role {user} login password 'initial-password-{n}'")
        conn.execute(f"grant {group} to {user}")
    # The throwaway cluster has no TLS (tests/support/pgcluster.py); the handler's only override is PGSSLMODE.
    monkeypatch.setenv("PGSSLMODE", "disable")

    sm = boto3.client("secretsmanager", region_name=REGION)
    server = {"engine": "postgres", "host": pg_cluster.host, "port": pg_cluster.port, "dbname": pg_database}
    master_arn = sm.create_secret(
        Name=f"ops-hub/test/supabase/master-{n}",
        SecretString=json.dumps(server | {"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
    )["ARN"]
    arn = sm.create_secret(
        Name=f"ops-hub/test/supabase/writer-{n}",
        SecretString=json.dumps(
            server | {"username": user, "password": f"initial-password-{n}", "masterarn": master_arn}
        ),
    )["ARN"]
    function_arn = _rotation_function(n)
    rig = RotationRig(pg_cluster, pg_database, user, group, sm, arn, master_arn, function_arn)
    _patch_lambda_invoke(monkeypatch, rig)
    return rig


def _rotation_function(n: int) -> str:
    """A Lambda function record in moto, so rotate_secret accepts the rotation ARN."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"rotate-{n}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=f"rotate-{n}", Runtime="python3.12", Role=role, Handler="rotate_postgres.lambda_handler",
        Code={"ZipFile": b"in-process"},
    )["FunctionArn"]


def _patch_lambda_invoke(monkeypatch: pytest.MonkeyPatch, rig: RotationRig) -> None:
    """moto gap 1: rotate_secret runs a Lambda only through Docker; run the handler in-process instead.

    Also: moto passes the secret's name as SecretId, where Secrets Manager
    passes the ARN (the contract the handler relies on), so the ARN is used.
    A failing step stops the rotation, as in Secrets Manager.
    """

    def invoke(self: LambdaBackend, function_name: str, qualifier: Any, body: str, **headers: Any) -> bytes:
        event = json.loads(body)
        if rig.failures:
            return b""
        try:
            rig.invoke(event["Step"], event["ClientRequestToken"])
        except Exception as exc:  # noqa: BLE001 - recorded for the test to inspect
            rig.failures.append((event["Step"], exc))
        return b""

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)

