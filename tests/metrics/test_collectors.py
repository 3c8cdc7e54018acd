"""The collectors over real HTTP against loopback stand-ins (tests/support/standin.py) serving recorded shapes.

Covers what a good API client must do, each as GitHub's REST description and
PagerDuty's API reference describe the servers (see tests/metrics/shapes.py):
Link pagination and the stop on `updated_at`, offset pagination with `more`,
`time_zone=UTC`, 6-month `since`/`until` chunks and the 10,000-record offset cap,
`x-ratelimit-*` waits, 403/429 with `Retry-After`, a 5xx burst, a truncated page,
a notify entry without `user`, and a deployment whose success later turned inactive.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.metrics import github, pagerduty
from infra.metrics.http import HttpClient
from infra.metrics.run import Scope, run
from infra.metrics.timeutil import parse_time
from infra.model.metrics import catalogue_digest
from tests.metrics.shapes import AS_OF, OPS, RECORDED_AT, WEB, gh_commit, gh_pull, pd_entry, pd_incident, scenario
from tests.support.standin import Answer, GitHubData, GitHubStandIn, LoopbackServer, PagerDutyData, PagerDutyStandIn


def client(server: LoopbackServer, sleeps: list[float] | None = None, max_wait: float = 60.0) -> HttpClient:
    record = sleeps.append if sleeps is not None else time.sleep
    return HttpClient(server.base, github.headers("t"), max_wait=max_wait, backoff=0.01, sleep=record)


def loopback_run(catalogue, gh_server: LoopbackServer, pd_server: LoopbackServer, **client_args):
    return run(catalogue, catalogue_digest(), Scope.of(catalogue, [OPS, WEB]), parse_time(AS_OF), parse_time(RECORDED_AT),
               client(gh_server, **client_args), client(pd_server, **client_args))


def queries(server: LoopbackServer, path: str) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(r).query)) for r in server.requests if urlsplit(r).path == path]


@pytest.fixture
def servers():
    gh, pd = scenario()
    with LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        yield gh_server, pd_server


def test_the_scenario_over_http_gives_the_in_process_snapshot(catalogue, servers, scenario_outcome) -> None:
    outcome = loopback_run(catalogue, *servers)
    assert outcome.document["metrics"] == scenario_outcome.document["metrics"]
    assert outcome.items == scenario_outcome.items


def test_a_success_later_turned_inactive_still_counts(catalogue, servers) -> None:
    """Deployment 101's statuses are newest first: inactive (12-03), then success (12-01 10:10)."""
    outcome = loopback_run(catalogue, *servers)
    deployment = next(i for i in outcome.items if i["kind"] == "deployment" and i["id"] == "101")
    assert deployment["member_ids"] == ["101", "102"]
    assert any("/deployments/101/statuses" in r for r in servers[0].requests)


def test_pagerduty_is_asked_for_utc_and_github_for_100_per_page(catalogue, servers) -> None:
    gh_server, pd_server = servers
    loopback_run(catalogue, *servers)
    for path in ("/incidents", "/log_entries", "/oncalls"):
        asked = queries(pd_server, path)
        assert asked and all(q["time_zone"] == "UTC" and q["limit"] == "100" for q in asked), path
    assert all(q.get("per_page") == "100" for q in queries(gh_server, f"/repos/{OPS}/pulls"))


def _many_pulls(count_recent: int, count_old: int) -> GitHubData:
    gh = GitHubData()
    for n in range(1, count_recent + count_old + 1):
        day = "2026-12-01" if n <= count_recent else "2026-01-01"  # old ones were closed before the read window
        closed = f"{day}T{n % 24:02d}:00:00Z" if n > count_recent else None
        gh.pulls[OPS].append(gh_pull(OPS, n, title=f"PR {n}", author="alice", created=f"{day}T00:00:00Z", closed=closed,
                                     updated=f"{day}T{n % 24:02d}:00:00Z"))
        gh.pull_commits[(OPS, n)] = [gh_commit(f"p{n}", f"{day}T00:00:00Z")]
    return gh


def test_link_pagination_stops_once_updated_at_falls_before_the_window() -> None:
    gh = _many_pulls(120, 150)  # sorted by updated desc: page 1 recent, page 2 mixed, page 3 old
    with LoopbackServer(GitHubStandIn(gh)) as server:
        collector = github.GitHubCollector(client(server), parse_time(RECORDED_AT))
        data = collector.collect((OPS,), parse_time("2026-08-10T00:00:00Z"), parse_time(AS_OF), "production", "deployments", ("bug",))
    listing = [q for q in queries(server, f"/repos/{OPS}/pulls") if q.get("state") == "all"]
    assert [q.get("page", "1") for q in listing] == ["1", "2"], "no `since` on pulls: page 3 is never asked for"
    assert len(data.pulls) == 120 and not data.report.partial_reasons, "closed before the window: not read further"


def test_pagerduty_offset_pagination_reads_every_page() -> None:
    pd = PagerDutyData(services=scenario()[1].services, users=[])
    pd.incidents = [pd_incident(f"PI{n:05d}", "x", f"2026-12-0{1 + n % 6}T{n % 24:02d}:00:00Z", "triggered") for n in range(230)]
    with LoopbackServer(PagerDutyStandIn(pd)) as server:
        data = pagerduty.PagerDutyCollector(client(server), parse_time(RECORDED_AT)).collect(
            {"PSVC0PS": "ops-hub"}, parse_time("2026-09-09T00:00:00Z"), parse_time(AS_OF))
    assert len(data.incidents) == 230 and not data.report.errors
    assert [q["offset"] for q in queries(server, "/incidents")] == ["0", "100", "200"]


def test_ranges_longer_than_six_months_are_read_in_chunks() -> None:
    """The stand-in answers 400 to a since/until range over 6 months, as PagerDuty does."""
    pd = PagerDutyData(services=scenario()[1].services)
    pd.incidents = [pd_incident("PI0000A", "old", "2026-01-15T00:00:00Z", "resolved"), pd_incident("PI0000B", "new", "2026-11-15T00:00:00Z", "resolved")]
    with LoopbackServer(PagerDutyStandIn(pd)) as server:
        data = pagerduty.PagerDutyCollector(client(server), parse_time(RECORDED_AT)).collect(
            {"PSVC0PS": "ops-hub"}, parse_time("2025-12-08T00:00:00Z"), parse_time(AS_OF))
    assert sorted(i.id for i in data.incidents) == ["PI0000A", "PI0000B"] and not data.report.errors
    spans = [(parse_time(q["since"]), parse_time(q["until"])) for q in queries(server, "/incidents")]
    assert len(spans) == 3 and all(until - since <= dt.timedelta(days=180) for since, until in spans)
    assert spans[0][0] == parse_time("2025-12-08T00:00:00Z") and spans[-1][1] == parse_time(AS_OF)


def test_a_chunk_at_the_offset_cap_is_split_and_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagerduty, "OFFSET_CAP", 200)  # PagerDuty's cap is 10,000; 200 keeps the test small
    pd = PagerDutyData(services=scenario()[1].services)
    pd.incidents = [pd_incident("PI0000A", "x", "2026-12-01T00:00:00Z", "triggered")]
    pd.log_entries = [pd_entry(f"L{n:04d}", "trigger_log_entry", "PI0000A", f"2026-12-0{1 + n % 6}T00:{n % 60:02d}:{n % 59:02d}Z") for n in range(450)]
    with LoopbackServer(PagerDutyStandIn(pd)) as server:
        data = pagerduty.PagerDutyCollector(client(server), parse_time(RECORDED_AT)).collect(
            {"PSVC0PS": "ops-hub"}, parse_time("2026-09-09T00:00:00Z"), parse_time(AS_OF))
    assert len(data.log_entries) == 450 and len({e.id for e in data.log_entries}) == 450
    assert all(int(q["offset"]) + int(q["limit"]) <= 200 for q in queries(server, "/log_entries"))


def test_a_primary_rate_limit_waits_until_the_reset(catalogue, servers) -> None:
    gh_server, pd_server = servers
    reset = int(time.time()) + 30
    gh_server.faults[f"/repos/{OPS}/pulls"] = [Answer(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset),
                                                             "content-type": "application/json"}, {"message": "API rate limit exceeded"})]
    sleeps: list[float] = []
    outcome = loopback_run(catalogue, gh_server, pd_server, sleeps=sleeps)
    assert outcome.complete
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 31, f"waited {sleeps}"


def test_a_rate_limit_longer_than_the_bound_makes_a_partial_snapshot(catalogue, servers) -> None:
    gh_server, pd_server = servers
    gh_server.faults[f"/repos/{OPS}/pulls"] = [Answer(429, {"retry-after": "3600", "content-type": "application/json"}, {"message": "slow down"})] * 3
    outcome = loopback_run(catalogue, gh_server, pd_server, sleeps=[], max_wait=5)
    assert not outcome.complete
    reasons = [r for r in outcome.document["partial_reasons"] if "pull requests" in r]
    assert reasons and all("over the 5 s bound" in r for r in reasons), reasons


def test_a_secondary_rate_limit_403_with_retry_after_is_retried(catalogue, servers) -> None:
    gh_server, pd_server = servers
    path = f"/repos/{OPS}/deployments"
    gh_server.faults[path] = [Answer(403, {"retry-after": "1", "content-type": "application/json"}, {"message": "secondary rate limit"})]
    outcome = loopback_run(catalogue, gh_server, pd_server)
    assert outcome.complete
    assert sum(1 for r in gh_server.requests if urlsplit(r).path == path) == 2


def test_a_5xx_burst_is_retried_with_backoff(catalogue, servers) -> None:
    gh_server, pd_server = servers
    pd_server.faults["/incidents"] = [Answer(503, {"content-type": "application/json"}, {"error": {"message": "busy"}}),
                                      Answer(502, {}, {}), Answer(500, {}, {})]
    outcome = loopback_run(catalogue, gh_server, pd_server)
    assert outcome.complete and outcome.document["sources"]["pagerduty"]["read"]["incidents"] == 4
    assert sum(1 for r in pd_server.requests if urlsplit(r).path == "/incidents") == 4


def test_a_5xx_that_does_not_end_makes_a_partial_snapshot(catalogue, servers) -> None:
    gh_server, pd_server = servers
    pd_server.faults["/incidents"] = [Answer(503, {"content-type": "application/json"}, {"error": {"message": "down"}})] * 10
    outcome = loopback_run(catalogue, gh_server, pd_server)
    assert outcome.document["status"] == "partial"
    assert any("pagerduty: GET" in r and "HTTP 503" in r for r in outcome.document["partial_reasons"])


def test_a_truncated_page_is_fetched_again(catalogue, servers) -> None:
    gh_server, pd_server = servers
    page = GitHubStandIn(scenario()[0]).answer("GET", f"/repos/{OPS}/issues/comments", {"per_page": "100"})
    gh_server.faults[f"/repos/{OPS}/issues/comments"] = [Answer(200, page.headers, page.body, truncate=True)]
    outcome = loopback_run(catalogue, gh_server, pd_server)
    assert outcome.complete
    assert sum(1 for r in gh_server.requests if urlsplit(r).path == f"/repos/{OPS}/issues/comments") == 2


def test_a_malformed_item_is_skipped_and_makes_the_snapshot_partial(catalogue) -> None:
    gh, pd = scenario()
    del gh.pulls[OPS][2]["created_at"]
    with LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        outcome = loopback_run(catalogue, gh_server, pd_server)
    assert outcome.document["status"] == "partial"
    assert outcome.document["partial_reasons"] == ["github: 1 pull request(s) skipped: malformed: created_at"]
    assert all(i.get("number") != 3 for i in outcome.items if i["kind"] == "pr")


def test_a_timestamp_in_the_future_is_refused_not_believed(catalogue) -> None:
    gh, pd = scenario()
    gh.pulls[OPS][1]["merged_at"] = "2027-01-01T00:00:00Z"  # after the reading time
    with LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        outcome = loopback_run(catalogue, gh_server, pd_server)
    assert any("is in the future" in r for r in outcome.document["partial_reasons"])


def test_a_notify_entry_without_user_takes_the_agent(catalogue) -> None:
    gh, pd = scenario()
    entry = next(e for e in pd.log_entries if e["id"] == "R5")
    entry["agent"] = {"id": "PB00002", "type": "user_reference", "summary": "Jane Doe"}
    entry["summary"] = "Notified by SMS"
    with LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        outcome = loopback_run(catalogue, gh_server, pd_server)
    incident = next(i for i in outcome.items if i["kind"] == "incident" and i["id"] == "PI0000B")
    assert incident["pages"] == [{"user": "PB00002", "at": "2026-12-06T02:00:10Z", "hour_class": "off_hours"}]
    assert outcome.complete


def test_http_base_urls_are_accepted(servers) -> None:
    gh_server, _ = servers
    assert gh_server.base.startswith("http://127.0.0.1:")
    assert client(gh_server).get(f"/repos/{OPS}/pulls", [("state", "open")]).status == 200


def test_a_deploy_workflows_runs_are_deployments_timed_by_their_last_job(catalogue) -> None:
    """`--deploy-source workflow:deploy.yml`: one deployment per successful run, finished when its last job completed."""
    gh = GitHubData()
    gh.history[OPS] = [gh_commit(f"c{i}", f"2026-11-0{1 + i}T00:00:00Z") for i in range(3)]
    runs = [
        {"id": 900 + i, "name": "deploy", "head_sha": gh.history[OPS][i]["sha"], "status": "completed", "conclusion": conclusion,
         "event": "push", "run_attempt": 1, "created_at": f"2026-12-0{2 + i}T10:00:00Z", "updated_at": f"2026-12-0{2 + i}T10:30:00Z",
         "html_url": f"https://github.com/{OPS}/actions/runs/{900 + i}"}
        for i, conclusion in enumerate(["success", "failure", "success"])
    ]
    gh.runs[(OPS, "deploy.yml")] = runs
    for run_ in runs:
        gh.jobs[(OPS, run_["id"])] = [
            {"id": run_["id"] * 10 + j, "run_id": run_["id"], "name": f"deploy-{j}", "status": "completed", "conclusion": run_["conclusion"],
             "started_at": run_["created_at"], "completed_at": f"{run_['created_at'][:11]}1{j}:0{j}:00Z"}
            for j in range(2)
        ]
    with LoopbackServer(GitHubStandIn(gh)) as server:
        data = github.GitHubCollector(client(server), parse_time(RECORDED_AT)).collect(
            (OPS,), parse_time("2026-08-10T00:00:00Z"), parse_time(AS_OF), "production", "workflow:deploy.yml", ("bug",))
    by_id = {d.id: d for d in data.deployments}
    assert by_id["900"].statuses == (("success", parse_time("2026-12-02T11:01:00Z")),), "the last job's completion"
    assert by_id["901"].statuses[0][0] == "failure"
    assert data.ranges == {(OPS, gh.history[OPS][0]["sha"], gh.history[OPS][2]["sha"]): frozenset(c["sha"] for c in gh.history[OPS][1:])}
    assert not any("/jobs" in r for r in server.requests if "/runs/901/" in r), "a failed run's jobs are not read"


def test_a_page_that_spends_the_last_request_makes_the_next_one_wait(catalogue, servers) -> None:
    gh_server, pd_server = servers
    page = GitHubStandIn(scenario()[0]).answer("GET", f"/repos/{OPS}/issues/comments", {"per_page": "100"})
    reset = int(time.time()) + 20
    gh_server.faults[f"/repos/{OPS}/issues/comments"] = [
        Answer(200, {**page.headers, "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}, page.body)]
    sleeps: list[float] = []
    assert loopback_run(catalogue, gh_server, pd_server, sleeps=sleeps).complete
    assert len(sleeps) == 1 and 15 < sleeps[0] <= 21, f"waited {sleeps}"


def test_a_pagerduty_429_waits_for_its_ratelimit_reset(catalogue, servers) -> None:
    """PagerDuty's REST rate limit answers 429 with `ratelimit-reset` (seconds until the window resets)."""
    gh_server, pd_server = servers
    pd_server.faults["/log_entries"] = [Answer(429, {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "7",
                                                     "content-type": "application/json"}, {"error": {"message": "Too Many Requests", "code": 2020}})]
    sleeps: list[float] = []
    outcome = loopback_run(catalogue, gh_server, pd_server, sleeps=sleeps)
    assert outcome.complete and len(sleeps) == 1 and 6 < sleeps[0] <= 7
