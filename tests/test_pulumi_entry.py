"""What `pulumi preview/up` runs: the Lambda layer check and user errors as clean `RunError`s.

No Pulumi engine is involved: `run_for_pulumi` is called directly with the program's
`main` replaced by a recorder, so these tests see exactly what the CLI would be handed.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pulumi
import pytest

from infra import program
from infra.errors import ConfigError, UsageError
from infra.lambda_layer import METRICS_LAYER_PACKAGES, pinned_package, pinned_psycopg, require_lambda_layer, require_metrics_layer


def built_layer(root: Path, psycopg_version: str) -> Path:
    """The dist-info directories `make lambda-layer` leaves behind."""
    for package in ("psycopg", "psycopg_binary"):
        (root / "python" / f"{package}-{psycopg_version}.dist-info").mkdir(parents=True)
    return root


@pytest.fixture
def metrics_layer(tmp_path: Path) -> Path:
    """The metrics job's layer as `make lambda-layer` leaves it: the pinned versions' dist-info directories."""
    root = tmp_path / "metrics"
    for package in METRICS_LAYER_PACKAGES:
        (root / "python" / f"{package}-{pinned_package(package)}.dist-info").mkdir(parents=True)
    return root


@pytest.fixture
def main_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(program, "main", lambda: calls.append("main"))
    return calls


def test_the_pin_is_the_psycopg_installed_from_pyproject() -> None:
    assert pinned_psycopg() == version("psycopg")


def test_without_the_layer_nothing_runs_and_the_error_names_the_build_command(tmp_path: Path, main_calls: list[str]) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        program.run_for_pulumi(tmp_path / "psycopg")

    message = str(raised.value)
    assert str(tmp_path / "psycopg") in message
    assert "run `make lambda-layer` before `pulumi preview` or `pulumi up`" in message
    assert main_calls == [], "nothing may be registered before the check"


def test_a_layer_built_for_another_psycopg_is_refused_naming_what_it_holds(tmp_path: Path, main_calls: list[str]) -> None:
    layer = built_layer(tmp_path, "3.0.1")

    with pytest.raises(pulumi.RunError, match=r"found psycopg-3\.0\.1\.dist-info, psycopg_binary-3\.0\.1\.dist-info"):
        program.run_for_pulumi(layer)
    assert main_calls == []


def test_with_the_pinned_layer_the_program_runs(tmp_path: Path, main_calls: list[str], metrics_layer: Path) -> None:
    program.run_for_pulumi(built_layer(tmp_path / "psycopg", pinned_psycopg()), metrics_layer)

    assert main_calls == ["main"]


def test_a_config_error_reaches_the_cli_as_its_message_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, metrics_layer: Path) -> None:
    def bad_config() -> None:
        raise ConfigError("Pulumi.prod.yaml", ["opshub:awsRegion: missing"])

    monkeypatch.setattr(program, "main", bad_config)

    with pytest.raises(pulumi.RunError) as raised:
        program.run_for_pulumi(built_layer(tmp_path / "psycopg", pinned_psycopg()), metrics_layer)

    assert str(raised.value) == "Pulumi.prod.yaml: 1 problem\n  - opshub:awsRegion: missing"
    assert raised.value.__suppress_context__, "the CLI must not print the ConfigError's traceback too"


@pytest.mark.parametrize(("text", "problem"), [
    ('[project]\nname = "x"\ndependencies = ["psycopg>=3"]\n', "expected exactly one `psycopg[binary]==VERSION` dependency"),
    ('[tool.x]\ny = 1\n', "expected exactly one `psycopg[binary]==VERSION` dependency"),
    ("[project\n", "cannot read the pinned psycopg: "),
    (None, "cannot read the pinned psycopg: "),
], ids=["no pin", "no project table", "not TOML", "missing file"])
def test_a_pyproject_without_a_readable_pin_is_named(tmp_path: Path, text: str | None, problem: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    if text is not None:
        pyproject.write_text(text)

    with pytest.raises(UsageError) as raised:
        require_lambda_layer(tmp_path, pyproject)
    assert raised.value.source == str(pyproject)
    assert raised.value.problems[0].startswith(problem)


def test_without_the_metrics_layer_nothing_runs(tmp_path: Path, main_calls: list[str]) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        program.run_for_pulumi(built_layer(tmp_path / "psycopg", pinned_psycopg()), tmp_path / "metrics")
    assert "the metrics Lambda layer lacks" in str(raised.value) and "run `make lambda-layer`" in str(raised.value)
    assert main_calls == []


def test_a_metrics_layer_of_another_version_is_refused(metrics_layer: Path) -> None:
    old = next((metrics_layer / "python").glob("jsonschema-*.dist-info"))
    old.rename(old.with_name("jsonschema-4.0.0.dist-info"))
    with pytest.raises(UsageError, match="lacks jsonschema=="):
        require_metrics_layer(metrics_layer)
