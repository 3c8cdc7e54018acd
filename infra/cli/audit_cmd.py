"""`opshub audit verify --dsn URI`: walk the ops_audit hash chain and report the unsealed tail.
`opshub audit verify-export FILE`: re-verify a monthly export without the database.

Exit 0 with the counts when intact; exit 1 naming the first broken chain_seq
(or the first event left out of the chain), or when `--max-unsealed-age` is
given and the oldest unsealed event is older (the sealer has stopped); exit 2
when the chain cannot be read (connection, permissions, not migrated).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.migrations.verify import Verification, verify
from infra.report.export_verify import verify_export

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="checks of the Supabase ops_audit trail")
    audit_sub = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify_parser = audit_sub.add_parser("verify", help="walk the hash chain; exit 1 naming the first broken chain_seq")
    verify_parser.add_argument("--dsn", required=True, help="libpq URI of a user that reads the whole trail")
    verify_parser.add_argument("--max-unsealed-age", type=float, metavar="SECONDS",
                               help="exit 1 when an event has waited longer than this for its seal")
    verify_parser.set_defaults(run=run)
    export_parser = audit_sub.add_parser("verify-export", help="re-verify an exported month (JSONL) on its own, offline")
    export_parser.add_argument("file", type=Path, help="an export written by the audit-export job")
    export_parser.add_argument("--anchor", help="the previous export's last hash: the first event must link to it")
    export_parser.set_defaults(run=run_verify_export)


def _tail(result: Verification) -> str:
    if not result.unsealed:
        return "no event waits for its seal"
    return f"{result.unsealed} not sealed yet, the oldest {result.oldest_unsealed_seconds:.1f} s old"


def run(args: argparse.Namespace) -> int:
    result = verify(args.dsn)
    if result.first_broken is not None:
        print(f"ops_audit chain broken at chain_seq {result.first_broken}: {result.reason} ({result.count} events)")
        return EXIT_BROKEN
    if result.stray_event is not None:
        print(f"ops_audit chain broken: event id {result.stray_event} is older than the sealed horizon but not in "
              f"the chain (inserted out of band, or its seal removed) ({result.count} events)")
        return EXIT_BROKEN
    print(f"ops_audit chain intact: {result.count} events sealed; {_tail(result)}")
    too_old = args.max_unsealed_age is not None and (result.oldest_unsealed_seconds or 0) > args.max_unsealed_age
    if too_old:
        print(f"the oldest unsealed event is older than {args.max_unsealed_age:g} s: is the sealer job "
              "`ops-audit-seal` running? (docs/runbook.md, \"Audit trail: sealing\")")
        return EXIT_BROKEN
    return 0


def run_verify_export(args: argparse.Namespace) -> int:
    result = verify_export(args.file, args.anchor)
    if result.intact:
        print(f"export of {result.month} intact: {result.rows} events, chain_seq up to {result.last_seq}, last hash {result.last_hash}")
        return 0
    print(f"export of {result.month} broken at chain_seq {result.first_broken}: {result.reason} ({result.rows} events)")
    return EXIT_BROKEN
