"""Rego engines behind one small interface: load the pack, query a set of rules for one input.

- `regorus` (PyPI gordon-to-regorus): a Rust Rego engine; the fast default.
- `opa`: the real OPA (Go, v1.20) embedded through opa-golib-python-bindings, the
  reference for semantics. `per_rule=True` queries each rule alone as
  `data.<package>.<rule>`, as pulumi-policy-opa's evalPolicyPack does.
- `opa-server`: a running OPA server (opa-python-client) that has the pack loaded,
  for teams that evaluate centrally (`opa run --server policies/`).

Each query returns `{rule: value}` with sets as sorted lists, so the results of two
engines compare with `==`. `analyzer_messages` turns a rule's value into the messages
the analyzer reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

from infra.errors import UsageError

ENGINES = ("regorus", "opa")
DEFAULT_ENGINE = "regorus"  # see docs/adr/0002-policy-engine.md for the evidence
# What `make venv` installs OPA from; its metadata says Python >= 3.14, the wheel runs on 3.11.
OPA_BINDINGS = "opa-golib-python-bindings==0.4.4"


class PolicyEngineError(UsageError):
    """The engine could not load the pack or evaluate it."""


class Engine(Protocol):
    name: str

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, Any]: ...


def _canonical(value: Any) -> Any:
    """Sets and arrays of results as sorted lists, recursively (engines order sets differently)."""
    if isinstance(value, (set, frozenset, list, tuple)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def go_format(value: Any) -> str:
    """Go's `fmt.Sprintf("%v", v)` of a JSON value, as the analyzer prints a non-string result."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def analyzer_messages(value: Any) -> list[str]:
    """A rule's value as pulumi-policy-opa's evalPolicyPack reports it.

    Only a set (an array) yields messages: a string as it is, an object's string
    `msg`, anything else printed with `%v` (extractViolationMessage).
    """
    if not isinstance(value, list):
        return []
    messages = []
    for item in value:
        if isinstance(item, str):
            messages.append(item)
        elif isinstance(item, dict) and isinstance(item.get("msg"), str):
            messages.append(item["msg"])
        else:
            messages.append(go_format(item))
    return messages


QUERY_PACKAGE = "opshub_query"


class _QueryModules:
    """One generated rule per set of rules queried together, so each evaluation is a single rule lookup.

    (regorus rejects Rego lines over 1024 columns, so one entry per line.)
    """

    def __init__(self, package: str, add_module: Callable[[str, str], object]) -> None:
        self.package = package
        self._add_module = add_module
        self._names: dict[tuple[str, ...], str] = {}

    def rule_for(self, rules: list[str]) -> str:
        key = tuple(rules)
        if key not in self._names:
            name = f"q{len(self._names)}"
            entries = "".join(f'\n\t"{r}": data.{self.package}.{r},' for r in rules)
            self._add_module(f"{QUERY_PACKAGE}_{name}.rego", f"package {QUERY_PACKAGE}\n\nimport rego.v1\n\n{name} := {{{entries}\n}}\n")
            self._names[key] = name
        return f"{QUERY_PACKAGE}.{self._names[key]}"


class RegorusEngine:
    name = "regorus"

    def __init__(self, package: str, modules: dict[str, str]) -> None:
        import regorus

        self._engine = regorus.Engine()
        self._queries = _QueryModules(package, self._engine.add_policy)
        for path, text in modules.items():
            try:
                self._engine.add_policy(path, text)
            except Exception as exc:  # noqa: BLE001 - the binding raises bare exceptions
                raise PolicyEngineError(f"regorus: {path}", [str(exc).split("\nStack backtrace:")[0].strip()]) from None

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, Any]:
        try:
            rule = self._queries.rule_for(rules)
            # As JSON both ways: the binding converts neither None in nor sets of objects out.
            self._engine.set_input_json(json.dumps(document))
            return _canonical(json.loads(self._engine.eval_rule_as_json(f"data.{rule}")))
        except Exception as exc:  # noqa: BLE001
            raise PolicyEngineError("regorus", [str(exc).split("\nStack backtrace:")[0].strip()]) from None


def _opa_bindings() -> Any:
    try:
        from opa_bindings import engine
    except ImportError:
        problem = f"the OPA engine is not installed; `make venv` installs it ({OPA_BINDINGS}, pinned by hash)"
        raise PolicyEngineError("opa", [problem]) from None
    return engine


class OpaEngine:
    """Real OPA in-process. Batched by default; `per_rule` asks each rule alone, as the analyzer does."""

    name = "opa"

    def __init__(self, package: str, modules: dict[str, str], per_rule: bool = False) -> None:
        opa = _opa_bindings()
        self._errors = opa.OpaError
        self._undefined = opa.OpaUndefinedError
        self._engine = opa.OpaEngine()
        self._package = package
        self.per_rule = per_rule
        self._queries = _QueryModules(package, self._engine.add_policy)
        for path, text in modules.items():
            try:
                self._engine.add_policy(path, text)
            except self._errors as exc:
                raise PolicyEngineError(f"opa: {path}", [exc.message]) from None

    def _document(self, path: str, document: dict[str, Any]) -> Any:
        try:
            return self._engine.eval_document(path, document)
        except self._undefined:
            return None
        except self._errors as exc:
            raise PolicyEngineError("opa", [exc.message]) from None

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, Any]:
        if self.per_rule:
            return _canonical({r: self._document(f"{self._package}.{r}", document) for r in rules})
        return _canonical(self._document(self._queries.rule_for(rules), document))


class OpaServerEngine:
    """Queries `data.<package>` on a running OPA server that has the pack loaded."""

    name = "opa-server"

    def __init__(self, package: str, url: str, timeout: float = 10.0) -> None:
        from opa_client.opa import OpaClient

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise PolicyEngineError(url, ["--opa-url must be an http(s)://host[:port] URL"])
        self.package = package
        self.url = url
        self._client = OpaClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8181),
            ssl=parsed.scheme == "https",
            timeout=timeout,
        )

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, Any]:
        import requests

        try:
            response = self._client.query_rule(document, self.package)
        except requests.RequestException as exc:
            raise PolicyEngineError(self.url, [f"the OPA server did not answer: {exc}"]) from None
        package_doc = response.get("result")
        if not isinstance(package_doc, dict):
            raise PolicyEngineError(self.url, [f"the OPA server has no package {self.package!r} loaded"])
        missing = [r for r in rules if r not in package_doc]
        if missing:
            raise PolicyEngineError(self.url, [f"the OPA server's pack lacks rules {missing}; load policies/ there"])
        return _canonical({r: package_doc[r] for r in rules})


def make_engine(name: str, package: str, modules: dict[str, str], opa_url: str | None = None, per_rule: bool = False) -> Engine:
    if opa_url:
        return OpaServerEngine(package, opa_url)
    if name == "regorus":
        return RegorusEngine(package, modules)
    if name == "opa":
        return OpaEngine(package, modules, per_rule=per_rule)
    raise PolicyEngineError(name, [f"unknown engine; choose one of {', '.join(ENGINES)}"])
