"""The metrics catalogue: typed, every problem listed at once (exit 2), checked against the access model."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from infra.cli.main import main
from infra.derive.metrics import derive_metrics
from infra.errors import ModelError
from infra.model.metrics import DEFAULT_CATALOGUE_PATH, MetricsCatalogueError, parse_catalogue
from tests.support.model_edits import identity_of, secret_of

RAW = yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text())
REQUIRED_METRICS = {
    "deployment_frequency", "deploy_days", "lead_time", "coding_time", "pickup_time", "review_time", "deploy_time",
    "throughput", "wip", "change_failure_rate", "recovery_time", "rework_rate", "bugs_opened", "bugs_closed",
    "bug_age", "revert_rate", "pages_by_hour_class", "after_hours_share", "mtta", "oncall_time", "incidents_acknowledged",
}


def test_the_catalogue_has_every_metric_an_owner_formula_and_tolerance(catalogue) -> None:
    assert set(catalogue.metric_by_name) == REQUIRED_METRICS
    assert {m.family for m in catalogue.metrics} == {"flow", "quality", "sustainability"}
    assert {catalogue.owner_by_key[m.owner].title for m in catalogue.metrics} == {"Engineering Manager", "Analytics", "SRE lead"}
    assert catalogue.validation.days == 14


def test_every_problem_is_listed_at_once() -> None:
    data = copy.deepcopy(RAW)
    data["metrics"][0]["owner"] = "cto"
    data["metrics"][1]["name"] = data["metrics"][0]["name"]
    data["metrics"][2]["windows"] = [7, 30]
    data["sources"]["github"]["deploy_source"] = "jenkins"
    data["sources"]["pagerduty"]["explicit_deployment_pattern"] = "deploy (\\d+)"
    data["metrics"][3]["validated_on"] = "2026-12-08"  # before the 14 days are over
    with pytest.raises(MetricsCatalogueError) as refused:
        parse_catalogue(data, "metrics.yaml")
    problems = "\n".join(refused.value.problems)
    assert "sources.github.deploy_source" in problems and "sources.pagerduty.explicit_deployment_pattern" in problems
    data["sources"] = RAW["sources"]
    with pytest.raises(MetricsCatalogueError) as refused:
        parse_catalogue(data, "metrics.yaml")
    problems = "\n".join(refused.value.problems)
    for text in ("owner 'cto' is not declared", "declared more than once", "windows must be [7, 28, 90]", "before the validation period ends"):
        assert text in problems


def test_an_unknown_read_permission_is_refused() -> None:
    data = copy.deepcopy(RAW)
    data["publication"]["read_permission"] = "metrics:read"
    with pytest.raises(MetricsCatalogueError, match="not a permission of the access model"):
        parse_catalogue(data, "metrics.yaml", frozenset({"analytics:read"}))


def test_a_broken_catalogue_file_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "metrics.yaml"
    data = copy.deepcopy(RAW)
    del data["metrics"][0]["formula"]
    path.write_text(yaml.safe_dump(data))
    code = main(["metrics", "snapshot", "--as-of", "2026-12-08T00:00:00Z", "--fixtures", str(tmp_path), "--out", str(tmp_path / "s.json"), "--catalogue", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and "metrics[0] (deployment_frequency).formula: Field required" in err


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["identities"].remove(identity_of(d, "metrics-job")), "identity 'metrics-job'"),
    (lambda d: identity_of(d, "metrics-job")["reads_secrets"].append("stripe/secret-key"), "must read exactly"),
    (lambda d: secret_of(d, "supabase/ops-metrics-writer").update(database_group="writer"), "database_group 'metrics_writer'"),
])
def test_the_job_needs_its_identity_secrets_and_login_in_the_model(access_model_data, catalogue, change, message) -> None:
    from infra.model.access import parse_model

    data = copy.deepcopy(access_model_data)
    change(data)
    with pytest.raises(ModelError, match=message):
        derive_metrics(parse_model(data, "test model"), catalogue, "prod", "210987654321")
