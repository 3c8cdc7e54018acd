"""The access-model facts the rules read as data.opshub.model (generated policies/model.rego)."""

from __future__ import annotations

import copy
import json

from infra.config import StackConfig
from infra.derive.policy import DATABASE_ROTATION_LIMIT_DAYS, VENDOR_ROTATION_LIMIT_DAYS, policy_model_data
from infra.model.access import parse_model
from infra.model.observability import load_catalogue
from infra.policy.engines import Engine


def test_roles_carry_read_only_and_privileged_from_the_model(access_model_data: dict, prod_config: StackConfig) -> None:
    data = copy.deepcopy(access_model_data)
    data["roles"].append(
        {"name": "ops-intern", "description": "Reads content", "read_only": True, "permissions": ["content:read"], "mfa": ["otp"]}
    )
    roles = policy_model_data(parse_model(data), prod_config, load_catalogue())["roles"]
    assert roles["ops-intern"] == {
        "permissions": ["content:read"], "read_only": True, "privileged": False, "phishing_resistant_only": False, "mfa": ["otp"],
    }
    assert roles["ops-payments"]["privileged"] is True, "payments:refund is privileged"
    assert roles["ops-editorial"]["read_only"] is False


def test_rotation_limit_is_30_days_for_lambda_rotated_logins_else_90(access_model_data: dict, prod_config: StackConfig) -> None:
    secrets = policy_model_data(parse_model(access_model_data), prod_config, load_catalogue())["secrets"]
    database = {key for key, s in secrets.items() if s["rotation"] == "lambda"}
    assert database == {"supabase/ops-hub-writer", "supabase/ops-audit-exporter", "supabase/ops-metrics-writer", "supabase/ops-audit-checkpointer"}
    assert {secrets[k]["max_rotation_days"] for k in database} == {DATABASE_ROTATION_LIMIT_DAYS}
    assert {s["max_rotation_days"] for k, s in secrets.items() if k not in database} == {VENDOR_ROTATION_LIMIT_DAYS}


def test_archive_writers_and_signers_are_the_jobs_the_model_declares(access_model_data: dict, prod_config: StackConfig) -> None:
    data = policy_model_data(parse_model(access_model_data), prod_config, load_catalogue())
    assert data["archive_writers"] == {
        "access-review-job": "access-reviews", "audit-export-job": "audit-exports", "audit-checkpoint-job": "audit-checkpoints",
    }
    assert data["checkpoint_signers"] == ["audit-checkpoint-job"]

    without = copy.deepcopy(access_model_data)
    without["identities"] = [i for i in without["identities"] if i["name"] != "audit-checkpoint-job"]
    data = policy_model_data(parse_model(without), prod_config, load_catalogue())
    assert data["checkpoint_signers"] == [] and "audit-checkpoint-job" not in data["archive_writers"]


def test_both_engines_read_the_generated_model_as_derived(access_model, prod_config: StackConfig, engines: dict[str, Engine]) -> None:
    expected = policy_model_data(access_model, prod_config, load_catalogue())
    for name, engine in engines.items():
        (value,) = engine.query(["model"], {}).values()
        assert value == _sorted_lists(expected), f"{name}: policies/model.rego is stale or misread; run `opshub docs`"


def _sorted_lists(value):
    """The engines return arrays as sorted lists (see infra.policy.engines._canonical)."""
    if isinstance(value, list):
        return sorted((_sorted_lists(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    return value
