"""Stack files in, analyzer input out.

Reads the three files a team has at hand and turns each into the canonical
resource list (`type`, `urn`, `name`, `properties`, `options`, `provider`,
`dependencies`, `propertyDependencies`):

- `resources.json` of `opshub plan`: already that shape, plus `secretProperties`;
- `pulumi preview --json`: `steps[].newState` (inputs; secrets print as "[secret]");
- `pulumi stack export`: `deployment.resources[]` (secrets carry the engine's marker).

Every secret value becomes the engine's secret marker without its content, so
rules see *that* a value is secret, never the value. `analyzer_input` and
`stack_input` then build exactly what pulumi-policy-opa's buildOPAInput and
buildStackOPAInput build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.errors import UsageError

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
PREVIEW_SECRET = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"
DELETING_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"})
PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class PolicyInputError(UsageError):
    """The input file is unreadable or not one of the supported stack documents."""


@dataclass(frozen=True)
class StackResources:
    source_format: str
    resources: list[dict[str, Any]]
    model_data: dict[str, Any] | None = None  # the access model a stamped `opshub plan` document carries


def secret_marker() -> dict[str, str]:
    return {SECRET_SIG_KEY: SECRET_SIG_VALUE}


def _is_secret(value: Any) -> bool:
    return (isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE) or value == PREVIEW_SECRET


def _mask_secrets(value: Any) -> Any:
    """Replace every secret (marker object or preview's "[secret]") by a bare marker."""
    if _is_secret(value):
        return secret_marker()
    if isinstance(value, dict):
        return {k: _mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v) for v in value]
    return value


def _path_steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in PATH_STEP.findall(path)]


def _mask_path(properties: dict[str, Any], path: str) -> None:
    """Mark the value at a `secretProperties` path (`slacks[0].url`) as secret."""
    steps = _path_steps(path)
    node: Any = properties
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
    if steps and isinstance(node, (dict, list)):
        try:
            node[steps[-1]] = secret_marker()
        except (IndexError, TypeError):
            return


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider_info(reference: str, by_urn: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A provider reference (`urn::id`) resolved to the analyzer's provider info, or {}."""
    provider = by_urn.get(reference.rsplit("::", 1)[0]) if reference else None
    if provider is None:
        return {}
    return {"type": provider["type"], "name": provider["name"], "urn": provider["urn"], "properties": provider["properties"]}


def _options(state: dict[str, Any]) -> dict[str, Any]:
    timeouts = state.get("customTimeouts") or {}
    return {
        "protect": bool(state.get("protect", False)),
        "ignoreChanges": list(state.get("ignoreChanges") or []),
        "deleteBeforeReplace": bool(state.get("deleteBeforeReplace", False)),
        "additionalSecretOutputs": list(state.get("additionalSecretOutputs") or []),
        "aliasURNs": [],
        "aliases": [],
        "customTimeouts": {k: timeouts.get(k, "") for k in ("create", "update", "delete")},
        "parent": state.get("parent", ""),
    }


def _from_states(states: list[dict[str, Any]], properties_of: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """Engine resource states (preview newState or export resources) in the canonical shape."""
    resources = [
        {
            "type": s["type"],
            "urn": s["urn"],
            "name": _name_of(s["urn"]),
            "properties": _mask_secrets(properties_of(s)),
            "options": _options(s),
            "providerRef": s.get("provider", ""),
            "dependencies": list(s.get("dependencies") or []),
            "propertyDependencies": {k: list(v or []) for k, v in (s.get("propertyDependencies") or {}).items()},
        }
        for s in states
        if s.get("type") != STACK_TYPE
    ]
    by_urn = {r["urn"]: r for r in resources}
    for r in resources:
        r["provider"] = _provider_info(r.pop("providerRef"), by_urn)
    return resources


def from_plan(document: dict[str, Any]) -> list[dict[str, Any]]:
    resources = []
    for r in document["resources"]:
        properties = json.loads(json.dumps(r.get("properties") or {}))
        for path in r.get("secretProperties") or []:
            _mask_path(properties, path)
        resources.append(
            {
                "type": r["type"],
                "urn": r["urn"],
                "name": r.get("name") or _name_of(r["urn"]),
                "properties": _mask_secrets(properties),
                "options": r.get("options") or _options({}),
                "provider": r.get("provider") or {},
                "dependencies": list(r.get("dependencies") or []),
                "propertyDependencies": dict(r.get("propertyDependencies") or {}),
            }
        )
    return resources


def from_preview(document: dict[str, Any]) -> list[dict[str, Any]]:
    states = [s["newState"] for s in document["steps"] if s.get("op") not in DELETING_OPS and s.get("newState")]
    return _from_states(states, lambda s: s.get("inputs") or {})


def from_stack_export(document: dict[str, Any]) -> list[dict[str, Any]]:
    states = document["deployment"].get("resources") or []
    # The analyzer sees inputs; ids and ARNs (outputs) let rules resolve references by value.
    return _from_states(states, lambda s: {**(s.get("outputs") or {}), **(s.get("inputs") or {})})


FORMATS = {
    "opshub-plan": from_plan,
    "pulumi-preview": from_preview,
    "pulumi-stack-export": from_stack_export,
}


def detect_format(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("resources"), list) and all(
        isinstance(r, dict) and {"type", "urn", "properties"} <= r.keys() for r in document["resources"]
    ):
        return "opshub-plan"
    if isinstance(document.get("steps"), list):
        return "pulumi-preview"
    if isinstance(document.get("deployment"), dict) and "version" in document:
        return "pulumi-stack-export"
    return None


def load_resources(path: Path, *, allow_empty: bool = False) -> StackResources:
    """Read and normalise a stack file, naming the file and the fault when it cannot.

    A document without resources is refused unless `allow_empty`: a check over nothing
    would pass, and an empty export or preview is almost always the wrong file.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyInputError(source, [f"cannot read the file: {getattr(exc, 'strerror', None) or exc}"]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyInputError(source, [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    kind = detect_format(document)
    if kind is None:
        raise PolicyInputError(
            source,
            [
                "not a stack document: expected resources.json of `opshub plan` (resources[] with type, urn, "
                "properties), `pulumi preview --json` (steps[]) or `pulumi stack export` (version, deployment)"
            ],
        )
    try:
        resources = FORMATS[kind](document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise PolicyInputError(source, [f"malformed {kind} document: missing or wrong field {exc}"]) from None
    if not resources and not allow_empty:
        raise PolicyInputError(source, [f"the {kind} document holds no resources, so there is nothing to check; pass --allow-empty if that is expected"])
    embedded = document.get("inputs") if kind == "opshub-plan" else None
    return StackResources(kind, resources, embedded.get("access_model") if isinstance(embedded, dict) else None)


def analyzer_input(resource: dict[str, Any]) -> dict[str, Any]:
    """The per-resource input of pulumi-policy-opa's buildOPAInput: metadata, then properties overlaid."""
    props = resource["properties"]
    meta = {
        "type": resource["type"],
        "urn": resource["urn"],
        "name": resource["name"],
        "options": resource["options"],
        "provider": resource["provider"],
        "properties": props,
    }
    return {
        **meta,
        **props,
        "__type": resource["type"],
        "__urn": resource["urn"],
        "__name": resource["name"],
        "__options": resource["options"],
        "__properties": props,
        "__provider": resource["provider"],
    }


def stack_input(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The input of buildStackOPAInput: every resource's input plus its dependencies."""
    return {
        "resources": [
            {
                **analyzer_input(r),
                "dependencies": r["dependencies"],
                "propertyDependencies": r["propertyDependencies"],
            }
            for r in resources
        ]
    }
