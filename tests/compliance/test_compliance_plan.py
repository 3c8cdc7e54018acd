"""ComplianceJobs in the offline plan of prod: the locked archive, least-privilege jobs, their schedules."""

from __future__ import annotations

import json

import pytest

from infra.derive.compliance import COMPLIANCE_JOBS, archive_bucket_policy
from infra.offline.plan import Plan


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


@pytest.mark.parametrize(("job", "identity", "prefix"), [("access-review", "access-review-job", "access-reviews"), ("audit-export", "audit-export-job", "audit-exports")])
def test_each_job_runs_as_its_identity_with_least_privilege(prod_plan: Plan, job: str, identity: str, prefix: str) -> None:
    function = _one(prod_plan, "aws:lambda/function:Function", f"compliance-{job}")
    (role,) = _linked(prod_plan, function, "role")
    policy = _one(prod_plan, "aws:iam/rolePolicy:RolePolicy", f"compliance-{job}-policy")
    statements = json.loads(policy["properties"]["policy"])["Statement"]

    assert role["properties"]["name"] == f"{identity}-prod", "the job must run as the identity that may read its secret"
    assert _linked(prod_plan, policy, "role") == [role]
    allowed = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements}
    assert allowed["WriteOwnPrefix"][0] == "s3:PutObject" and allowed["WriteOwnPrefix"][1].endswith(f"/{prefix}/*")
    for action, resource in allowed.values():
        assert "*" not in (action if isinstance(action, list) else [action]), f"{job}: a wildcard action"
        assert resource != "*", f"{job}: a wildcard resource"
    assert not any("s3:GetObject" in str(a) or "Delete" in str(a) for a, _ in allowed.values()), "a job only adds objects"
    assert function["properties"]["reservedConcurrentExecutions"] == 1


@pytest.mark.parametrize("job", ["access-review", "audit-export"])
def test_each_job_is_scheduled_monthly_by_a_role_that_can_only_invoke_it(prod_plan: Plan, job: str) -> None:
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
    assert writers == {f"{job.identity}-prod" for job in COMPLIANCE_JOBS}, "the writers are exactly the jobs' roles"
    assert len(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == len(COMPLIANCE_JOBS)
    assert prod_config.deploy_role_arn not in json.dumps(deny), "not even the deploy role writes objects"
    assert not any(a.startswith("s3:PutBucket") for a in deny["Action"]), "bucket administration stays with the account"


def test_a_new_job_is_one_more_writer() -> None:
    roles = [f"arn:aws:iam::210987654321:role/{job.identity}-prod" for job in COMPLIANCE_JOBS] + ["arn:aws:iam::210987654321:role/checkpoint-job-prod"]
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
