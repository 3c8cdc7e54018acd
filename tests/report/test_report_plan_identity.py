"""A plan carries its own identity: reports and diffs of plan files never read the checkout's model."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import inputs
from infra.cli.main import main
from infra.provenance import canonical_sha256
from tests.report.test_report_cli import VIEWER_AFTER, VIEWER_BEFORE, _commit_all, _git, repo  # noqa: F401 - the fixture
from tests.support.model_edits import role_of


def _write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def broken_checkout_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The checkout's access model no longer parses: nothing that reads plan files may notice."""
    broken = tmp_path / "access.yaml"
    broken.write_text("roles: [unclosed\n")
    monkeypatch.setattr(inputs, "MODEL_PATH", broken)
    return broken


def test_the_plan_records_its_revision_and_the_digests_of_what_it_read(prod_plan) -> None:
    identity = prod_plan.document()["identity"]
    embedded = prod_plan.document()["inputs"]

    assert identity["stamp"] == 1 and identity["stack"] == "prod"
    assert identity["revision"] is None or len(identity["revision"]) == 40
    assert isinstance(identity["dirty"], bool)
    assert identity["model_sha256"] == canonical_sha256(embedded["access_model"])
    assert identity["config_sha256"] == canonical_sha256(embedded["config"])
    assert identity["assignments_sha256"] == canonical_sha256(embedded["assignments"])
    assert set(embedded["migrations"]) == set(next(r for r in prod_plan.resources if "digests" in r["properties"])["properties"]["digests"])


def test_a_report_of_a_plan_file_takes_revision_and_model_from_the_plan(
    tmp_path: Path, prod_plan, access_model_data: dict, broken_checkout_model: Path, capsys
) -> None:
    document = copy.deepcopy(prod_plan.document())
    document["identity"].update(revision="ab" * 20, dirty=False)
    role_of(document["inputs"]["access_model"], "ops-viewer")["description"] = "as the plan's model says"
    document["identity"]["model_sha256"] = canonical_sha256(document["inputs"]["access_model"])
    path = _write(tmp_path / "resources.json", document)

    assert main(["access-report", "--plan", str(path), "--format", "json", "--since", "none"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["revision"] == "ab" * 6 and report["identity"]["revision"] == "ab" * 20
    assert next(r for r in report["roles"] if r["name"] == "ops-viewer")["description"] == "as the plan's model says"


def test_a_diff_of_two_plan_files_ignores_a_broken_checkout_model(tmp_path: Path, prod_plan, broken_checkout_model: Path, capsys) -> None:
    base = _write(tmp_path / "base.json", prod_plan.document())
    head = _write(tmp_path / "head.json", prod_plan.document())

    code = main(["access-diff", "--base-plan", str(base), "--head-plan", str(head), "--format", "json"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "access.yaml" not in captured.err and json.loads(captured.out)["widening"] == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.pop("identity"), "carries no identity stamp"),
        (lambda d: d.pop("inputs"), "carries no identity stamp"),
        (lambda d: d["inputs"]["access_model"]["roles"].pop(), "access model embedded in the plan does not match its stamp's digest"),
        (lambda d: d["inputs"]["config"].update({"opshub:owner": "someone-else"}), "config embedded in the plan does not match"),
    ],
    ids=["no-identity", "no-inputs", "model-edited", "config-edited"],
)
def test_an_unstamped_or_edited_plan_is_refused(edit, expected: str, tmp_path: Path, prod_plan, capsys) -> None:
    document = copy.deepcopy(prod_plan.document())
    edit(document)
    path = _write(tmp_path / "resources.json", document)

    assert main(["access-report", "--plan", str(path), "--format", "json"]) == 2

    err = capsys.readouterr().err
    assert str(path) in err and expected in err and "opshub plan" in err, err


def _opshub_in(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """That checkout's own `opshub`, as someone working in it runs it."""
    env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "infra.cli.main", *argv], cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_a_plan_made_at_one_commit_is_reported_as_that_commit_from_a_later_checkout(repo: Path, tmp_path: Path) -> None:
    """The issue's case: plan at A, commit B (viewers may refund), break the model, report the plan of A."""
    commit_a = _git(repo, "rev-parse", "HEAD")
    made = _opshub_in(repo, "plan", "--stack", "prod", "--out", str(tmp_path / "a"))
    assert made.returncode == 0, made.stderr
    model = repo / "infra/model/access.yaml"
    model.write_text(model.read_text().replace(VIEWER_BEFORE, VIEWER_AFTER))
    _commit_all(repo, "let viewers refund")
    model.write_text("roles: [unclosed\n")  # and the checkout's model is now broken

    reported = _opshub_in(repo, "access-report", "--plan", str(tmp_path / "a/resources.json"), "--format", "json", "--since", "none")
    diffed = _opshub_in(repo, "access-diff", "--base-plan", str(tmp_path / "a/resources.json"), "--head-plan", str(tmp_path / "a/resources.json"))

    _git(repo, "checkout", "-q", "--", ".")
    _git(repo, "reset", "-q", "--hard", commit_a)
    assert reported.returncode == 0, reported.stderr
    report = json.loads(reported.stdout)
    assert report["revision"] == commit_a[:12], "the plan's revision, not the checkout's"
    assert "payments:refund" not in next(r for r in report["roles"] if r["name"] == "ops-viewer")["permissions"]
    assert diffed.returncode == 0 and "No access change." in diffed.stdout, diffed.stderr


# The last commit before plans carried their identity stamp (this repository's history).
BEFORE_STAMPS = "6e26cf83736ab4e03c9e12f5cb17cc019808da8f"


@pytest.mark.slow
def test_a_revision_from_before_the_stamps_is_planned_with_its_own_code(prod_report: dict) -> None:
    """`access-diff --base origin/main` and the last review's tag may name such a commit."""
    from infra.config import REPO_ROOT
    from infra.report.access import report_for
    from infra.report.diff import diff_reports
    from infra.report.revision import plan_revision

    if _git(REPO_ROOT, "rev-parse", "--is-shallow-repository") == "true":
        pytest.skip("a shallow clone lacks the history (the workflows check out with fetch-depth: 0)")
    assert _git(REPO_ROOT, "cat-file", "-t", BEFORE_STAMPS) == "commit"

    old = plan_revision(BEFORE_STAMPS, REPO_ROOT)
    report = report_for(old)

    assert old.identity["revision"] == BEFORE_STAMPS and report["revision"] == BEFORE_STAMPS[:12]
    assert report["people"]["available"] is False, "its approvals had no approval dates"
    assert {c["key"] for c in report["credentials"]} == {c["key"] for c in prod_report["credentials"]}
    assert diff_reports(report, prod_report)["roles"] == {}, "the roles did not change since"
