"""The GitHub REST collector: pull requests, their commits, reviews and comments, bug issues,
production deployments with their statuses (or a deploy workflow's runs and jobs), and
the commit ranges between consecutive deployments (the compare endpoint).

Request shapes follow GitHub's REST OpenAPI description (github/rest-api-description):
`Link` pagination with `per_page=100`; pulls have no `since`, so paging stops once
`updated_at` falls before the read window; a read-only token (fine-grained or a
GitHub App installation) is sent as `Authorization: Bearer`. A malformed item is
skipped and makes the snapshot partial; a request that fails after its retries
stops that repository's part and makes it partial too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from infra.metrics.compute import successful_deployments
from infra.metrics.http import ApiError, HttpClient, Params
from infra.metrics.records import DeploymentRecord, GitHubData, Issue, PullRequest, ReviewEvent, SourceReport
from infra.metrics.timeutil import BadTimestamp, parse_time

API_VERSION = "2022-11-28"
PER_PAGE = 100
RUN_URL = re.compile(r"/actions/runs/(\d+)")
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
# Clocks differ a little; a timestamp this far past the reading time is "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)


class Malformed(ValueError):
    """An API item lacks a field or has one of the wrong type."""


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


def field(item: object, *path: str, optional: bool = False) -> object:
    node = item
    for key in path:
        if not isinstance(node, dict) or (key not in node and not optional):
            raise Malformed(".".join(path))
        node = node.get(key)
    if node is None and not optional:
        raise Malformed(".".join(path))
    return node


def time_field(item: object, *path: str, optional: bool = False, now: dt.datetime | None = None) -> dt.datetime | None:
    value = field(item, *path, optional=optional)
    if value is None:
        return None
    try:
        moment = parse_time(value)
    except BadTimestamp:
        raise Malformed(".".join(path)) from None
    if now is not None and moment > now + CLOCK_SKEW:
        raise Malformed(f"{'.'.join(path)} is in the future ({value})")
    return moment


class GitHubCollector:
    def __init__(self, client: HttpClient, now: dt.datetime) -> None:
        self.client = client
        self.now = now
        self.report = SourceReport("github")

    # --- paging -----------------------------------------------------------------

    def pages(self, path: str, params: Params, key: str | None = None) -> Iterator[list]:
        """Each page's items, following `Link: rel="next"` until there is none."""
        url, query = path, [*params, ("per_page", PER_PAGE)]
        while url:
            response = self.client.get(url, query)
            self.report.pages += 1
            items = response.body.get(key) if key and isinstance(response.body, dict) else response.body
            if not isinstance(items, list):
                raise ApiError(f"GET {response.url}: expected a list{f' under {key!r}' if key else ''}")
            yield items
            match = NEXT_LINK.search(response.headers.get("link", ""))
            url, query = (match.group(1), ()) if match else (None, ())

    def items(self, path: str, params: Params = (), key: str | None = None) -> Iterator[object]:
        for page in self.pages(path, params, key):
            yield from page

    # --- the whole read ---------------------------------------------------------------

    def collect(self, repos: tuple[str, ...], read_start: dt.datetime, as_of: dt.datetime, environment: str,
                deploy_source: str, bug_labels: tuple[str, ...]) -> GitHubData:
        data = GitHubData(report=self.report)
        self.report.span_start, self.report.span_end = read_start, as_of
        for repo in repos:
            for part, read in (
                ("pull requests", lambda r=repo: self._pulls(r, read_start, data)),
                ("deployments", lambda r=repo: self._deployments(r, read_start, environment, deploy_source, data)),
                ("bug issues", lambda r=repo: self._bugs(r, read_start, bug_labels, data)),
            ):
                try:
                    read()
                except ApiError as exc:
                    self.report.errors.append(f"{repo} {part}: {exc}")
        self.report.requests = self.client.requests
        return data

    # --- pull requests --------------------------------------------------------------------

    def _pulls(self, repo: str, read_start: dt.datetime, data: GitHubData) -> None:
        raw: dict[int, dict] = {}
        for page in self.pages(f"/repos/{repo}/pulls", [("state", "all"), ("sort", "updated"), ("direction", "desc")]):
            self._keep(raw, page, "pull request", repo)
            if page and _updated(page[-1]) is not None and _updated(page[-1]) < read_start:
                break  # no `since` on pulls: everything further was last updated before the window
        for page in self.pages(f"/repos/{repo}/pulls", [("state", "open")]):
            self._keep(raw, page, "pull request", repo, duplicates_expected=True)
        comments = self._comments(repo, read_start)
        for number, item in sorted(raw.items()):
            if item.get("state") != "open" and (_updated(item) or read_start) < read_start:
                continue  # closed and untouched since before the read window: no event of it can count
            try:
                pr = self._pull(repo, item, comments.get(number, []))
            except Malformed as exc:
                self.report.skip("pull request", f"malformed: {exc}", f"{repo}#{number}", partial=True)
                continue
            data.pulls.append(pr)
            self.report.read["pull_requests"] += 1

    def _keep(self, kept: dict[int, dict], page: list, kind: str, repo: str, duplicates_expected: bool = False) -> None:
        for item in page:
            number = item.get("number") if isinstance(item, dict) else None
            if not isinstance(number, int):
                self.report.skip(kind, "malformed: number", f"{repo}#?", partial=True)
            elif number in kept and not duplicates_expected:
                # Pages shift while items are updated; the same item twice is read once.
                self.report.skip(kind, "duplicate in the listing, read once", f"{repo}#{number}", partial=False)
            elif number not in kept:
                kept[number] = item

    def _pull(self, repo: str, item: dict, comments: list[ReviewEvent]) -> PullRequest:
        number = field(item, "number")
        commits = [time_field(c, "commit", "author", "date", now=self.now) for c in self.items(f"/repos/{repo}/pulls/{number}/commits")]
        reviews = [
            ReviewEvent(time_field(r, "submitted_at", now=self.now), field(r, "user", "login"), field(r, "user", "type") == "Bot")
            for r in self.items(f"/repos/{repo}/pulls/{number}/reviews")
            if r.get("state") != "PENDING"  # a pending review is not submitted and has no submitted_at
        ]
        return PullRequest(
            repo=repo,
            number=number,
            author=field(item, "user", "login"),
            title=field(item, "title"),
            head_ref=field(item, "head", "ref"),
            labels=tuple(field(label, "name") for label in field(item, "labels")),
            draft=bool(field(item, "draft", optional=True)),
            created_at=time_field(item, "created_at", now=self.now),
            closed_at=time_field(item, "closed_at", optional=True, now=self.now),
            merged_at=time_field(item, "merged_at", optional=True, now=self.now),
            merge_commit_sha=field(item, "merge_commit_sha", optional=True),
            commit_times=tuple(commits),
            review_events=tuple(reviews + comments),
        )

    def _comments(self, repo: str, read_start: dt.datetime) -> dict[int, list[ReviewEvent]]:
        """Conversation comments of the repository's issues and pull requests, by number (one listing, not one per PR)."""
        found: dict[int, list[ReviewEvent]] = {}
        seen: set[int] = set()
        params = [("since", read_start.strftime("%Y-%m-%dT%H:%M:%SZ")), ("sort", "created"), ("direction", "asc")]
        for comment in self.items(f"/repos/{repo}/issues/comments", params):
            try:
                cid = field(comment, "id")
                number = int(str(field(comment, "issue_url")).rstrip("/").rsplit("/", 1)[1])
                event = ReviewEvent(time_field(comment, "created_at", now=self.now), field(comment, "user", "login"),
                                    field(comment, "user", "type") == "Bot")
            except (Malformed, ValueError) as exc:
                self.report.skip("comment", f"malformed: {exc}", comment.get("id", "?") if isinstance(comment, dict) else "?", partial=True)
                continue
            if cid in seen:
                self.report.skip("comment", "duplicate in the listing, read once", cid, partial=False)
                continue
            seen.add(cid)
            found.setdefault(number, []).append(event)
            self.report.read["comments"] += 1
        return found

    # --- bugs ------------------------------------------------------------------------------------

    def _bugs(self, repo: str, read_start: dt.datetime, labels: tuple[str, ...], data: GitHubData) -> None:
        raw: dict[int, dict] = {}
        since = read_start.strftime("%Y-%m-%dT%H:%M:%SZ")
        for label in labels:  # `labels=a,b` means both; one listing per label means either
            for params in ([("state", "all"), ("labels", label), ("since", since)], [("state", "open"), ("labels", label)]):
                for page in self.pages(f"/repos/{repo}/issues", params):
                    self._keep(raw, page, "issue", repo, duplicates_expected=True)
        for number, item in sorted(raw.items()):
            if "pull_request" in item:
                self.report.skip("issue", "is a pull request (the issues endpoint lists both), not an issue", f"{repo}#{number}", partial=False)
                continue
            try:
                data.issues.append(Issue(
                    repo=repo, number=number,
                    labels=tuple(field(label, "name") for label in field(item, "labels")),
                    created_at=time_field(item, "created_at", now=self.now),
                    closed_at=time_field(item, "closed_at", optional=True, now=self.now),
                ))
                self.report.read["issues"] += 1
            except Malformed as exc:
                self.report.skip("issue", f"malformed: {exc}", f"{repo}#{number}", partial=True)

    # --- deployments ---------------------------------------------------------------------------------

    def _deployments(self, repo: str, read_start: dt.datetime, environment: str, source: str, data: GitHubData) -> None:
        records = (
            self._workflow_runs(repo, source.removeprefix("workflow:"), read_start, environment)
            if source.startswith("workflow:")
            else self._github_deployments(repo, read_start, environment)
        )
        data.deployments.extend(records)
        self.report.read["deployments"] += len(records)
        ordered = successful_deployments(records, environment, self.now)
        for deployment in ordered:
            previous = deployment.previous
            if previous is None or deployment.finished_at < read_start:
                continue
            key = (repo, previous.sha, deployment.sha)
            if key not in data.ranges:
                shas = [field(c, "sha") for c in self.items(f"/repos/{repo}/compare/{previous.sha}...{deployment.sha}", (), "commits")]
                data.ranges[key] = frozenset(shas)
                self.report.read["compared_commits"] += len(shas)

    def _github_deployments(self, repo: str, read_start: dt.datetime, environment: str) -> list[DeploymentRecord]:
        """Newest first, until past the read window and one successful deployment before it (the predecessor)."""
        records: list[DeploymentRecord] = []
        seen: set[str] = set()
        predecessor = False
        for page in self.pages(f"/repos/{repo}/deployments", [("environment", environment)]):
            for item in page:
                try:
                    record = self._deployment(repo, item)
                except Malformed as exc:
                    self.report.skip("deployment", f"malformed: {exc}", item.get("id", "?") if isinstance(item, dict) else "?", partial=True)
                    continue
                if record.id in seen:
                    self.report.skip("deployment", "duplicate in the listing, read once", record.id, partial=False)
                    continue
                seen.add(record.id)
                records.append(record)
                created = time_field(item, "created_at")
                if created < read_start and any(state == "success" for state, _ in record.statuses):
                    predecessor = True
            if predecessor:
                break
        return records

    def _deployment(self, repo: str, item: dict) -> DeploymentRecord:
        deployment_id = str(field(item, "id"))
        statuses, pipeline = [], None
        for status in self.items(f"/repos/{repo}/deployments/{deployment_id}/statuses"):
            statuses.append((field(status, "state"), time_field(status, "created_at", now=self.now)))
            link = f"{status.get('log_url') or ''} {status.get('target_url') or ''}"
            run = RUN_URL.search(link)
            pipeline = pipeline or (f"run-{run.group(1)}" if run else None)
        return DeploymentRecord(
            repo=repo, id=deployment_id, sha=field(item, "sha"), environment=field(item, "environment"),
            pipeline=pipeline or deployment_id, statuses=tuple(statuses),
        )

    def _workflow_runs(self, repo: str, workflow: str, read_start: dt.datetime, environment: str) -> list[DeploymentRecord]:
        """One deployment per run of the deploy workflow; a successful run finished when its last job completed."""
        records: list[DeploymentRecord] = []
        predecessor = False
        for page in self.pages(f"/repos/{repo}/actions/workflows/{workflow}/runs", (), "workflow_runs"):
            for run in page:
                try:
                    run_id = str(field(run, "id"))
                    if run.get("status") != "completed":
                        continue
                    if run.get("conclusion") == "success":
                        jobs = list(self.items(f"/repos/{repo}/actions/runs/{run_id}/jobs", (), "jobs"))
                        finished = max(time_field(j, "completed_at", now=self.now) for j in jobs) if jobs else time_field(run, "updated_at", now=self.now)
                        statuses = (("success", finished),)
                    else:
                        statuses = ((str(run.get("conclusion")), time_field(run, "updated_at", now=self.now)),)
                    records.append(DeploymentRecord(repo, run_id, field(run, "head_sha"), environment, f"run-{run_id}", statuses))
                    if time_field(run, "created_at") < read_start and statuses[0][0] == "success":
                        predecessor = True
                except Malformed as exc:
                    self.report.skip("workflow run", f"malformed: {exc}", run.get("id", "?") if isinstance(run, dict) else "?", partial=True)
            if predecessor:
                break
        return records


def _updated(item: object) -> dt.datetime | None:
    try:
        return time_field(item, "updated_at")
    except Malformed:
        return None
