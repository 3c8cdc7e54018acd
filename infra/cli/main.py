"""`opshub`: the offline plan, policy checks, reports and database tools.

Exit codes: 0 clean, 1 a finding (a mandatory policy, a broken chain),
2 a usage or input error. A user error never prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infra.cli import access_diff_cmd, access_report_cmd, audit_cmd, db_cmd, docs_cmd, plan_cmd, policy_cmd
from infra.errors import UsageError

EXIT_USAGE = 2

COMMANDS = (plan_cmd, docs_cmd, access_report_cmd, access_diff_cmd, policy_cmd, db_cmd, audit_cmd)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="opshub", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
