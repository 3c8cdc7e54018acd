"""Bad SLO specs, rosters or metric catalogues fail with every problem, naming the file and key; the CLI exits 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from infra import alerting_files, inputs
from infra.cli.main import main
from infra.model.observability import ObservabilityError, load_catalogue


@dataclass(frozen=True)
class BadSpec:
    test_id: str
    file: str
    change: dict
    message: str


AVAILABILITY, LATENCY, AUDIT = "slos/ops-hub-availability.yaml", "slos/ops-hub-latency.yaml", "slos/audit-write.yaml"
HTTP = "http_requests_total"
LIMITS = {"max_page_for": "5m", "max_group_wait": "1m", "max_group_interval": "5m", "max_repeat_interval": "4h", "max_escalation_delay_minutes": 30}
ONE_TEAM = {"name": "ops-hub", "title": "Ops Hub", "primary": ["alice"], "secondary": ["PK1L2M3"]}

CASES = [
    BadSpec("missing-objective", AVAILABILITY, {"objective_percent": None}, "objective_percent"),
    BadSpec("objective-out-of-range", LATENCY, {"objective_percent": 100}, "objective_percent"),
    BadSpec("unknown-team", AUDIT, {"team": "nobody"}, "team: 'nobody' is not a team"),
    BadSpec("bad-promql", AVAILABILITY, {"sli": {"errors": f"{HTTP}{{", "total": HTTP}}, "sli.errors"),
    BadSpec(
        "undeclared-metric",
        AUDIT,
        {"sli": {"errors": "audit_fail_total", "total": "ops_audit_writes_total"}},
        "metric 'audit_fail_total' is not in alerts/metrics.yaml",
    ),
    BadSpec("undeclared-label", AVAILABILITY, {"sli": {"errors": f'{HTTP}{{status="500"}}', "total": HTTP}}, "label 'status'"),
    BadSpec(
        "errors-and-good",
        LATENCY,
        {"sli": {"errors": HTTP, "good": HTTP, "total": HTTP}},
        "exactly one of `errors` or `good`",
    ),
    BadSpec("name-key", AUDIT, {"name": "other"}, "named by its file name"),
    BadSpec("bad-pagerduty-user", "oncall.yaml", {"teams": [ONE_TEAM]}, "teams[0] (ops-hub).primary"),
    BadSpec("unknown-default-team", "oncall.yaml", {"default_team": "nobody"}, "default_team: 'nobody'"),
    BadSpec("naive-rotation-start", "oncall.yaml", {"rotation_start": "2026-01-05T09:00:00"}, "rotation_start"),
    BadSpec("no-paging-limits", "oncall.yaml", {"paging_limits": None}, "paging_limits"),
    BadSpec("bad-page-for", "oncall.yaml", {"paging_limits": {**LIMITS, "max_page_for": "five minutes"}}, "paging_limits.max_page_for"),
    BadSpec("escalation-delay-too-long", "oncall.yaml", {"paging_limits": {**LIMITS, "max_escalation_delay_minutes": 240}}, "paging_limits.max_escalation_delay_minutes"),
    BadSpec(
        "repeat-shorter-than-group",
        "oncall.yaml",
        {"paging_limits": {**LIMITS, "max_repeat_interval": "2m"}},
        "paging_limits.max_repeat_interval: 2m is shorter than max_group_interval (5m)",
    ),
]


def _edit(root: Path, case: BadSpec) -> None:
    path = root / case.file
    data = yaml.safe_load(path.read_text())
    for key, value in case.change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_bad_input_names_file_and_key(alerts_copy: Path, case: BadSpec) -> None:
    _edit(alerts_copy, case)
    with pytest.raises(ObservabilityError) as raised:
        load_catalogue(alerts_copy)
    rendered = raised.value.render()
    assert Path(case.file).name in rendered, f"the error must name the file: {rendered}"
    assert case.message in rendered, f"expected {case.message!r} in: {rendered}"


def test_problems_in_several_specs_are_reported_together(alerts_copy: Path) -> None:
    _edit(alerts_copy, CASES[0])
    _edit(alerts_copy, CASES[2])
    with pytest.raises(ObservabilityError) as raised:
        load_catalogue(alerts_copy)
    assert len(raised.value.problems) == 2, raised.value.problems


def test_the_committed_catalogue_loads(alerts_copy: Path) -> None:
    names = {s.name for s in load_catalogue(alerts_copy).slos}
    assert names == {"ops-hub-availability", "ops-hub-latency", "integration-success", "audit-write"}


def test_opshub_docs_exits_2_on_a_bad_spec(alerts_copy: Path, monkeypatch, capsys) -> None:
    _edit(alerts_copy, CASES[2])
    monkeypatch.setattr(alerting_files, "load_catalogue", lambda: load_catalogue(alerts_copy))
    assert main(["docs", "--check"]) == 2
    err = capsys.readouterr().err
    assert "audit-write.yaml" in err and "Traceback" not in err, err


def test_opshub_plan_exits_2_on_a_bad_spec(alerts_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    _edit(alerts_copy, CASES[2])
    monkeypatch.setattr(inputs, "ALERTS_DIR", alerts_copy)
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path / "plan")]) == 2
    err = capsys.readouterr().err
    assert "audit-write.yaml" in err and "Traceback" not in err, err
    assert not (tmp_path / "plan" / "resources.json").exists(), "a failed plan must not write resources.json"
