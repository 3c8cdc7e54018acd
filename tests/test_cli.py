"""The `opshub` entry point: each command registers under its name and loads on its own."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli.main import COMMANDS, build_parser, main

OPSHUB = Path(sys.executable).with_name("opshub")  # the console script pip installed


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    return set(action.choices)


def test_the_full_parser_has_every_command() -> None:
    assert subcommands(build_parser()) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_registers_under_its_own_name(name: str) -> None:
    assert subcommands(build_parser(only=name)) == {name}


def test_running_plan_does_not_import_the_other_commands() -> None:
    probe = (
        "import sys; from infra.cli.main import build_parser, _command_named; "
        "build_parser(_command_named(['plan', '--out', 'x'])); "
        "print(' '.join(m for m in sys.modules if m.startswith('infra.cli.') or m == 'psycopg'))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.split()
    assert "infra.cli.plan_cmd" in loaded
    assert not {"infra.cli.audit_cmd", "infra.cli.db_cmd", "infra.cli.access_diff_cmd", "psycopg"} & set(loaded)


def test_a_whole_plan_leaves_the_database_driver_unloaded(tmp_path) -> None:
    """The migrations resource reads only file digests in a plan; psycopg waits for a real database."""
    probe = f"import sys; from infra.cli.main import main; main(['plan', '--out', {str(tmp_path)!r}]); print('psycopg' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert ran.stdout.split()[-1] == "False"


@pytest.mark.parametrize("filename", ["resources.json", "ops-actions.json"])
def test_the_console_script_plans_exactly_what_main_plans(tmp_path: Path, filename: str) -> None:
    """`opshub` runs without the cyclic collector, in another process (another hash seed);
    the files it writes must be byte-identical for that."""
    ran = subprocess.run([OPSHUB, "plan", "--out", tmp_path / "console"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert main(["plan", "--out", str(tmp_path / "main")]) == 0

    written = [(tmp_path / d / filename).read_bytes() for d in ("console", "main")]
    assert written[0] == written[1]


def test_the_console_script_passes_on_the_exit_code() -> None:
    ran = subprocess.run([OPSHUB, "plan", "--stack", "nope", "--out", "x"], capture_output=True, text=True)
    assert ran.returncode == 2
    assert "Pulumi.nope.yaml" in ran.stderr


def test_an_unknown_command_exits_2_listing_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["teleport"])

    assert raised.value.code == 2
    assert "invalid choice: 'teleport'" in capsys.readouterr().err
