"""Every rule fires on its bad fixtures and stays quiet on its good ones, under regorus and real OPA
(queried rule by rule, as pulumi-policy-opa does), under each secret encoding and both stack shapes.

The engines and encodings must agree exactly: the same (rule, resource, message) findings.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict

import pytest

from infra.policy.check import run_check
from infra.policy.engines import Engine, analyzer_messages
from infra.policy.inputs import SECRET_ENCODINGS, STACK_SHAPES, stack_input
from infra.policy.pack import PolicyPack, load_pack
from tests.policies.conftest import CASES, Case, expand, finding_keys

STACK_RULES = {r.id for r in load_pack().of_scope("stack")}
FIRING_STACK_CASES = [c for c in CASES if c.expect == "fire" and c.rule in STACK_RULES]


def check_case(case: Case, findings: set[tuple[str, str, str]]) -> None:
    fired = {rule_id for rule_id, _, _ in findings}
    if case.expect == "fire":
        assert case.rule in fired, f"{case.rule} did not fire on {case.name!r}; fired: {sorted(fired)}"
    else:
        messages = [m for rule_id, _, m in findings if rule_id == case.rule]
        assert not messages, f"{case.rule} fired on the good fixture {case.name!r}: {messages}"


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_fixture_under_every_engine_encoding_and_shape(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    assert case.rule in pack.rule_by_id, f"fixture names unknown rule {case.rule}"
    results = {
        (name, encoding, shape): finding_keys(run_check(pack, engine, expand(case.raw, encoding), stack_shape=shape))
        for name, engine in engines.items()
        for encoding in SECRET_ENCODINGS
        for shape in STACK_SHAPES
    }
    reference = results[("regorus", "analyzer", "outputs")]
    for key, findings in results.items():
        assert findings == reference, f"{key} disagrees with regorus/analyzer/outputs: only there {findings - reference}, missing {reference - findings}"
    check_case(case, reference)


@pytest.mark.parametrize("case", FIRING_STACK_CASES, ids=[c.test_id for c in FIRING_STACK_CASES])
def test_stack_rule_reports_what_its_findings_set_holds(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    """`stack_deny_X` (what pulumi shows) and the set `X` (what the check attributes) carry the same messages."""
    rule = pack.rule_by_id[case.rule]
    for name, engine in engines.items():
        values = engine.query([rule.name, rule.findings_rule], stack_input(expand(case.raw)))
        attributed = sorted({hit["msg"] for hit in values[rule.findings_rule]})
        assert analyzer_messages(values[rule.name]) == attributed, f"{name}: {rule.name} and {rule.findings_rule} differ"
        assert attributed, f"{name}: {rule.findings_rule} is empty on a firing fixture"


def secret_values(raw: list[dict]) -> list[str]:
    """The string leaves of every secret of a fixture (its `secretProperties` paths)."""
    values: list[str] = []
    for resource in raw:
        for path in resource.get("secretProperties", []):
            node = resource["properties"]
            for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
                node = node[int(index)] if index else node[key]
            values += [leaf for leaf in _leaves(node) if isinstance(leaf, str)]
    return values


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


CASES_WITH_SECRETS = [c for c in CASES if any(r.get("secretProperties") for r in c.raw)]


@pytest.mark.parametrize("case", CASES_WITH_SECRETS, ids=[c.test_id for c in CASES_WITH_SECRETS])
def test_no_message_prints_a_secret(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    """Under the analyzer's encoding the plaintext is in the input; no finding may repeat it."""
    secrets = secret_values(case.raw)
    assert secrets, f"{case.name}: give its secrets distinctive placeholder values"
    for name, engine in engines.items():
        for finding in run_check(pack, engine, expand(case.raw, "analyzer")).findings:
            leaked = [s for s in secrets if s in finding.message]
            assert not leaked, f"{name}: {finding.rule.id} prints secret values {leaked}: {finding.message}"


# Plaintexts a rule reading a secret's content would react to: empty, look-alikes of the other
# encodings, an AWS-managed key alias, a plain-looking credential.
DECOY_CONTENTS = ["", "[secret]", {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}, "alias/aws/secretsmanager", "hunter2"]


def with_secret_contents(raw: list[dict], content: object) -> list[dict]:
    """The fixture with every secret's plaintext replaced by `content`."""
    changed = copy.deepcopy(raw)
    for resource in changed:
        for path in resource.get("secretProperties", []):
            steps = [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]
            node = resource["properties"]
            for step in steps[:-1]:
                node = node[step]
            node[steps[-1]] = content
    return changed


@pytest.mark.parametrize("case", CASES_WITH_SECRETS, ids=[c.test_id for c in CASES_WITH_SECRETS])
def test_verdicts_never_depend_on_a_secret_content(case: Case, pack: PolicyPack, engines: dict[str, Engine]) -> None:
    """Under the analyzer's encoding the plaintext is in the input; no verdict may change with it."""
    for name, engine in engines.items():
        expected = finding_keys(run_check(pack, engine, expand(case.raw, "analyzer")))
        for content in DECOY_CONTENTS:
            found = finding_keys(run_check(pack, engine, expand(with_secret_contents(case.raw, content), "analyzer")))
            assert found == expected, f"{name}: secret content {content!r} changes the findings: {found ^ expected}"


def test_every_rule_has_a_firing_and_a_passing_fixture(pack: PolicyPack) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        seen[case.rule].add(case.expect)
    missing = {rule_id: {"fire", "pass"} - seen[rule_id] for rule_id in pack.rule_by_id if {"fire", "pass"} - seen[rule_id]}
    assert not missing, f"rules lacking fixtures: {missing}"
