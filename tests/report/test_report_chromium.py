"""The HTML report in real headless Chromium (Debian `chromium`): no console errors, the credential section, people,
changes since the last review, a matrix row per role, a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from infra.report.diff import diff_reports
from infra.report.render_html import render_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# Chromium logs every console message (and CSP refusals) at INFO as `CONSOLE(line)] "text"` with this flag.
LOGGING = ["--enable-logging=stderr", "--v=0"]

# No skip when Chromium is missing: `make test` installs it (scripts/system-packages.sh), and a skipped
# rendering test would read as a pass.
pytestmark = pytest.mark.slow


class _SectionText(HTMLParser):
    """The text of each <section id=...> of the DOM Chromium serialised."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.current = dict(attrs).get("id")
            self.text[self.current] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current:
            self.text[self.current] += data + " "


class _MatrixRows(HTMLParser):
    """Role names of the rendered matrix's body rows, as Chromium serialised the DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.in_matrix = False
        self.roles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.in_matrix = found.get("id") == "matrix"
        elif tag == "tr" and self.in_matrix and found.get("data-role"):
            self.roles.append(found["data-role"])


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *LOGGING, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r"CONSOLE\(\d+\)|:CONSOLE:", line)]


@pytest.fixture
def reviewed_report(prod_report: dict) -> dict:
    """The prod report compared with a signed-off review at which ops-sre could only view Grafana."""
    before = json.loads(json.dumps(prod_report))
    sre = next(r for r in before["roles"] if r["name"] == "ops-sre")
    sre["integrations"]["grafana"] = "view"
    review = {"tag": "access-review/2026-11-30", "date": "2026-11-30", "reviewer": "Jane Auditor <jane@clarivum.com>", "stack": "prod", "revision": "a" * 40, "report_sha256": "b" * 64}
    since = {"status": "compared", "review": review, "diff": diff_reports(before, prod_report), "note": "Compared with the report of revision aaaaaaaaaaaa as signed off."}
    return {**prod_report, "since_review": since}


@pytest.fixture
def page(tmp_path: Path, reviewed_report: dict) -> Path:
    path = tmp_path / "access-report.html"
    path.write_text(render_html(reviewed_report), encoding="utf-8")
    return path


def test_console_logging_is_captured_here(tmp_path: Path) -> None:
    """Guard for the test below: a page that does log an error must show up in what we read."""
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<!doctype html><title>x</title><script>console.error('expected-noise')</script>")
    result = _chromium(tmp_path, "--dump-dom", noisy.as_uri())
    assert any("expected-noise" in line for line in _console(result.stderr)), result.stderr[-2000:]


def test_report_loads_without_console_errors_and_has_a_matrix_row_per_role(tmp_path: Path, page: Path, prod_report: dict) -> None:
    result = _chromium(tmp_path, "--dump-dom", page.as_uri())

    assert result.returncode == 0, result.stderr[-2000:]
    assert _console(result.stderr) == [], "the page logged to the console (a CSP refusal, an error)"
    rows = _MatrixRows()
    rows.feed(result.stdout)
    assert rows.roles == [r["name"] for r in prod_report["roles"]], "the rendered matrix needs one row per role"


def test_the_credential_section_people_and_changes_since_the_review_render(tmp_path: Path, page: Path, prod_report: dict) -> None:
    result = _chromium(tmp_path, "--dump-dom", page.as_uri())

    assert result.returncode == 0 and _console(result.stderr) == [], result.stderr[-2000:]
    sections = _SectionText()
    sections.feed(result.stdout)
    text = {k: " ".join(v.split()) for k, v in sections.text.items()}
    assert list(text)[:3] == ["since-review", "credentials", "people"], "the auditor's questions come first"
    assert "access-review/2026-11-30, by Jane Auditor" in text["since-review"]
    assert "role ops-sre on grafana: view → edit" in text["since-review"]
    credentials = text["credentials"]
    assert all(c["key"] in credentials for c in prod_report["credentials"]), "a row per secret"
    assert "ops-payments: ops role ops-payments → POST /ops/payments/stripe/refunds" in credentials
    assert "ops-hub-prod-rotate-supabase-ops-hub-writer [job: read]" in credentials, "the rotator login's readers"
    holder = next(h for r in prod_report["people"]["roles"] if r["role"] == "ops-payments" for h in r["holders"])
    assert holder["user"] in text["people"] and holder["approved"] in text["people"]


def test_screenshot_and_print_render(tmp_path: Path, page: Path) -> None:
    shot, pdf = tmp_path / "access-report.png", tmp_path / "access-report.pdf"

    screen = _chromium(tmp_path, "--window-size=1400,1000", f"--screenshot={shot}", page.as_uri())
    printed = _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())

    assert screen.returncode == 0 and shot.stat().st_size > 10_000, f"no screenshot: {screen.stderr[-1000:]}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert printed.returncode == 0 and pdf.read_bytes()[:5] == b"%PDF-", f"print to PDF failed: {printed.stderr[-1000:]}"
