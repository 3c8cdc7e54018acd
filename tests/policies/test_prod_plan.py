"""The prod plan is clean under regorus and real OPA, and one misconfiguration per rule makes
`opshub policy check` exit 1 naming it, with the same rules firing under both engines."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.offline.plan import Plan
from infra.policy.check import run_check
from infra.policy.engines import Engine
from infra.policy.inputs import SECRET_ENCODINGS, STACK_SHAPES, from_plan
from infra.policy.pack import PolicyPack, load_pack
from tests.policies.conftest import evaluate_both, finding_keys
from tests.policies.mutations import MUTATIONS


@pytest.fixture(scope="module")
def plan_document(prod_document: dict) -> dict:
    return prod_document


def check_json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["policy", "check", "--input", str(path), "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_prod_plan_passes_real_opa_queried_as_the_analyzer_queries(pack: PolicyPack, engines: dict[str, Engine], prod_resources: list) -> None:
    """Real OPA, each rule alone as data.opshub.<rule>, on the analyzer's inputs: 0 findings, so
    `pulumi preview --policy-pack policies` would not block the clean stack."""
    report = run_check(pack, engines["opa"], prod_resources)
    assert not report.findings, f"the prod plan breaks rules under OPA: {[(f.rule.id, f.message) for f in report.findings]}"


@pytest.mark.parametrize("shape", STACK_SHAPES)
@pytest.mark.parametrize("encoding", SECRET_ENCODINGS)
def test_prod_plan_is_clean_under_every_encoding_and_shape(
    encoding: str, shape: str, pack: PolicyPack, engines: dict[str, Engine], batched_opa: Engine, prod_document: dict
) -> None:
    resources = from_plan(prod_document, encoding)
    reports = evaluate_both(pack, {"regorus": engines["regorus"], "opa": batched_opa}, resources, shape)
    for name, report in reports.items():
        assert not report.findings, f"{name}: the prod plan breaks rules: {[(f.rule.id, f.message) for f in report.findings]}"


def test_policy_check_of_prod_resources_json_exits_0(plan_document: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(plan_document))
    code, report = check_json(path, capsys)
    assert code == 0, f"prod plan findings: {report['findings']}"
    assert report["verdict"] == "pass"
    assert report["input"] == {"path": str(path), "format": "opshub-plan", "resources": len(plan_document["resources"])}


def test_every_rule_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(load_pack().rule_by_id), "add a prod-plan mutation for each new rule"


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_mutation_of_the_prod_plan_fires_its_rule(
    rule_id: str, plan_document: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutated = copy.deepcopy(plan_document)
    MUTATIONS[rule_id](mutated["resources"])
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(mutated))
    code, report = check_json(path, capsys)
    fired = {f["ruleId"] for f in report["findings"]}
    assert code == 1, f"{rule_id}: the mutated plan exits {code}"
    assert rule_id in fired, f"{rule_id} did not fire on its mutation; fired: {sorted(fired)}"
    finding = next(f for f in report["findings"] if f["ruleId"] == rule_id)
    assert finding["urn"] and finding["message"] and finding["severity"], f"incomplete finding {finding}"


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_mutation_fires_the_same_rules_under_opa_and_on_inputs(
    rule_id: str, plan_document: dict, pack: PolicyPack, engines: dict[str, Engine], batched_opa: Engine
) -> None:
    """Real OPA agrees with regorus on every mutation, and stack rules agree on outputs and inputs."""
    mutated = copy.deepcopy(plan_document)
    MUTATIONS[rule_id](mutated["resources"])
    resources = from_plan(mutated)
    results = {
        "regorus/outputs": run_check(pack, engines["regorus"], resources),
        "regorus/inputs": run_check(pack, engines["regorus"], resources, stack_shape="inputs"),
        "opa/outputs": run_check(pack, batched_opa, resources),
    }
    keys = {name: finding_keys(report) for name, report in results.items()}
    assert rule_id in {rule for rule, _, _ in keys["regorus/outputs"]}
    for name, found in keys.items():
        assert found == keys["regorus/outputs"], f"{rule_id}: {name} differs: {found ^ keys['regorus/outputs']}"


def aws_types_with_tags() -> set[str]:
    """Type tokens of pulumi-aws resources that take a `tags` input, read from the installed SDK."""
    root = Path(importlib.util.find_spec("pulumi_aws").origin).parent
    token = re.compile(r"""super\(\w+, __self__\).__init__\(\s*['"](aws:[^'"]+)['"]""")
    return {
        match.group(1)
        for path in root.rglob("*.py")
        if '__props__.__dict__["tags"] = tags' in (text := path.read_text(encoding="utf-8")) and (match := token.search(text))
    }


def test_every_taggable_aws_type_of_the_plan_is_checked_for_tags(prod_plan: Plan, engines: dict[str, Engine]) -> None:
    """OPS-XC-002 lists taggable types by hand (a set of all ~865 costs 0.2 ms per resource in regorus)."""
    (listed,) = engines["regorus"].query(["taggable_types"], {}).values()
    in_plan = {r["type"] for r in prod_plan.resources if r["type"].startswith("aws:")}
    missing = sorted((in_plan & aws_types_with_tags()) - set(listed))
    assert not missing, f"add these taggable types of the plan to taggable_types in no_untagged_resource.rego: {missing}"
