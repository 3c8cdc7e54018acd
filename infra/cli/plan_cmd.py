"""`opshub plan`: the offline plan of a stack, written as resources.json, and the /ops action catalogue beside it."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from infra import actions_file
from infra.config import REPO_ROOT, StackConfig, load_stack_config, stack_file
from infra.derive.auth0 import expected_tenant_protections
from infra.errors import UsageError
from infra.offline.plan import Plan, ProgramError, run_plan
from infra.offline.recorder import ProviderCallError, UnknownInputError
from infra.policy.check import check_stack
from infra.policy.inputs import from_plan
from infra.policy.report import render_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plan", help="run the program offline under mocks and write resources.json and ops-actions.json")
    parser.add_argument("--stack", default="prod", help="stack name; reads Pulumi.<stack>.yaml (default: prod)")
    parser.add_argument("--out", type=Path, required=True, help="directory for resources.json and ops-actions.json (created if missing)")
    parser.add_argument("--cwd", type=Path, default=REPO_ROOT, help="project directory holding Pulumi.<stack>.yaml")
    parser.set_defaults(run=run)


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json_atomic(path: Path, document: object) -> None:
    write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def check_out_dir(out: Path) -> None:
    """Fail before planning if --out can never hold the result."""
    if out.exists() and not out.is_dir():
        raise UsageError(str(out), ["--out must be a directory, and this is a file"])


def make_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(str(out), [f"cannot create the output directory: {exc.strerror}"]) from None


def summary(plan: Plan) -> str:
    counts = plan.custom_counts()
    lines = [f"offline plan of stack {plan.stack!r}: {sum(counts.values())} resources"]
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
    out: Path = args.out
    check_out_dir(out)
    try:
        plan = run_plan(args.stack, root=args.cwd)
    except (ProgramError, UnknownInputError, ProviderCallError) as exc:
        raise UsageError(f"the {args.stack} program", str(exc).splitlines()) from None
    from infra import program  # the model the program just planned with, loaded the same way

    # Rendered (and checked against its schema) before anything is written.
    catalogue = actions_file.render(actions_file.stack_document(args.stack, args.cwd, program.load_model()))
    make_out_dir(out)
    document = plan.document()
    write_json_atomic(out / "resources.json", document)
    write_text_atomic(out / actions_file.FILENAME, catalogue)
    print(summary(plan))
    print(f"wrote {out / 'resources.json'}")
    print(f"wrote {out / actions_file.FILENAME}")
    note = tenant_note(load_stack_config(stack_file(args.stack, args.cwd)))
    if note:
        print(note)
    report = check_stack(from_plan(document))
    print(render_text(report))
    return report.exit_code
