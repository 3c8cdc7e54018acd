"""People, the review sign-off (annotated access-review/* tags) and "Changes since the last review"."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.report.render_md import render_md
from infra.report.review import TAG_PREFIX, sign_offs
from tests.report.test_report_cli import _commit_all, _git, repo  # noqa: F401 - the fixture
from tests.report.test_report_plan_identity import _opshub_in

# A change a review should see: the editorial team may now read Listmonk campaigns.
EDITORIAL_BEFORE = "    permissions: [content:read, content:write, analytics:read]"
EDITORIAL_AFTER = "    permissions: [content:read, content:write, analytics:read, comms:read]"


def test_people_lists_approved_holders_with_their_approval_dates(prod_report: dict, prod_planned) -> None:
    people = prod_report["people"]
    approvals = prod_planned.assignments.assignments

    holders = {(role["role"], h["user"], h["approved"], h["expires"]) for role in people["roles"] for h in role["holders"]}
    assert holders == {(a.role, a.user, a.approved.isoformat(), a.expires.isoformat()) for a in approvals}
    assert all(p["sod_pairs"] == [] for p in people["persons"]), "the committed approvals give nobody a SoD pair"


def test_people_shows_the_sod_pairs_one_person_would_hold_and_expired_approvals(prod_planned, report_of) -> None:
    approvals = prod_planned.assignments.assignments
    payments_holder = next(a for a in approvals if a.role == "ops-payments")
    auditor = next(a for a in approvals if a.role == "ops-auditor").model_copy(update={"user": payments_holder.user})
    changed = prod_planned.assignments.model_copy(update={"assignments": (*approvals, auditor)})

    report = report_of(assignments=changed)
    report["generated_at"] = "2027-03-15T00:00:00Z"

    person = next(p for p in report["people"]["persons"] if p["user"] == payments_holder.user)
    assert person["roles"] == ["ops-auditor", "ops-payments"]
    assert ["payments:refund", "audit:export"] in person["sod_pairs"]
    md = render_md(report)
    people = md[md.index("## People") :]
    assert f"| ops-payments | {payments_holder.user.replace('|', chr(92) + '|')} |" in people
    assert "| expired |" in people, "ops-payments' approval ended on 2027-02-28"
    assert "payments:refund + audit:export" in people


def test_without_a_sign_off_the_section_says_how_to_make_one(prod_report: dict, tmp_path: Path) -> None:
    md = render_md({**prod_report, "since_review": None})
    assert "## Changes since the last review" in md and "No comparison with a signed-off review was asked for." in md


def _report_in(repo: Path, tmp_path: Path, name: str) -> Path:
    """Plan and report the checkout's HEAD with its own code; returns the report's JSON file."""
    out = tmp_path / name
    assert _opshub_in(repo, "plan", "--stack", "prod", "--out", str(out)).returncode == 0
    made = _opshub_in(repo, "access-report", "--plan", str(out / "resources.json"), "--since", "none", "--format", "json", "--out", str(out))
    assert made.returncode == 0, made.stderr
    return out / "access-report.json"


@pytest.mark.slow
def test_a_sign_off_then_a_change_shows_as_changes_since_the_last_review(repo: Path, tmp_path: Path, capsys) -> None:
    start = _git(repo, "rev-parse", "HEAD")
    reviewed = _report_in(repo, tmp_path, "reviewed")

    assert main(["review", "sign-off", "--repo", str(repo), "--report", str(reviewed), "--reviewer", "Jane Auditor <jane@clarivum.com>", "--date", "2026-11-30"]) == 0
    assert "git push origin access-review/2026-11-30" in capsys.readouterr().out
    (signed,) = sign_offs(repo)
    assert (signed.tag, signed.revision, signed.reviewer) == (f"{TAG_PREFIX}2026-11-30", start, "Jane Auditor <jane@clarivum.com>")
    assert signed.report_sha256 == json.loads(reviewed.read_text())["fingerprint"]["report_sha256"]

    model = repo / "infra/model/access.yaml"
    model.write_text(model.read_text().replace(EDITORIAL_BEFORE, EDITORIAL_AFTER))
    _commit_all(repo, "editorial reads campaigns")
    assert _opshub_in(repo, "plan", "--stack", "prod", "--out", str(tmp_path / "now")).returncode == 0

    code = main(["access-report", "--repo", str(repo), "--plan", str(tmp_path / "now/resources.json"), "--format", "json"])

    _git(repo, "tag", "-d", signed.tag)
    _git(repo, "reset", "-q", "--hard", start)
    assert code == 0
    since = json.loads(capsys.readouterr().out)["since_review"]
    assert since["status"] == "compared" and since["review"]["tag"] == signed.tag
    assert {"kind": "permission_added", "subject": "ops-editorial", "object": "comms:read", "detail": ""} in since["diff"]["widening"]
    assert {"kind": "integration_level_raised", "subject": "ops-editorial", "object": "listmonk", "detail": "none → view"} in since["diff"]["widening"]
    assert "as signed off" in since["note"], "the same code reports the reviewed revision as it was signed"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r["identity"].update(dirty=True), "uncommitted changes"),
        (lambda r: r["roles"].pop(), "does not match its fingerprint"),
        (lambda r: r["identity"].update(revision=None), "names no git revision"),
    ],
    ids=["dirty", "edited", "no-revision"],
)
def test_a_sign_off_of_a_report_that_cannot_be_trusted_is_refused(edit, expected: str, repo: Path, tmp_path: Path, prod_report: dict, capsys) -> None:
    report = copy.deepcopy(prod_report)
    report["identity"] = {**report["identity"], "revision": _git(repo, "rev-parse", "HEAD"), "dirty": False}
    edit(report)
    path = tmp_path / "access-report.json"
    path.write_text(json.dumps(report))

    assert main(["review", "sign-off", "--repo", str(repo), "--report", str(path), "--reviewer", "Jane"]) == 2

    assert expected in capsys.readouterr().err
    assert sign_offs(repo) == [], "no tag is made"
