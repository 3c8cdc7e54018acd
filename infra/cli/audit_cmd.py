"""`opshub audit verify --dsn URI`: walk the ops_audit hash chain.

Exit 0 with the count when intact; exit 1 naming the first broken chain_seq;
exit 2 when the chain cannot be read (connection, permissions, not migrated).
"""

from __future__ import annotations

import argparse

from infra.migrations.verify import verify

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="checks of the Supabase ops_audit trail")
    audit_sub = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify_parser = audit_sub.add_parser("verify", help="walk the hash chain; exit 1 naming the first broken chain_seq")
    verify_parser.add_argument("--dsn", required=True, help="libpq URI of a user that reads the whole trail")
    verify_parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = verify(args.dsn)
    if result.intact:
        print(f"ops_audit chain intact: {result.count} events")
        return 0
    print(f"ops_audit chain broken at chain_seq {result.first_broken}: {result.reason} ({result.count} events)")
    return EXIT_BROKEN
