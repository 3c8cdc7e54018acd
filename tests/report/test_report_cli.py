"""`opshub access-report` and `opshub access-diff` end to end, with git revisions planned from their own trees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.config import REPO_ROOT

VIEWER_BEFORE = "    read_only: true\n    permissions: [content:read, comms:read, payments:read, incidents:read, analytics:read]"
VIEWER_AFTER = "    read_only: true\n    permissions: [content:read, comms:read, payments:read, payments:refund, incidents:read, analytics:read]"


def _git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.email=test@example.invalid", "-c", "user.name=test"]
    return subprocess.run(["git", *env_args, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def _commit_all(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway git repo holding this checkout's tree (committed or not) as its first commit."""
    root = tmp_path_factory.mktemp("repo")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(source.read_bytes())
    _git(root, "init", "-q")
    _commit_all(root, "base")
    return root


def test_access_report_json_on_stdout_lists_every_role(capsys: pytest.CaptureFixture[str], access_model) -> None:
    assert main(["access-report", "--stack", "prod", "--format", "json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in report["roles"]] == [r.name for r in access_model.roles]


def test_access_report_writes_each_format_into_out(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["access-report", "--format", "html", "--format", "csv", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["access-report.csv", "access-report.html"]


def test_several_formats_to_stdout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access-report", "--format", "md", "--format", "json"]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.slow
def test_a_commit_giving_ops_viewer_refunds_is_exactly_that_widening_and_a_policy_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = repo / "infra/model/access.yaml"
    model.write_text(model.read_text().replace(VIEWER_BEFORE, VIEWER_AFTER))
    head = _commit_all(repo, "let viewers refund")

    code = main(["access-diff", "--repo", str(repo), "--base", "HEAD~1", "--head", head, "--format", "json"])

    diff = json.loads(capsys.readouterr().out)
    assert [w for w in diff["widening"] if w["kind"] == "permission_added"] == [
        {"kind": "permission_added", "subject": "ops-viewer", "object": "payments:refund", "detail": "writes, privileged"}
    ]
    assert diff["roles"]["ops-viewer"]["permissions"] == {"added": ["payments:refund"]}
    assert diff["roles"]["ops-viewer"]["integrations"] == {"payu": {"from": "view", "to": "edit"}, "stripe": {"from": "view", "to": "edit"}}
    messages = [f["message"] for f in diff["new_findings"]]
    assert any("'ops-viewer': is read_only but grants writing permission 'payments:refund'" in m for m in messages), messages
    pack = [f for f in diff["new_findings"] if f["ruleId"].startswith("OPS-")]
    assert any(f["enforcementLevel"] == "mandatory" and "ops-viewer" in f["message"] and "payments:refund" in f["message"] for f in pack), (
        f"the policy pack must fail the declared role too: {pack}"
    )
    assert code == 1, "a new mandatory finding fails the diff"
    _git(repo, "reset", "-q", "--hard", "HEAD~1")


@pytest.mark.slow
def test_a_revision_that_does_not_plan_is_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "Pulumi.prod.yaml").write_text((repo / "Pulumi.prod.yaml").read_text().replace("opshub:tokenLifetimeSeconds: 3600", "opshub:tokenLifetimeSeconds: 99999"))
    broken = _commit_all(repo, "break the stack config")

    code = main(["access-diff", "--repo", str(repo), "--base", "HEAD~1", "--head", broken])

    err = capsys.readouterr().err
    assert code == 2
    assert f"revision {broken[:12]}" in err and "opshub:tokenLifetimeSeconds" in err, err
    _git(repo, "reset", "-q", "--hard", "HEAD~1")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--base", "no-such-rev", "--head", "HEAD"], "revision 'no-such-rev'"),
        (["--base", "HEAD"], "give either --base REV --head REV"),
        (["--base-plan", "/nonexistent/a.json", "--head-plan", "/nonexistent/b.json"], "cannot read the plan file"),
    ],
    ids=["unknown-revision", "one-side-only", "missing-plan-file"],
)
def test_bad_diff_input_exits_2_naming_it(repo: Path, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access-diff", "--repo", str(repo), *argv]) == 2
    assert expected in capsys.readouterr().err


def test_plan_files_diff(tmp_path: Path, prod_plan, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(prod_plan.document()))
    document = prod_plan.document()
    document["resources"] = [r for r in document["resources"] if "ops-sre-permissions" not in r["name"]]
    head.write_text(json.dumps(document))

    assert main(["access-diff", "--base-plan", str(base), "--head-plan", str(head)]) == 0

    md = capsys.readouterr().out
    assert "| `ops-sre` | permission |  | analytics:read, incidents:ack, incidents:read |" in md, md


def test_report_from_a_plan_file_equals_the_report_from_planning(tmp_path: Path, prod_plan, prod_report, capsys) -> None:
    plan_file = tmp_path / "resources.json"
    plan_file.write_text(json.dumps(prod_plan.document()))

    assert main(["access-report", "--plan", str(plan_file), "--format", "json", "--since", "none"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["fingerprint"] == prod_report["fingerprint"], "make plan's report must be the report of that plan"
