"""Find the shell commands that docs and workflows show, and check each against the real tool.

- `opshub ...` is parsed by the real CLI parser;
- `make T` must be a target of the Makefile;
- `aws SERVICE OPERATION --flags` is checked against botocore's service models (the data the AWS
  CLI itself is built from): the operation exists, every flag is one of its parameters, and every
  required parameter is given;
- `pulumi ...` is checked against PULUMI_COMMANDS, a table written from the Pulumi CLI reference
  (a stand-in for the CLI, which cannot be installed here);
- `git SUB ...` must name a real git command (asked of the installed git).
- `jq` and `openssl` (the auditor's recipe in docs/runbook.md) must be installed: a test runs that
  recipe as the runbook writes it (tests/compliance/test_audit_checkpoint_job.py).
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import botocore.session

from infra.cli.main import build_parser

FENCE = re.compile(r"```(?:sh|bash|shell|console)\n(.*?)```", re.S)
INLINE = re.compile(r"`((?:\.venv/bin/)?opshub [^`]+|make [a-z][^`]*|pulumi [^`]+|aws [^`]+)`")
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>"}

# Pulumi CLI commands the docs may show, with the flags each accepts (Pulumi CLI reference).
PULUMI_COMMANDS: dict[str, set[str]] = {
    "login": set(),
    "plugin install": set(),
    "stack select": set(),
    "stack init": set(),
    "stack history": set(),
    "stack export": {"--file", "--version"},
    "stack": {"--show-urns"},
    "config set": {"--secret", "--path"},
    "preview": {"--policy-pack", "--json", "--diff", "--stack"},
    "up": {"--policy-pack", "--replace", "--yes", "--stack"},
    "refresh": {"--yes", "--stack"},
    "destroy": set(),
}


# Options the AWS CLI takes with every command (AWS CLI reference, "aws", global options).
AWS_GLOBAL_OPTIONS = {"--query", "--output", "--region", "--profile", "--no-cli-pager", "--endpoint-url"}
# The AWS CLI's own s3 commands, which are not API operations (AWS CLI reference, "s3"), with their flags the docs use.
AWS_S3_COMMANDS: dict[str, set[str]] = {"ls": {"--recursive"}, "cp": {"--recursive"}, "sync": {"--exact-timestamps", "--delete"}}
# Tools whose docs commands a test runs as written.
RUN_BY_TESTS = {"jq", "openssl"}


@dataclass(frozen=True)
class Command:
    """A command shown in a doc. `complete` ones (code blocks, workflows) must run as written;
    the others are prose references (`opshub plan`), which must name a real command and flags."""

    source: str
    text: str
    complete: bool = True

    @property
    def words(self) -> list[str]:
        """The first simple command's words: comments, redirections and pipelines cut off."""
        words = shlex.split(re.sub(r"<[^>]*>", "PLACEHOLDER", self.text), comments=True)
        for i, word in enumerate(words):
            if word in SHELL_OPERATORS:
                return words[:i]
        return words


def _usage_free(text: str) -> str:
    """Drop usage-style optional parts (`[--anchor HEX]`) that a docs line may carry."""
    return re.sub(r"\s\[[^\]]*\]", "", text)


def commands_in_markdown(path: Path) -> list[Command]:
    text = path.read_text(encoding="utf-8")
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                found.append(Command(str(path), line.strip()))
    found += [Command(str(path), _usage_free(m), complete=False) for m in INLINE.findall(text.replace("\n", " "))]
    return found


def make_targets(makefile: Path) -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile.read_text(), re.M))


def _subparser(parser: argparse.ArgumentParser, word: str) -> argparse.ArgumentParser | None:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    return actions[0].choices.get(word) if actions else None


def _check_opshub(args: list[str], complete: bool) -> str | None:
    """A complete command must parse; a reference must name a real (sub)command and real flags."""
    parser = build_parser()
    if complete:
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            return None if exc.code == 0 else f"the opshub CLI rejects {args}"
        return None
    for word in (a for a in args if not a.startswith("-")):
        parser = _subparser(parser, word) or parser
    known = {flag for action in parser._actions for flag in action.option_strings}  # noqa: SLF001
    unknown = [a.split("=")[0] for a in args if a.startswith("--") and a.split("=")[0] not in known]
    if args and all(a.startswith("-") for a in args) and not unknown:
        return None  # a top-level option alone, e.g. `opshub --version`
    if _subparser(parser, "") is None and parser.prog == "opshub":
        return f"no opshub command {args}"
    return f"opshub {parser.prog.removeprefix('opshub ')} has no flag(s) {unknown}" if unknown else None


def _kebab_to_pascal(flag: str) -> str:
    return "".join(part.capitalize() for part in flag.removeprefix("--").split("-"))


def _flags_and_positionals(args: list[str]) -> tuple[list[str], list[str]]:
    """`--flag value` pairs and bare words (the AWS CLI's outfile, for streaming operations)."""
    flags, positionals, i = [], [], 0
    while i < len(args):
        if args[i].startswith("--"):
            flags.append(args[i])
            i += 1 if i + 1 < len(args) and args[i + 1].startswith("--") else 2
        else:
            positionals.append(args[i])
            i += 1
    return flags, positionals


def _check_aws(args: list[str], complete: bool) -> str | None:
    if len(args) < 2:
        return f"incomplete aws command {args}"
    service, operation = args[0], args[1]
    if service == "s3" and operation in AWS_S3_COMMANDS:
        unknown = sorted({a for a in args[2:] if a.startswith("--")} - AWS_S3_COMMANDS[operation] - AWS_GLOBAL_OPTIONS)
        return f"aws s3 {operation} has no flag(s) {unknown}" if unknown else None
    session = botocore.session.get_session()
    if service not in session.get_available_services():
        return f"no AWS service {service!r}"
    model = session.get_service_model(service)
    wanted = _kebab_to_pascal(operation).lower()
    matches = [op for op in model.operation_names if op.lower() == wanted]
    if not matches:
        return f"no operation {operation!r} in aws {service}"
    op = model.operation_model(matches[0])
    members = {m.lower(): m for m in op.input_shape.members}
    flags, positionals = _flags_and_positionals(args[2:])
    unknown = [f for f in flags if _kebab_to_pascal(f).lower() not in members and f not in AWS_GLOBAL_OPTIONS]
    if unknown:
        return f"aws {service} {operation} has no parameter(s) {unknown}"
    given = {members[_kebab_to_pascal(f).lower()] for f in flags if f not in AWS_GLOBAL_OPTIONS}
    missing = [m for m in op.input_shape.required_members if m not in given]
    if missing and complete:
        return f"aws {service} {operation} needs {missing}"
    if positionals and not op.has_streaming_output:
        return f"aws {service} {operation} takes no positional argument {positionals}"
    return None


def _check_pulumi(args: list[str]) -> str | None:
    words = [a for a in args if not a.startswith("-") and not a.startswith(("'", "urn:"))]
    flags = {a.split("=")[0] for a in args if a.startswith("--")}
    for alternative in (words[0].split("/") if words else [""]):
        path = next((p for p in (" ".join([alternative, *words[1:2]]), alternative) if p in PULUMI_COMMANDS), None)
        if path is None:
            return f"not a Pulumi CLI command: pulumi {' '.join(args)}"
        if flags - PULUMI_COMMANDS[path]:
            return f"pulumi {path} has no flag(s) {sorted(flags - PULUMI_COMMANDS[path])}"
    return None


def _check_git(args: list[str]) -> str | None:
    """The subcommand must be git's: `git <sub> -h` prints its usage and exits 129, an unknown one exits 1."""
    if not args:
        return "a bare `git`"
    shown = subprocess.run(["git", args[0], "-h"], capture_output=True, text=True, check=False)
    return None if shown.returncode == 129 else f"git has no command {args[0]!r}"


def check(command: Command, targets: set[str]) -> str | None:
    """None if the command is valid for its tool, else why not."""
    words = command.words
    if not words:
        return None
    tool, args = words[0].removeprefix(".venv/bin/"), words[1:]
    if tool == "opshub":
        return _check_opshub(args, command.complete)
    if tool == "make":
        missing = [t for t in args if "=" not in t and t not in targets]
        return f"no Makefile target(s) {missing}" if missing else None
    if tool == "aws":
        return _check_aws(args, command.complete)
    if tool == "pulumi":
        return _check_pulumi(args)
    if tool == "git":
        return _check_git(args)
    if tool in RUN_BY_TESTS:
        return None if shutil.which(tool) else f"{tool} is not installed"
    return f"no checker for {tool!r}; add one in tests/support/doc_commands.py"
