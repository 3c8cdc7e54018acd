"""Errors a user can fix: each carries every problem found, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


class UsageError(Exception):
    """Bad input from the user: the CLI prints it and exits 2."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        lines = [f"{self.source}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(UsageError):
    """The stack configuration is missing, malformed or unsafe."""


class ModelError(UsageError):
    """The access model breaks a schema rule or an invariant."""


def _item_label(node: object) -> str | None:
    """How a list item names itself: its `name`, or a route's method and path."""
    if not isinstance(node, dict):
        return None
    if node.get("name"):
        return str(node["name"])
    return f"{node['method']} {node['path']}" if node.get("method") and node.get("path") else None


def _locate(data: object, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location, naming list items by their `name` (routes by method and path)."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            label = _item_label(node)
            parts.append(f"[{step}]" + (f" ({label})" if label else ""))
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(step))
    return "".join(parts)


def describe_validation_error(exc: ValidationError, data: object) -> list[str]:
    """One readable line per pydantic error: where, what was expected, what was found."""
    lines = []
    for err in exc.errors(include_url=False):
        where = _locate(data, tuple(err["loc"])) or "(top level)"
        found = "" if err["type"] == "missing" else f" (found {err['input']!r})"
        lines.append(f"{where}: {err['msg']}{found}")
    return lines
