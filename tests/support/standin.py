"""Loopback stand-ins for GitHub's REST API and PagerDuty's REST API v2 (test doubles, not the services).

`GitHubStandIn` and `PagerDutyStandIn` answer requests from lists of raw API
objects with the servers' own paging and filtering semantics:

- GitHub (github/rest-api-description, api.github.com.json): `per_page`/`page`
  with a `Link: <...>; rel="next"` header, `x-ratelimit-*` headers on every
  answer; pulls sorted by `updated_at` (no `since`), issues and issue comments
  filtered by `since` (updated at or after), issues' `labels` meaning "all of",
  the issues endpoint also listing pull requests (they carry `pull_request`),
  deployments filtered by `environment` newest first, statuses newest first, and
  compare returning the commits in (base, head] of a linear history;
- PagerDuty (PagerDuty/api-schema, reference/REST/openapiv3.json): `since`/`until`
  (400 beyond 6 months), `offset`/`limit` (at most 100) with `more`, and 400 when
  offset + limit exceeds 10,000, as classic pagination does.

`LoopbackServer` serves one of them over HTTP on 127.0.0.1 in a thread, can
answer the next requests to a path with scripted faults (a 5xx burst, a 429 or
403 with `Retry-After`, a rate limit with reset headers, a truncated body), and
rewrites absolute `Link` URLs to itself. `RecordingPool` answers in-process and
records every exchange in the `--fixtures` format (infra/metrics/recordings.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from infra.metrics.recordings import exchange_line

GITHUB_BASE = "https://api.github.com"
PAGERDUTY_BASE = "https://api.pagerduty.com"


def _t(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: object
    truncate: bool = False


def _json_answer(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"content-type": "application/json; charset=utf-8", **(headers or {})}, body)


# --- GitHub -------------------------------------------------------------------------------


@dataclass
class GitHubData:
    """Raw REST objects per repository ("owner/name")."""

    pulls: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    pull_commits: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    reviews: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    issue_comments: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    issues: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    deployments: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    history: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # commits, oldest first
    runs: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # (repo, workflow file) -> runs
    jobs: dict[tuple[str, int], list[dict]] = field(default_factory=dict)


class GitHubStandIn:
    base = GITHUB_BASE

    def __init__(self, data: GitHubData) -> None:
        self.data = data

    def _page(self, path: str, query: dict[str, str], items: list, key: str | None = None, extra: dict | None = None) -> Answer:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-used": "1",
                   "x-ratelimit-reset": "1893456000", "x-ratelimit-resource": "core"}
        if page * per_page < len(items):
            following = urlencode({**query, "page": page + 1})
            headers["link"] = f'<{self.base}{path}?{following}>; rel="next", <{self.base}{path}?{urlencode({**query, "page": math.ceil(len(items) / per_page)})}>; rel="last"'
        return _json_answer(200, {**(extra or {}), key: chunk} if key else chunk, headers)

    def answer(self, method: str, path: str, query: dict[str, str]) -> Answer:
        d = self.data
        routes: list[tuple[str, Callable[..., Answer]]] = [
            (r"^/repos/([^/]+/[^/]+)/pulls$", lambda repo: self._page(path, query, self._pulls(repo, query))),
            (r"^/repos/([^/]+/[^/]+)/pulls/(\d+)/commits$", lambda repo, n: self._page(path, query, d.pull_commits.get((repo, int(n)), []))),
            (r"^/repos/([^/]+/[^/]+)/pulls/(\d+)/reviews$", lambda repo, n: self._page(path, query, d.reviews.get((repo, int(n)), []))),
            (r"^/repos/([^/]+/[^/]+)/issues/comments$", lambda repo: self._page(path, query, self._since(d.issue_comments[repo], query, "created_at"))),
            (r"^/repos/([^/]+/[^/]+)/issues$", lambda repo: self._page(path, query, self._issues(repo, query))),
            (r"^/repos/([^/]+/[^/]+)/deployments$", lambda repo: self._page(path, query, [x for x in sorted(d.deployments[repo], key=lambda x: -x["id"]) if query.get("environment") in (None, x["environment"])])),
            (r"^/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses$", lambda repo, i: self._page(path, query, sorted(d.statuses.get((repo, int(i)), []), key=lambda s: -s["id"]))),
            (r"^/repos/([^/]+/[^/]+)/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)$", lambda repo, base, head: self._compare(path, query, repo, base, head)),
            (r"^/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs$", lambda repo, wf: self._page(path, query, sorted(d.runs.get((repo, wf), []), key=lambda r: -r["id"]), "workflow_runs", {"total_count": len(d.runs.get((repo, wf), []))})),
            (r"^/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs$", lambda repo, i: self._page(path, query, d.jobs.get((repo, int(i)), []), "jobs", {"total_count": len(d.jobs.get((repo, int(i)), []))})),
        ]
        for pattern, handler in routes:
            match = re.match(pattern, path)
            if match and method == "GET":
                return handler(*match.groups())
        return _json_answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def _pulls(self, repo: str, query: dict[str, str]) -> list[dict]:
        state = query.get("state", "open")
        pulls = [p for p in self.data.pulls[repo] if state == "all" or p["state"] == state]
        key = query.get("sort", "created")
        return sorted(pulls, key=lambda p: (p[f"{key}_at"], p["number"]), reverse=query.get("direction", "desc") == "desc")

    @staticmethod
    def _since(items: list[dict], query: dict[str, str], order: str) -> list[dict]:
        since = _t(query.get("since"))
        kept = [i for i in items if since is None or _t(i["updated_at"]) >= since]
        return sorted(kept, key=lambda i: (i[order], i["id"]))

    def _issues(self, repo: str, query: dict[str, str]) -> list[dict]:
        state = query.get("state", "open")
        wanted = {label for label in query.get("labels", "").split(",") if label}
        issues = [
            i for i in self._since(self.data.issues[repo], query, "created_at")
            if (state == "all" or i["state"] == state) and wanted <= {label["name"] for label in i["labels"]}
        ]
        return sorted(issues, key=lambda i: i["created_at"], reverse=True)

    def _compare(self, path: str, query: dict[str, str], repo: str, base: str, head: str) -> Answer:
        shas = [c["sha"] for c in self.data.history[repo]]
        if base not in shas or head not in shas:
            return _json_answer(404, {"message": "Not Found"})
        commits = self.data.history[repo][shas.index(base) + 1: shas.index(head) + 1]
        extra = {"status": "ahead" if commits else "identical", "ahead_by": len(commits), "behind_by": 0, "total_commits": len(commits), "files": []}
        return self._page(path, query, commits, "commits", extra)


# --- PagerDuty --------------------------------------------------------------------------------

MAX_RANGE = dt.timedelta(days=183)


@dataclass
class PagerDutyData:
    services: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    log_entries: list[dict] = field(default_factory=list)
    oncalls: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)


class PagerDutyStandIn:
    base = PAGERDUTY_BASE

    def __init__(self, data: PagerDutyData) -> None:
        self.data = data

    def answer(self, method: str, path: str, query: dict[str, str], multi: dict[str, list[str]] | None = None) -> Answer:
        multi = multi or {}
        if method != "GET":
            return _json_answer(405, {"error": {"message": "Method Not Allowed", "code": 2100}})
        if match := re.match(r"^/services/(\w+)$", path):
            found = next((s for s in self.data.services if s["id"] == match.group(1)), None)
            return _json_answer(200, {"service": found}) if found else _json_answer(404, {"error": {"message": "Not Found", "code": 2100}})
        if match := re.match(r"^/users/(\w+)$", path):
            found = next((u for u in self.data.users if u["id"] == match.group(1)), None)
            return _json_answer(200, {"user": found}) if found else _json_answer(404, {"error": {"message": "Not Found", "code": 2100}})
        listing = {
            "/incidents": ("incidents", lambda: [i for i in self.data.incidents if not multi.get("service_ids[]") or i["service"]["id"] in multi["service_ids[]"]], "created_at"),
            "/log_entries": ("log_entries", lambda: self.data.log_entries, "created_at"),
            "/oncalls": ("oncalls", lambda: [o for o in self.data.oncalls if not multi.get("escalation_policy_ids[]") or o["escalation_policy"]["id"] in multi["escalation_policy_ids[]"]], None),
        }.get(path)
        if listing is None:
            return _json_answer(404, {"error": {"message": "Not Found", "code": 2100}})
        key, items, time_key = listing
        since, until = _t(query.get("since")), _t(query.get("until"))
        if since and until and until - since > MAX_RANGE:
            return _json_answer(400, {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["Date range cannot exceed 6 months."]}})
        limit, offset = int(query.get("limit", 25)), int(query.get("offset", 0))
        if limit > 100 or offset + limit > 10_000:
            return _json_answer(400, {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["Offset must be less than 10000."]}})
        selected = items()
        if time_key:
            selected = [i for i in selected if (since is None or _t(i[time_key]) >= since) and (until is None or _t(i[time_key]) < until)]
            selected.sort(key=lambda i: (i[time_key], i["id"]))
        else:  # on-calls overlapping [since, until)
            selected = [o for o in selected if (o["end"] is None or since is None or _t(o["end"]) > since) and (o["start"] is None or until is None or _t(o["start"]) < until)]
        chunk = selected[offset: offset + limit]
        total = len(selected) if query.get("total") == "true" else None  # null unless asked for, as PagerDuty does
        return _json_answer(200, {key: chunk, "limit": limit, "offset": offset, "more": offset + len(chunk) < len(selected), "total": total})


# --- serving -------------------------------------------------------------------------------------


def _query(url: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    multi: dict[str, list[str]] = defaultdict(list)
    for k, v in pairs:
        multi[k].append(v)
    return parts.path, dict(pairs), dict(multi)


def answer(api: GitHubStandIn | PagerDutyStandIn, method: str, url: str) -> Answer:
    path, query, multi = _query(url)
    if isinstance(api, PagerDutyStandIn):
        return api.answer(method, path, query, multi)
    return api.answer(method, path, query)


class LoopbackServer:
    """An API stand-in on http://127.0.0.1:<port>; `faults[path]` answers the next requests to that path first."""

    def __init__(self, api: GitHubStandIn | PagerDutyStandIn) -> None:
        self.api = api
        self.faults: dict[str, list[Answer]] = defaultdict(list)
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer: unbuffered headers then body would wait on delayed ACKs (~40 ms each).
            wbufsize = -1
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                path = urlsplit(self.path).path
                reply = server.faults[path].pop(0) if server.faults.get(path) else answer(server.api, "GET", self.path)
                body = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value.replace(server.api.base, server.base) if name == "link" else value)
                self.send_header("Content-Length", str(len(body)))
                if reply.truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if reply.truncate else body)
                self.wfile.flush()
                if reply.truncate:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    headers: dict[str, str]
    data: bytes


class RecordingPool:
    """Answers in-process from a stand-in and keeps every exchange, to write a `--fixtures` directory."""

    def __init__(self, api: GitHubStandIn | PagerDutyStandIn) -> None:
        self.api = api
        self.exchanges: list[str] = []

    def request(self, method: str, url: str, **_: object) -> RecordedResponse:
        reply = answer(self.api, method, url)
        parts = urlsplit(url)
        self.exchanges.append(exchange_line(
            {"method": method, "path": parts.path, "query": parse_qsl(parts.query, keep_blank_values=True)},
            {"status": reply.status, "headers": reply.headers, "body": reply.body},
        ))
        return RecordedResponse(reply.status, reply.headers, json.dumps(reply.body).encode())

    def jsonl(self) -> str:
        return "".join(self.exchanges)
