"""Fixtures for the observability tests: the SLO catalogue, the generated files, and the real tools."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.alerting_files import GENERATED_DIR
from infra.config import REPO_ROOT
from infra.model.observability import Catalogue, load_catalogue

GENERATED = REPO_ROOT / GENERATED_DIR


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run scripts/system-packages.sh (make test does)")
    return path


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="session")
def promtool() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real promtool (Debian `prometheus`) with the given arguments."""
    path = _require_tool("promtool")
    return lambda *args: _run(path, *args)


@pytest.fixture(scope="session")
def amtool() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real amtool (Debian `prometheus-alertmanager`) with the given arguments."""
    path = _require_tool("amtool")
    return lambda *args: _run(path, *args)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def rule_files() -> dict[str, dict]:
    """SLO name -> the parsed committed rule file."""
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(GENERATED.glob("*.yml"))}


@pytest.fixture(scope="session")
def alerting_rules(rule_files: dict[str, dict]) -> list[dict]:
    return [r for doc in rule_files.values() for g in doc["groups"] for r in g["rules"] if "alert" in r]


@pytest.fixture
def alerts_copy(tmp_path: Path) -> Path:
    """A scratch copy of alerts/ to break."""
    shutil.copytree(REPO_ROOT / "alerts", tmp_path / "alerts", ignore=shutil.ignore_patterns("generated", "tests"))
    return tmp_path / "alerts"
