"""Stack files in, analyzer input out.

Reads the three files a team has at hand and turns each into the canonical
resource list (`type`, `urn`, `name`, `properties` (inputs), `outputs`, `options`,
`provider`, `dependencies`, `propertyDependencies`):

- `resources.json` of `opshub plan`: inputs, the outputs the mocks added, which paths are secret;
- `pulumi preview --json`: `steps[].newState` (secrets print as "[secret]");
- `pulumi stack export`: `deployment.resources[]` (secrets carry the engine's marker).

Every secret is rendered in one of three encodings, chosen per run, so the pack is
tested under each:

- `analyzer`: what the real pulumi-policy-opa hands to Rego. The engine marshals with
  KeepSecrets, the analyzer server unmarshals into `resource.Secret` values, and
  `PropertyMap.Mappable()` keeps them as `*resource.Secret` structs, which OPA's input
  JSON round trip renders as `{"Element": {"V": <plaintext>}}`, nested values as
  `{"V": ...}` (pulumi sdk/go/common/resource/properties.go `MapRepl`, type `Secret`;
  sdk/go/common/resource/plugin/analyzer_server.go). The plaintext is in the input;
  offline it is the plan's placeholder, and a document's secret content is never read;
- `marker`: the engine's wire marker `{"4dabf...": "1b47..."}` without content, as
  `pulumi stack export` carries it;
- `preview`: the string "[secret]", as `pulumi preview --json` prints it.

`analyzer_input` and `stack_input` then build exactly what the analyzer's
buildOPAInput and buildStackOPAInput build (pulumi-policy-opa
cmd/pulumi-analyzer-policy-opa/analyzer.go). Stack rules see each resource's
outputs, as the engine passes them to AnalyzeStack (pulumi
pkg/resource/deploy/step_generator.go `AnalyzeResources`); `stack_shape="inputs"`
gives the inputs instead, so a test can hold the verdicts equal.
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
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
DURATION_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

SECRET_ENCODINGS = ("analyzer", "marker", "preview")
DEFAULT_SECRET_ENCODING = "analyzer"
STACK_SHAPES = ("outputs", "inputs")
DEFAULT_STACK_SHAPE = "outputs"


class PolicyInputError(UsageError):
    """The input file is unreadable or not one of the supported stack documents."""


@dataclass(frozen=True)
class StackResources:
    source_format: str
    resources: list[dict[str, Any]]
    model_data: dict[str, Any] | None = None  # the access model a stamped `opshub plan` document carries


class _Secret:
    """A secret value while a document is read; `content` is None when the document hides it."""

    __slots__ = ("content",)

    def __init__(self, content: Any) -> None:
        self.content = content


def _go_property_value(value: Any) -> dict[str, Any]:
    """A plain value as Go's JSON of a `resource.PropertyValue`: `{"V": ...}`, nested likewise."""
    if isinstance(value, _Secret):
        return {"V": _encode_secret(value, "analyzer")}
    if isinstance(value, dict):
        return {"V": {k: _go_property_value(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"V": [_go_property_value(v) for v in value]}
    return {"V": value}


def _encode_secret(secret: _Secret, encoding: str) -> Any:
    if encoding == "marker":
        return {SECRET_SIG_KEY: SECRET_SIG_VALUE}
    if encoding == "preview":
        return PREVIEW_SECRET
    content = PREVIEW_SECRET if secret.content is None else secret.content
    return {"Element": _go_property_value(content)}


def _encode(value: Any, encoding: str) -> Any:
    if isinstance(value, _Secret):
        return _encode_secret(value, encoding)
    if isinstance(value, dict):
        return {k: _encode(v, encoding) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, encoding) for v in value]
    return value


def _hide_document_secrets(value: Any) -> Any:
    """Engine documents: the wire marker or the preview's "[secret]" become secrets without content."""
    if (isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE) or value == PREVIEW_SECRET:
        return _Secret(None)
    if isinstance(value, dict):
        return {k: _hide_document_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_document_secrets(v) for v in value]
    return value


def _path_steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in PATH_STEP.findall(path)]


def _mark_path(properties: dict[str, Any], path: str) -> None:
    """Wrap the value at a `secretProperties` path (`slacks[0].url`) as a secret, keeping its content."""
    steps = _path_steps(path)
    node: Any = properties
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
        if isinstance(node, _Secret):  # already inside a secret
            return
    try:
        if not isinstance(node[steps[-1]], _Secret):
            node[steps[-1]] = _Secret(node[steps[-1]])
    except (KeyError, IndexError, TypeError):
        return


def _analyzer_properties(properties: dict[str, Any], encoding: str) -> dict[str, Any]:
    """The analyzer server unmarshals with SkipInternalKeys: top-level `__` keys (a dynamic
    resource's pickled `__provider`) never reach Rego."""
    return {k: _encode(v, encoding) for k, v in properties.items() if not k.startswith("__")}


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider_info(reference: str, by_urn: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A provider reference (`urn::id`) resolved to the analyzer's provider info, or {}."""
    provider = by_urn.get(reference.rsplit("::", 1)[0]) if reference else None
    if provider is None:
        return {}
    return {"type": provider["type"], "name": provider["name"], "urn": provider["urn"], "properties": provider["properties"]}


def duration_seconds(text: str) -> float:
    """A Go duration ("5m", "1h30m") in seconds, as the engine parses custom timeouts; "" is 0."""
    return sum(float(n) * DURATION_SECONDS[unit] for n, unit in DURATION_PART.findall(text or ""))


def analyzer_options(
    protect: bool,
    ignore_changes: list[str],
    delete_before_replace: bool,
    additional_secret_outputs: list[str],
    alias_urns: list[str],
    timeouts: dict[str, float],
    parent: str,
) -> dict[str, Any]:
    """The `options` object of buildOPAInput, in the shapes the Go code gives it.

    Proto repeated fields arrive as nil slices when empty, so `ignoreChanges` is null;
    `slice.Map` makes `additionalSecretOutputs` and `aliasURNs` empty lists;
    `deleteBeforeReplace` is a *bool set only when true; `aliases` are never sent;
    custom timeouts are float seconds (analyzer_server.go `convertResourceOptions`).
    """
    return {
        "protect": protect,
        "ignoreChanges": list(ignore_changes) or None,
        "deleteBeforeReplace": True if delete_before_replace else None,
        "additionalSecretOutputs": list(additional_secret_outputs),
        "aliasURNs": list(alias_urns),
        "aliases": None,
        "customTimeouts": {k: float(timeouts.get(k) or 0) for k in ("create", "update", "delete")},
        "parent": parent,
    }


def _state_options(state: dict[str, Any]) -> dict[str, Any]:
    timeouts = state.get("customTimeouts") or {}
    return analyzer_options(
        protect=bool(state.get("protect", False)),
        ignore_changes=list(state.get("ignoreChanges") or []),
        delete_before_replace=bool(state.get("deleteBeforeReplace", False)),
        additional_secret_outputs=list(state.get("additionalSecretOutputs") or []),
        alias_urns=list(state.get("aliases") or []),
        timeouts={k: v if isinstance(v, (int, float)) else duration_seconds(v) for k, v in timeouts.items()},
        parent=state.get("parent", ""),
    )


def _property_dependencies(raw: dict[str, Any] | None) -> dict[str, list[str]]:
    """Only keys with dependencies, as the analyzer server keeps them."""
    return {k: list(v) for k, v in (raw or {}).items() if v}


def _from_states(
    states: list[dict[str, Any]], encoding: str, inputs_of: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Engine resource states (preview newState or export resources) in the canonical shape."""
    resources = [
        {
            "type": s["type"],
            "urn": s["urn"],
            "name": _name_of(s["urn"]),
            "properties": _analyzer_properties(_hide_document_secrets(inputs_of(s)), encoding),
            "outputs": _analyzer_properties(_hide_document_secrets(s.get("outputs") or inputs_of(s)), encoding),
            "options": _state_options(s),
            "providerRef": s.get("provider", ""),
            "dependencies": list(s.get("dependencies") or []),
            "propertyDependencies": _property_dependencies(s.get("propertyDependencies")),
        }
        for s in states
        if s.get("type") != STACK_TYPE
    ]
    by_urn = {r["urn"]: r for r in resources}
    for r in resources:
        r["provider"] = _provider_info(r.pop("providerRef"), by_urn)
    return resources


def _secret_copy(values: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    copied = json.loads(json.dumps(values))
    for path in paths:
        _mark_path(copied, path)
    return copied


def from_plan(document: dict[str, Any], encoding: str = DEFAULT_SECRET_ENCODING) -> list[dict[str, Any]]:
    """resources.json: outputs are the inputs plus what the mocks computed; secret inputs stay
    secret in the outputs, and so do the additional secret outputs."""
    resources = []
    for r in document["resources"]:
        options = r.get("options") or analyzer_options(False, [], False, [], [], {}, "")
        inputs = r.get("properties") or {}
        secret_paths = list(r.get("secretProperties") or [])
        outputs = {**inputs, **(r.get("computedOutputs") or {})}
        output_secrets = secret_paths + [k for k in options["additionalSecretOutputs"] if k in outputs]
        resources.append(
            {
                "type": r["type"],
                "urn": r["urn"],
                "name": r.get("name") or _name_of(r["urn"]),
                "properties": _analyzer_properties(_secret_copy(inputs, secret_paths), encoding),
                "outputs": _analyzer_properties(_secret_copy(outputs, output_secrets), encoding),
                "options": options,
                "provider": r.get("provider") or {},
                "dependencies": list(r.get("dependencies") or []),
                "propertyDependencies": _property_dependencies(r.get("propertyDependencies")),
            }
        )
    return resources


def from_preview(document: dict[str, Any], encoding: str = DEFAULT_SECRET_ENCODING) -> list[dict[str, Any]]:
    states = [s["newState"] for s in document["steps"] if s.get("op") not in DELETING_OPS and s.get("newState")]
    return _from_states(states, encoding, lambda s: s.get("inputs") or {})


def from_stack_export(document: dict[str, Any], encoding: str = DEFAULT_SECRET_ENCODING) -> list[dict[str, Any]]:
    states = document["deployment"].get("resources") or []
    return _from_states(states, encoding, lambda s: s.get("inputs") or {})


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


def load_resources(path: Path, encoding: str = DEFAULT_SECRET_ENCODING, *, allow_empty: bool = False) -> StackResources:
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
        resources = FORMATS[kind](document, encoding)
    except (KeyError, TypeError, AttributeError) as exc:
        raise PolicyInputError(source, [f"malformed {kind} document: missing or wrong field {exc}"]) from None
    if not resources and not allow_empty:
        raise PolicyInputError(source, [f"the {kind} document holds no resources, so there is nothing to check; pass --allow-empty if that is expected"])
    embedded = document.get("inputs") if kind == "opshub-plan" else None
    return StackResources(kind, resources, embedded.get("access_model") if isinstance(embedded, dict) else None)


def _opa_input(resource: dict[str, Any], props: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "type": resource["type"],
        "urn": resource["urn"],
        "name": resource["name"],
        "__name": resource["name"],
        "options": options,
        "provider": resource["provider"],
        "properties": props,
    }
    return {
        **meta,
        **props,
        "__type": resource["type"],
        "__urn": resource["urn"],
        "__name": resource["name"],
        "__options": options,
        "__properties": props,
        "__provider": resource["provider"],
    }


def analyzer_input(resource: dict[str, Any]) -> dict[str, Any]:
    """buildOPAInput: metadata, then the inputs overlaid at the top, then the `__` fields."""
    return _opa_input(resource, resource["properties"], resource["options"])


def stack_input(resources: list[dict[str, Any]], shape: str = DEFAULT_STACK_SHAPE) -> dict[str, Any]:
    """buildStackOPAInput: every resource's input built from its outputs (or inputs), with its
    parent in the options, its dependencies, and its non-empty property dependencies."""
    key = "outputs" if shape == "outputs" else "properties"
    return {
        "resources": [
            {
                **_opa_input(r, r[key], r["options"]),
                "dependencies": r["dependencies"],
                "propertyDependencies": r["propertyDependencies"],
            }
            for r in resources
        ]
    }
