"""Recorded API responses: the `--fixtures DIR` format, replayed in-process by `Replay`.

DIR holds `manifest.json` (`recorded_at`: when the responses were read, RFC 3339)
and one JSON Lines file per source, `github.jsonl` and `pagerduty.jsonl`, one
exchange per line: `{"request": {"method", "path", "query"}, "response": {"status",
"headers", "body"}}`, `query` being a list of [name, value] pairs (order free);
a response may also say `truncate` (the loopback stand-in then cuts the body
short; see tests/support/standin.py). The same request recorded several times is
answered in order, the last answer repeating. Absolute URLs in `Link` headers
point wherever they pointed when recorded: only their path and query are matched.

Only the requests are read up front, with the byte offset of their line; a
response is parsed when it is asked for, so a large history costs little memory.
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


def exchange_line(request: dict, response: dict) -> str:
    """One exchange as a line of the format (sorted keys: the request comes first)."""
    return json.dumps({"request": request, "response": response}, sort_keys=True) + "\n"


def _request(line: bytes) -> Key:
    """The key of a line's request, parsing nothing past it."""
    text = line.decode("utf-8")
    start = text.index("{", 1)
    if not text.startswith('{"request": '):
        raise ValueError("an exchange line starts with its request: {\"request\": {...}, \"response\": {...}}")
    request, _ = _DECODER.raw_decode(text, start)
    if not isinstance(request, dict) or not isinstance(request.get("path"), str):
        raise ValueError("the request needs `path` (a string)")
    query = tuple(sorted((str(k), str(v)) for k, v in request.get("query", [])))
    return str(request.get("method", "GET")).upper(), request["path"], query


_DECODER = json.JSONDecoder()


@dataclass
class Recording:
    """One source's exchanges: the requests with the offsets of their lines in the file."""

    path: Path
    offsets: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(list))
    served: dict[Key, int] = field(default_factory=lambda: defaultdict(int))

    def answer(self, key: Key) -> dict | None:
        offsets = self.offsets.get(key)
        if not offsets:
            return None
        index = min(self.served[key], len(offsets) - 1)
        self.served[key] += 1
        with self.path.open("rb") as handle:
            handle.seek(offsets[index])
            response = json.loads(handle.readline())["response"]
        if not isinstance(response, dict) or not isinstance(response.get("status"), int):
            raise FixturesError(str(self.path), [f"the response to {key[0]} {key[1]} needs `status` (an integer)"])
        return response


def load_recording(path: Path) -> Recording:
    recording = Recording(path)
    problems = []
    try:
        with path.open("rb") as handle:
            offset = 0
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        recording.offsets[_request(line)].append(offset)
                    except ValueError as exc:
                        problems.append(f"line {number}: {exc}")
                offset += len(line)
    except OSError as exc:
        raise FixturesError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
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
    """What urllib3 would return, with the body already parsed (`parsed`), so it is not encoded just to be decoded."""

    status: int
    headers: dict[str, str]
    parsed: object

    @property
    def data(self) -> bytes:
        return json.dumps(self.parsed).encode()


class Replay:
    """A stand-in for urllib3's PoolManager answering from a recording (offline `--fixtures`)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def request(self, method: str, url: str, **_: object) -> ReplayedResponse:
        response = self.recording.answer(request_key(method, url))
        if response is None:
            body = {"message": f"no recorded response for {method} {urlsplit(url).path}?{urlsplit(url).query}"}
            return ReplayedResponse(404, {"content-type": "application/json"}, body)
        return ReplayedResponse(response["status"], dict(response.get("headers", {})), response.get("body"))
