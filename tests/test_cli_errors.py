"""Errors a person can act on: read-only output folders, empty inputs, every input problem in one run,
a stale generated file, --version and the text verdicts."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra import inputs
from infra.cli.main import main, version_line
from infra.config import REPO_ROOT
from tests.policies.mutations import MUTATIONS
from tests.support.model_edits import identity_of, role_of
from infra.provenance import canonical_sha256
from tests.support.readonly import ReadOnlyDir, read_only_dir  # noqa: F401 - the fixture


# --- read-only output folders --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--stack", "prod", "--out", "{out}"],
        ["plan", "--stack", "prod", "--out", "{ro}"],
        ["access-report", "--format", "html", "--format", "json", "--out", "{out}"],
        ["access-diff", "--base-plan", "{plan}", "--head-plan", "{plan}", "--out", "{out}/access-diff.md"],
    ],
    ids=["plan", "plan-into-the-folder-itself", "access-report", "access-diff"],
)
def test_a_read_only_output_folder_exits_2_naming_it_and_writes_nothing(
    argv: list[str], read_only_dir: ReadOnlyDir, prod_plan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    plan = tmp_path_factory.mktemp("plan") / "resources.json"
    plan.write_text(json.dumps(prod_plan.document()))
    plan.parent.chmod(0o755)
    plan.chmod(0o644)
    out = read_only_dir.path / "report"

    result = read_only_dir.opshub(*(a.format(out=out, plan=plan, ro=read_only_dir.path) for a in argv))

    assert result.returncode == 2, result.stderr
    assert f"{read_only_dir.path}" in result.stderr, result.stderr
    assert re.search(r"cannot (create|write into) the output directory", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in read_only_dir.path.iterdir()) == ["keep.txt"], "nothing is written, not even half"


def test_a_report_writes_every_format_or_none(tmp_path: Path, prod_plan, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A failure while writing the third format leaves the folder as it was: earlier files are put back."""
    from infra.cli import output

    plan = tmp_path / "resources.json"
    plan.write_text(json.dumps(prod_plan.document()))
    out = tmp_path / "report"
    out.mkdir()
    (out / "access-report.html").write_text("the previous report")
    real_replace = output.os.replace
    moved: list[str] = []

    def replace_then_fail(source, target):  # the disk fills up when the third file is moved in
        if len(moved) == 2 and Path(source).parent.name.startswith(output.SCRATCH_PREFIX):
            moved.append("failed")
            raise OSError(28, "No space left on device")
        moved.append(str(target))
        real_replace(source, target)

    monkeypatch.setattr(output.os, "replace", replace_then_fail)

    code = main(["access-report", "--plan", str(plan), "--since", "none", "--format", "csv", "--format", "html", "--format", "json", "--out", str(out)])

    assert code == 2
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["access-report.html"], "no format is left half-written"
    assert (out / "access-report.html").read_text() == "the previous report", "the replaced file is put back"


# --- empty inputs -------------------------------------------------------------------------

EMPTY_DOCUMENTS = {
    "resources-json": {"resources": []},
    "pulumi-preview": {"steps": []},
    "pulumi-stack-export": {"version": 3, "deployment": {"resources": []}},
}


@pytest.mark.parametrize("kind", EMPTY_DOCUMENTS, ids=list(EMPTY_DOCUMENTS))
def test_policy_check_refuses_a_document_without_resources(kind: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(EMPTY_DOCUMENTS[kind]))

    code = main(["policy", "check", "--input", str(path)])

    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and "holds no resources" in err and "--allow-empty" in err, err
    assert main(["policy", "check", "--input", str(path), "--allow-empty"]) == 0
    assert "0 resources" in capsys.readouterr().out


def test_report_and_diff_refuse_an_empty_plan(tmp_path: Path, prod_plan, capsys) -> None:
    document = copy.deepcopy(prod_plan.document())
    document["resources"] = []
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(document))

    assert main(["access-report", "--plan", str(path), "--format", "json"]) == 2
    assert "declares no resources" in capsys.readouterr().err
    assert main(["access-diff", "--base-plan", str(path), "--head-plan", str(path)]) == 2
    assert "--allow-empty" in capsys.readouterr().err
    assert main(["access-report", "--plan", str(path), "--format", "json", "--since", "none", "--allow-empty"]) == 0


# --- every problem of every input file in one run -----------------------------------------


def test_problems_in_config_model_approvals_slos_metrics_and_platform_are_listed_in_one_run(
    tmp_path: Path, access_model_data: dict, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    config = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    config["config"]["opshub:grafanaFoldr"] = config["config"].pop("opshub:grafanaFolder")
    config["config"]["opshb:claimsNamespace"] = "https://ops.example.com"
    (root / "Pulumi.prod.yaml").write_text(yaml.safe_dump(config))
    model = copy.deepcopy(access_model_data)
    role_of(model, "ops-viewer")["permissions"].append("payments:refnd")
    (root / "access.yaml").write_text(yaml.safe_dump(model))
    approvals = yaml.safe_load((REPO_ROOT / "infra/model/assignments.yaml").read_text())
    approvals["assignments"][0]["role"] = "ops-admn"
    (root / "assignments.yaml").write_text(yaml.safe_dump(approvals, default_flow_style=False))
    alerts = root / "alerts"
    shutil.copytree(REPO_ROOT / "alerts", alerts)
    slo = yaml.safe_load((alerts / "slos/audit-write.yaml").read_text())
    slo["team"] = "ops-hb"
    (alerts / "slos/audit-write.yaml").write_text(yaml.safe_dump(slo))
    (root / "metrics.yaml").write_text((REPO_ROOT / "infra/model/metrics.yaml").read_text().replace("owner: engineering-manager", "owner: nobody", 1))
    platform = yaml.safe_load((REPO_ROOT / "infra/model/platform.yaml").read_text())
    platform["principals"][1]["attributes"].append("superusr")
    (root / "platform.yaml").write_text(yaml.safe_dump(platform))
    monkeypatch.setattr(inputs, "MODEL_PATH", root / "access.yaml")
    monkeypatch.setattr(inputs, "ASSIGNMENTS_PATH", root / "assignments.yaml")
    monkeypatch.setattr(inputs, "ALERTS_DIR", alerts)
    monkeypatch.setattr(inputs, "METRICS_PATH", root / "metrics.yaml")
    monkeypatch.setattr(inputs, "PLATFORM_PATH", root / "platform.yaml")

    code = main(["plan", "--stack", "prod", "--cwd", str(root), "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    expected = [
        f"{root / 'Pulumi.prod.yaml'}: ",
        "opshub:grafanaFoldr: unknown setting (did you mean 'opshub:grafanaFolder'?)",
        "opshb:claimsNamespace: unknown namespace 'opshb' (did you mean 'opshub:claimsNamespace'?)",
        f"{root / 'access.yaml'}: ",
        "grants undeclared permission 'payments:refnd' (did you mean 'payments:refund'?)",
        f"{root / 'assignments.yaml'}: ",
        "unknown role 'ops-admn' (did you mean 'ops-admin'?)",
        "team: 'ops-hb' is not a team of alerts/oncall.yaml (did you mean 'ops-hub'?)",
        f"{root / 'metrics.yaml'}: ",
        "'nobody'",
        f"{root / 'platform.yaml'}: ",
        "'superusr'",
    ]
    missing = [e for e in expected if e not in err]
    assert missing == [], err
    assert not (tmp_path / "out").exists(), "nothing is written"


# --- a stale generated file is never a finding --------------------------------------------


def test_a_new_runtime_permission_plans_clean_and_names_opshub_docs(access_model_data: dict, plan_cli_with_model, capsys) -> None:
    """The model gains an API permission for the runtime; policies/model.rego still has the old one."""
    model = copy.deepcopy(access_model_data)
    identity_of(model, "ops-hub-runtime")["api_permissions"].append("audit:read")

    run = plan_cli_with_model(model)

    assert run.code == 0, run.err
    assert "policies/model.rego is stale" in run.err and "run `opshub docs`" in run.err


def test_policy_check_of_a_stamped_plan_uses_the_model_it_carries(tmp_path: Path, prod_plan, capsys) -> None:
    """The grant that the committed model.rego would call "beyond the model" is what this plan's model declares."""
    document = copy.deepcopy(prod_plan.document())
    MUTATIONS["OPS-AUTH-008"](document["resources"])  # the runtime's client grant gains payments:refund
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(document))
    assert main(["policy", "check", "--input", str(path)]) == 1, "against the committed model, the grant is a finding"

    model = document["inputs"]["access_model"]
    identity_of(model, "ops-hub-runtime")["api_permissions"].append("payments:refund")
    document["identity"]["model_sha256"] = canonical_sha256(model)
    path.write_text(json.dumps(document))
    capsys.readouterr()

    assert main(["policy", "check", "--input", str(path)]) == 0, capsys.readouterr().out


# --- --version and the text verdicts ------------------------------------------------------


def test_version_names_the_release_and_the_revision(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])

    out = capsys.readouterr().out
    assert done.value.code == 0
    assert re.fullmatch(r"opshub \S+ \(([0-9a-f]{12}(-dirty)?|unknown \(not a git checkout\))\)\n", out), out
    assert out.strip() == version_line()


def test_a_text_verdict_names_the_urn_the_rule_and_the_fix(tmp_path: Path, prod_plan, capsys) -> None:
    document = copy.deepcopy(prod_plan.document())
    MUTATIONS["OPS-AWS-005"](document["resources"])
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(document))

    assert main(["policy", "check", "--input", str(path)]) == 1

    out = capsys.readouterr().out
    verdict = out[out.index("DENY   OPS-AWS-005") :].splitlines()[:3]
    assert verdict[1].startswith("       resource: urn:pulumi:prod::opshub::"), verdict
    assert verdict[2].startswith("       fix: ") and len(verdict[2]) > len("       fix: ") + 10, verdict


def test_the_plan_counts_the_resources_the_check_counts(tmp_path: Path, capsys) -> None:
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path / "plan")]) == 0

    out = capsys.readouterr().out
    planned = int(re.search(r"offline plan of stack 'prod': (\d+) resources", out).group(1))
    checked = int(re.search(r"rules over (\d+) resources", out).group(1))
    assert planned == checked
