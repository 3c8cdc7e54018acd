"""ops-actions.json, the /ops action catalogue `opshub plan` writes beside resources.json, and docs/ops-actions.md.

The document (infra/derive/actions.py) is validated against
infra/schemas/ops-actions.schema.json before it is written, and rendered as
canonical JSON (sorted keys, two-space indent, a final newline), so the same
model and stack config give the same bytes on every run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from infra.config import REPO_ROOT, load_stack_config, stack_file
from infra.derive.actions import ops_actions
from infra.errors import UsageError
from infra.markdown import cell, table
from infra.model.access import load_model

FILENAME = "ops-actions.json"
SCHEMA = "infra/schemas/ops-actions.schema.json"
DOC = "docs/ops-actions.md"


def schema() -> dict[str, Any]:
    return json.loads((REPO_ROOT / SCHEMA).read_text(encoding="utf-8"))


def _where(path: Any) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".") or "(top level)"


def schema_problems(document: object) -> list[str]:
    """Every place the document breaks the schema, as `where: what` lines (empty when valid)."""
    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(step) for step in e.absolute_path])
    return [f"{_where(e.absolute_path)}: {e.message}" for e in errors]


def render(document: dict[str, Any]) -> str:
    """The canonical text of the document, refused (exit 2) if it breaks the schema."""
    problems = schema_problems(document)
    if problems:
        raise UsageError(f"{FILENAME} (against {SCHEMA})", problems)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stack_document(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The document of a stack from the committed access model and the stack's config."""
    return ops_actions(load_model(), stack, load_stack_config(stack_file(stack, root)).environment)


def _scopes(secret: dict[str, Any]) -> str:
    scopes = secret["vendor_scopes"]
    if scopes is None:
        return "(no vendor vocabulary)"
    parts = [scopes["key_type"]] + ([f"role {scopes['role']}"] if scopes["role"] else []) + scopes["grants"]
    return ", ".join(f"`{p}`" for p in parts)


def render_doc(document: dict[str, Any]) -> str:
    from infra.generated import HEADER  # imported late: infra.generated registers this module's generators

    rows = [
        [
            route["method"],
            f"`{route['path']}`",
            f"`{route['permission']}`" + (" (writes)" if route["writes"] else ""),
            route["integration"],
            f"`{route['audit_action']}`" if route["audit_action"] else "",
            str(route["cache_seconds"]),
            f"`{route['secret']['name']}`",
            cell(_scopes(route["secret"])),
        ]
        for route in document["routes"]
    ]
    lines = [
        HEADER.format(source="infra/model/access.yaml and Pulumi.prod.yaml") + "# /ops action catalogue",
        "",
        f"What `opshub plan` writes as `{FILENAME}` for stack `{document['stack']}` (schema: `{SCHEMA}`), for",
        "the backend's middleware and contract tests. Every writing route, and every route needing a",
        "privileged permission, records its own audit action; `ops_audit` refuses an action from a user",
        "whose roles lack its permission. Reads may be served from cache for `cache s` seconds",
        f"(at most {document['route_cache_max_seconds']}; never for privileged reads).",
        "",
        *table(["method", "path", "permission", "integration", "audit action", "cache s", "secret", "vendor scopes"], rows),
        "",
    ]
    return "\n".join(lines)


def ops_actions_doc() -> str:
    document = stack_document("prod")
    render(document)  # the doc describes only a document the schema accepts
    return render_doc(document)


def generators() -> dict[str, Callable[[], str]]:
    return {DOC: ops_actions_doc}
