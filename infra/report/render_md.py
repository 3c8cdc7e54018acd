"""The report as Markdown (GitHub-flavoured tables), for wikis and pull requests."""

from __future__ import annotations

from typing import Any

from infra import markdown
from infra.report.sections import Cell, Section, Table, headline, sections


def _cell(value: Cell) -> str:
    """One table cell; several lines are kept apart with <br>, which GitHub renders in tables."""
    if isinstance(value, tuple):
        return "<br>".join(markdown.cell(line) for line in value)
    return markdown.cell(value)


def md_table(table: Table) -> list[str]:
    lines = [f"**{table.caption}**", ""] if table.caption else []
    if not table.rows:
        return [*lines, "_None._", ""]
    lines += markdown.table([markdown.cell(h) for h in table.headers], ([_cell(c) for c in row] for row in table.rows))
    return [*lines, ""]


def _section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    lines += [line for note in section.notes for line in (note, "")]
    return lines + [line for table in section.tables for line in md_table(table)]


def render_md(report: dict[str, Any]) -> str:
    lines = [
        f"# Declared access: stack `{report['stack']}`",
        "",
        headline(report),
        "",
    ]
    for section in sections(report):
        lines += _section(section)
    return "\n".join(lines).rstrip() + "\n"
