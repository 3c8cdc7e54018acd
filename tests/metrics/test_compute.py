"""Every formula and edge rule of infra/model/metrics.yaml on the hand-computed scenario (tests/metrics/shapes.py).

The scenario is read as of Tuesday 2026-12-08 00:00 UTC; the 7-day window is
[Tue 12-01 00:00, Tue 12-08 00:00). Each expected number is worked out in the
comment beside it, from the objects in shapes.py, not from the code.
"""

from __future__ import annotations

import copy
import datetime as dt

from infra.metrics.compute import attribute, compute, first_review, successful_deployments
from infra.metrics.records import DeploymentRecord, GitHubData, PagerDutyData, PullRequest, ReviewEvent
from infra.metrics.timeutil import parse_time
from tests.metrics.conftest import run_in_process, window
from tests.metrics.shapes import scenario


def t(text: str) -> dt.datetime:
    return parse_time(text)


def items(outcome, kind: str) -> dict:
    return {(i.get("repo"), i.get("number", i.get("id"))): i for i in outcome.items if i["kind"] == kind}


# --- deployments ---------------------------------------------------------------------


def test_deployments_group_pipeline_jobs_count_success_then_inactive_and_drop_failed_and_staging(scenario_outcome) -> None:
    deployments = items(scenario_outcome, "deployment")
    # 100 (first); 101+102 one run (555): timed by the last job, 10:20, though 101 later turned inactive;
    # 103 failed, 104 staging: no items; 106 succeeded after as_of: not yet; web 200.
    assert sorted(deployments) == [("clarivum/ops-hub", "100"), ("clarivum/ops-hub", "101"), ("clarivum/ops-hub", "105"), ("clarivum/web", "200")]
    grouped = deployments[("clarivum/ops-hub", "101")]
    assert grouped["member_ids"] == ["101", "102"] and grouped["finished_at"] == "2026-12-01T10:20:00Z"
    assert deployments[("clarivum/ops-hub", "105")]["previous_id"] == "101", "the previous deployment is per repository; 103 failed"
    assert deployments[("clarivum/web", "200")]["previous_id"] is None


def test_deployment_frequency_and_deploy_days(scenario_outcome) -> None:
    # 7 d: 12-01 10:20, 12-05 12:00, 12-07 20:00 -> 3 deployments, 3 distinct days; per week = 3 * 7 / 7.
    assert window(scenario_outcome, "deployment_frequency")["value"] == 3
    assert window(scenario_outcome, "deploy_days")["value"] == 3
    # 28 d: the same 3 -> 3 * 7 / 28 = 0.75; 90 d: + 11-01 -> 4 * 7 / 90 = 0.3111.
    assert window(scenario_outcome, "deployment_frequency", "28d")["value"] == 0.75
    assert window(scenario_outcome, "deployment_frequency", "90d")["value"] == 0.3111
    weeks = window(scenario_outcome, "deployment_frequency")["details"]["by_week"]
    assert weeks == [{"week_start": "2026-11-30", "days_in_window": 6, "count": 2}, {"week_start": "2026-12-07", "days_in_window": 1, "count": 1}]


# --- pull requests ----------------------------------------------------------------------


def test_pull_request_cycle_time_parts(scenario_outcome) -> None:
    pr2 = items(scenario_outcome, "pr")[("clarivum/ops-hub", 2)]
    # first commit = earliest author date 08:00 (not 08:30); created 09:00:30 -> 60.5 min, rounded up to 61.
    # pickup: bob's review at 10:00:30 (the bot's and the author's comments do not count, nor the pending review) -> 60.
    # review: 11-28 10:00:30 -> 11-30 10:00:30 = 2880. deploy: -> 12-01 10:20:00 = 1459.5 -> 1460.
    # lead: 11-28 08:00 -> 12-01 10:20 = 3 d 2 h 20 min = 4460.
    assert (pr2["coding_minutes"], pr2["pickup_minutes"], pr2["review_minutes"], pr2["deploy_minutes"], pr2["lead_time_minutes"]) == (61, 60, 2880, 1460, 4460)
    assert pr2["deployment_id"] == "101"


def test_lead_time_uses_the_first_deployment_whose_range_holds_the_merge_commit(scenario_outcome) -> None:
    prs = items(scenario_outcome, "pr")
    # #3 (merge c7) and #8 (merge c5) are in (c4, c8], deployment 105's range after 101.
    assert prs[("clarivum/ops-hub", 3)]["deployment_id"] == "105" and prs[("clarivum/ops-hub", 8)]["deployment_id"] == "105"
    # 7 d lead times: #2 4460, #3 12-04 10:00 -> 12-05 12:00 = 1560, #8 12-03 07:00 -> 12-05 12:00 = 3180.
    lead = window(scenario_outcome, "lead_time")
    assert (lead["n"], lead["median"], lead["p90"], lead["value"]) == (3, 3180, 4204, 3180)  # p90: h = 1.8 -> 3180 + 0.8 * 1280


def test_no_lead_time_for_the_first_deployment_nor_for_a_pull_request_without_commits(scenario_outcome) -> None:
    prs = items(scenario_outcome, "pr")
    first, web = prs[("clarivum/ops-hub", 1)], prs[("clarivum/web", 10)]
    assert first["lead_time_minutes"] is None and first["deploy_minutes"] is None, "shipped by 100, which has no predecessor"
    assert web["lead_time_minutes"] is None, "web's first deployment, 200"
    empty = prs[("clarivum/ops-hub", 6)]
    assert empty["coding_minutes"] is None and empty["lead_time_minutes"] is None
    skipped = {(s["item"], s["reason"]): s for s in scenario_outcome.document["sources"]["github"]["skipped"]}
    assert skipped[("pull request", "has no commits, so no coding or lead time")]["examples"] == ["clarivum/ops-hub#6"]
    assert skipped[("pull request", "shipped by its repository's first deployment, so no deploy or lead time")]["count"] == 2


def test_a_negative_span_is_null_and_counted_under_skipped(scenario_outcome) -> None:
    draft = items(scenario_outcome, "pr")[("clarivum/ops-hub", 5)]
    assert draft["coding_minutes"] is None, "its only commit was authored an hour after it was opened"
    skipped = scenario_outcome.document["sources"]["github"]["skipped"]
    entry = next(s for s in skipped if s["reason"].startswith("coding: end before start"))
    assert entry["examples"] == ["clarivum/ops-hub#5"] and entry["partial"] is False
    assert scenario_outcome.document["status"] == "complete", "a negative span is not an error"


def test_open_counts_and_wip(scenario_outcome) -> None:
    # WIP: #4 (open) and #7 (merged after as_of, so open at as_of); #5 is a draft, #6 closed.
    assert window(scenario_outcome, "wip")["value"] == 2
    # Pickup open in 7 d: created in the window, no review, open at as_of: #4, #5, #7.
    assert window(scenario_outcome, "pickup_time")["open_count"] == 3
    # Coding has no open state.
    assert window(scenario_outcome, "coding_time")["open_count"] is None


def test_throughput_and_revert_rate(scenario_outcome) -> None:
    # Merged in 7 d: #8 (12-03), #3 (12-04), web #10 (12-07); #7 merged after as_of does not count.
    assert window(scenario_outcome, "throughput")["value"] == 3
    revert = window(scenario_outcome, "revert_rate")
    assert (revert["value"], revert["details"]) == (0.3333, {"numerator": 1, "denominator": 3})


def test_review_and_pickup_windows_hold_their_end_events(scenario_outcome) -> None:
    # Review ends at the merge: #3 (60) and #8 (30) merged in 7 d -> median 45, p90 30 + 0.9 * 30 = 57.
    review = window(scenario_outcome, "review_time")
    assert (review["n"], review["median"], review["p90"]) == (2, 45, 57)
    # Pickup ends at the first review event: #3 (30), #8 (bob's comment at 08:30, 30).
    pickup = window(scenario_outcome, "pickup_time")
    assert (pickup["n"], pickup["median"]) == (2, 30)


def test_first_review_excludes_author_bots_and_later_events() -> None:
    pr = PullRequest("o/r", 1, "alice", "x", "f", (), False, t("2026-12-01T09:00:00Z"), None, None, None, (), (
        ReviewEvent(t("2026-12-01T09:01:00Z"), "alice", False),
        ReviewEvent(t("2026-12-01T09:02:00Z"), "renovate[bot]", True),
        ReviewEvent(t("2026-12-01T09:30:00Z"), "bob", False),
        ReviewEvent(t("2026-12-01T09:10:00Z"), "carol", False),
    ))
    assert first_review(pr, t("2026-12-02T00:00:00Z")) == t("2026-12-01T09:10:00Z")
    assert first_review(pr, t("2026-12-01T09:05:00Z")) is None, "events after as_of have not happened yet"


# --- quality -----------------------------------------------------------------------------


def test_incidents_are_attributed_across_repositories_or_by_name(scenario_outcome) -> None:
    incidents = items(scenario_outcome, "incident")
    assert incidents[(None, "PI0000A")]["deployment_id"] == "100", "latest finished before 11-20 10:00"
    assert incidents[(None, "PI0000B")]["deployment_id"] == "105", "its title names deployment 105"
    assert incidents[(None, "PI0000D")]["deployment_id"] == "200", "the web repository's deployment at 20:00 is the latest before 23:30"
    assert incidents[(None, "PI0000C")]["deployment_id"] is None, "created before any deployment"


def test_change_failure_rate_counts_a_deployment_once_and_reports_unattributed(scenario_outcome) -> None:
    # 7 d: 101 (none), 105 (B), 200 (D) -> 2 / 3.
    cfr = window(scenario_outcome, "change_failure_rate")
    assert (cfr["value"], cfr["n"], cfr["details"]["numerator"]) == (0.6667, 3, 2)
    # 90 d: 100 (A), 101, 105, 200 -> 3 / 4; C is unattributed and listed.
    cfr90 = window(scenario_outcome, "change_failure_rate", "90d")
    assert (cfr90["value"], cfr90["details"]["unattributed_incidents"]) == (0.75, ["PI0000C"])


def test_a_deployment_with_two_incidents_counts_once() -> None:
    deployments = successful_deployments([DeploymentRecord("o/r", "1", "a", "production", "1", (("success", t("2026-12-01T00:00:00Z")),))], "production", t("2026-12-08T00:00:00Z"))
    for created in ("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"):
        assert attribute("x", t(created), deployments, r"deploy #(?P<id>\d+)")[0] is deployments[0]


def test_an_incident_naming_an_unknown_deployment_is_unattributed_with_why() -> None:
    deployment, why = attribute("deploy #999 broke it", t("2026-12-02T00:00:00Z"), [], r"deploy #(?P<id>\d+)")
    assert deployment is None and "999" in why


def test_recovery_and_time_to_acknowledge(scenario_outcome) -> None:
    # Recovery over attributed incidents resolved in 7 d: D 23:30 -> 23:50 = 20; B is acknowledged, unresolved: open.
    recovery = window(scenario_outcome, "recovery_time")
    assert (recovery["n"], recovery["median"], recovery["open_count"]) == (1, 20, 1)
    # 28 d adds A (60): median 40.
    assert window(scenario_outcome, "recovery_time", "28d")["median"] == 40
    # MTTA from log entries: B 02:00 -> 02:10 = 10 (7 d); A 5 joins in 28 d -> 7.5.
    assert window(scenario_outcome, "mtta")["median"] == 10
    assert window(scenario_outcome, "mtta", "28d")["median"] == 7.5


def test_rework_rate_counts_a_deployment_shipping_a_revert_or_hotfix_once(scenario_outcome) -> None:
    # 105 ships #3 (a revert) and #8 (hotfix/ branch): one reworked deployment of 3.
    assert window(scenario_outcome, "rework_rate")["details"] == {"numerator": 1, "denominator": 3}


def test_bugs_skip_pull_requests_listed_as_issues(scenario_outcome) -> None:
    assert window(scenario_outcome, "bugs_opened")["value"] == 1  # #21; #22 is a pull request
    assert window(scenario_outcome, "bugs_closed")["value"] == 1  # #20
    age = window(scenario_outcome, "bug_age")
    assert (age["median"], age["open_count"]) == (10080, 1)  # 11-25 -> 12-02: 7 days; #21 still open


# --- sustainability ------------------------------------------------------------------------


def test_pages_by_team_and_hour_class_in_the_responders_zone(scenario_outcome) -> None:
    # B: notify entry without `user`, named in its summary: Jane Doe (New York), Saturday 21:00 -> off-hours.
    # D: Carl Moon's zone "Mars/Olympus" is unknown -> UTC, Monday 23:30 -> sleep.
    pages = window(scenario_outcome, "pages_by_hour_class")
    assert pages["details"]["by_team"] == {"ops-hub": {"business": 0, "off_hours": 1, "sleep": 1}}
    assert window(scenario_outcome, "after_hours_share")["value"] == 1
    # 28 d adds A: Ann (Warsaw), Friday 11:00 -> business; share 2 / 3.
    assert window(scenario_outcome, "after_hours_share", "28d")["value"] == 0.6667
    incident_b = items(scenario_outcome, "incident")[(None, "PI0000B")]
    assert incident_b["pages"] == [{"user": "PB00002", "at": "2026-12-06T02:00:10Z", "hour_class": "off_hours"}]
    notes = scenario_outcome.document["sources"]["pagerduty"]["notes"]
    assert notes == ["time zone 'Mars/Olympus' is unknown; pages to responders in it are classed in UTC"]


def test_oncall_time_and_acknowledgements_are_team_aggregates(scenario_outcome) -> None:
    # Ann: 12-01 -> 12-08 and 12-07 -> 12-09 overlap, counted once and clipped to as_of: 7 d = 10080.
    # Jane: 12-04 00:00 -> 12-06 12:00 = 3600. Median 6840, max 10080.
    assert window(scenario_outcome, "oncall_time")["details"]["by_team"] == {"ops-hub": {"median": 6840, "max": 10080, "n": 2}}
    # Acknowledged in 7 d: Jane 1 (B), Ann 0.
    assert window(scenario_outcome, "incidents_acknowledged")["details"]["by_team"] == {"ops-hub": {"median": 0.5, "max": 1, "n": 2}}


def test_no_person_appears_in_the_snapshot(scenario_outcome) -> None:
    text = scenario_outcome.text
    for person in ("Ann Nowak", "Jane Doe", "Carl Moon", "PA00001", "PB00002", "PC00003", "alice", "bob", "carol"):
        assert person not in text, f"{person} appears in the snapshot"


def test_duplicate_log_entries_are_read_once(scenario_outcome) -> None:
    skipped = scenario_outcome.document["sources"]["pagerduty"]["skipped"]
    assert skipped == [{"item": "log entry", "reason": "duplicate in the listing, read once", "count": 1, "examples": ["R8"], "partial": False}]
    assert window(scenario_outcome, "pages_by_hour_class")["value"] == 2, "the duplicated notify entry is one page"


# --- back-fill ---------------------------------------------------------------------------------


def test_a_back_filled_snapshot_sees_only_what_was_known_then(catalogue) -> None:
    outcome = run_in_process(catalogue, *scenario(), as_of="2026-12-04T00:00:00Z")
    # As of 12-04: 105 had not finished, so #8 (merged 12-03) is merged but not shipped yet.
    pr8 = items(outcome, "pr")[("clarivum/ops-hub", 8)]
    assert pr8["deploy_minutes"] is None and pr8["deployment_id"] is None
    assert window(outcome, "deploy_time")["open_count"] == 1
    assert window(outcome, "deployment_frequency")["value"] == 1  # only 101's run


def test_compute_is_pure_and_repeatable(catalogue) -> None:
    gh, pd = GitHubData(), PagerDutyData()
    first = compute(catalogue, gh, pd, t("2026-12-08T00:00:00Z"))
    second = compute(catalogue, copy.deepcopy(gh), copy.deepcopy(pd), t("2026-12-08T00:00:00Z"))
    assert first == second
    assert window_of(first.metrics, "lead_time") == {"value": None, "n": 0, "median": None, "p90": None, "open_count": 0, "details": {}}


def window_of(metrics: dict, name: str) -> dict:
    return metrics[name]["7d"]
