"""`opshub metrics snapshot`: engineering metrics from GitHub and PagerDuty (live, or recorded responses).
`opshub metrics reconcile`: figures entered by hand against a snapshot.

snapshot exits 0 for a complete snapshot, 1 for a partial one (written, with
`status: partial` and its reasons), 2 for bad input. reconcile exits 0 when every
figure matches, 1 on any mismatch, 2 for bad input (naming file, line and field).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
from pathlib import Path

from infra.errors import UsageError
from infra.metrics import github, pagerduty, reconcile
from infra.metrics.http import HttpClient
from infra.metrics.recordings import Replay, load_fixtures
from infra.metrics.run import DEFAULT_GITHUB_API_URL, DEFAULT_PAGERDUTY_API_URL, Scope, run
from infra.metrics.snapshot import render_items
from infra.metrics.timeutil import UTC, BadTimestamp, parse_time
from infra.model.access import load_model
from infra.model.metrics import DEFAULT_CATALOGUE_PATH, MetricsCatalogue, catalogue_digest, check_deploy_source, load_catalogue

EXIT_FINDING = 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("metrics", help="engineering metrics snapshots and their manual reconciliation")
    commands = parser.add_subparsers(dest="metrics_command", required=True, parser_class=type(parser))
    snap = commands.add_parser(
        "snapshot",
        help="compute a snapshot from GitHub and PagerDuty (live or recorded responses)",
        description="Exit 0 complete, 1 partial (written, with the reasons), 2 bad input.",
    )
    snap.add_argument("--as-of", required=True, help="the snapshot's moment, RFC 3339 (e.g. 2026-12-08T00:00:00Z)")
    source = snap.add_mutually_exclusive_group(required=True)
    source.add_argument("--fixtures", type=Path, help="a directory of recorded responses (manifest.json, github.jsonl, pagerduty.jsonl)")
    source.add_argument("--live", action="store_true",
                        help="read the APIs: GITHUB_API_URL (default https://api.github.com), GITHUB_TOKEN, "
                             "PAGERDUTY_API_URL (default https://api.pagerduty.com), PAGERDUTY_TOKEN")
    snap.add_argument("--out", type=Path, required=True, help="where to write the snapshot JSON")
    snap.add_argument("--items", type=Path, help="also write the per-item rows as JSON Lines")
    snap.add_argument("--repo", action="append", metavar="OWNER/NAME", help="a repository to read (repeatable; replaces the catalogue's list)")
    snap.add_argument("--pagerduty-service", action="append", metavar="ID", help="a PagerDuty service to read (repeatable; replaces the catalogue's list)")
    snap.add_argument("--deploy-source", metavar="deployments|workflow:<file>", help="how deployments are read (default: the catalogue's, GitHub deployments)")
    snap.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE_PATH, help="the metrics catalogue")
    snap.set_defaults(run=run_snapshot)

    rec = commands.add_parser(
        "reconcile",
        help="compare figures entered by hand with a snapshot",
        description="Exit 0 when every figure matches within its tolerance, 1 on any mismatch, 2 bad input.",
    )
    rec.add_argument("--manual", type=Path, required=True, help="CSV with date, metric, window, value, entered_by")
    rec.add_argument("--snapshot", type=Path, required=True, help="a snapshot JSON written by `opshub metrics snapshot`")
    rec.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="output on stdout")
    rec.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE_PATH, help="the metrics catalogue (tolerances)")
    rec.set_defaults(run=run_reconcile)


def _catalogue(path: Path) -> MetricsCatalogue:
    return load_catalogue(path, frozenset(p.name for p in load_model().permissions))


def _parse_as_of(text: str) -> dt.datetime:
    try:
        return parse_time(text)
    except BadTimestamp as exc:
        raise UsageError("--as-of", [str(exc)]) from None


def _as_of(text: str, latest: dt.datetime, what: str) -> dt.datetime:
    as_of = _parse_as_of(text)
    if as_of > latest:
        raise UsageError("--as-of", [f"{text} is after {what} ({latest:%Y-%m-%dT%H:%M:%SZ}); a snapshot cannot see the future"])
    return as_of


def _clients(args: argparse.Namespace) -> tuple[dt.datetime, HttpClient, HttpClient]:
    """The reading time and the two API clients, live or replaying the fixtures."""
    if args.fixtures is not None:
        recorded_at, recordings = load_fixtures(args.fixtures)
        now = recorded_at or _parse_as_of(args.as_of)
        return (now, HttpClient(DEFAULT_GITHUB_API_URL, {}, pool=Replay(recordings["github"])),
                HttpClient(DEFAULT_PAGERDUTY_API_URL, {}, pool=Replay(recordings["pagerduty"])))
    missing = [name for name in ("GITHUB_TOKEN", "PAGERDUTY_TOKEN") if not os.environ.get(name)]
    if missing:
        raise UsageError("environment", [f"{name} is not set (--live reads credentials from the environment)" for name in missing])
    now = dt.datetime.now(UTC).replace(microsecond=0)
    return (
        now,
        HttpClient(os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL, github.headers(os.environ["GITHUB_TOKEN"])),
        HttpClient(os.environ.get("PAGERDUTY_API_URL") or DEFAULT_PAGERDUTY_API_URL, pagerduty.headers(os.environ["PAGERDUTY_TOKEN"])),
    )


def _write(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def run_snapshot(args: argparse.Namespace) -> int:
    # The console script turns the cyclic collector off for the plan (infra/cli/main.py); reading
    # tens of thousands of responses leaves cycles behind, so this command wants it back.
    gc.enable()
    catalogue = _catalogue(args.catalogue)
    if args.deploy_source:
        try:
            check_deploy_source(args.deploy_source)
        except ValueError as exc:
            raise UsageError("--deploy-source", [f"{args.deploy_source!r}: {exc}"]) from None
    problems = [f"{r!r}: expected OWNER/NAME" for r in args.repo or [] if r.count("/") != 1 or not all(r.split("/"))]
    if problems:
        raise UsageError("--repo", problems)
    now, gh, pd = _clients(args)
    as_of = _as_of(args.as_of, now, "the reading time" if args.live else "the fixtures' recorded_at")
    scope = Scope.of(catalogue, args.repo, args.pagerduty_service, args.deploy_source)
    outcome = run(catalogue, catalogue_digest(args.catalogue), scope, as_of, now, gh, pd)
    _write(args.out, outcome.text)
    if args.items:
        _write(args.items, render_items(outcome.items))
    document = outcome.document
    if outcome.complete:
        print(f"wrote {args.out}: complete snapshot as of {document['as_of']}")
        return 0
    print(f"wrote {args.out}: PARTIAL snapshot as of {document['as_of']}:")
    for reason in document["partial_reasons"]:
        print(f"  - {reason}")
    return EXIT_FINDING


def run_reconcile(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args.catalogue)
    rows = reconcile.read_manual(args.manual, catalogue)
    snapshot = reconcile.read_snapshot(args.snapshot)
    comparisons = reconcile.reconcile(rows, snapshot, catalogue, str(args.manual))
    print(reconcile.render(comparisons, catalogue, args.format), end="")
    return 0 if all(c.matches for c in comparisons) else EXIT_FINDING
