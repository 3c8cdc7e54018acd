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

from infra.errors import ConfigError
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
    # How often the checkpoint job anchors the ops_audit chain head: a rewrite of
    # anchored rows is caught within this interval. At most 12 hours, so that two
    # missed runs still fit the one-day window of the CloudWatch alarm that notices them.
    audit_checkpoint_minutes: int = Field(alias="opshub:auditCheckpointMinutes", default=60, ge=5, le=720)

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


def _expected_forms() -> dict[str, str]:
    forms = {}
    for field in StackConfig.model_fields.values():
        parts = [str(m.pattern) for m in field.metadata if getattr(m, "pattern", None)]
        forms[field.alias] = parts[0] if parts else str(field.annotation).replace("typing.", "")
    return forms


def _problems(exc: ValidationError, raw: dict) -> list[str]:
    forms = _expected_forms()
    problems = []
    for err in exc.errors(include_url=False):
        key = str(err["loc"][0]) if err["loc"] else "(top level)"
        if err["type"] == "missing":
            problems.append(f"{key}: required setting is missing")
        elif err["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown setting (known: {', '.join(sorted(KNOWN_KEYS))})")
        else:
            expected = err["msg"] if err["type"] != "string_pattern_mismatch" else f"expected the form {forms[key]}"
            problems.append(f"{key}: {expected}; found {raw.get(key)!r}")
    return problems


def parse_stack_config(raw: dict, source: str) -> StackConfig:
    """Validate raw `key: value` settings; non-opshub keys other than aws:region are left alone."""
    secrets_in_plain = [
        f"{key}: is a secret and must be set with `pulumi config set --secret {key}`, not committed in plain"
        for key, value in raw.items()
        if key in SECRET_KEYS and not (isinstance(value, dict) and set(value) == {"secure"})
    ]
    ours = {k: v for k, v in raw.items() if (k.startswith(f"{PROJECT}:") or k == "aws:region") and k not in SECRET_KEYS}
    try:
        config = StackConfig.model_validate(ours)
    except ValidationError as exc:
        raise ConfigError(source, secrets_in_plain + _problems(exc, ours)) from None
    if secrets_in_plain:
        raise ConfigError(source, secrets_in_plain)
    return config


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict:
    """The `config:` mapping of a stack file, with file-level faults as ConfigError."""
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
