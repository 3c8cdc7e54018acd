"""`opshub policy check`: evaluate the policy pack over a stack file, without the OPA binary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.config import REPO_ROOT
from infra.model.access import AccessModel, load_model, parse_model
from infra.policy.check import check_stack
from infra.policy.engines import DEFAULT_ENGINE, ENGINES
from infra.policy.generate import MODEL_MODULE, stale_model_note
from infra.policy.inputs import (
    DEFAULT_SECRET_ENCODING,
    DEFAULT_STACK_SHAPE,
    SECRET_ENCODINGS,
    STACK_SHAPES,
    StackResources,
    load_resources,
)
from infra.policy.pack import PACK_DIR
from infra.policy.report import Locate, render_json, render_sarif, render_text, with_source
from infra.policy.sources import SourceIndex
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
    check.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml SARIF results may point at (default: prod)")
    check.add_argument("--allow-empty", action="store_true", help="accept a document with no resources (otherwise exit 2)")
    check.set_defaults(run=run)


def _model(stack: StackResources, pack_dir: Path) -> AccessModel | None:
    """The model the pack's model data comes from: the one a plan carries, else the checkout's."""
    if not (pack_dir / MODEL_MODULE).exists():
        return None
    if stack.model_data is not None:
        return parse_model(stack.model_data, "the access model embedded in the plan")
    return load_model()


def _locator(stack: StackResources, stack_name: str) -> Locate:
    """Finding -> the model, approvals, config or SLO line behind its resource."""
    index = SourceIndex(REPO_ROOT, stack_name)
    properties = {r["urn"]: r["properties"] for r in stack.resources}
    return lambda f: index.locate(f.message, f.name, properties.get(f.urn))


def run(args: argparse.Namespace) -> int:
    if args.waivers is not None and not args.waivers.is_file():
        raise WaiverError(str(args.waivers), ["no such waivers file"])
    stack = load_resources(args.input, args.secrets, allow_empty=args.allow_empty)
    model = _model(stack, args.policies) if args.opa_url is None else None
    # Only the checkout's own model says anything about the committed file.
    note = stale_model_note(model, args.policies) if model is not None and stack.model_data is None else None
    if note:
        print(note, file=sys.stderr)
    report = check_stack(
        stack.resources,
        args.engine,
        args.opa_url,
        args.policies,
        args.waivers or WAIVERS_FILE,
        model=model,
        stack_shape=args.stack_shape,
        per_rule=args.per_rule,
    )
    report = with_source(report, str(args.input), stack.source_format)
    if args.format == "text":
        print(render_text(report))
    else:
        document = render_json(report) if args.format == "json" else render_sarif(report, _locator(stack, args.stack))
        print(json.dumps(document, indent=2, sort_keys=True))
    return report.exit_code
