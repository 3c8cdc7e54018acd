"""The report laid out as titled tables, shared by the Markdown and HTML renderers.

Both formats show the same sections in the same order, so a reader can move
between them; only the markup differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HELD = "✓"
NONE = "—"


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    caption: str = ""
    matrix: bool = False  # a role x permission grid: first column = role, then one column per permission


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _join(items: list[str]) -> str:
    return ", ".join(items) if items else NONE


def _matrix(report: dict[str, Any]) -> Section:
    perms = report["permissions"]
    rows = [
        (
            role["name"],
            *(HELD if p["name"] in role["permissions"] else "" for p in perms),
            " / ".join(role["mfa"]) or NONE,
            "yes" if role["mfa_phishing_resistant_only"] else "no",
        )
        for role in report["roles"]
    ]
    headers = ("role", *(p["name"] for p in perms), "MFA factors", "phishing-resistant only")
    notes = [f"Permissions: {report['sources']['auth0_roles']}. MFA: {report['sources']['mfa']}."]
    notes += [
        f"Drift in {role['name']}: " + "; ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in role["drift"].items())
        for role in report["roles"]
        if role["drift"]
    ]
    legend = [
        (p["name"], p["description"], "writes" if p["writes"] else "reads", "privileged" if p["privileged"] else "")
        for p in perms
    ]
    return Section(
        "Roles × permissions",
        "matrix",
        notes,
        [Table(headers, rows, matrix=True), Table(("permission", "meaning", "kind", "privileged"), legend, "Permissions")],
    )


def _reach(report: dict[str, Any]) -> Section:
    tables = [
        Table(
            ("permission", "/ops routes", "integrations", "database rows (RLS)", "vendor secrets (IAM)"),
            [
                (
                    row["permission"],
                    _join(row["routes"]),
                    _join(row["integrations"]),
                    _join(row["database"]),
                    _join(row["secrets"]) + (f" (via {row['via']})" if row["secrets"] else ""),
                )
                for row in role["reach"]
            ],
            caption=f"{role['name']}: {role['description']}",
        )
        for role in report["roles"]
    ]
    notes = [
        "Auth0 permission → /ops route → database rows under row-level security → vendor secrets the backend reads "
        f"for it. Secret access: {report['sources']['iam_secret_access']}. RLS: {report['sources']['rls_policies']}."
    ]
    return Section("Who can reach what", "reach", notes, tables)


def _database(report: dict[str, Any]) -> Section:
    db = report["database"]
    per_role = Table(
        ("ops role", "RLS policies that give it rows"),
        [(role["name"], _join(role["database"])) for role in report["roles"]],
        caption="Per ops role",
    )
    roles = Table(
        ("database role", "login", "attributes", "member of"),
        [(r["name"], "yes" if r["login"] else "no", _join(r["attributes"]), _join(r["member_of"])) for r in db["roles"]],
        caption="Database roles",
    )
    grants = Table(
        ("database role", "privileges", "on"),
        [(g["role"], _join(g["privileges"]), g["on"]) for g in db["grants"]],
        caption="Grants",
    )
    policies = Table(
        ("policy", "table", "command", "to", "ops roles named", "using", "with check"),
        [
            (p["name"], p["table"], p["command"], _join(p["to"]), _join(p["ops_roles"]), p["using"] or NONE, p["check"] or NONE)
            for p in db["rls_policies"]
        ],
        caption="Row-level security policies",
    )
    notes = [f"Source: {db['source']}. RLS policies: {report['sources']['rls_policies']} (the migration files whose sha256 the plan applies)."]
    if db["unverified_migrations"]:
        notes.append(f"Not described, because their text differs from the digest the plan applies: {', '.join(db['unverified_migrations'])}.")
    return Section("Database grants and RLS policies", "database", notes, [per_role, roles, grants, policies])


def _trail(report: dict[str, Any]) -> Section:
    rows = [
        (p["principal"], _join(p["reads"]), _join(p["alters"]), _join(p["controlled_by"]), p["source"])
        for p in report["trail_principals"]
    ]
    notes = [
        "Every principal with a way to the rows of ops_audit.events, from the plan and from Supabase's platform "
        "principals (infra/model/platform.yaml). What no grant here controls cannot be prevented, only detected: the "
        "checkpoint job signs the chain head outside the database and records the owner's members, RLS flags, BYPASSRLS "
        "holders and superusers, ticketing any beyond the expected; `opshub audit verify --anchors` catches a rewrite "
        "by anyone who can alter the trail (docs/runbook.md, \"Audit trail anchors\").",
        "The policies for `authenticated` read the JWT claims from a setting the session itself chooses "
        "(`request.jwt.claims`, as PostgREST sets it): any login that can become `authenticated` can claim an "
        "auditor's roles. Those logins are listed with the way they reach it.",
    ]
    headers = ("principal", "reads the trail", "alters the trail", "controlled by", "source")
    return Section("Who can read or alter the audit trail", "trail", notes, [Table(headers, rows)])


def _secrets(report: dict[str, Any]) -> Section:
    identities = Table(
        ("identity", "serves /ops", "reads secrets", "API permissions", "client grants", "reads beyond the model"),
        [
            (
                i["name"],
                "yes" if i["serves_routes"] else "no",
                _join(i["secrets"]),
                _join(i["api_permissions"]),
                _join(i["client_grants"]),
                _join(i["reads_beyond_model"]),
            )
            for i in report["identities"]
        ],
        caption="Runtime identities",
    )
    secrets = Table(
        ("secret", "name", "rotation plan", "declared rotation", "customer KMS key", "what this key can do at the vendor", "readers"),
        [
            (
                s["key"],
                s["name"] or NONE,
                f"{s['rotation']} every {s['rotation_days']} days",
                f"Lambda every {s['declared_rotation_days']} days" if s["declared_rotation_days"] else NONE,
                {True: "yes", False: "no", None: NONE}[s["customer_kms_key"]],
                _join(s["vendor_scopes"]),
                _join(s["readers"]),
            )
            for s in report["secrets"]
        ],
        caption="Secrets and their rotation plan",
    )
    return Section("Runtime identities and secrets", "secrets", [f"Source: {report['sources']['secrets']}."], [identities, secrets])


def _sign_in(report: dict[str, Any]) -> Section:
    apps = Table(
        ("application", "type", "grants", "connections feeding it", "user grants (API: scopes)", "callbacks", "logout URLs", "web origins"),
        [
            (
                a["name"], a["app_type"], _join(a["grant_types"]), _join(a["connections"]),
                _join([f"{api}: {', '.join(scopes)}" for api, scopes in a["user_grants"].items()]),
                _join(a["callbacks"]), _join(a["logout_urls"]), _join(a["web_origins"]),
            )
            for a in report["sign_in"]["applications"]
        ],
        caption="Applications people sign in through",
    )
    archives = Table(
        ("archive bucket", "roles that may write objects", "other principals that may write"),
        [
            (
                a["bucket"],
                "anyone in the account (no deny)" if a["writers"] is None else _join(a["writers"]),
                str(a["other_principals"]),
            )
            for a in report["sign_in"]["archives"]
        ],
        caption="Who may write the compliance archive",
    )
    notes = ["Source: the declared plan (Auth0 clients and connections; the archive's bucket policy)."]
    return Section("Sign-in to /ops and the compliance archive", "sign-in", notes, [apps, archives])


def _sod(report: dict[str, Any]) -> Section:
    rows = [
        (
            " + ".join(p["permissions"]),
            p["status"].upper() if p["status"] == "violated" else p["status"],
            _join(p["roles_holding_both"]),
            _join([" & ".join(pair) for pair in p["conflicting_role_pairs"]]),
            p["reason"],
        )
        for p in report["segregation_of_duties"]
    ]
    headers = ("pair", "status", "roles holding both", "role pairs no person may hold together", "why")
    return Section("Segregation of duties", "sod", [], [Table(headers, rows)])


def _findings(report: dict[str, Any]) -> Section:
    findings = report["findings"]
    notes = [f"Policy check: {findings['note']}." if findings["available"] else f"Policy check {findings['note']}."]
    tables = [
        Table(
            ("rule", "severity", "resource", "message"),
            [(f["rule"], f["severity"], f["resource"], f["message"]) for f in findings["findings"]],
            caption="Findings",
        ),
        Table(
            ("rule", "resource", "owner", "expires", "reason"),
            [
                (str(w.get("rule", "")), str(w.get("resource", "")), str(w.get("owner", "")), str(w.get("expires", "")), str(w.get("reason", "")))
                for w in findings["waivers"]
            ],
            caption="Active waivers",
        ),
    ]
    shown = tables if findings["available"] else tables[:1] if findings["findings"] else []
    return Section("Policy findings and waivers", "findings", notes, shown)


def _fingerprint(report: dict[str, Any]) -> Section:
    fp = report["fingerprint"]
    rows = [
        ("git revision", report["revision"]),
        ("declared graph sha256", fp["declared_graph_sha256"]),
        ("report sha256", fp["report_sha256"]),
        ("plan resources", str(report["plan"]["resources"])),
    ]
    notes = [
        "The declared graph hash covers the plan's resources and the access model; the report hash covers the JSON "
        "report without `revision` and `fingerprint` (canonical JSON: sorted keys, no spaces, UTF-8)."
    ]
    return Section("Fingerprint", "fingerprint", notes, [Table(("what", "value"), rows)])


def sections(report: dict[str, Any]) -> list[Section]:
    return [
        _matrix(report), _reach(report), _database(report), _trail(report), _secrets(report), _sign_in(report), _sod(report),
        _findings(report), _fingerprint(report),
    ]
