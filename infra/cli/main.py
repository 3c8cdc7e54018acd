"""`opshub`: the offline plan, policy checks, reports and database tools.

Exit codes: 0 clean, 1 a finding (a mandatory policy, a broken chain),
2 a usage or input error. A user error never prints a traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from infra.errors import UsageError
from infra.provenance import git_revision

DISTRIBUTION = "opshub-infra"  # pyproject.toml [project].name

EXIT_USAGE = 2

# Command name -> the module that registers and runs it. A run imports only its own
# command's module, so `opshub plan` never pays for psycopg or the report renderers.
COMMANDS = {
    "plan": "infra.cli.plan_cmd",
    "docs": "infra.cli.docs_cmd",
    "access-report": "infra.cli.access_report_cmd",
    "access-diff": "infra.cli.access_diff_cmd",
    "policy": "infra.cli.policy_cmd",
    "db": "infra.cli.db_cmd",
    "audit": "infra.cli.audit_cmd",
    "metrics": "infra.cli.metrics_cmd",
    "review": "infra.cli.review_cmd",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def version_line() -> str:
    """`opshub <release> (<revision of the code it runs>)`, for bug reports and audit trails."""
    try:
        release = version(DISTRIBUTION)
    except PackageNotFoundError:
        release = "not installed"
    return f"opshub {release} ({git_revision().label})"


class _Version(argparse.Action):
    """--version, computed only when asked for (it runs git)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and the code's git revision")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_line())
        parser.exit(0)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with `only`, just that command is registered (the others are not imported)."""
    parser = _Parser(prog="opshub", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        if only in (None, name):
            importlib.import_module(module).register(sub)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    if list(argv) == ["--version"]:
        return ""  # no command module is needed to print the version
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_named(argv)).parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE


def console() -> int:
    """The `opshub` console script: `main` in a process that runs one command and exits.

    A plan creates a few million long-lived objects (SDK classes and their type hints) and
    almost no cyclic garbage, so the cyclic collector only re-scans them: a third of the run
    at Python's default thresholds, with the same peak memory either way (docs/benchmarks.md).
    In-process callers (the tests) use `main`, and their collector is left alone.
    """
    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()  # interpreter exit collects even when disabled; frozen objects are skipped


if __name__ == "__main__":
    sys.exit(console())
