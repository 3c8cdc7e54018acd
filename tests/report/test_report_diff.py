"""The access diff on plain reports: additions are widening, removals are not, findings are new or resolved."""

from __future__ import annotations

import copy

from infra.report.diff import diff_reports, has_changes, render_diff_md


def _changed(report: dict) -> dict:
    return copy.deepcopy(report)


def _role(report: dict, name: str) -> dict:
    return next(r for r in report["roles"] if r["name"] == name)


def test_identical_reports_have_no_change(prod_report: dict) -> None:
    diff = diff_reports(prod_report, prod_report)

    assert not has_changes(diff) and diff["widening"] == []
    assert "No access change." in render_diff_md(diff)


def test_a_gained_permission_is_exactly_one_widening_and_a_lost_one_is_none(prod_report: dict) -> None:
    head = _changed(prod_report)
    _role(head, "ops-viewer")["permissions"].append("payments:refund")
    _role(head, "ops-sre")["permissions"].remove("incidents:ack")

    diff = diff_reports(prod_report, head)

    assert diff["widening"] == ["role `ops-viewer` gains permission `payments:refund` (writes, privileged)"]
    assert diff["roles"]["ops-sre"] == {"permissions": {"removed": ["incidents:ack"]}}
    md = render_diff_md(diff)
    assert "**This change widens access** (1)" in md and "`ops-sre` | permission |  | incidents:ack |" in md


def test_weaker_mfa_new_secret_reach_and_identity_reads_are_widening(prod_report: dict) -> None:
    head = _changed(prod_report)
    payments = _role(head, "ops-payments")
    payments["mfa"].append("otp")
    payments["mfa_phishing_resistant_only"] = False
    payments["secrets"].append("slack/webhook-url")
    runtime = next(i for i in head["identities"] if i["name"] == "ops-hub-runtime")
    runtime["secrets"].append("supabase/master")

    widening = diff_reports(prod_report, head)["widening"]

    assert widening == [
        "role `ops-payments` now reaches secret `slack/webhook-url`",
        "role `ops-payments` accepts MFA factor `otp`",
        "role `ops-payments` no longer requires a phishing-resistant factor",
        "identity `ops-hub-runtime` can read secret `supabase/master`",
    ]


def test_new_findings_are_listed_and_old_ones_resolved(prod_report: dict) -> None:
    base, head = _changed(prod_report), _changed(prod_report)
    old = {"rule": "OPS-AWS-001", "severity": "high", "mandatory": True, "resource": "a", "message": "gone"}
    new = {"rule": "OPS-AUTH-002", "severity": "high", "mandatory": True, "resource": "b", "message": "read-only role writes"}
    base["findings"]["findings"] = [old]
    head["findings"]["findings"] = [new]

    diff = diff_reports(base, head)

    assert (diff["new_findings"], diff["resolved_findings"]) == ([new], [old])
    assert "`OPS-AUTH-002` (high, mandatory) b: read-only role writes" in render_diff_md(diff)


def test_rotation_and_reader_changes_per_secret(prod_report: dict) -> None:
    head = _changed(prod_report)
    stripe = next(s for s in head["secrets"] if s["key"] == "stripe/secret-key")
    stripe["rotation_days"] = 60
    stripe["readers"] = []

    change = diff_reports(prod_report, head)["secrets"]["stripe/secret-key"]

    assert change["readers"] == {"removed": ["ops-hub-runtime"]}
    assert change["rotation"] == {"from": "reminder every 90 days", "to": "reminder every 60 days"}


def test_a_new_vendor_scope_is_widening_and_a_dropped_one_is_not(prod_report: dict) -> None:
    head = _changed(prod_report)
    stripe = next(s for s in head["secrets"] if s["key"] == "stripe/secret-key")
    stripe["vendor_scopes"] = [s for s in stripe["vendor_scopes"] if s != "grant rak_dispute_read"] + ["grant rak_payout_write"]

    diff = diff_reports(prod_report, head)

    assert diff["secrets"]["stripe/secret-key"]["vendor_scopes"] == {"added": ["grant rak_payout_write"], "removed": ["grant rak_dispute_read"]}
    assert diff["widening"] == ["secret `stripe/secret-key` may now do `grant rak_payout_write` at the vendor"]
