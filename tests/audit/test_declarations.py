"""What OpsAudit declares: the pure derivation, and the resources in the offline plan of prod."""

from __future__ import annotations

import re

import pytest

from infra.config import REPO_ROOT, load_stack_config, stack_file
from infra.derive.audit import LOGIN_GROUPS, OWNER_ROLE, SCHEMA, admin_dsn, derive_audit
from infra.migrations.files import MIGRATIONS_DIR, file_digests
from infra.errors import ModelError
from infra.model.access import parse_model

MIGRATIONS_TYPE = "pulumi-python:dynamic/opshub:OpsAuditMigrations"
ROLE_TYPE = "postgresql:index/role:Role"
POWERS = ("superuser", "createRole", "createDatabase", "replication", "bypassRowLevelSecurity")


# -- derivation (plain data) -------------------------------------------------

def test_each_database_user_of_the_model_is_a_login_in_its_group(audit_decl, access_model):
    expected = {s.database_user: (LOGIN_GROUPS[s.database_group],) for s in access_model.secrets if s.database_group in LOGIN_GROUPS}
    assert {u.name: u.member_of for u in audit_decl.logins} == expected
    assert expected == {
        "ops_hub_writer": ("ops_audit_writer",),
        "ops_audit_exporter": ("ops_audit_reader",),
        "ops_audit_checkpointer": ("ops_audit_checkpoint",),
        "ops_hub_rotator": ("ops_audit_rotator",),
    }
    assert all(u.login and u.connection_limit > 0 for u in audit_decl.logins)
    assert not any(r.login for r in (audit_decl.owner, *audit_decl.groups)), "owner and groups are NOLOGIN"


def test_read_all_roles_are_those_holding_audit_read(audit_decl):
    assert audit_decl.settings.read_all_roles == ("ops-admin", "ops-auditor")
    assert audit_decl.settings.roles_claim == "https://ops.clarivum.com/roles"


def test_a_new_role_with_audit_read_reads_everything(access_model_data, stack_config):
    data = {**access_model_data, "roles": [*access_model_data["roles"], {
        "name": "ops-compliance", "description": "Compliance", "read_only": True,
        "permissions": ["audit:read"], "mfa": ["webauthn-roaming"]}]}
    decl = derive_audit(parse_model(data, "test model"), stack_config)
    assert "ops-compliance" in decl.settings.read_all_roles
    assert "ops-compliance" in decl.settings.ops_roles


def test_claims_namespace_comes_from_the_config(access_model, stack_config):
    other = stack_config.model_copy(update={"claims_namespace": "https://ops.example.org"})
    assert derive_audit(access_model, other).settings.roles_claim == "https://ops.example.org/roles"


def test_migrations_name_the_same_roles_as_the_derivation():
    sql = "\n".join(p.read_text() for p in MIGRATIONS_DIR.glob("*.sql"))
    named = set(re.findall(r"\bops_audit_[a-z]+\b", sql)) - {"ops_audit_owner"}
    assert named <= set(LOGIN_GROUPS.values()) | {OWNER_ROLE}, f"unknown roles in migrations: {named}"
    assert set(LOGIN_GROUPS.values()) <= named, "every group role must be granted something by the migrations"


def test_migrations_never_create_or_alter_supabase_objects():
    sql = "\n".join(p.read_text() for p in MIGRATIONS_DIR.glob("*.sql")).lower()
    forbidden = re.findall(r"(create|alter|drop)\s+(role|user|function|schema)\s+(if \S+ \S+ )?\"?(anon|authenticated|service_role|authenticator|auth\.)", sql)
    assert forbidden == []
    # Roles and the ops_audit schema are Pulumi's. The one schema a migration creates is the admin's
    # ops_rotation (0020_rotator), and the only roles are rotated logins' clones, made by its function.
    assert re.findall(r"create schema[^;]*", sql) == ["create schema if not exists ops_rotation"]
    assert re.findall(r"(?<!')create role", sql) == [], "no migration creates a role outright"


def test_admin_dsn_quotes_the_password_and_requires_tls():
    dsn = admin_dsn("db.example.supabase.co", 5432, "postgres", "postgres", "p@ss/w:rd?")
    assert dsn == "postgresql://postgres:p%40ss%2Fw%3Ard%3F@db.example.supabase.co:5432/postgres?sslmode=require"


# -- the offline plan of prod -------------------------------------------------

def test_plan_shows_the_postgres_resources_and_the_migration_resource(prod_plan):
    types = {r["type"] for r in prod_plan.resources if r["urn"].count("opshub:audit:OpsAudit")}
    assert {ROLE_TYPE, "postgresql:index/schema:Schema", "postgresql:index/grant:Grant",
            "postgresql:index/grantRole:GrantRole", "postgresql:index/defaultPrivileges:DefaultPrivileges",
            MIGRATIONS_TYPE} <= types


def test_every_postgres_resource_uses_the_supabase_provider(prod_plan):
    (provider,) = prod_plan.of_type("pulumi:providers:postgresql")
    ours = [r for r in prod_plan.resources if r["type"].startswith("postgresql:")]
    wrong = [r["name"] for r in ours if r["provider"].get("urn") != provider["urn"]]
    assert len(ours) >= 10 and wrong == [], f"not on the Supabase provider: {wrong}"


def test_no_declared_role_has_powers(prod_plan):
    roles = prod_plan.of_type(ROLE_TYPE)
    names = sorted(r["properties"]["name"] for r in roles if r["urn"].count("OpsAudit"))
    assert names == sorted([OWNER_ROLE, *LOGIN_GROUPS.values(), "ops_audit_checkpointer", "ops_audit_exporter", "ops_hub_writer", "ops_hub_rotator"])
    for role in roles:
        assert all(role["properties"].get(p) is False for p in POWERS), f"{role['name']}: {role['properties']}"


def test_login_passwords_are_secret_and_owned_by_rotation_after_creation(prod_plan, access_model):
    """The rotated logins' by their rotation, the rotator's by people (docs/runbook.md)."""
    logins = [r for r in prod_plan.of_type(ROLE_TYPE) if r["properties"].get("login")]
    assert len(logins) == sum(1 for s in access_model.secrets if s.database_user), "one per database secret"
    for login in logins:
        assert "password" in login["secretProperties"], login["name"]
        assert login["options"]["ignoreChanges"] == ["password"], login["name"]
        assert "initial-password" in login["properties"]["password"], "the secret's RandomPassword, not another one"


def test_schema_is_owned_by_the_owner_role(prod_plan):
    (schema,) = [s for s in prod_plan.of_type("postgresql:index/schema:Schema") if s["properties"]["name"] == SCHEMA]
    assert schema["properties"]["owner"] == OWNER_ROLE


def test_migration_resource_has_a_secret_dsn_and_runs_after_the_declarations(prod_plan):
    (migrations,) = prod_plan.of_type(MIGRATIONS_TYPE)
    assert "dsn" in migrations["secretProperties"]
    assert migrations["properties"]["dsn"].endswith("sslmode=require")
    assert migrations["properties"]["digests"] == file_digests()
    depends = " ".join(migrations["dependencies"])
    assert "EngineeringMetrics$postgresql:index/schema:Schema" in depends, "0017-0019 need the ops_metrics schema and roles"
    assert "Schema::ops-audit-schema" in depends and "DefaultPrivileges" in depends and "Role::ops-audit-login" in depends


@pytest.fixture
def stack_config():
    return load_stack_config(stack_file("prod", REPO_ROOT))


def test_model_refuses_a_database_user_without_its_group(access_model_data):
    secrets = [dict(s) for s in access_model_data["secrets"]]
    writer = next(s for s in secrets if s.get("database_user") == "ops_hub_writer")
    del writer["database_group"]

    with pytest.raises(ModelError, match=r"secret 'supabase/ops-hub-writer': database_user and database_group"):
        parse_model({**access_model_data, "secrets": secrets}, "test model")


def test_model_refuses_an_unknown_database_group(access_model_data):
    secrets = [dict(s) for s in access_model_data["secrets"]]
    next(s for s in secrets if s.get("database_user"))["database_group"] = "admin"

    with pytest.raises(ModelError, match="database_group"):
        parse_model({**access_model_data, "secrets": secrets}, "test model")
