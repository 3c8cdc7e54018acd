"""`opshub access-report`: the declared-access report of a stack, from its offline plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cli.plan_cmd import check_out_dir, make_out_dir
from infra.errors import UsageError
from infra.model.access import load_model
from infra.offline.plan import ProgramError, run_plan
from infra.offline.recorder import ProviderCallError, UnknownInputError
from infra.report.access import report_for
from infra.report.render_csv import render_csv
from infra.report.render_html import render_html
from infra.report.render_json import render_json
from infra.report.render_md import render_md
from infra.report.revision import git_revision, migration_sql, read_plan_file

RENDERERS = {"html": render_html, "md": render_md, "csv": render_csv, "json": render_json}
REPORT_NAME = "access-report"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("access-report", help="the declared-access report (roles, reach, grants, secrets, SoD, findings)")
    parser.add_argument("--stack", default="prod", help="stack name; reads Pulumi.<stack>.yaml (default: prod)")
    parser.add_argument(
        "--format", action="append", choices=sorted(RENDERERS), dest="formats",
        help="html, md, csv or json; repeat for several (default: html). Without --out exactly one is printed",
    )
    parser.add_argument("--plan", type=Path, help="report on this resources.json of `opshub plan` instead of planning again")
    parser.add_argument("--out", type=Path, help=f"directory to write {REPORT_NAME}.<format> into (created if missing)")
    parser.set_defaults(run=run)


def build(stack: str, plan_file: Path | None) -> dict:
    if plan_file is not None:
        planned = read_plan_file(plan_file)
        return report_for(planned.resources, planned.model, stack, git_revision(), planned.sql_files)
    try:
        plan = run_plan(stack)
    except (ProgramError, UnknownInputError, ProviderCallError) as exc:
        raise UsageError(f"the {stack} program", str(exc).splitlines()) from None
    return report_for(plan.resources, load_model(), stack, git_revision(), migration_sql())


def run(args: argparse.Namespace) -> int:
    formats = list(dict.fromkeys(args.formats or ["html"]))
    if args.out is None and len(formats) > 1:
        raise UsageError("--format", ["several formats need --out DIR; stdout takes one"])
    if args.out:
        check_out_dir(args.out)
    report = build(args.stack, args.plan)
    if args.out:
        make_out_dir(args.out)
    for fmt in formats:
        text = RENDERERS[fmt](report)
        if args.out is None:
            print(text, end="")
            continue
        target = args.out / f"{REPORT_NAME}.{fmt}"
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0
