"""The report as one self-contained HTML page: no scripts, no external assets, print-ready.

A Content-Security-Policy of `default-src 'none'` (inline styles only) makes
the "no external assets" promise checkable: a browser refuses, and logs, any
load the page would try. The role × permission matrix keeps its header row and
role column in view while scrolling, and repeats its header on printed pages.
"""

from __future__ import annotations

from html import escape
from typing import Any

from infra.report.sections import HELD, Cell, Section, Table, headline, sections

CSS = """
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --held: #dafbe1; --write: #fff1c2; --bad: #ffd8d3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 1400px; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); }
nav a { margin-right: 1rem; } .meta { color: var(--muted); } code { font-size: .9em; word-break: break-all; }
.scroll { overflow-x: auto; margin-bottom: 1rem; }
table { border-collapse: collapse; margin: .25rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
table.matrix caption { font-weight: 400; color: var(--muted); }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
table.matrix th.perm { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; }
table.matrix th.perm.writes { background: var(--write); }
table.matrix tbody th { position: sticky; left: 0; background: #fff; white-space: nowrap; }
table.matrix td.held { background: var(--held); text-align: center; font-weight: 700; }
table.matrix td.empty { text-align: center; }
table.matrix tbody tr:hover td, table.matrix tbody tr:hover th { outline: 1px solid #8c959f; }
td.violated { background: var(--bad); font-weight: 700; }
.note { color: var(--muted); margin: .25rem 0; }
.unavailable { background: var(--bad); padding: .5rem; border-left: 4px solid #cf222e; }
ul.lines { margin: 0; padding-left: 1rem; } ul.lines li { margin: .1rem 0; }
@media print {
  body { max-width: none; padding: 0; font-size: 10px; }
  nav { display: none; }
  .scroll { overflow: visible; }
  thead { display: table-header-group; }
  thead th, table.matrix tbody th { position: static; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
  td.held, td.violated, th.perm.writes { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def _matrix(table: Table, writes: set[str]) -> str:
    head = "".join(
        f'<th scope="col" class="perm{" writes" if h in writes else ""}">{escape(h)}</th>' if 0 < i < len(table.headers) - 2 else f'<th scope="col">{escape(h)}</th>'
        for i, h in enumerate(table.headers)
    )
    body = []
    for role, *cells in table.rows:
        tds = "".join(
            f'<td class="held" title="{escape(role)} holds {escape(table.headers[i + 1])}">{HELD}</td>' if c == HELD
            else f'<td class="empty">{escape(c)}</td>' if i < len(cells) - 2 else f"<td>{escape(c)}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f'<tr data-role="{escape(role)}"><th scope="row">{escape(role)}</th>{tds}</tr>')
    caption = "<caption>Shaded permission headers change state (writes). ✓ = the role holds the permission.</caption>"
    return f'<div class="scroll"><table class="matrix" id="matrix">{caption}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _cell(value: Cell) -> str:
    """One cell's HTML: a tuple of lines becomes a list, one item per line."""
    if isinstance(value, tuple):
        return '<ul class="lines">' + "".join(f"<li>{escape(line)}</li>" for line in value) + "</ul>"
    return escape(value)


def _table(table: Table) -> str:
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    if not table.rows:
        return f'<table>{caption}<tbody><tr><td class="note">None.</td></tr></tbody></table>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers)
    rows = "".join(
        "<tr>" + "".join(f'<td{" class=violated" if c == "VIOLATED" else ""}>{_cell(c)}</td>' for c in row) + "</tr>"
        for row in table.rows
    )
    return f'<div class="scroll"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def _section(section: Section, writes: set[str]) -> str:
    notes = "".join(
        f'<p class="{"unavailable" if "not available" in n else "note"}">{escape(n)}</p>' for n in section.notes
    )
    tables = "".join(_matrix(t, writes) if t.matrix else _table(t) for t in section.tables)
    return f'<section id="{section.anchor}"><h2>{escape(section.title)}</h2>{notes}{tables}</section>'


def render_html(report: dict[str, Any]) -> str:
    parts = sections(report)
    writes = {p["name"] for p in report["permissions"] if p["writes"]}
    nav = "".join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in parts)
    title = f"Declared access: stack {report['stack']}"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="meta">{escape(headline(report))}</p><nav>{nav}</nav></header>'
        f"<main>{''.join(_section(s, writes) for s in parts)}</main></body></html>\n"
    )
