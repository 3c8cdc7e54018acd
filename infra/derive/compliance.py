"""The compliance jobs as plain declarations: the access review's input and every IAM document they need.

- `review_input(model, assignments)`: what the access-review Lambda packages as
  `review_input.json` (roles with permissions and the Auth0 authentication-method
  types their MFA accepts, SoD pairs, approved assignments);
- the documents of the review archive (S3 bucket with Object Lock, its KMS key,
  the notice topic) and of the two jobs, built with the typed builder of
  infra/derive/iam.py. No Pulumi imports: tests call these on plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.derive import iam
from infra.derive.iam import ANYONE, Condition, PolicyDocument, Principal, Statement
from infra.errors import ModelError
from infra.model.access import AccessModel
from infra.model.assignments import Assignments

REVIEW_PREFIX = "access-reviews"
EXPORT_PREFIX = "audit-exports"
REVIEW_SCHEDULE = "cron(0 6 1 * ? *)"  # 06:00 UTC on the 1st of every month
EXPORT_SCHEDULE = "cron(0 4 2 * ? *)"  # 04:00 UTC on the 2nd: last month's partition is closed by then
DORMANT_DAYS = 90
RETENTION_DAYS = 400  # a yearly audit cycle plus a margin; compliance mode cannot be shortened later

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


def _via(region: str, *services: str) -> Condition:
    return Condition("StringEquals", "kms:ViaService", tuple(f"{s}.{region}.amazonaws.com" for s in services))


def _own_logs(log_group_arn: str) -> Statement:
    return Statement("WriteOwnLogs", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (iam.log_streams(log_group_arn),))


def job_policy(
    bucket_arn: str, prefix: str, key_arn: str, topic_arn: str, log_group_arn: str, region: str
) -> PolicyDocument:
    """A compliance job: add objects under its own prefix (never read, replace or delete), notify, log.

    Its secret comes from the identity's reader policy (VendorSecrets); this
    document adds only what the job itself does.
    """
    return PolicyDocument((
        Statement("WriteOwnPrefix", "Allow", ("s3:PutObject",), (f"{bucket_arn}/{prefix}/*",)),
        Statement(
            "EncryptViaS3AndSns", "Allow", ("kms:GenerateDataKey", "kms:Decrypt"), (key_arn,),
            conditions=(_via(region, "s3", "sns"),),
        ),
        Statement("PublishNotice", "Allow", ("sns:Publish",), (topic_arn,)),
        _own_logs(log_group_arn),
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
