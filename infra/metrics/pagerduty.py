"""The PagerDuty REST API v2 collector: services, incidents, log entries, on-calls and responders.

Request shapes follow PagerDuty's API reference (PagerDuty/api-schema,
reference/REST/openapiv3.json): times asked in UTC (`time_zone=UTC`), `since`/`until`
in chunks of at most 6 months, classic offset pagination (`limit` <= 100, `offset`,
`more`), which PagerDuty caps at 10,000 records, so the first page of a chunk asks for
`total` and a chunk over the cap is split in two before it is read. A read-only API key is sent as `Authorization: Token token=`.

Log entries are read rather than an incident's `acknowledgements[]`, which empties
once the incident is resolved. A `notify_log_entry` may come without a `user`
object (real data has such entries): its user is taken from its `agent`, else from
its summary ("Notified Jane Doe by SMS"), and the entry is not malformed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from infra.metrics.github import Malformed, field, time_field
from infra.metrics.http import ApiError, HttpClient, Params
from infra.metrics.records import Incident, LogEntry, OnCallShift, PagerDutyData, Responder, SourceReport
from infra.metrics.timeutil import rfc3339

LIMIT = 100
OFFSET_CAP = 10_000
MAX_CHUNK = dt.timedelta(days=180)  # PagerDuty refuses since/until ranges over 6 months
NOTIFIED = re.compile(r"^Notified (?P<name>.+?) by ", re.IGNORECASE)
STATUSES = ("triggered", "acknowledged", "resolved")


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"}


def chunks(since: dt.datetime, until: dt.datetime, size: dt.timedelta = MAX_CHUNK) -> list[tuple[dt.datetime, dt.datetime]]:
    """[since, until) cut into ranges of at most `size`."""
    out, start = [], since
    while start < until:
        out.append((start, min(start + size, until)))
        start = out[-1][1]
    return out


class PagerDutyCollector:
    def __init__(self, client: HttpClient, now: dt.datetime) -> None:
        self.client = client
        self.now = now
        self.report = SourceReport("pagerduty")

    def offset_pages(self, path: str, key: str, params: Params, since: dt.datetime, until: dt.datetime) -> Iterator[list]:
        """Every page of a since/until listing, in chunks of at most 6 months, splitting a chunk at the offset cap."""
        pending = chunks(since, until)
        while pending:
            start, end = pending.pop(0)
            query = [*params, ("since", rfc3339(start)), ("until", rfc3339(end)), ("time_zone", "UTC"), ("limit", LIMIT)]
            offset, more = 0, True
            while more:
                # The first page asks for `total`, so a chunk over the cap is split before any of it is used.
                body = self.client.get(path, [*query, ("offset", offset), *([("total", "true")] if offset == 0 else [])]).body
                self.report.pages += 1
                items = body.get(key) if isinstance(body, dict) else None
                if not isinstance(items, list) or not isinstance(body.get("more"), bool):
                    raise ApiError(f"GET {path}: expected `{key}` (a list) and `more` (a boolean)")
                if offset == 0 and isinstance(body.get("total"), int) and body["total"] > OFFSET_CAP:
                    if end - start <= dt.timedelta(seconds=1):
                        raise ApiError(f"GET {path}: more than {OFFSET_CAP} records within one second")
                    middle = start + (end - start) / 2
                    pending[:0] = [(start, middle), (middle, end)]
                    break
                if offset + len(items) > OFFSET_CAP:
                    raise ApiError(f"GET {path}: the listing grew past {OFFSET_CAP} records while it was read")
                yield items
                offset += len(items)
                more = body["more"] and bool(items)

    # --- the whole read -----------------------------------------------------------------

    def collect(self, services: dict[str, str], since: dt.datetime, as_of: dt.datetime) -> PagerDutyData:
        """`services`: service id -> team. Everything up to as_of; what happens later is not read."""
        data = PagerDutyData(report=self.report, team_of_service=dict(services))
        self.report.span_start, self.report.span_end = since, as_of
        try:
            policies = self._policies(services)
            self._incidents(list(services), since, as_of, data)
            self._log_entries(since, as_of, data)
            self._oncalls(policies, since, as_of, data)
            self._responders(data)
        except ApiError as exc:
            self.report.errors.append(str(exc))
        self.report.requests = self.client.requests
        return data

    def _policies(self, services: dict[str, str]) -> dict[str, list[str]]:
        """Escalation policy id -> the services read that use it."""
        policies: dict[str, list[str]] = {}
        for service_id in services:
            body = self.client.get(f"/services/{service_id}").body
            try:
                policy = field(body, "service", "escalation_policy", "id")
            except Malformed as exc:
                raise ApiError(f"GET /services/{service_id}: malformed: {exc}") from None
            policies.setdefault(policy, []).append(service_id)
        return policies

    def _incidents(self, services: list[str], since: dt.datetime, as_of: dt.datetime, data: PagerDutyData) -> None:
        params = [*(("service_ids[]", s) for s in services), *(("statuses[]", s) for s in STATUSES)]
        seen: dict[str, Incident] = {}
        for page in self.offset_pages("/incidents", "incidents", params, since, as_of):
            for item in page:
                try:
                    incident = Incident(
                        id=field(item, "id"), title=str(field(item, "title", optional=True) or ""),
                        service_id=field(item, "service", "id"),
                        created_at=time_field(item, "created_at", now=self.now),
                        resolved_at=time_field(item, "resolved_at", optional=True, now=self.now),
                    )
                except Malformed as exc:
                    self.report.skip("incident", f"malformed: {exc}", item.get("id", "?") if isinstance(item, dict) else "?", partial=True)
                    continue
                if incident.id in seen:
                    self.report.skip("incident", "duplicate in the listing, read once", incident.id, partial=False)
                    continue
                seen[incident.id] = incident
        data.incidents.extend(seen.values())
        self.report.read["incidents"] = len(seen)

    def _log_entries(self, since: dt.datetime, as_of: dt.datetime, data: PagerDutyData) -> None:
        wanted = {i.id for i in data.incidents}
        seen: set[str] = set()
        for page in self.offset_pages("/log_entries", "log_entries", [("is_overview", "false")], since, as_of):
            for item in page:
                try:
                    entry = self._entry(item)
                except Malformed as exc:
                    self.report.skip("log entry", f"malformed: {exc}", item.get("id", "?") if isinstance(item, dict) else "?", partial=True)
                    continue
                if entry.incident_id not in wanted:
                    continue  # another service's incident
                if entry.id in seen:
                    self.report.skip("log entry", "duplicate in the listing, read once", entry.id, partial=False)
                    continue
                seen.add(entry.id)
                data.log_entries.append(entry)
        self.report.read["log_entries"] = len(seen)

    def _entry(self, item: dict) -> LogEntry:
        kind = field(item, "type")
        user_id, user_name = None, None
        if kind in ("notify_log_entry", "acknowledge_log_entry"):
            user = item.get("user") if kind == "notify_log_entry" else None
            agent = item.get("agent")
            if isinstance(user, dict) and user.get("id"):
                user_id, user_name = user["id"], user.get("summary")
            elif isinstance(agent, dict) and agent.get("type") in ("user_reference", "user") and agent.get("id"):
                user_id, user_name = agent["id"], agent.get("summary")
            else:
                named = NOTIFIED.match(str(item.get("summary") or ""))
                user_name = named.group("name") if named else None
            if user_id is None and user_name is None:
                raise Malformed(f"{kind} names no user (no user, user agent or summary)")
        return LogEntry(
            id=field(item, "id"), type=kind, incident_id=field(item, "incident", "id"),
            created_at=time_field(item, "created_at", now=self.now), user_id=user_id, user_name=user_name,
        )

    def _oncalls(self, policies: dict[str, list[str]], since: dt.datetime, as_of: dt.datetime, data: PagerDutyData) -> None:
        params = [("escalation_policy_ids[]", p) for p in policies]
        shifts = set()
        for page in self.offset_pages("/oncalls", "oncalls", params, since, as_of):
            for item in page:
                try:
                    user = field(item, "user", "id")
                    policy = field(item, "escalation_policy", "id")
                    # An always-on-call entry has no start or end: it spans the whole range asked for.
                    start = time_field(item, "start", optional=True) or since
                    end = time_field(item, "end", optional=True) or as_of
                except Malformed as exc:
                    self.report.skip("on-call", f"malformed: {exc}", "?", partial=True)
                    continue
                for service in policies.get(policy, []):
                    shifts.add(OnCallShift(user, service, start, end))
        data.shifts.extend(sorted(shifts, key=lambda s: (s.start, s.user_id, s.service_id)))
        self.report.read["oncall_shifts"] = len(shifts)

    def _responders(self, data: PagerDutyData) -> None:
        ids = sorted({e.user_id for e in data.log_entries if e.user_id} | {s.user_id for s in data.shifts})
        for user_id in ids:
            try:
                body = self.client.get(f"/users/{user_id}").body
            except ApiError:
                self.report.note("a responder could not be read; their pages are classed in UTC")
                continue
            user = body.get("user") if isinstance(body, dict) else None
            if not isinstance(user, dict):
                self.report.note("a responder's record is malformed; their pages are classed in UTC")
                continue
            data.responders[user_id] = Responder(user_id, str(user.get("name") or ""), user.get("time_zone"))
        self.report.read["responders"] = len(data.responders)
