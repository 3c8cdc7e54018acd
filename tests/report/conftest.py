"""Fixtures for the access report and diff: the prod report, and builders for hand-made resources."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.model.access import AccessModel
from infra.offline.plan import Plan
from infra.report.access import report_for
from infra.report.revision import migration_sql


def resource(type_: str, name: str, properties: dict[str, Any], links: dict[str, list[str]] | None = None) -> dict:
    """A resource in the analyzer shape `opshub plan` writes; `links` is its propertyDependencies."""
    return {
        "type": type_,
        "name": name,
        "urn": f"urn:pulumi:test::opshub::{type_}::{name}",
        "custom": True,
        "properties": properties,
        "propertyDependencies": links or {},
        "dependencies": sorted({u for urns in (links or {}).values() for u in urns}),
    }


@pytest.fixture(scope="session")
def prod_report(prod_plan: Plan, access_model: AccessModel) -> dict:
    return report_for(prod_plan.resources, access_model, "prod", "test-revision", migration_sql())


@pytest.fixture
def prod_resources(prod_plan: Plan) -> list[dict]:
    """A private copy of the prod plan's resources, to change."""
    return copy.deepcopy(prod_plan.resources)
