"""Fixtures for the secrets tests: moto's AWS, a real PostgreSQL 15 login with its secrets, and the rotation rig."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from tests.secrets.rotation_rig import REGION, RotationRig, create_rig, in_process_invoke
from tests.support.fixtures import pg_cluster, pg_database  # noqa: F401 - fixtures used by the tests here
from tests.support.pgcluster import PgCluster

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
    """A fresh login with a group, its secrets, and a rotation Lambda in moto whose invoke runs the handler."""
    # The throwaway cluster has no TLS (tests/support/pgcluster.py); the handler's only override is PGSSLMODE.
    monkeypatch.setenv("PGSSLMODE", "disable")
    rig = create_rig(pg_cluster, pg_database, next(_users))
    monkeypatch.setattr(LambdaBackend, "invoke", in_process_invoke(rig))
    return rig
