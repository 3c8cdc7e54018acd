"""Fixtures for the compliance jobs: moto AWS (S3 with Object Lock, KMS, Secrets Manager, SNS, SQS)
set up the way ComplianceJobs declares the archive, a notice inbox to read what the jobs send, and a
real throwaway PostgreSQL with ops_audit migrated by the real runner (tests/support/pgcluster.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from infra.config import load_stack_config, stack_file
from infra.derive.audit import derive_audit
from infra.derive.compliance import RETENTION_DAYS
from infra.migrations.runner import migrate
from tests.audit.conftest import AuditDb, create_logins  # the ops_audit tests' helpers, not their fixtures
from tests.support.fixtures import pg_cluster, pg_database  # noqa: F401 - pytest fixtures

REGION = "eu-central-1"
BUCKET = "ops-hub-test-compliance-123456789012"


@dataclass
class Archive:
    bucket: str
    key_arn: str
    topic_arn: str
    inbox_url: str

    def objects(self, prefix: str) -> list[str]:
        listed = boto3.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def notices(self) -> list[dict]:
        """SNS notices delivered to the inbox queue (SNS envelope: Subject, Message, MessageAttributes)."""
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call in the test (a test double of AWS), with fake credentials and our region."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.fixture
def archive(aws: None) -> Archive:
    """The locked archive and notice topic as ComplianceJobs declares them (Object Lock compliance, SSE-KMS)."""
    s3, kms, sns, sqs = (boto3.client(s) for s in ("s3", "kms", "sns", "sqs"))
    key_arn = kms.create_key(Description="compliance archive")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": RETENTION_DAYS}}},
    )
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, "BucketKeyEnabled": True}]
        },
    )
    topic_arn = sns.create_topic(Name="compliance-notices", Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="ticket-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    return Archive(BUCKET, key_arn, topic_arn, inbox_url)


@pytest.fixture
def audit_db(pg_cluster, pg_database: str, access_model) -> AuditDb:  # noqa: F811
    """A fresh, migrated ops_audit database with the declared login users (exporter included)."""
    decl = derive_audit(access_model, load_stack_config(stack_file("prod")))
    db = AuditDb(pg_cluster, pg_database)
    migrate(db.admin_dsn, decl.settings)
    with db.superuser() as conn:
        # Login roles are cluster-wide: an earlier test's database may have created them.
        if not conn.execute("select 1 from pg_roles where rolname = %s", (decl.logins[0].name,)).fetchone():
            create_logins(db, decl)
    return db
