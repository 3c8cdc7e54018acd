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

from infra.model.access import AccessModel

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

    def with_model_problems(self, problems: list[dict[str, str]]) -> PolicyResult:
        """Add the invariant violations of the model or approvals (`{"source", "message"}`) as mandatory findings."""
        extra = tuple(model_finding(p["source"], p["message"]) for p in problems)
        return PolicyResult(self.available, self.note, extra + self.findings, self.waivers)


def model_finding(source: str, message: str) -> dict[str, Any]:
    """An invariant violation in the fields of a policy finding; `name` is the file that breaks it."""
    return {
        "ruleId": MODEL_RULE,
        "rule": "model_invariant",
        "title": "The access model and approvals keep their invariants",
        "severity": "high",
        "enforcementLevel": "mandatory",
        "urn": "",
        "name": source,
        "type": "access model" if source.endswith("access.yaml") else "approved assignments",
        "message": message,
        "remediation": f"Fix {source}: `opshub plan` refuses it and names the entry.",
        "waived": False,
        "waiver": None,
    }


def is_blocking(finding: dict[str, Any]) -> bool:
    return finding["enforcementLevel"] == "mandatory" and not finding.get("waived")


def subject(finding: dict[str, Any]) -> str:
    """What a finding is about, for people: the resource's name, or its URN."""
    return str(finding.get("name") or finding.get("urn") or "")


def finding_key(finding: dict[str, Any]) -> tuple[str, str, str]:
    """What makes a finding the same finding in two plans (URNs differ between engines, names do not)."""
    return (str(finding.get("ruleId")), subject(finding), str(finding.get("message")))


def _waiver(f: Any) -> dict[str, Any]:
    w = f.waiver
    return {"ruleId": w.rule, "urn": f.urn, "name": f.name, "owner": w.owner, "expires": w.expires.isoformat(), "reason": w.reason}


def evaluate(resources: list[dict[str, Any]], model: AccessModel | None = None) -> PolicyResult:
    """Findings of the repo's policy pack on `resources` (as `opshub policy check` runs it), with its waivers.

    `model` is the access model the plan carries: the pack's model data is derived from it.
    """
    try:
        from infra.policy.check import check_stack  # noqa: PLC0415 - optional: a checkout may predate the pack
        from infra.policy.inputs import from_plan  # noqa: PLC0415
    except ImportError:
        return PolicyResult(available=False, note=NOT_AVAILABLE)
    from infra.policy.report import expired_waiver_json, finding_json  # noqa: PLC0415

    report = check_stack(from_plan({"resources": resources}), model=model)
    findings = tuple(finding_json(f) for f in report.findings if f.waiver is None)
    expired = tuple(expired_waiver_json(w) for w in report.expired_waivers)
    waivers = tuple(_waiver(f) for f in report.findings if f.waiver is not None)
    note = f"{len(report.rules)} rules of policies/ evaluated with {report.engine}"
    return PolicyResult(available=True, note=note, findings=findings + expired, waivers=waivers)
