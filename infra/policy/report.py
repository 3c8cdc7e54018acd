"""Render a policy report as text (people), JSON (tools) or SARIF 2.1.0 (GitHub code scanning)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from infra.policy.check import Finding, Report
from infra.policy.pack import Rule
from infra.policy.sources import SourceLine
from infra.policy.waivers import Waiver

Locate = Callable[[Finding], SourceLine | None]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}
# GitHub ranks code-scanning alerts by `security-severity` (0-10).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
RULES_ROOT = "policies/"


def with_source(report: Report, source: str, source_format: str) -> Report:
    return replace(report, source=source, source_format=source_format)


def _verdict(f: Finding) -> str:
    if f.waiver:
        return "WAIVED"
    return "DENY" if f.rule.enforcement == "mandatory" else "WARN"


def _text_finding(f: Finding) -> str:
    """A verdict for people: rule id, severity and message, then the resource's URN and how to fix it."""
    lines = [f"{_verdict(f):<6} {f.rule.id} [{f.rule.severity}] {f.message}", f"       resource: {f.urn}"]
    if f.waiver:
        lines.append(f"       waived: {f.waiver.describe()}: {f.waiver.reason}")
    else:
        lines.append(f"       fix: {f.rule.remediation}")
    return "\n".join(lines)


def render_text(report: Report) -> str:
    lines = [_text_finding(f) for f in report.findings]
    lines += [f"EXPIRED waiver {w.describe()}: renew it or remove it" for w in report.expired_waivers]
    blocking = sum(f.blocking for f in report.findings)
    waived = sum(f.waiver is not None for f in report.findings)
    advisory = sum(f.rule.enforcement == "advisory" and not f.waiver for f in report.findings)
    verdict = "FAIL" if report.exit_code else "PASS"
    lines.append(
        f"policy check {verdict}: {len(report.rules)} rules over {report.resource_count} resources "
        f"({report.engine}): {blocking} mandatory, {advisory} advisory, {waived} waived, "
        f"{len(report.expired_waivers)} expired waivers"
    )
    return "\n".join(lines)


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding for tools; the access report and diff use these same fields."""
    return {
        "ruleId": f.rule.id,
        "rule": f.rule.name,
        "title": f.rule.title,
        "severity": f.rule.severity,
        "enforcementLevel": f.rule.enforcement,
        "urn": f.urn,
        "name": f.name,
        "type": f.type,
        "message": f.message,
        "remediation": f.rule.remediation,
        "waived": f.waiver is not None,
        "waiver": None
        if f.waiver is None
        else {"owner": f.waiver.owner, "reason": f.waiver.reason, "expires": f.waiver.expires.isoformat()},
    }


def render_json(report: Report) -> dict[str, Any]:
    return {
        "verdict": "fail" if report.exit_code else "pass",
        "engine": report.engine,
        "input": {"path": report.source, "format": report.source_format, "resources": report.resource_count},
        "findings": [finding_json(f) for f in report.findings],
        "expiredWaivers": [
            {"ruleId": w.rule, "resource": w.resource.model_dump(exclude_none=True), "owner": w.owner, "expires": w.expires.isoformat()}
            for w in report.expired_waivers
        ],
    }


def expired_waiver_json(w: Waiver) -> dict[str, Any]:
    """An expired waiver as a mandatory finding (it fails the check until renewed or removed)."""
    return {
        "ruleId": w.rule,
        "rule": "expired_waiver",
        "title": "A waiver has expired",
        "severity": "high",
        "enforcementLevel": "mandatory",
        "urn": w.resource.urn or "",
        "name": w.describe(),
        "type": "waiver",
        "message": f"the waiver of {w.rule} for {w.describe()} expired on {w.expires.isoformat()}",
        "remediation": "Renew the waiver in policies/waivers.yaml (owner, reason, a new expires date) or remove it.",
        "waived": False,
        "waiver": None,
    }


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation, "markdown": f"**Remediation:** {rule.remediation}"},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.enforcement]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "least-privilege"],
            "precision": "high",
        },
    }


def _physical(uri: str, line: int) -> dict[str, Any]:
    return {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": line}}


def _sarif_result(f: Finding, index: int, source: SourceLine | None) -> dict[str, Any]:
    """A result at the input line that caused it (code scanning annotates that line), else at the rule."""
    rule_file = _physical(RULES_ROOT + f.rule.path, f.rule.line)
    location: dict[str, Any] = {
        "physicalLocation": _physical(source.path, source.line) if source else rule_file,
        "logicalLocations": [{"fullyQualifiedName": f.urn, "name": f.name, "kind": "resource"}],
    }
    if source:
        location["message"] = {"text": f"{source.what}: the plan's {f.type} {f.name} comes from here"}
    result: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": SARIF_LEVEL[f.rule.enforcement],
        "message": {"text": f"{f.message}. Fix: {f.rule.remediation}"},
        "locations": [location],
        "partialFingerprints": {"opshubFinding/v1": hashlib.sha256(f"{f.rule.id}|{f.urn}|{f.message}".encode()).hexdigest()},
    }
    if source:
        result["relatedLocations"] = [{"id": 1, "physicalLocation": rule_file, "message": {"text": f"the rule {f.rule.id}"}}]
    if f.waiver:
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f"{f.waiver.reason} (owner {f.waiver.owner}, expires {f.waiver.expires.isoformat()})"}]
    return result


def render_sarif(report: Report, locate: Locate | None = None) -> dict[str, Any]:
    """SARIF 2.1.0 for code scanning; `locate` maps a finding to the input line behind it."""
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "opshub-policy",
                        "informationUri": "https://github.com/pulumi/pulumi-policy-opa",
                        "semanticVersion": "1.0.0",
                        "rules": [_sarif_rule(r) for r in report.rules],
                    }
                },
                "automationDetails": {"id": f"opshub-policy/{report.source_format or 'input'}/"},
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repository root"}}},
                "results": [_sarif_result(f, index[f.rule.id], locate(f) if locate else None) for f in report.findings],
            }
        ],
    }
