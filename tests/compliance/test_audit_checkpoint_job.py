"""The checkpoint Lambda against a real throwaway PostgreSQL 15 (migrated ops_audit, the checkpointer login)
and moto (S3 with Object Lock, KMS asymmetric signing, CloudWatch): what it signs, where it keeps it, and
the changes it reports that no grant of the project can prevent."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.config import REPO_ROOT
from infra.lambdas import audit_checkpoint, database
from infra.migrations.verify import verify
from tests.audit.conftest import AuditDb, claims_for
from tests.compliance.conftest import Archive

pytestmark = pytest.mark.postgres


def _events(db: AuditDb, count: int) -> None:
    for i in range(count):
        db.insert(claims_for(f"auth0|user-{i % 3}", "ops-sre"), target=f"INC-{i}")
    db.seal()


def _stored(archive: Archive, key: str) -> dict:
    return json.loads(boto3.client("s3").get_object(Bucket=archive.bucket, Key=key)["Body"].read())


def _as_admin(db: AuditDb, *statements: str) -> None:
    """What the everyday admin `postgres` can do on Supabase: a member of ops_audit_owner with CREATEROLE."""
    with db.login("postgres", "postgres-admin-pw") as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def cluster_roles(audit_db: AuditDb) -> Iterator[None]:
    """Roles a test creates are cluster-wide, and so are memberships of ops_audit_owner: drop them afterwards."""
    yield
    with audit_db.superuser() as conn:
        for role in ("helper_of_helper", "storage_helper", "reporting_bot", "break_glass"):
            conn.execute(f"drop role if exists {role}")


def _metric(name: str) -> float:
    stats = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="OpsHub/Audit", MetricName=name, Dimensions=[{"Name": "Environment", "Value": "prod"}],
        StartTime=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
        Period=3600, Statistics=["Maximum"],
    )
    (point,) = stats["Datapoints"]
    return point["Maximum"]


def test_checkpoint_signs_the_chain_head_and_is_kept_locked(checkpoint_job, archive: Archive, audit_db: AuditDb, signing_key: str) -> None:
    _events(audit_db, 5)

    result = checkpoint_job()

    checkpoint = _stored(archive, result["key"])
    state = checkpoint["signed"]["state"]
    with audit_db.superuser() as conn:
        head_seq, head_hash = conn.execute("select last_seq, encode(last_hash, 'hex') from ops_audit.chain_head").fetchone()
    assert (state["chain_seq"], state["row_hash"]) == (head_seq, head_hash) == (5, head_hash)
    assert verify(audit_db.admin_dsn).intact
    assert result["key"].startswith(f"audit-checkpoints/{dt.datetime.now(dt.UTC):%Y/%m/%d}/") and "-seq5-req-1" in result["key"]
    assert boto3.client("s3").head_object(Bucket=archive.bucket, Key=result["key"])["ObjectLockMode"] == "COMPLIANCE"
    public_key = serialization.load_der_public_key(boto3.client("kms").get_public_key(KeyId=signing_key)["PublicKey"])
    signature = checkpoint["signature"]
    assert (signature["key_id"], signature["algorithm"]) == (signing_key, "ECDSA_SHA_256")
    public_key.verify(base64.b64decode(signature["value"]), audit_checkpoint.canonical_json(checkpoint["signed"]), ec.ECDSA(hashes.SHA256()))
    assert checkpoint["deviation_count"] == 0, checkpoint["deviations"]
    assert (_metric("CheckpointsWritten"), _metric("UnexpectedTrailAccess")) == (1, 0)


def _runbook_recipe() -> str:
    """The auditor's recipe, as docs/runbook.md shows it (the fenced block that runs openssl)."""
    blocks = re.findall(r"```sh\n(.*?)```", (REPO_ROOT / "docs" / "runbook.md").read_text(), re.S)
    (recipe,) = [b for b in blocks if "openssl dgst" in b]
    return recipe


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("jq")), reason="needs the openssl and jq commands")
def test_an_auditor_verifies_a_checkpoint_with_the_runbook_recipe(checkpoint_job, archive: Archive, audit_db: AuditDb,
                                                                 signing_key: str, tmp_path: Path) -> None:
    """Without this repository: the canonical JSON is `jq -jcS .signed`, and the signature is plain ECDSA
    over it, which `openssl dgst -sha256 -verify` checks with the public key the runbook saves."""
    _events(audit_db, 2)
    key = checkpoint_job()["key"]
    (tmp_path / "checkpoint.json").write_bytes(boto3.client("s3").get_object(Bucket=archive.bucket, Key=key)["Body"].read())
    (tmp_path / "audit-checkpoints.der").write_bytes(boto3.client("kms").get_public_key(KeyId=signing_key)["PublicKey"])

    result = subprocess.run(["sh", "-ec", _runbook_recipe()], cwd=tmp_path, capture_output=True, text=True, check=False)

    assert result.returncode == 0 and "Verified OK" in result.stdout, result.stdout + result.stderr
    assert (tmp_path / "signed.json").read_bytes() == audit_checkpoint.canonical_json(_stored(archive, key)["signed"])


def test_an_empty_trail_is_checkpointed_at_the_genesis_hash(checkpoint_job, archive: Archive) -> None:
    state = _stored(archive, checkpoint_job()["key"])["signed"]["state"]

    assert (state["chain_seq"], state["row_hash"]) == (0, "00" * 32)
    assert state["owner_members"] == ["postgres"] and set(state) == {
        "chain_seq", "row_hash", "owner_members", "rls", "bypassrls_roles", "superusers"
    }


def test_a_member_added_to_the_owner_is_reported(checkpoint_job, archive: Archive, audit_db: AuditDb, cluster_roles) -> None:
    """Under PostgreSQL 15 a CREATEROLE login (here the admin) can make any role a member of the owner."""
    _as_admin(audit_db, "create role storage_helper nologin", "grant ops_audit_owner to storage_helper",
              "create role helper_of_helper nologin", "grant storage_helper to helper_of_helper")

    result = checkpoint_job()

    checkpoint = _stored(archive, result["key"])
    assert checkpoint["signed"]["state"]["owner_members"] == ["helper_of_helper", "postgres", "storage_helper"]
    assert checkpoint["deviations"]["owner_members"] == ["helper_of_helper", "storage_helper"], "members through another role count"
    assert result["deviations"] == 2 and _metric("UnexpectedTrailAccess") == 2


def test_rls_switched_off_is_reported(checkpoint_job, archive: Archive, audit_db: AuditDb) -> None:
    with audit_db.superuser() as conn:
        (partition,) = conn.execute(
            "select inhrelid::regclass::text from pg_inherits where inhparent = 'ops_audit.events'::regclass order by 1 limit 1"
        ).fetchone()
    _as_admin(audit_db, "alter table ops_audit.events no force row level security", f"alter table {partition} disable row level security")

    checkpoint = _stored(archive, checkpoint_job()["key"])

    assert checkpoint["deviations"]["rls_off"] == [
        {"table": "ops_audit.events", "enabled": True, "forced": False},
        {"table": partition, "enabled": False, "forced": True},
    ]
    assert checkpoint["signed"]["state"]["rls"]["ops_audit.events"] == {"enabled": True, "forced": False}


def test_an_unexpected_bypassrls_holder_and_superuser_are_reported(
    checkpoint_job, archive: Archive, audit_db: AuditDb, cluster_roles
) -> None:
    with audit_db.superuser() as conn:
        conn.execute("create role reporting_bot login bypassrls")
        conn.execute("create role break_glass login superuser")

    found = _stored(archive, checkpoint_job()["key"])["deviations"]

    assert found["bypassrls_roles"] == ["reporting_bot"]
    assert found["superusers"] == ["break_glass"], "a superuser bypasses RLS without the attribute: listed on its own"
    assert found["owner_members"] == [] and found["rls_off"] == []


def test_a_later_checkpoint_never_replaces_an_earlier_one(checkpoint_job, archive: Archive, audit_db: AuditDb) -> None:
    first = checkpoint_job()
    _events(audit_db, 1)
    second = checkpoint_job()

    assert archive.objects("audit-checkpoints/") == sorted([first["key"], second["key"]])
    head = boto3.client("s3").head_object(Bucket=archive.bucket, Key=first["key"])
    assert head["ServerSideEncryption"] == "AES256", "SSE-S3: reading a checkpoint needs no key (checkpoint_policy)"
    with pytest.raises(ClientError, match="PreconditionFailed"):
        boto3.client("s3").put_object(Bucket=archive.bucket, Key=first["key"], Body=b"{}", IfNoneMatch="*")


def test_a_secret_without_a_login_fails_before_anything_is_written(checkpoint_job, archive: Archive, monkeypatch) -> None:
    secret = boto3.client("secretsmanager").create_secret(Name="broken", SecretString='{"username": "x"}')
    monkeypatch.setenv("CHECKPOINTER_SECRET_ARN", secret["ARN"])

    with pytest.raises(database.SecretShapeError, match="must hold host, port, username, password and dbname"):
        checkpoint_job()

    assert archive.objects("audit-checkpoints/") == []
