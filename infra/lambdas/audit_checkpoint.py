"""The checkpoint: the ops_audit chain head and who can touch the trail, signed with KMS, in the locked archive.

AWS Lambda handler `infra.lambdas.audit_checkpoint.lambda_handler` (packaged with
infra/lambdas/database.py and `checkpoint_expected.json`, psycopg from the layer
VendorSecrets builds), started every `opshub:auditCheckpointMinutes` (hourly by
default) by EventBridge Scheduler. Each run:

1. connects as the `ops_audit_checkpointer` login (a member of `ops_audit_checkpoint`,
   which may execute `ops_audit.checkpoint_state()` and read nothing else) with the
   AWS PostgreSQL secret in `CHECKPOINTER_SECRET_ARN`;
2. reads `ops_audit.checkpoint_state()` (migration 0008): the chain head
   (`chain_seq`, `row_hash`), the members of `ops_audit_owner`, the RLS flags of
   the trail's tables, the BYPASSRLS holders and the superusers;
3. signs the canonical JSON (sorted keys, no spaces, UTF-8) of
   `{format, environment, database, taken_at, state}` with the asymmetric KMS key
   `SIGNING_KEY_ARN`: kms:Sign over its SHA-256 (MessageType DIGEST), which is a
   plain ECDSA signature over the canonical bytes that anyone holding the public
   key can check (`opshub audit verify --anchors`, or openssl);
4. compares the state with the expected principals (`checkpoint_expected.json`,
   derived from the config and infra/model/platform.yaml): any other owner
   member, BYPASSRLS holder or superuser, and any trail table without RLS
   enabled and forced, is a deviation, stored next to the signed part;
5. writes `audit-checkpoints/YYYY/MM/DD/<UTC time>-seq<chain_seq>-<request>.json`
   to `ARCHIVE_BUCKET` with If-None-Match (Object Lock keeps it), encrypted with
   `CHECKPOINT_ENCRYPTION` (SSE-S3: the signature and the lock give it integrity);
6. publishes `CheckpointsWritten` = 1 and `UnexpectedTrailAccess` = the number of
   deviations in `METRIC_NAMESPACE` (dimension `Environment`): one alarm tickets
   while deviations last, another when checkpoints stop.

A later rewrite of the chain up to a checkpoint's `chain_seq`, however consistent,
no longer matches that checkpoint: `opshub audit verify --anchors` names it.

Environment: CHECKPOINTER_SECRET_ARN, ARCHIVE_BUCKET, SIGNING_KEY_ARN,
SIGNING_ALGORITHM, METRIC_NAMESPACE, ENVIRONMENT, PGSSLMODE (optional).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import boto3
import psycopg

from infra.lambdas import database

EXPECTED_FILE = Path(__file__).with_name("checkpoint_expected.json")
PREFIX = "audit-checkpoints"
FORMAT = "opshub.ops_audit.checkpoint/1"
MESSAGE_TYPE = "DIGEST"  # kms:Sign gets the SHA-256 of the signed bytes
STATE_SQL = "select ops_audit.checkpoint_state()"
WRITTEN_METRIC = "CheckpointsWritten"
DEVIATIONS_METRIC = "UnexpectedTrailAccess"
PRINCIPAL_LISTS = ("owner_members", "bypassrls_roles", "superusers")


def canonical_json(value: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_state(conn: psycopg.Connection) -> dict:
    with conn.transaction():
        conn.execute("set transaction read only")
        (state,) = conn.execute(STATE_SQL).fetchone()
    return state


def deviations(state: dict, expected: dict) -> dict:
    """What the state holds beyond the expected principals, and the trail tables not under forced RLS."""
    found = {key: sorted(set(state[key]) - set(expected[key])) for key in PRINCIPAL_LISTS}
    found["rls_off"] = [
        {"table": table, **flags}
        for table, flags in sorted(state["rls"].items())
        if not (flags["enabled"] and flags["forced"])
    ]
    return found


def deviation_count(found: dict) -> int:
    return sum(len(items) for items in found.values())


def sign(kms: Any, key_arn: str, algorithm: str, message: bytes) -> dict:
    answer = kms.sign(
        KeyId=key_arn, Message=hashlib.sha256(message).digest(), MessageType=MESSAGE_TYPE, SigningAlgorithm=algorithm
    )
    return {
        "key_id": answer["KeyId"],
        "algorithm": answer["SigningAlgorithm"],
        "value": base64.b64encode(answer["Signature"]).decode("ascii"),
    }


def build_checkpoint(state: dict, expected: dict, environment: str, database_name: str, now: dt.datetime) -> dict:
    """The checkpoint before signing: `signed` is what the signature covers."""
    found = deviations(state, expected)
    return {
        "format": FORMAT,
        "signed": {
            "format": FORMAT,
            "environment": environment,
            "database": database_name,
            "taken_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "state": state,
        },
        "expected": expected,
        "deviations": found,
        "deviation_count": deviation_count(found),
    }


def object_key(now: dt.datetime, chain_seq: int, request_id: str) -> str:
    """Keys sort by time: the access review takes the last one of the day."""
    return f"{PREFIX}/{now:%Y/%m/%d}/{now:%Y%m%dT%H%M%SZ}-seq{chain_seq}-{request_id}.json"


def publish_metrics(namespace: str, environment: str, count: int) -> None:
    dimensions = [{"Name": "Environment", "Value": environment}]
    boto3.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": WRITTEN_METRIC, "Dimensions": dimensions, "Value": 1, "Unit": "Count"},
            {"MetricName": DEVIATIONS_METRIC, "Dimensions": dimensions, "Value": count, "Unit": "Count"},
        ],
    )


def lambda_handler(event: dict, context: Any) -> dict:
    env = os.environ
    expected = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
    params = database.login(env["CHECKPOINTER_SECRET_ARN"])
    with database.connect(params) as conn:
        state = read_state(conn)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    where = f"{params['host']}:{params['port']}/{params['dbname']}"
    checkpoint = build_checkpoint(state, expected, env["ENVIRONMENT"], where, now)
    checkpoint["signature"] = sign(
        boto3.client("kms"), env["SIGNING_KEY_ARN"], env["SIGNING_ALGORITHM"], canonical_json(checkpoint["signed"])
    )
    key = object_key(now, state["chain_seq"], getattr(context, "aws_request_id", "local"))
    boto3.client("s3").put_object(
        Bucket=env["ARCHIVE_BUCKET"],
        Key=key,
        Body=json.dumps(checkpoint, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8"),
        ContentType="application/json",
        # SSE-S3, not the archive's KMS key: nothing in a checkpoint is confidential, and
        # neither this job nor the access review that reads checkpoints needs that key.
        ServerSideEncryption=env["CHECKPOINT_ENCRYPTION"],
        IfNoneMatch="*",
    )
    publish_metrics(env["METRIC_NAMESPACE"], env["ENVIRONMENT"], checkpoint["deviation_count"])
    return {"key": key, "chain_seq": state["chain_seq"], "deviations": checkpoint["deviation_count"]}
