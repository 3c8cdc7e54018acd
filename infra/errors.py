"""Errors a user can fix: each carries every problem found, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

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


class InputErrors(UsageError):
    """Problems in several input files, each listed under its own file, all from one run."""

    def __init__(self, errors: Sequence[UsageError]) -> None:
        self.errors = list(errors)
        super().__init__(", ".join(e.source for e in self.errors), [f"{e.source}: {p}" for e in self.errors for p in e.problems])

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


def raise_all(errors: Sequence[UsageError]) -> None:
    """Raise the one error, or all of them together; do nothing when there are none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known word, or `` when nothing is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
