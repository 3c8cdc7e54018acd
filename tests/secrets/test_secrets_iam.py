"""The typed IAM builder and every document VendorSecrets attaches, on plain ARNs."""

from __future__ import annotations

import json

import boto3
import pytest

from infra.derive import iam

ACCOUNT = "111122223333"
REGION = "eu-central-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1"
RUNTIME = f"arn:aws:iam::{ACCOUNT}:role/ops-hub-runtime-prod"
ROTATOR = f"arn:aws:iam::{ACCOUNT}:role/ops-hub-prod-rotate-supabase-writer"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ops-hub/prod/supabase/writer-AbCdEf"
MASTER = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ops-hub/prod/supabase/master-GhIjKl"
OTHER = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ops-hub/prod/stripe/secret-key-MnOpQr"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/rotate"


def statements(doc: iam.PolicyDocument) -> dict[str, dict]:
    rendered = json.loads(doc.to_json())
    assert rendered["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in rendered["Statement"]}


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# --- the builder -----------------------------------------------------------------


def test_statement_renders_single_values_plainly_lists_sorted_and_conditions_merged() -> None:
    doc = iam.PolicyDocument((
        iam.Statement(
            "S", "Allow", ("b:Two", "a:One"), ("arn:x",),
            conditions=(iam.Condition("StringEquals", "k1", ("v1",)), iam.Condition("StringEquals", "k2", ("v2", "v0"))),
        ),
    ))

    (rendered,) = doc.to_dict()["Statement"]

    assert rendered == {
        "Sid": "S", "Effect": "Allow", "Action": ["a:One", "b:Two"], "Resource": "arn:x",
        "Condition": {"StringEquals": {"k1": "v1", "k2": ["v0", "v2"]}},
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: iam.Statement("S", "Allow", ("*",), ("arn:x",)), "allows every action"),
        (lambda: iam.Statement("S", "Allow", (), ("arn:x",)), "at least one action"),
        (lambda: iam.Statement("S", "Allow", ("s3:GetObject",), ()), "needs a resource"),
        (lambda: iam.Statement("bad sid", "Allow", ("s3:GetObject",), ("arn:x",)), "alphanumeric"),
        (lambda: iam.PolicyDocument((iam.Statement("A", "Deny", ("x:Y",), ("*",)),) * 2), "unique"),
        (lambda: iam.reader_policy([], KEY, REGION), "at least one secret"),
    ],
    ids=["allow-star", "no-action", "no-resource", "bad-sid", "duplicate-sid", "reader-without-secrets"],
)
def test_builder_refuses_unsafe_or_empty_statements(build, message: str) -> None:
    with pytest.raises(iam.PolicyError, match=message):
        build()


# --- KMS ---------------------------------------------------------------------------


def test_key_policy_lets_the_account_administer_and_only_named_roles_use_via_secrets_manager() -> None:
    doc = statements(iam.secrets_key_policy(ACCOUNT, REGION, [RUNTIME], [ROTATOR]))

    assert doc["AccountAdministersKey"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    readers, rotators = doc["ReadersDecryptViaSecretsManager"], doc["RotatorsUseViaSecretsManager"]
    assert readers["Principal"] == {"AWS": RUNTIME} and readers["Action"] == "kms:Decrypt"
    assert rotators["Principal"] == {"AWS": ROTATOR}
    assert set(as_list(rotators["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
    for stmt in (readers, rotators):
        assert stmt["Condition"]["StringEquals"]["kms:ViaService"] == f"secretsmanager.{REGION}.amazonaws.com"
        assert stmt["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT
    principals = {p for s in doc.values() for p in as_list(s["Principal"]["AWS"])}
    assert principals == {f"arn:aws:iam::{ACCOUNT}:root", RUNTIME, ROTATOR}, "no principal beyond the account and the named roles"


def test_alarm_topic_key_is_used_only_by_this_accounts_alarms_for_the_one_topic() -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-hub-prod-secret-alarms"
    doc = statements(iam.alarm_topic_key_policy(ACCOUNT, REGION, topic))

    publish = doc["CloudWatchAlarmsPublish"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "kms:EncryptionContext:aws:sns:topicArn": topic},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
    }


# --- secret resource policies ---------------------------------------------------------


def test_secret_policy_denies_outside_principals_plain_http_and_other_readers() -> None:
    doc = statements(iam.secret_resource_policy(ACCOUNT, [RUNTIME, ROTATOR]))

    outside = doc["DenyOutsideAccount"]
    assert outside["Effect"] == "Deny" and outside["Principal"] == "*" and outside["Action"] == "secretsmanager:*"
    assert outside["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": ACCOUNT}
    tls = doc["DenyWithoutTls"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    others = doc["DenyReadsByOtherPrincipals"]
    assert others["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(others["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == sorted([RUNTIME, ROTATOR])
    assert all(s["Effect"] == "Deny" for s in doc.values()), "a resource policy here only ever narrows access"


def test_a_secret_nobody_reads_denies_every_read() -> None:
    doc = statements(iam.secret_resource_policy(ACCOUNT, []))

    assert "Condition" not in doc["DenyReadsByOtherPrincipals"], "with no reader, the read deny is unconditional"


# --- identity policies -----------------------------------------------------------------


def test_reader_reads_exactly_its_secrets_and_decrypts_only_via_secrets_manager() -> None:
    doc = statements(iam.reader_policy([SECRET, OTHER], KEY, REGION))

    read = doc["ReadOwnSecrets"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(as_list(read["Resource"])) == sorted([SECRET, OTHER])
    decrypt = doc["DecryptViaSecretsManager"]
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == KEY
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


def test_rotation_role_touches_only_its_secret_its_master_the_key_and_its_logs() -> None:
    doc = statements(iam.rotation_policy(SECRET, MASTER, KEY, REGION, LOGS))

    assert sorted(as_list(doc["RotateOwnSecret"]["Action"])) == sorted(iam.ROTATOR_SECRET_ACTIONS)
    assert doc["RotateOwnSecret"]["Resource"] == SECRET
    assert doc["ReadMasterSecret"] == {
        "Sid": "ReadMasterSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": MASTER,
    }, "the master secret is read-only for the rotator"
    assert doc["WriteOwnLogs"]["Resource"] == f"{LOGS}:log-stream:*"
    for stmt in doc.values():
        assert not any("*" in a for a in as_list(stmt["Action"])), f"{stmt['Sid']}: wildcard action"
        assert set(as_list(stmt["Resource"])) <= {SECRET, MASTER, KEY, f"{LOGS}:log-stream:*"}, stmt


def test_reminder_reads_dates_not_values_and_publishes_one_namespace() -> None:
    doc = statements(iam.reminder_policy([SECRET, OTHER], "OpsHub/Secrets", LOGS))

    actions = {a for s in doc.values() for a in as_list(s["Action"])}
    assert "secretsmanager:GetSecretValue" not in actions, "the reminder never reads a secret's value"
    publish = doc["PublishSecretAge"]
    assert publish["Resource"] == "*", "PutMetricData has no resource-level permissions"
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": "OpsHub/Secrets"}}


FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ops-hub-prod-rotate-supabase-ops-hub-writer"


def test_trust_policy_names_one_service_and_guards_against_confused_deputies() -> None:
    doc = statements(iam.assume_role_policy("lambda.amazonaws.com", ACCOUNT, FUNCTION))

    trust = doc["TrustService"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": FUNCTION}}
    assert "Resource" not in trust, "IAM rejects a Resource in a trust policy"


def test_moto_iam_accepts_every_identity_document(aws: None) -> None:
    """moto's IAM policy validator (the same grammar checks IAM applies on PutRolePolicy)."""
    client = boto3.client("iam", region_name=REGION)
    client.create_role(RoleName="r", AssumeRolePolicyDocument=iam.assume_role_policy("lambda.amazonaws.com", ACCOUNT, FUNCTION).to_json())
    documents = {
        "reader": iam.reader_policy([SECRET, OTHER], KEY, REGION),
        "rotation": iam.rotation_policy(SECRET, MASTER, KEY, REGION, LOGS),
        "reminder": iam.reminder_policy([SECRET], "OpsHub/Secrets", LOGS),
        "scheduler": iam.scheduler_invoke_policy(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:age"),
    }

    for name, doc in documents.items():
        client.put_role_policy(RoleName="r", PolicyName=name, PolicyDocument=doc.to_json())

    assert set(client.list_role_policies(RoleName="r")["PolicyNames"]) == set(documents)
