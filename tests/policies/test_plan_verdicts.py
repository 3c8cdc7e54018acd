"""`opshub plan` runs the policy check on the plan it wrote and prints the verdicts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from infra.cli import plan_cmd
from infra.cli.main import main
from infra.offline.plan import Plan
from tests.policies.mutations import MUTATIONS


def test_a_clean_plan_prints_a_pass_verdict(prod_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The planning step is replaced by a test double returning the session's real prod plan."""
    monkeypatch.setattr(plan_cmd, "run_plan", lambda stack, root: prod_plan)
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "policy check PASS" in out and (tmp_path / "resources.json").exists()


def test_a_mandatory_finding_fails_the_plan_naming_the_rule(prod_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Test double: the real prod plan with one misconfiguration (a 0-day secret recovery window)."""
    document = json.loads(json.dumps(prod_plan.document()))
    MUTATIONS["OPS-AWS-007"](document["resources"])
    broken = dataclasses.replace(prod_plan, resources=document["resources"])
    monkeypatch.setattr(plan_cmd, "run_plan", lambda stack, root: broken)
    assert main(["plan", "--stack", "prod", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "DENY   OPS-AWS-007 [medium]" in out and "policy check FAIL" in out, out
