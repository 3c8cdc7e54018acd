"""Policy findings and waivers for the report, from the policy evaluator when it exists.

The report never evaluates Rego itself: it asks `infra.policy` (the same check
`opshub policy check` runs). A revision without that evaluator gets a result
marked unavailable, which every renderer shows as "the check did not run",
never as "no findings". Access-model invariant violations (a plan that the
model refuses) are findings too, so an access diff can show them.
"""

from __future__ import annotations

import importlib
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
            {"rule": MODEL_RULE, "severity": "mandatory", "resource": "infra/model/access.yaml", "message": p}
            for p in problems
        )
        return PolicyResult(self.available, self.note, extra + self.findings, self.waivers)


def finding_key(finding: dict[str, Any]) -> tuple[str, str, str]:
    """What makes a finding the same finding in two plans."""
    return (str(finding.get("rule")), str(finding.get("resource")), str(finding.get("message")))


def evaluate(resources: list[dict[str, Any]]) -> PolicyResult:
    """Findings of the repo's policy pack on `resources`, or an explicit 'not available'."""
    try:
        policy = importlib.import_module("infra.policy")
    except ImportError:
        return PolicyResult(available=False, note=NOT_AVAILABLE)
    entry = getattr(policy, "report_findings", None)
    if entry is None:
        return PolicyResult(available=False, note=NOT_AVAILABLE)
    return entry(resources)
