"""EngineeringMetrics in the offline plan of prod: least-privilege job, private bucket, schedule, login, Grafana.

The policy pack runs clean over it with no waiver (tests/policies/test_prod_plan.py), and
OPS-STOR-001/002 have mutations of exactly these resources (tests/policies/mutations.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from infra.components.metrics import code_assets
from infra.derive.metrics import bucket_policy, job_policy
from infra.offline.plan import Plan
from infra.policy.waivers import WAIVERS_FILE

PREFIX = "engineering-metrics"


def one(plan: Plan, type_: str, name: str) -> dict:
    (found,) = [r for r in plan.of_type(type_) if r["name"] == name]
    return found


def linked(plan: Plan, resource: dict, prop: str) -> list[dict]:
    urns = resource["propertyDependencies"].get(prop, [])
    return [r for r in plan.resources if r["urn"] in urns]


def test_the_job_runs_as_metrics_job_which_reads_exactly_its_secrets(prod_plan: Plan) -> None:
    function = one(prod_plan, "aws:lambda/function:Function", f"{PREFIX}-snapshot")
    (role,) = linked(prod_plan, function, "role")
    assert role["properties"]["name"] == "metrics-job-prod"
    reads = one(prod_plan, "aws:iam/rolePolicy:RolePolicy", "vendor-secrets-metrics-job-reads")
    statement = next(s for s in json.loads(reads["properties"]["policy"])["Statement"] if s["Sid"] == "ReadOwnSecrets")
    read_secrets = sorted(r["properties"]["name"] for r in linked(prod_plan, reads, "policy") if r["type"] == "aws:secretsmanager/secret:Secret")
    assert read_secrets == ["ops-hub/prod/github/metrics-token", "ops-hub/prod/pagerduty/metrics-api-key", "ops-hub/prod/supabase/ops-metrics-writer"]
    assert len(statement["Resource"]) == 3 and statement["Action"] == "secretsmanager:GetSecretValue"
    env = function["properties"]["environment"]["variables"]
    assert set(env) == {"GITHUB_SECRET_ARN", "PAGERDUTY_SECRET_ARN", "DATABASE_SECRET_ARN", "SNAPSHOT_BUCKET"}
    assert function["properties"]["reservedConcurrentExecutions"] == 1


def test_the_job_writes_exactly_its_prefix_and_latest_json(prod_plan: Plan) -> None:
    policy = one(prod_plan, "aws:iam/rolePolicy:RolePolicy", f"{PREFIX}-job-policy")
    statements = {s["Sid"]: s for s in json.loads(policy["properties"]["policy"])["Statement"]}
    write = statements["WriteOwnPrefix"]
    assert write["Action"] == "s3:PutObject"
    assert sorted(r.split(":")[-1] for r in write["Resource"]) == [f"{PREFIX}-snapshots/latest.json", f"{PREFIX}-snapshots/snapshots/*"]
    actions = [a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in actions if a.startswith("s3:") and a != "s3:PutObject"], "the job never reads, lists or deletes"
    assert statements["EncryptViaS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}}


def test_the_bucket_is_private_versioned_kms_encrypted_and_undeletable(prod_plan: Plan) -> None:
    bucket = one(prod_plan, "aws:s3/bucket:Bucket", f"{PREFIX}-snapshots")
    assert bucket["properties"]["bucket"] == "ops-hub-prod-metrics-210987654321"
    public = one(prod_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{PREFIX}-snapshots-public-access")
    assert all(public["properties"][k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    versioning = one(prod_plan, "aws:s3/bucketVersioning:BucketVersioning", f"{PREFIX}-snapshots-versioning")
    assert versioning["properties"]["versioningConfiguration"]["status"] == "Enabled"
    encryption = one(prod_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"{PREFIX}-snapshots-encryption")
    assert [k["name"] for k in linked(prod_plan, encryption, "rules")] == [f"{PREFIX}-key"]
    denies = {s["Sid"] for s in bucket_policy("arn:aws:s3:::b", "1").to_dict()["Statement"]}
    assert denies == {"DenyWithoutTls", "DenyOutsideAccount", "DenyDeletes"}


def test_the_schedule_is_daily_utc_and_its_role_invokes_only_the_job(prod_plan: Plan) -> None:
    schedule = one(prod_plan, "aws:scheduler/schedule:Schedule", f"{PREFIX}-schedule")
    assert schedule["properties"]["scheduleExpression"] == "cron(30 5 * * ? *)"
    assert schedule["properties"]["scheduleExpressionTimezone"] == "UTC"
    invoke = json.loads(one(prod_plan, "aws:iam/rolePolicy:RolePolicy", f"{PREFIX}-scheduler-policy")["properties"]["policy"])
    (statement,) = invoke["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction" and statement["Resource"].endswith(f":{PREFIX}-snapshot")


def test_job_errors_alarm_like_the_rotation_lambdas(prod_plan: Plan) -> None:
    alarm = one(prod_plan, "aws:cloudwatch/metricAlarm:MetricAlarm", f"{PREFIX}-errors")
    rotation = next(a for a in prod_plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a["name"].endswith("-errors") and "rotate" in a["name"])
    keys = ("namespace", "metricName", "statistic", "comparisonOperator", "threshold", "treatMissingData")
    assert {k: alarm["properties"][k] for k in keys} == {k: rotation["properties"][k] for k in keys}
    assert [r["type"] for r in linked(prod_plan, alarm, "alarmActions")] == ["aws:sns/topic:Topic"]
    assert linked(prod_plan, alarm, "alarmActions") == linked(prod_plan, rotation, "alarmActions")


def test_roles_schema_and_login_are_declared_before_the_migrations_run(prod_plan: Plan) -> None:
    login = one(prod_plan, "postgresql:index/role:Role", f"{PREFIX}-login-ops_metrics_job")
    props = login["properties"]
    assert props["roles"] == ["ops_metrics_writer"] and props["login"] is True and props["connectionLimit"] == 10
    assert not any(props[k] for k in ("superuser", "createRole", "bypassRowLevelSecurity"))
    assert "password" in login["secretProperties"] and "password" in login["options"]["ignoreChanges"]
    (writer,) = linked(prod_plan, login, "roles")
    assert (writer["properties"]["name"], writer["properties"]["login"]) == ("ops_metrics_writer", False)
    (schema,) = [s for s in prod_plan.of_type("postgresql:index/schema:Schema") if s["properties"]["name"] == "ops_metrics"]
    assert schema["properties"]["owner"] == "ops_metrics_owner"
    usage = sorted(g["properties"]["role"] for g in prod_plan.of_type("postgresql:index/grant:Grant") if g["properties"]["schema"] == "ops_metrics")
    assert usage == ["authenticated", "ops_audit_writer", "ops_metrics_reader", "ops_metrics_writer"]
    migrations = next(r for r in prod_plan.resources if r["type"].endswith("OpsAuditMigrations"))
    assert {login["urn"], schema["urn"], writer["urn"]} <= set(migrations["dependencies"]), "0017-0019 run once they exist"
    assert migrations["properties"]["metricsReadRoles"] == ["ops-admin", "ops-editorial", "ops-lifecycle", "ops-sre", "ops-viewer"]


def test_the_dashboard_and_a_ticket_when_snapshots_go_stale(prod_plan: Plan) -> None:
    dashboard = one(prod_plan, "grafana:oss/dashboard:Dashboard", f"{PREFIX}-dashboard")
    config = json.loads(dashboard["properties"]["configJson"])
    assert config["title"] == "Engineering metrics"
    titles = [p["title"] for p in config["panels"]]
    assert titles[:4] == ["Deployment frequency", "Change lead time", "Change failure rate", "Failed deployment recovery time"]
    assert titles[4].startswith("Pages by hour class")
    assert "(validating)" in json.dumps(config), "metrics not yet reconciled are marked"
    (folder,) = linked(prod_plan, dashboard, "folder")
    assert folder["properties"]["uid"] == "opshub-dashboards"
    group = one(prod_plan, "grafana:alerting/ruleGroup:RuleGroup", f"{PREFIX}-freshness")
    (rule,) = group["properties"]["rules"]
    assert rule["labels"]["severity"] == "ticket" and rule["annotations"]["runbook_url"].endswith("#engineering-metrics")
    threshold = json.loads(rule["datas"][1]["model"])
    assert threshold["conditions"][0]["evaluator"] == {"type": "gt", "params": [26]}
    assert json.loads(rule["datas"][0]["model"])["datasource"]["uid"] == "supabase-ops-metrics"


def test_no_waiver_is_needed() -> None:
    assert "metrics" not in WAIVERS_FILE.read_text() if WAIVERS_FILE.exists() else True


def test_the_lambda_archive_holds_every_module_the_handler_imports(tmp_path: Path) -> None:
    """Unpack the archive's files alone (no repository on the path) and import the handler from them."""
    for path, asset in code_assets().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(asset.path).read_bytes())
    probe = ("import metrics_snapshot, infra, infra.metrics.snapshot as s; s.schema(); "
             "from infra.model.metrics import load_catalogue; load_catalogue(); print(infra.__file__)")
    # -S: no site module, so no .pth file (the editable install's finder) points back at the repository.
    site_packages = Path(jsonschema.__file__).parent.parent
    result = subprocess.run([sys.executable, "-S", "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False,
                            env={"PYTHONPATH": f"{tmp_path}:{site_packages}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "infra" / "__init__.py"), "imported from the archive, not the repository"


@pytest.mark.parametrize("bad", ["*", "arn:aws:s3:::b/*"])
def test_the_job_policy_never_names_a_whole_bucket(bad: str) -> None:
    resources = job_policy("arn:aws:s3:::b", "arn:aws:kms:r:1:key/k", "arn:aws:logs:r:1:log-group:g", "eu-central-1").to_dict()["Statement"][0]["Resource"]
    assert bad not in resources
