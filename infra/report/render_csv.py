"""The report as one long CSV table, one access fact per row, for spreadsheets.

Columns: section, subject, relation, object, detail. The fingerprint and the
revision are rows of section `fingerprint`, so the file carries them too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

COLUMNS = ("section", "subject", "relation", "object", "detail")


def _rows(report: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    for role in report["roles"]:
        yield ("role", role["name"], "requires mfa", " ".join(role["mfa"]), "phishing-resistant only" if role["mfa_phishing_resistant_only"] else "")
        for row in role["reach"]:
            detail = "; ".join(row["routes"] + row["integrations"])
            yield ("role", role["name"], "holds permission", row["permission"], detail)
            yield from (("role", role["name"], "reaches secret", s, f"via {row['via']} for {row['permission']}") for s in row["secrets"])
            yield from (("role", role["name"], "reads rows", p, row["permission"]) for p in row["database"])
    for ident in report["identities"]:
        yield from (("identity", ident["name"], "reads secret", s, "") for s in ident["secrets"])
        yield from (("identity", ident["name"], "has client grant", g, "") for g in ident["client_grants"])
    for secret in report["secrets"]:
        plan = f"{secret['rotation']} every {secret['rotation_days']} days"
        yield ("secret", secret["key"], "rotation", plan, f"declared: {secret['declared_rotation_days'] or 'none'}")
        yield from (("secret", secret["key"], "may at the vendor", scope, "") for scope in secret["vendor_scopes"])
    for credential in report.get("credentials", []):
        for principal in credential["principals"]:
            paths = " | ".join(" -> ".join(path) for path in principal["paths"])
            yield ("credential", credential["key"], "reached by " + "+".join(principal["access"]), principal["principal"], f"{principal['kind']}: {paths}")
    for role in (report.get("people") or {}).get("roles", []):
        for h in role["holders"]:
            yield ("person", h["user"], "approved for", role["role"], f"by {h['approver']} on {h['approved']}, expires {h['expires']}")
    for grant in report["database"]["grants"]:
        yield ("database", grant["role"], "granted " + ",".join(grant["privileges"]), grant["on"], "")
    for policy in report["database"]["rls_policies"]:
        yield ("database", ",".join(policy["to"]), f"rls {policy['command']}", f"{policy['table']} {policy['name']}", policy["using"] or policy["check"])
    for p in report["trail_principals"]:
        controlled = "; ".join(p["controlled_by"])
        yield from (("trail", p["principal"], "reads the trail", way, controlled) for way in p["reads"])
        yield from (("trail", p["principal"], "alters the trail", way, controlled) for way in p["alters"])
    for pair in report["segregation_of_duties"]:
        yield ("sod", " + ".join(pair["permissions"]), pair["status"], ",".join(pair["roles_holding_both"]), pair["reason"])
    findings = report["findings"]
    if not findings["available"]:
        yield ("finding", "policy check", "not available", "", findings["note"])
    for f in findings["findings"]:
        yield ("finding", f["ruleId"], f"{f['severity']} {f['enforcementLevel']}", f["urn"] or f["name"], f["message"])
    for w in findings["waivers"]:
        yield ("waiver", w["ruleId"], "waived until " + w["expires"], w["urn"] or w["name"], w["owner"])
    yield ("fingerprint", "declared graph", "sha256", report["fingerprint"]["declared_graph_sha256"], "")
    yield ("fingerprint", "report", "sha256", report["fingerprint"]["report_sha256"], "")
    yield ("fingerprint", "git revision", "is", report["revision"], "")
    yield ("fingerprint", "generated at", "is", report.get("generated_at") or "", "")


def render_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(report))
    return buffer.getvalue()
