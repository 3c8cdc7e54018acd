"""Waivers: a reviewed exception for one rule on one resource, with an owner and an expiry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.cli.main import main

SECRET_TYPE = "aws:secretsmanager/secret:Secret"
SECRET_URN = f"urn:pulumi:prod::opshub::{SECRET_TYPE}::sandbox-secret"


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    """One secret whose only fault is a 0-day recovery window (OPS-AWS-007)."""
    provider = {"type": "pulumi:providers:aws", "name": "aws", "urn": "urn:pulumi:prod::opshub::pulumi:providers:aws::aws", "properties": {"allowedAccountIds": '["210987654321"]', "defaultTags": '{"tags": {"owner": "platform-team", "environment": "prod"}}'}}
    secret = {
        "type": SECRET_TYPE,
        "urn": SECRET_URN,
        "name": "sandbox-secret",
        "properties": {
            "name": "ops-hub/prod/stripe/secret-key",
            "kmsKeyId": "arn:aws:kms:eu-central-1:210987654321:key/k",
            "recoveryWindowInDays": 0,
            "policy": json.dumps({"Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "210987654321"}}},
                {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
            ]}),
        },
        "provider": provider,
    }
    topic_urn = "urn:pulumi:prod::opshub::aws:sns/topic:Topic::alarms"
    topic = {"type": "aws:sns/topic:Topic", "urn": topic_urn, "name": "alarms", "properties": {"name": "alarms", "kmsMasterKeyId": "k"}, "provider": provider}
    route = {"type": "aws:sns/topicSubscription:TopicSubscription", "urn": "urn:pulumi:prod::opshub::aws:sns/topicSubscription:TopicSubscription::route", "name": "route",
             "properties": {"topic": "alarms-arn", "protocol": "email", "endpoint": "tickets@example.com"}, "propertyDependencies": {"topic": [topic_urn]}, "provider": provider}
    alarm = {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "urn": "urn:pulumi:prod::opshub::aws:cloudwatch/metricAlarm:MetricAlarm::age",
             "properties": {"dimensions": {"SecretName": "ops-hub/prod/stripe/secret-key"}, "alarmActions": ["alarms-arn"]},
             "propertyDependencies": {"alarmActions": [topic_urn]}, "provider": provider}
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"resources": [secret, topic, route, alarm]}))
    return path


def write_waivers(tmp_path: Path, *waivers: dict) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": list(waivers)}))
    return path


def waiver(**overrides: object) -> dict:
    return {
        "rule": "OPS-AWS-007",
        "resource": {"type": SECRET_TYPE, "name": "sandbox-secret"},
        "owner": "platform-team",
        "reason": "Sandbox secret recreated nightly; a recovery window blocks the re-create.",
        "expires": "2999-12-31",
    } | overrides


def run(stack_file: Path, waivers: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main(["policy", "check", "--input", str(stack_file), "--waivers", str(waivers), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_without_a_waiver_the_finding_blocks(stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(stack_file, write_waivers(tmp_path), capsys)
    assert code == 1
    assert [(f["ruleId"], f["waived"]) for f in report["findings"]] == [("OPS-AWS-007", False)]


@pytest.mark.parametrize("resource", [{"type": SECRET_TYPE, "name": "sandbox-secret"}, {"urn": SECRET_URN}], ids=["type-and-name", "urn"])
def test_a_waived_finding_is_reported_as_waived_and_passes(resource: dict, stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(stack_file, write_waivers(tmp_path, waiver(resource=resource)), capsys)
    assert code == 0, report
    (finding,) = report["findings"]
    assert finding["waived"] and finding["waiver"]["owner"] == "platform-team"


def test_a_waiver_for_another_resource_waives_nothing(stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(stack_file, write_waivers(tmp_path, waiver(resource={"type": SECRET_TYPE, "name": "other"})), capsys)
    assert code == 1 and not report["findings"][0]["waived"]


def test_an_expired_waiver_fails_even_when_it_would_match(stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(stack_file, write_waivers(tmp_path, waiver(expires="2020-01-31")), capsys)
    assert code == 1
    assert not report["findings"][0]["waived"], "an expired waiver waives nothing"
    assert [w["ruleId"] for w in report["expiredWaivers"]] == ["OPS-AWS-007"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (waiver(rule="OPS-NOPE-999"), "unknown rule OPS-NOPE-999"),
        (waiver(owner=""), "owner"),
        (waiver(expires="someday"), "expires"),
        (waiver(resource={"name": "sandbox-secret"}), "by urn, or by type and name"),
    ],
    ids=["unknown-rule", "no-owner", "bad-date", "half-a-resource"],
)
def test_a_malformed_waiver_exits_2(bad: dict, expected: str, stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_waivers(tmp_path, bad)
    assert main(["policy", "check", "--input", str(stack_file), "--waivers", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err, err


def test_the_committed_waivers_file_is_valid() -> None:
    from infra.policy.pack import load_pack
    from infra.policy.waivers import load_waivers

    assert load_waivers(known_rules=frozenset(load_pack().rule_by_id)) == ()


def test_a_named_waivers_file_that_does_not_exist_exits_2(stack_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["policy", "check", "--input", str(stack_file), "--waivers", str(missing)]) == 2
    assert f"{missing}: 1 problem" in capsys.readouterr().err
