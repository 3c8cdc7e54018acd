"""Fixtures for the access report and diff: the prod plan as the report reads it, its report, and builders."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from infra.offline.plan import Plan
from infra.report.access import report_for
from infra.report.planned import PlannedRevision, planned_from_document

GENERATED_AT = "2026-12-01T09:00:00Z"


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
def prod_planned(prod_plan: Plan) -> PlannedRevision:
    """The committed prod plan, read the way `access-report --plan` reads resources.json."""
    return planned_from_document(prod_plan.document(), "prod plan")


@pytest.fixture(scope="session")
def prod_report(prod_planned: PlannedRevision) -> dict:
    return report_for(prod_planned, generated_at=GENERATED_AT)


@pytest.fixture
def prod_resources(prod_plan: Plan) -> list[dict]:
    """A private copy of the prod plan's resources, to change."""
    return copy.deepcopy(prod_plan.resources)


@pytest.fixture
def report_of(prod_planned: PlannedRevision):
    """The report of the prod plan with some of its parts replaced (resources, model, sql_files, ...)."""

    def _report(**changes: Any) -> dict:
        return report_for(replace(prod_planned, **changes), generated_at=GENERATED_AT)

    return _report
