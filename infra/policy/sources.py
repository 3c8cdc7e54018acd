"""Where a finding comes from: the line of the access model, approvals, stack config or SLO file behind it.

Code scanning annotates the file and line a SARIF result points at. Every resource
of the plan is derived from an entry of a reviewed input file, so `SourceIndex`
reads those files with their line numbers (YAML node marks) and `locate` picks the
most specific entry a finding names: a role's permission before the role, a secret
before its vendor, an identity's API permission before the identity. A finding that
names no entry (the resource comes from code alone) gets None, and the caller falls
back to the rule's own file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import REPO_ROOT, stack_file


@dataclass(frozen=True)
class SourceLine:
    path: str  # relative to the repository root
    line: int  # 1-based
    what: str  # the entry, for people: "role ops-viewer", "opshub:tokenLifetimeSeconds"
    weight: int  # how specific the entry is; the most specific match wins


@dataclass(frozen=True)
class _Entry:
    names: tuple[str, ...]  # every name must appear in the finding for the entry to match
    source: SourceLine


def _node(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class SourceIndex:
    """The reviewed input files of a stack, indexed by the names their entries declare."""

    def __init__(self, root: Path = REPO_ROOT, stack: str = "prod") -> None:
        self.root = root
        self.entries: list[_Entry] = []
        self.settings: list[tuple[str | None, SourceLine]] = []  # (value, where the key is set)
        self._model(root / "infra/model/access.yaml")
        self._config(stack_file(stack, root))
        self._alerts(root / "alerts")

    def _add(self, path: Path, node: yaml.Node, what: str, weight: int, *names: str) -> None:
        relative = str(path.relative_to(self.root))
        self.entries.append(_Entry(tuple(names), SourceLine(relative, _line(node), what, weight)))

    def _named(self, path: Path, entries: yaml.Node | None, kind: str, listed: str, label: str, weight: int) -> None:
        """Entries with a `name`, and each item of their `listed` permissions (more specific than the entry)."""
        for entry in _items(entries):
            name = _scalar(_get(entry, "name"))
            if not name:
                continue
            self._add(path, entry, f"{kind} {name}", 30, name)
            for perm in _items(_get(entry, listed)):
                self._add(path, perm, f"{kind} {name}, {label} {_scalar(perm)}", weight, name, _scalar(perm) or "")

    def _model(self, path: Path) -> None:
        root = _node(path)
        self._named(path, _get(root, "roles"), "role", "permissions", "permission", 50)
        self._named(path, _get(root, "identities"), "identity", "api_permissions", "API permission", 45)
        for secret in _items(_get(root, "secrets")):
            vendor, purpose = _scalar(_get(secret, "vendor")), _scalar(_get(secret, "purpose"))
            if vendor and purpose:
                self._add(path, secret, f"secret {vendor}/{purpose}", 40, f"{vendor}-{purpose}")
                self._add(path, secret, f"secret {vendor}/{purpose}", 40, f"{vendor}/{purpose}")
            user = _scalar(_get(secret, "database_user"))
            if user:
                self._add(path, secret, f"secret {vendor}/{purpose} (database user {user})", 40, user)
        for perm in _items(_get(root, "permissions")):
            name = _scalar(_get(perm, "name"))
            if name:
                self._add(path, perm, f"permission {name}", 10, name)

    def _config(self, path: Path) -> None:
        settings = _get(_node(path), "config")
        if isinstance(settings, yaml.MappingNode):
            relative = str(path.relative_to(self.root))
            self.settings += [(_scalar(value), SourceLine(relative, _line(key), key.value, 35)) for key, value in settings.value]

    def _alerts(self, alerts: Path) -> None:
        for spec in sorted((alerts / "slos").glob("*.yaml")):
            node = _node(spec)
            if node is not None:
                self._add(spec, node, f"SLO {spec.stem}", 25, spec.stem)
        for team in _items(_get(_node(alerts / "oncall.yaml"), "teams")):
            name = _scalar(_get(team, "name"))
            if name:
                self._add(alerts / "oncall.yaml", team, f"on-call team {name}", 20, name)

    def locate(self, message: str, resource_name: str, properties: dict[str, Any] | None = None) -> SourceLine | None:
        """The most specific input entry the finding names, or None when it names none."""
        text = f"{message} {resource_name}"
        hits = [e.source for e in self.entries if all(_mentions(text, n) for n in e.names)]
        hits += self._config_hits(message, properties or {})
        if not hits:
            return None
        return max(hits, key=lambda s: (s.weight, len(s.what)))

    def _config_hits(self, message: str, properties: dict[str, Any]) -> list[SourceLine]:
        """Settings whose value a property the message names carries (the setting decided it)."""
        return [
            source
            for value, source in self.settings
            if value is not None and len(value) >= 3
            and any(_mentions(message, prop) and _text(v) == value for prop, v in properties.items())
        ]


def _text(value: Any) -> str:
    """A property as the stack file would write it (the engine passes whole numbers as floats)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _mentions(text: str, name: str) -> bool:
    """Whether `name` appears in `text` as a whole name (not as part of a longer word)."""
    return bool(name) and re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None
