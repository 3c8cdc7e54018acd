"""`opshub access-report`: the declared-access report of a stack, from its offline plan.

With `--plan FILE` everything comes from the plan file (its revision, model,
approvals and migrations); nothing is read from the checkout but the sign-off
tags that "Changes since the last review" compares with (`--since`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cli.output import check_out_dir, write_all
from infra.cli.plan_cmd import plan_or_exit
from infra.config import REPO_ROOT
from infra.errors import UsageError
from infra.report.access import report_for
from infra.report.planned import PlannedRevision, planned_from_document
from infra.report.render_csv import render_csv
from infra.report.render_html import render_html
from infra.report.render_json import render_json
from infra.report.render_md import render_md
from infra.report.review import LATEST, since_last_review
from infra.report.revision import read_plan_file

RENDERERS = {"html": render_html, "md": render_md, "csv": render_csv, "json": render_json}
REPORT_NAME = "access-report"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("access-report", help="the declared-access report (credentials, people, roles, reach, grants, SoD, findings)")
    parser.add_argument("--stack", default="prod", help="stack name; reads Pulumi.<stack>.yaml (default: prod)")
    parser.add_argument(
        "--format", action="append", choices=sorted(RENDERERS), dest="formats",
        help="html, md, csv or json; repeat for several (default: html). Without --out exactly one is printed",
    )
    parser.add_argument("--plan", type=Path, help="report on this resources.json of `opshub plan` instead of planning again")
    parser.add_argument("--allow-empty", action="store_true", help="accept a plan file with no resources (otherwise exit 2)")
    parser.add_argument(
        "--since", default=LATEST,
        help="what 'Changes since the last review' compares with: latest (the newest access-review/* tag, default), "
        "a sign-off tag or any revision, or none",
    )
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="git checkout holding the sign-off tags (default: this one)")
    parser.add_argument("--out", type=Path, help=f"directory to write {REPORT_NAME}.<format> into (created if missing)")
    parser.set_defaults(run=run)


def planned(stack: str, plan_file: Path | None, allow_empty: bool) -> PlannedRevision:
    if plan_file is not None:
        return read_plan_file(plan_file, allow_empty=allow_empty)
    return planned_from_document(plan_or_exit(stack).document(), f"the {stack} plan")


def run(args: argparse.Namespace) -> int:
    formats = list(dict.fromkeys(args.formats or ["html"]))
    if args.out is None and len(formats) > 1:
        raise UsageError("--format", ["several formats need --out DIR; stdout takes one"])
    if args.out:
        check_out_dir(args.out)
    report = report_for(planned(args.stack, args.plan, args.allow_empty))
    report["since_review"] = since_last_review(report, args.repo, args.since)
    rendered = {f"{REPORT_NAME}.{fmt}": RENDERERS[fmt](report) for fmt in formats}
    if args.out is None:
        print(next(iter(rendered.values())), end="")
        return 0
    for path in write_all(args.out, rendered):
        print(f"wrote {path}")
    return 0
