"""The access diff between two reports: what was added or removed per role, identity and secret.

`diff_reports(base, head)` compares two reports from `access.build_report`.
Every addition that lets someone do or read more is listed under `widening`
(a new permission, a weaker MFA, a newly reachable secret, a new grant or RLS
policy, a new role); `new_findings` are findings in head that base did not
have. `render_diff_md` writes it as a pull-request comment.
"""

from __future__ import annotations

from typing import Any

from infra.markdown import cell
from infra.report.findings import finding_key


def _changes(before: list[str], after: list[str]) -> dict[str, list[str]]:
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    return {k: v for k, v in (("added", added), ("removed", removed)) if v}


def _by_name(items: list[dict], key: str = "name") -> dict[str, dict]:
    return {item[key]: item for item in items}


_ROLE_FIELDS = {"permissions": "permission", "secrets": "secret", "database": "RLS policy", "mfa": "MFA factor"}


def _role_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[str]]:
    old, new = _by_name(base["roles"]), _by_name(head["roles"])
    perms = _by_name(head["permissions"]) | _by_name(base["permissions"])
    diffs: dict[str, dict] = {}
    widening: list[str] = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            diffs[name] = {"role": ["added"]}
            widening.append(f"new role `{name}` with {', '.join(new[name]['permissions']) or 'no permissions'}")
            continue
        if name not in new:
            diffs[name] = {"role": ["removed"]}
            continue
        changes = {f: c for f in _ROLE_FIELDS if (c := _changes(old[name][f], new[name][f]))}
        if old[name]["mfa_phishing_resistant_only"] and not new[name]["mfa_phishing_resistant_only"]:
            changes["mfa_phishing_resistant_only"] = {"removed": ["phishing-resistant only"]}
        if changes:
            diffs[name] = changes
        for perm in changes.get("permissions", {}).get("added", []):
            kind = [w for w, on in (("writes", perms.get(perm, {}).get("writes")), ("privileged", perms.get(perm, {}).get("privileged"))) if on]
            widening.append(f"role `{name}` gains permission `{perm}`" + (f" ({', '.join(kind)})" if kind else ""))
        widening += [f"role `{name}` now reaches secret `{s}`" for s in changes.get("secrets", {}).get("added", [])]
        widening += [f"role `{name}` now gets rows through RLS policy {p}" for p in changes.get("database", {}).get("added", [])]
        widening += [f"role `{name}` accepts MFA factor `{f}`" for f in changes.get("mfa", {}).get("added", [])]
        if "mfa_phishing_resistant_only" in changes:
            widening.append(f"role `{name}` no longer requires a phishing-resistant factor")
    return diffs, widening


def _identity_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[str]]:
    old, new = _by_name(base["identities"]), _by_name(head["identities"])
    empty = {"secrets": [], "client_grants": [], "api_permissions": []}
    diffs, widening = {}, []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, empty), new.get(name, empty)
        changes = {f: c for f in empty if (c := _changes(before[f], after[f]))}
        if changes:
            diffs[name] = changes
        widening += [f"identity `{name}` can read secret `{s}`" for s in changes.get("secrets", {}).get("added", [])]
        widening += [f"identity `{name}` gains client grant `{g}`" for g in changes.get("client_grants", {}).get("added", [])]
        widening += [f"identity `{name}` gains API permission `{p}`" for p in changes.get("api_permissions", {}).get("added", [])]
    return diffs, widening


def _rotation(secret: dict | None) -> str:
    if secret is None:
        return "absent"
    declared = f", declared Lambda every {secret['declared_rotation_days']} days" if secret["declared_rotation_days"] else ""
    return f"{secret['rotation']} every {secret['rotation_days']} days{declared}"


def _secret_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[str]]:
    old, new = _by_name(base["secrets"], "key"), _by_name(head["secrets"], "key")
    diffs, widening = {}, []
    for key in sorted(set(old) | set(new)):
        changes: dict[str, Any] = {}
        for field in ("readers", "vendor_scopes"):
            # (reports written before vendor scopes existed have none)
            if change := _changes(old.get(key, {}).get(field, []), new.get(key, {}).get(field, [])):
                changes[field] = change
        if _rotation(old.get(key)) != _rotation(new.get(key)):
            changes["rotation"] = {"from": _rotation(old.get(key)), "to": _rotation(new.get(key))}
        if changes:
            diffs[key] = changes
        widening += [f"secret `{key}` may now do `{s}` at the vendor" for s in changes.get("vendor_scopes", {}).get("added", [])]
    return diffs, widening


def _grant_lines(report: dict) -> list[str]:
    return [f"{g['role']}: {', '.join(g['privileges'])} on {g['on']}" for g in report["database"]["grants"]]


def _policy_lines(report: dict) -> list[str]:
    return [
        f"{p['name']} ({p['command']} on {p['table']} to {', '.join(p['to'])}): using ({p['using']}) check ({p['check']})"
        for p in report["database"]["rls_policies"]
    ]


def _sod_diffs(base: dict, head: dict) -> list[str]:
    old = {" + ".join(p["permissions"]): p for p in base["segregation_of_duties"]}
    lines = []
    for pair in head["segregation_of_duties"]:
        key = " + ".join(pair["permissions"])
        before = old.get(key)
        if before is None or before["status"] != pair["status"]:
            lines.append(f"`{key}`: {before['status'] if before else 'new pair'} → {pair['status']}")
        new_pairs = _changes([" & ".join(p) for p in (before or {}).get("conflicting_role_pairs", [])], [" & ".join(p) for p in pair["conflicting_role_pairs"]])
        lines += [f"`{key}`: roles {p} now conflict (no person may hold both)" for p in new_pairs.get("added", [])]
    return lines


def diff_reports(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    roles, role_widening = _role_diffs(base, head)
    identities, identity_widening = _identity_diffs(base, head)
    grants = _changes(_grant_lines(base), _grant_lines(head))
    policies = _changes(_policy_lines(base), _policy_lines(head))
    old_findings = {finding_key(f) for f in base["findings"]["findings"]}
    secrets, secret_widening = _secret_diffs(base, head)
    widening = role_widening + identity_widening + secret_widening
    widening += [f"database grant {g}" for g in grants.get("added", [])]
    widening += [f"RLS policy {p}" for p in policies.get("added", [])]
    return {
        "base": {"revision": base["revision"], "report_sha256": base["fingerprint"]["report_sha256"]},
        "head": {"revision": head["revision"], "report_sha256": head["fingerprint"]["report_sha256"]},
        "widening": widening,
        "roles": roles,
        "identities": identities,
        "secrets": secrets,
        "database_grants": grants,
        "rls_policies": policies,
        "segregation_of_duties": _sod_diffs(base, head),
        "new_findings": [f for f in head["findings"]["findings"] if finding_key(f) not in old_findings],
        "resolved_findings": [
            f for f in base["findings"]["findings"] if finding_key(f) not in {finding_key(h) for h in head["findings"]["findings"]}
        ],
        "policy_check": {"base": base["findings"]["available"], "head": head["findings"]["available"]},
        "notes": head.get("notes", []) + base.get("notes", []),
    }


def has_changes(diff: dict[str, Any]) -> bool:
    keys = ("roles", "identities", "secrets", "database_grants", "rls_policies", "segregation_of_duties", "new_findings", "resolved_findings")
    return any(diff[k] for k in keys)


def _change_rows(changes: dict[str, dict], labels: dict[str, str] | None = None) -> list[str]:
    rows = []
    for subject, fields in changes.items():
        for fieldname, change in fields.items():
            label = (labels or {}).get(fieldname, fieldname.replace("_", " "))
            if isinstance(change, list):
                rows.append(f"| `{subject}` | {label} | {cell(', '.join(change))} | |")
            elif "from" in change:
                rows.append(f"| `{subject}` | {label} | {cell(change['to'])} | {cell(change['from'])} |")
            else:
                rows.append(f"| `{subject}` | {label} | {cell(', '.join(change.get('added', [])))} | {cell(', '.join(change.get('removed', [])))} |")
    return rows


def _table(title: str, rows: list[str], subject: str) -> list[str]:
    if not rows:
        return []
    return [f"### {title}", "", f"| {subject} | what | added / now | removed / before |", "|---|---|---|---|", *rows, ""]


def _list(title: str, items: list[str]) -> list[str]:
    return [f"### {title}", "", *[f"- {cell(i)}" for i in items], ""] if items else []


def _finding_lines(findings: list[dict]) -> list[str]:
    return [
        f"`{f['rule']}` ({f['severity']}{', mandatory' if f['mandatory'] else ', advisory'}) {f['resource']}: {f['message']}"
        for f in findings
    ]


def render_diff_md(diff: dict[str, Any]) -> str:
    base, head = diff["base"]["revision"], diff["head"]["revision"]
    lines = [f"## Access diff `{base}` → `{head}`", ""]
    if diff["widening"]:
        lines += ["> [!WARNING]", f"> **This change widens access** ({len(diff['widening'])}):"]
        lines += [f"> - {w}" for w in diff["widening"]]
        lines.append("")
    if diff["new_findings"]:
        lines += [f"**Policy: {len(diff['new_findings'])} new finding(s)** — see below.", ""]
    if not has_changes(diff):
        lines += ["No access change.", ""]
    lines += _table("Roles", _change_rows(diff["roles"], _ROLE_FIELDS), "role")
    lines += _table("Runtime identities", _change_rows(diff["identities"]), "identity")
    lines += _table("Secrets", _change_rows(diff["secrets"]), "secret")
    database = {k: v for k, v in (("grants", diff["database_grants"]), ("RLS policies", diff["rls_policies"])) if v}
    lines += _table("Database", _change_rows({"database": database}) if database else [], "scope")
    lines += _list("Segregation of duties", diff["segregation_of_duties"])
    lines += _list("New policy findings", _finding_lines(diff["new_findings"]))
    lines += _list("Resolved policy findings", _finding_lines(diff["resolved_findings"]))
    if not all(diff["policy_check"].values()):
        lines += ["_Policy check not available (no policy evaluator in infra/policy/): only access-model invariants were checked._", ""]
    lines += [f"_{note}_" for note in diff["notes"]]
    lines += ["", f"<sub>report sha256 base `{diff['base']['report_sha256'][:16]}…` head `{diff['head']['report_sha256'][:16]}…`</sub>"]
    return "\n".join(lines).rstrip() + "\n"
