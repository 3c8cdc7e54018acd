"""`opshub audit verify --dsn URI`: walk the ops_audit hash chain.
`opshub audit verify-export FILE`: re-verify a monthly export without the database.

Exit 0 with the count when intact; exit 1 naming the first broken chain_seq;
exit 2 when the chain cannot be read (connection, permissions, not migrated).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.migrations.verify import verify
from infra.report.export_verify import verify_export

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="checks of the Supabase ops_audit trail")
    audit_sub = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify_parser = audit_sub.add_parser("verify", help="walk the hash chain; exit 1 naming the first broken chain_seq")
    verify_parser.add_argument("--dsn", required=True, help="libpq URI of a user that reads the whole trail")
    verify_parser.set_defaults(run=run)
    export_parser = audit_sub.add_parser("verify-export", help="re-verify an exported month (JSONL) on its own, offline")
    export_parser.add_argument("file", type=Path, help="an export written by the audit-export job")
    export_parser.add_argument("--anchor", help="the previous export's last hash: the first event must link to it")
    export_parser.set_defaults(run=run_verify_export)


def run(args: argparse.Namespace) -> int:
    result = verify(args.dsn)
    if result.intact:
        print(f"ops_audit chain intact: {result.count} events")
        return 0
    print(f"ops_audit chain broken at chain_seq {result.first_broken}: {result.reason} ({result.count} events)")
    return EXIT_BROKEN


def run_verify_export(args: argparse.Namespace) -> int:
    result = verify_export(args.file, args.anchor)
    if result.intact:
        print(f"export of {result.month} intact: {result.rows} events, chain_seq up to {result.last_seq}, last hash {result.last_hash}")
        return 0
    print(f"export of {result.month} broken at chain_seq {result.first_broken}: {result.reason} ({result.rows} events)")
    return EXIT_BROKEN
