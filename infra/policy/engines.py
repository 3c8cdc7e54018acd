"""Rego engines behind one small interface: load the pack, query a set of rules for one input.

- `regorus` (PyPI gordon-to-regorus): a Rust Rego engine; rejects what OPA rejects.
- `regopy` (Microsoft rego-cpp): a second, independent implementation.
- `opa`: a running OPA server (opa-python-client) that has the pack loaded, for
  teams that evaluate centrally (`opa run --server policies/`).

Each query returns `{rule: [values]}` with sets as sorted lists, so the results
of two engines compare with `==`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

from infra.errors import UsageError

ENGINES = ("regorus", "regopy")
DEFAULT_ENGINE = "regorus"  # see docs/adr/0002-policy-engine.md for the evidence


class PolicyEngineError(UsageError):
    """The engine could not load the pack or evaluate it."""


class Engine(Protocol):
    name: str

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, list[Any]]: ...


def _canonical(value: Any) -> Any:
    """Sets (regorus) and arrays (regopy) of results as sorted lists, recursively."""
    if isinstance(value, (set, frozenset, list, tuple)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


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
        return f"data.{QUERY_PACKAGE}.{self._names[key]}"


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

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, list[Any]]:
        try:
            rule = self._queries.rule_for(rules)
            self._engine.set_input(document)
            # As JSON: the binding's own conversion fails on sets of objects (unhashable in Python).
            return _canonical(json.loads(self._engine.eval_rule_as_json(rule)))
        except Exception as exc:  # noqa: BLE001
            raise PolicyEngineError("regorus", [str(exc).split("\nStack backtrace:")[0].strip()]) from None


class RegopyEngine:
    name = "regopy"

    def __init__(self, package: str, modules: dict[str, str]) -> None:
        import regopy

        self._interpreter = regopy.Interpreter()
        self._queries = _QueryModules(package, self._interpreter.add_module)
        for path, text in modules.items():
            try:
                self._interpreter.add_module(path, text)
            except Exception as exc:  # noqa: BLE001
                raise PolicyEngineError(f"regopy: {path}", [str(exc)]) from None

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, list[Any]]:
        rule = self._queries.rule_for(rules)
        self._interpreter.set_input(document)
        output = self._interpreter.query(f"x := {rule}")
        # str() of a failed output can abort the process, so check ok() first.
        if not output.ok():
            raise PolicyEngineError("regopy", ["the query failed to compile or evaluate (run with --engine regorus for details)"])
        return _canonical(json.loads(output.binding("x").json()))

class OpaServerEngine:
    """Queries `data.<package>` on a running OPA server that has the pack loaded."""

    name = "opa"

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

    def query(self, rules: list[str], document: dict[str, Any]) -> dict[str, list[Any]]:
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

def make_engine(name: str, package: str, modules: dict[str, str], opa_url: str | None = None) -> Engine:
    if opa_url:
        return OpaServerEngine(package, opa_url)
    if name == "regorus":
        return RegorusEngine(package, modules)
    if name == "regopy":
        return RegopyEngine(package, modules)
    raise PolicyEngineError(name, [f"unknown engine; choose one of {', '.join(ENGINES)}"])
