"""`opshub docs`: regenerate the generated docs and rule files, or check they are current."""

from __future__ import annotations

import argparse

from infra.generated import stale, write_all


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("docs", help="regenerate generated files (or --check that they are current)")
    parser.add_argument("--check", action="store_true", help="exit 1 if any generated file is stale")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"stale: {path} (run `opshub docs`)")
        return 1 if outdated else 0
    for path in write_all():
        print(f"wrote {path}")
    return 0
