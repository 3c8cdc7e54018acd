"""Secret plans derived from the access model, on plain data."""

from __future__ import annotations

import copy

from infra.derive.secrets import (
    alarm_after_days,
    database_secret,
    identity_plans,
    rotation_schedule_table,
    secret_plans,
)
from infra.model.access import AccessModel, SecretSpec, parse_model
from infra.secrets_files import BEGIN, END, splice


def test_names_follow_the_convention_and_readers_come_from_identities(access_model: AccessModel) -> None:
    plans = {p.key: p for p in secret_plans(access_model, "staging")}

    assert plans["stripe/secret-key"].name == "ops-hub/staging/stripe/secret-key"
    assert plans["stripe/secret-key"].readers == ("ops-hub-runtime",)
    assert plans["supabase/ops-audit-exporter"].readers == ("audit-export-job",)
    assert plans["slack/webhook-url"].readers == ()
    assert plans["supabase/ops-hub-writer"].tags == {"rotation": "lambda", "rotation-days": "30", "vendor": "supabase"}


def test_alarms_lead_hand_rotation_and_trail_lambda_rotation() -> None:
    def spec(rotation: str, days: int) -> SecretSpec:
        extra = {"database_user": "u", "master": "v/m"} if rotation == "lambda" else {}
        return SecretSpec(vendor="v", purpose="p", rotation=rotation, rotation_days=days, **extra)

    assert alarm_after_days(spec("reminder", 90)) == 76, "two weeks before a hand rotation is due"
    assert alarm_after_days(spec("reminder", 10)) == 1, "never at or below zero days"
    assert alarm_after_days(spec("lambda", 30)) == 32, "a Lambda rotation two days late is failing"


def test_identity_roles_trust_the_service_the_identity_runs_on(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["identities"].append({"name": "idle-job", "description": "reads nothing"})
    plans = {p.identity: p for p in identity_plans(parse_model(data), "prod")}

    assert plans["ops-hub-runtime"].service_principal == "ecs-tasks.amazonaws.com"
    assert plans["audit-export-job"].service_principal == "lambda.amazonaws.com"
    assert plans["audit-export-job"].role_name == "audit-export-job-prod"
    assert "idle-job" not in plans, "an identity that reads no secret needs no role here"


def test_database_secret_is_the_aws_postgres_shape() -> None:
    user = database_secret("db.example.com", 5432, "postgres", "writer", "pw", "arn:master")
    master = database_secret("db.example.com", 5432, "postgres", "admin", "pw", None)

    assert user == {
        "engine": "postgres", "host": "db.example.com", "port": 5432, "username": "writer",
        "password": "pw", "dbname": "postgres", "masterarn": "arn:master",
    }
    assert "masterarn" not in master


def test_schedule_table_has_a_row_per_secret(access_model: AccessModel) -> None:
    table = rotation_schedule_table(access_model, "prod")

    rows = [line for line in table.splitlines() if line.startswith("| `ops-hub/")]
    assert len(rows) == len(access_model.secrets)
    rotator = next(r for r in rows if "supabase/rotator`" in r)
    assert "rotation of `supabase/ops-hub-writer`" in rotator, "the rotator secret's readers are the rotations using it"
    assert "the deploy role" in rotator, "Pulumi stores the rotator's first password, so it reads it back"
    admin = next(r for r in rows if "supabase/master`" in r)
    assert admin.endswith("| the deploy role |"), "nobody but Pulumi reads the admin login"
    stripe = next(r for r in rows if "stripe/secret-key`" in r)
    assert "deploy role" not in stripe, "people set vendor keys; Pulumi never reads them"


def test_splice_replaces_only_the_generated_block_and_appends_it_when_missing() -> None:
    text = f"# Runbook\n\n## Other\nkept\n\n{BEGIN}\nold\n{END}\n\n## After\nkept too\n"

    spliced = splice(text, f"{BEGIN}\nnew\n{END}")

    assert spliced == text.replace("old", "new")
    assert splice(spliced, f"{BEGIN}\nnew\n{END}") == spliced, "splicing is idempotent"
    appended = splice("# Runbook\n", f"{BEGIN}\nnew\n{END}")
    assert appended == f"# Runbook\n\n## Secret rotation schedule\n\n{BEGIN}\nnew\n{END}\n"
