"""Row-level security policies and grants read from SQL text (pulumi-postgresql has no Policy resource).

`parse_grants(sql)` returns every `grant ... on ... to ...` as (role, privileges, target).
`parse_policies(sql)` finds every `create policy` statement and returns who it
applies to, for which command, which ops roles its expressions name and which
functions they call (the claim predicates). The ops_audit migrations are the
only source of RLS, so this is how the access report learns what each ops role
can do with rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CREATE = re.compile(r"\bcreate\s+policy\s+", re.IGNORECASE)
_GRANT = re.compile(r"\bgrant\s+", re.IGNORECASE)
_GRANT_STATEMENT = re.compile(
    r"grant\s+(?P<privileges>.+?)\s+on\s+(?:(?P<kind>table|function|procedure|schema|sequence)\s+)?"
    r"(?P<objects>.+?)\s+to\s+(?P<roles>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_HEADER = re.compile(
    r"create\s+policy\s+(?P<name>\"[^\"]+\"|[\w$]+)\s+on\s+(?P<table>[\w.\"$]+)"
    r"(?:\s+as\s+(?P<kind>permissive|restrictive))?"
    r"(?:\s+for\s+(?P<command>all|select|insert|update|delete))?"
    r"(?:\s+to\s+(?P<to>.+?))?\s*(?=\busing\b|\bwith\s+check\b|$)",
    re.IGNORECASE | re.DOTALL,
)
_OPS_ROLE_LITERAL = re.compile(r"'(ops-[a-z]+)'")
_FUNCTION_CALL = re.compile(r"\b([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class RlsPolicy:
    name: str
    table: str
    command: str
    kind: str
    to: tuple[str, ...]
    using: str
    check: str
    ops_roles: tuple[str, ...]  # ops roles the expressions name, or whose claim predicates they call
    predicates: tuple[str, ...] = ()  # schema-qualified functions the expressions call

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "table": self.table,
            "command": self.command,
            "kind": self.kind,
            "to": list(self.to),
            "using": self.using,
            "check": self.check,
            "ops_roles": list(self.ops_roles),
        }


def _statement_end(sql: str, start: int) -> int:
    """Index of the `;` that ends the statement at `start`, skipping quotes and parentheses."""
    depth, quote, i = 0, "", start
    while i < len(sql):
        ch = sql[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ";" and depth == 0:
            return i
        i += 1
    return len(sql)


def _parenthesised_after(keyword: re.Pattern[str], text: str) -> str:
    """The balanced `( ... )` that follows `keyword` in `text`, without the outer parentheses."""
    match = keyword.search(text)
    if not match:
        return ""
    open_at = text.find("(", match.end())
    if open_at < 0:
        return ""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return " ".join(text[open_at + 1 : i].split())
    return ""


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: `f(a, b), g()` -> [`f(a, b)`, `g()`]."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [" ".join(p.split()) for p in [*parts, current] if p.strip()]


def _upper_keyword(privilege: str) -> str:
    """`insert (a, b)` -> `INSERT (a, b)`, as pulumi-postgresql spells privileges."""
    keyword, _, columns = privilege.partition(" ")
    return f"{keyword.upper()} {columns}".strip()


def parse_grants(sql: str) -> list[tuple[str, tuple[str, ...], str]]:
    """Every `grant <privileges> on <objects> to <roles>` as (role, privileges, "<kind> <object>") rows.

    A grant written as the text of dynamic SQL names no object until it runs, so it is not a row.
    """
    sql = _LINE_COMMENT.sub("", sql)
    literals = [m.span() for m in _STRING_LITERAL.finditer(sql)]
    rows = []
    for match in _GRANT.finditer(sql):
        if any(start < match.start() < end for start, end in literals):
            continue
        statement = sql[match.start() : _statement_end(sql, match.start())]
        grant = _GRANT_STATEMENT.match(statement)
        if not grant:
            continue
        privileges = tuple(_upper_keyword(p) for p in _split_top_level(grant["privileges"]))
        kind = (grant["kind"] or "table").lower()
        roles = re.sub(r"\s+with\s+grant\s+option\s*$", "", grant["roles"], flags=re.IGNORECASE)
        for role in _split_top_level(roles):
            rows += [(role.strip('"'), privileges, f"{kind} {obj}") for obj in _split_top_level(grant["objects"])]
    return rows


def parse_policies(sql: str) -> list[RlsPolicy]:
    """Every `create policy` statement in `sql`, in order."""
    sql = _LINE_COMMENT.sub("", sql)
    policies = []
    for match in _CREATE.finditer(sql):
        statement = sql[match.start() : _statement_end(sql, match.start())]
        header = _HEADER.match(statement)
        if not header:
            continue
        using = _parenthesised_after(re.compile(r"\busing\b", re.IGNORECASE), statement)
        check = _parenthesised_after(re.compile(r"\bwith\s+check\b", re.IGNORECASE), statement)
        to = tuple(r.strip().strip('"') for r in (header["to"] or "public").split(",") if r.strip())
        policies.append(
            RlsPolicy(
                name=header["name"].strip('"'),
                table=header["table"].replace('"', ""),
                command=(header["command"] or "all").lower(),
                kind=(header["kind"] or "permissive").lower(),
                to=to,
                using=using,
                check=check,
                ops_roles=tuple(sorted(set(_OPS_ROLE_LITERAL.findall(f"{using} {check}")))),
                predicates=tuple(sorted({f.lower() for f in _FUNCTION_CALL.findall(f"{using} {check}")})),
            )
        )
    return policies
