"""The HTML report in real headless Chromium (Debian `chromium`): no console errors, a matrix row per role, a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from infra.report.render_html import render_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# Chromium logs every console message (and CSP refusals) at INFO as `CONSOLE(line)] "text"` with this flag.
LOGGING = ["--enable-logging=stderr", "--v=0"]

# No skip when Chromium is missing: `make test` installs it (scripts/system-packages.sh), and a skipped
# rendering test would read as a pass.
pytestmark = pytest.mark.slow


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
def page(tmp_path: Path, prod_report: dict) -> Path:
    path = tmp_path / "access-report.html"
    path.write_text(render_html(prod_report), encoding="utf-8")
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


def test_screenshot_and_print_render(tmp_path: Path, page: Path) -> None:
    shot, pdf = tmp_path / "access-report.png", tmp_path / "access-report.pdf"

    screen = _chromium(tmp_path, "--window-size=1400,1000", f"--screenshot={shot}", page.as_uri())
    printed = _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())

    assert screen.returncode == 0 and shot.stat().st_size > 10_000, f"no screenshot: {screen.stderr[-1000:]}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert printed.returncode == 0 and pdf.read_bytes()[:5] == b"%PDF-", f"print to PDF failed: {printed.stderr[-1000:]}"
