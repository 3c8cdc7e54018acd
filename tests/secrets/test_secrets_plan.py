"""What the prod plan declares for the vendor secrets, checked against the access model.

Resources are linked through `propertyDependencies` (as the engine records
them), never through mock ids or URN shapes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import StackConfig
from infra.derive.secrets import secret_plans
from infra.model.access import AccessModel
from infra.offline.plan import Plan

KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def ours(plan: Plan, type_token: str) -> list[dict[str, Any]]:
    """Resources of the type that VendorSecrets declares (other components declare topics and schedules too)."""
    (component,) = plan.of_type("opshub:secrets:VendorSecrets")
    return [r for r in plan.of_type(type_token) if r["options"]["parent"] == component["urn"]]


def linked(plan: Plan, resource: dict[str, Any], prop: str) -> list[dict[str, Any]]:
    by_urn = {r["urn"]: r for r in plan.resources}
    return [by_urn[u] for u in resource["propertyDependencies"].get(prop, [])]


def one(items: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(items) == 1, f"expected exactly one {what}, found {len(items)}"
    return items[0]


def secrets_by_name(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["properties"]["name"]: r for r in plan.of_type(SECRET)}


def statements(policy: str) -> list[dict[str, Any]]:
    return json.loads(policy)["Statement"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def policies_of(plan: Plan, role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline policy on the role, whichever component attached it."""
    return [p for p in plan.of_type(ROLE_POLICY) if role in linked(plan, p, "role")]


def test_every_model_secret_is_declared_encrypted_with_a_rotating_key(prod_plan: Plan, access_model: AccessModel) -> None:
    declared = secrets_by_name(prod_plan)

    expected = {f"ops-hub/prod/{s.vendor}/{s.purpose}" for s in access_model.secrets}
    assert set(declared) == expected
    for name, secret in declared.items():
        key = one(linked(prod_plan, secret, "kmsKeyId"), f"KMS key of {name}")
        assert key["properties"]["enableKeyRotation"] is True, f"{name}: its key must rotate"
        assert secret["properties"]["recoveryWindowInDays"] >= 7, f"{name}: recovery window under 7 days"
        assert secret["properties"]["tags"]["rotation"] in ("lambda", "reminder"), f"{name}: no declared rotation plan"


def test_every_secret_has_a_resource_policy_denying_outsiders_and_plain_http(prod_plan: Plan) -> None:
    policies = {one(linked(prod_plan, p, "secretArn"), "secret")["properties"]["name"]: p for p in prod_plan.of_type(SECRET_POLICY)}

    assert set(policies) == set(secrets_by_name(prod_plan))
    for name, policy in policies.items():
        sids = {s["Sid"]: s for s in statements(policy["properties"]["policy"])}
        assert sids["DenyOutsideAccount"]["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": "210987654321"}, name
        assert sids["DenyWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        assert policy["properties"]["blockPublicPolicy"] is True, name


def test_every_secret_denies_reads_by_anyone_but_its_readers(
    prod_plan: Plan, access_model: AccessModel, prod_config: StackConfig
) -> None:
    """Its identities' roles, its rotation Lambdas (own or master), and the deploy role exactly where Pulumi writes the value."""
    plans = {p.name: p for p in secret_plans(access_model, "prod")}
    for policy in prod_plan.of_type(SECRET_POLICY):
        secret = one(linked(prod_plan, policy, "secretArn"), "secret")
        plan = plans[secret["properties"]["name"]]
        deny = {s["Sid"]: s for s in statements(policy["properties"]["policy"])}["DenyReadsByOtherPrincipals"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "secretsmanager:GetSecretValue"
        allowed = set(as_list(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]))
        reader_roles = {r["properties"]["name"] for r in linked(prod_plan, policy, "policy") if r["type"] == ROLE}
        expected = {f"{i}-prod" for i in plan.readers}
        expected |= {f"ops-hub-prod-rotate-{p.slug}" for p in plans.values() if p.rotation == "lambda" and plan.key in (p.key, p.master)}
        assert reader_roles == expected, f"{plan.key}: readers {sorted(reader_roles)}"
        assert (prod_config.deploy_role_arn in allowed) is plan.seeded, f"{plan.key}: the deploy role reads only what Pulumi writes"
        assert len(allowed) == len(reader_roles) + plan.seeded, f"{plan.key}: unexpected readers {sorted(allowed)}"


def test_key_policy_names_only_the_account_and_the_reading_and_rotating_roles(
    prod_plan: Plan, access_model: AccessModel
) -> None:
    key = one([k for k in prod_plan.of_type(KEY) if "secrets" in k["properties"]["description"]], "secrets key")
    roles = {r["properties"]["name"] for r in linked(prod_plan, key, "policy")}

    principals = {p for s in statements(key["properties"]["policy"]) for p in as_list(s["Principal"]["AWS"])}

    readers = {f"{i.name}-prod" for i in access_model.identities if i.reads_secrets}
    rotators = {f"ops-hub-prod-rotate-{s.key.replace('/', '-')}" for s in access_model.secrets if s.rotation == "lambda"}
    assert roles == readers | rotators, "the key policy must name exactly the reader and rotation roles"
    assert "arn:aws:iam::210987654321:root" in principals
    assert len(principals) == 1 + len(roles), f"unexpected principals: {sorted(principals)}"
    for stmt in statements(key["properties"]["policy"]):
        if stmt["Sid"] != "AccountAdministersKey":
            assert stmt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.eu-central-1.amazonaws.com"


@pytest.mark.parametrize("identity", ["ops-hub-runtime", "access-review-job", "audit-export-job"])
def test_identity_reads_exactly_the_secrets_the_model_gives_it(
    prod_plan: Plan, access_model: AccessModel, identity: str
) -> None:
    role = one([r for r in prod_plan.of_type(ROLE) if r["properties"]["name"] == f"{identity}-prod"], f"{identity} role")
    mine = one([p for p in policies_of(prod_plan, role) if p in ours(prod_plan, ROLE_POLICY)], "VendorSecrets policy")
    policy = {s["Sid"]: s for s in statements(mine["properties"]["policy"])}
    secrets = {s["urn"]: s["properties"]["name"] for s in prod_plan.of_type(SECRET)}
    # Secrets reachable through any policy on the role, including those other components (the jobs) attach.
    reached = {
        secrets[u]
        for p in policies_of(prod_plan, role)
        for s in statements(p["properties"]["policy"])
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
        for u in p["propertyDependencies"]["policy"]
        if u in secrets
    }

    model = next(i for i in access_model.identities if i.name == identity)
    assert reached == {f"ops-hub/prod/{k}" for k in model.reads_secrets}, "the role reads exactly the model's secrets"
    assert policy["ReadOwnSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert len(as_list(policy["ReadOwnSecrets"]["Resource"])) == len(model.reads_secrets)
    assert policy["DecryptViaSecretsManager"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-central-1.amazonaws.com"}
    }
    assert set(policy) == {"ReadOwnSecrets", "DecryptViaSecretsManager"}, "nothing beyond reading its secrets"


def test_database_secrets_rotate_through_the_packaged_lambda_at_most_every_30_days(
    prod_plan: Plan, access_model: AccessModel
) -> None:
    rotated = {f"ops-hub/prod/{s.key}": s for s in access_model.secrets if s.rotation == "lambda"}
    rotations = {one(linked(prod_plan, r, "secretId"), "secret")["properties"]["name"]: r for r in prod_plan.of_type(ROTATION)}

    assert set(rotations) == set(rotated), "exactly the lambda-rotated secrets have a SecretRotation"
    for name, rotation in rotations.items():
        assert rotation["properties"]["rotationRules"]["automaticallyAfterDays"] <= 30, name
        function = one(linked(prod_plan, rotation, "rotationLambdaArn"), "rotation function")
        props = function["properties"]
        assert props["handler"] == "rotate_postgres.lambda_handler"
        assert props["runtime"] in ("python3.11", "python3.12")
        assert list(props["code"]["assets"]) == ["rotate_postgres.py"]
        assert props["code"]["assets"]["rotate_postgres.py"]["path"].endswith("infra/lambdas/rotate_postgres.py")
        assert props["layers"], "psycopg comes from the layer"
        permission = one([p for p in prod_plan.of_type(PERMISSION) if function in linked(prod_plan, p, "function")], "permission")
        assert permission["properties"]["principal"] == "secretsmanager.amazonaws.com"
        assert one(linked(prod_plan, permission, "sourceArn"), "source")["properties"]["name"] == name


def test_rotation_role_reaches_only_its_secret_and_its_master(prod_plan: Plan, access_model: AccessModel) -> None:
    for rotation in prod_plan.of_type(ROTATION):
        secret = one(linked(prod_plan, rotation, "secretId"), "secret")
        function = one(linked(prod_plan, rotation, "rotationLambdaArn"), "function")
        role = one(linked(prod_plan, function, "role"), "role")
        holder = one(policies_of(prod_plan, role), "policy of the rotation role")
        reached = {r["properties"]["name"] for r in linked(prod_plan, holder, "policy") if r["type"] == SECRET}

        spec = access_model.secret_by_key[secret["properties"]["name"].removeprefix("ops-hub/prod/")]
        assert reached == {f"ops-hub/prod/{spec.key}", f"ops-hub/prod/{spec.master}"}
        for stmt in statements(holder["properties"]["policy"]):
            assert not any("*" in a for a in as_list(stmt["Action"])), f"wildcard action in {stmt['Sid']}"
            for resource in as_list(stmt["Resource"]):
                assert "*" not in resource.removesuffix(":log-stream:*"), f"{stmt['Sid']}: wildcard resource {resource}"


def test_every_secret_has_an_age_alarm_that_reaches_the_routing_target(prod_plan: Plan, access_model: AccessModel) -> None:
    plans = {p.name: p for p in secret_plans(access_model, "prod")}
    ages = [a for a in ours(prod_plan, ALARM) if a["properties"]["namespace"] == "OpsHub/Secrets"]
    alarms = {a["properties"]["dimensions"]["SecretName"]: a for a in ages}
    topic = one(ours(prod_plan, TOPIC), "alarm topic")
    subscription = one(ours(prod_plan, SUBSCRIPTION), "subscription")

    assert set(alarms) == set(plans)
    for name, alarm in alarms.items():
        props = alarm["properties"]
        limit = plans[name].rotation_days + (2 if plans[name].rotation == "lambda" else 0)
        assert props["threshold"] <= limit, f"{name}: alarm at {props['threshold']} days is later than its schedule"
        assert props["treatMissingData"] == "breaching", f"{name}: a silent reminder must alarm too"
        assert linked(prod_plan, alarm, "alarmActions") == [topic], name
    assert linked(prod_plan, subscription, "topic") == [topic]
    assert subscription["properties"]["protocol"] == "email"
    assert subscription["properties"]["endpoint"] == "ops-hub-tickets@clarivum.com"
    assert topic["properties"]["kmsMasterKeyId"], "the alarm topic is encrypted"


def test_reminder_lambda_runs_on_a_schedule_and_covers_every_secret(prod_plan: Plan) -> None:
    schedule = one(ours(prod_plan, SCHEDULE), "schedule")
    function = one([r for r in linked(prod_plan, schedule, "target") if r["type"] == FUNCTION], "scheduled function")

    assert function["properties"]["handler"] == "secret_age.lambda_handler"
    listed = json.loads(function["properties"]["environment"]["variables"]["SECRET_ARNS"])
    assert len(listed) == len(prod_plan.of_type(SECRET))
    covered = {r["properties"]["name"] for r in linked(prod_plan, function, "environment") if r["type"] == SECRET}
    assert covered == set(secrets_by_name(prod_plan))


def test_initial_database_values_are_secret_and_then_owned_by_rotation(prod_plan: Plan) -> None:
    """Seeded once, then owned elsewhere; values Pulumi keeps current are in test_secrets_provided.py."""
    versions = [v for v in prod_plan.of_type(SECRET_VERSION) if v["options"]["ignoreChanges"]]
    names = {one(linked(prod_plan, v, "secretId"), "secret")["properties"]["name"] for v in versions}

    assert names == {
        "ops-hub/prod/supabase/master", "ops-hub/prod/supabase/ops-hub-writer", "ops-hub/prod/supabase/ops-audit-exporter",
        "ops-hub/prod/supabase/ops-audit-checkpointer",
        "ops-hub/prod/supabase/ops-metrics-writer",
        "ops-hub/prod/supabase/rotator",
    }, "only database secrets are seeded for their rotation (or people) to own"
    for version in versions:
        assert "secretString" in version["secretProperties"], f"{version['name']}: secret_string must be a Pulumi secret"
        assert version["options"]["ignoreChanges"] == ["secretString"], "rotation owns the value after creation"
        value = json.loads(version["properties"]["secretString"])
        assert set(value) >= {"engine", "host", "port", "username", "password", "dbname"}
        assert value["engine"] == "postgres"


def test_a_secret_added_to_the_runtime_is_read_by_its_role(plan_model, access_model_data: dict) -> None:
    data = json.loads(json.dumps(access_model_data))
    data["secrets"].append({"vendor": "stripe", "purpose": "webhook-secret", "rotation": "reminder", "rotation_days": 60,
                            "vendor_scopes": {"key_type": "webhook-signing-secret"}})
    runtime = next(i for i in data["identities"] if i["name"] == "ops-hub-runtime")
    runtime["reads_secrets"].append("stripe/webhook-secret")
    for route in data["routes"]:
        if route["integration"] == "stripe":
            route["secret"] = "stripe/secret-key"  # the runtime now reads two Stripe secrets

    plan = plan_model(data)

    role = one([r for r in plan.of_type(ROLE) if r["properties"]["name"] == "ops-hub-runtime-prod"], "runtime role")
    holder = one([p for p in policies_of(plan, role) if p in ours(plan, ROLE_POLICY)], "VendorSecrets policy")
    reached = {r["properties"]["name"] for r in linked(plan, holder, "policy") if r["type"] == SECRET}
    assert "ops-hub/prod/stripe/webhook-secret" in reached
    alarm = one([a for a in ours(plan, ALARM) if a["properties"]["dimensions"].get("SecretName", "").endswith("webhook-secret")], "alarm")
    assert alarm["properties"]["threshold"] == 60 - 14


def test_a_failing_rotation_lambda_tickets_through_the_alarm_topic(prod_plan: Plan) -> None:
    topic = one(ours(prod_plan, TOPIC), "alarm topic")
    functions = [f for r in prod_plan.of_type(ROTATION) for f in linked(prod_plan, r, "rotationLambdaArn")]
    errors = [a for a in ours(prod_plan, ALARM) if a["properties"]["namespace"] == "AWS/Lambda"]

    watched = [one(linked(prod_plan, a, "dimensions"), "function") for a in errors]
    assert sorted(f["urn"] for f in watched) == sorted(f["urn"] for f in functions), "one error alarm per rotation Lambda"
    for alarm in errors:
        assert alarm["properties"]["metricName"] == "Errors" and alarm["properties"]["threshold"] == 1
        assert linked(prod_plan, alarm, "alarmActions") == [topic]

