"""The four formats carry the same report: a matrix row per role, the fingerprint, self-contained HTML."""

from __future__ import annotations

import csv
import io
import json
import re

from infra.report.render_csv import render_csv
from infra.report.render_html import render_html
from infra.report.render_json import render_json
from infra.report.render_md import render_md


def test_markdown_matrix_has_one_row_per_role_with_its_permissions_ticked(prod_report: dict) -> None:
    lines = render_md(prod_report).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| role |") and "MFA factors" in line)
    columns = [c.strip() for c in lines[start].strip("|").split("|")]
    matrix = lines[start : start + 2 + len(prod_report["roles"])]

    for role in prod_report["roles"]:
        row = next((line for line in matrix if line.startswith(f"| {role['name']} |")), None)
        assert row is not None, f"no matrix row for {role['name']}"
        cells = dict(zip(columns, (c.strip() for c in row.strip("|").split("|")), strict=True))
        ticked = sorted(p for p in cells if cells[p] == "✓")
        assert ticked == sorted(role["permissions"]), f"{role['name']}: matrix ticks differ from the report"
    assert prod_report["fingerprint"]["report_sha256"] in "\n".join(lines)


def test_csv_rows_are_the_report_facts(prod_report: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(prod_report))))

    held = sorted((r["subject"], r["object"]) for r in rows if r["relation"] == "holds permission")
    assert held == sorted((role["name"], p) for role in prod_report["roles"] for p in role["permissions"])
    fingerprint = {r["subject"]: r["object"] for r in rows if r["section"] == "fingerprint"}
    assert fingerprint["report"] == prod_report["fingerprint"]["report_sha256"]


def test_json_round_trips(prod_report: dict) -> None:
    assert json.loads(render_json(prod_report)) == json.loads(json.dumps(prod_report))


def test_html_is_self_contained_and_marks_print_styles(prod_report: dict) -> None:
    page = render_html(prod_report)

    assert "<script" not in page, "the page must not need scripts"
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?!#)[^"']*|url\(""", page)
    assert external == [], f"external references: {external}"
    assert "default-src 'none'" in page, "the CSP that makes stray loads fail is missing"
    assert "@media print" in page
    assert page.count('<tr data-role="') == len(prod_report["roles"])


def test_policy_check_verdict_is_stated_in_every_format(prod_report: dict) -> None:
    unavailable = dict(prod_report, findings={"available": False, "note": "not available: no evaluator", "findings": [], "waivers": []})

    assert "Policy check: " in render_md(prod_report), "the report must say which check ran"
    for text in (render_md(unavailable), render_html(unavailable), render_csv(unavailable)):
        assert "not available: no evaluator" in text, "a missing policy check must not look like a clean one"
