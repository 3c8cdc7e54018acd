"""The typed stack configuration: every setting of `Pulumi.<stack>.yaml`, checked at once.

The same `StackConfig` serves `pulumi up` (values read through `pulumi.Config`)
and the offline plan (values read from the stack file). A problem report
names each offending key, the expected form and the value found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from infra.errors import ConfigError, did_you_mean
from infra.yamlio import load_yaml_mapping

PROJECT = "opshub"
REPO_ROOT = Path(__file__).resolve().parent.parent

HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://") or " " in value:
        msg = "expected an https:// URL"
        raise ValueError(msg)
    return value.rstrip("/")


HttpsUrl = Annotated[str, AfterValidator(_https_url)]
Hostname = Annotated[str, Field(pattern=HOSTNAME)]
NonEmpty = Annotated[str, Field(min_length=1, pattern=r"\S")]


class StackConfig(BaseModel):
    """Non-secret settings; field aliases are the full Pulumi config keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    aws_region: str = Field(alias="aws:region", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    environment: Literal["dev", "staging", "prod"] = Field(alias="opshub:environment")
    owner: str = Field(alias="opshub:owner", pattern=r"^[a-z][a-z0-9-]*$")
    aws_account_id: str = Field(alias="opshub:awsAccountId", pattern=r"^\d{12}$")
    auth0_domain: Hostname = Field(alias="opshub:auth0Domain")
    auth0_client_id: NonEmpty = Field(alias="opshub:auth0ClientId")
    api_identifier: HttpsUrl = Field(alias="opshub:apiIdentifier")
    claims_namespace: HttpsUrl = Field(alias="opshub:claimsNamespace", default="https://ops.clarivum.com")
    token_lifetime_seconds: int = Field(alias="opshub:tokenLifetimeSeconds", ge=300, le=3600)
    supabase_host: Hostname = Field(alias="opshub:supabaseHost")
    supabase_port: int = Field(alias="opshub:supabasePort", ge=1, le=65535)
    supabase_database: NonEmpty = Field(alias="opshub:supabaseDatabase")
    supabase_admin_user: NonEmpty = Field(alias="opshub:supabaseAdminUser")
    grafana_url: HttpsUrl = Field(alias="opshub:grafanaUrl")
    grafana_folder: NonEmpty = Field(alias="opshub:grafanaFolder")
    grafana_prometheus_datasource_uid: str = Field(
        alias="opshub:grafanaPrometheusDatasourceUid", pattern=r"^[A-Za-z0-9_-]{1,40}$"
    )
    pagerduty_team: NonEmpty = Field(alias="opshub:pagerdutyTeam")
    slack_channel: str = Field(alias="opshub:slackChannel", pattern=r"^#[a-z0-9_-]{1,80}$")
    secret_alarm_email: str = Field(alias="opshub:secretAlarmEmail", pattern=r"^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,63}$")

    @property
    def roles_claim(self) -> str:
        """The namespaced claim that carries a user's ops roles."""
        return f"{self.claims_namespace}/roles"

    @property
    def tags(self) -> dict[str, str]:
        """Tags every taggable resource carries."""
        return {"owner": self.owner, "environment": self.environment, "project": PROJECT}


# Secret settings: `pulumi config set --secret <key>`. Never committed.
SECRET_KEYS: dict[str, str] = {
    "opshub:auth0ClientSecret": "client secret of the Auth0 M2M app Pulumi deploys with",
    "opshub:supabaseAdminPassword": "password of the Supabase admin user Pulumi connects as",
    "opshub:grafanaAuth": "Grafana service account token Pulumi deploys with",
    "opshub:pagerdutyToken": "PagerDuty REST API token Pulumi deploys with",
    "opshub:slackWebhookUrl": "Slack incoming webhook URL for ticket alerts",
}

KNOWN_KEYS = frozenset(f.alias for f in StackConfig.model_fields.values()) | SECRET_KEYS.keys()

# Namespaces a stack file may use besides `opshub:`: the engine's own and those of the
# providers the program declares (infra/components/providers.py; tests/test_config.py keeps
# this equal to the plan's provider packages). Anything else is a typo Pulumi would ignore.
PROVIDER_NAMESPACES = ("aws", "auth0", "grafana", "pagerduty", "postgresql", "random")
ENGINE_NAMESPACE = "pulumi"


def _expected_forms() -> dict[str, str]:
    forms = {}
    for field in StackConfig.model_fields.values():
        parts = [str(m.pattern) for m in field.metadata if getattr(m, "pattern", None)]
        forms[field.alias] = parts[0] if parts else str(field.annotation).replace("typing.", "")
    return forms


def _found(value: object) -> str:
    if isinstance(value, (bool, int, float)):
        return f"found {value!r}, which YAML reads as a {'boolean' if isinstance(value, bool) else 'number'}: quote it"
    return f"found {value!r}"


def _problems(exc: ValidationError, raw: dict) -> list[str]:
    forms = _expected_forms()
    problems = []
    for err in exc.errors(include_url=False):
        key = str(err["loc"][0]) if err["loc"] else "(top level)"
        if err["type"] == "missing":
            problems.append(f"{key}: required setting is missing")
        elif err["type"] == "extra_forbidden":
            hint = did_you_mean(key, KNOWN_KEYS) or f" (known: {', '.join(sorted(KNOWN_KEYS))})"
            problems.append(f"{key}: unknown setting{hint}")
        elif err["type"] == "string_type" and isinstance(raw.get(key), (bool, int, float)):
            problems.append(f"{key}: must be a string; {_found(raw[key])}, e.g. {key}: \"{raw[key]}\"")
        else:
            expected = err["msg"] if err["type"] != "string_pattern_mismatch" else f"expected the form {forms[key]}"
            problems.append(f"{key}: {expected}; {_found(raw.get(key))}")
    return problems


def _namespace_problems(raw: dict) -> list[str]:
    """Keys Pulumi would pass to nobody: no namespace, or one that is neither ours, the engine's nor a provider's."""
    allowed = (PROJECT, ENGINE_NAMESPACE, *PROVIDER_NAMESPACES)
    problems = []
    for key in raw:
        namespace, _, name = str(key).rpartition(":")
        if not namespace:
            problems.append(f"{key}: a setting needs a namespace, e.g. {PROJECT}:{key}")
        elif namespace not in allowed:
            hint = did_you_mean(f"{namespace}:{name}", KNOWN_KEYS) or did_you_mean(namespace, allowed)
            problems.append(
                f"{key}: unknown namespace {namespace!r}{hint}; settings live under {', '.join(f'{n}:' for n in allowed)}"
            )
    return problems


def parse_stack_config(raw: dict, source: str) -> StackConfig:
    """Validate raw `key: value` settings; provider keys other than aws:region are left to their providers."""
    misplaced = _namespace_problems(raw)
    secrets_in_plain = [
        f"{key}: is a secret and must be set with `pulumi config set --secret {key}`, not committed in plain"
        for key, value in raw.items()
        if key in SECRET_KEYS and not (isinstance(value, dict) and set(value) == {"secure"})
    ]
    ours = {k: v for k, v in raw.items() if (k.startswith(f"{PROJECT}:") or k == "aws:region") and k not in SECRET_KEYS}
    try:
        config = StackConfig.model_validate(ours)
    except ValidationError as exc:
        raise ConfigError(source, misplaced + secrets_in_plain + _problems(exc, ours)) from None
    if misplaced or secrets_in_plain:
        raise ConfigError(source, misplaced + secrets_in_plain)
    return config


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def stacks_in(root: Path) -> list[str]:
    """The stacks that have a settings file in `root`."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _missing_stack(path: Path) -> ConfigError:
    stack = path.name[len("Pulumi.") : -len(".yaml")]
    known = stacks_in(path.parent)
    listed = f"stacks here: {', '.join(known)}" if known else f"no Pulumi.<stack>.yaml in {path.parent}"
    return ConfigError(str(path), [f"no stack {stack!r}{did_you_mean(stack, known)}: {listed}"])


def read_stack_file(path: Path) -> dict:
    """The `config:` mapping of a stack file, with file-level faults as ConfigError."""
    if path.name.startswith("Pulumi.") and not path.exists():
        raise _missing_stack(path)
    data = load_yaml_mapping(path, ConfigError)
    config = data.get("config")
    if not isinstance(config, dict):
        raise ConfigError(str(path), ["config: the file must have a `config:` mapping of settings"])
    return config


def load_stack_config(path: Path) -> StackConfig:
    return parse_stack_config(read_stack_file(path), str(path))


def config_from_pulumi() -> StackConfig:
    """Read the settings the engine passed to this program (the real `pulumi up` path).

    The engine passes every setting as a string; the model's lax parsing turns
    "5432" into 5432 exactly as it does for a number written in the stack file.
    """
    raw = {}
    for key in KNOWN_KEYS - SECRET_KEYS.keys():
        value = pulumi.runtime.get_config(key)
        if value is not None:
            raw[key] = value
    return parse_stack_config(raw, f"stack {pulumi.get_stack()} config")


class StackSecrets:
    """The stack's secret settings as Pulumi secret Outputs, read through pulumi.Config."""

    def __init__(self) -> None:
        self._values = {key: pulumi.Config(key.split(":")[0]).require_secret(key.split(":")[1]) for key in SECRET_KEYS}

    def __getitem__(self, key: str) -> pulumi.Output[str]:
        return self._values[key]
