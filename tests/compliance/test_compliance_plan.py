"""ComplianceJobs in the offline plan of prod: the locked archive, least-privilege jobs, their schedules,
the checkpoint's signing key and alarms, and Lambda archives that import their handler on their own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from infra.derive.compliance import archive_bucket_policy
from infra.offline.plan import Plan, run_plan

JOBS = [
    ("access-review", "access-review-job", "access-reviews"),
    ("audit-export", "audit-export-job", "audit-exports"),
    ("audit-checkpoint", "audit-checkpoint-job", "audit-checkpoints"),
]


def _one(plan: Plan, type_: str, name: str) -> dict:
    (found,) = [r for r in plan.of_type(type_) if r["name"] == name]
    return found


def _linked(plan: Plan, resource: dict, prop: str) -> list[dict]:
    urns = resource["propertyDependencies"].get(prop, [])
    return [r for r in plan.resources if r["urn"] in urns]


def test_archive_bucket_is_object_locked_in_compliance_mode_and_protected(prod_plan: Plan) -> None:
    bucket = _one(prod_plan, "aws:s3/bucket:Bucket", "compliance-archive")
    lock = _one(prod_plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "compliance-archive-lock")
    versioning = _one(prod_plan, "aws:s3/bucketVersioning:BucketVersioning", "compliance-archive-versioning")

    assert bucket["properties"]["objectLockEnabled"] is True and bucket["properties"]["forceDestroy"] is False
    assert bucket["options"]["protect"], "a compliance-locked bucket must be protected from pulumi destroy"
    assert lock["properties"]["rule"]["defaultRetention"]["mode"] == "COMPLIANCE"
    assert lock["properties"]["rule"]["defaultRetention"]["days"] >= 365
    assert versioning["properties"]["versioningConfiguration"]["status"] == "Enabled"


def test_archive_is_kms_encrypted_private_and_tls_only(prod_plan: Plan) -> None:
    encryption = _one(prod_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "compliance-archive-encryption")
    public = _one(prod_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "compliance-archive-public-access")
    policy = json.loads(_one(prod_plan, "aws:s3/bucketPolicy:BucketPolicy", "compliance-archive-policy")["properties"]["policy"])

    rule = encryption["properties"]["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert [k["name"] for k in _linked(prod_plan, encryption, "rules")] == ["compliance-key"], "encrypted with its own customer key"
    assert all(public["properties"][k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    denies = {s["Sid"]: s for s in policy["Statement"] if s["Effect"] == "Deny"}
    assert denies["DenyWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "s3:DeleteObjectVersion" in denies["DenyDeletes"]["Action"] and denies["DenyDeletes"]["Principal"] == "*"


@pytest.mark.parametrize(("job", "identity", "prefix"), JOBS)
def test_each_job_runs_as_its_identity_with_least_privilege(prod_plan: Plan, job: str, identity: str, prefix: str) -> None:
    function = _one(prod_plan, "aws:lambda/function:Function", f"compliance-{job}")
    (role,) = _linked(prod_plan, function, "role")
    policy = _one(prod_plan, "aws:iam/rolePolicy:RolePolicy", f"compliance-{job}-policy")
    statements = json.loads(policy["properties"]["policy"])["Statement"]

    assert role["properties"]["name"] == f"{identity}-prod", "the job must run as the identity that may read its secret"
    assert _linked(prod_plan, policy, "role") == [role]
    allowed = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements}
    assert allowed["WriteOwnPrefix"][0] == "s3:PutObject" and allowed["WriteOwnPrefix"][1].endswith(f"/{prefix}/*")
    for s in statements:
        assert "*" not in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]), f"{job}: a wildcard action"
        if s["Resource"] == "*":  # PutMetricData has no resource-level permissions; its namespace narrows it
            assert (s["Action"], s["Condition"]) == ("cloudwatch:PutMetricData", {"StringEquals": {"cloudwatch:namespace": "OpsHub/Audit"}})
    reads = [r for a, r in allowed.values() if "s3:GetObject" in str(a)]
    assert reads == ([allowed["WriteOwnPrefix"][1].replace(prefix, "audit-checkpoints")] if job == "access-review" else []), (
        "a job only adds objects; the review also reads the checkpoints, and nothing else"
    )
    assert not any("Delete" in str(a) for a, _ in allowed.values()), "no job deletes"
    assert function["properties"]["reservedConcurrentExecutions"] == 1


@pytest.mark.parametrize("job", ["access-review", "audit-export"])
def test_each_monthly_job_is_scheduled_monthly_by_a_role_that_can_only_invoke_it(prod_plan: Plan, job: str) -> None:
    schedule = _one(prod_plan, "aws:scheduler/schedule:Schedule", f"compliance-{job}-schedule")
    invoke = json.loads(_one(prod_plan, "aws:iam/rolePolicy:RolePolicy", f"compliance-{job}-scheduler-policy")["properties"]["policy"])

    assert schedule["properties"]["scheduleExpression"].startswith("cron(0 ") and " * ? *)" in schedule["properties"]["scheduleExpression"]
    assert [r["name"] for r in _linked(prod_plan, schedule, "target") if r["type"].startswith("aws:lambda")] == [f"compliance-{job}"]
    (statement,) = invoke["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction" and statement["Resource"].endswith(f":compliance-{job}")


def test_review_reads_the_separate_auth0_client_secret_and_notices_are_tickets(prod_plan: Plan) -> None:
    function = _one(prod_plan, "aws:lambda/function:Function", "compliance-access-review")
    env = function["properties"]["environment"]["variables"]
    linked = {r["name"] for r in _linked(prod_plan, function, "environment")}

    assert "vendor-secrets-auth0-access-review-client" in linked, "CLIENT_SECRET_ARN must be the access-review client's secret"
    assert env["AUTH0_DOMAIN"] == "clarivum.eu.auth0.com" and env["DORMANT_DAYS"] == "90"
    assert "review_input.json" in function["properties"]["code"]["assets"]
    topic = _one(prod_plan, "aws:sns/topic:Topic", "compliance-notices")
    assert [k["name"] for k in _linked(prod_plan, topic, "kmsMasterKeyId")] == ["compliance-key"]


def test_only_the_jobs_roles_write_archive_objects_and_the_deploy_role_does_not(prod_plan: Plan, prod_config) -> None:
    policy_resource = _one(prod_plan, "aws:s3/bucketPolicy:BucketPolicy", "compliance-archive-policy")
    denies = {s["Sid"]: s for s in json.loads(policy_resource["properties"]["policy"])["Statement"] if s["Effect"] == "Deny"}
    writers = {r["properties"]["name"] for r in _linked(prod_plan, policy_resource, "policy") if r["type"] == "aws:iam/role:Role"}

    deny = denies["DenyWritesByOthers"]
    assert deny["Principal"] == "*" and "s3:PutObject" in deny["Action"] and deny["Resource"].endswith("/*")
    assert writers == {f"{identity}-prod" for _, identity, _ in JOBS}, "the writers are exactly the jobs' roles"
    assert len(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == len(JOBS)
    assert prod_config.deploy_role_arn not in json.dumps(deny), "not even the deploy role writes objects"
    assert not any(a.startswith("s3:PutBucket") for a in deny["Action"]), "bucket administration stays with the account"


def test_a_new_job_is_one_more_writer() -> None:
    roles = [f"arn:aws:iam::210987654321:role/{identity}-prod" for _, identity, _ in JOBS] + ["arn:aws:iam::210987654321:role/new-job-prod"]
    deny = {s["Sid"]: s for s in archive_bucket_policy("arn:aws:s3:::archive", "210987654321", roles).to_dict()["Statement"]}

    assert sorted(deny["DenyWritesByOthers"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == sorted(roles)


def test_the_archive_key_is_used_through_s3_for_the_archive_and_sns_for_the_topic_only(prod_plan: Plan) -> None:
    key = _one(prod_plan, "aws:kms/key:Key", "compliance-key")
    statements = {s["Sid"]: s for s in json.loads(key["properties"]["policy"])["Statement"]}

    s3 = statements["JobsEncryptArchiveObjects"]
    assert s3["Action"] == "kms:GenerateDataKey", "writing an object needs no kms:Decrypt through S3"
    assert s3["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-central-1.amazonaws.com"
    assert s3["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == "arn:aws:s3:::ops-hub-prod-compliance-210987654321"
    sns = statements["JobsEncryptNotices"]
    assert sns["Condition"]["StringEquals"]["kms:ViaService"] == "sns.eu-central-1.amazonaws.com"
    assert sns["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"].endswith(":ops-hub-prod-compliance-notices")


def test_every_role_a_service_assumes_is_pinned_to_its_source(prod_plan: Plan) -> None:
    """aws:SourceArn beside aws:SourceAccount (confused-deputy guard), for every role of the plan."""
    for role in prod_plan.of_type("aws:iam/role:Role"):
        (trust,) = json.loads(role["properties"]["assumeRolePolicy"])["Statement"]
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "210987654321", role["name"]
        source = trust["Condition"]["ArnLike"]["aws:SourceArn"]
        assert ":210987654321:" in source and source != "*", role["name"]


def test_only_the_checkpoint_job_signs_with_an_asymmetric_protected_key(prod_plan: Plan) -> None:
    key = _one(prod_plan, "aws:kms/key:Key", "compliance-signing-key")
    statements = {s["Sid"]: s for s in json.loads(key["properties"]["policy"])["Statement"]}
    signer = "arn:aws:iam::210987654321:role/audit-checkpoint-job-prod"

    assert (key["properties"]["keyUsage"], key["properties"]["customerMasterKeySpec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    assert key["properties"]["enableKeyRotation"] is False, "KMS cannot rotate an asymmetric key"
    assert key["options"]["protect"], "deleting the key would orphan every checkpoint's signature"
    assert [r["properties"]["name"] for r in _linked(prod_plan, key, "policy")] == ["audit-checkpoint-job-prod"]
    assert statements["CheckpointJobSigns"]["Principal"] == {"AWS": signer} and statements["CheckpointJobSigns"]["Action"] == "kms:Sign"
    assert statements["DenySignByOthers"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": signer}}
    assert statements["AccountAdministersKey"]["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    function = _one(prod_plan, "aws:lambda/function:Function", "compliance-audit-checkpoint")
    assert function["properties"]["environment"]["variables"]["SIGNING_ALGORITHM"] == "ECDSA_SHA_256"
    assert [r["name"] for r in _linked(prod_plan, function, "environment") if r["type"] == "aws:kms/key:Key"] == ["compliance-signing-key"]


def _checkpoint_schedule_and_alarms(plan: Plan) -> tuple[str, dict[str, dict]]:
    schedule = _one(plan, "aws:scheduler/schedule:Schedule", "compliance-audit-checkpoint-schedule")["properties"]["scheduleExpression"]
    alarms = {r["properties"]["metricName"]: r for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if r["properties"]["namespace"] == "OpsHub/Audit"}
    return schedule, alarms


def test_checkpoint_runs_hourly_and_both_alarms_ticket(prod_plan: Plan) -> None:
    schedule, alarms = _checkpoint_schedule_and_alarms(prod_plan)

    assert schedule == "rate(60 minutes)"
    assert set(alarms) == {"UnexpectedTrailAccess", "CheckpointsWritten"}
    deviations, written = alarms["UnexpectedTrailAccess"]["properties"], alarms["CheckpointsWritten"]["properties"]
    assert (deviations["comparisonOperator"], deviations["threshold"], deviations["period"]) == ("GreaterThanThreshold", 0, 3600)
    assert (written["comparisonOperator"], written["threshold"], written["treatMissingData"]) == ("LessThanThreshold", 1, "breaching")
    assert written["period"] * written["evaluationPeriods"] == 7200, "two missed checkpoints ticket"
    for alarm in alarms.values():
        assert alarm["properties"]["alarmDescription"].startswith("[ticket]")
        assert [t["name"] for t in _linked(prod_plan, alarm, "alarmActions")] == ["vendor-secrets-alarms"], "the ticket topic"


def test_checkpoint_interval_comes_from_the_stack_config(stack_root: Path) -> None:
    path = stack_root / "Pulumi.prod.yaml"
    stack = yaml.safe_load(path.read_text())
    stack["config"]["opshub:auditCheckpointMinutes"] = 15
    path.write_text(yaml.safe_dump(stack))

    schedule, alarms = _checkpoint_schedule_and_alarms(run_plan("prod", root=stack_root))

    assert schedule == "rate(15 minutes)"
    assert {a["properties"]["period"] for a in alarms.values()} == {900}


def _unpack(function: dict, into: Path) -> None:
    """The Lambda's archive as the runtime unpacks it (generated files stand in as empty JSON)."""
    for name, asset in function["properties"]["code"]["assets"].items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if asset["asset"] == "FileAsset":
            shutil.copy(asset["path"], target)
        else:
            target.write_text("{}")


@pytest.mark.parametrize("job", [job for job, _, _ in JOBS])
def test_each_job_archive_imports_its_handler_on_its_own(prod_plan: Plan, tmp_path: Path, job: str) -> None:
    """As the Lambda runtime does (awslambdaric bootstrap `_get_handler`: import_module of the handler's module
    with `/` read as `.`), with only the archive and the installed packages (boto3, psycopg) on the path:
    not the repository."""
    function = _one(prod_plan, "aws:lambda/function:Function", f"compliance-{job}")
    _unpack(function, tmp_path)
    module, handler = function["properties"]["handler"].rsplit(".", 1)
    check = f"import importlib; assert callable(getattr(importlib.import_module({module.replace('/', '.')!r}), {handler!r}))"

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), sysconfig.get_paths()["purelib"]])}
    result = subprocess.run([sys.executable, "-S", "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
