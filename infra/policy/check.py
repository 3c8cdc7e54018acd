"""Evaluate the pack over a stack's resources: findings with rule id, severity, resource and message.

Resource rules run once per resource with the analyzer's per-resource input;
stack rules run once over the whole stack, and their findings sets name the
resource each message is about. Waivers are applied last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.model.access import AccessModel
from infra.policy.engines import DEFAULT_ENGINE, Engine, analyzer_messages, make_engine
from infra.policy.generate import with_model
from infra.policy.inputs import DEFAULT_STACK_SHAPE, analyzer_input, stack_input
from infra.policy.pack import PACK_DIR, PolicyPack, Rule, load_pack
from infra.policy.waivers import WAIVERS_FILE, Waiver, load_waivers


@dataclass(frozen=True)
class Finding:
    rule: Rule
    urn: str
    name: str
    type: str
    message: str
    waiver: Waiver | None = None

    @property
    def blocking(self) -> bool:
        return self.rule.enforcement == "mandatory" and self.waiver is None


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    expired_waivers: list[Waiver]
    resource_count: int
    engine: str
    source: str = ""
    source_format: str = ""
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """1 on any unwaived mandatory finding or any expired waiver, else 0."""
        return 1 if any(f.blocking for f in self.findings) or self.expired_waivers else 0


def _resource_findings(pack: PolicyPack, engine: Engine, resources: list[dict[str, Any]]) -> list[Finding]:
    rules = pack.of_scope("resource")
    names = [r.name for r in rules]
    findings = []
    for resource in resources:
        values = engine.query(names, analyzer_input(resource))
        findings += [
            Finding(rule, resource["urn"], resource["name"], resource["type"], message)
            for rule in rules
            for message in analyzer_messages(values[rule.name])
        ]
    return findings


def _stack_findings(pack: PolicyPack, engine: Engine, resources: list[dict[str, Any]], shape: str) -> list[Finding]:
    rules = pack.of_scope("stack")
    if not rules:
        return []
    by_urn = {r["urn"]: r for r in resources}
    values = engine.query([r.findings_rule for r in rules], stack_input(resources, shape))
    findings = []
    for rule in rules:
        for hit in values[rule.findings_rule]:
            resource = by_urn.get(hit["urn"], {"name": "", "type": ""})
            findings.append(Finding(rule, hit["urn"], resource["name"], resource["type"], hit["msg"]))
    return findings


def _apply_waivers(findings: list[Finding], waivers: tuple[Waiver, ...], today: dt.date) -> list[Finding]:
    active = [w for w in waivers if not w.expired(today)]
    return [
        Finding(f.rule, f.urn, f.name, f.type, f.message, next((w for w in active if w.matches(f.rule.id, f.urn, f.type, f.name)), None))
        for f in findings
    ]


def run_check(
    pack: PolicyPack,
    engine: Engine,
    resources: list[dict[str, Any]],
    waivers: tuple[Waiver, ...] = (),
    today: dt.date | None = None,
    stack_shape: str = DEFAULT_STACK_SHAPE,
) -> Report:
    today = today or dt.datetime.now(dt.UTC).date()
    findings = _resource_findings(pack, engine, resources) + _stack_findings(pack, engine, resources, stack_shape)
    findings.sort(key=lambda f: (f.rule.id, f.urn, f.message))
    return Report(
        findings=_apply_waivers(findings, waivers, today),
        expired_waivers=[w for w in waivers if w.expired(today)],
        resource_count=len(resources),
        engine=engine.name,
        rules=pack.rules,
    )


def check_stack(
    resources: list[dict[str, Any]],
    engine_name: str = DEFAULT_ENGINE,
    opa_url: str | None = None,
    pack_dir: Path = PACK_DIR,
    waivers_path: Path = WAIVERS_FILE,
    today: dt.date | None = None,
    model: AccessModel | None = None,
    stack_shape: str = DEFAULT_STACK_SHAPE,
    per_rule: bool = False,
) -> Report:
    """Load the pack and the waivers, then evaluate the resources with the chosen engine.

    With `model`, the pack's model data is derived from it (infra/policy/generate.py), so a
    stale policies/model.rego can never turn into a finding.
    """
    pack = load_pack(pack_dir)
    if model is not None:
        pack = with_model(pack, model)
    waivers = load_waivers(waivers_path, frozenset(pack.rule_by_id))
    engine = make_engine(engine_name, pack.package, pack.modules, opa_url, per_rule=per_rule)
    return run_check(pack, engine, resources, waivers, today, stack_shape)
