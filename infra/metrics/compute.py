"""The metrics: records and the catalogue in, per-item rows and per-window aggregates out.

Pure: no I/O, no clock. Every edge rule of infra/model/metrics.yaml is applied
here, in one place, and tests/metrics/test_compute.py checks each on
hand-computed records. Events after `as_of` are treated as not having happened,
so a back-filled snapshot sees what was known then.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from infra.metrics import stats
from infra.metrics.records import DeploymentRecord, GitHubData, PagerDutyData, PullRequest, SourceReport
from infra.metrics.timeutil import HOUR_CLASSES, UTC, Window, hour_class, is_negative, rfc3339, span_minutes, windows, zone
from infra.model.metrics import MetricsCatalogue

NO_TEAM = "unassigned"


@dataclass(frozen=True)
class Deployment:
    """A successful production deployment: one pipeline, timed by its last job's first success."""

    repo: str
    id: str
    member_ids: tuple[str, ...]
    pipeline: str
    sha: str
    finished_at: dt.datetime
    previous: Deployment | None = None


@dataclass
class PrRow:
    pr: PullRequest
    first_commit_at: dt.datetime | None
    first_review_at: dt.datetime | None
    merged_at: dt.datetime | None
    deployment: Deployment | None
    shipped_by_first: bool
    coding: int | None
    pickup: int | None
    review: int | None
    deploy: int | None
    lead_time: int | None


@dataclass
class IncidentRow:
    id: str
    team: str
    created_at: dt.datetime
    deployment: Deployment | None
    acked_at: dt.datetime | None
    resolved_at: dt.datetime | None
    ack: int | None
    recovery: int | None
    pages: list[dict] = field(default_factory=list)
    acked_by: tuple[str, ...] = ()


@dataclass
class Result:
    items: list[dict]
    metrics: dict[str, dict]


# --- GitHub: deployments and pull requests --------------------------------------


def successful_deployments(records: Iterable[DeploymentRecord], environment: str, as_of: dt.datetime) -> list[Deployment]:
    """Group jobs of one pipeline; keep pipelines with a `success` status by as_of; timed by the last job's success."""
    groups: dict[tuple[str, str], list[tuple[DeploymentRecord, dt.datetime]]] = defaultdict(list)
    for record in records:
        if record.environment != environment:
            continue  # non-production deployments get no items
        successes = [at for state, at in record.statuses if state == "success" and at <= as_of]
        if successes:
            groups[(record.repo, record.pipeline)].append((record, min(successes)))
    deployments = []
    for (repo, pipeline), members in groups.items():
        last, finished = max(members, key=lambda m: (m[1], m[0].id))
        ids = tuple(sorted((m.id for m, _ in members), key=_id_order))
        deployments.append(Deployment(repo, ids[0], ids, pipeline, last.sha, finished))
    deployments.sort(key=lambda d: (d.finished_at, d.repo, _id_order(d.id)))
    latest: dict[str, Deployment] = {}
    linked = []
    for deployment in deployments:
        with_previous = Deployment(**{**deployment.__dict__, "previous": latest.get(deployment.repo)})
        latest[deployment.repo] = with_previous
        linked.append(with_previous)
    return linked


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def shipping_map(deployments: list[Deployment], data: GitHubData) -> dict[tuple[str, str], Deployment]:
    """(repo, merge commit) -> the first deployment whose range (previous SHA, own SHA] holds it."""
    shipped: dict[tuple[str, str], Deployment] = {}
    for deployment in deployments:
        if deployment.previous is None:
            continue
        commits = data.ranges.get((deployment.repo, deployment.previous.sha, deployment.sha))
        if commits is None:
            data.report.skip("deployment", "its commit range (compare) was not read", deployment.id, partial=True)
            continue
        for sha in commits:
            shipped.setdefault((deployment.repo, sha), deployment)
    return shipped


def first_review(pr: PullRequest, as_of: dt.datetime) -> dt.datetime | None:
    """The earliest review or comment by someone other than the author, bots excluded."""
    times = [e.at for e in pr.review_events if e.login != pr.author and not e.is_bot and e.at <= as_of]
    return min(times, default=None)


def _span(report: SourceReport, item: str, item_id: str, part: str, start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if is_negative(start, end):
        report.skip(item, f"{part}: end before start, so the span is null", item_id, partial=False)
    return span_minutes(start, end)


def pr_rows(data: GitHubData, deployments: list[Deployment], as_of: dt.datetime) -> list[PrRow]:
    shipped = shipping_map(deployments, data)
    first_of_repo: dict[str, Deployment] = {}
    for d in deployments:
        first_of_repo.setdefault(d.repo, d)
    rows = []
    for pr in data.pulls:
        if pr.created_at > as_of:
            continue
        pid = f"{pr.repo}#{pr.number}"
        report = data.report
        first_commit = min(pr.commit_times, default=None)
        if first_commit is None:
            report.skip("pull request", "has no commits, so no coding or lead time", pid, partial=False)
        reviewed = first_review(pr, as_of)
        merged = pr.merged_at if pr.merged_at is not None and pr.merged_at <= as_of else None
        deployment = shipped.get((pr.repo, pr.merge_commit_sha or "")) if merged else None
        first = first_of_repo.get(pr.repo)
        by_first = bool(merged and deployment is None and first is not None and merged < first.finished_at)
        if by_first:
            report.skip("pull request", "shipped by its repository's first deployment, so no deploy or lead time", pid, partial=False)
        finish = deployment.finished_at if deployment else None
        rows.append(PrRow(
            pr=pr, first_commit_at=first_commit, first_review_at=reviewed, merged_at=merged,
            deployment=deployment, shipped_by_first=by_first,
            coding=_span(report, "pull request", pid, "coding", first_commit, pr.created_at),
            pickup=_span(report, "pull request", pid, "pickup", pr.created_at, reviewed),
            review=_span(report, "pull request", pid, "review", reviewed, merged),
            deploy=_span(report, "pull request", pid, "deploy", merged, finish),
            lead_time=_span(report, "pull request", pid, "lead time", first_commit, finish),
        ))
    return rows


def is_revert(pr: PullRequest, catalogue: MetricsCatalogue) -> bool:
    return re.search(catalogue.sources.github.revert_title_pattern, pr.title) is not None


def is_hotfix(pr: PullRequest, catalogue: MetricsCatalogue) -> bool:
    gh = catalogue.sources.github
    return pr.head_ref.startswith(tuple(gh.hotfix_branch_prefixes)) or bool(set(pr.labels) & set(gh.hotfix_labels))


# --- PagerDuty: incidents, pages, on-call ----------------------------------------


def attribute(incident_title: str, created: dt.datetime, deployments: list[Deployment], pattern: str) -> tuple[Deployment | None, str | None]:
    """The incident's deployment: the one its title names, else the latest that finished before it was created.

    `deployments` are sorted by finish time (as `successful_deployments` returns them).
    """
    named = re.search(pattern, incident_title)
    if named:
        wanted = named.group("id")
        match = next((d for d in deployments if wanted in d.member_ids or wanted == d.pipeline), None)
        return (match, None) if match else (None, f"names deployment {wanted}, which is not a successful production deployment")
    before = bisect.bisect_left(deployments, created, key=lambda d: d.finished_at)  # those finished strictly before
    return (deployments[before - 1], None) if before else (None, "no successful production deployment finished before it")


def incident_rows(data: PagerDutyData, deployments: list[Deployment], catalogue: MetricsCatalogue, as_of: dt.datetime) -> tuple[list[IncidentRow], dict[str, str]]:
    """Rows for incidents created by as_of, and the unattributed ones with why."""
    entries = defaultdict(list)
    for entry in data.log_entries:
        if entry.created_at <= as_of:
            entries[entry.incident_id].append(entry)
    rows, unattributed = [], {}
    for incident in data.incidents:
        if incident.created_at > as_of:
            continue
        own = sorted(entries[incident.id], key=lambda e: (e.created_at, e.id))
        acks = [e for e in own if e.type == "acknowledge_log_entry"]
        resolves = [e for e in own if e.type == "resolve_log_entry"]
        resolved = resolves[0].created_at if resolves else incident.resolved_at
        resolved = resolved if resolved is not None and resolved <= as_of else None
        deployment, why = attribute(incident.title, incident.created_at, deployments, catalogue.sources.pagerduty.explicit_deployment_pattern)
        if why:
            unattributed[incident.id] = why
        acked = acks[0].created_at if acks else None
        report = data.report
        rows.append(IncidentRow(
            id=incident.id, team=data.team_of_service.get(incident.service_id, NO_TEAM), created_at=incident.created_at,
            deployment=deployment, acked_at=acked, resolved_at=resolved,
            ack=_span(report, "incident", incident.id, "time to acknowledge", incident.created_at, acked),
            recovery=_span(report, "incident", incident.id, "recovery", incident.created_at, resolved),
            pages=[_page(e, data, catalogue) for e in own if e.type == "notify_log_entry"],
            acked_by=tuple(sorted({e.user_id or e.user_name or "" for e in acks} - {""})),
        ))
    return rows, unattributed


def _page(entry, data: PagerDutyData, catalogue: MetricsCatalogue) -> dict:
    responder = data.responders.get(entry.user_id or "") or next(
        (r for r in data.responders.values() if r.name == entry.user_name), None
    )
    tz = zone(responder.time_zone) if responder else None
    if tz is None:  # the note names the zone, never the person
        found = responder.time_zone if responder else None
        data.report.note(f"time zone {found!r} is unknown; pages to responders in it are classed in UTC")
    user = entry.user_id or (responder.id if responder else None) or entry.user_name
    return {"user": user, "at": entry.created_at, "hour_class": hour_class(entry.created_at, tz or UTC, catalogue.hour_classes)}


def oncall_minutes(data: PagerDutyData, window: Window, as_of: dt.datetime) -> dict[str, dict[str, int]]:
    """team -> responder -> minutes on call in the window (overlapping shifts once), clipped to as_of."""
    intervals: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    end_limit = min(window.end, as_of)
    for shift in data.shifts:
        start, end = max(shift.start, window.start), min(shift.end, end_limit)
        if start < end:
            intervals[(data.team_of_service.get(shift.service_id, NO_TEAM), shift.user_id)].append((start, end))
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for (team, user), spans in intervals.items():
        total, cursor = dt.timedelta(), None
        for start, end in sorted(spans):
            if cursor is not None and start < cursor:
                start = cursor
            if end > start:
                total += end - start
            cursor = max(cursor or end, end)
        result[team][user] = math.ceil(total.total_seconds() / 60)
    return result


# --- aggregates ----------------------------------------------------------------------


def _entry(value=None, n=0, median=None, p90=None, open_count=None, details=None) -> dict:
    return {"value": value, "n": n, "median": median, "p90": p90, "open_count": open_count, "details": details or {}}


def durations(values: list[int | None], open_count: int | None) -> dict:
    present = [v for v in values if v is not None]
    mid = stats.median(present)
    return _entry(mid, len(present), mid, stats.p90(present), open_count)


def per_week(times: list[dt.datetime], window: Window, key: Callable[[dt.datetime], object] = lambda t: t) -> dict:
    """A rate per week: distinct keys of the window's times x 7 / days, with a Monday-week breakdown."""
    inside = [t for t in times if window.contains(t)]
    count = len({key(t) for t in inside})
    weeks = []
    for monday, days in window.weeks():
        week = [t for t in inside if monday <= t.date() < monday + dt.timedelta(days=7)]
        weeks.append({"week_start": monday.isoformat(), "days_in_window": days, "count": len({key(t) for t in week})})
    return _entry(stats.rounded(count * 7 / window.days), count, details={"by_week": weeks})


def ratio(numerator: int, denominator: int, **details: object) -> dict:
    return _entry(stats.ratio(numerator, denominator), denominator, details={"numerator": numerator, "denominator": denominator, **details})


def team_median_max(per_team: dict[str, dict[str, int]]) -> dict:
    by_team = {
        team: {"median": stats.median(list(values.values())), "max": max(values.values()), "n": len(values)}
        for team, values in sorted(per_team.items())
        if values
    }
    return _entry(None, sum(t["n"] for t in by_team.values()), details={"by_team": by_team})


def compute(catalogue: MetricsCatalogue, github: GitHubData, pagerduty: PagerDutyData, as_of: dt.datetime) -> Result:
    gh = catalogue.sources.github
    deployments = successful_deployments(github.deployments, gh.production_environment, as_of)
    prs = pr_rows(github, deployments, as_of)
    incidents, unattributed = incident_rows(pagerduty, deployments, catalogue, as_of)
    by_deployment: dict[str, list[str]] = defaultdict(list)
    for row in incidents:
        if row.deployment:
            by_deployment[row.deployment.id].append(row.id)
    shipped_prs: dict[str, list[PullRequest]] = defaultdict(list)
    for row in prs:
        if row.deployment:
            shipped_prs[row.deployment.id].append(row.pr)
    bugs = [i for i in github.issues if set(i.labels) & set(gh.bug_labels) and i.created_at <= as_of]
    metrics: dict[str, dict] = {name: {} for name in catalogue.metric_by_name}
    for window in windows(as_of):
        for name, entry in _window_metrics(catalogue, window, as_of, deployments, prs, incidents, unattributed,
                                           by_deployment, shipped_prs, bugs, pagerduty).items():
            metrics[name][window.name] = entry
    return Result(_items(prs, deployments, incidents, by_deployment), metrics)


def _window_metrics(catalogue, window, as_of, deployments, prs, incidents, unattributed, by_deployment, shipped_prs, bugs, pagerduty) -> dict[str, dict]:
    in_window = [d for d in deployments if window.contains(d.finished_at)]
    finishes = [d.finished_at for d in in_window]
    merged = [r for r in prs if window.contains(r.merged_at)]
    started = [r for r in prs if window.contains(r.pr.created_at)]
    failed = [d for d in in_window if by_deployment.get(d.id)]
    reworked = [d for d in in_window if any(is_revert(p, catalogue) or is_hotfix(p, catalogue) for p in shipped_prs.get(d.id, []))]
    attributed = [i for i in incidents if i.deployment is not None]
    window_unattributed = sorted(i.id for i in incidents if i.id in unattributed and window.contains(i.created_at))
    pages = [(i.team, p) for i in incidents for p in i.pages if window.contains(p["at"])]
    by_team = {t: dict.fromkeys(HOUR_CLASSES, 0) for t in sorted({t for t, _ in pages})}
    for team, page in pages:
        by_team[team][page["hour_class"]] += 1
    oncall = oncall_minutes(pagerduty, window, as_of)
    acked: dict[str, dict[str, int]] = {team: dict.fromkeys(users, 0) for team, users in oncall.items()}
    for row in incidents:
        if window.contains(row.acked_at):
            for user in row.acked_by:
                acked.setdefault(row.team, {}).setdefault(user, 0)
                acked[row.team][user] += 1
    return {
        "deployment_frequency": per_week(finishes, window),
        "deploy_days": per_week(finishes, window, key=lambda t: t.date()),
        "lead_time": durations([r.lead_time for r in prs if r.deployment and window.contains(r.deployment.finished_at)],
                               sum(1 for r in prs if window.contains(r.merged_at) and r.deployment is None and not r.shipped_by_first)),
        "coding_time": durations([r.coding for r in prs if window.contains(r.pr.created_at)], None),
        "pickup_time": durations([r.pickup for r in prs if window.contains(r.first_review_at)],
                                 sum(1 for r in started if r.first_review_at is None and r.merged_at is None and _open(r.pr, as_of))),
        "review_time": durations([r.review for r in merged], sum(1 for r in prs if window.contains(r.first_review_at) and r.merged_at is None and _open(r.pr, as_of))),
        "deploy_time": durations([r.deploy for r in prs if r.deployment and window.contains(r.deployment.finished_at)],
                                 sum(1 for r in merged if r.deployment is None and not r.shipped_by_first)),
        "throughput": per_week([r.merged_at for r in merged], window),
        "wip": _count(sum(1 for r in prs if _open(r.pr, as_of) and not r.pr.draft)),
        "change_failure_rate": ratio(len(failed), len(in_window), unattributed_incidents=window_unattributed),
        "recovery_time": durations([i.recovery for i in attributed if window.contains(i.resolved_at)],
                                   sum(1 for i in attributed if window.contains(i.created_at) and i.resolved_at is None)),
        "rework_rate": ratio(len(reworked), len(in_window)),
        "revert_rate": ratio(sum(1 for r in merged if is_revert(r.pr, catalogue)), len(merged)),
        "bugs_opened": _count(sum(1 for b in bugs if window.contains(b.created_at))),
        "bugs_closed": _count(sum(1 for b in bugs if window.contains(b.closed_at))),
        "bug_age": durations([span_minutes(b.created_at, b.closed_at) for b in bugs if window.contains(b.closed_at)],
                             sum(1 for b in bugs if window.contains(b.created_at) and (b.closed_at is None or b.closed_at > as_of))),
        "pages_by_hour_class": _entry(len(pages), len(pages), details={"by_team": by_team}),
        "after_hours_share": ratio(sum(1 for _, p in pages if p["hour_class"] != "business"), len(pages)),
        "mtta": durations([i.ack for i in incidents if window.contains(i.acked_at)],
                          sum(1 for i in incidents if window.contains(i.created_at) and i.acked_at is None and i.resolved_at is None)),
        "oncall_time": team_median_max(oncall),
        "incidents_acknowledged": team_median_max(acked),
    }


def _open(pr: PullRequest, as_of: dt.datetime) -> bool:
    return pr.created_at <= as_of and (pr.closed_at is None or pr.closed_at > as_of)


def _count(count: int) -> dict:
    return _entry(count, count)


def _items(prs: list[PrRow], deployments: list[Deployment], incidents: list[IncidentRow], by_deployment: dict[str, list[str]]) -> list[dict]:
    """Per-item rows (`--items`): every aggregate traces to these. Keys are never absent; undefined is null."""
    items = [
        {
            "kind": "pr", "repo": r.pr.repo, "number": r.pr.number,
            "coding_minutes": r.coding, "pickup_minutes": r.pickup, "review_minutes": r.review,
            "deploy_minutes": r.deploy, "lead_time_minutes": r.lead_time,
            "created_at": rfc3339(r.pr.created_at), "first_commit_at": rfc3339(r.first_commit_at),
            "first_review_at": rfc3339(r.first_review_at), "merged_at": rfc3339(r.merged_at),
            "deployment_id": r.deployment.id if r.deployment else None,
        }
        for r in sorted(prs, key=lambda r: (r.pr.repo, r.pr.number))
    ]
    items += [
        {
            "kind": "deployment", "repo": d.repo, "id": d.id, "finished_at": rfc3339(d.finished_at),
            "incident_ids": sorted(by_deployment.get(d.id, [])), "sha": d.sha,
            "previous_id": d.previous.id if d.previous else None, "member_ids": list(d.member_ids),
        }
        for d in deployments
    ]
    items += [
        {
            "kind": "incident", "id": i.id, "deployment_id": i.deployment.id if i.deployment else None,
            "recovery_minutes": i.recovery, "ack_minutes": i.ack, "team": i.team,
            "created_at": rfc3339(i.created_at),
            "pages": [{"user": p["user"], "at": rfc3339(p["at"]), "hour_class": p["hour_class"]} for p in sorted(i.pages, key=lambda p: (p["at"], p["user"] or ""))],
        }
        for i in sorted(incidents, key=lambda i: (i.created_at, i.id))
    ]
    return items
