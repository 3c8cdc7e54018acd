"""Fixtures for the Auth0 tests."""

from __future__ import annotations

import pytest

from infra.config import REPO_ROOT, StackConfig, load_stack_config


@pytest.fixture(scope="session")
def prod_config() -> StackConfig:
    """The committed prod stack's typed settings."""
    return load_stack_config(REPO_ROOT / "Pulumi.prod.yaml")
