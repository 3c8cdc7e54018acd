"""The access diff on plain reports: structured data, additions are widening, removals are not, Markdown from the data."""

from __future__ import annotations

import copy
import json

from infra.report.diff import COMMENT_MARKER, blocks, diff_reports, has_changes, render_diff_md, widening_sentence
from infra.report.findings import model_finding


def _changed(report: dict) -> dict:
    return copy.deepcopy(report)


def _role(report: dict, name: str) -> dict:
    return next(r for r in report["roles"] if r["name"] == name)


def _credential(report: dict, key: str) -> dict:
    return next(c for c in report["credentials"] if c["key"] == key)


def _strings_only_in(value: object, path: str = "") -> list[str]:
    """Paths of strings that carry Markdown markup: the JSON must be data, not text for one renderer."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings_only_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings_only_in(v, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and ("`" in value or "**" in value or value.startswith("|")) else []


def test_identical_reports_have_no_change(prod_report: dict) -> None:
    diff = diff_reports(prod_report, prod_report)

    assert not has_changes(diff) and diff["widening"] == []
    assert "No access change." in render_diff_md(diff)


def test_a_gained_permission_is_exactly_one_widening_and_a_lost_one_is_none(prod_report: dict) -> None:
    head = _changed(prod_report)
    _role(head, "ops-viewer")["permissions"].append("payments:refund")
    _role(head, "ops-sre")["permissions"].remove("incidents:ack")

    diff = diff_reports(prod_report, head)

    assert diff["widening"] == [{"kind": "permission_added", "subject": "ops-viewer", "object": "payments:refund", "detail": "writes, privileged"}]
    assert diff["roles"]["ops-sre"] == {"permissions": {"removed": ["incidents:ack"]}}
    md = render_diff_md(diff)
    assert "role `ops-viewer` gains permission `payments:refund` (writes, privileged)" in md
    assert "**This change widens access** (1)" in md and "`ops-sre` | permission |  | incidents:ack |" in md


def test_weaker_mfa_new_secret_reach_and_identity_reads_are_widening(prod_report: dict) -> None:
    head = _changed(prod_report)
    payments = _role(head, "ops-payments")
    payments["mfa"].append("otp")
    payments["mfa_phishing_resistant_only"] = False
    payments["secrets"].append("slack/webhook-url")
    runtime = next(i for i in head["identities"] if i["name"] == "ops-hub-runtime")
    runtime["secrets"].append("supabase/master")

    widening = [widening_sentence(w) for w in diff_reports(prod_report, head)["widening"]]

    assert widening == [
        "role `ops-payments` no longer requires a phishing-resistant factor",
        "role `ops-payments` now reaches secret `slack/webhook-url`",
        "role `ops-payments` accepts MFA factor `otp`",
        "identity `ops-hub-runtime` can read secret `supabase/master`",
    ]


def test_new_findings_use_the_policy_check_fields_and_old_ones_resolve(prod_report: dict) -> None:
    base, head = _changed(prod_report), _changed(prod_report)
    old = model_finding("infra/model/access.yaml", "gone")
    new = {**model_finding("infra/model/access.yaml", "read-only role writes"), "ruleId": "OPS-AUTH-002", "remediation": "Remove it."}
    base["findings"]["findings"] = [old]
    head["findings"]["findings"] = [new]

    diff = diff_reports(base, head)

    assert (diff["new_findings"], diff["resolved_findings"]) == ([new], [old])
    assert {"ruleId", "severity", "enforcementLevel", "urn", "name", "type", "message"} <= new.keys()
    assert blocks(diff), "a new mandatory finding fails the diff"
    assert "`OPS-AUTH-002` (high, mandatory) infra/model/access.yaml: read-only role writes Remediation: Remove it." in render_diff_md(diff)


def test_added_and_removed_routes(prod_report: dict) -> None:
    head = _changed(prod_report)
    head["routes"].append({"method": "DELETE", "path": "/ops/payments/refunds", "permission": "payments:refund"})
    (analytics,) = [r for r in head["routes"] if r["path"] == "/ops/analytics"]
    head["routes"].remove(analytics)

    diff = diff_reports(prod_report, head)

    assert diff["routes"] == {
        "added": [{"method": "DELETE", "path": "/ops/payments/refunds", "permission": "payments:refund"}],
        "removed": [analytics],
    }
    assert {"kind": "route_added", "subject": "DELETE /ops/payments/refunds", "object": "payments:refund", "detail": ""} in diff["widening"]
    assert "added `DELETE /ops/payments/refunds` (needs `payments:refund`)" in render_diff_md(diff)


def test_an_integration_level_raised_from_view_to_edit_is_widening(prod_report: dict) -> None:
    head = _changed(prod_report)
    _role(head, "ops-auditor")["integrations"]["stripe"] = "edit"

    diff = diff_reports(prod_report, head)

    assert diff["roles"]["ops-auditor"]["integrations"] == {"stripe": {"from": "view", "to": "edit"}}
    assert diff["widening"] == [{"kind": "integration_level_raised", "subject": "ops-auditor", "object": "stripe", "detail": "view → edit"}]
    assert "| `ops-auditor` | stripe level | edit | view |" in render_diff_md(diff)


def test_new_and_removed_readers_of_each_credential(prod_report: dict) -> None:
    head = _changed(prod_report)
    stripe = _credential(head, "stripe/secret-key")
    stripe["principals"].append({"principal": "metrics-job", "kind": "job", "description": "", "access": ["read"], "paths": [], "people": []})
    master = _credential(head, "supabase/rotator")
    master["principals"] = [p for p in master["principals"] if p["principal"] != "ops-hub-prod-rotate-supabase-ops-audit-exporter"]

    diff = diff_reports(prod_report, head)

    assert diff["credentials"]["stripe/secret-key"]["principals"] == {"added": [{"principal": "metrics-job", "kind": "job", "access": ["read"]}]}
    assert diff["credentials"]["supabase/rotator"]["principals"]["removed"][0]["principal"] == "ops-hub-prod-rotate-supabase-ops-audit-exporter"
    assert [w for w in diff["widening"] if w["kind"] == "credential_principal_added"] == [
        {"kind": "credential_principal_added", "subject": "stripe/secret-key", "object": "metrics-job", "detail": "read"}
    ]
    assert "`metrics-job` can now read credential `stripe/secret-key`" in render_diff_md(diff)


def test_an_approved_person_who_would_now_hold_a_sod_pair(prod_report: dict) -> None:
    head = _changed(prod_report)
    person = next(p for p in head["people"]["persons"] if p["roles"] == ["ops-payments"])
    person["sod_pairs"] = [["payments:refund", "audit:export"]]

    diff = diff_reports(prod_report, head)

    assert diff["people_sod"] == [{"user": person["user"], "roles": ["ops-payments"], "sod_pairs": [["payments:refund", "audit:export"]]}]
    assert any(w["kind"] == "person_holds_sod_pair" and w["subject"] == person["user"] for w in diff["widening"])
    assert f"approved person `{person['user']}` (ops-payments) would hold payments:refund + audit:export" in render_diff_md(diff)


def test_rotation_changes_per_credential(prod_report: dict) -> None:
    head = _changed(prod_report)
    _credential(head, "stripe/secret-key")["rotation"]["days"] = 60

    change = diff_reports(prod_report, head)["credentials"]["stripe/secret-key"]

    assert change["rotation"]["from"]["days"] == 90 and change["rotation"]["to"]["days"] == 60


def test_the_json_is_data_and_the_markdown_carries_the_comment_marker(prod_report: dict) -> None:
    head = _changed(prod_report)
    _role(head, "ops-viewer")["permissions"].append("payments:refund")
    head["routes"].append({"method": "PUT", "path": "/ops/refunds", "permission": "payments:refund"})
    diff = diff_reports(prod_report, head)

    assert _strings_only_in(json.loads(json.dumps(diff))) == [], "the diff JSON must carry no Markdown"
    assert render_diff_md(diff).splitlines()[0] == COMMENT_MARKER


def test_a_new_vendor_scope_is_widening_and_a_dropped_one_is_not(prod_report: dict) -> None:
    head = _changed(prod_report)
    stripe = next(s for s in head["secrets"] if s["key"] == "stripe/secret-key")
    stripe["vendor_scopes"] = [s for s in stripe["vendor_scopes"] if s != "grant rak_dispute_read"] + ["grant rak_payout_write"]

    diff = diff_reports(prod_report, head)

    assert diff["credentials"]["stripe/secret-key"]["vendor_scopes"] == {"added": ["grant rak_payout_write"], "removed": ["grant rak_dispute_read"]}
    assert diff["widening"] == [{"kind": "vendor_scope_added", "subject": "stripe/secret-key", "object": "grant rak_payout_write", "detail": ""}]
    assert "credential `stripe/secret-key` may now do `grant rak_payout_write` at the vendor" in render_diff_md(diff)
