"""The three stack files `opshub policy check` reads, and the analyzer input it builds from them.

Shapes follow pulumi-policy-opa (2026) cmd/pulumi-analyzer-policy-opa/analyzer.go
(buildOPAInput, buildStackOPAInput), eval.go (extractViolationMessage) and pulumi
sdk/go/common/resource/plugin/analyzer_server.go (convertResourceOptions, SkipInternalKeys).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.policy.engines import analyzer_messages, go_format
from infra.policy.inputs import SECRET_SIG_KEY, analyzer_input, analyzer_options, from_plan, load_resources, stack_input

URN = "urn:pulumi:prod::opshub::opshub:audit:OpsAudit$postgresql:index/role:Role::writer"
PROVIDER_URN = "urn:pulumi:prod::opshub::pulumi:providers:postgresql::pg"
STACK_URN = "urn:pulumi:prod::opshub::pulumi:pulumi:Stack::opshub-prod"
SECRET = {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def preview_document() -> dict:
    """The shape of `pulumi preview --json`: steps with newState; secrets print as "[secret]"."""
    return {
        "config": {},
        "steps": [
            {"op": "same", "urn": STACK_URN, "newState": {"type": "pulumi:pulumi:Stack", "urn": STACK_URN, "custom": False}},
            {"op": "create", "urn": PROVIDER_URN, "newState": {"type": "pulumi:providers:postgresql", "urn": PROVIDER_URN, "custom": True, "inputs": {"host": "db", "password": "[secret]"}}},
            {
                "op": "create",
                "urn": URN,
                "newState": {
                    "type": "postgresql:index/role:Role",
                    "urn": URN,
                    "custom": True,
                    "inputs": {"name": "ops_hub_writer", "login": True, "password": "[secret]"},
                    "provider": f"{PROVIDER_URN}::04da6b54-80e4-46f7-96ec-b56ff0331ba9",
                    "parent": STACK_URN,
                    "dependencies": [PROVIDER_URN],
                    "propertyDependencies": {"password": []},
                },
            },
            {"op": "delete", "urn": URN + "-old", "oldState": {"type": "postgresql:index/role:Role", "urn": URN + "-old"}},
        ],
        "changeSummary": {"create": 2},
    }


def export_document() -> dict:
    """The shape of `pulumi stack export`: deployment.resources with inputs, outputs and secret markers."""
    return {
        "version": 3,
        "deployment": {
            "manifest": {},
            "resources": [
                {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"},
                {"urn": PROVIDER_URN, "custom": True, "type": "pulumi:providers:postgresql", "inputs": {"host": "db", "password": SECRET}, "outputs": {}},
                {
                    "urn": URN,
                    "custom": True,
                    "id": "ops_hub_writer",
                    "type": "postgresql:index/role:Role",
                    "inputs": {"name": "ops_hub_writer", "login": True, "password": SECRET},
                    "outputs": {"name": "ops_hub_writer", "login": True, "password": SECRET, "id": "ops_hub_writer"},
                    "provider": f"{PROVIDER_URN}::abc",
                    "protect": True,
                },
            ],
        },
    }


@pytest.mark.parametrize(("document", "kind"), [(preview_document(), "pulumi-preview"), (export_document(), "pulumi-stack-export")])
def test_engine_documents_become_analyzer_resources(document: dict, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(document))
    stack = load_resources(path)
    assert stack.source_format == kind
    assert [r["type"] for r in stack.resources] == ["pulumi:providers:postgresql", "postgresql:index/role:Role"], "the Stack and deleted resources are skipped"
    role = stack.resources[1]
    assert role["name"] == "writer"
    assert role["properties"]["password"] == {"Element": {"V": "[secret]"}}, "a document's secret content is never read"
    assert load_resources(path, "marker").resources[1]["properties"]["password"] == {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270"}
    assert load_resources(path, "preview").resources[1]["properties"]["password"] == "[secret]"
    assert "v1:abc" not in json.dumps(stack.resources), "the export's ciphertext is dropped"
    assert role["provider"]["urn"] == PROVIDER_URN and role["provider"]["properties"]["host"] == "db"


CONTACT_POINT = {
    "type": "grafana:alerting/contactPoint:ContactPoint",
    "urn": "urn:x::cp",
    "properties": {"slacks": [{"url": "https://hooks", "recipient": "#a"}], "pagerduties": [{"integrationKey": "k", "severity": "critical"}]},
    "secretProperties": ["slacks[0].url", "pagerduties"],
}


@pytest.mark.parametrize(
    ("encoding", "url", "pagerduties"),
    [
        # Go's JSON of *resource.Secret: {"Element": PropertyValue}, PropertyValue = {"V": ...} at every level.
        ("analyzer", {"Element": {"V": "https://hooks"}}, {"Element": {"V": [{"V": {"integrationKey": {"V": "k"}, "severity": {"V": "critical"}}}]}}),
        ("marker", {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270"}, {SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270"}),
        ("preview", "[secret]", "[secret]"),
    ],
)
def test_secret_properties_of_resources_json_take_each_encoding_by_path(encoding: str, url: object, pagerduties: object, tmp_path: Path) -> None:
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"resources": [CONTACT_POINT]}))
    (cp,) = load_resources(path, encoding).resources
    assert cp["properties"]["slacks"][0]["url"] == url
    assert cp["properties"]["slacks"][0]["recipient"] == "#a", "only the secret path is a secret"
    assert cp["properties"]["pagerduties"] == pagerduties


def test_outputs_are_inputs_plus_computed_outputs_with_secrets_kept() -> None:
    """Stack rules see outputs (pulumi pkg/resource/deploy/step_generator.go AnalyzeResources); under
    mocks they are the inputs plus the id and computed values; secret inputs and additional secret
    outputs are secret there too."""
    options = analyzer_options(False, [], False, ["integrationKey"], [], {}, "")
    document = {"resources": [{"type": "pagerduty:index/serviceIntegration:ServiceIntegration", "urn": "urn:x::i", "properties": {"name": "n", "token": "t"}, "secretProperties": ["token"], "computedOutputs": {"id": "i-id", "integrationKey": "ik"}, "options": options}]}
    (integration,) = from_plan(document, "preview")
    assert integration["outputs"] == {"name": "n", "token": "[secret]", "id": "i-id", "integrationKey": "[secret]"}
    assert integration["properties"] == {"name": "n", "token": "[secret]"}
    (stacked,) = stack_input([integration])["resources"]
    assert stacked["__properties"] == integration["outputs"]
    (from_inputs,) = stack_input([integration], "inputs")["resources"]
    assert from_inputs["__properties"] == integration["properties"]


def test_analyzer_input_overlays_properties_and_keeps_collision_safe_fields() -> None:
    document = {"resources": [{"type": "t:m:T", "urn": "urn:a", "name": "n", "properties": {"name": "real-name", "type": "prop-type", "__provider": "pickled"}, "dependencies": ["urn:b"], "propertyDependencies": {"x": ["urn:b"], "y": []}}]}
    (resource,) = from_plan(document)
    single = analyzer_input(resource)
    assert single["name"] == "real-name" and single["type"] == "prop-type", "properties win at the top level"
    assert (single["__name"], single["__type"], single["__urn"]) == ("n", "t:m:T", "urn:a")
    assert "__provider" not in single["__properties"], "the analyzer server skips internal (__) keys"
    assert single["__provider"] == {} and single["provider"] == {}, "no provider: an empty object, never missing"
    assert "dependencies" not in single, "per-resource input has no dependencies"
    (stacked,) = stack_input([resource])["resources"]
    assert stacked["dependencies"] == ["urn:b"] and stacked["propertyDependencies"] == {"x": ["urn:b"]}, "empty entries are dropped"


def test_options_take_the_go_shapes() -> None:
    """nil slices are null, slice.Map makes empty lists, deleteBeforeReplace is a *bool, timeouts are seconds."""
    options = analyzer_options(False, [], False, [], [], {"create": 300.0}, "urn:p")
    assert options == {
        "protect": False,
        "ignoreChanges": None,
        "deleteBeforeReplace": None,
        "additionalSecretOutputs": [],
        "aliasURNs": [],
        "aliases": None,
        "customTimeouts": {"create": 300.0, "update": 0.0, "delete": 0.0},
        "parent": "urn:p",
    }
    assert analyzer_options(True, ["password"], True, [], [], {}, "")["ignoreChanges"] == ["password"]
    assert analyzer_options(True, [], True, [], [], {}, "")["deleteBeforeReplace"] is True


@pytest.mark.parametrize(
    ("value", "messages"),
    [
        (["plain"], ["plain"]),
        ([{"msg": "from an object", "details": 1}], ["from an object"]),
        ([{"code": 7, "ok": False}], ["map[code:7 ok:false]"]),
        ([[1, "a", None]], ["[1 a <nil>]"]),
        (True, []),
        (None, []),
    ],
    ids=["string", "object-msg", "object-printed", "array-printed", "boolean-rule", "undefined"],
)
def test_messages_are_extracted_as_the_analyzer_extracts_them(value: object, messages: list[str]) -> None:
    assert analyzer_messages(value) == messages


def test_go_format_prints_like_fmt_v() -> None:
    assert go_format({"b": [1.0, 2.5], "a": "x"}) == "map[a:x b:[1 2.5]]"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the file"),
        ("{not json", "not valid JSON"),
        ('{"hello": "world"}', "not a stack document"),
        ('{"steps": [{"op": "create", "newState": {"urn": "u"}}]}', "malformed pulumi-preview document"),
    ],
    ids=["missing", "invalid-json", "unknown-shape", "malformed-preview"],
)
def test_bad_input_exits_2_naming_the_file(content: str | None, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    assert main(["policy", "check", "--input", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("secret", ["[secret]", SECRET], ids=["preview-marker", "export-marker"])
def test_a_secret_in_an_engine_document_is_no_plain_credential(secret: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = export_document()
    role = document["deployment"]["resources"][2]
    role["inputs"]["password"] = role["outputs"]["password"] = secret
    role["inputs"]["connectionLimit"] = 10
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    assert main(["policy", "check", "--input", str(path), "--format", "json"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    role["inputs"]["password"] = role["outputs"]["password"] = "hunter2"
    path.write_text(json.dumps(document))
    assert main(["policy", "check", "--input", str(path), "--format", "json"]) == 1
    assert {f["ruleId"] for f in json.loads(capsys.readouterr().out)["findings"]} == {"OPS-XC-001"}
