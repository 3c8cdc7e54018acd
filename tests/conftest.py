"""Shared fixtures: the offline plan of the prod stack, and plans of changed models or configs.

Every plan runs in a fresh event loop with fresh mocks and config, and the
runtime is reset afterwards (infra.offline.plan.run_plan), so tests never
see each other's resources.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import infra.inputs
from infra.cli.main import main
from infra.config import REPO_ROOT, StackConfig, StackSecrets, config_from_pulumi, load_stack_config
from infra.model.access import AccessModel, load_model, parse_model
from infra.model.assignments import DEFAULT_ASSIGNMENTS_PATH, parse_assignments
from infra.offline.plan import Plan, run_plan
from infra.program import build


@pytest.fixture(scope="session")
def access_model() -> AccessModel:
    return load_model()


@pytest.fixture(scope="session")
def access_model_data() -> dict:
    """The raw access model, for tests that derive a changed copy."""
    return yaml.safe_load((REPO_ROOT / "infra/model/access.yaml").read_text())


@pytest.fixture(scope="session")
def prod_config() -> StackConfig:
    """The committed prod stack's typed settings."""
    return load_stack_config(REPO_ROOT / "Pulumi.prod.yaml")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    """The offline plan of the committed prod stack, run once per test session."""
    return run_plan("prod")


@pytest.fixture
def plan_model() -> Callable[[dict], Plan]:
    """Plan the prod stack with the given raw access model instead of the committed one.

    Approvals of roles the changed model no longer has are dropped, as the pull request
    removing a role would drop them.
    """

    def _plan(model_data: dict) -> Plan:
        model = parse_model(model_data, "test model")
        approvals = yaml.safe_load(DEFAULT_ASSIGNMENTS_PATH.read_text())
        approvals["assignments"] = [a for a in approvals["assignments"] if a["role"] in model.role_by_name]
        assignments = parse_assignments(approvals, model, "test approvals")
        return run_plan("prod", program=lambda: build(config_from_pulumi(), model, StackSecrets(), assignments=assignments))

    return _plan


@pytest.fixture
def stack_root(tmp_path: Path) -> Path:
    """A scratch project root holding a copy of Pulumi.prod.yaml to break."""
    shutil.copy(REPO_ROOT / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    return tmp_path


@dataclass(frozen=True)
class CliRun:
    code: int
    err: str
    model_file: Path
    out: Path


@pytest.fixture
def plan_cli_with_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `opshub plan` with the given raw access model written to a file the program loads."""

    def _run(model_data: dict) -> CliRun:
        model_file = tmp_path / "access.yaml"
        model_file.write_text(yaml.safe_dump(model_data, sort_keys=False), encoding="utf-8")
        monkeypatch.setattr(infra.inputs, "MODEL_PATH", model_file)
        out = tmp_path / "plan"
        code = main(["plan", "--stack", "prod", "--out", str(out)])
        return CliRun(code, capsys.readouterr().err, model_file, out)

    return _run
