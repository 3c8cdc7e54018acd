"""Recorded API responses: the `--fixtures DIR` format, replayed in-process by `Replay`.

DIR holds `manifest.json` (`recorded_at`: when the responses were read, RFC 3339)
and one JSON Lines file per source, `github.jsonl` and `pagerduty.jsonl`, one
exchange per line: `method`, `path`, `query` (a list of [name, value] pairs, order
free), `status`, `headers`, `body`, and optionally `truncate` (the loopback
stand-in cuts the body short; see tests/support/standin.py). The same request
recorded several times is answered in order, the last answer repeating.
Absolute URLs in `Link` headers point wherever they pointed when recorded: only
their path and query are matched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from infra.errors import UsageError
from infra.metrics.timeutil import BadTimestamp, parse_time

SOURCES = ("github", "pagerduty")
Key = tuple[str, str, tuple[tuple[str, str], ...]]


class FixturesError(UsageError):
    """The fixtures directory is missing a file or holds a malformed exchange."""


def request_key(method: str, url: str) -> Key:
    parts = urlsplit(url)
    return method.upper(), parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def exchange_key(exchange: dict) -> Key:
    query = tuple(sorted((str(k), str(v)) for k, v in exchange.get("query", [])))
    return str(exchange.get("method", "GET")).upper(), str(exchange["path"]), query


@dataclass
class Recording:
    """One source's exchanges by request."""

    exchanges: dict[Key, list[dict]] = field(default_factory=lambda: defaultdict(list))
    served: dict[Key, int] = field(default_factory=lambda: defaultdict(int))

    def answer(self, key: Key) -> dict | None:
        answers = self.exchanges.get(key)
        if not answers:
            return None
        index = min(self.served[key], len(answers) - 1)
        self.served[key] += 1
        return answers[index]


def load_recording(path: Path) -> Recording:
    recording = Recording()
    problems = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FixturesError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            exchange = json.loads(line)
            if not isinstance(exchange, dict) or not isinstance(exchange.get("path"), str) or not isinstance(exchange.get("status"), int):
                raise ValueError("an exchange needs `path` (a string) and `status` (an integer)")
            recording.exchanges[exchange_key(exchange)].append(exchange)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        raise FixturesError(str(path), problems)
    return recording


def load_fixtures(directory: Path) -> tuple[dt.datetime | None, dict[str, Recording]]:
    """`recorded_at` (None when the manifest leaves it out) and each source's recording."""
    if not directory.is_dir():
        raise FixturesError(str(directory), ["not a directory of recorded responses"])
    recorded_at = None
    manifest = directory / "manifest.json"
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            recorded_at = parse_time(data["recorded_at"]) if data.get("recorded_at") else None
        except (ValueError, TypeError, BadTimestamp) as exc:
            raise FixturesError(str(manifest), [f"recorded_at: {exc}"]) from None
    missing = [f"{source}.jsonl: missing" for source in SOURCES if not (directory / f"{source}.jsonl").is_file()]
    if missing:
        raise FixturesError(str(directory), missing)
    return recorded_at, {source: load_recording(directory / f"{source}.jsonl") for source in SOURCES}


@dataclass(frozen=True)
class ReplayedResponse:
    status: int
    headers: dict[str, str]
    data: bytes


class Replay:
    """A stand-in for urllib3's PoolManager answering from a recording (offline `--fixtures`)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def request(self, method: str, url: str, **_: object) -> ReplayedResponse:
        exchange = self.recording.answer(request_key(method, url))
        if exchange is None:
            body = {"message": f"no recorded response for {method} {urlsplit(url).path}?{urlsplit(url).query}"}
            return ReplayedResponse(404, {"content-type": "application/json"}, json.dumps(body).encode())
        return ReplayedResponse(exchange["status"], dict(exchange.get("headers", {})), json.dumps(exchange.get("body")).encode())
