"""`opshub plan`: the offline plan of a stack, written as resources.json with the /ops action catalogue beside it, and its policy verdicts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra import actions_file
from infra.cli.output import check_out_dir, write_all
from infra.config import REPO_ROOT, StackConfig
from infra.derive.actions import ops_actions
from infra.derive.auth0 import expected_tenant_protections
from infra.errors import UsageError
from infra.offline.plan import Plan, ProgramError, run_plan
from infra.offline.recorder import ProviderCallError, UnknownInputError
from infra.policy.check import check_stack
from infra.policy.generate import stale_model_note
from infra.policy.inputs import from_plan
from infra.policy.report import render_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plan", help="run the program offline under mocks and write resources.json and ops-actions.json")
    parser.add_argument("--stack", default="prod", help="stack name; reads Pulumi.<stack>.yaml (default: prod)")
    parser.add_argument("--out", type=Path, required=True, help="directory for resources.json and ops-actions.json (created if missing)")
    parser.add_argument("--cwd", type=Path, default=REPO_ROOT, help="project directory holding Pulumi.<stack>.yaml")
    parser.set_defaults(run=run)


def plan_or_exit(stack: str, root: Path = REPO_ROOT) -> Plan:
    """The stack's plan; a program that fails under mocks is a usage error naming the stack."""
    try:
        return run_plan(stack, root=root)
    except (ProgramError, UnknownInputError, ProviderCallError) as exc:
        raise UsageError(f"the {stack} program", str(exc).splitlines()) from None


def summary(plan: Plan) -> str:
    counts = plan.custom_counts()
    custom = sum(counts.values())
    lines = [
        f"offline plan of stack {plan.stack!r}: {len(plan.resources)} resources "
        f"({custom} from providers, {len(plan.resources) - custom} components)"
    ]
    lines += [f"  {package:<12} {count:>4}" for package, count in sorted(counts.items())]
    return "\n".join(lines)


def tenant_note(config: StackConfig) -> str:
    """Where another team owns the Auth0 tenant, what this stack relies on them for (docs/runbook.md)."""
    if config.auth0_tenant_owned:
        return ""
    lines = [f"Auth0 tenant {config.auth0_domain} is not owned by this stack (opshub:auth0TenantOwned: false); its owner must hold:"]
    lines += [f"  - {p}" for p in expected_tenant_protections(config)]
    lines.append("  check them as docs/runbook.md says (\"Tenant protections held by another team\")")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    check_out_dir(args.out)
    plan = plan_or_exit(args.stack, args.cwd)
    inputs = plan.program_inputs
    document = plan.document()
    # Rendered (and checked against its schema) before anything is written.
    catalogue = actions_file.render(ops_actions(inputs.model, args.stack, inputs.config.environment))
    written = write_all(
        args.out, {"resources.json": json.dumps(document, indent=2, sort_keys=True) + "\n", actions_file.FILENAME: catalogue}
    )
    print(summary(plan))
    print("\n".join(f"wrote {path}" for path in written))
    note = tenant_note(inputs.config)
    if note:
        print(note)
    stale = stale_model_note(inputs.model)
    if stale:
        print(stale, file=sys.stderr)
    report = check_stack(from_plan(document), model=inputs.model)
    print(render_text(report))
    return report.exit_code
