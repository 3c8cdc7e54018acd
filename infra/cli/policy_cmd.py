"""`opshub policy check`: evaluate the policy pack over a stack file, without the OPA binary."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infra.config import REPO_ROOT
from infra.policy.check import check_stack
from infra.policy.engines import DEFAULT_ENGINE, ENGINES
from infra.policy.inputs import (
    DEFAULT_SECRET_ENCODING,
    DEFAULT_STACK_SHAPE,
    SECRET_ENCODINGS,
    STACK_SHAPES,
    load_resources,
)
from infra.policy.pack import PACK_DIR
from infra.policy.report import render_json, render_sarif, render_text, with_source
from infra.policy.waivers import WAIVERS_FILE, WaiverError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("policy", help="policy pack tools")
    commands = parser.add_subparsers(dest="policy_command", required=True, parser_class=type(parser))
    check = commands.add_parser(
        "check",
        help="evaluate the pack over resources.json, `pulumi preview --json` or `pulumi stack export`",
        description="Exit 0 when clean, 1 on a mandatory finding or an expired waiver, 2 on bad input.",
    )
    check.add_argument("--input", type=Path, required=True, help="the stack file (format detected)")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output on stdout")
    check.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help=f"in-process Rego engine (default {DEFAULT_ENGINE})")
    check.add_argument(
        "--per-rule",
        action="store_true",
        help="query each rule alone as data.<package>.<rule>, as pulumi-policy-opa does (slower; same findings)",
    )
    check.add_argument("--opa-url", help="evaluate on a running OPA server that has policies/ loaded instead")
    check.add_argument(
        "--secrets",
        choices=SECRET_ENCODINGS,
        default=DEFAULT_SECRET_ENCODING,
        help="how rules see a secret: analyzer = {Element: {V: ...}} as pulumi-policy-opa hands it over, "
        "marker = the engine's wire marker (stack export), preview = \"[secret]\" (default %(default)s)",
    )
    check.add_argument(
        "--stack-shape",
        choices=STACK_SHAPES,
        default=DEFAULT_STACK_SHAPE,
        help="what stack rules read for each resource: its outputs, as the engine passes them to AnalyzeStack, "
        "or its inputs (default %(default)s)",
    )
    check.add_argument("--policies", type=Path, default=PACK_DIR, help="the policy pack directory")
    check.add_argument("--waivers", type=Path, help=f"the waivers file (default {WAIVERS_FILE.relative_to(REPO_ROOT)}, if present)")
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.waivers is not None and not args.waivers.is_file():
        raise WaiverError(str(args.waivers), ["no such waivers file"])
    stack = load_resources(args.input, args.secrets)
    report = check_stack(
        stack.resources,
        args.engine,
        args.opa_url,
        args.policies,
        args.waivers or WAIVERS_FILE,
        stack_shape=args.stack_shape,
        per_rule=args.per_rule,
    )
    report = with_source(report, str(args.input), stack.source_format)
    if args.format == "text":
        print(render_text(report))
    else:
        document = render_json(report) if args.format == "json" else render_sarif(report)
        print(json.dumps(document, indent=2, sort_keys=True))
    return report.exit_code
