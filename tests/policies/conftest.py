"""Fixtures of the policy tests: the pack, regorus and the real OPA engine, and the JSON fixture cases.

A fixture case (tests/policies/fixtures/<domain>.json) is a rule id, a name, whether the
rule must `fire` or `pass`, and hand-written resources in the resources.json shape.
Shorthands keep them readable: a missing `urn` is built from type and name, `refs`
lists the resources (by name) a property depends on, and a string `provider` names
an entry of fixtures/providers.json. Secrets (`secretProperties`) carry distinctive
placeholder values, so a test can tell that no message ever prints one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.offline.plan import Plan
from infra.policy.check import Report, run_check
from infra.policy.engines import ENGINES, Engine, make_engine
from infra.policy.inputs import DEFAULT_SECRET_ENCODING, from_plan
from infra.policy.pack import PolicyPack, load_pack

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    expect: str
    raw: list[dict[str, Any]]

    @property
    def test_id(self) -> str:
        return f"{self.rule}-{self.expect}-{self.name.replace(' ', '_')}"


def fixture_urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:test::fixture::{type_token}::{name}"


PROVIDERS = json.loads((FIXTURES / "providers.json").read_text())


def expand(raw: list[dict[str, Any]], encoding: str = DEFAULT_SECRET_ENCODING) -> list[dict[str, Any]]:
    """Hand-written fixture resources -> the canonical resources `opshub policy check` evaluates."""
    urns = {r["name"]: r.get("urn") or fixture_urn(r["type"], r["name"]) for r in raw}
    document = {
        "resources": [
            {
                "type": r["type"],
                "urn": urns[r["name"]],
                "name": r["name"],
                "properties": r["properties"],
                "secretProperties": r.get("secretProperties", []),
                "provider": PROVIDERS[r["provider"]] if isinstance(r.get("provider"), str) else r.get("provider", {}),
                "dependencies": [urns[n] for n in r.get("dependsOn", [])],
                "propertyDependencies": {key: [urns[n] for n in names] for key, names in r.get("refs", {}).items()},
            }
            for r in raw
        ]
    }
    return from_plan(document, encoding)


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name == "providers.json":
            continue
        for raw in json.loads(path.read_text()):
            cases.append(Case(raw["rule"], raw["name"], raw["expect"], raw["resources"]))
    return cases


CASES = load_cases()


@pytest.fixture(scope="session")
def pack() -> PolicyPack:
    return load_pack()


@pytest.fixture(scope="session")
def engines(pack: PolicyPack) -> dict[str, Engine]:
    """regorus, and real OPA queried rule by rule as the pulumi-policy-opa analyzer queries it."""
    return {name: make_engine(name, pack.package, pack.modules, per_rule=name == "opa") for name in ENGINES}


@pytest.fixture(scope="session")
def batched_opa(pack: PolicyPack) -> Engine:
    """Real OPA with one query per resource for all rules (same findings, about 15 times faster)."""
    return make_engine("opa", pack.package, pack.modules)


@pytest.fixture(scope="session")
def prod_document(prod_plan: Plan) -> dict[str, Any]:
    """resources.json of the prod plan, as `opshub plan` writes it."""
    return json.loads(json.dumps(prod_plan.document()))


@pytest.fixture(scope="session")
def prod_resources(prod_document: dict[str, Any]) -> list[dict[str, Any]]:
    """The prod plan as `opshub policy check` reads it from resources.json (analyzer encoding)."""
    return from_plan(prod_document)


def finding_keys(report: Report) -> set[tuple[str, str, str]]:
    return {(f.rule.id, f.urn, f.message) for f in report.findings}


def evaluate_both(pack: PolicyPack, engines: dict[str, Engine], resources: list[dict[str, Any]], shape: str = "outputs") -> dict[str, Report]:
    return {name: run_check(pack, engine, resources, stack_shape=shape) for name, engine in engines.items()}
