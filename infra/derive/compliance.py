"""The compliance jobs as plain declarations: the jobs' inputs and every IAM document they need.

- `review_input(model, assignments)`: what the access-review Lambda packages as
  `review_input.json` (roles with permissions and the Auth0 authentication-method
  types their MFA accepts, SoD pairs, approved assignments);
- `checkpoint_expected(admin_user, platform)`: what the checkpoint Lambda packages
  as `checkpoint_expected.json`, the principals it expects to find around the trail;
- the documents of the archive (S3 bucket with Object Lock, its KMS key, the notice
  topic), of the checkpoint's signing key, and of the three jobs, built with the
  typed builder of infra/derive/iam.py. No Pulumi imports: tests call these on
  plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.derive import iam
from infra.derive.iam import ANYONE, Condition, PolicyDocument, Principal, Statement
from infra.errors import ModelError
from infra.model.access import AccessModel
from infra.model.assignments import Assignments
from infra.model.platform import Platform

REVIEW_PREFIX = "access-reviews"
EXPORT_PREFIX = "audit-exports"
CHECKPOINT_PREFIX = "audit-checkpoints"
REVIEW_SCHEDULE = "cron(0 6 1 * ? *)"  # 06:00 UTC on the 1st of every month
EXPORT_SCHEDULE = "cron(0 4 2 * ? *)"  # 04:00 UTC on the 2nd: last month's partition is closed by then
DORMANT_DAYS = 90
RETENTION_DAYS = 400  # a yearly audit cycle plus a margin; compliance mode cannot be shortened later

# The access-model identity each job runs as, and the archive prefix it adds objects under.
REVIEW_IDENTITY = "access-review-job"
EXPORT_IDENTITY = "audit-export-job"
CHECKPOINT_IDENTITY = "audit-checkpoint-job"
ARCHIVE_WRITERS: dict[str, str] = {
    REVIEW_IDENTITY: REVIEW_PREFIX,
    EXPORT_IDENTITY: EXPORT_PREFIX,
    CHECKPOINT_IDENTITY: CHECKPOINT_PREFIX,
}

# The checkpoint's signing key: ECDSA on NIST P-256, whose private half never leaves
# KMS. The job sends the SHA-256 of the canonical checkpoint (MessageType DIGEST), so
# the signature is a plain ECDSA signature over the checkpoint's bytes.
ANCHOR_KEY_SPEC = "ECC_NIST_P256"
ANCHOR_SIGNING_ALGORITHM = "ECDSA_SHA_256"
ANCHOR_MESSAGE_TYPE = "DIGEST"
# What the checkpoint job publishes after every run; its alarms ticket on them.
CHECKPOINT_METRIC_NAMESPACE = "OpsHub/Audit"
CHECKPOINTS_WRITTEN_METRIC = "CheckpointsWritten"
UNEXPECTED_ACCESS_METRIC = "UnexpectedTrailAccess"

# Auth0 authentication-method `type`s that satisfy each MFA factor of the model
# (Management API GET /users/{id}/authentication-methods).
AUTH0_METHOD_TYPES: dict[str, tuple[str, ...]] = {
    "webauthn-roaming": ("webauthn-roaming",),
    "webauthn-platform": ("webauthn-platform", "passkey"),
    "otp": ("totp",),
    "recovery-code": ("recovery-code",),
}


def review_input(model: AccessModel, assignments: Assignments) -> dict:
    """The access review's packaged input; an MFA factor without an Auth0 method type is a model error."""
    unmapped = sorted({f for r in model.roles for f in r.mfa} - AUTH0_METHOD_TYPES.keys())
    if unmapped:
        raise ModelError("access model", [f"MFA factor {f!r}: no Auth0 authentication-method type is known for it" for f in unmapped])
    return {
        "roles": {
            r.name: {
                "permissions": sorted(r.permissions),
                "mfa_types": sorted({t for f in r.mfa for t in AUTH0_METHOD_TYPES[f]}),
            }
            for r in model.roles
        },
        "sod": [{"permissions": list(p.permissions), "reason": p.reason} for p in model.segregation_of_duties],
        "approved": [
            {"user": a.user, "role": a.role, "approver": a.approver, "expires": a.expires.isoformat()}
            for a in assignments.assignments
        ],
    }


def compliance_identities(model: AccessModel) -> None:
    """Every job runs as an identity of the access model; a missing one is a model error."""
    missing = sorted(set(ARCHIVE_WRITERS) - {i.name for i in model.identities})
    if missing:
        raise ModelError("access model", [f"identity {name!r}: the compliance jobs run as it; declare it under identities" for name in missing])


def checkpoint_schedule(minutes: int) -> str:
    """The EventBridge Scheduler expression for a checkpoint every `minutes` (config keeps it at 5 or more)."""
    return f"rate({minutes} minutes)"


def checkpoint_expected(admin_user: str, platform: Platform) -> dict:
    """The principals the checkpoint expects: any other owner member, BYPASSRLS holder or superuser is a deviation.

    The owner's only member is the admin Pulumi connects as (OpsAudit grants it);
    BYPASSRLS holders and superusers are Supabase's own (infra/model/platform.yaml).
    Every table of the trail must have RLS enabled and forced, which needs no list.
    """
    return {
        "owner_members": [admin_user],
        "bypassrls_roles": list(platform.holding("bypassrls")),
        "superusers": list(platform.holding("superuser")),
    }


def _via(region: str, *services: str) -> Condition:
    return Condition("StringEquals", "kms:ViaService", tuple(f"{s}.{region}.amazonaws.com" for s in services))


def _own_logs(log_group_arn: str) -> Statement:
    return Statement("WriteOwnLogs", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (iam.log_streams(log_group_arn),))


def _write_own_prefix(bucket_arn: str, prefix: str) -> Statement:
    return Statement("WriteOwnPrefix", "Allow", ("s3:PutObject",), (f"{bucket_arn}/{prefix}/*",))


def job_policy(
    bucket_arn: str, prefix: str, key_arn: str, topic_arn: str, log_group_arn: str, region: str, *, reads_checkpoints: bool = False
) -> PolicyDocument:
    """A compliance job: add objects under its own prefix (never replace or delete), notify, log.

    Its secret comes from the identity's reader policy (VendorSecrets); this
    document adds only what the job itself does. `reads_checkpoints` lets the
    access review list and read the checkpoints, and nothing else of the archive.
    """
    statements = [
        _write_own_prefix(bucket_arn, prefix),
        Statement(
            "EncryptViaS3AndSns", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), (key_arn,),
            conditions=(_via(region, "s3", "sns"),),
        ),
        Statement("PublishNotice", "Allow", ("sns:Publish",), (topic_arn,)),
        _own_logs(log_group_arn),
    ]
    if reads_checkpoints:
        statements += [
            Statement(
                "ListCheckpoints", "Allow", ("s3:ListBucket",), (bucket_arn,),
                conditions=(Condition("StringLike", "s3:prefix", (f"{CHECKPOINT_PREFIX}/*",)),),
            ),
            Statement("ReadCheckpoints", "Allow", ("s3:GetObject",), (f"{bucket_arn}/{CHECKPOINT_PREFIX}/*",)),
        ]
    return PolicyDocument(tuple(statements))


def checkpoint_policy(
    bucket_arn: str, archive_key_arn: str, signing_key_arn: str, log_group_arn: str, region: str
) -> PolicyDocument:
    """The checkpoint job: add checkpoints under its prefix, sign with the anchor key, publish its metrics, log.

    cloudwatch:PutMetricData has no resource-level permissions, so `*` is
    unavoidable there; the namespace condition narrows it.
    """
    return PolicyDocument((
        _write_own_prefix(bucket_arn, CHECKPOINT_PREFIX),
        Statement(
            "EncryptViaS3", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), (archive_key_arn,),
            conditions=(_via(region, "s3"),),
        ),
        Statement("SignCheckpoints", "Allow", ("kms:Sign",), (signing_key_arn,), conditions=_signing_conditions()),
        Statement(
            "PublishCheckpointMetrics", "Allow", ("cloudwatch:PutMetricData",), ("*",),
            conditions=(Condition("StringEquals", "cloudwatch:namespace", (CHECKPOINT_METRIC_NAMESPACE,)),),
        ),
        _own_logs(log_group_arn),
    ))


def _signing_conditions() -> tuple[Condition, ...]:
    return (
        Condition("StringEquals", "kms:SigningAlgorithm", (ANCHOR_SIGNING_ALGORITHM,)),
        Condition("StringEquals", "kms:MessageType", (ANCHOR_MESSAGE_TYPE,)),
    )


def anchor_key_policy(account_id: str, signer_role_arn: str) -> PolicyDocument:
    """The checkpoint's signing key: the account administers it; only the checkpoint job signs.

    The Deny also holds against IAM policies the account might grant later: an
    explicit deny in the key policy wins. Nobody can export the private key, which
    an asymmetric KMS key never releases. Reading the public key (kms:GetPublicKey)
    is left to IAM through the account statement: it is not a secret.
    """
    return PolicyDocument((
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (iam.account_root(account_id),)),)
        ),
        Statement(
            "CheckpointJobSigns", "Allow", ("kms:Sign",), ("*",),
            principals=(Principal("AWS", (signer_role_arn,)),), conditions=_signing_conditions(),
        ),
        Statement(
            "DenySignByOthers", "Deny", ("kms:Sign",), ("*",), principals=(ANYONE,),
            conditions=(Condition("ArnNotEquals", "aws:PrincipalArn", (signer_role_arn,)),),
        ),
    ))


def archive_bucket_policy(bucket_arn: str, account_id: str) -> PolicyDocument:
    """The review archive: TLS only, this account only, and nobody deletes (Object Lock guards versions too)."""
    objects = f"{bucket_arn}/*"
    return PolicyDocument((
        Statement(
            "DenyWithoutTls", "Deny", ("s3:*",), (bucket_arn, objects), principals=(ANYONE,),
            conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
        ),
        Statement(
            "DenyOutsideAccount", "Deny", ("s3:*",), (bucket_arn, objects), principals=(ANYONE,),
            conditions=(Condition("StringNotEquals", "aws:PrincipalAccount", (account_id,)),),
        ),
        Statement(
            "DenyDeletes", "Deny", ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"),
            (objects,), principals=(ANYONE,),
        ),
    ))


def archive_key_policy(account_id: str, region: str, job_role_arns: Sequence[str]) -> PolicyDocument:
    """The archive's key: the account administers it; the jobs use it only through S3 and SNS."""
    return PolicyDocument((
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (iam.account_root(account_id),)),)
        ),
        Statement(
            "JobsEncryptViaS3AndSns", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), ("*",),
            principals=(Principal("AWS", tuple(job_role_arns)),), conditions=(_via(region, "s3", "sns"),),
        ),
    ))


def notice_topic_policy(topic_arn: str, publisher_role_arns: Sequence[str]) -> PolicyDocument:
    """Only the jobs publish notices, and only over TLS."""
    return PolicyDocument((
        Statement(
            "JobsPublish", "Allow", ("sns:Publish",), (topic_arn,), principals=(Principal("AWS", tuple(publisher_role_arns)),)
        ),
        Statement(
            "DenyWithoutTls", "Deny", ("sns:Publish",), (topic_arn,), principals=(ANYONE,),
            conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
        ),
    ))
