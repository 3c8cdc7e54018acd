"""The snapshot document and the two commands: schema, determinism, items, exit codes and error messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.metrics.snapshot import SnapshotInvalid, render, schema, validate
from tests.metrics.record import SCENARIO_DIR, record
from tests.metrics.shapes import GH, OPS, WEB, scenario
from tests.support.standin import GitHubData, GitHubStandIn, LoopbackServer, PagerDutyData, PagerDutyStandIn

AS_OF = "2026-12-08T00:00:00Z"
PR_KEYS = {"kind", "repo", "number", "coding_minutes", "pickup_minutes", "review_minutes", "deploy_minutes", "lead_time_minutes"}
DEPLOYMENT_KEYS = {"kind", "repo", "id", "finished_at", "incident_ids"}
INCIDENT_KEYS = {"kind", "id", "deployment_id", "recovery_minutes", "ack_minutes", "pages"}


def snapshot(tmp_path: Path, *extra: str, fixtures: Path = SCENARIO_DIR, as_of: str = AS_OF) -> tuple[int, Path, Path]:
    out, items = tmp_path / "snapshot.json", tmp_path / "items.jsonl"
    code = main(["metrics", "snapshot", "--as-of", as_of, "--fixtures", str(fixtures), "--out", str(out), "--items", str(items),
                 "--repo", OPS, "--repo", WEB, *extra])
    return code, out, items


def test_the_committed_fixtures_are_what_the_scenario_records(tmp_path: Path) -> None:
    record(tmp_path, *scenario())
    for name in ("manifest.json", "github.jsonl", "pagerduty.jsonl"):
        assert (tmp_path / name).read_text() == (SCENARIO_DIR / name).read_text(), f"run `python -m tests.metrics.record` ({name})"


def test_snapshot_from_fixtures_is_complete_valid_and_byte_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, items = snapshot(tmp_path / "a")
    again, out2, items2 = snapshot(tmp_path / "b")
    assert (code, again) == (0, 0), capsys.readouterr()
    assert out.read_bytes() == out2.read_bytes() and items.read_bytes() == items2.read_bytes()
    document = json.loads(out.read_text())
    validate(document)
    assert document["status"] == "complete" and document["generated_at"] == "2026-12-08T06:00:00Z", "generated_at: the fixtures' recorded_at"
    assert out.read_text() == render(document), "the file is the canonical rendering"


def test_items_are_json_lines_with_every_contract_key_and_nulls_never_absent(tmp_path: Path) -> None:
    _, _, items = snapshot(tmp_path)
    rows = [json.loads(line) for line in items.read_text().splitlines()]
    required = {"pr": PR_KEYS, "deployment": DEPLOYMENT_KEYS, "incident": INCIDENT_KEYS}
    assert {r["kind"] for r in rows} == set(required)
    for row in rows:
        assert required[row["kind"]] <= set(row), f"missing keys in {row}"
    open_pr = next(r for r in rows if r["kind"] == "pr" and r["number"] == 4)
    assert open_pr["review_minutes"] is None and "review_minutes" in open_pr
    pages = [p for r in rows if r["kind"] == "incident" for p in r["pages"]]
    assert pages and all(set(p) == {"user", "at", "hour_class"} and p["at"].endswith("Z") for p in pages)


def test_the_schema_is_draft_2020_12_and_refuses_an_absent_value() -> None:
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    document = json.loads((SCENARIO_DIR / "manifest.json").read_text())  # not a snapshot at all
    with pytest.raises(SnapshotInvalid):
        validate(document)


def test_a_window_without_a_key_is_invalid(tmp_path: Path) -> None:
    _, out, _ = snapshot(tmp_path)
    document = json.loads(out.read_text())
    del document["metrics"]["lead_time"]["windows"]["7d"]["p90"]
    document["as_of"] = "2026-12-08T00:00:00+00:00"
    with pytest.raises(SnapshotInvalid) as refused:
        validate(document)
    assert any(p.startswith("metrics/lead_time/windows/7d:") and "'p90' is a required property" in p for p in refused.value.problems)
    assert any(p.startswith("as_of:") for p in refused.value.problems), "RFC 3339 in UTC with Z only"


def test_a_partial_snapshot_is_written_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(SCENARIO_DIR, fixtures)
    lines = (fixtures / "pagerduty.jsonl").read_text().splitlines()
    (fixtures / "pagerduty.jsonl").write_text("\n".join(l for l in lines if '"/incidents"' not in l) + "\n")
    code, out, _ = snapshot(tmp_path, fixtures=fixtures)
    assert code == 1
    document = json.loads(out.read_text())
    assert document["status"] == "partial" and "no recorded response" in document["partial_reasons"][0]
    assert "PARTIAL snapshot" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "yesterday"], "--as-of"),
    (["--as-of", "2026-12-09T00:00:00Z"], "a snapshot cannot see the future"),
    (["--deploy-source", "jenkins"], "--deploy-source"),
    (["--repo", "no-slash"], "expected OWNER/NAME"),
])
def test_bad_snapshot_input_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    argv = ["metrics", "snapshot", "--as-of", AS_OF, "--fixtures", str(SCENARIO_DIR), "--out", str(tmp_path / "s.json")]
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()


def test_live_needs_both_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("PAGERDUTY_TOKEN", "x")
    assert main(["metrics", "snapshot", "--as-of", AS_OF, "--live", "--out", str(tmp_path / "s.json")]) == 2
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_live_reads_the_api_urls_and_tokens_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quiet month (before this machine's clock): nothing happened, so every count is 0 and the snapshot complete."""
    gh, pd = GitHubData(), PagerDutyData(services=scenario()[1].services)
    with LoopbackServer(GitHubStandIn(gh)) as gh_server, LoopbackServer(PagerDutyStandIn(pd)) as pd_server:
        monkeypatch.setenv("GITHUB_API_URL", gh_server.base)
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_readonly")
        monkeypatch.setenv("PAGERDUTY_API_URL", pd_server.base)
        monkeypatch.setenv("PAGERDUTY_TOKEN", "pd-readonly")
        out = tmp_path / "live.json"
        code = main(["metrics", "snapshot", "--as-of", "2026-11-01T00:00:00Z", "--live", "--out", str(out), "--repo", OPS,
                     "--pagerduty-service", "PSVC0PS", "--deploy-source", "deployments"])
    document = json.loads(out.read_text())
    assert code == 0 and document["status"] == "complete"
    assert document["sources"]["github"]["requests"] > 0 and all(r.startswith("/repos/clarivum/ops-hub/") for r in gh_server.requests)
    assert {h["authorization"] for h in gh_server.headers} == {"Bearer ghs_readonly"}
    assert {h["authorization"] for h in pd_server.headers} == {"Token token=pd-readonly"}
    assert window_value(document, "deployment_frequency") == 0 and GH not in out.read_text()


def window_value(document: dict, metric: str) -> object:
    return document["metrics"][metric]["windows"]["7d"]["value"]


# --- reconcile ----------------------------------------------------------------------------------


def manual(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "manual.csv"
    path.write_text("date,metric,window,value,entered_by\n" + "\n".join(rows) + "\n")
    return path


def reconcile(tmp_path: Path, csv: Path, *extra: str) -> int:
    out = tmp_path / "snapshot.json"
    if not out.exists():
        snapshot(tmp_path)
    return main(["metrics", "reconcile", "--manual", str(csv), "--snapshot", str(out), *extra])


def test_reconcile_exits_0_when_every_figure_is_within_tolerance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = manual(tmp_path,
                 "2026-12-08,deployment_frequency,7d,3,Ewa (EM)",
                 "2026-12-08,lead_time,7d,3200,Ewa (EM)",               # 3180 +- 60 + 5%
                 "2026-12-08,lead_time.p90,7d,4204,Ewa (EM)",
                 "2026-12-08,pages_by_hour_class.ops-hub.sleep,7d,1,Olek (SRE)",
                 "2026-12-08,oncall_time.ops-hub.max,7d,10080,Olek (SRE)",
                 "2026-12-08,recovery_time,90d,40,Olek (SRE)",
                 "2026-12-07,lead_time,7d,1,Ewa (EM)")                 # another day: not compared
    assert reconcile(tmp_path, csv) == 0
    out = capsys.readouterr().out
    assert "6 match, 0 mismatch" in out and "MISMATCH" not in out


def test_reconcile_exits_1_on_a_mismatch_and_shows_it_in_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = manual(tmp_path, "2026-12-08,change_failure_rate,7d,0.5,Ewa (EM)", "2026-12-08,wip,7d,2,Ewa (EM)")
    snapshot(tmp_path)
    capsys.readouterr()
    assert reconcile(tmp_path, csv) == 1
    text = capsys.readouterr().out
    assert "MISMATCH" in text and "1 match, 1 mismatch" in text
    assert reconcile(tmp_path, csv, "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["mismatches"] == 1
    row = next(r for r in report["rows"] if r["metric"] == "change_failure_rate")
    assert (row["manual"], row["automated"], row["difference"], row["result"]) == (0.5, 0.6667, -0.1667, "MISMATCH")
    assert reconcile(tmp_path, csv, "--format", "markdown") == 1
    assert "| change_failure_rate | 7d | 0.5 | 0.6667 |" in capsys.readouterr().out


@pytest.mark.parametrize(("row", "message"), [
    ("2026-12-08,happiness,7d,3,Ewa", "line 2, field metric: 'happiness' is not a metric of the catalogue"),
    ("2026-12-08,lead_time,14d,3,Ewa", "line 2, field window: '14d'"),
    ("2026-12-08,lead_time,7d,soon,Ewa", "line 2, field value: 'soon' is not a number"),
    ("08/12/2026,lead_time,7d,3,Ewa", "line 2, field date"),
    ("2026-12-08,lead_time,7d,3,", "line 2, field entered_by"),
    ("2026-12-08,lead_time.nothing,7d,3,Ewa", "line 2, field metric: the snapshot has no figure 'lead_time.nothing'"),
])
def test_reconcile_refuses_bad_rows_with_exit_2_naming_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, message: str) -> None:
    csv = manual(tmp_path, row)
    assert reconcile(tmp_path, csv) == 2
    err = capsys.readouterr().err
    assert str(csv) in err and message in err


def test_reconcile_compares_null_with_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = manual(tmp_path, "2026-12-08,oncall_time,7d,null,Olek")  # a team aggregate has no single value
    assert reconcile(tmp_path, csv) == 0
