"""What the collectors read, as plain records, and the report of what they read and skipped.

Records keep the raw events (every commit time, every review event, every
status) so that the edge rules live in one place, `compute`, and can be tested
on hand-written records. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

# How many offending ids a skipped entry lists (the count is always complete).
EXAMPLES = 10


@dataclass(frozen=True)
class ReviewEvent:
    """A submitted review or a comment on a pull request."""

    at: dt.datetime
    login: str
    is_bot: bool


@dataclass(frozen=True)
class PullRequest:
    repo: str
    number: int
    author: str
    title: str
    head_ref: str
    labels: tuple[str, ...]
    draft: bool
    created_at: dt.datetime
    closed_at: dt.datetime | None
    merged_at: dt.datetime | None
    merge_commit_sha: str | None
    commit_times: tuple[dt.datetime, ...]
    review_events: tuple[ReviewEvent, ...]


@dataclass(frozen=True)
class DeploymentRecord:
    """One GitHub deployment (or one workflow run): its pipeline key and its statuses."""

    repo: str
    id: str
    sha: str
    environment: str
    pipeline: str  # deployments of one workflow run share it; else the deployment's own id
    statuses: tuple[tuple[str, dt.datetime], ...]  # (state, created_at)


@dataclass(frozen=True)
class Issue:
    repo: str
    number: int
    labels: tuple[str, ...]
    created_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    service_id: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True)
class LogEntry:
    id: str
    type: str
    incident_id: str
    created_at: dt.datetime
    user_id: str | None
    user_name: str | None


@dataclass(frozen=True)
class OnCallShift:
    user_id: str
    service_id: str  # a service whose escalation policy the shift belongs to
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Responder:
    id: str
    name: str
    time_zone: str | None


@dataclass
class SourceReport:
    """What one source read (counts, span, pages, requests) and what it skipped, with why."""

    name: str
    span_start: dt.datetime | None = None
    span_end: dt.datetime | None = None
    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pages: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (item kind, reason) -> (partial?, ids)
    _skipped: dict[tuple[str, str], tuple[bool, list[str]]] = field(default_factory=dict)

    def skip(self, item: str, reason: str, item_id: object, partial: bool) -> None:
        """Record a skipped item; `partial` when leaving it out could make a number wrong."""
        _, ids = self._skipped.setdefault((item, reason), (partial, []))
        ids.append(str(item_id))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @property
    def partial_reasons(self) -> list[str]:
        reasons = [f"{self.name}: {error}" for error in self.errors]
        reasons += [
            f"{self.name}: {len(ids)} {item}(s) skipped: {reason}"
            for (item, reason), (partial, ids) in sorted(self._skipped.items())
            if partial
        ]
        return reasons

    def skipped(self) -> list[dict]:
        return [
            {"item": item, "reason": reason, "count": len(ids), "examples": sorted(set(ids))[:EXAMPLES], "partial": partial}
            for (item, reason), (partial, ids) in sorted(self._skipped.items())
        ]

    def to_json(self) -> dict:
        from infra.metrics.timeutil import rfc3339

        return {
            "status": "partial" if self.partial_reasons else "complete",
            "span": {"start": rfc3339(self.span_start), "end": rfc3339(self.span_end)},
            "read": dict(sorted(self.read.items())),
            "pages": self.pages,
            "requests": self.requests,
            "skipped": self.skipped(),
            "notes": sorted(self.notes),
            "errors": list(self.errors),
        }


@dataclass
class GitHubData:
    pulls: list[PullRequest] = field(default_factory=list)
    deployments: list[DeploymentRecord] = field(default_factory=list)
    # (repo, base sha, head sha) -> the SHAs of the commits in (base, head]
    ranges: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    report: SourceReport = field(default_factory=lambda: SourceReport("github"))


@dataclass
class PagerDutyData:
    incidents: list[Incident] = field(default_factory=list)
    log_entries: list[LogEntry] = field(default_factory=list)
    shifts: list[OnCallShift] = field(default_factory=list)
    responders: dict[str, Responder] = field(default_factory=dict)
    team_of_service: dict[str, str] = field(default_factory=dict)
    report: SourceReport = field(default_factory=lambda: SourceReport("pagerduty"))
