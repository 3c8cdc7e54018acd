"""Access review sign-offs, and what changed since the last one.

A sign-off is an annotated git tag `access-review/<YYYY-MM-DD>` on the commit
whose report the reviewer read. Its message records the reviewer, the stack and
the report's sha256 as trailers:

    Access review of stack prod signed off

    Reviewer: Jane Auditor <jane@clarivum.com>
    Stack: prod
    Reviewed-Revision: <full commit id>
    Report-Sha256: <report sha256>

`opshub review sign-off` creates it from a report file (refusing a report of a
dirty tree or one whose content no longer matches its fingerprint); pushing the
tag publishes it, and a tag ruleset limits who may push `access-review/*`.

`since_last_review` plans the signed-off revision with its own code (as
`access-diff --base` does), reports it with today's report code and diffs it
with the current report, for the report's "Changes since the last review".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.errors import UsageError
from infra.provenance import canonical_sha256, git
from infra.report.access import OUTSIDE_FINGERPRINT, report_for
from infra.report.diff import diff_reports
from infra.report.revision import plan_revision

TAG_PREFIX = "access-review/"
TRAILERS = {"Reviewer": "reviewer", "Stack": "stack", "Reviewed-Revision": "revision", "Report-Sha256": "report_sha256"}
LATEST, NONE = "latest", "none"
RUNBOOK = "docs/runbook.md, \"Access review sign-off\""


class ReviewError(UsageError):
    """A sign-off that cannot be made or read."""


@dataclass(frozen=True)
class SignOff:
    tag: str
    date: str
    reviewer: str
    stack: str
    revision: str  # the full commit id the report was made at
    report_sha256: str


def _trailers(message: str) -> dict[str, str]:
    found = {}
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in TRAILERS:
            found[TRAILERS[key.strip()]] = value.strip()
    return found


def sign_offs(root: Path) -> list[SignOff]:
    """Every sign-off tag of the repository, newest first (by the date in its name)."""
    listed = git(["for-each-ref", "--format=%(refname:short)%00%(*objectname)%00%(contents)%01", f"refs/tags/{TAG_PREFIX}"], root)
    out = []
    for record in listed.stdout.decode().split("\x01"):
        parts = record.strip("\n").split("\x00")
        if len(parts) != 3 or not parts[1]:
            continue  # not an annotated tag: not a sign-off
        tag, commit, message = parts
        fields = _trailers(message)
        out.append(
            SignOff(
                tag=tag,
                date=tag[len(TAG_PREFIX):][:10],
                reviewer=fields.get("reviewer", "unknown"),
                stack=fields.get("stack", ""),
                revision=commit,
                report_sha256=fields.get("report_sha256", ""),
            )
        )
    return sorted(out, key=lambda s: s.tag, reverse=True)


def _checked_report(report: dict[str, Any], source: str) -> tuple[str, str]:
    """The report's commit and stack, if it is an untouched report of a clean, known revision."""
    identity = report.get("identity") or {}
    body = {k: v for k, v in report.items() if k not in OUTSIDE_FINGERPRINT}
    problems = []
    if canonical_sha256(body) != (report.get("fingerprint") or {}).get("report_sha256"):
        problems.append("its content does not match its fingerprint: it was edited, or is not a report of `opshub access-report --format json`")
    if not identity.get("revision"):
        problems.append("it names no git revision: make it from a plan of a git checkout")
    elif identity.get("dirty"):
        problems.append(f"it was made from a tree with uncommitted changes ({identity['revision'][:12]}-dirty): commit, plan and report again")
    if problems:
        raise ReviewError(source, problems)
    return identity["revision"], str(report.get("stack") or identity.get("stack") or "")


def sign_off(root: Path, report: dict[str, Any], source: str, reviewer: str, date: dt.date) -> SignOff:
    """Create the annotated tag recording that `reviewer` reviewed this report."""
    if not reviewer.strip():
        raise ReviewError("--reviewer", ["name the reviewer, e.g. \"Jane Auditor <jane@clarivum.com>\""])
    commit, stack = _checked_report(report, source)
    if git(["cat-file", "-e", f"{commit}^{{commit}}"], root).returncode != 0:
        raise ReviewError(source, [f"revision {commit[:12]} is not a commit of {root}"])
    tag = f"{TAG_PREFIX}{date.isoformat()}"
    if git(["rev-parse", "--verify", "--quiet", f"refs/tags/{tag}"], root).returncode == 0:
        raise ReviewError(tag, ["a review was already signed off on that day; pass another --date"])
    signed = SignOff(tag, date.isoformat(), reviewer.strip(), stack, commit, report["fingerprint"]["report_sha256"])
    message = f"Access review of stack {stack} signed off\n\n" + "\n".join(
        f"{trailer}: {getattr(signed, field)}" for trailer, field in TRAILERS.items()
    )
    made = git(["tag", "-a", tag, "-m", message, commit], root)
    if made.returncode != 0:
        raise ReviewError(tag, [f"git tag failed: {made.stderr.decode().strip()}"])
    return signed


def _target(root: Path, since: str, stack: str) -> SignOff | None:
    if since == LATEST:
        return next((s for s in sign_offs(root) if s.stack in ("", stack)), None)
    named = next((s for s in sign_offs(root) if s.tag == since), None)
    if named:
        return named
    commit = git(["rev-parse", "--verify", "--quiet", f"{since}^{{commit}}"], root)
    if commit.returncode != 0:
        raise ReviewError(f"--since {since}", [f"neither a sign-off tag ({TAG_PREFIX}YYYY-MM-DD) nor a commit of {root}"])
    return SignOff(since, "", "nobody (a revision named with --since, not a sign-off)", stack, commit.stdout.decode().strip(), "")


def since_last_review(current: dict[str, Any], root: Path, since: str = LATEST) -> dict[str, Any]:
    """The report's "Changes since the last review": the sign-off it compares with, and the diff."""
    if since == NONE:
        return {"status": "not-compared", "review": None, "diff": None, "note": "Not compared with a review (--since none)."}
    stack = current["stack"]
    if git(["rev-parse", "--git-dir"], root).returncode != 0:
        return {"status": "unavailable", "review": None, "diff": None, "note": f"{root} is not a git checkout, so its sign-offs cannot be read."}
    review = _target(root, since, stack)
    if review is None:
        note = f"No review of stack {stack} has been signed off yet: there is no {TAG_PREFIX}* tag in this repository ({RUNBOOK})."
        return {"status": "no-review", "review": None, "diff": None, "note": note}
    base = report_for(plan_revision(review.revision, root, stack), generated_at=current.get("generated_at"))
    diff = diff_reports(base, current)
    recomputed = base["fingerprint"]["report_sha256"]
    if review.report_sha256 and review.report_sha256 != recomputed:
        note = (
            f"The report signed off had sha256 {review.report_sha256[:16]}…; today's report code gives {recomputed[:16]}… for "
            "that revision (the report gained sections since), so the comparison is with the recomputed report."
        )
    else:
        note = f"Compared with the report of revision {review.revision[:12]} as signed off."
    return {"status": "compared", "review": asdict(review), "diff": diff, "note": note}


def parse_date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ReviewError("--date", [f"expected YYYY-MM-DD, found {text!r}"])
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ReviewError("--date", [f"{text}: {exc}"]) from None
