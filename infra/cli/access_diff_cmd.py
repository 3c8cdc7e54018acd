"""`opshub access-diff`: what access two revisions (or two plan files) add or remove.

Markdown by default, for a pull-request comment. Exit 1 when head brings a new
mandatory finding, 0 otherwise (a widening is flagged in the text, not in the
exit code: it may be intended), 2 when a revision does not plan.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infra.config import REPO_ROOT
from infra.errors import UsageError
from infra.report.access import report_for
from infra.report.diff import diff_reports, render_diff_md
from infra.report.revision import PlannedRevision, plan_revision, read_plan_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("access-diff", help="access added/removed between two revisions or plan files (Markdown)")
    parser.add_argument("--base", help="git revision to compare from (planned from its own tree)")
    parser.add_argument("--head", help="git revision to compare to")
    parser.add_argument("--base-plan", type=Path, help="resources.json of `opshub plan` to compare from")
    parser.add_argument("--head-plan", type=Path, help="resources.json of `opshub plan` to compare to")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="git checkout the revisions belong to (default: this one)")
    parser.add_argument("--stack", default="prod", help="stack to plan each revision with (default: prod)")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    parser.add_argument("--out", type=Path, help="write the diff to this file instead of stdout")
    parser.set_defaults(run=run)


def _sides(args: argparse.Namespace) -> tuple[PlannedRevision, PlannedRevision]:
    revs, plans = (args.base, args.head), (args.base_plan, args.head_plan)
    if all(revs) and not any(plans):
        return plan_revision(args.base, args.repo, args.stack), plan_revision(args.head, args.repo, args.stack)
    if all(plans) and not any(revs):
        return read_plan_file(args.base_plan), read_plan_file(args.head_plan)
    raise UsageError("access-diff", ["give either --base REV --head REV, or --base-plan FILE --head-plan FILE"])


def run(args: argparse.Namespace) -> int:
    base, head = _sides(args)
    diff = diff_reports(
        report_for(base.resources, base.model, args.stack, base.label, base.sql_files, base.model_problems),
        report_for(head.resources, head.model, args.stack, head.label, head.sql_files, head.model_problems),
    )
    text = render_diff_md(diff) if args.format == "md" else json.dumps(diff, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 1 if any(f["mandatory"] for f in diff["new_findings"]) else 0
