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
from dataclasses import dataclass

from infra.derive import iam
from infra.derive.iam import ANYONE, Condition, PolicyDocument, Principal, Statement
from infra.errors import ModelError
from infra.model.access import AccessModel
from infra.model.assignments import Assignments
from infra.model.platform import Platform

REVIEW_PREFIX = "access-reviews"
EXPORT_PREFIX = "audit-exports"
CHECKPOINT_PREFIX = "audit-checkpoints"
# How checkpoints are encrypted at rest (S3's x-amz-server-side-encryption): see checkpoint_policy.
CHECKPOINT_ENCRYPTION = "AES256"
REVIEW_SCHEDULE = "cron(0 6 1 * ? *)"  # 06:00 UTC on the 1st of every month
EXPORT_SCHEDULE = "cron(0 4 2 * ? *)"  # 04:00 UTC on the 2nd: last month's partition is closed by then
DORMANT_DAYS = 90
RETENTION_DAYS = 400  # a yearly audit cycle plus a margin; compliance mode cannot be shortened later
# What a writer may do to archive objects; everyone else in the account is denied these.
OBJECT_WRITE_ACTIONS = ("s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectLegalHold", "s3:PutObjectRetention")


# The access-model identity each job runs as.
REVIEW_IDENTITY = "access-review-job"
EXPORT_IDENTITY = "audit-export-job"
CHECKPOINT_IDENTITY = "audit-checkpoint-job"


@dataclass(frozen=True)
class JobSpec:
    """A scheduled compliance job: the identity (model) whose role it runs as, and the archive prefix it writes.

    The archive's writers are exactly these jobs' roles, so a new job is one more entry in `compliance_jobs`.
    """

    job: str
    identity: str
    prefix: str
    schedule: str
    description: str
    # Writes SSE-KMS objects and notices, so it uses the archive's key and the notice topic.
    notifies: bool = True


def checkpoint_schedule(minutes: int) -> str:
    """The EventBridge Scheduler expression for a checkpoint every `minutes` (config keeps it at 5 or more)."""
    return f"rate({minutes} minutes)"


def compliance_jobs(checkpoint_minutes: int) -> tuple[JobSpec, ...]:
    """The jobs, the checkpoint's interval from the stack config (opshub:auditCheckpointMinutes)."""
    return (
        JobSpec(
            "access-review", REVIEW_IDENTITY, REVIEW_PREFIX, REVIEW_SCHEDULE,
            "Monthly access review: Auth0 role holders against infra/model/assignments.yaml",
        ),
        JobSpec(
            "audit-export", EXPORT_IDENTITY, EXPORT_PREFIX, EXPORT_SCHEDULE,
            "Monthly export of last month's ops_audit.events partition with its chain head",
        ),
        JobSpec(
            "audit-checkpoint", CHECKPOINT_IDENTITY, CHECKPOINT_PREFIX, checkpoint_schedule(checkpoint_minutes),
            "Signed checkpoint of the ops_audit chain head and of who can touch the trail, outside the database",
            notifies=False,  # its deviations and gaps ticket through CloudWatch alarms
        ),
    )


def job_function_name(environment: str, job: str) -> str:
    return f"ops-hub-{environment}-{job}"


def archive_bucket_name(environment: str, account_id: str) -> str:
    return f"ops-hub-{environment}-compliance-{account_id}"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def notice_topic_name(environment: str) -> str:
    return f"ops-hub-{environment}-compliance-notices"

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


def compliance_identities(model: AccessModel, jobs: Sequence[JobSpec]) -> None:
    """Every job runs as an identity of the access model; a missing one is a model error."""
    missing = sorted({j.identity for j in jobs} - {i.name for i in model.identities})
    if missing:
        raise ModelError("access model", [f"identity {name!r}: the compliance jobs run as it; declare it under identities" for name in missing])


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


def _via(region: str, service: str) -> Condition:
    return Condition("StringEquals", "kms:ViaService", (f"{service}.{region}.amazonaws.com",))


def _archive_context(archive_arn: str) -> Condition:
    """S3 with a bucket key encrypts under the bucket's ARN as encryption context."""
    return Condition("StringEquals", "kms:EncryptionContext:aws:s3:arn", (archive_arn,))


def _topic_context(topic_arn: str) -> Condition:
    return Condition("StringEquals", "kms:EncryptionContext:aws:sns:topicArn", (topic_arn,))


def _own_logs(log_group_arn: str) -> Statement:
    return Statement("WriteOwnLogs", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (iam.log_streams(log_group_arn),))


def _write_own_prefix(bucket_arn: str, prefix: str) -> Statement:
    return Statement("WriteOwnPrefix", "Allow", ("s3:PutObject",), (f"{bucket_arn}/{prefix}/*",))


def job_policy(
    bucket_arn: str, prefix: str, key_arn: str, topic_arn: str, log_group_arn: str, region: str, *, reads_checkpoints: bool = False
) -> PolicyDocument:
    """A compliance job: add objects under its own prefix (never replace or delete), notify, log.

    Writing a single SSE-KMS object needs only a data key; kms:Decrypt is for SNS, which
    decrypts the data key to deliver the notice. Its secret comes from the identity's
    reader policy (VendorSecrets); this document adds only what the job itself does.
    `reads_checkpoints` lets the access review list and read the checkpoints (stored with
    SSE-S3, so no key is needed), and nothing else of the archive.
    """
    statements = [
        _write_own_prefix(bucket_arn, prefix),
        Statement(
            "EncryptArchiveObjects", "Allow", ("kms:GenerateDataKey",), (key_arn,),
            conditions=(_via(region, "s3"), _archive_context(bucket_arn)),
        ),
        Statement(
            "EncryptNotices", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), (key_arn,),
            conditions=(_via(region, "sns"), _topic_context(topic_arn)),
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


def checkpoint_policy(bucket_arn: str, signing_key_arn: str, log_group_arn: str) -> PolicyDocument:
    """The checkpoint job: add checkpoints under its prefix, sign with the anchor key, publish its metrics, log.

    Checkpoints are stored with SSE-S3 (CHECKPOINT_ENCRYPTION): they hold a hash and role names,
    nothing confidential, and their integrity comes from the signature and Object Lock; so neither
    the job nor the access review that reads them needs the archive's key.
    cloudwatch:PutMetricData has no resource-level permissions, so `*` is
    unavoidable there; the namespace condition narrows it.
    """
    return PolicyDocument((
        _write_own_prefix(bucket_arn, CHECKPOINT_PREFIX),
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


def archive_bucket_policy(bucket_arn: str, account_id: str, writer_role_arns: Sequence[str]) -> PolicyDocument:
    """The archive: TLS only, this account only, nobody deletes (Object Lock guards versions too), and
    only the jobs' roles write objects. Bucket administration (policy, lock, encryption) stays with the account."""
    if not writer_role_arns:
        raise iam.PolicyError("the archive needs at least one writer")
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
        Statement(
            "DenyWritesByOthers", "Deny", OBJECT_WRITE_ACTIONS, (objects,), principals=(ANYONE,),
            conditions=(Condition("ArnNotEquals", "aws:PrincipalArn", tuple(writer_role_arns)),),
        ),
    ))


def archive_key_policy(
    account_id: str, region: str, job_role_arns: Sequence[str], archive_arn: str, topic_arn: str
) -> PolicyDocument:
    """The archive's key: the account administers it; the jobs use it only through S3 for the archive
    and through SNS for the notice topic, each pinned by its encryption context."""
    jobs = (Principal("AWS", tuple(job_role_arns)),)
    return PolicyDocument((
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (iam.account_root(account_id),)),)
        ),
        Statement(
            "JobsEncryptArchiveObjects", "Allow", ("kms:GenerateDataKey",), ("*",), principals=jobs,
            conditions=(_via(region, "s3"), _archive_context(archive_arn)),
        ),
        Statement(
            "JobsEncryptNotices", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), ("*",), principals=jobs,
            conditions=(_via(region, "sns"), _topic_context(topic_arn)),
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
