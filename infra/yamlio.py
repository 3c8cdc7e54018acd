"""YAML loading that refuses duplicate keys and reports the file and line of a fault."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.errors import UsageError


# libyaml's parser where PyYAML was built with it (its wheels are), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """A SafeLoader on which a repeated mapping key is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> object:
    """Parse YAML text, refusing duplicate keys; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _kind(value: object) -> str:
    """What YAML made of a value, in the words of the file's author."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def load_yaml_mapping(path: Path, error: type[UsageError]) -> dict:
    """Parse a YAML file whose top level must be a mapping, raising `error` otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise error(str(path), [f"not valid YAML: {' '.join(str(exc).split())}"]) from None
    if data is None:
        raise error(str(path), ["the file is empty: expected a mapping of keys"])
    if not isinstance(data, dict):
        raise error(str(path), [f"the top level must be a mapping, found {_kind(data)}"])
    return data
