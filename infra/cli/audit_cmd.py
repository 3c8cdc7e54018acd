"""`opshub audit verify --dsn URI [--anchors S3_URI_OR_FOLDER [--public-key FILE]]`: walk the ops_audit
hash chain, report the unsealed tail, and check the chain against the signed checkpoints kept outside
the database.
`opshub audit verify-export FILE`: re-verify a monthly export without the database.

Exit 0 with the counts when intact; exit 1 naming the first broken chain_seq (or the first event
left out of the chain), the first checkpoint the database no longer matches, or, when
`--max-unsealed-age` is given, an unsealed event older than that (the sealer has stopped); exit 2
when the chain, the checkpoints or the public key cannot be read (connection, permissions, not
migrated, no checkpoint, not a checkpoint).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.errors import UsageError
from infra.migrations.anchors import AnchorCheck, check_anchors, public_keys, read_checkpoints
from infra.migrations.verify import Verification, reading, verify_chain
from infra.report.export_verify import verify_export

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="checks of the Supabase ops_audit trail")
    audit_sub = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify_parser = audit_sub.add_parser(
        "verify", help="walk the hash chain (and check it against the signed checkpoints); exit 1 naming the first break"
    )
    verify_parser.add_argument("--dsn", required=True, help="libpq URI of a user that reads the whole trail")
    verify_parser.add_argument("--max-unsealed-age", type=float, metavar="SECONDS",
                               help="exit 1 when an event has waited longer than this for its seal")
    verify_parser.add_argument(
        "--anchors", metavar="S3_URI_OR_FOLDER",
        help="the checkpoints: s3://<archive bucket>/audit-checkpoints/ or a folder holding a copy of them",
    )
    verify_parser.add_argument(
        "--public-key", type=Path, metavar="FILE",
        help="the signing key's public key (PEM or DER); default: fetched from KMS for the key each checkpoint names",
    )
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
    if args.public_key and not args.anchors:
        raise UsageError("--public-key", ["checks the checkpoints' signatures, so it needs --anchors"])
    if not args.anchors:
        with reading(args.dsn) as conn:
            return _report_chain(verify_chain(conn), args.max_unsealed_age)
    # Read the checkpoints and the key before the database: bad input exits 2 before anything is checked.
    checkpoints = read_checkpoints(args.anchors)
    keys, key_sources = public_keys(checkpoints, args.public_key)
    with reading(args.dsn) as conn:
        chain = _report_chain(verify_chain(conn), args.max_unsealed_age)
        anchors = _report_anchors(check_anchors(conn, checkpoints, keys, key_sources), args.anchors)
    return max(chain, anchors)


def _report_chain(result: Verification, max_unsealed_age: float | None) -> int:
    if result.first_broken is not None:
        print(f"ops_audit chain broken at chain_seq {result.first_broken}: {result.reason} ({result.count} events)")
        return EXIT_BROKEN
    if result.stray_event is not None:
        print(f"ops_audit chain broken: event id {result.stray_event} is older than the sealed horizon but not in "
              f"the chain (inserted out of band, or its seal removed) ({result.count} events)")
        return EXIT_BROKEN
    print(f"ops_audit chain intact: {result.count} events sealed; {_tail(result)}")
    if max_unsealed_age is not None and (result.oldest_unsealed_seconds or 0) > max_unsealed_age:
        print(f"the oldest unsealed event is older than {max_unsealed_age:g} s: is the sealer job "
              "`ops-audit-seal` running? (docs/runbook.md, \"Audit trail: sealing\")")
        return EXIT_BROKEN
    return 0


def _report_anchors(result: AnchorCheck, source: str) -> int:
    if not result.intact:
        print(f"{result.first_failed.describe()} no longer matches: {result.reason}")
        print(f"  {len(result.checkpoints)} checkpoints under {source}; see docs/runbook.md, \"Audit trail anchors\"")
        return EXIT_BROKEN
    latest = result.latest
    print(f"anchors hold: {len(result.checkpoints)} checkpoints under {source}, signatures valid "
          f"({', '.join(result.keys)}), each head still in the chain")
    print(f"  latest: {latest.describe()}, {latest.deviation_count} deviations from the expected principals")
    return 0


def run_verify_export(args: argparse.Namespace) -> int:
    result = verify_export(args.file, args.anchor)
    if result.intact:
        print(f"export of {result.month} intact: {result.rows} events, chain_seq up to {result.last_seq}, last hash {result.last_hash}")
        return 0
    print(f"export of {result.month} broken at chain_seq {result.first_broken}: {result.reason} ({result.rows} events)")
    return EXIT_BROKEN
