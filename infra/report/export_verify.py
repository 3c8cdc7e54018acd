"""`opshub audit verify-export FILE`: re-verify an ops_audit export on its own, without the database.

Checks, in order: the header and trailer are there and agree with the events;
every event's fields are what its `canonical` text says; and the chain itself
(`sha256(prev_hash || canonical) == row_hash`, linked, contiguous), with the
same check the export job runs before uploading (infra/lambdas/audit_export.py).
With `--anchor HEX` the first event must also link to that hash: the last hash
of the previous month's export, so consecutive exports form one chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError
from infra.lambdas.audit_export import FORMAT, first_break

CANONICAL_FIELDS = ("chain_seq", "id", "occurred_at", "actor_sub", "actor_roles", "action", "target", "payload")
EVENT_KEYS = (*CANONICAL_FIELDS, "prev_hash", "row_hash", "canonical")
HEADER_KEYS = ("month", "first_seq", "last_seq", "rows", "anchor_hash")
TRAILER_KEYS = ("last_seq", "last_hash")


class ExportFileError(UsageError):
    """The file is not an ops_audit export (unreadable, not JSON Lines, no header or trailer)."""


@dataclass(frozen=True)
class ExportCheck:
    rows: int
    month: str
    last_seq: int
    last_hash: str
    first_broken: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def _lines(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportFileError(str(path), [f"cannot read the file: {getattr(exc, 'strerror', None) or exc}"]) from None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            item = json.loads(line)
        except ValueError:
            raise ExportFileError(str(path), [f"line {number}: not JSON"]) from None
        if not isinstance(item, dict) or "kind" not in item:
            raise ExportFileError(str(path), [f"line {number}: not an export record (no `kind`)"])
        lines.append(item)
    return lines


def _parts(path: Path, lines: list[dict]) -> tuple[dict, list[dict], dict]:
    problems = []
    if not lines or lines[0]["kind"] != "header" or lines[0].get("format") != FORMAT:
        problems.append(f"line 1: expected the export header of format {FORMAT}")
    if not lines or lines[-1]["kind"] != "chain_head":
        problems.append("last line: expected the chain_head trailer")
    if problems:
        raise ExportFileError(str(path), problems)
    events = lines[1:-1]
    if not events or any(e["kind"] != "event" for e in events):
        raise ExportFileError(str(path), ["expected event lines between the header and the trailer"])
    required = {"header": (lines[0], HEADER_KEYS), "trailer": (lines[-1], TRAILER_KEYS)}
    required |= {f"line {i} (event)": (e, EVENT_KEYS) for i, e in enumerate(events, 2)}
    problems = [f"{where}: missing {', '.join(sorted(set(keys) - item.keys()))}" for where, (item, keys) in required.items() if set(keys) - item.keys()]
    if problems:
        raise ExportFileError(str(path), problems[:10])
    return lines[0], events, lines[-1]


def _field_mismatch(event: dict) -> str | None:
    try:
        rendered = json.loads(event["canonical"])
    except (KeyError, TypeError, ValueError):
        return "the canonical rendering is missing or not JSON"
    shown = [event.get(field) for field in CANONICAL_FIELDS]
    if rendered != shown:
        differing = [f for f, a, b in zip(CANONICAL_FIELDS, rendered, shown, strict=False) if a != b] or ["field count"]
        return f"{', '.join(differing)} differ from the hashed canonical rendering"
    return None


def _summary_mismatch(header: dict, events: list[dict], trailer: dict) -> tuple[int, str] | None:
    """The counts and bounds the header and trailer promise, against the events present."""
    last = events[-1]
    if header["first_seq"] != events[0]["chain_seq"]:
        return header["first_seq"], "the first event of the export is missing"
    if header["last_seq"] != last["chain_seq"] or trailer["last_seq"] != last["chain_seq"]:
        return last["chain_seq"] + 1, "the last event of the export is missing"
    if header["rows"] != len(events):
        return last["chain_seq"], f"the header promises {header['rows']} events, the file holds {len(events)}"
    if trailer["last_hash"] != last["row_hash"]:
        return last["chain_seq"], "row_hash differs from the exported chain head"
    if header["anchor_hash"] != events[0]["prev_hash"]:
        return events[0]["chain_seq"], "prev_hash differs from the header's anchor_hash"
    return None


def verify_export(path: Path, anchor: str | None = None) -> ExportCheck:
    header, events, trailer = _parts(path, _lines(path))
    breaks = []
    mismatch = next(((e["chain_seq"], m) for e in events if (m := _field_mismatch(e))), None)
    for found in (mismatch, first_break(events), _summary_mismatch(header, events, trailer)):
        if found:
            breaks.append(found)
    if anchor and events[0]["prev_hash"] != anchor.lower():
        breaks.append((events[0]["chain_seq"], "prev_hash does not link to the given --anchor (the previous export's last hash)"))
    first = min(breaks) if breaks else (None, "")
    return ExportCheck(
        rows=len(events), month=str(header.get("month")), last_seq=trailer["last_seq"], last_hash=trailer["last_hash"],
        first_broken=first[0], reason=first[1],
    )
