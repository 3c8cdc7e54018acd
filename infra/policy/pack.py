"""The policy pack on disk: its Rego modules and the METADATA of each rule.

pulumi-policy-opa treats a rule as a policy by its name (`deny`/`violation`
mandatory, `warn` advisory, `stack_` prefixed ones stack-level); everything
else is a helper. regorus lacks `rego.metadata` and the OPA bindings skip annotations, so the
`# METADATA` blocks are read from the source here.

A stack rule is written as `stack_deny_X contains f.msg if some f in X`,
where the helper set `X` holds `{"urn", "msg"}` objects: the analyzer reports
the messages, and `opshub policy check` reads `X` to name the resource of each one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml

from infra.config import REPO_ROOT
from infra.errors import UsageError
from infra.yamlio import parse_yaml

PACK_DIR = REPO_ROOT / "policies"

# The analyzer's own patterns (pulumi-policy-opa policy.go).
DENY = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
WARN = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
STACK_DENY = re.compile(r"^stack_(deny|violation)(_[a-zA-Z0-9]+)*$")
STACK_WARN = re.compile(r"^stack_warn(_[a-zA-Z0-9]+)*$")
STACK_PREFIX = re.compile(r"^stack_(deny|violation|warn)_")

RULE_ID = re.compile(r"^OPS-[A-Z]+-\d{3}$")
SEVERITIES = ("critical", "high", "medium", "low")
PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$", re.MULTILINE)
RULE_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\b")

Enforcement = Literal["mandatory", "advisory"]
Scope = Literal["resource", "stack"]


class PolicyPackError(UsageError):
    """The policy pack is malformed: mixed packages, a rule without METADATA, a bad id."""


@dataclass(frozen=True)
class Rule:
    name: str
    id: str
    title: str
    severity: str
    description: str
    remediation: str
    enforcement: Enforcement
    scope: Scope
    path: str
    line: int

    @property
    def findings_rule(self) -> str:
        """The rule to query for attributed findings: the helper set behind a stack rule."""
        return STACK_PREFIX.sub("", self.name) if self.scope == "stack" else self.name


@dataclass(frozen=True)
class PolicyPack:
    package: str
    modules: dict[str, str]
    rules: tuple[Rule, ...]

    @cached_property
    def rule_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def of_scope(self, scope: Scope) -> list[Rule]:
        return [r for r in self.rules if r.scope == scope]


def classify(name: str) -> tuple[Enforcement, Scope] | None:
    """The enforcement level and scope the analyzer gives a rule name, or None for a helper."""
    if STACK_DENY.match(name):
        return "mandatory", "stack"
    if STACK_WARN.match(name):
        return "advisory", "stack"
    if DENY.match(name):
        return "mandatory", "resource"
    if WARN.match(name):
        return "advisory", "resource"
    return None


def _metadata_blocks(text: str, path: str, problems: list[str]) -> list[tuple[dict, str, int]]:
    """Each `# METADATA` block with the name and line of the rule head below it."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        body = []
        i += 1
        while i < len(lines) and lines[i].startswith("#"):
            body.append(lines[i][2:] if lines[i].startswith("# ") else lines[i][1:])
            i += 1
        head = RULE_HEAD.match(lines[i]) if i < len(lines) else None
        try:
            meta = parse_yaml("\n".join(body)) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{path}:{i + 1}: METADATA is not valid YAML: {' '.join(str(exc).split())}")
            continue
        blocks.append((meta if isinstance(meta, dict) else {}, head.group(1) if head else "", i + 1))
    return blocks


def _rule_heads(text: str) -> set[str]:
    return {m.group(1) for line in text.splitlines() if (m := RULE_HEAD.match(line))} - {"package", "import"}


def _rule(name: str, meta: dict, path: str, line: int, problems: list[str]) -> Rule | None:
    kind = classify(name)
    custom = meta.get("custom") or {}
    fields = {
        "title": meta.get("title"),
        "description": meta.get("description"),
        "id": custom.get("id"),
        "severity": custom.get("severity"),
        "remediation": custom.get("remediation"),
    }
    where = f"{path}:{line} rule {name!r}"
    missing = [k for k, v in fields.items() if not isinstance(v, str) or not v.strip()]
    if missing:
        problems.append(f"{where}: METADATA lacks {', '.join(missing)}")
        return None
    if not RULE_ID.match(fields["id"]):
        problems.append(f"{where}: id {fields['id']!r} must have the form OPS-<AREA>-<NNN>")
    if fields["severity"] not in SEVERITIES:
        problems.append(f"{where}: severity {fields['severity']!r} must be one of {', '.join(SEVERITIES)}")
    if kind is None:
        problems.append(f"{where}: has METADATA but is not a deny/violation/warn/stack_* rule")
        return None
    return Rule(name=name, enforcement=kind[0], scope=kind[1], path=path, line=line, **{k: v.strip() for k, v in fields.items()})


def load_pack(directory: Path = PACK_DIR) -> PolicyPack:
    """Read every .rego file of the pack (as the analyzer does) and check the rule catalogue."""
    paths = sorted(Path(directory).rglob("*.rego"))
    if not paths:
        raise PolicyPackError(str(directory), ["no .rego files: not a policy pack directory"])
    root = Path(directory)
    modules = {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in paths}
    problems: list[str] = []
    packages = {path: PACKAGE.search(text) for path, text in modules.items()}
    names = {m.group(1) for m in packages.values() if m}
    problems += [f"{path}: has no package declaration" for path, m in packages.items() if m is None]
    if len(names) > 1:
        problems.append(f"the pack must use one package, found {sorted(names)}")
    rules: list[Rule] = []
    described: set[str] = set()
    heads = set().union(*(_rule_heads(t) for t in modules.values()))
    for path, text in modules.items():
        for meta, name, line in _metadata_blocks(text, path, problems):
            if meta.get("scope") == "package":
                continue
            rule = _rule(name, meta, path, line, problems)
            if rule:
                rules.append(rule)
                described.add(name)
                if rule.scope == "stack" and rule.findings_rule not in heads:
                    problems.append(f"{path}:{line} rule {name!r}: its findings set {rule.findings_rule!r} is not defined")
    problems += [f"rule {name!r} has no METADATA block" for name in sorted(heads - described) if classify(name)]
    ids = [r.id for r in rules]
    problems += [f"rule id {i} is used more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise PolicyPackError(str(directory), problems)
    return PolicyPack(package=names.pop(), modules=modules, rules=tuple(sorted(rules, key=lambda r: r.id)))
