"""The report laid out as titled tables, shared by the Markdown and HTML renderers.

Both formats show the same sections in the same order, so a reader can move
between them; only the markup differs. `SECTIONS` is the order: a new section is
one function from the report to a `Section` (or None to leave it out), added
to that list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.report.diff import diff_blocks, rotation_text, vendor_scopes, widening_sentence
from infra.report.findings import subject

HELD = "✓"
NONE = "—"

# A cell is one line of text, or several lines shown one under the other.
Cell = str | tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    caption: str = ""
    matrix: bool = False  # a role x permission grid: first column = role, then one column per permission


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def headline(report: dict[str, Any]) -> str:
    """The line under the title: which revision the plan was made at, when the report was made, its hash."""
    return (
        f"Revision {report['revision']} (from the plan's identity stamp) · generated {report.get('generated_at') or NONE}"
        f" · report sha256 {report['fingerprint']['report_sha256']}"
    )


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
                    _join(row["secrets"]) + (f" (used by {row['via']} acting for the holder, never held)" if row["secrets"] else ""),
                )
                for row in role["reach"]
            ],
            caption=f"{role['name']}: {role['description']}",
        )
        for role in report["roles"]
    ]
    notes = [
        "Auth0 permission → /ops route → database rows under row-level security → vendor secrets the backend reads "
        "when it acts for the holder (the role itself never holds a secret; see Who can reach each credential). "
        f"Secret access: {report['sources']['iam_secret_access']}. RLS: {report['sources']['rls_policies']}."
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
            ("rule", "severity", "resource", "message", "remediation"),
            [
                (f["ruleId"], f"{f['severity']}, {f['enforcementLevel']}", (subject(f), f["urn"]) if f["urn"] else subject(f), f["message"], f.get("remediation") or NONE)
                for f in findings["findings"]
            ],
            caption="Findings",
        ),
        Table(
            ("rule", "resource", "owner", "expires", "reason"),
            [(w["ruleId"], w["name"] or w["urn"], w["owner"], w["expires"], w["reason"]) for w in findings["waivers"]],
            caption="Active waivers",
        ),
    ]
    shown = tables if findings["available"] else tables[:1] if findings["findings"] else []
    return Section("Policy findings and waivers", "findings", notes, shown)


def _fingerprint(report: dict[str, Any]) -> Section:
    fp = report["fingerprint"]
    identity = report.get("identity") or {}
    rows = [
        ("git revision", report["revision"]),
        ("generated at", report.get("generated_at") or NONE),
        ("plan's model sha256", identity.get("model_sha256") or NONE),
        ("plan's config sha256", identity.get("config_sha256") or NONE),
        ("plan's assignments sha256", identity.get("assignments_sha256") or NONE),
        ("declared graph sha256", fp["declared_graph_sha256"]),
        ("report sha256", fp["report_sha256"]),
        ("plan resources", str(report["plan"]["resources"])),
    ]
    notes = [
        "The revision and the input digests are the plan's own identity stamp, not the checkout's. The declared graph "
        "hash covers the plan's resources and the access model; the report hash covers the JSON report without "
        "`revision`, `identity`, `generated_at`, `since_review` and `fingerprint` (canonical JSON: sorted keys, no "
        "spaces, UTF-8)."
    ]
    return Section("Fingerprint", "fingerprint", notes, [Table(("what", "value"), rows)])


def _principal_line(principal: dict[str, Any]) -> str:
    access = ", ".join(principal["access"])
    people = f" — {len(principal['people'])} approved: {', '.join(principal['people'])}" if principal["people"] else ""
    return f"{principal['principal']} [{principal['kind']}: {access}] {principal['description']}{people}"


def _credentials(report: dict[str, Any]) -> Section:
    scopes = vendor_scopes(report)
    rows = []
    for credential in report.get("credentials", []):
        principals = credential["principals"]
        paths = tuple(f"{p['principal']}: " + " → ".join(path) for p in principals for path in p["paths"])
        rows.append(
            (
                (credential["key"], credential["name"]),
                rotation_text(credential["rotation"]) + (f"; master {credential['rotation']['master']}" if credential["rotation"].get("master") else ""),
                tuple(scopes.get(credential["key"], ())) or NONE,
                tuple(_principal_line(p) for p in principals) or NONE,
                paths or NONE,
                tuple(credential["notes"]) or NONE,
            )
        )
    notes = [
        "Every principal of the plan that can read or write each secret, from the IAM policies, the secret's resource "
        "policy and its KMS key policy. People never hold a credential: the runtime identity uses it for them on the "
        "routes their role allows (role → route → runtime identity → IAM statement). `use` = through the runtime, "
        "`manage` = the deploy role administers the secret and its policy."
    ]
    headers = ("credential", "rotation plan", "what it can do at the vendor", "who can read or write it", "path", "blocked paths")
    return Section("Who can reach each credential", "credentials", notes, [Table(headers, rows)])


def _approval_status(holder: dict[str, str], today: str) -> str:
    return "expired" if holder["expires"] < today else "active"


def _people(report: dict[str, Any]) -> Section:
    people = report.get("people") or {}
    if not people.get("available"):
        return Section("People", "people", ["The plan carries no approved assignments this report can show."], [])
    today = (report.get("generated_at") or dt.date.today().isoformat())[:10]
    holders = Table(
        ("role", "approved holder", "approved by", "approved on", "expires", "status on " + today),
        [
            (role["role"], h["user"], h["approver"], h["approved"], h["expires"], _approval_status(h, today))
            for role in people["roles"]
            for h in role["holders"]
        ],
        caption="Approved holders of each role (infra/model/assignments.yaml, as embedded in the plan)",
    )
    persons = Table(
        ("person", "roles", "segregation-of-duties pairs held"),
        [(p["user"], _join(p["roles"]), _join([" + ".join(x) for x in p["sod_pairs"]])) for p in people["persons"]],
        caption="Segregation-of-duties pairs each approved person would hold (— = none)",
    )
    unapproved = [r["role"] for r in people["roles"] if not r["holders"]]
    notes = [f"Roles nobody is approved for: {', '.join(unapproved)}."] if unapproved else []
    return Section("People", "people", notes, [holders, persons])


def _plain(text: str) -> str:
    return text.replace("`", "")


def _since_review(report: dict[str, Any]) -> Section:
    since = report.get("since_review") or {"status": "not-compared", "note": "No comparison with a signed-off review was asked for."}
    review = since.get("review")
    notes = [since["note"]]
    if review:
        notes.insert(0, f"Last signed-off review: {review['tag']}, by {review['reviewer']} on {review['date']}, revision {review['revision'][:12]}.")
    diff = since.get("diff")
    if not diff:
        return Section("Changes since the last review", "since-review", notes, [])
    # The diff's sentences mark names as Markdown code; the report's cells are plain text.
    tables = [Table(("widened access",), [(_plain(widening_sentence(w)),) for w in diff["widening"]], caption="Widened since the review")]
    tables += [Table(headers, [tuple(_plain(c) for c in row) for row in rows], caption=title) for title, headers, rows in diff_blocks(diff)]
    return Section("Changes since the last review", "since-review", notes, tables)


# The report's sections, in order. Other report sections plug in here.
SECTIONS: list[Callable[[dict[str, Any]], Section | None]] = [
    _since_review,
    _credentials,
    _people,
    _matrix,
    _reach,
    _database,
    _trail,
    _secrets,
    _sign_in,
    _sod,
    _findings,
    _fingerprint,
]


def sections(report: dict[str, Any]) -> list[Section]:
    return [section for build in SECTIONS if (section := build(report)) is not None]
