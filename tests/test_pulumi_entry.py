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
from infra.lambda_layer import LAYER_REQUIREMENTS, layer_pins, pinned_psycopg, require_lambda_layer


def built_layer(root: Path, psycopg_version: str, cryptography_version: str | None = None) -> Path:
    """The dist-info directories `make lambda-layer` leaves behind."""
    versions = {"psycopg[binary]": psycopg_version, "cryptography": cryptography_version or layer_pins()["cryptography"]}
    for requirement, distributions in LAYER_REQUIREMENTS.items():
        for package in distributions:
            (root / "python" / f"{package}-{versions[requirement]}.dist-info").mkdir(parents=True)
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


def test_with_the_pinned_layer_the_program_runs(tmp_path: Path, main_calls: list[str]) -> None:
    program.run_for_pulumi(built_layer(tmp_path, pinned_psycopg()))

    assert main_calls == ["main"]


def test_a_config_error_reaches_the_cli_as_its_message_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_config() -> None:
        raise ConfigError("Pulumi.prod.yaml", ["opshub:awsRegion: missing"])

    monkeypatch.setattr(program, "main", bad_config)

    with pytest.raises(pulumi.RunError) as raised:
        program.run_for_pulumi(built_layer(tmp_path, pinned_psycopg()))

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
