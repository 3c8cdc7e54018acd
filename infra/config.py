"""The typed stack configuration: every setting of `Pulumi.<stack>.yaml`, checked at once.

The same `StackConfig` serves `pulumi up` (values read through `pulumi.Config`)
and the offline plan (values read from the stack file). A problem report
names each offending key, the expected form and the value found.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

import pulumi
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

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

# Auth0 session lifetimes of the operators' tenant: defaults fit an admin tool (Auth0's own
# defaults are 72 h idle and 168 h absolute); the maxima bound what a stack may configure.
SESSION_IDLE_HOURS = (1, 12)
SESSION_ABSOLUTE_HOURS = (1, 24)
# Grants the /ops application may use: Authorization Code (with PKCE, as a SPA) and, optionally,
# rotating refresh tokens. Never implicit or password.
OPS_GRANT_TYPES = ("authorization_code", "refresh_token")
IAM_ROLE_ARN = r"^arn:aws:iam::(\d{12}):role/[A-Za-z0-9_+=,.@/-]+$"


def _hours_within(bounds: tuple[int, int]) -> AfterValidator:
    low, high = bounds

    def check(value: int) -> int:
        if not low <= value <= high:
            msg = f"expected whole hours from {low} to {high}"
            raise ValueError(msg)
        return value

    return AfterValidator(check)


def _json_list(value: object) -> object:
    """The engine passes a structured setting as its JSON text; the stack file as a YAML list."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _login_url(value: str) -> str:
    """An exact https URL Auth0 redirects to: no wildcard, no fragment."""
    value = _https_url(value)
    if "*" in value or "#" in value:
        msg = "expected an exact https:// URL without wildcards or fragments"
        raise ValueError(msg)
    return value


def _web_origin(value: str) -> str:
    value = _https_url(value)
    if "/" in value[len("https://") :] or "*" in value:
        msg = "expected an https:// origin (scheme and host, no path or wildcard)"
        raise ValueError(msg)
    return value


def _grant_type(value: str) -> str:
    if value not in OPS_GRANT_TYPES:
        msg = f"grant type {value!r} is not allowed; allowed: {', '.join(OPS_GRANT_TYPES)}"
        raise ValueError(msg)
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        msg = "each value may appear once"
        raise ValueError(msg)
    return values


UrlList = Annotated[list[Annotated[str, AfterValidator(_login_url)]], BeforeValidator(_json_list), Field(min_length=1), AfterValidator(_unique)]
OriginList = Annotated[list[Annotated[str, AfterValidator(_web_origin)]], BeforeValidator(_json_list), Field(min_length=1), AfterValidator(_unique)]
GrantTypes = Annotated[list[Annotated[str, AfterValidator(_grant_type)]], BeforeValidator(_json_list), AfterValidator(_unique)]


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
    # Grafana's PostgreSQL datasource on Supabase (a login in ops_metrics_reader): the metrics dashboard and freshness rule.
    grafana_metrics_datasource_uid: str = Field(alias="opshub:grafanaMetricsDatasourceUid", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    pagerduty_team: NonEmpty = Field(alias="opshub:pagerdutyTeam")
    slack_channel: str = Field(alias="opshub:slackChannel", pattern=r"^#[a-z0-9_-]{1,80}$")
    secret_alarm_email: str = Field(alias="opshub:secretAlarmEmail", pattern=r"^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,63}$")
    # The role `pulumi up` runs as (CI's OIDC role): the only principal besides a secret's readers
    # that may read the secrets whose value Pulumi stores and reads back (docs/runbook.md).
    deploy_role_arn: str = Field(alias="opshub:deployRoleArn", pattern=IAM_ROLE_ARN)
    # Whether this stack owns the Auth0 tenant's singletons (Tenant, AttackProtection): true for a
    # dedicated workforce tenant (docs/adr/0006-auth0-tenant-ownership.md).
    auth0_tenant_owned: bool = Field(alias="opshub:auth0TenantOwned")
    session_idle_hours: Annotated[int, _hours_within(SESSION_IDLE_HOURS)] = Field(alias="opshub:sessionIdleHours", default=8)
    session_absolute_hours: Annotated[int, _hours_within(SESSION_ABSOLUTE_HOURS)] = Field(
        alias="opshub:sessionAbsoluteHours", default=24
    )
    # The /ops application operators sign in with: where Auth0 may send them back.
    ops_callback_urls: UrlList = Field(alias="opshub:opsCallbackUrls")
    ops_logout_urls: UrlList = Field(alias="opshub:opsLogoutUrls")
    ops_web_origins: OriginList = Field(alias="opshub:opsWebOrigins")
    ops_grant_types: GrantTypes = Field(alias="opshub:opsGrantTypes", default=["authorization_code"])
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

# Namespaces a stack file may use besides `opshub:`: the engine's own and those of the
# providers the program declares (infra/components/providers.py; tests/test_config.py keeps
# this equal to the plan's provider packages). Anything else is a typo Pulumi would ignore.
PROVIDER_NAMESPACES = ("aws", "auth0", "grafana", "pagerduty", "postgresql", "random", "tls")
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
    problems = misplaced + secrets_in_plain + _inconsistencies(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _inconsistencies(config: StackConfig) -> list[str]:
    """What no single setting's type can say: settings that must agree with each other."""
    problems = []
    account = re.match(IAM_ROLE_ARN, config.deploy_role_arn)
    if account and account.group(1) != config.aws_account_id:
        problems.append(
            f"opshub:deployRoleArn: must be a role in opshub:awsAccountId {config.aws_account_id}; found {config.deploy_role_arn!r}"
        )
    if config.session_idle_hours > config.session_absolute_hours:
        problems.append(
            f"opshub:sessionIdleHours: must not exceed opshub:sessionAbsoluteHours ({config.session_absolute_hours}); "
            f"found {config.session_idle_hours}"
        )
    if "authorization_code" not in config.ops_grant_types:
        problems.append(
            f"opshub:opsGrantTypes: must include authorization_code, the way operators sign in; found {config.ops_grant_types}"
        )
    return problems


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
