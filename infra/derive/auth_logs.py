"""Auth0 log evidence as plain declarations: where the tenant's logs land in AWS, and the alert on failures.

Auth0's `LogStream` (type `eventbridge`) creates a partner event source in the
account; an EventBridge rule on its bus sends every event to a KMS-encrypted
CloudWatch log group kept at least a year. A metric filter counts failed sign-ins
and MFA failures on the operators' connection and the /ops application (only
operators have accounts there), and a burst of them tickets people. Event types
are Auth0's log event codes ("Log Event Type Codes"); Auth0 puts each log under
`detail.data` of the EventBridge event. The documents come from infra/derive/iam.py's
typed builder. No Pulumi imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.derive import iam
from infra.derive.iam import Condition, PolicyDocument, Principal, Statement
from infra.model.access import AccessModel

# At least a year of evidence, like the compliance archive (a valid CloudWatch Logs retention).
EVIDENCE_RETENTION_DAYS = 400
# Failed login (f), wrong password (fp), unknown user (fu), MFA failed or rejected
# (gd_auth_failed, gd_auth_rejected), blocked account or IP (limit_wc, limit_mu), breached password (pwd_leak).
FAILURE_EVENT_TYPES = ("f", "fp", "fu", "gd_auth_failed", "gd_auth_rejected", "limit_wc", "limit_mu", "pwd_leak")
METRIC_NAMESPACE = "OpsHub/Auth"
METRIC_NAME = "OperatorSignInFailures"
# A burst: this many failures within the period tickets people (a person mistyping twice does not).
BURST_THRESHOLD = 10
BURST_PERIOD_SECONDS = 900


@dataclass(frozen=True)
class AuthLogsDecl:
    log_group_name: str
    retention_days: int
    failure_pattern: str
    threshold: int
    period_seconds: int


def failure_pattern(model: AccessModel) -> str:
    """A CloudWatch Logs JSON filter: a failure event on an operators' connection or the /ops application."""
    types = " || ".join(f'$.detail.data.type = "{t}"' for t in FAILURE_EVENT_TYPES)
    places = [f'$.detail.data.connection = "{c.name}"' for c in model.sign_in.connections]
    places.append(f'$.detail.data.client_name = "{model.sign_in.application.name}"')
    return f"{{ ({types}) && ({' || '.join(places)}) }}"


def derive_auth_logs(model: AccessModel, environment: str) -> AuthLogsDecl:
    return AuthLogsDecl(
        log_group_name=f"/ops-hub/{environment}/auth0-logs",
        retention_days=EVIDENCE_RETENTION_DAYS,
        failure_pattern=failure_pattern(model),
        threshold=BURST_THRESHOLD,
        period_seconds=BURST_PERIOD_SECONDS,
    )


def log_group_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


def logs_key_policy(account_id: str, region: str, group_arn: str) -> PolicyDocument:
    """The log group's key: the account administers it; CloudWatch Logs uses it only for this log group
    (its encryption context names the group: "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    return PolicyDocument((
        Statement(
            "AccountAdministersKey", "Allow", ("kms:*",), ("*",),
            principals=(Principal("AWS", (iam.account_root(account_id),)),),
        ),
        Statement(
            "CloudWatchLogsUseForTheGroup", "Allow",
            ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"), ("*",),
            principals=(Principal("Service", (f"logs.{region}.amazonaws.com",)),),
            conditions=(Condition("ArnEquals", "kms:EncryptionContext:aws:logs:arn", (group_arn,)),),
        ),
    ))


def delivery_policy(group_arn: str, rule_arn: str, account_id: str) -> PolicyDocument:
    """The log group's resource policy: only the one EventBridge rule of this account delivers into it."""
    return PolicyDocument((
        Statement(
            "EventBridgeRuleDelivers", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (iam.log_streams(group_arn),),
            principals=(Principal("Service", ("delivery.logs.amazonaws.com", "events.amazonaws.com")),),
            conditions=(
                Condition("StringEquals", "aws:SourceAccount", (account_id,)),
                Condition("ArnEquals", "aws:SourceArn", (rule_arn,)),
            ),
        ),
    ))
