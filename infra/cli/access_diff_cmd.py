"""`opshub access-diff`: what access two revisions (or two plan files) add or remove.

Markdown by default, for a pull-request comment; `--format json` is the same diff
as structured data (findings in the fields of `opshub policy check --format json`).
Plan files are read on their own: their revision, model and approvals come from
their identity stamp and embedded inputs, never from the checkout. Exit 1 when
head brings a new mandatory finding, 0 otherwise (a widening is flagged in the
text, not in the exit code: it may be intended), 2 when a revision does not plan
or a plan file is unusable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infra.cli.output import check_out_dir, write_all
from infra.config import REPO_ROOT
from infra.errors import UsageError
from infra.report.access import report_for
from infra.report.diff import blocks, diff_reports, render_diff_md
from infra.report.planned import PlannedRevision
from infra.report.revision import plan_revision, read_plan_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("access-diff", help="access added/removed between two revisions or plan files (Markdown)")
    parser.add_argument("--base", help="git revision to compare from (planned from its own tree)")
    parser.add_argument("--head", help="git revision to compare to")
    parser.add_argument("--base-plan", type=Path, help="resources.json of `opshub plan` to compare from")
    parser.add_argument("--head-plan", type=Path, help="resources.json of `opshub plan` to compare to")
    parser.add_argument("--allow-empty", action="store_true", help="accept plan files with no resources (otherwise exit 2)")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="git checkout the revisions belong to (default: this one)")
    parser.add_argument("--stack", default="prod", help="stack to plan each revision with (default: prod)")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    parser.add_argument("--out", type=Path, help="write the diff to this file instead of stdout (all of it or nothing)")
    parser.set_defaults(run=run)


def _sides(args: argparse.Namespace) -> tuple[PlannedRevision, PlannedRevision]:
    revs, plans = (args.base, args.head), (args.base_plan, args.head_plan)
    if all(revs) and not any(plans):
        return plan_revision(args.base, args.repo, args.stack), plan_revision(args.head, args.repo, args.stack)
    if all(plans) and not any(revs):
        return read_plan_file(args.base_plan, allow_empty=args.allow_empty), read_plan_file(args.head_plan, allow_empty=args.allow_empty)
    raise UsageError("access-diff", ["give either --base REV --head REV, or --base-plan FILE --head-plan FILE"])


def run(args: argparse.Namespace) -> int:
    if args.out:
        if args.out.is_dir():
            raise UsageError(str(args.out), ["--out names the file to write, and this is a directory"])
        check_out_dir(args.out.parent)
    base, head = _sides(args)
    diff = diff_reports(report_for(base), report_for(head))
    text = render_diff_md(diff) if args.format == "md" else json.dumps(diff, indent=2, sort_keys=True) + "\n"
    if args.out:
        for path in write_all(args.out.parent, {args.out.name: text}):
            print(f"wrote {path}")
    else:
        print(text, end="")
    return 1 if blocks(diff) else 0
