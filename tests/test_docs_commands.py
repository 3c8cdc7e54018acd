"""Every command the README, docs/ and the CI workflows show is a valid command of its tool."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import REPO_ROOT
from tests.support.doc_commands import Command, check, commands_in_markdown, make_targets

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
TARGETS = make_targets(REPO_ROOT / "Makefile")


def workflow_commands(path: Path) -> list[Command]:
    workflow = yaml.safe_load(path.read_text())
    runs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    return [
        Command(str(path), line.strip())
        for run in runs
        for line in run.replace("\\\n", " ").splitlines()
        if line.strip().startswith((".venv/bin/opshub", "opshub", "make"))
    ]


DOC_COMMANDS = [c for path in DOCS for c in commands_in_markdown(path)]
WORKFLOW_COMMANDS = [c for path in WORKFLOWS for c in workflow_commands(path)]


def _id(command: Command) -> str:
    return f"{Path(command.source).name}:{command.text[:60]}"


@pytest.mark.parametrize("command", DOC_COMMANDS, ids=[_id(c) for c in DOC_COMMANDS])
def test_doc_command_is_valid(command: Command) -> None:
    assert check(command, TARGETS) is None, f"{command.source}: `{command.text}`: {check(command, TARGETS)}"


@pytest.mark.parametrize("command", WORKFLOW_COMMANDS, ids=[_id(c) for c in WORKFLOW_COMMANDS])
def test_workflow_command_exists_in_the_makefile_or_cli(command: Command) -> None:
    assert check(command, TARGETS) is None, f"{command.source}: `{command.text}`: {check(command, TARGETS)}"


def test_the_checker_catches_wrong_commands() -> None:
    wrong = [
        "opshub plan --stack prod --no-such-flag",
        "opshub teleport",
        "make deploy-everything",
        "aws secretsmanager put-secret-value --secret-string x",
        "aws secretsmanager rotate-secrets --secret-id x",
        "aws secretsmanager rotate-secret --secret-id x --force",
        "pulumi deploy",
        "pulumi up --policy-packs policies",
    ]
    references = ["opshub teleport", "opshub policy check --no-such-flag", "aws secretsmanager rotate-secrets"]
    accepted = [c for c in wrong if check(Command("test", c), TARGETS) is None]
    accepted += [c for c in references if check(Command("test", c, complete=False), TARGETS) is None]
    assert accepted == [], "the checker must reject these"


def test_a_reference_may_leave_out_required_arguments() -> None:
    assert check(Command("test", "opshub audit verify", complete=False), TARGETS) is None
    assert check(Command("test", "opshub audit verify", complete=True), TARGETS) is not None


def test_docs_and_workflows_show_commands() -> None:
    assert len(DOC_COMMANDS) > 50 and len(WORKFLOW_COMMANDS) >= 4
