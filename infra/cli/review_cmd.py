"""`opshub review sign-off` and `opshub review list`: the access review's sign-off record (git tags).

See infra/report/review.py for the record's design and docs/runbook.md for the procedure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from infra.config import REPO_ROOT
from infra.report.review import ReviewError, parse_date, sign_off, sign_offs


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("review", help="sign off an access review, or list the sign-offs")
    commands = parser.add_subparsers(dest="review_command", required=True, parser_class=type(parser))
    signing = commands.add_parser(
        "sign-off",
        help="record that a reviewer read this report: an annotated tag access-review/<date> on its revision",
    )
    signing.add_argument("--report", type=Path, required=True, help="the access-report.json the reviewer read")
    signing.add_argument("--reviewer", required=True, help='who reviewed it, e.g. "Jane Auditor <jane@clarivum.com>"')
    signing.add_argument("--date", help="the day of the review, YYYY-MM-DD (default: today, UTC)")
    signing.add_argument("--repo", type=Path, default=REPO_ROOT, help="the git checkout to tag (default: this one)")
    signing.set_defaults(run=run_sign_off)
    listing = commands.add_parser("list", help="the sign-offs, newest first")
    listing.add_argument("--repo", type=Path, default=REPO_ROOT, help="the git checkout (default: this one)")
    listing.set_defaults(run=run_list)


def run_sign_off(args: argparse.Namespace) -> int:
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReviewError(str(args.report), [f"cannot read the report: {exc.strerror}"]) from None
    except ValueError as exc:
        raise ReviewError(str(args.report), [f"not JSON: {exc}; give the access-report.json of `opshub access-report --format json`"]) from None
    if not isinstance(report, dict):
        raise ReviewError(str(args.report), ["not an access report"])
    date = parse_date(args.date) if args.date else dt.datetime.now(dt.UTC).date()
    signed = sign_off(args.repo, report, str(args.report), args.reviewer, date)
    print(f"signed off: {signed.tag} on {signed.revision[:12]} (stack {signed.stack}, report sha256 {signed.report_sha256}) by {signed.reviewer}")
    print(f"publish it: git push origin {signed.tag}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    found = sign_offs(args.repo)
    if not found:
        print("no access review has been signed off in this repository")
    for s in found:
        print(f"{s.tag}  {s.revision[:12]}  stack {s.stack or '?'}  by {s.reviewer}  report sha256 {s.report_sha256[:16]}")
    return 0
