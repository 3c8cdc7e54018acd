"""Every rule fires on its bad fixtures and stays quiet on its good ones, in both engines, which must agree."""

from __future__ import annotations

from collections import defaultdict

import pytest

from infra.policy.engines import Engine
from infra.policy.inputs import stack_input
from infra.policy.pack import PolicyPack, load_pack
from tests.policies.conftest import CASES, Case, evaluate_both, finding_keys

STACK_RULES = {r.id for r in load_pack().of_scope("stack")}


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_fixture(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    assert case.rule in pack.rule_by_id, f"fixture names unknown rule {case.rule}"
    reports = evaluate_both(pack, engines, case.resources)
    regorus, regopy = (finding_keys(reports[name]) for name in ("regorus", "regopy"))
    assert regorus == regopy, f"engines disagree: only regorus {regorus - regopy}, only regopy {regopy - regorus}"
    fired = {rule_id for rule_id, _, _ in regorus}
    if case.expect == "fire":
        assert case.rule in fired, f"{case.rule} did not fire on {case.name!r}; fired: {sorted(fired)}"
    else:
        messages = [m for rule_id, _, m in regorus if rule_id == case.rule]
        assert not messages, f"{case.rule} fired on the good fixture {case.name!r}: {messages}"


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.expect == "fire" and c.rule in STACK_RULES], ids=lambda c: c.test_id
)
def test_stack_rule_reports_what_its_findings_set_holds(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    """`stack_deny_X` (what pulumi shows) and the set `X` (what the check attributes) carry the same messages."""
    rule = pack.rule_by_id[case.rule]
    for name, engine in engines.items():
        values = engine.query([rule.name, rule.findings_rule], stack_input(case.resources))
        attributed = sorted({hit["msg"] for hit in values[rule.findings_rule]})
        assert values[rule.name] == attributed, f"{name}: {rule.name} and {rule.findings_rule} differ"
        assert attributed, f"{name}: {rule.findings_rule} is empty on a firing fixture"


def test_every_rule_has_a_firing_and_a_passing_fixture(pack: PolicyPack) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        seen[case.rule].add(case.expect)
    missing = {rule_id: {"fire", "pass"} - seen[rule_id] for rule_id in pack.rule_by_id if {"fire", "pass"} - seen[rule_id]}
    assert not missing, f"rules lacking fixtures: {missing}"
