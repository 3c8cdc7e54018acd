"""The generated part of docs/runbook.md: the rotation schedule of every secret, from the access model.

docs/runbook.md is written by people, section by section; only the block
between the markers below is generated. `opshub docs` rewrites that block
(appending it, under its own heading, if the markers are missing) and leaves
the rest of the file as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infra.config import REPO_ROOT, load_stack_config, stack_file
from infra.derive.secrets import rotation_schedule_table
from infra.model.access import load_model

RUNBOOK = "docs/runbook.md"
BEGIN = (
    "<!-- BEGIN generated rotation schedule: written by `opshub docs` from infra/model/access.yaml"
    " and Pulumi.prod.yaml; do not edit by hand. -->"
)
END = "<!-- END generated rotation schedule -->"


def schedule_block() -> str:
    environment = load_stack_config(stack_file("prod")).environment
    return f"{BEGIN}\n\n{rotation_schedule_table(load_model(), environment)}\n{END}"


def splice(text: str, block: str) -> str:
    """`text` with the generated block replaced, or appended under a heading when it has none."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"## Secret rotation schedule\n\n{block}\n"


def runbook_file(root: Path = REPO_ROOT) -> str:
    path = root / RUNBOOK
    return splice(path.read_text(encoding="utf-8") if path.exists() else "", schedule_block())


def generators() -> dict[str, Callable[[], str]]:
    return {RUNBOOK: runbook_file}
