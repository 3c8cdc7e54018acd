"""Realistic GitHub and PagerDuty response objects, and the hand-computed scenario the tests use.

Object shapes follow the APIs' own descriptions, trimmed to the fields a client
sees most (nested repository objects left out):
- GitHub: github/rest-api-description `descriptions/api.github.com/api.github.com.json`,
  schemas pull-request-simple, commit, pull-request-review, issue-comment, issue,
  deployment, deployment-status, commit-comparison, workflow-run, job;
- PagerDuty: PagerDuty/api-schema `reference/REST/openapiv3.json`, schemas Incident,
  LogEntry (NotifyLogEntry, AcknowledgeLogEntry, ResolveLogEntry), Oncall, User,
  Service; a notify entry may lack `user` (PagerDuty/go-pagerduty#200 shows the
  field is only sometimes there).
"""

from __future__ import annotations

import hashlib
import zlib

from tests.support.standin import GitHubData, PagerDutyData

GH = "https://api.github.com"
PD = "https://api.pagerduty.com"


def sha(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()  # noqa: S324 - a fake commit id, not security


def gh_user(login: str, bot: bool = False) -> dict:
    return {"login": login, "id": zlib.crc32(login.encode()) % 10**8, "node_id": f"U_{login}", "type": "Bot" if bot else "User",
            "site_admin": False, "html_url": f"https://github.com/{login}", "url": f"{GH}/users/{login}"}


def gh_pull(repo: str, number: int, *, title: str, author: str, created: str, merged: str | None = None,
            closed: str | None = None, merge_sha: str | None = None, head_ref: str = "feature", draft: bool = False,
            labels: tuple[str, ...] = (), updated: str | None = None) -> dict:
    closed = closed or merged
    return {
        "url": f"{GH}/repos/{repo}/pulls/{number}", "id": 1000 + number, "node_id": f"PR_{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}", "number": number,
        "state": "closed" if closed else "open", "locked": False, "title": title, "user": gh_user(author),
        "body": None, "labels": [{"id": 1, "name": name, "color": "d73a4a", "default": False} for name in labels],
        "created_at": created, "updated_at": updated or merged or closed or created, "closed_at": closed, "merged_at": merged,
        "merge_commit_sha": merge_sha, "draft": draft, "author_association": "MEMBER",
        "head": {"label": f"clarivum:{head_ref}", "ref": head_ref, "sha": sha(f"head-{repo}-{number}")},
        "base": {"label": "clarivum:main", "ref": "main", "sha": sha(f"base-{repo}-{number}")},
    }


def gh_commit(label: str, authored: str, author: str = "alice") -> dict:
    return {
        "sha": sha(label), "node_id": f"C_{label}", "url": f"{GH}/repos/x/commits/{sha(label)}",
        "commit": {"author": {"name": author, "email": f"{author}@clarivum.com", "date": authored},
                   "committer": {"name": "GitHub", "email": "noreply@github.com", "date": authored},
                   "message": label, "comment_count": 0},
        "author": gh_user(author), "committer": gh_user("web-flow"), "parents": [],
    }


def gh_review(review_id: int, login: str, submitted: str | None, state: str = "APPROVED", bot: bool = False) -> dict:
    review = {"id": review_id, "node_id": f"PRR_{review_id}", "user": gh_user(login, bot), "body": "", "state": state,
              "html_url": "https://github.com/x", "commit_id": sha(f"r{review_id}"), "author_association": "MEMBER"}
    if submitted is not None:  # a PENDING review has no submitted_at
        review["submitted_at"] = submitted
    return review


def gh_comment(repo: str, comment_id: int, number: int, login: str, created: str, bot: bool = False) -> dict:
    return {"id": comment_id, "node_id": f"IC_{comment_id}", "url": f"{GH}/repos/{repo}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{GH}/repos/{repo}/issues/{number}", "user": gh_user(login, bot), "body": "LGTM",
            "created_at": created, "updated_at": created, "author_association": "MEMBER"}


def gh_issue(repo: str, number: int, *, created: str, closed: str | None = None, labels: tuple[str, ...] = ("bug",),
             pull_request: bool = False) -> dict:
    issue = {"url": f"{GH}/repos/{repo}/issues/{number}", "id": 5000 + number, "number": number, "title": f"Issue {number}",
             "state": "closed" if closed else "open", "user": gh_user("dana"),
             "labels": [{"id": 2, "name": name, "color": "d73a4a", "default": False} for name in labels],
             "created_at": created, "updated_at": closed or created, "closed_at": closed, "comments": 0}
    if pull_request:
        issue["pull_request"] = {"url": f"{GH}/repos/{repo}/pulls/{number}", "merged_at": None}
    return issue


def gh_deployment(repo: str, deployment_id: int, commit: str, created: str, environment: str = "production") -> dict:
    return {"url": f"{GH}/repos/{repo}/deployments/{deployment_id}", "id": deployment_id, "node_id": f"DE_{deployment_id}",
            "sha": commit, "ref": "main", "task": "deploy", "payload": {}, "original_environment": environment,
            "environment": environment, "description": None, "creator": gh_user("github-actions[bot]", bot=True),
            "created_at": created, "updated_at": created, "transient_environment": False, "production_environment": environment == "production"}


def gh_status(repo: str, status_id: int, deployment_id: int, state: str, created: str, run_id: int | None = None) -> dict:
    log = f"https://github.com/{repo}/actions/runs/{run_id}/job/{status_id}" if run_id else ""
    return {"url": f"{GH}/repos/{repo}/deployments/{deployment_id}/statuses/{status_id}", "id": status_id,
            "node_id": f"DES_{status_id}", "state": state, "creator": gh_user("github-actions[bot]", bot=True),
            "description": "", "environment": "production", "target_url": log, "log_url": log,
            "created_at": created, "updated_at": created, "deployment_url": f"{GH}/repos/{repo}/deployments/{deployment_id}"}


def pd_ref(kind: str, ref_id: str, summary: str) -> dict:
    return {"id": ref_id, "type": kind, "summary": summary, "self": f"{PD}/{kind.removesuffix('_reference')}s/{ref_id}",
            "html_url": f"https://clarivum.pagerduty.com/{kind.removesuffix('_reference')}s/{ref_id}"}


def pd_incident(incident_id: str, title: str, created: str, status: str, service: str = "PSVC0PS") -> dict:
    return {"id": incident_id, "type": "incident", "summary": f"[#{incident_id}] {title}", "title": title,
            "incident_number": int(incident_id[-3:], 36), "created_at": created, "updated_at": created, "status": status,
            "incident_key": incident_id.lower(), "service": pd_ref("service_reference", service, "Ops Hub"),
            "assignments": [], "acknowledgements": [],  # empties once resolved: the collector reads log entries
            "last_status_change_at": created, "urgency": "high",
            "escalation_policy": pd_ref("escalation_policy_reference", "PEP0001", "Ops Hub"),
            "teams": [pd_ref("team_reference", "PTEAM01", "Ops Hub")], "html_url": f"https://clarivum.pagerduty.com/incidents/{incident_id}"}


def pd_entry(entry_id: str, kind: str, incident: str, created: str, *, user: tuple[str, str] | None = None,
             agent: dict | None = None, summary: str = "") -> dict:
    entry = {"id": entry_id, "type": kind, "summary": summary or kind.replace("_log_entry", ""), "created_at": created,
             "self": f"{PD}/log_entries/{entry_id}", "agent": agent, "channel": {"type": "auto"},
             "service": pd_ref("service_reference", "PSVC0PS", "Ops Hub"),
             "incident": pd_ref("incident_reference", incident, incident), "teams": [], "contexts": []}
    if user is not None:
        entry["user"] = pd_ref("user_reference", *user)
    return entry


def pd_user(user_id: str, name: str, time_zone: str) -> dict:
    return {"id": user_id, "type": "user", "name": name, "email": f"{user_id.lower()}@clarivum.com",
            "time_zone": time_zone, "role": "user", "summary": name, "self": f"{PD}/users/{user_id}"}


def pd_oncall(user: tuple[str, str], start: str | None, end: str | None, level: int = 1) -> dict:
    return {"user": pd_ref("user_reference", *user), "schedule": pd_ref("schedule_reference", f"PSCH00{level}", "Ops Hub"),
            "escalation_policy": pd_ref("escalation_policy_reference", "PEP0001", "Ops Hub"),
            "escalation_level": level, "start": start, "end": end}


# --- the scenario (as of Tuesday 2026-12-08 00:00 UTC; tests/metrics/test_compute.py has every expected number) ---

OPS, WEB = "clarivum/ops-hub", "clarivum/web"
AS_OF = "2026-12-08T00:00:00Z"
RECORDED_AT = "2026-12-08T06:00:00Z"
PA, PB, PC = ("PA00001", "Ann Nowak"), ("PB00002", "Jane Doe"), ("PC00003", "Carl Moon")


def scenario() -> tuple[GitHubData, PagerDutyData]:
    gh, pd = GitHubData(), PagerDutyData()
    gh.history[OPS] = [gh_commit(f"c{i}", f"2026-10-{10 + i:02d}T00:00:00Z") for i in range(10)]
    gh.history[WEB] = [gh_commit(f"w{i}", f"2026-11-{10 + i:02d}T00:00:00Z") for i in range(3)]
    c = {f"c{i}": sha(f"c{i}") for i in range(10)} | {f"w{i}": sha(f"w{i}") for i in range(3)}

    def pull(repo, number, commits, reviews=(), comments=(), **kw):
        gh.pulls[repo].append(gh_pull(repo, number, **kw))
        gh.pull_commits[(repo, number)] = [gh_commit(f"{repo}{number}-{i}", t) for i, t in enumerate(commits)]
        gh.reviews[(repo, number)] = list(reviews)
        gh.issue_comments[repo].extend(comments)

    pull(OPS, 1, ["2026-10-29T09:00:00Z"], title="First", author="alice", created="2026-10-30T09:00:00Z",
         merged="2026-10-31T12:00:00Z", merge_sha=c["c1"])
    pull(OPS, 2, ["2026-11-28T08:30:00Z", "2026-11-28T08:00:00Z"], title="Add cache", author="alice",
         created="2026-11-28T09:00:30Z", merged="2026-11-30T10:00:30Z", merge_sha=c["c3"],
         reviews=[gh_review(1, "bob", "2026-11-28T10:00:30Z"), gh_review(2, "bob", None, state="PENDING")],
         comments=[gh_comment(OPS, 11, 2, "dependabot[bot]", "2026-11-28T09:05:00Z", bot=True),
                   gh_comment(OPS, 12, 2, "alice", "2026-11-28T09:10:00Z")])
    pull(OPS, 3, ["2026-12-04T10:00:00Z"], title='Revert "Add cache"', author="alice", created="2026-12-04T10:30:00Z",
         merged="2026-12-04T12:00:00Z", merge_sha=c["c7"], reviews=[gh_review(3, "carol", "2026-12-04T11:00:00Z")])
    pull(OPS, 4, ["2026-12-06T08:00:00Z"], title="Open work", author="alice", created="2026-12-06T09:00:00Z")
    pull(OPS, 5, ["2026-12-07T10:00:00Z"], title="Draft", author="alice", created="2026-12-07T09:00:00Z", draft=True)
    pull(OPS, 6, [], title="Empty", author="alice", created="2026-12-02T09:00:00Z", closed="2026-12-02T10:00:00Z")
    pull(OPS, 7, ["2026-12-07T11:00:00Z"], title="Merged after as_of", author="alice", created="2026-12-07T12:00:00Z",
         merged="2026-12-08T05:00:00Z", merge_sha=c["c9"])
    pull(OPS, 8, ["2026-12-03T07:00:00Z"], title="Fix login", author="alice", created="2026-12-03T08:00:00Z",
         merged="2026-12-03T09:00:00Z", merge_sha=c["c5"], head_ref="hotfix/login",
         comments=[gh_comment(OPS, 13, 8, "bob", "2026-12-03T08:30:00Z")])
    pull(WEB, 10, ["2026-12-07T17:00:00Z"], title="Landing page", author="erin", created="2026-12-07T18:00:00Z",
         merged="2026-12-07T19:00:00Z", merge_sha=c["w2"])

    def deploy(repo, deployment_id, commit, created, statuses, environment="production", run=None):
        gh.deployments[repo].append(gh_deployment(repo, deployment_id, commit, created, environment))
        gh.statuses[(repo, deployment_id)] = [gh_status(repo, deployment_id * 10 + i, deployment_id, state, at, run)
                                              for i, (state, at) in enumerate(statuses)]

    deploy(OPS, 100, c["c1"], "2026-11-01T09:50:00Z", [("in_progress", "2026-11-01T09:55:00Z"), ("success", "2026-11-01T10:00:00Z")])
    deploy(OPS, 101, c["c4"], "2026-12-01T10:00:00Z", [("success", "2026-12-01T10:10:00Z"), ("inactive", "2026-12-03T00:00:00Z")], run=555)
    deploy(OPS, 102, c["c4"], "2026-12-01T10:00:00Z", [("success", "2026-12-01T10:20:00Z")], run=555)
    deploy(OPS, 103, c["c6"], "2026-12-02T10:00:00Z", [("failure", "2026-12-02T10:05:00Z")])
    deploy(OPS, 104, c["c8"], "2026-12-04T10:00:00Z", [("success", "2026-12-04T10:05:00Z")], environment="staging")
    deploy(OPS, 105, c["c8"], "2026-12-05T11:50:00Z", [("success", "2026-12-05T12:00:00Z")])
    deploy(OPS, 106, c["c9"], "2026-12-08T05:30:00Z", [("success", "2026-12-08T05:40:00Z")])
    deploy(WEB, 200, c["w2"], "2026-12-07T19:50:00Z", [("success", "2026-12-07T20:00:00Z")])

    gh.issues[OPS] = [
        gh_issue(OPS, 20, created="2026-11-25T00:00:00Z", closed="2026-12-02T00:00:00Z"),
        gh_issue(OPS, 21, created="2026-12-05T00:00:00Z"),
        gh_issue(OPS, 22, created="2026-12-05T00:00:00Z", pull_request=True),
    ]

    pd.services = [{"id": "PSVC0PS", "type": "service", "name": "Ops Hub", "summary": "Ops Hub", "status": "active",
                    "escalation_policy": pd_ref("escalation_policy_reference", "PEP0001", "Ops Hub"),
                    "teams": [pd_ref("team_reference", "PTEAM01", "Ops Hub")]}]
    pd.users = [pd_user(*PA, "Europe/Warsaw"), pd_user(*PB, "America/New_York"), pd_user(*PC, "Mars/Olympus")]
    pd.incidents = [
        pd_incident("PI0000A", "Checkout errors", "2026-11-20T10:00:00Z", "resolved"),
        pd_incident("PI0000B", "deploy #105 broke login", "2026-12-06T02:00:00Z", "acknowledged"),
        pd_incident("PI0000C", "Disk full", "2026-10-20T10:00:00Z", "resolved"),
        pd_incident("PI0000D", "Slow pages", "2026-12-07T23:30:00Z", "resolved"),
    ]
    agent_service = pd_ref("service_reference", "PSVC0PS", "Ops Hub")
    pd.log_entries = [
        pd_entry("R1", "trigger_log_entry", "PI0000A", "2026-11-20T10:00:00Z", agent=agent_service),
        pd_entry("R2", "notify_log_entry", "PI0000A", "2026-11-20T10:00:30Z", user=PA, summary=f"Notified {PA[1]} by email."),
        pd_entry("R3", "acknowledge_log_entry", "PI0000A", "2026-11-20T10:05:00Z", agent=pd_ref("user_reference", *PA)),
        pd_entry("R4", "resolve_log_entry", "PI0000A", "2026-11-20T11:00:00Z", agent=pd_ref("user_reference", *PA)),
        # A notify entry without `user`: the name is only in its summary.
        pd_entry("R5", "notify_log_entry", "PI0000B", "2026-12-06T02:00:10Z", agent=agent_service, summary=f"Notified {PB[1]} by SMS."),
        pd_entry("R6", "acknowledge_log_entry", "PI0000B", "2026-12-06T02:10:00Z", agent=pd_ref("user_reference", *PB)),
        pd_entry("R7", "resolve_log_entry", "PI0000C", "2026-10-20T10:30:00Z", agent=agent_service),
        pd_entry("R8", "notify_log_entry", "PI0000D", "2026-12-07T23:30:00Z", user=PC, summary=f"Notified {PC[1]} by phone."),
        pd_entry("R9", "resolve_log_entry", "PI0000D", "2026-12-07T23:50:00Z", agent=agent_service),
    ]
    pd.log_entries.append(dict(pd.log_entries[7]))  # the same entry listed twice: read once
    pd.oncalls = [
        pd_oncall(PA, "2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z", level=1),
        pd_oncall(PA, "2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z", level=2),
        pd_oncall(PB, "2026-12-04T00:00:00Z", "2026-12-06T12:00:00Z", level=2),
    ]
    return gh, pd
