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
from infra.lambda_layer import (
    LAYER_REQUIREMENTS,
    METRICS_LAYER_REQUIREMENTS,
    layer_pins,
    pinned_psycopg,
    require_lambda_layer,
    require_metrics_layer,
)


def built_layer(root: Path, psycopg_version: str, cryptography_version: str | None = None) -> Path:
    """The dist-info directories `make lambda-layer` leaves behind."""
    versions = {"psycopg[binary]": psycopg_version, "cryptography": cryptography_version or layer_pins()["cryptography"]}
    for requirement, distributions in LAYER_REQUIREMENTS.items():
        for package in distributions:
            (root / "python" / f"{package}-{versions[requirement]}.dist-info").mkdir(parents=True)
    return root


@pytest.fixture
def metrics_layer(tmp_path: Path) -> Path:
    """The metrics job's layer as `make lambda-layer` leaves it: the pinned versions' dist-info directories."""
    root = tmp_path / "metrics"
    for requirement, version_pinned in layer_pins(METRICS_LAYER_REQUIREMENTS).items():
        for package in METRICS_LAYER_REQUIREMENTS[requirement]:
            (root / "python" / f"{package}-{version_pinned}.dist-info").mkdir(parents=True)
    return root


@pytest.fixture
def main_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(program, "main", lambda: calls.append("main"))
    return calls


def test_the_pins_are_what_is_installed_from_pyproject() -> None:
    assert layer_pins() == {"psycopg[binary]": version("psycopg"), "cryptography": version("cryptography")}


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


def test_a_layer_without_the_pinned_cryptography_is_refused(tmp_path: Path, main_calls: list[str]) -> None:
    layer = built_layer(tmp_path, pinned_psycopg(), "41.0.0")

    with pytest.raises(pulumi.RunError, match=r"the cryptography .* Lambda layer is not built .*found cryptography-41\.0\.0"):
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
    ("[project\n", "cannot read the layer's pins: "),
    (None, "cannot read the layer's pins: "),
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
    assert "the jsonschema " in str(raised.value) and "Lambda layer is not built" in str(raised.value) and "run `make lambda-layer`" in str(raised.value)
    assert main_calls == []


def test_a_metrics_layer_of_another_version_is_refused(metrics_layer: Path) -> None:
    old = next((metrics_layer / "python").glob("jsonschema-*.dist-info"))
    old.rename(old.with_name("jsonschema-4.0.0.dist-info"))
    with pytest.raises(UsageError, match=r"the jsonschema \S+ Lambda layer is not built .*found jsonschema-4\.0\.0"):
        require_metrics_layer(metrics_layer)
