"""One engineering metrics snapshot over a large recorded history, and over a tenth of it.

The history is generated, then recorded the way `python -m tests.metrics.record` records the
scenario (the collectors against the in-process stand-ins of tests/support/standin.py), so the
fixtures hold exactly the requests a live run makes. The measured command is the whole
offline run, `opshub metrics snapshot --fixtures DIR --out FILE --items FILE`, in a fresh
process: reading every recorded response, computing, validating and writing.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Result, run_measured
from tests.metrics.record import record
from tests.metrics.shapes import (
    gh_commit, gh_deployment, gh_issue, gh_pull, gh_review, gh_status, pd_entry, pd_incident, pd_oncall, pd_user, sha, scenario,
)
from tests.support.standin import GitHubData, PagerDutyData

TITLE = "Engineering metrics snapshot (`opshub metrics snapshot --fixtures`)"
AS_OF = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
FULL = {"prs": 10_000, "deployments": 2_000, "incidents": 5_000, "log_entries": 50_000}
REPOS = ("clarivum/ops-hub", "clarivum/web", "clarivum/api", "clarivum/mobile")
TARGET_SECONDS = 10.0
TARGET_MIB = 500
LINEAR = 1.5  # the full run may cost at most 1.5x ten tenths
LABELS = {"prs": "pull requests", "deployments": "deployments", "incidents": "incidents", "log_entries": "log entries"}


def _at(minutes_before: float) -> str:
    return (AS_OF - dt.timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def history(scale: float, seed: int = 16) -> tuple[GitHubData, PagerDutyData]:
    """PRs, deployments, incidents and log entries spread over the 90 days before AS_OF."""
    rng = random.Random(seed)
    counts = {k: int(v * scale) for k, v in FULL.items()}
    gh, pd = GitHubData(), PagerDutyData(services=scenario()[1].services)
    span = 90 * 24 * 60
    per_repo = counts["deployments"] // len(REPOS)
    for r, repo in enumerate(REPOS):
        gh.history[repo] = [gh_commit(f"{repo}-c{i}", _at(span - i)) for i in range(per_repo + 1)]
        for i in range(per_repo):
            at = span - (i + 1) * span / (per_repo + 1)
            deployment_id = r * 100_000 + i
            gh.deployments[repo].append(gh_deployment(repo, deployment_id, sha(f"{repo}-c{i + 1}"), _at(at + 5)))
            gh.statuses[(repo, deployment_id)] = [gh_status(repo, deployment_id * 10, deployment_id, "success", _at(at))]
        gh.issues[repo] = [gh_issue(repo, 90_000 + n, created=_at(rng.uniform(0, span)), closed=None) for n in range(50)]
    step = span / (per_repo + 1)
    for n in range(counts["prs"]):
        repo = REPOS[n % len(REPOS)]
        # Minutes before AS_OF, so larger is earlier: first commit > created > review > merged.
        created = rng.uniform(600, span)
        reviewed = created - rng.uniform(5, 300)
        merged = reviewed - rng.uniform(5, 600)
        # Merged at `merged`: shipped by the first deployment after it (deployment i ships commit c{i+1}).
        shipping = int((span - merged) / step)
        merge_sha = sha(f"{repo}-c{shipping + 1}") if 0 < merged and shipping < per_repo else sha(f"{repo}-pending-{n}")
        gh.pulls[repo].append(gh_pull(repo, n + 1, title=f"Change {n}", author=f"dev{n % 40}", created=_at(created),
                                      merged=_at(merged) if merged > 0 else None, merge_sha=merge_sha if merged > 0 else None))
        gh.pull_commits[(repo, n + 1)] = [gh_commit(f"{repo}-{n}-{i}", _at(created + rng.uniform(1, 600))) for i in range(3)]
        gh.reviews[(repo, n + 1)] = [gh_review(n, f"dev{(n + 1) % 40}", _at(reviewed))]
    users = [pd_user(f"PU{i:05d}", f"Responder {i}", "Europe/Warsaw") for i in range(12)]
    pd.users = users
    per_incident = counts["log_entries"] // max(counts["incidents"], 1)
    for n in range(counts["incidents"]):
        created = rng.uniform(60, span)
        incident_id = f"PI{n:05d}"
        pd.incidents.append(pd_incident(incident_id, f"Alert {n}", _at(created), "resolved"))
        user = users[n % len(users)]
        kinds = ["trigger_log_entry", "notify_log_entry", "acknowledge_log_entry", "resolve_log_entry"]
        for e in range(per_incident):
            kind = kinds[min(e, 3)] if e < 3 or e == per_incident - 1 else "notify_log_entry"
            pd.log_entries.append(pd_entry(f"L{n:05d}{e:02d}", kind, incident_id, _at(created - e * 2),
                                           user=(user["id"], user["name"]) if kind == "notify_log_entry" else None,
                                           agent={"id": user["id"], "type": "user_reference", "summary": user["name"]}))
    for week in range(13):
        user = users[week % len(users)]
        pd.oncalls.append(pd_oncall((user["id"], user["name"]), _at(span - week * 7 * 1440), _at(span - (week + 1) * 7 * 1440)))
    return gh, pd


def write_fixtures(scale: float, directory: str) -> None:
    record(Path(directory), *history(scale), as_of=_at(0), recorded_at=_at(-60), repos=REPOS)


def _measure(scale: float, root: Path) -> tuple[float, float]:
    fixtures = root / f"scale-{scale}"
    # Generated in another process: a child forked from a large parent would report the parent's memory as its peak.
    subprocess.run([sys.executable, "-c", f"from benchmarks.bench_metrics import write_fixtures; write_fixtures({scale}, {str(fixtures)!r})"],
                   check=True, cwd=Path(__file__).resolve().parent.parent)
    command = [str(Path(sys.executable).with_name("opshub")), "metrics", "snapshot", "--as-of", _at(0),
               "--fixtures", str(fixtures), "--out", str(root / "snapshot.json"), "--items", str(root / "items.jsonl")]
    for repo in REPOS:
        command += ["--repo", repo]
    seconds, peak_kib = min((run_measured(command) for _ in range(3)), key=lambda m: m[0])
    return seconds, peak_kib / 1024


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="opshub-metrics-bench-") as tmp:
        tenth_s, tenth_mib = _measure(0.1, Path(tmp))
        full_s, full_mib = _measure(1.0, Path(tmp))
    size = ", ".join(f"{FULL[k]:,} {label}" for k, label in LABELS.items())
    ratio = full_s / tenth_s
    return [
        Result("snapshot, full history", f"{full_s:.1f} s", f"<= {TARGET_SECONDS:.0f} s", full_s <= TARGET_SECONDS, f"{size}; best of 3"),
        Result("peak memory, full history", f"{full_mib:.0f} MiB", f"<= {TARGET_MIB} MiB", full_mib <= TARGET_MIB, "max RSS of the process"),
        Result("snapshot, a tenth of it", f"{tenth_s:.2f} s", "-", True, f"peak {tenth_mib:.0f} MiB; best of 3"),
        Result("growth, tenth -> full", f"{ratio:.1f}x", f"<= {10 * LINEAR:.0f}x (linear)", ratio <= 10 * LINEAR,
               "includes the fixed cost of starting the command"),
    ]
