"""What the plan declares is read from its resources, linked by propertyDependencies (hand-made plans)."""

import json

from infra.report.declared import (
    AUTH0_ROLE,
    AUTH0_ROLE_PERMISSIONS,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    PG_GRANT,
    PG_ROLE,
    SECRET,
    SECRET_ROTATION,
    read_declared,
)
from tests.report.conftest import resource

ACCOUNT_ARN = "arn:aws:secretsmanager:eu-central-1:210987654321"


def _role_with_permissions(role: str, permissions: list[str]) -> list[dict]:
    r = resource(AUTH0_ROLE, f"auth-{role}", {"name": role})
    grants = resource(
        AUTH0_ROLE_PERMISSIONS,
        f"auth-{role}-permissions",
        {"roleId": f"auth-{role}-id", "permissions": [{"name": p, "resourceServerIdentifier": "api"} for p in permissions]},
        {"roleId": [r["urn"]]},
    )
    return [r, grants]


def _secret(key: str) -> dict:
    return resource(SECRET, f"secret-{key.replace('/', '-')}", {"name": f"ops-hub/prod/{key}", "kmsKeyId": "key-arn"})


def _reader(role_name: str, statements: list[dict]) -> list[dict]:
    role = resource(IAM_ROLE, f"role-{role_name}", {"name": role_name})
    policy = resource(
        IAM_ROLE_POLICY, f"role-{role_name}-reads",
        {"role": f"{role_name}-id", "policy": json.dumps({"Version": "2012-10-17", "Statement": statements})},
        {"role": [role["urn"]]},
    )
    return [role, policy]


def test_role_permissions_follow_the_role_id_link_not_the_resource_name() -> None:
    resources = _role_with_permissions("ops-viewer", ["content:read", "payments:read"])
    resources[1]["name"] = "unrelated-name"

    declared = read_declared(resources)

    assert declared.auth0_roles == {"ops-viewer": ("content:read", "payments:read")}


def test_a_plan_without_auth0_roles_says_so_instead_of_declaring_none() -> None:
    assert read_declared([_secret("stripe/secret-key")]).auth0_roles is None
    role_only = _role_with_permissions("ops-viewer", [])[:1]
    assert read_declared(role_only).auth0_roles == {"ops-viewer": ()}, "a role without RolePermissions holds nothing"


def test_iam_reads_match_secret_arn_patterns_and_only_allow_get_secret_value() -> None:
    stripe, payu, slack = _secret("stripe/secret-key"), _secret("payu/client-secret"), _secret("slack/webhook-url")
    resources = [stripe, payu, slack]
    resources += _reader("runtime", [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": f"{ACCOUNT_ARN}:secret:ops-hub/prod/stripe/secret-key-*"},
        {"Effect": "Allow", "Action": ["secretsmanager:DescribeSecret"], "Resource": f"{ACCOUNT_ARN}:secret:ops-hub/prod/slack/*"},
        {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
    ])
    resources += _reader("wide", [{"Effect": "Allow", "Action": "secretsmanager:Get*", "Resource": "*"}])
    resources += _reader("own-arn", [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [f"{ACCOUNT_ARN}:{payu['name']}"]}])

    reads = read_declared(resources).iam_reads

    assert reads["runtime"] == ("stripe/secret-key",), "DescribeSecret or a Deny must not count as a read"
    assert reads["wide"] == ("payu/client-secret", "slack/webhook-url", "stripe/secret-key"), "a wildcard reads every secret"
    assert reads["own-arn"] == ("payu/client-secret",), "the secret's own ARN output names it"


def test_rotation_is_linked_to_its_secret() -> None:
    writer, stripe = _secret("supabase/ops-hub-writer"), _secret("stripe/secret-key")
    rotation = resource(
        SECRET_ROTATION, "rotation",
        {"secretId": "x", "rotationLambdaArn": "fn", "rotationRules": {"automaticallyAfterDays": 30.0}},
        {"secretId": [writer["urn"]]},
    )

    secrets = read_declared([writer, stripe, rotation]).secrets

    assert (secrets["supabase/ops-hub-writer"].rotation_days, secrets["supabase/ops-hub-writer"].rotation_lambda) == (30, True)
    assert secrets["stripe/secret-key"].rotation_days is None, "rotation leaked to a secret it does not rotate"


def test_database_roles_attributes_and_grants_are_read() -> None:
    resources = [
        resource(PG_ROLE, "owner", {"name": "ops_audit_owner", "login": False}),
        resource(PG_ROLE, "writer", {"name": "ops_hub_writer", "login": True, "roles": ["ops_audit_writer"], "bypassRowLevelSecurity": True}),
        resource(PG_GRANT, "g", {"role": "ops_audit_writer", "schema": "ops_audit", "objectType": "table", "objects": ["events"], "privileges": ["SELECT", "INSERT"], "database": "postgres"}),
    ]

    declared = read_declared(resources)

    writer = next(r for r in declared.db_roles if r.name == "ops_hub_writer")
    assert (writer.login, writer.attributes, writer.member_of) == (True, ("bypassrls",), ("ops_audit_writer",))
    assert [g.as_dict() for g in declared.db_grants] == [
        {"role": "ops_audit_writer", "on": "table ops_audit.events", "privileges": ["INSERT", "SELECT"]}
    ]
