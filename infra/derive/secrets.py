"""Vendor secrets as plain declarations: names, readers, rotation plans and reminder thresholds.

From the access model and the environment this derives one `SecretPlan` per
model secret (its Secrets Manager name `ops-hub/<env>/<vendor>/<purpose>`, the
identities that read it, how and how often it rotates, and the secret-age at
which its alarm tickets people), one `IdentityPlan` per machine identity, and
the rotation schedule table of docs/runbook.md. No Pulumi imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.model.access import AccessModel, SecretSpec
from infra.model.vendor_scopes import VendorScopes, scope_tags

NAME_PREFIX = "ops-hub"
# Days a deleted secret can still be restored (AWS allows 7 to 30).
RECOVERY_WINDOW_DAYS = 30
# People are ticketed this many days before a hand-rotated secret is due.
REMINDER_LEAD_DAYS = 14
# A Lambda-rotated secret older than its schedule plus this means rotation is failing.
ROTATION_GRACE_DAYS = 2
# The reminder Lambda publishes each secret's age here, every REMINDER_RATE.
AGE_METRIC_NAMESPACE = "OpsHub/Secrets"
AGE_METRIC_NAME = "SecretAgeDays"
AGE_METRIC_DIMENSION = "SecretName"
REMINDER_RATE = "rate(6 hours)"
# Where each identity runs: the service principal its role trusts.
SERVICE_PRINCIPALS = {"lambda": "lambda.amazonaws.com", "ecs": "ecs-tasks.amazonaws.com"}
POSTGRES_ENGINE = "postgres"


@dataclass(frozen=True)
class SecretPlan:
    key: str
    name: str
    slug: str
    vendor: str
    rotation: str
    rotation_days: int
    readers: tuple[str, ...]
    database_user: str | None
    master: str | None
    database_admin: bool
    alarm_after_days: int
    # Pulumi stores its value (a database login's first value, the admin login, or a value
    # another component provides), so Pulumi (the deploy role) also reads it back on refresh.
    seeded: bool
    # What the credential may do at its vendor (None for vendors without a scope vocabulary).
    vendor_scopes: VendorScopes | None = None

    @property
    def tags(self) -> dict[str, str]:
        """The declared rotation plan and vendor scopes, on the secret itself for anyone looking at it in AWS."""
        plan = {"rotation": self.rotation, "rotation-days": str(self.rotation_days), "vendor": self.vendor}
        return plan | (scope_tags(self.vendor_scopes) if self.vendor_scopes else {})


@dataclass(frozen=True)
class IdentityPlan:
    identity: str
    role_name: str
    service_principal: str
    secrets: tuple[str, ...]
    runs_on: str


def secret_name(environment: str, key: str) -> str:
    return f"{NAME_PREFIX}/{environment}/{key}"


def alarm_after_days(secret: SecretSpec) -> int:
    """Ticket REMINDER_LEAD_DAYS before a hand rotation is due; for Lambda rotation, once it is overdue."""
    if secret.rotation == "reminder":
        return max(secret.rotation_days - REMINDER_LEAD_DAYS, 1)
    return secret.rotation_days + ROTATION_GRACE_DAYS


def secret_plans(model: AccessModel, environment: str) -> list[SecretPlan]:
    """One plan per model secret."""
    return [
        SecretPlan(
            key=s.key,
            name=secret_name(environment, s.key),
            slug=s.key.replace("/", "-"),
            vendor=s.vendor,
            rotation=s.rotation,
            rotation_days=s.rotation_days,
            readers=tuple(i.name for i in model.identities if s.key in i.reads_secrets),
            database_user=s.database_user,
            master=s.master,
            database_admin=s.database_admin,
            alarm_after_days=alarm_after_days(s),
            seeded=s.stored_by_pulumi,
            vendor_scopes=s.vendor_scopes,
        )
        for s in model.secrets
    ]


def identity_plans(model: AccessModel, environment: str) -> list[IdentityPlan]:
    """Identities that read secrets; their roles are named `<identity>-<env>`."""
    return [
        IdentityPlan(
            identity=i.name,
            role_name=f"{i.name}-{environment}",
            service_principal=SERVICE_PRINCIPALS[i.runs_on],
            secrets=i.reads_secrets,
            runs_on=i.runs_on,
        )
        for i in model.identities
        if i.reads_secrets
    ]


def database_secret(host: str, port: int, dbname: str, username: str, password: str, master_arn: str | None) -> dict:
    """The AWS standard JSON of a PostgreSQL secret (masterarn only on the rotated users' secrets)."""
    value = {"engine": POSTGRES_ENGINE, "host": host, "port": port, "username": username, "password": password, "dbname": dbname}
    if master_arn is not None:
        value["masterarn"] = master_arn
    return value


def rotation_schedule_table(model: AccessModel, environment: str) -> str:
    """The runbook's schedule per secret, as a Markdown table."""
    lines = [
        "| secret | rotation | every | alarm after (days) | read by |",
        "|---|---|---|---|---|",
    ]
    plans = secret_plans(model, environment)
    for plan in plans:
        how = (
            f"Lambda, alternating `{plan.database_user}` / `{plan.database_user}_clone`"
            if plan.rotation == "lambda"
            else "by hand, ticketed"
        )
        rotators = [f"rotation of `{p.key}`" for p in plans if plan.key in (p.key, p.master) and p.rotation == "lambda"]
        deployer = ["the deploy role"] if plan.seeded else []
        readers = ", ".join([f"`{r}`" for r in plan.readers] + rotators + deployer)
        lines.append(f"| `{plan.name}` | {how} | {plan.rotation_days} days | {plan.alarm_after_days} | {readers} |")
    return "\n".join(lines) + "\n"
