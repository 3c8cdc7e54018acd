"""The offline plan: the real program under mocks, recorded in the policy analyzer's input shape."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumiverse_grafana as grafana
import pytest

from infra.cli.main import main
from infra.offline.plan import PLACEHOLDER_PREFIX, Plan, ProgramError, run_plan
from infra.offline.recorder import ProviderCallError, UnknownInputError

ANALYZER_KEYS = {"type", "urn", "name", "properties", "options", "provider", "dependencies", "propertyDependencies"}


def test_every_resource_has_the_analyzer_input_shape(prod_plan: Plan) -> None:
    assert prod_plan.resources, "the prod plan declares resources"
    for resource in prod_plan.resources:
        missing = ANALYZER_KEYS - resource.keys()
        assert not missing, f"{resource['urn']} lacks {missing}"
        assert {"protect", "ignoreChanges", "additionalSecretOutputs", "parent"} <= resource["options"].keys()


def test_provider_settings_arrive_as_the_engine_passes_them(prod_plan: Plan) -> None:
    """Provider inputs are camelCase and, as on the wire to a provider plugin, JSON-encoded strings."""
    (postgres,) = prod_plan.of_type("pulumi:providers:postgresql")
    assert postgres["properties"]["sslmode"] == "require"
    assert postgres["properties"]["superuser"] == "false", "Supabase gives no superuser"
    (aws_provider,) = prod_plan.of_type("pulumi:providers:aws")
    assert json.loads(aws_provider["properties"]["allowedAccountIds"]) == ["210987654321"]
    assert json.loads(aws_provider["properties"]["defaultTags"])["tags"]["owner"] == "platform-team"


def test_every_secret_setting_reaches_its_provider_as_a_secret(prod_plan: Plan) -> None:
    secret_inputs = {
        (r["type"], path): r["properties"][path]
        for r in prod_plan.resources
        for path in r["secretProperties"]
        if path in r["properties"]
    }
    assert secret_inputs[("pulumi:providers:auth0", "clientSecret")] == f"{PLACEHOLDER_PREFIX}opshub:auth0ClientSecret"
    assert ("pulumi:providers:postgresql", "password") in secret_inputs
    assert ("pulumi:providers:grafana", "auth") in secret_inputs
    assert ("pulumi:providers:pagerduty", "token") in secret_inputs
    plain_placeholders = [
        (r["urn"], key)
        for r in prod_plan.resources
        for key, value in r["properties"].items()
        if isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX) and key not in r["secretProperties"]
    ]
    assert plain_placeholders == [], "a secret setting lost its secret marking on the way"


def test_resources_name_their_explicit_provider(prod_plan: Plan) -> None:
    """Dynamic resources are exempt: their provider travels pickled in the `__provider` input."""
    on_default = [
        r["urn"]
        for r in prod_plan.resources
        if r["provider"].get("name", "").startswith("default") and not r["type"].startswith("pulumi-python:dynamic")
    ]
    assert on_default == [], "every resource uses an explicit provider, so its settings are on record"


def test_a_resource_without_a_provider_gets_the_default_one_as_the_engine_assigns_it() -> None:
    """pulumi pkg/resource/deploy/source_eval.go: a custom resource without a provider reference gets
    `pulumi:providers:<package>::default_<version>`, registered with the package's config; a dynamic
    resource, which sends no version, gets `pulumi:providers:pulumi-python::default`."""

    def program() -> None:
        aws.sns.Topic("stray-topic")

    stray = run_plan("prod", program=program)
    provider, topic = stray.resources
    assert (provider["type"], provider["name"]) == ("pulumi:providers:aws", "default_7_51_1")
    assert provider["properties"]["region"] == "eu-central-1" and provider["properties"]["version"] == "7.51.1"
    assert topic["provider"]["urn"] == provider["urn"] == "urn:pulumi:prod::opshub::pulumi:providers:aws::default_7_51_1"


def test_the_migrations_resource_is_on_the_default_dynamic_provider(prod_plan: Plan) -> None:
    (migrations,) = [r for r in prod_plan.resources if r["type"].startswith("pulumi-python:dynamic")]
    assert migrations["provider"] == {
        "type": "pulumi:providers:pulumi-python",
        "name": "default",
        "urn": "urn:pulumi:prod::opshub::pulumi:providers:pulumi-python::default",
        "properties": {},
    }


def test_an_unknown_input_fails_loudly_naming_resource_and_property() -> None:
    def program() -> None:
        role = aws.iam.Role("runtime", assume_role_policy="{}")
        aws.iam.RolePolicy("runtime-policy", role=role.unique_id, policy="{}")

    with pytest.raises(UnknownInputError, match=r"aws:iam/rolePolicy:RolePolicy 'runtime-policy': input 'role' is unknown"):
        run_plan("prod", program=program)


def test_a_provider_lookup_is_refused() -> None:
    def program() -> None:
        aws.get_caller_identity()

    with pytest.raises(ProviderCallError, match="getCallerIdentity"):
        run_plan("prod", program=program)


def test_an_error_logged_by_the_program_fails_the_plan() -> None:
    def program() -> None:
        pulumi.log.error("the model is inconsistent")

    with pytest.raises(ProgramError, match="the model is inconsistent"):
        run_plan("prod", program=program)


def test_runs_do_not_leak_into_each_other(prod_plan: Plan) -> None:
    def extra_program() -> None:
        aws.sns.Topic("stray-topic")

    stray = run_plan("prod", program=extra_program)
    again = run_plan("prod")

    assert [r["name"] for r in stray.resources] == ["default_7_51_1", "stray-topic"], "the topic and its default provider"
    assert [r["urn"] for r in again.resources] == [r["urn"] for r in prod_plan.resources]


def test_an_apply_inside_the_program_runs_and_is_awaited() -> None:
    seen: list[str] = []

    def program() -> None:
        topic = aws.sns.Topic("topic")
        topic.arn.apply(seen.append)

    run_plan("prod", program=program)

    assert seen == ["arn:aws:sns:eu-central-1:210987654321:topic"]


def test_cli_writes_resources_json_into_an_existing_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "plan"
    out.mkdir()

    code = main(["plan", "--stack", "prod", "--out", str(out)])

    document = json.loads((out / "resources.json").read_text())
    printed = capsys.readouterr().out
    assert code == 0
    assert document["stack"] == "prod"
    assert len(document["resources"]) > 0
    assert "offline plan of stack 'prod'" in printed
    assert sorted(p.name for p in out.iterdir()) == ["ops-actions.json", "resources.json"], "no temp files are left behind"
    assert "ops-actions.json" in printed


def test_cli_refuses_a_file_as_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")

    code = main(["plan", "--stack", "prod", "--out", str(target)])

    assert code == 2
    assert "must be a directory" in capsys.readouterr().err
    assert target.read_text() == "keep me"



def test_a_nested_secret_is_recorded_where_the_program_put_it() -> None:
    """The SDK sends the secret marker where Output.secret sits (pulumi/runtime/rpc.py
    serialize_property); only its own deserializer lifts it to the enclosing list
    (deserialize_property), which the engine never does. The plan records the wire."""

    def program() -> None:
        grafana.alerting.ContactPoint(
            "cp",
            name="cp",
            pagerduties=[grafana.alerting.ContactPointPagerdutyArgs(integration_key=pulumi.Output.secret("k-1"), severity="critical")],
        )

    (_, point) = run_plan("prod", program=program).resources
    assert point["secretProperties"] == ["pagerduties[0].integrationKey"]
    assert point["properties"]["pagerduties"] == [{"integrationKey": "k-1", "severity": "critical"}]
