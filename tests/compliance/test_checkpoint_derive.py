"""The checkpoint's plain declarations: what it expects around the trail, what it reports as a deviation,
its schedule, and the platform principals file it reads them from."""

from __future__ import annotations

import copy

import pytest
import yaml

from infra.derive import compliance
from infra.derive.compliance import checkpoint_expected, checkpoint_schedule, compliance_identities, compliance_jobs
from infra.errors import ModelError
from infra.lambdas import audit_checkpoint
from infra.model.access import parse_model
from infra.model.platform import DEFAULT_PLATFORM_PATH, load_platform, parse_platform

EXPECTED = {"owner_members": ["postgres"], "bypassrls_roles": ["postgres", "service_role"], "superusers": ["supabase_admin"]}
TRAIL = {"ops_audit.events": {"enabled": True, "forced": True}, "ops_audit.events_2026_12": {"enabled": True, "forced": True}}


def _state(**changes: object) -> dict:
    return {"chain_seq": 3, "row_hash": "ab" * 32, **copy.deepcopy(EXPECTED), "rls": copy.deepcopy(TRAIL), **changes}


def test_expected_principals_come_from_the_admin_and_the_platform_file() -> None:
    expected = checkpoint_expected("postgres", load_platform())

    assert expected == {
        "owner_members": ["postgres"],
        "bypassrls_roles": ["postgres", "service_role", "supabase_admin", "supabase_read_only_user"],
        "superusers": ["supabase_admin"],
    }


@pytest.mark.parametrize(
    ("state", "found"),
    [
        (_state(), {}),
        (_state(owner_members=["postgres", "x"]), {"owner_members": ["x"]}),
        (_state(owner_members=[]), {}),  # the admin leaving the owner widens nothing
        (_state(bypassrls_roles=["postgres", "service_role", "y"]), {"bypassrls_roles": ["y"]}),
        (_state(superusers=["root", "supabase_admin"]), {"superusers": ["root"]}),
        (_state(rls={**TRAIL, "ops_audit.events": {"enabled": False, "forced": True}}),
         {"rls_off": [{"table": "ops_audit.events", "enabled": False, "forced": True}]}),
    ],
    ids=["as-expected", "owner-member", "admin-left", "bypassrls", "superuser", "rls-off"],
)
def test_deviations_are_what_goes_beyond_the_expected(state: dict, found: dict) -> None:
    deviations = audit_checkpoint.deviations(state, EXPECTED)

    assert {k: v for k, v in deviations.items() if v} == found
    assert audit_checkpoint.deviation_count(deviations) == sum(len(v) for v in found.values())


def test_the_schedule_is_a_rate_in_minutes() -> None:
    assert checkpoint_schedule(60) == "rate(60 minutes)"
    assert checkpoint_schedule(5) == "rate(5 minutes)"


def test_every_job_identity_must_be_in_the_model(access_model_data: dict) -> None:
    data = copy.deepcopy(access_model_data)
    data["identities"] = [i for i in data["identities"] if i["name"] != "audit-checkpoint-job"]

    with pytest.raises(ModelError, match="identity 'audit-checkpoint-job': the compliance jobs run as it"):
        compliance_identities(parse_model(data, "test model"), compliance_jobs(60))


def test_the_lambda_and_the_declarations_agree() -> None:
    """The Lambda cannot import the derivations (no pydantic or PyYAML there): the shared names are checked here."""
    assert audit_checkpoint.PREFIX == compliance.CHECKPOINT_PREFIX
    assert audit_checkpoint.MESSAGE_TYPE == compliance.ANCHOR_MESSAGE_TYPE
    assert (audit_checkpoint.WRITTEN_METRIC, audit_checkpoint.DEVIATIONS_METRIC) == (
        compliance.CHECKPOINTS_WRITTEN_METRIC, compliance.UNEXPECTED_ACCESS_METRIC,
    )


def _platform_data() -> dict:
    return yaml.safe_load(DEFAULT_PLATFORM_PATH.read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["principals"].append(copy.deepcopy(d["principals"][0])), "principal 'supabase_admin': listed more than once"),
        (lambda d: d["principals"][1]["attributes"].append("godmode"), "principals[1] (postgres).attributes"),
        (lambda d: d["source"].update(commit="main"), "source.commit"),
        (lambda d: d["principals"][2].pop("source"), "principals[2] (supabase_read_only_user).source"),
    ],
    ids=["duplicate", "unknown-attribute", "commit-not-a-sha", "no-source"],
)
def test_a_bad_platform_file_names_the_entry(change, message: str) -> None:
    data = _platform_data()
    change(data)

    with pytest.raises(ModelError) as raised:
        parse_platform(data, "platform.yaml")

    assert any(message in p for p in raised.value.problems), raised.value.problems
