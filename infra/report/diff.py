"""The access diff between two reports: structured data first, Markdown rendered from it.

`diff_reports(base, head)` compares two reports of `access.report_for` and returns
plain data only (no Markdown): per role, identity, route, integration level,
credential (who reaches it, its rotation, what it may do at the vendor), database
grant and RLS policy what was added or removed; the
segregation-of-duties pairs an approved person would newly hold; findings new in
head or resolved, in the field names of `opshub policy check --format json`.
Every change that lets someone do or read more is also listed under `widening`
as `{"kind", "subject", "object", "detail"}`. `render_diff_md` writes the
pull-request comment from that data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.markdown import cell
from infra.model.access import LEVEL_ORDER
from infra.report.findings import finding_key, is_blocking, subject

# Marks the pull-request comment, so the workflow updates its own comment and no other.
COMMENT_MARKER = "<!-- opshub:access-diff -->"

Widening = dict[str, Any]


def _changes(before: list[str], after: list[str]) -> dict[str, list[str]]:
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    return {k: v for k, v in (("added", added), ("removed", removed)) if v}


def _by(items: list[dict], key: str = "name") -> dict[str, dict]:
    return {item[key]: item for item in items}


def _widening(kind: str, subject_: str, object_: str = "", detail: str = "") -> Widening:
    return {"kind": kind, "subject": subject_, "object": object_, "detail": detail}


_ROLE_LISTS = ("permissions", "secrets", "database", "mfa")


def _level_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, dict[str, str | None]]:
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _raised(change: dict[str, str | None]) -> bool:
    return LEVEL_ORDER.get(change["to"] or "", 0) > LEVEL_ORDER.get(change["from"] or "", 0)


def _role_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[Widening]]:
    old, new = _by(base["roles"]), _by(head["roles"])
    perms = _by(head["permissions"]) | _by(base["permissions"])
    diffs: dict[str, dict] = {}
    widening: list[Widening] = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            diffs[name] = {"role": "added", "permissions": {"added": list(new[name]["permissions"])}}
            widening.append(_widening("role_added", name, ", ".join(new[name]["permissions"])))
            continue
        if name not in new:
            diffs[name] = {"role": "removed"}
            continue
        changes: dict[str, Any] = {f: c for f in _ROLE_LISTS if (c := _changes(old[name][f], new[name][f]))}
        levels = _level_changes(old[name].get("integrations", {}), new[name].get("integrations", {}))
        if levels:
            changes["integrations"] = levels
        if old[name]["mfa_phishing_resistant_only"] and not new[name]["mfa_phishing_resistant_only"]:
            changes["mfa_phishing_resistant_only"] = {"from": True, "to": False}
            widening.append(_widening("mfa_weakened", name))
        if changes:
            diffs[name] = changes
        for perm in changes.get("permissions", {}).get("added", []):
            flags = [w for w in ("writes", "privileged") if perms.get(perm, {}).get(w)]
            widening.append(_widening("permission_added", name, perm, ", ".join(flags)))
        widening += [_widening("secret_reach_added", name, s) for s in changes.get("secrets", {}).get("added", [])]
        widening += [_widening("rls_rows_added", name, p) for p in changes.get("database", {}).get("added", [])]
        widening += [_widening("mfa_factor_added", name, f) for f in changes.get("mfa", {}).get("added", [])]
        widening += [
            _widening("integration_level_raised", name, integration, f"{c['from'] or 'none'} → {c['to']}")
            for integration, c in levels.items()
            if _raised(c)
        ]
    return diffs, widening


_IDENTITY_LISTS = {"secrets": "identity_secret_added", "client_grants": "client_grant_added", "api_permissions": "api_permission_added"}


def _identity_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[Widening]]:
    old, new = _by(base["identities"]), _by(head["identities"])
    empty = dict.fromkeys(_IDENTITY_LISTS, [])
    diffs, widening = {}, []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, empty), new.get(name, empty)
        changes = {f: c for f in _IDENTITY_LISTS if (c := _changes(before[f], after[f]))}
        if changes:
            diffs[name] = changes
        widening += [_widening(kind, name, item) for f, kind in _IDENTITY_LISTS.items() for item in changes.get(f, {}).get("added", [])]
    return diffs, widening


def _route_key(route: dict) -> str:
    return f"{route['method']} {route['path']}"


def _route_diffs(base: dict, head: dict) -> tuple[dict[str, list[dict]], list[Widening]]:
    old, new = {_route_key(r): r for r in base.get("routes", [])}, {_route_key(r): r for r in head.get("routes", [])}
    changed = sorted(k for k in set(old) & set(new) if old[k]["permission"] != new[k]["permission"])
    out = {
        "added": [new[k] for k in sorted(set(new) - set(old))],
        "removed": [old[k] for k in sorted(set(old) - set(new))],
        "changed": [{"route": k, "from": old[k]["permission"], "to": new[k]["permission"]} for k in changed],
    }
    widening = [_widening("route_added", k, new[k]["permission"]) for k in sorted(set(new) - set(old))]
    widening += [_widening("route_permission_changed", c["route"], c["to"], f"was {c['from']}") for c in out["changed"]]
    return {k: v for k, v in out.items() if v}, widening


def _principals(credential: dict | None) -> dict[str, dict]:
    return {p["principal"]: p for p in (credential or {}).get("principals", [])}


def vendor_scopes(report: dict) -> dict[str, list[str]]:
    """What each secret's key may do at its vendor, by secret key (reports written before vendor scopes have none)."""
    return {s["key"]: s.get("vendor_scopes", []) for s in report["secrets"]}


def _credential_diffs(base: dict, head: dict) -> tuple[dict[str, dict], list[Widening]]:
    old, new = _by(base.get("credentials", []), "key"), _by(head.get("credentials", []), "key")
    old_scopes, new_scopes = vendor_scopes(base), vendor_scopes(head)
    diffs: dict[str, dict] = {}
    widening: list[Widening] = []
    for key in sorted(set(old) | set(new) | set(old_scopes) | set(new_scopes)):
        before, after = _principals(old.get(key)), _principals(new.get(key))
        entry: dict[str, Any] = {}
        added = [{"principal": n, "kind": after[n]["kind"], "access": after[n]["access"]} for n in sorted(set(after) - set(before))]
        removed = [{"principal": n, "kind": before[n]["kind"], "access": before[n]["access"]} for n in sorted(set(before) - set(after))]
        changed = [
            {"principal": n, "from": before[n]["access"], "to": after[n]["access"]}
            for n in sorted(set(before) & set(after))
            if before[n]["access"] != after[n]["access"]
        ]
        principals = {k: v for k, v in (("added", added), ("removed", removed), ("changed", changed)) if v}
        if principals:
            entry["principals"] = principals
        rotation_before, rotation_after = (old.get(key) or {}).get("rotation"), (new.get(key) or {}).get("rotation")
        if rotation_before != rotation_after:
            entry["rotation"] = {"from": rotation_before, "to": rotation_after}
        if scopes := _changes(old_scopes.get(key, []), new_scopes.get(key, [])):
            entry["vendor_scopes"] = scopes
        if entry:
            diffs[key] = entry
        widening += [_widening("credential_principal_added", key, a["principal"], ", ".join(a["access"])) for a in added]
        widening += [
            _widening("credential_access_added", key, c["principal"], ", ".join(sorted(set(c["to"]) - set(c["from"]))))
            for c in changed
            if set(c["to"]) - set(c["from"])
        ]
        widening += [_widening("vendor_scope_added", key, s) for s in entry.get("vendor_scopes", {}).get("added", [])]
    return diffs, widening


def _grant_key(grant: dict) -> str:
    return f"{grant['role']}: {', '.join(grant['privileges'])} on {grant['on']}"


def _policy_key(policy: dict) -> str:
    return f"{policy['name']} ({policy['command']} on {policy['table']} to {', '.join(policy['to'])}): using ({policy['using']}) check ({policy['check']})"


def _object_changes(before: list[dict], after: list[dict], key: Callable[[dict], str]) -> dict[str, list[dict]]:
    old, new = {key(x): x for x in before}, {key(x): x for x in after}
    out = {"added": [new[k] for k in sorted(set(new) - set(old))], "removed": [old[k] for k in sorted(set(old) - set(new))]}
    return {k: v for k, v in out.items() if v}


def _sod_diffs(base: dict, head: dict) -> list[dict]:
    old = {tuple(p["permissions"]): p for p in base["segregation_of_duties"]}
    out = []
    for pair in head["segregation_of_duties"]:
        before = old.get(tuple(pair["permissions"]))
        entry: dict[str, Any] = {"permissions": pair["permissions"]}
        if before is None or before["status"] != pair["status"]:
            entry |= {"from": before["status"] if before else None, "to": pair["status"]}
        role_pairs = _changes([" & ".join(p) for p in (before or {}).get("conflicting_role_pairs", [])], [" & ".join(p) for p in pair["conflicting_role_pairs"]])
        if role_pairs.get("added"):
            entry["conflicting_role_pairs_added"] = [p.split(" & ") for p in role_pairs["added"]]
        if len(entry) > 1:
            out.append(entry)
    return out


def _people_sod(base: dict, head: dict) -> tuple[list[dict], list[Widening]]:
    """Approved persons who, in head, would hold a segregation-of-duties pair they did not hold in base."""
    before = {p["user"]: p for p in base.get("people", {}).get("persons", [])}
    out = []
    for person in head.get("people", {}).get("persons", []):
        held_before = [tuple(x) for x in before.get(person["user"], {}).get("sod_pairs", [])]
        new_pairs = [p for p in person["sod_pairs"] if tuple(p) not in held_before]
        if new_pairs:
            out.append({"user": person["user"], "roles": person["roles"], "sod_pairs": new_pairs})
    widening = [_widening("person_holds_sod_pair", p["user"], " + ".join(pair), ", ".join(p["roles"])) for p in out for pair in p["sod_pairs"]]
    return out, widening


def _side(report: dict) -> dict[str, Any]:
    return {"revision": report["revision"], "report_sha256": report["fingerprint"]["report_sha256"], "identity": report.get("identity") or {}}


def diff_reports(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    roles, role_widening = _role_diffs(base, head)
    identities, identity_widening = _identity_diffs(base, head)
    routes, route_widening = _route_diffs(base, head)
    credentials, credential_widening = _credential_diffs(base, head)
    people, people_widening = _people_sod(base, head)
    grants = _object_changes(base["database"]["grants"], head["database"]["grants"], _grant_key)
    policies = _object_changes(base["database"]["rls_policies"], head["database"]["rls_policies"], _policy_key)
    old_findings = {finding_key(f) for f in base["findings"]["findings"]}
    new_findings = {finding_key(f) for f in head["findings"]["findings"]}
    widening = role_widening + identity_widening + route_widening + credential_widening + people_widening
    widening += [_widening("database_grant_added", g["role"], g["on"], ", ".join(g["privileges"])) for g in grants.get("added", [])]
    widening += [_widening("rls_policy_added", p["name"], p["table"], f"{p['command']} to {', '.join(p['to'])}") for p in policies.get("added", [])]
    return {
        "base": _side(base),
        "head": _side(head),
        "widening": widening,
        "roles": roles,
        "identities": identities,
        "routes": routes,
        "credentials": credentials,
        "database_grants": grants,
        "rls_policies": policies,
        "segregation_of_duties": _sod_diffs(base, head),
        "people_sod": people,
        "new_findings": [f for f in head["findings"]["findings"] if finding_key(f) not in old_findings],
        "resolved_findings": [f for f in base["findings"]["findings"] if finding_key(f) not in new_findings],
        "policy_check": {"base": base["findings"]["available"], "head": head["findings"]["available"]},
        "notes": [*head.get("notes", []), *base.get("notes", [])],
    }


CHANGE_KEYS = (
    "roles", "identities", "routes", "credentials", "database_grants", "rls_policies",
    "segregation_of_duties", "people_sod", "new_findings", "resolved_findings",
)


def has_changes(diff: dict[str, Any]) -> bool:
    return any(diff[k] for k in CHANGE_KEYS)


def blocks(diff: dict[str, Any]) -> bool:
    """Whether head brings a new mandatory finding (the diff's exit code 1)."""
    return any(is_blocking(f) for f in diff["new_findings"])


# --- Markdown, from the data above -------------------------------------------------------

_SENTENCES: dict[str, Callable[[Widening], str]] = {
    "role_added": lambda w: f"new role `{w['subject']}` with {w['object'] or 'no permissions'}",
    "permission_added": lambda w: f"role `{w['subject']}` gains permission `{w['object']}`" + (f" ({w['detail']})" if w["detail"] else ""),
    "secret_reach_added": lambda w: f"role `{w['subject']}` now reaches secret `{w['object']}`",
    "rls_rows_added": lambda w: f"role `{w['subject']}` now gets rows through RLS policy {w['object']}",
    "mfa_factor_added": lambda w: f"role `{w['subject']}` accepts MFA factor `{w['object']}`",
    "mfa_weakened": lambda w: f"role `{w['subject']}` no longer requires a phishing-resistant factor",
    "integration_level_raised": lambda w: f"role `{w['subject']}` on {w['object']}: {w['detail']}",
    "identity_secret_added": lambda w: f"identity `{w['subject']}` can read secret `{w['object']}`",
    "client_grant_added": lambda w: f"identity `{w['subject']}` gains client grant `{w['object']}`",
    "api_permission_added": lambda w: f"identity `{w['subject']}` gains API permission `{w['object']}`",
    "route_added": lambda w: f"new route `{w['subject']}` (needs `{w['object']}`)",
    "route_permission_changed": lambda w: f"route `{w['subject']}` now needs `{w['object']}` ({w['detail']})",
    "credential_principal_added": lambda w: f"`{w['object']}` can now {w['detail']} credential `{w['subject']}`",
    "credential_access_added": lambda w: f"`{w['object']}` can now also {w['detail']} credential `{w['subject']}`",
    "vendor_scope_added": lambda w: f"credential `{w['subject']}` may now do `{w['object']}` at the vendor",
    "person_holds_sod_pair": lambda w: f"approved person `{w['subject']}` ({w['detail']}) would hold `{w['object']}`",
    "database_grant_added": lambda w: f"database grant {w['subject']}: {w['detail']} on {w['object']}",
    "rls_policy_added": lambda w: f"RLS policy {w['subject']} on {w['object']} ({w['detail']})",
}


def widening_sentence(w: Widening) -> str:
    return _SENTENCES[w["kind"]](w)


Row = tuple[str, ...]


def _row(subject_: str, what: str, added: str, removed: str) -> Row:
    return (subject_, what, added, removed)


def _role_rows(roles: dict[str, dict]) -> list[Row]:
    labels = {"permissions": "permission", "secrets": "secret", "database": "RLS policy", "mfa": "MFA factor"}
    rows = []
    for name, changes in roles.items():
        if "role" in changes:
            rows.append(_row(name, "role", changes["role"], ""))
            continue
        rows += [_row(name, label, ", ".join(changes[f].get("added", [])), ", ".join(changes[f].get("removed", []))) for f, label in labels.items() if f in changes]
        rows += [_row(name, f"{i} level", c["to"] or "none", c["from"] or "none") for i, c in changes.get("integrations", {}).items()]
        if "mfa_phishing_resistant_only" in changes:
            rows.append(_row(name, "phishing-resistant MFA only", "no", "yes"))
    return rows


def _identity_rows(changes: dict[str, dict]) -> list[Row]:
    return [
        _row(name, f.replace("_", " "), ", ".join(c.get("added", [])), ", ".join(c.get("removed", [])))
        for name, fields in changes.items()
        for f, c in fields.items()
    ]


def _credential_rows(credentials: dict[str, dict]) -> list[Row]:
    rows = []
    for key, change in credentials.items():
        principals = change.get("principals", {})
        rows += [_row(key, f"{a['kind']} ({', '.join(a['access'])})", a["principal"], "") for a in principals.get("added", [])]
        rows += [_row(key, f"{r['kind']} ({', '.join(r['access'])})", "", r["principal"]) for r in principals.get("removed", [])]
        rows += [_row(key, f"{c['principal']} access", ", ".join(c["to"]), ", ".join(c["from"])) for c in principals.get("changed", [])]
        if scopes := change.get("vendor_scopes"):
            rows.append(_row(key, "at the vendor", ", ".join(scopes.get("added", [])), ", ".join(scopes.get("removed", []))))
        if "rotation" in change:
            rows.append(_row(key, "rotation", rotation_text(change["rotation"]["to"]), rotation_text(change["rotation"]["from"])))
    return rows


def rotation_text(rotation: dict | None) -> str:
    if not rotation:
        return "absent"
    declared = f", Lambda {rotation['lambda']} every {rotation['declared_days']} days" if rotation.get("lambda") else ""
    return f"{rotation['plan']} every {rotation['days']} days{declared}"


def _database_rows(diff: dict) -> list[Row]:
    rows = [_row("database", "grant", _grant_key(g), "") for g in diff["database_grants"].get("added", [])]
    rows += [_row("database", "grant", "", _grant_key(g)) for g in diff["database_grants"].get("removed", [])]
    rows += [_row("database", "RLS policy", _policy_key(p), "") for p in diff["rls_policies"].get("added", [])]
    return rows + [_row("database", "RLS policy", "", _policy_key(p)) for p in diff["rls_policies"].get("removed", [])]


def _finding_lines(findings: list[dict]) -> list[Row]:
    return [
        (f"`{f['ruleId']}` ({f['severity']}, {f['enforcementLevel']}) {subject(f)}: {f['message']}" + (f" Remediation: {f['remediation']}" if f.get("remediation") else ""),)
        for f in findings
    ]


def _route_lines(routes: dict[str, list[dict]]) -> list[Row]:
    lines = [f"added `{_route_key(r)}` (needs `{r['permission']}`)" for r in routes.get("added", [])]
    lines += [f"removed `{_route_key(r)}` (needed `{r['permission']}`)" for r in routes.get("removed", [])]
    lines += [f"`{c['route']}` now needs `{c['to']}` (was `{c['from']}`)" for c in routes.get("changed", [])]
    return [(line,) for line in lines]


def _sod_lines(diff: dict) -> list[Row]:
    lines = []
    for entry in diff["segregation_of_duties"]:
        pair = " + ".join(entry["permissions"])
        if "to" in entry:
            lines.append(f"`{pair}`: {entry['from'] or 'new pair'} → {entry['to']}")
        lines += [f"`{pair}`: roles {' & '.join(p)} now conflict (no person may hold both)" for p in entry.get("conflicting_role_pairs_added", [])]
    lines += [f"approved person `{p['user']}` ({', '.join(p['roles'])}) would hold {', '.join(' + '.join(x) for x in p['sod_pairs'])}" for p in diff["people_sod"]]
    return [(line,) for line in lines]


CHANGE_HEADERS = ("what", "added / now", "removed / before")


def diff_blocks(diff: dict[str, Any]) -> list[tuple[str, tuple[str, ...], list[Row]]]:
    """The diff's changes as titled blocks: (title, headers, rows); one-column blocks are lists.

    The pull-request comment and the report's "Changes since the last review" section
    both render these, so they always agree.
    """
    blocks = [
        ("Roles", ("role", *CHANGE_HEADERS), _role_rows(diff["roles"])),
        ("Runtime identities", ("identity", *CHANGE_HEADERS), _identity_rows(diff["identities"])),
        ("Routes", ("change",), _route_lines(diff["routes"])),
        ("Who can reach each credential", ("credential", *CHANGE_HEADERS), _credential_rows(diff["credentials"])),
        ("Database", ("scope", *CHANGE_HEADERS), _database_rows(diff)),
        ("Segregation of duties", ("change",), _sod_lines(diff)),
        ("New policy findings", ("finding",), _finding_lines(diff["new_findings"])),
        ("Resolved policy findings", ("finding",), _finding_lines(diff["resolved_findings"])),
    ]
    return [b for b in blocks if b[2]]


def _md_block(title: str, headers: tuple[str, ...], rows: list[Row]) -> list[str]:
    if len(headers) == 1:  # a list: no table, so pipes stay as they are (a backslash would show in code spans)
        return [f"### {title}", "", *[f"- {' '.join(r[0].split())}" for r in rows], ""]
    body = [f"| `{r[0]}` | " + " | ".join(cell(c) for c in r[1:]) + " |" for r in rows]
    return [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers), *body, ""]


def render_diff_md(diff: dict[str, Any]) -> str:
    base, head = diff["base"]["revision"], diff["head"]["revision"]
    lines = [COMMENT_MARKER, f"## Access diff `{base}` → `{head}`", ""]
    if diff["widening"]:
        lines += ["> [!WARNING]", f"> **This change widens access** ({len(diff['widening'])}):"]
        lines += [f"> - {widening_sentence(w)}" for w in diff["widening"]]
        lines.append("")
    if diff["new_findings"]:
        blocking = sum(is_blocking(f) for f in diff["new_findings"])
        lines += [f"**Policy: {len(diff['new_findings'])} new finding(s), {blocking} mandatory** — see below.", ""]
    if not has_changes(diff):
        lines += ["No access change.", ""]
    for block in diff_blocks(diff):
        lines += _md_block(*block)
    if not all(diff["policy_check"].values()):
        lines += ["_Policy check not available (no policy evaluator in infra/policy/): only access-model invariants were checked._", ""]
    lines += [f"_{note}_" for note in diff["notes"]]
    lines += ["", f"<sub>report sha256 base `{diff['base']['report_sha256'][:16]}…` head `{diff['head']['report_sha256'][:16]}…`</sub>"]
    return "\n".join(lines).rstrip() + "\n"
