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


def page_alert_rules(resources: Resources) -> list[dict[str, Any]]:
    return [rule for rule in alert_rules(resources) if rule["labels"]["severity"] == "page"]


def notification_policy(resources: Resources) -> dict[str, Any]:
    return first(resources, "grafana:alerting/notificationPolicy:NotificationPolicy")["properties"]


def page_route(resources: Resources) -> dict[str, Any]:
    return next(r for r in notification_policy(resources)["policies"] if {"label": "severity", "match": "=", "value": "page"} in r["matchers"])


def escalation_rules(resources: Resources) -> list[dict[str, Any]]:
    return first(resources, "pagerduty:index/escalationPolicy:EscalationPolicy")["properties"]["rules"]


def add_public_dashboard(resources: Resources) -> None:
    """A DashboardPublic sharing the first dashboard, declared as the component declares its children."""
    dashboard = first(resources, "grafana:oss/dashboard:Dashboard")
    public = {key: dashboard[key] for key in ("custom", "options", "provider")}
    public.update(
        type="grafana:oss/dashboardPublic:DashboardPublic",
        urn=dashboard["urn"].replace("grafana:oss/dashboard:Dashboard", "grafana:oss/dashboardPublic:DashboardPublic"),
        name=f"{dashboard['name']}-public",
        properties={"dashboardUid": "ops-hub-overview", "isEnabled": True},
        secretProperties=[],
        computedOutputs={},
        dependencies=[dashboard["urn"]],
        propertyDependencies={},
    )
    resources.append(public)


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


def _auth_009(rs: Resources) -> None:
    first(rs, "auth0:index/guardian:Guardian")["properties"]["phone"] = {"enabled": True}


def _auth_010(rs: Resources) -> None:
    first(rs, "auth0:index/guardian:Guardian")["properties"]["webauthnRoaming"]["userVerification"] = "discouraged"


def _auth_011(rs: Resources) -> None:
    first(rs, "auth0:index/resourceServer:ResourceServer")["properties"]["signingAlg"] = "HS256"


def machine_client(rs: Resources) -> dict[str, Any]:
    return first(rs, "auth0:index/client:Client", appType="non_interactive")


def ops_app(rs: Resources) -> dict[str, Any]:
    return first(rs, "auth0:index/client:Client", appType="spa")


def _auth_012(rs: Resources) -> None:
    machine_client(rs)["properties"]["grantTypes"].append("password")


def _auth_013(rs: Resources) -> None:
    client = machine_client(rs)
    cred = next(c for c in where(rs, "auth0:index/clientCredentials:ClientCredentials") if client["urn"] in c["propertyDependencies"]["clientId"])
    cred["properties"]["authenticationMethod"] = "none"


def _auth_014(rs: Resources) -> None:
    grant = next(g for g in where(rs, "auth0:index/clientGrant:ClientGrant") if g["properties"]["audience"].endswith("/api/v2/"))
    grant["properties"]["scopes"].append("update:users")


def post_login_action(rs: Resources) -> dict[str, Any]:
    return first(rs, "auth0:index/action:Action")


def _auth_015(rs: Resources) -> None:
    post_login_action(rs)["properties"]["deploy"] = False


def _auth_016(rs: Resources) -> None:
    action = post_login_action(rs)["properties"]
    action["code"] = action["code"].replace('"mfaMaxAgeSeconds":900', '"mfaMaxAgeSeconds":86400')


def _auth_017(rs: Resources) -> None:
    first(rs, "auth0:index/tenant:Tenant")["properties"]["sessionLifetime"] = 168.0


def _auth_018(rs: Resources) -> None:
    first(rs, "auth0:index/attackProtection:AttackProtection")["properties"]["suspiciousIpThrottling"]["enabled"] = False


def _auth_019(rs: Resources) -> None:
    first(rs, "auth0:index/connection:Connection")["properties"]["options"]["disableSignup"] = False


def _auth_020(rs: Resources) -> None:
    ops_app(rs)["properties"]["grantTypes"].append("implicit")


def _auth_021(rs: Resources) -> None:
    first(rs, "auth0:index/resourceServer:ResourceServer")["properties"]["subjectTypeAuthorization"]["user"]["policy"] = "allow_all"


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


def _aws_009(rs: Resources) -> None:
    def open_to_everyone(doc: dict[str, Any]) -> None:
        doc["Statement"].append({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"})

    edit_policy(first(rs, "aws:sns/topicPolicy:TopicPolicy"), open_to_everyone)


def _aws_010(rs: Resources) -> None:
    role = next(r for r in where(rs, "aws:iam/role:Role") if "lambda.amazonaws.com" in r["properties"]["assumeRolePolicy"])
    document = json.loads(role["properties"]["assumeRolePolicy"])
    del document["Statement"][0]["Condition"]["ArnLike"]
    role["properties"]["assumeRolePolicy"] = json.dumps(document)


def _aws_011(rs: Resources) -> None:
    secret = secret_named(rs, "/stripe/secret-key")
    policy = next(p for p in where(rs, "aws:secretsmanager/secretPolicy:SecretPolicy") if secret["urn"] in p["propertyDependencies"]["secretArn"])

    def add_reader(doc: dict[str, Any]) -> None:
        deny = next(s for s in doc["Statement"] if s["Sid"] == "DenyReadsByOtherPrincipals")
        readers = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [*([readers] if isinstance(readers, str) else readers), "arn:aws:iam::210987654321:role/analytics"]

    edit_policy(policy, add_reader)


def _aws_012(rs: Resources) -> None:
    role = first(rs, "aws:iam/role:Role")
    rs.append({
        **role, "type": "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "name": "admin", "urn": role["urn"] + "-admin",
        "properties": {"role": role["properties"]["name"], "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        "secretProperties": [], "propertyDependencies": {"role": [role["urn"]]}, "dependencies": [role["urn"]],
    })


def _aws_013(rs: Resources) -> None:
    rotations = where(rs, "aws:secretsmanager/secretRotation:SecretRotation")
    rs.remove(rotations[0])


def _aws_014(rs: Resources) -> None:
    alarm = next(a for a in where(rs, "aws:cloudwatch/metricAlarm:MetricAlarm") if a["properties"].get("namespace") == "OpsHub/Secrets")
    alarm["properties"]["actionsEnabled"] = False


def _aws_015(rs: Resources) -> None:
    policy = first(rs, "aws:s3/bucketPolicy:BucketPolicy")
    edit_policy(policy, lambda doc: doc.update(Statement=[s for s in doc["Statement"] if s["Sid"] != "DenyWritesByOthers"]))


def _aws_016(rs: Resources) -> None:
    key = next(k for k in where(rs, "aws:kms/key:Key") if "compliance" in k["properties"]["description"])

    def decrypt_through_s3(doc: dict[str, Any]) -> None:
        statement = next(s for s in doc["Statement"] if s["Sid"] == "JobsEncryptArchiveObjects")
        statement["Action"] = ["kms:Decrypt", "kms:GenerateDataKey"]

    edit_policy(key, decrypt_through_s3)


def _aws_017(rs: Resources) -> None:
    group = next(g for g in where(rs, "aws:cloudwatch/logGroup:LogGroup") if "auth0" in g["properties"]["name"])
    group["properties"]["retentionInDays"] = 30.0


def signing_key(resources: Resources) -> dict[str, Any]:
    return first(resources, "aws:kms/key:Key", keyUsage="SIGN_VERIFY")


def _aws_018(rs: Resources) -> None:
    """The export job's role may sign checkpoints too: added to the Allow and exempted from the Deny."""
    def let_export_sign(doc: dict[str, Any]) -> None:
        export = "arn:aws:iam::210987654321:role/audit-export-job-prod"
        for s in doc["Statement"]:
            if s["Sid"] == "CheckpointJobSigns":
                s["Principal"]["AWS"] = [s["Principal"]["AWS"], export]
            if s["Sid"] == "DenySignByOthers":
                s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [s["Condition"]["ArnNotEquals"]["aws:PrincipalArn"], export]

    edit_policy(signing_key(rs), let_export_sign)


def _aws_019(rs: Resources) -> None:
    edit_policy(signing_key(rs), lambda doc: [s.update(Action="kms:*") for s in doc["Statement"] if s["Sid"] == "CheckpointJobSigns"])


def _aws_020(rs: Resources) -> None:
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


def _obs_008(rs: Resources) -> None:
    page_alert_rules(rs)[0]["isPaused"] = True


def _obs_009(rs: Resources) -> None:
    page_alert_rules(rs)[0]["for"] = "1h"


def _obs_010(rs: Resources) -> None:
    page_alert_rules(rs)[0]["execErrState"] = "OK"


def _obs_011(rs: Resources) -> None:
    page_alert_rules(rs)[0]["labels"]["team"] = "ops-hub-legacy"


def _obs_012(rs: Resources) -> None:
    page_alert_rules(rs)[0]["notificationSettings"] = {"contactPoint": "slack-tickets"}


def _obs_013(rs: Resources) -> None:
    page_route(rs)["muteTimings"] = [first(rs, "grafana:alerting/muteTiming:MuteTiming")["properties"]["name"]]


def _obs_014(rs: Resources) -> None:
    first(rs, "grafana:alerting/muteTiming:MuteTiming")["properties"]["intervals"][0]["weekdays"].append("saturday")


def _obs_015(rs: Resources) -> None:
    team = page_route(rs)["matchers"][1]
    notification_policy(rs)["policies"].insert(0, {"contactPoint": "slack-tickets", "matchers": [team]})


def _obs_016(rs: Resources) -> None:
    notification_policy(rs)["repeatInterval"] = "24h"


def _obs_017(rs: Resources) -> None:
    first(rs, "pagerduty:index/service:Service")["properties"]["incidentUrgencyRule"] = {"type": "constant", "urgency": "low"}


def _obs_018(rs: Resources) -> None:
    name = page_route(rs)["contactPoint"]
    first(rs, "grafana:alerting/contactPoint:ContactPoint", name=name)["properties"]["pagerduties"][0]["severity"] = "warning"


def _obs_019(rs: Resources) -> None:
    first(rs, "pagerduty:index/service:Service")["properties"]["autoResolveTimeout"] = "600"


def _obs_020(rs: Resources) -> None:
    escalation_rules(rs)[0]["escalationDelayInMinutes"] = 120.0


def _obs_021(rs: Resources) -> None:
    rules = escalation_rules(rs)
    rules[1]["targets"] = rules[0]["targets"]


def _obs_022(rs: Resources) -> None:
    first(rs, "grafana:oss/folderPermission:FolderPermission")["properties"]["permissions"].append({"role": "Viewer", "permission": "Edit"})


def _obs_023(rs: Resources) -> None:
    add_public_dashboard(rs)


def _xc_001(rs: Resources) -> None:
    role = next(r for r in where(rs, "postgresql:index/role:Role") if "password" in r["secretProperties"])
    role["secretProperties"].remove("password")


def _xc_002(rs: Resources) -> None:
    key = first(rs, "aws:kms/key:Key")
    key["provider"] = {**key["provider"], "properties": {**key["provider"]["properties"], "defaultTags": json.dumps({"tags": {"environment": "prod"}})}}


def _xc_003(rs: Resources) -> None:
    secret = first(rs, "aws:secretsmanager/secret:Secret")
    secret["provider"] = {**secret["provider"], "name": "default_7_51_1"}


def _vend_001(rs: Resources) -> None:
    secret_named(rs, "/plausible/api-key")["properties"]["tags"]["vendor-key-type"] = "sites-api"


def metrics_job_policy(resources: Resources) -> dict[str, Any]:
    """The metrics job's own policy: the RolePolicy that lets it put snapshots."""
    return next(r for r in where(resources, "aws:iam/rolePolicy:RolePolicy") if "/snapshots/*" in r["properties"]["policy"])


def _stor_001(rs: Resources) -> None:
    bucket = first(rs, "aws:s3/bucket:Bucket", bucket="ops-hub-prod-metrics-210987654321")
    block = next(b for b in where(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") if bucket["urn"] in b["propertyDependencies"]["bucket"])
    block["properties"]["blockPublicPolicy"] = False


def _stor_002(rs: Resources) -> None:
    def whole_bucket(doc: dict[str, Any]) -> None:
        statement = next(s for s in doc["Statement"] if s["Sid"] == "WriteOwnPrefix")
        statement["Resource"] = [r.split("/", 1)[0] + "/*" for r in statement["Resource"]]

    edit_policy(metrics_job_policy(rs), whole_bucket)


def _met_001(rs: Resources) -> None:
    first(rs, "postgresql:index/grant:Grant", schema="ops_metrics", role="authenticated")["properties"]["role"] = "anon"


MUTATIONS: dict[str, Callable[[Resources], None]] = {
    "OPS-AUTH-001": _auth_001,
    "OPS-AUTH-002": _auth_002,
    "OPS-AUTH-003": _auth_003,
    "OPS-AUTH-004": _auth_004,
    "OPS-AUTH-005": _auth_005,
    "OPS-AUTH-006": _auth_006,
    "OPS-AUTH-007": _auth_007,
    "OPS-AUTH-008": _auth_008,
    "OPS-AUTH-009": _auth_009,
    "OPS-AUTH-010": _auth_010,
    "OPS-AUTH-011": _auth_011,
    "OPS-AUTH-012": _auth_012,
    "OPS-AUTH-013": _auth_013,
    "OPS-AUTH-014": _auth_014,
    "OPS-AUTH-015": _auth_015,
    "OPS-AUTH-016": _auth_016,
    "OPS-AUTH-017": _auth_017,
    "OPS-AUTH-018": _auth_018,
    "OPS-AUTH-019": _auth_019,
    "OPS-AUTH-020": _auth_020,
    "OPS-AUTH-021": _auth_021,
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
    "OPS-AWS-012": _aws_012,
    "OPS-AWS-013": _aws_013,
    "OPS-AWS-014": _aws_014,
    "OPS-AWS-015": _aws_015,
    "OPS-AWS-016": _aws_016,
    "OPS-AWS-017": _aws_017,
    "OPS-AWS-018": _aws_018,
    "OPS-AWS-019": _aws_019,
    "OPS-AWS-020": _aws_020,
    "OPS-OBS-001": _obs_001,
    "OPS-OBS-002": _obs_002,
    "OPS-OBS-003": _obs_003,
    "OPS-OBS-004": _obs_004,
    "OPS-OBS-005": _obs_005,
    "OPS-OBS-006": _obs_006,
    "OPS-OBS-007": _obs_007,
    "OPS-OBS-008": _obs_008,
    "OPS-OBS-009": _obs_009,
    "OPS-OBS-010": _obs_010,
    "OPS-OBS-011": _obs_011,
    "OPS-OBS-012": _obs_012,
    "OPS-OBS-013": _obs_013,
    "OPS-OBS-014": _obs_014,
    "OPS-OBS-015": _obs_015,
    "OPS-OBS-016": _obs_016,
    "OPS-OBS-017": _obs_017,
    "OPS-OBS-018": _obs_018,
    "OPS-OBS-019": _obs_019,
    "OPS-OBS-020": _obs_020,
    "OPS-OBS-021": _obs_021,
    "OPS-OBS-022": _obs_022,
    "OPS-OBS-023": _obs_023,
    "OPS-XC-001": _xc_001,
    "OPS-XC-002": _xc_002,
    "OPS-XC-003": _xc_003,
    "OPS-VEND-001": _vend_001,
    "OPS-STOR-001": _stor_001,
    "OPS-STOR-002": _stor_002,
    "OPS-MET-001": _met_001,
}
