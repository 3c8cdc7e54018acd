"""The generated rule files pass the real promtool: `check rules`, and `test rules` on alerts/tests/.

The unit tests in alerts/tests/<slo>.test.yml feed synthetic series for each SLO:
a fast burn pages within minutes, a slow burn only tickets, a burn within budget
and no traffic fire nothing, a hard outage pages within 10 minutes, and one 5xx
at 1 request per minute never pages while 20 requests per second do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from infra.alerting_files import GENERATED_DIR
from infra.config import REPO_ROOT
from infra.derive import slo as slo_rules
from infra.model.observability import Catalogue

GENERATED = REPO_ROOT / GENERATED_DIR
PROMTOOL_TESTS = REPO_ROOT / "alerts" / "tests"

RULE_FILES = sorted(GENERATED.glob("*.yml"))
TEST_FILES = sorted(PROMTOOL_TESTS.glob("*.test.yml"))


def test_every_slo_has_a_rule_file_and_a_promtool_test(catalogue: Catalogue) -> None:
    names = {s.name for s in catalogue.slos}
    assert {p.stem for p in RULE_FILES} == names, "alerts/generated/ must hold exactly one rule file per SLO"
    assert {p.name.removesuffix(".test.yml") for p in TEST_FILES} == names, "every SLO needs alerts/tests/<slo>.test.yml"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_promtool_check_rules(promtool, path: Path) -> None:
    result = promtool("check", "rules", path)
    assert result.returncode == 0, f"promtool check rules {path.name}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name.removesuffix(".test.yml"))
def test_promtool_test_rules(promtool, path: Path) -> None:
    result = promtool("test", "rules", path)
    assert result.returncode == 0, f"promtool test rules {path.name}:\n{result.stdout}{result.stderr}"


def test_low_traffic_test_fails_without_the_guard(promtool, catalogue: Catalogue, tmp_path: Path, monkeypatch) -> None:
    """The 1-request-per-minute test really depends on the guard: without it, the single 5xx pages."""
    unguarded = tuple(dataclasses.replace(c, guard_low_traffic=False) for c in slo_rules.ALERT_CLASSES)
    monkeypatch.setattr(slo_rules, "ALERT_CLASSES", unguarded)
    availability = next(s for s in catalogue.slos if s.name == "ops-hub-availability")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "ops-hub-availability.yml").write_text(
        slo_rules.render_yaml(slo_rules.rule_groups(availability, "https://runbook.invalid", "https://dash.invalid"), "test")
    )
    (tmp_path / "tests").mkdir()
    test_file = tmp_path / "tests" / "availability.test.yml"
    test_file.write_text((PROMTOOL_TESTS / "ops-hub-availability.test.yml").read_text())
    result = promtool("test", "rules", test_file)
    assert result.returncode != 0, "without the low-traffic guard the 1 req/min test should fail"
    assert "OpsHubAvailabilityFastBurn" in result.stdout + result.stderr, result.stdout + result.stderr
