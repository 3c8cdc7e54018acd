"""Stack config validation: every kind of bad setting exits 2 with one message naming each key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from infra.cli.main import main
from infra.config import SECRET_KEYS, KNOWN_KEYS, load_stack_config, parse_stack_config, stack_file
from infra.errors import ConfigError


@dataclass(frozen=True)
class BadSetting:
    test_id: str
    key: str
    value: object  # None removes the key
    expect: str  # must appear in the problem naming `key`


BAD_SETTINGS = [
    BadSetting("missing-required", "opshub:auth0Domain", None, "required setting is missing"),
    BadSetting("port-not-a-number", "opshub:supabasePort", "fivefourthreetwo", "valid integer"),
    BadSetting("port-out-of-range", "opshub:supabasePort", 70000, "less than or equal to 65535"),
    BadSetting("token-lifetime-too-long", "opshub:tokenLifetimeSeconds", 7200, "less than or equal to 3600"),
    BadSetting("token-lifetime-a-list", "opshub:tokenLifetimeSeconds", [3600], "valid integer"),
    BadSetting("unknown-environment", "opshub:environment", "production", "'dev', 'staging' or 'prod'"),
    BadSetting("account-id-too-short", "opshub:awsAccountId", "12345", "expected the form"),
    BadSetting("account-id-unquoted", "opshub:awsAccountId", 210987654321, 'YAML reads as a number: quote it, e.g. opshub:awsAccountId: "210987654321"'),
    BadSetting("region-malformed", "aws:region", "Frankfurt", "expected the form"),
    BadSetting("api-identifier-not-https", "opshub:apiIdentifier", "http://ops.clarivum.com/api", "https:// URL"),
    BadSetting("namespace-not-url", "opshub:claimsNamespace", "clarivum", "https:// URL"),
    BadSetting("grafana-url-empty", "opshub:grafanaUrl", "", "https:// URL"),
    BadSetting("domain-with-scheme", "opshub:auth0Domain", "https://clarivum.eu.auth0.com", "expected the form"),
    BadSetting("folder-blank", "opshub:grafanaFolder", "   ", "expected the form"),
    BadSetting("owner-uppercase", "opshub:owner", "Platform Team", "expected the form"),
    BadSetting("slack-channel-without-hash", "opshub:slackChannel", "ops-hub-alerts", "expected the form"),
    BadSetting("datasource-uid-with-space", "opshub:grafanaPrometheusDatasourceUid", "grafana cloud", "expected the form"),
    BadSetting("typo-key", "opshub:grafanaFoldr", "Ops Hub", "unknown setting (did you mean 'opshub:grafanaFolder'?)"),
    BadSetting("typo-namespace", "opshb:claimsNamespace", "https://ops.example.com", "unknown namespace 'opshb' (did you mean 'opshub:claimsNamespace'?)"),
    BadSetting("foreign-namespace", "stripe:apiKey", "x", "unknown namespace 'stripe'; settings live under opshub:, pulumi:, aws:"),
    BadSetting("no-namespace", "region", "eu-central-1", "a setting needs a namespace, e.g. opshub:region"),
    BadSetting("secret-in-plain", "opshub:grafanaAuth", "glsa_plaintext", "must be set with `pulumi config set --secret"),
    BadSetting("boolean-for-string", "opshub:pagerdutyTeam", True, "found True, which YAML reads as a boolean: quote it"),
    BadSetting("session-idle-over-maximum", "opshub:sessionIdleHours", 72, "expected whole hours from 1 to 12"),
    BadSetting("session-absolute-over-maximum", "opshub:sessionAbsoluteHours", 168, "expected whole hours from 1 to 24"),
    BadSetting("session-absolute-zero", "opshub:sessionAbsoluteHours", 0, "expected whole hours from 1 to 24"),
    BadSetting("http-callback", "opshub:opsCallbackUrls", ["http://ops.clarivum.com/ops/callback"], "https:// URL"),
    BadSetting("wildcard-callback", "opshub:opsCallbackUrls", ["https://*.clarivum.com/ops/callback"], "without wildcards"),
    BadSetting("no-callback", "opshub:opsCallbackUrls", [], "at least 1 item"),
    BadSetting("http-logout", "opshub:opsLogoutUrls", ["http://ops.clarivum.com/ops"], "https:// URL"),
    BadSetting("origin-with-path", "opshub:opsWebOrigins", ["https://ops.clarivum.com/ops"], "no path or wildcard"),
    BadSetting("implicit-grant", "opshub:opsGrantTypes", ["authorization_code", "implicit"],
               "grant type 'implicit' is not allowed; allowed: authorization_code, refresh_token"),
    BadSetting("password-grant", "opshub:opsGrantTypes", ["password"], "grant type 'password' is not allowed"),
    BadSetting("tenant-ownership-unsaid", "opshub:auth0TenantOwned", None, "required setting is missing"),
    BadSetting("tenant-ownership-not-boolean", "opshub:auth0TenantOwned", "perhaps", "valid boolean"),
    BadSetting("deploy-role-not-a-role", "opshub:deployRoleArn", "arn:aws:iam::210987654321:user/deployer", "expected the form"),
    BadSetting("deploy-role-other-account", "opshub:deployRoleArn", "arn:aws:iam::123456789012:role/deploy",
               "must be a role in opshub:awsAccountId 210987654321"),
    BadSetting("refresh-only", "opshub:opsGrantTypes", ["refresh_token"], "must include authorization_code"),
    BadSetting("checkpoints-too-often", "opshub:auditCheckpointMinutes", 4, "greater than or equal to 5"),
    BadSetting("checkpoints-too-rare", "opshub:auditCheckpointMinutes", 721, "less than or equal to 720"),
]


def write_stack(root: Path, settings: dict) -> Path:
    path = stack_file("prod", root)
    path.write_text(yaml.safe_dump({"config": settings}))
    return path


def committed_settings(root: Path) -> dict:
    return yaml.safe_load(stack_file("prod", root).read_text())["config"]


@pytest.mark.parametrize("case", BAD_SETTINGS, ids=[c.test_id for c in BAD_SETTINGS])
def test_bad_setting_names_the_key(case: BadSetting, stack_root: Path) -> None:
    settings = committed_settings(stack_root)
    if case.value is None:
        del settings[case.key]
    else:
        settings[case.key] = case.value
    path = write_stack(stack_root, settings)

    with pytest.raises(ConfigError) as raised:
        load_stack_config(path)

    problems = [p for p in raised.value.problems if p.startswith(f"{case.key}:")]
    assert problems, f"no problem names {case.key}: {raised.value.problems}"
    assert case.expect in problems[0], problems[0]


def test_an_idle_session_longer_than_the_absolute_one_is_refused(stack_root: Path) -> None:
    settings = committed_settings(stack_root)
    settings["opshub:sessionAbsoluteHours"] = 4
    path = write_stack(stack_root, settings)

    with pytest.raises(ConfigError) as raised:
        load_stack_config(path)

    assert raised.value.problems == ["opshub:sessionIdleHours: must not exceed opshub:sessionAbsoluteHours (4); found 8"]


def test_engine_passes_lists_as_json_text() -> None:
    """`pulumi up` hands a structured setting to the program as its JSON text (pulumi.runtime.get_config)."""
    raw = dict(yaml.safe_load(stack_file("prod").read_text())["config"])
    raw["opshub:opsCallbackUrls"] = '["https://ops.clarivum.com/ops/callback"]'
    raw["opshub:auth0TenantOwned"] = "false"
    raw["opshub:sessionIdleHours"] = "4"
    config = parse_stack_config(raw, "engine")
    assert config.ops_callback_urls == ["https://ops.clarivum.com/ops/callback"]
    assert config.auth0_tenant_owned is False and config.session_idle_hours == 4


def test_every_problem_is_listed_at_once(stack_root: Path) -> None:
    settings = committed_settings(stack_root)
    del settings["opshub:supabaseHost"]
    settings["opshub:supabasePort"] = "x"
    settings["opshub:environment"] = "qa"
    path = write_stack(stack_root, settings)

    with pytest.raises(ConfigError) as raised:
        load_stack_config(path)

    named = {p.split(":", 2)[0] + ":" + p.split(":", 2)[1] for p in raised.value.problems}
    assert named == {"opshub:supabaseHost", "opshub:supabasePort", "opshub:environment"}


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("config: [unclosed", "not valid YAML"),
        ("config:\n  opshub:owner: a\n  opshub:owner: b\n", "duplicate key 'opshub:owner'"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("project: opshub\n", "must have a `config:` mapping"),
        ("", "the file is empty: expected a mapping of keys"),
        ("# only a comment\n", "the file is empty"),
    ],
    ids=["yaml-syntax", "duplicate-key", "not-a-mapping", "no-config-section", "empty", "comment-only"],
)
def test_malformed_stack_file(text: str, expect: str, stack_root: Path) -> None:
    path = stack_file("prod", stack_root)
    path.write_text(text)

    with pytest.raises(ConfigError) as raised:
        load_stack_config(path)

    assert expect in raised.value.render()
    assert str(path) in raised.value.render(), "the message names the file"


def test_cli_exits_2_naming_a_removed_key(stack_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    settings = committed_settings(stack_root)
    del settings["opshub:apiIdentifier"]
    write_stack(stack_root, settings)

    code = main(["plan", "--stack", "prod", "--cwd", str(stack_root), "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 2
    assert "opshub:apiIdentifier: required setting is missing" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "resources.json").exists(), "a failed plan writes nothing"


def test_cli_exits_2_for_a_wrong_type(stack_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    settings = committed_settings(stack_root)
    settings["opshub:supabasePort"] = "not-a-port"
    write_stack(stack_root, settings)

    code = main(["plan", "--stack", "prod", "--cwd", str(stack_root), "--out", str(tmp_path / "out")])

    assert code == 2
    assert "opshub:supabasePort" in capsys.readouterr().err


def test_cli_exits_2_for_an_unknown_stack_listing_the_stacks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["plan", "--stack", "nosuch", "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.nosuch.yaml: 1 problem" in err
    assert "no stack 'nosuch': stacks here: prod" in err, err


def test_a_misspelt_stack_gets_a_suggestion(stack_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["plan", "--stack", "prd", "--cwd", str(stack_root), "--out", str(tmp_path / "out")])

    assert code == 2
    assert "no stack 'prd' (did you mean 'prod'?): stacks here: prod" in capsys.readouterr().err


def test_provider_namespaces_are_the_plans_provider_packages(prod_plan) -> None:
    """A namespace is allowed because the program configures that provider, not by habit."""
    from infra.config import PROVIDER_NAMESPACES
    from infra.offline.plan import package_of

    packages = {package_of(r["type"]) for r in prod_plan.resources if r["type"].startswith("pulumi:providers:")}
    # The dynamic migrations resource's default provider reads no stack settings.
    assert set(PROVIDER_NAMESPACES) == packages - {"pulumi-python"}


def test_committed_stack_has_no_secrets_and_covers_every_setting() -> None:
    settings = committed_settings(stack_file("prod").parent)
    assert not set(settings) & set(SECRET_KEYS), "secrets are never committed"
    optional = {"opshub:claimsNamespace"}
    assert set(settings) | optional | set(SECRET_KEYS) >= KNOWN_KEYS - optional


def test_readme_lists_a_set_secret_command_for_each_secret() -> None:
    readme = (stack_file("prod").parent / "README.md").read_text()
    for key in SECRET_KEYS:
        assert f"pulumi config set --secret {key}" in readme, key
