"""Text, JSON and SARIF 2.1.0 renderings of a policy check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from infra.cli.main import main
from infra.config import REPO_ROOT
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


TOKEN_RULE = """package opshub

import rego.v1

# METADATA
# title: Tokens live long
# description: A test rule about a property a stack setting decides.
# custom:
#   id: OPS-TEST-002
#   severity: low
#   remediation: Shorten opshub:tokenLifetimeSeconds.
warn_long_tokens contains msg if {
	input.type == "auth0:index/resourceServer:ResourceServer"
	msg := sprintf("tokenLifetime is %v s", [input.tokenLifetime])
}
"""


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
        physical = location["physicalLocation"]
        path = REPO_ROOT / physical["artifactLocation"]["uri"]
        assert path.is_file(), f"GitHub needs a file in the repo: {path}"
        assert 1 <= physical["region"]["startLine"] <= len(path.read_text().splitlines())
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:")
        assert result["partialFingerprints"]


def test_sarif_points_at_the_model_or_roster_line_that_caused_each_finding(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Code scanning annotates the first location: the input entry behind the resource, the rule file only as related."""
    _, out = run(failing_plan, "sarif", capsys)
    results = json.loads(out)["runs"][0]["results"]

    located = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in results}
    model = (REPO_ROOT / "infra/model/access.yaml").read_text().splitlines()
    wildcard = located["OPS-AWS-001"]
    assert wildcard["artifactLocation"]["uri"] == "infra/model/access.yaml"
    assert "name: access-review-job" in model[wildcard["region"]["startLine"] - 1], "the identity whose role policy was widened"
    oncall = located["OPS-OBS-005"]
    assert oncall["artifactLocation"]["uri"] == "alerts/oncall.yaml"
    assert all(r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("policies/") for r in results)


def test_sarif_points_at_the_stack_setting_a_finding_names(failing_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A finding about a property whose value a stack setting gave points at that setting's line."""
    pack = tmp_path / "pack"
    shutil.copytree(PACK_DIR, pack)
    (pack / "long_tokens.rego").write_text(TOKEN_RULE)

    main(["policy", "check", "--input", str(failing_plan), "--policies", str(pack), "--format", "sarif"])

    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    (token,) = [r for r in results if r["ruleId"] == "OPS-TEST-002"]
    physical = token["locations"][0]["physicalLocation"]
    stack = (REPO_ROOT / "Pulumi.prod.yaml").read_text().splitlines()
    assert physical["artifactLocation"]["uri"] == "Pulumi.prod.yaml"
    assert stack[physical["region"]["startLine"] - 1].strip().startswith("opshub:tokenLifetimeSeconds:")


def test_github_code_scanning_accepts_the_sarif(failing_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Validated against the properties and limits GitHub documents ("SARIF support for code scanning").

    GitHub's own schema file (github/codeql-action src/sarif-schema-2.1.0.json) cannot be committed here;
    the pull-request workflow validates the same file against it before uploading (tests/test_workflows.py).
    """
    _, out = run(failing_plan, "sarif", capsys)
    schema = json.loads((Path(__file__).parent / "sarif" / "github-code-scanning.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(out))]

    assert errors == []
    broken = json.loads(out)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(validator.iter_errors(broken)), "the schema must reject what GitHub rejects"


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
