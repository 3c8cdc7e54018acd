"""One misconfiguration of the prod plan per rule, applied to resources.json as `opshub plan` writes it.

Each mutation finds its target by type token and properties (never by logical
name), changes one thing, and fails loudly if the plan lacks the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Resources = list[dict[str, Any]]


def where(resources: Resources, type_token: str, **properties: Any) -> list[dict[str, Any]]:
    found = [
        r
        for r in resources
        if r["type"] == type_token and all(r["properties"].get(k) == v for k, v in properties.items())
    ]
    assert found, f"the prod plan has no {type_token} with {properties}: the mutation has nothing to break"
    return found


def first(resources: Resources, type_token: str, **properties: Any) -> dict[str, Any]:
    return where(resources, type_token, **properties)[0]


def role_permissions_of(resources: Resources, role_name: str) -> dict[str, Any]:
    role = first(resources, "auth0:index/role:Role", name=role_name)
    return next(
        r
        for r in where(resources, "auth0:index/rolePermissions:RolePermissions")
        if role["urn"] in r["propertyDependencies"].get("roleId", [])
    )


def add_permission(resources: Resources, role_name: str, permission: str) -> None:
    rp = role_permissions_of(resources, role_name)
    audience = rp["properties"]["permissions"][0]["resourceServerIdentifier"]
    rp["properties"]["permissions"].append({"name": permission, "resourceServerIdentifier": audience})


def edit_policy(resource: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to an IAM document held as a JSON string (as the program passes it)."""
    document = json.loads(resource["properties"]["policy"])
    edit(document)
    resource["properties"]["policy"] = json.dumps(document)


def reading_role_policy(resources: Resources) -> dict[str, Any]:
    return next(r for r in where(resources, "aws:iam/rolePolicy:RolePolicy") if "secretsmanager:GetSecretValue" in r["properties"]["policy"])


def ops_api_grant(resources: Resources) -> dict[str, Any]:
    api = first(resources, "auth0:index/resourceServer:ResourceServer")["properties"]["identifier"]
    return first(resources, "auth0:index/clientGrant:ClientGrant", audience=api)


def alert_rules(resources: Resources) -> list[dict[str, Any]]:
    return [rule for group in where(resources, "grafana:alerting/ruleGroup:RuleGroup") for rule in group["properties"]["rules"] if not rule.get("record")]


def secret_named(resources: Resources, suffix: str) -> dict[str, Any]:
    return next(r for r in where(resources, "aws:secretsmanager/secret:Secret") if r["properties"]["name"].endswith(suffix))


def drop_reminders(resources: Resources, secret_name: str) -> None:
    """Remove every alarm, rule or schedule that names the secret (its reminder)."""
    reminder_types = {"aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/eventRule:EventRule", "aws:scheduler/schedule:Schedule"}
    resources[:] = [r for r in resources if not (r["type"] in reminder_types and secret_name in json.dumps(r["properties"]))]


def _auth_001(rs: Resources) -> None:
    add_permission(rs, "ops-sre", "incidents:*")


def _auth_002(rs: Resources) -> None:
    add_permission(rs, "ops-viewer", "content:write")


def _auth_003(rs: Resources) -> None:
    first(rs, "auth0:index/resourceServer:ResourceServer")["properties"]["enforcePolicies"] = False


def _auth_004(rs: Resources) -> None:
    first(rs, "auth0:index/resourceServer:ResourceServer")["properties"]["tokenLifetime"] = 86400.0


def _auth_005(rs: Resources) -> None:
    first(rs, "auth0:index/guardian:Guardian")["properties"]["policy"] = "never"


def _auth_006(rs: Resources) -> None:
    guardian = first(rs, "auth0:index/guardian:Guardian")["properties"]
    guardian["webauthnRoaming"] = {"enabled": False}
    guardian["webauthnPlatform"] = {"enabled": False}


def _auth_007(rs: Resources) -> None:
    add_permission(rs, "ops-payments", "audit:export")


def _auth_008(rs: Resources) -> None:
    ops_api_grant(rs)["properties"]["scopes"].append("payments:refund")


def _pg_001(rs: Resources) -> None:
    first(rs, "postgresql:index/role:Role", login=True)["properties"]["bypassRowLevelSecurity"] = True


def _pg_002(rs: Resources) -> None:
    grant = next(g for g in where(rs, "postgresql:index/grant:Grant", schema="ops_audit") if g["properties"]["privileges"])
    grant["properties"]["privileges"].append("DELETE")


def _pg_003(rs: Resources) -> None:
    grant = next(g for g in where(rs, "postgresql:index/grant:Grant", schema="ops_audit") if g["properties"]["privileges"])
    grant["properties"]["role"] = "anon"


def _pg_004(rs: Resources) -> None:
    del first(rs, "postgresql:index/role:Role", login=True)["properties"]["connectionLimit"]


def _aws_001(rs: Resources) -> None:
    edit_policy(reading_role_policy(rs), lambda doc: doc["Statement"][0].update(Action="secretsmanager:*"))


def _aws_002(rs: Resources) -> None:
    edit_policy(reading_role_policy(rs), lambda doc: doc["Statement"][0].update(Resource="*"))


def _aws_003(rs: Resources) -> None:
    def add_escalation(doc: dict[str, Any]) -> None:
        doc["Statement"].append({"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction"], "Resource": "arn:aws:iam::210987654321:role/x"})

    edit_policy(reading_role_policy(rs), add_escalation)


def _aws_004(rs: Resources) -> None:
    del first(rs, "aws:secretsmanager/secret:Secret")["properties"]["kmsKeyId"]


def _aws_005(rs: Resources) -> None:
    drop_reminders(rs, secret_named(rs, "/stripe/secret-key")["properties"]["name"])


def _aws_006(rs: Resources) -> None:
    first(rs, "aws:secretsmanager/secretRotation:SecretRotation")["properties"]["rotationRules"] = {"automaticallyAfterDays": 45.0}


def _aws_007(rs: Resources) -> None:
    first(rs, "aws:secretsmanager/secret:Secret")["properties"]["recoveryWindowInDays"] = 0.0


def _aws_008(rs: Resources) -> None:
    policy = first(rs, "aws:secretsmanager/secretPolicy:SecretPolicy")
    edit_policy(policy, lambda doc: doc.update(Statement=[s for s in doc["Statement"] if s["Effect"] != "Deny"]))


def signing_key(resources: Resources) -> dict[str, Any]:
    return first(resources, "aws:kms/key:Key", keyUsage="SIGN_VERIFY")


def _aws_009(rs: Resources) -> None:
    """The export job's role may sign checkpoints too: added to the Allow and exempted from the Deny."""
    def let_export_sign(doc: dict[str, Any]) -> None:
        export = "arn:aws:iam::210987654321:role/audit-export-job-prod"
        for s in doc["Statement"]:
            if s["Sid"] == "CheckpointJobSigns":
                s["Principal"]["AWS"] = [s["Principal"]["AWS"], export]
            if s["Sid"] == "DenySignByOthers":
                s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"], export]

    edit_policy(signing_key(rs), let_export_sign)


def _aws_010(rs: Resources) -> None:
    edit_policy(signing_key(rs), lambda doc: [s.update(Action="kms:*") for s in doc["Statement"] if s["Sid"] == "CheckpointJobSigns"])


def _aws_011(rs: Resources) -> None:
    """The checkpoint job's policy (the one that signs) may put objects anywhere in the archive."""
    policy = next(r for r in where(rs, "aws:iam/rolePolicy:RolePolicy") if "kms:Sign" in r["properties"]["policy"])
    edit_policy(policy, lambda doc: [s.update(Resource=s["Resource"].rsplit("/", 2)[0] + "/*") for s in doc["Statement"] if s["Action"] == "s3:PutObject"])


def _obs_001(rs: Resources) -> None:
    del alert_rules(rs)[0]["annotations"]["runbook_url"]


def _obs_002(rs: Resources) -> None:
    alert_rules(rs)[0]["labels"]["severity"] = "info"


def _obs_003(rs: Resources) -> None:
    first(rs, "grafana:alerting/notificationPolicy:NotificationPolicy")["properties"]["policies"][-1]["contactPoint"] = "retired-slack"


def _obs_004(rs: Resources) -> None:
    policy = first(rs, "grafana:alerting/notificationPolicy:NotificationPolicy")["properties"]
    ticket = next(p["contactPoint"] for p in policy["policies"] if {"label": "severity", "match": "=", "value": "ticket"} in p["matchers"])
    for route in policy["policies"]:
        if {"label": "severity", "match": "=", "value": "page"} in route["matchers"]:
            route["contactPoint"] = ticket


def _obs_005(rs: Resources) -> None:
    contact = next(c for c in where(rs, "grafana:alerting/contactPoint:ContactPoint") if c["properties"].get("pagerduties"))
    contact["secretProperties"] = []


def _obs_006(rs: Resources) -> None:
    policy = first(rs, "pagerduty:index/escalationPolicy:EscalationPolicy")["properties"]
    policy["rules"] = policy["rules"][:1]


def _obs_007(rs: Resources) -> None:
    dashboard = first(rs, "grafana:oss/dashboard:Dashboard")
    dashboard["properties"].pop("folder")
    dashboard["propertyDependencies"].pop("folder", None)


def _xc_001(rs: Resources) -> None:
    role = next(r for r in where(rs, "postgresql:index/role:Role") if "password" in r["secretProperties"])
    role["secretProperties"].remove("password")


def _xc_002(rs: Resources) -> None:
    key = first(rs, "aws:kms/key:Key")
    key["provider"] = {**key["provider"], "properties": {**key["provider"]["properties"], "defaultTags": json.dumps({"tags": {"environment": "prod"}})}}


def _xc_003(rs: Resources) -> None:
    secret = first(rs, "aws:secretsmanager/secret:Secret")
    secret["provider"] = {**secret["provider"], "name": "default_7_51_1"}


MUTATIONS: dict[str, Callable[[Resources], None]] = {
    "OPS-AUTH-001": _auth_001,
    "OPS-AUTH-002": _auth_002,
    "OPS-AUTH-003": _auth_003,
    "OPS-AUTH-004": _auth_004,
    "OPS-AUTH-005": _auth_005,
    "OPS-AUTH-006": _auth_006,
    "OPS-AUTH-007": _auth_007,
    "OPS-AUTH-008": _auth_008,
    "OPS-PG-001": _pg_001,
    "OPS-PG-002": _pg_002,
    "OPS-PG-003": _pg_003,
    "OPS-PG-004": _pg_004,
    "OPS-AWS-001": _aws_001,
    "OPS-AWS-002": _aws_002,
    "OPS-AWS-003": _aws_003,
    "OPS-AWS-004": _aws_004,
    "OPS-AWS-005": _aws_005,
    "OPS-AWS-006": _aws_006,
    "OPS-AWS-007": _aws_007,
    "OPS-AWS-008": _aws_008,
    "OPS-AWS-009": _aws_009,
    "OPS-AWS-010": _aws_010,
    "OPS-AWS-011": _aws_011,
    "OPS-OBS-001": _obs_001,
    "OPS-OBS-002": _obs_002,
    "OPS-OBS-003": _obs_003,
    "OPS-OBS-004": _obs_004,
    "OPS-OBS-005": _obs_005,
    "OPS-OBS-006": _obs_006,
    "OPS-OBS-007": _obs_007,
    "OPS-XC-001": _xc_001,
    "OPS-XC-002": _xc_002,
    "OPS-XC-003": _xc_003,
}
