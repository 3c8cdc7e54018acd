"""Pytest fixtures for a throwaway PostgreSQL cluster (tests/support/pgcluster.py).

Load them with `pytest_plugins = ["tests.support.fixtures"]` in a domain's
conftest.py. The cluster is session-scoped, so each xdist worker starts one
and always stops it at teardown; each test that needs a clean database asks
for `pg_database` and gets a fresh Supabase-like one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.support.pgcluster import PgCluster

_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> str:
    """The name of a fresh database with Supabase's roles and auth schema."""
    return pg_cluster.create_database(f"test_{next(_db_numbers)}")
