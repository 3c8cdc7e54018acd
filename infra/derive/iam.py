"""IAM and KMS policy documents for the vendor secrets, built from typed statements.

`Statement` and `PolicyDocument` are a small typed builder: documents are
assembled from them and rendered to the JSON AWS expects, never written as
JSON strings. The functions below turn plain ARNs and names (which the
component resolves from its resources) into every document VendorSecrets
attaches: the KMS key policies, the per-secret resource policies, the trust
policies, the reader (runtime and job) policies, each rotation Lambda's policy
and the reminder Lambda's policy. No Pulumi imports: tests call these on
plain strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

POLICY_VERSION = "2012-10-17"
SID_PATTERN = re.compile(r"^[A-Za-z0-9]+$")

# What a rotation Lambda may do to its own secret (AWS's rotation protocol needs
# exactly these four; GetRandomPassword is avoided by generating passwords locally).
ROTATOR_SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)


class PolicyError(ValueError):
    """A statement the builder refuses to render (a programming error, not user input)."""


@dataclass(frozen=True)
class Condition:
    """One condition key test, e.g. StringEquals kms:ViaService = secretsmanager.<region>.amazonaws.com."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    """`AWS` (account or role ARNs), `Service` (service principals) or `*` (anyone)."""

    kind: Literal["AWS", "Service", "*"]
    ids: tuple[str, ...] = ()


ANYONE = Principal("*")


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    principals: tuple[Principal, ...] = ()
    conditions: tuple[Condition, ...] = field(default=())

    def __post_init__(self) -> None:
        if not SID_PATTERN.match(self.sid):
            raise PolicyError(f"statement id {self.sid!r} must be alphanumeric")
        if not self.actions:
            raise PolicyError(f"statement {self.sid}: needs at least one action")
        # Only a trust statement (a principal, in a role's assume-role policy) has no Resource.
        if not self.resources and not self.principals:
            raise PolicyError(f"statement {self.sid}: needs a resource, or a principal if it is a trust statement")
        if self.effect == "Allow" and "*" in self.actions:
            raise PolicyError(f"statement {self.sid}: allows every action of every service")

    def to_dict(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principals:
            rendered["Principal"] = _principal(self.principals)
        rendered["Action"] = _one_or_list(self.actions)
        if self.resources:
            rendered["Resource"] = _one_or_list(self.resources)
        if self.conditions:
            rendered["Condition"] = _conditions(self.conditions)
        return rendered


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def __post_init__(self) -> None:
        sids = [s.sid for s in self.statements]
        if len(sids) != len(set(sids)):
            raise PolicyError(f"statement ids must be unique, found {sids}")

    def to_dict(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_dict() for s in self.statements]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else sorted(values)


def _principal(principals: tuple[Principal, ...]) -> str | dict[str, Any]:
    if any(p.kind == "*" for p in principals):
        return "*"
    return {p.kind: _one_or_list(p.ids) for p in principals}


def _conditions(conditions: tuple[Condition, ...]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for cond in conditions:
        merged.setdefault(cond.operator, {})[cond.key] = _one_or_list(cond.values)
    return merged


# --- small helpers shared by the documents ---------------------------------


def account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def via_secrets_manager(region: str) -> Condition:
    """KMS use only when Secrets Manager calls KMS on the caller's behalf."""
    return Condition("StringEquals", "kms:ViaService", (f"secretsmanager.{region}.amazonaws.com",))


def log_streams(log_group_arn: str) -> str:
    """The streams of one log group: stream names are random, so `:log-stream:*` is unavoidable."""
    return f"{log_group_arn}:log-stream:*"


def _write_own_logs(log_group_arn: str) -> Statement:
    # The log group is declared up front, so no logs:CreateLogGroup (and no `*` resource).
    return Statement(
        "WriteOwnLogs", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (log_streams(log_group_arn),)
    )


# --- the documents ------------------------------------------------------------


def lambda_function_arn(region: str, account_id: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"


def schedule_group_arn(region: str, account_id: str, group: str = "default") -> str:
    """EventBridge Scheduler passes the schedule group as aws:SourceArn when it assumes a target role."""
    return f"arn:aws:scheduler:{region}:{account_id}:schedule-group/{group}"


def ecs_tasks_arn(region: str, account_id: str) -> str:
    """ECS passes the task's ARN, unknown before it runs: any ECS resource of this account and region."""
    return f"arn:aws:ecs:{region}:{account_id}:*"


def assume_role_policy(service: str, account_id: str, source_arn: str) -> PolicyDocument:
    """Trust one AWS service acting for this account and for one resource (confused-deputy guard:
    aws:SourceArn beside aws:SourceAccount, as the AWS docs of Lambda, Scheduler and ECS advise)."""
    return PolicyDocument((
        Statement(
            "TrustService",
            "Allow",
            ("sts:AssumeRole",),
            (),
            principals=(Principal("Service", (service,)),),
            conditions=(
                Condition("StringEquals", "aws:SourceAccount", (account_id,)),
                Condition("ArnLike", "aws:SourceArn", (source_arn,)),
            ),
        ),
    ))


def secrets_key_policy(
    account_id: str, region: str, reader_role_arns: Sequence[str], rotator_role_arns: Sequence[str]
) -> PolicyDocument:
    """The secrets' KMS key: the account administers it; only the named roles use it, and only via Secrets Manager.

    In a key policy `Resource: "*"` means "this key", so it is the only form AWS accepts.
    Readers may only decrypt; rotators also need data keys to store new versions.
    """
    via = via_secrets_manager(region)
    in_account = Condition("StringEquals", "kms:CallerAccount", (account_id,))
    statements = [
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (account_root(account_id),)),)
        ),
    ]
    if reader_role_arns:
        statements.append(Statement(
            "ReadersDecryptViaSecretsManager", "Allow", ("kms:Decrypt",), ("*",),
            principals=(Principal("AWS", tuple(reader_role_arns)),), conditions=(via, in_account),
        ))
    if rotator_role_arns:
        statements.append(Statement(
            "RotatorsUseViaSecretsManager", "Allow", ("kms:Decrypt", "kms:GenerateDataKey"), ("*",),
            principals=(Principal("AWS", tuple(rotator_role_arns)),), conditions=(via, in_account),
        ))
    return PolicyDocument(tuple(statements))


def sns_topic_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account_id}:{name}"


def alarm_topic_key_policy(account_id: str, region: str, topic_arn: str) -> PolicyDocument:
    """The reminder topic's KMS key: the account administers it; this account's CloudWatch alarms
    use it only to publish to the one topic (SNS's encryption context names the topic)."""
    return PolicyDocument((
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (account_root(account_id),)),)
        ),
        Statement(
            "CloudWatchAlarmsPublish", "Allow", ("kms:Decrypt", "kms:GenerateDataKey*"), ("*",),
            principals=(Principal("Service", ("cloudwatch.amazonaws.com",)),),
            conditions=(
                Condition("StringEquals", "aws:SourceAccount", (account_id,)),
                Condition("ArnLike", "aws:SourceArn", (cloudwatch_alarms_arn(region, account_id),)),
                Condition("StringEquals", "kms:EncryptionContext:aws:sns:topicArn", (topic_arn,)),
            ),
        ),
    ))


def cloudwatch_alarms_arn(region: str, account_id: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"


def alarm_topic_policy(topic_arn: str, account_id: str, region: str) -> PolicyDocument:
    """Only this account's CloudWatch alarms publish to the reminder topic, and only over TLS."""
    return PolicyDocument((
        Statement(
            "CloudWatchAlarmsPublish", "Allow", ("sns:Publish",), (topic_arn,),
            principals=(Principal("Service", ("cloudwatch.amazonaws.com",)),),
            conditions=(
                Condition("StringEquals", "aws:SourceAccount", (account_id,)),
                Condition("ArnLike", "aws:SourceArn", (cloudwatch_alarms_arn(region, account_id),)),
            ),
        ),
        _deny_without_tls("sns:*", topic_arn),
    ))


def _deny_without_tls(actions: str, resource: str) -> Statement:
    return Statement(
        "DenyWithoutTls", "Deny", (actions,), (resource,), principals=(ANYONE,),
        conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
    )


def secret_resource_policy(account_id: str, reader_role_arns: Sequence[str]) -> PolicyDocument:
    """A secret's own policy: nobody outside the account, nothing without TLS, and reads only by its readers.

    In a secret's resource policy `Resource: "*"` means "this secret". AWS
    services acting for the account are exempt from the account test
    (`aws:PrincipalIsAWSService`), as the AWS data-perimeter examples do. The
    readers are the roles of the identities that read it, the rotation Lambdas
    it belongs to, and the deploy role where Pulumi stores the value (and reads
    it back on refresh); with the key policy granting the account `kms:*`, this
    deny is what keeps any other principal of the account out.
    """
    outside = (
        Condition("StringNotEquals", "aws:PrincipalAccount", (account_id,)),
        Condition("BoolIfExists", "aws:PrincipalIsAWSService", ("false",)),
    )
    others = (Condition("ArnNotEquals", "aws:PrincipalArn", tuple(reader_role_arns)),) if reader_role_arns else ()
    return PolicyDocument((
        Statement("DenyOutsideAccount", "Deny", ("secretsmanager:*",), ("*",), principals=(ANYONE,), conditions=outside),
        _deny_without_tls("secretsmanager:*", "*"),
        Statement(
            "DenyReadsByOtherPrincipals", "Deny", ("secretsmanager:GetSecretValue",), ("*",),
            principals=(ANYONE,), conditions=others,
        ),
    ))


def reader_policy(secret_arns: Sequence[str], key_arn: str, region: str) -> PolicyDocument:
    """A runtime or job identity: read exactly its secrets, decrypt only through Secrets Manager."""
    if not secret_arns:
        raise PolicyError("a reader policy needs at least one secret")
    return PolicyDocument((
        Statement("ReadOwnSecrets", "Allow", ("secretsmanager:GetSecretValue",), tuple(secret_arns)),
        Statement("DecryptViaSecretsManager", "Allow", ("kms:Decrypt",), (key_arn,), conditions=(via_secrets_manager(region),)),
    ))


def rotation_policy(
    secret_arn: str, master_arn: str, key_arn: str, region: str, log_group_arn: str
) -> PolicyDocument:
    """One rotation Lambda: its own secret, read-only on its master secret, the key via Secrets Manager, its logs."""
    return PolicyDocument((
        Statement("RotateOwnSecret", "Allow", ROTATOR_SECRET_ACTIONS, (secret_arn,)),
        Statement("ReadMasterSecret", "Allow", ("secretsmanager:GetSecretValue",), (master_arn,)),
        Statement(
            "UseKeyViaSecretsManager", "Allow", ("kms:Decrypt", "kms:GenerateDataKey"), (key_arn,),
            conditions=(via_secrets_manager(region),),
        ),
        _write_own_logs(log_group_arn),
    ))


def reminder_policy(secret_arns: Sequence[str], metric_namespace: str, log_group_arn: str) -> PolicyDocument:
    """The secret-age Lambda: version dates of the listed secrets (never their values), one metric namespace, its logs.

    cloudwatch:PutMetricData has no resource-level permissions, so `*` is
    unavoidable there; the namespace condition narrows it.
    """
    return PolicyDocument((
        Statement(
            "ReadSecretDates", "Allow", ("secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"),
            tuple(secret_arns),
        ),
        Statement(
            "PublishSecretAge", "Allow", ("cloudwatch:PutMetricData",), ("*",),
            conditions=(Condition("StringEquals", "cloudwatch:namespace", (metric_namespace,)),),
        ),
        _write_own_logs(log_group_arn),
    ))


def scheduler_invoke_policy(function_arn: str) -> PolicyDocument:
    """EventBridge Scheduler's role: invoke the one reminder Lambda."""
    return PolicyDocument((Statement("InvokeReminder", "Allow", ("lambda:InvokeFunction",), (function_arn,)),))

