"""Text, JSON and SARIF 2.1.0 renderings of a policy check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.policy.pack import PACK_DIR, load_pack
from tests.policies.mutations import MUTATIONS


@pytest.fixture(scope="module")
def failing_plan(prod_plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prod plan with two misconfigurations: a wildcard IAM action and a plain integration key."""
    document = json.loads(json.dumps(prod_plan.document()))
    MUTATIONS["OPS-AWS-001"](document["resources"])
    MUTATIONS["OPS-OBS-005"](document["resources"])
    path = tmp_path_factory.mktemp("failing") / "resources.json"
    path.write_text(json.dumps(document))
    return path


def run(path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["policy", "check", "--input", str(path), "--format", fmt])
    return code, capsys.readouterr().out


def test_json_findings_carry_id_severity_resource_and_message(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(failing_plan, "json", capsys)
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "fail"
    # The plain integration key is also a plain credential (OPS-XC-001): both rules own it.
    assert {f["ruleId"] for f in report["findings"]} == {"OPS-AWS-001", "OPS-OBS-005", "OPS-XC-001"}
    for f in report["findings"]:
        assert re.fullmatch(r"OPS-[A-Z]+-\d{3}", f["ruleId"])
        assert f["severity"] in {"critical", "high", "medium", "low"} and f["enforcementLevel"] == "mandatory"
        assert f["urn"].startswith("urn:pulumi:prod::opshub::") and f["name"] and f["message"], f


def test_text_names_rule_and_verdict(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(failing_plan, "text", capsys)
    assert code == 1
    assert re.search(r"^DENY +OPS-AWS-001 \[high\] RolePolicy '", out, re.MULTILINE), out
    assert "policy check FAIL" in out.splitlines()[-1]


def test_sarif_is_2_1_0_with_rules_results_and_locations(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(failing_plan, "sarif", capsys)
    sarif = json.loads(out)
    assert code == 1
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = sarif["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(load_pack().rule_by_id), "every rule is described once"
    assert all(r["help"]["text"] and r["shortDescription"]["text"] and float(r["properties"]["security-severity"]) > 0 for r in rules)
    assert run_["results"], "the findings are results"
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error" and result["message"]["text"]
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert Path(uri).exists() and uri.endswith(".rego"), f"GitHub needs a file in the repo: {uri}"
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:")
        assert result["partialFingerprints"]


def test_json_goes_to_stdout_alone(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["policy", "check", "--input", str(failing_plan), "--format", "json", "--engine", "opa", "--per-rule"])
    captured = capsys.readouterr()
    assert json.loads(captured.out)["engine"] == "opa", "stdout is one JSON document"


def test_an_advisory_finding_warns_without_failing(failing_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A `warn_` rule (in a copy of the pack) is reported as advisory: WARN, SARIF warning, exit 0."""
    pack_dir = tmp_path / "policies"
    shutil.copytree(PACK_DIR, pack_dir)
    (pack_dir / "advisory.rego").write_text(
        "package opshub\n\nimport rego.v1\n\n# METADATA\n# title: Lambdas should say what they do\n"
        "# description: Advisory example.\n# custom:\n#   id: OPS-TEST-001\n#   severity: low\n"
        "#   remediation: Add a description.\n"
        'warn_undescribed_function contains "function without a description" if {\n'
        '\tinput.__type == "aws:lambda/function:Function"\n\tobject.get(input.__properties, "description", "") == ""\n}\n'
    )
    document = json.loads(Path(failing_plan).read_text())
    function = next(r for r in document["resources"] if r["type"] == "aws:lambda/function:Function")
    function["properties"].pop("description", None)
    document["resources"] = [function]
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(document))
    base = ["policy", "check", "--input", str(path), "--policies", str(pack_dir)]
    assert main([*base, "--format", "text"]) == 0
    assert re.search(r"^WARN +OPS-TEST-001 \[low\]", capsys.readouterr().out, re.MULTILINE)
    assert main([*base, "--format", "sarif"]) == 0
    (result,) = [r for r in json.loads(capsys.readouterr().out)["runs"][0]["results"] if r["ruleId"] == "OPS-TEST-001"]
    assert result["level"] == "warning"
