"""Policy findings and waivers for the report, from the policy evaluator when it exists.

The report never evaluates Rego itself: it asks `infra.policy` (the same check
`opshub policy check` runs). A revision without that evaluator gets a result
marked unavailable, which every renderer shows as "the check did not run",
never as "no findings". Access-model invariant violations (a plan that the
model refuses) are findings too, so an access diff can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODEL_RULE = "MODEL-INVARIANT"
NOT_AVAILABLE = "not available: this checkout has no policy evaluator (infra/policy/), so no policy check ran"


@dataclass(frozen=True)
class PolicyResult:
    available: bool
    note: str
    findings: tuple[dict[str, Any], ...] = ()
    waivers: tuple[dict[str, Any], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "note": self.note,
            "findings": list(self.findings),
            "waivers": list(self.waivers),
        }

    def with_model_problems(self, problems: list[str]) -> PolicyResult:
        """Add the access model's invariant violations as mandatory findings."""
        extra = tuple(
            {"rule": MODEL_RULE, "severity": "high", "mandatory": True, "resource": "infra/model/access.yaml", "type": "access model", "message": p}
            for p in problems
        )
        return PolicyResult(self.available, self.note, extra + self.findings, self.waivers)


def finding_key(finding: dict[str, Any]) -> tuple[str, str, str]:
    """What makes a finding the same finding in two plans."""
    return (str(finding.get("rule")), str(finding.get("resource")), str(finding.get("message")))


def _finding(f: Any) -> dict[str, Any]:
    return {
        "rule": f.rule.id,
        "severity": f.rule.severity,
        "mandatory": f.blocking,
        "resource": f.name or f.urn,
        "type": f.type,
        "message": f.message,
    }


def _waiver(f: Any) -> dict[str, Any]:
    w = f.waiver
    return {"rule": w.rule, "resource": f.name or f.urn, "owner": w.owner, "expires": w.expires.isoformat(), "reason": w.reason}


def evaluate(resources: list[dict[str, Any]]) -> PolicyResult:
    """Findings of the repo's policy pack on `resources` (as `opshub policy check` runs it), with its waivers."""
    try:
        from infra.policy.check import check_stack  # noqa: PLC0415 - optional: a checkout may predate the pack
        from infra.policy.inputs import from_plan  # noqa: PLC0415
    except ImportError:
        return PolicyResult(available=False, note=NOT_AVAILABLE)
    report = check_stack(from_plan({"resources": resources}))
    findings = tuple(_finding(f) for f in report.findings if f.waiver is None)
    expired = tuple(
        {"rule": w.rule, "severity": "high", "mandatory": True, "resource": w.describe(), "type": "waiver", "message": "the waiver has expired"}
        for w in report.expired_waivers
    )
    waivers = tuple(_waiver(f) for f in report.findings if f.waiver is not None)
    note = f"{len(report.rules)} rules of policies/ evaluated with {report.engine}"
    return PolicyResult(available=True, note=note, findings=findings + expired, waivers=waivers)
