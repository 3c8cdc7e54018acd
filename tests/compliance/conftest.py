"""Fixtures for the compliance jobs: moto AWS (S3 with Object Lock, KMS, Secrets Manager, SNS, SQS,
CloudWatch) set up the way ComplianceJobs declares the archive and the checkpoint's signing key, a
notice inbox to read what the jobs send, and a real throwaway PostgreSQL with ops_audit migrated by
the real runner (tests/support/pgcluster.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto import mock_aws
from moto.kms.exceptions import ValidationException
from moto.kms.responses import KmsResponse

from infra.config import load_stack_config, stack_file
from infra.derive.audit import derive_audit
from infra.derive.compliance import ANCHOR_KEY_SPEC, ANCHOR_SIGNING_ALGORITHM, CHECKPOINT_ENCRYPTION, CHECKPOINT_METRIC_NAMESPACE, RETENTION_DAYS, checkpoint_expected
from infra.lambdas import audit_checkpoint
from infra.migrations.runner import migrate
from infra.model.platform import load_platform
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, create_logins  # the ops_audit tests' helpers, not their fixtures
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


def _sign_digests_as_aws_does(original: Callable[[KmsResponse], str]) -> Callable[[KmsResponse], str]:
    """moto 5.2.5's Sign ignores MessageType: a DIGEST message is hashed again, so the signature is over
    sha256(digest), and its Verify says "The MessageType-parameter DIGEST is not yet implemented". AWS
    signs the digest itself ("KMS skips the hashing step", KMS API Reference, Sign, MessageType). This
    stand-in signs an ECDSA_SHA_256 digest as prehashed, as AWS does, and leaves RAW messages to moto."""

    def sign(self: KmsResponse) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        digest, algorithm = self._get_param("Message"), self._get_param("SigningAlgorithm")
        if key.key_usage != "SIGN_VERIFY" or algorithm != "ECDSA_SHA_256" or len(digest) != 32:
            raise ValidationException("this stand-in signs only 32-byte ECDSA_SHA_256 digests with a SIGN_VERIFY key")
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm})

    return sign


@pytest.fixture
def signing_key(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The checkpoint's signing key as ComplianceJobs declares it (ECC_NIST_P256, SIGN_VERIFY), in moto."""
    monkeypatch.setattr(KmsResponse, "sign", _sign_digests_as_aws_does(KmsResponse.sign))
    key = boto3.client("kms").create_key(KeySpec=ANCHOR_KEY_SPEC, KeyUsage="SIGN_VERIFY", Description="audit checkpoints")
    return key["KeyMetadata"]["Arn"]


@pytest.fixture
def checkpoint_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, archive: Archive, audit_db: AuditDb,
                   signing_key: str, access_model) -> Callable[[], dict]:
    """Runs the checkpoint Lambda in its environment as ComplianceJobs sets it, as the checkpointer login;
    its packaged expectations derived from the prod config and infra/model/platform.yaml."""
    cluster = audit_db.cluster
    secret = boto3.client("secretsmanager").create_secret(
        Name="ops-hub/test/supabase/ops-audit-checkpointer",
        SecretString=json.dumps({"engine": "postgres", "host": cluster.host, "port": cluster.port,
                                 "username": "ops_audit_checkpointer", "password": LOGIN_PASSWORD, "dbname": audit_db.name}),
    )
    expected = tmp_path / "checkpoint_expected.json"
    expected.write_text(json.dumps(checkpoint_expected(load_stack_config(stack_file("prod")).supabase_admin_user, load_platform())))
    monkeypatch.setattr(audit_checkpoint, "EXPECTED_FILE", expected)
    for key, value in {"CHECKPOINTER_SECRET_ARN": secret["ARN"], "ARCHIVE_BUCKET": archive.bucket, "SIGNING_KEY_ARN": signing_key,
                       "SIGNING_ALGORITHM": ANCHOR_SIGNING_ALGORITHM, "METRIC_NAMESPACE": CHECKPOINT_METRIC_NAMESPACE,
                       "CHECKPOINT_ENCRYPTION": CHECKPOINT_ENCRYPTION,
                       "ENVIRONMENT": "prod", "PGSSLMODE": "disable"}.items():  # the loopback cluster has no TLS
        monkeypatch.setenv(key, value)
    runs = iter(range(1, 1000))
    return lambda: audit_checkpoint.lambda_handler({}, SimpleNamespace(aws_request_id=f"req-{next(runs)}"))
