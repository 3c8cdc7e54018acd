"""The typed access model: loads infra/model/access.yaml and checks its invariants.

Every problem is reported at once as a ModelError naming the offending role,
permission, route, identity or secret; derivations may then trust the model.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.errors import ModelError, describe_validation_error, did_you_mean
from infra.model.vendor_scopes import VOCABULARIES, VendorScopes, tag_problems
from infra.yamlio import load_yaml_mapping

DEFAULT_MODEL_PATH = Path(__file__).with_name("access.yaml")

PERMISSION_PATTERN = re.compile(r"^[a-z]+:[a-z]+$")
ROLE_PATTERN = re.compile(r"^ops-[a-z]+$")
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# What an audit event records, `domain:verb` or `domain:verb:qualifier`; within the form
# ops_audit.events accepts (its check events_action_form, infra/migrations/0001_events.sql).
AUDIT_ACTION_PATTERN = r"^[a-z][a-z0-9-]*:[a-z0-9-]+(:[a-z0-9-]+)?$"

Level = Literal["view", "edit", "admin"]
LEVEL_ORDER: dict[str, int] = {"view": 1, "edit": 2, "admin": 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MfaFactor(_Strict):
    name: str = Field(pattern=SLUG_PATTERN)
    phishing_resistant: bool


class Permission(_Strict):
    name: str
    description: str = Field(min_length=1)
    writes: bool
    privileged: bool = False

    @field_validator("name")
    @classmethod
    def _domain_action(cls, value: str) -> str:
        if not PERMISSION_PATTERN.match(value):
            msg = f"permission name {value!r} must have the form domain:action"
            raise ValueError(msg)
        return value


class Integration(_Strict):
    name: str = Field(pattern=SLUG_PATTERN)
    title: str = Field(min_length=1)
    grants: dict[str, Level]


class Role(_Strict):
    name: str
    description: str = Field(min_length=1)
    read_only: bool = False
    permissions: tuple[str, ...] = Field(min_length=1)
    mfa: tuple[str, ...] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _ops_prefix(cls, value: str) -> str:
        if not ROLE_PATTERN.match(value):
            msg = f"role name {value!r} must have the form ops-<name>"
            raise ValueError(msg)
        return value


class SodPair(_Strict):
    permissions: tuple[str, str]
    reason: str = Field(min_length=1)


class Route(_Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(pattern=r"^/ops(/[a-z0-9-]+)*$")
    permission: str
    # The integration the route acts on; the backend uses that vendor's secret.
    integration: str
    # The ops_audit action the route records (writing and privileged routes must record one).
    audit_action: str | None = Field(default=None, pattern=AUDIT_ACTION_PATTERN, max_length=100)
    # Reads only: how long the backend may serve a cached vendor answer.
    cache_seconds: int | None = Field(default=None, ge=0)
    # The secret the route uses, when the route server reads several of its integration's vendor.
    secret: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


# The freshness window of a privileged sign-in's MFA: at least a minute, at most an hour.
MFA_MAX_AGE_MINUTES = (1, 60)
MANAGEMENT_SCOPE_PATTERN = re.compile(r"^[a-z]+:[a-z_]+$")


def _minutes_within(value: int) -> int:
    low, high = MFA_MAX_AGE_MINUTES
    if not low <= value <= high:
        msg = f"expected whole minutes from {low} to {high}"
        raise ValueError(msg)
    return value


class Application(_Strict):
    name: str = Field(pattern=SLUG_PATTERN)
    description: str = Field(min_length=1)


class Connection(_Strict):
    """An Auth0 database connection of operators' accounts and the applications it is enabled for."""

    name: str = Field(pattern=SLUG_PATTERN)
    clients: tuple[str, ...] = Field(min_length=1)


class SignIn(_Strict):
    mfa_max_age_minutes: Annotated[int, AfterValidator(_minutes_within)] = 15
    application: Application
    connections: tuple[Connection, ...] = Field(min_length=1)


class Identity(_Strict):
    name: str = Field(pattern=SLUG_PATTERN)
    description: str = Field(min_length=1)
    api_permissions: tuple[str, ...] = ()
    # Read-only scopes on Auth0's Management API (the access review reads users and roles).
    management_api_scopes: tuple[str, ...] = ()
    reads_secrets: tuple[str, ...] = ()
    # Where the identity runs: the AWS service its IAM role trusts.
    runs_on: Literal["lambda", "ecs"] = "lambda"
    # The identity that serves the /ops routes for people: the access report
    # traces a role's permission to the vendor secrets this identity reads.
    serves_routes: bool = False


class SecretSpec(_Strict):
    vendor: str = Field(pattern=SLUG_PATTERN)
    purpose: str = Field(pattern=SLUG_PATTERN)
    rotation: Literal["lambda", "reminder"]
    rotation_days: int = Field(ge=1)
    database_user: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*$")
    # The group role `database_user` inherits: ops_audit's (infra/derive/audit.py), ops_metrics'
    # snapshot writer (infra/derive/metrics.py), the checkpoint job's, or the rotator's.
    database_group: Literal["writer", "reader", "metrics_writer", "checkpoint", "rotator"] | None = None
    # `lambda` rotation: the key of the rotator secret whose login sets `database_user`'s password.
    master: str | None = None
    # What the credential may do at its vendor, in the vendor's words (infra/model/vendor_scopes.py).
    vendor_scopes: VendorScopes | None = None
    # The admin login Pulumi deploys with (opshub:supabaseAdminUser); only Pulumi reads it.
    database_admin: bool = False
    # Who writes the value: people (`put-secret-value`), or Pulumi from another resource or a
    # config secret, in which case the deploy role also reads it back. Database logins are Pulumi's.
    set_by: Literal["people", "pulumi"] = "people"

    @property
    def stored_by_pulumi(self) -> bool:
        return self.set_by == "pulumi" or self.database_user is not None or self.database_admin

    @property
    def key(self) -> str:
        """The model's handle for the secret, `<vendor>/<purpose>`."""
        return f"{self.vendor}/{self.purpose}"


class AccessModel(_Strict):
    mfa_factors: tuple[MfaFactor, ...] = Field(min_length=1)
    permissions: tuple[Permission, ...] = Field(min_length=1)
    integrations: tuple[Integration, ...]
    roles: tuple[Role, ...] = Field(min_length=1)
    segregation_of_duties: tuple[SodPair, ...] = ()
    routes: tuple[Route, ...]
    # Longest time any read route may serve a cached vendor answer.
    route_cache_max_seconds: int = Field(ge=0)
    sign_in: SignIn
    identities: tuple[Identity, ...]
    secrets: tuple[SecretSpec, ...]

    @cached_property
    def permission_by_name(self) -> dict[str, Permission]:
        return {p.name: p for p in self.permissions}

    @cached_property
    def role_by_name(self) -> dict[str, Role]:
        return {r.name: r for r in self.roles}

    @cached_property
    def secret_by_key(self) -> dict[str, SecretSpec]:
        return {s.key: s for s in self.secrets}

    @cached_property
    def integration_by_name(self) -> dict[str, Integration]:
        return {i.name: i for i in self.integrations}

    @cached_property
    def route_server(self) -> Identity | None:
        """The identity that serves the /ops routes (at most one, checked)."""
        return next((i for i in self.identities if i.serves_routes), None)

    def route_writes(self, route: Route) -> bool:
        return self.permission_by_name[route.permission].writes

    def route_secrets(self, route: Route) -> list[str]:
        """The route server's secrets of the route's integration, or the one it names (exactly one when valid)."""
        reads = self.route_server.reads_secrets if self.route_server else ()
        return [
            key
            for key in reads
            if key in self.secret_by_key and self.secret_by_key[key].vendor == route.integration
            and route.secret in (None, key)
        ]

    def route_secret(self, route: Route) -> SecretSpec:
        """The secret the backend uses for a route of a valid model."""
        return self.secret_by_key[self.route_secrets(route)[0]]

    @cached_property
    def phishing_resistant_factors(self) -> frozenset[str]:
        return frozenset(f.name for f in self.mfa_factors if f.phishing_resistant)

    def is_privileged(self, role: Role) -> bool:
        """A role is privileged when it holds any privileged permission."""
        return any(self.permission_by_name[p].privileged for p in role.permissions)

    def role_level(self, role: Role, integration: Integration) -> Level | None:
        """The highest level the role's permissions grant on the integration."""
        levels = [integration.grants[p] for p in role.permissions if p in integration.grants]
        return max(levels, key=LEVEL_ORDER.__getitem__) if levels else None


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({n for n in names if n in seen or seen.add(n)})


def _check_unique(model: AccessModel) -> list[str]:
    groups = {
        "mfa factor": [f.name for f in model.mfa_factors],
        "permission": [p.name for p in model.permissions],
        "integration": [i.name for i in model.integrations],
        "role": [r.name for r in model.roles],
        "identity": [i.name for i in model.identities],
        "connection": [c.name for c in model.sign_in.connections],
        "secret": [s.key for s in model.secrets],
        "route": [r.label for r in model.routes],
    }
    return [
        f"{kind} {name!r}: declared more than once"
        for kind, names in groups.items()
        for name in _duplicates(names)
    ]


def _check_roles(model: AccessModel) -> list[str]:
    problems = []
    factors = {f.name for f in model.mfa_factors}
    for role in model.roles:
        where = f"role {role.name!r}"
        for perm in role.permissions:
            if perm not in model.permission_by_name:
                problems.append(f"{where}: grants undeclared permission {perm!r}{did_you_mean(perm, model.permission_by_name)}")
            elif role.read_only and model.permission_by_name[perm].writes:
                problems.append(f"{where}: is read_only but grants writing permission {perm!r}")
        problems += [f"{where}: unknown MFA factor {f!r}{did_you_mean(f, factors)}" for f in role.mfa if f not in factors]
        problems += [f"{where}: lists permission {p!r} twice" for p in _duplicates(list(role.permissions))]
        weak = sorted(set(role.mfa) & factors - model.phishing_resistant_factors)
        if weak and all(p in model.permission_by_name for p in role.permissions) and model.is_privileged(role):
            problems.append(f"{where}: is privileged, so its MFA must be phishing-resistant; remove {weak}")
        held = set(role.permissions)
        problems += [
            f"{where}: holds both {a!r} and {b!r}, a segregation-of-duties pair"
            for a, b in (pair.permissions for pair in model.segregation_of_duties)
            if {a, b} <= held
        ]
    return problems


def _check_references(model: AccessModel) -> list[str]:
    known = model.permission_by_name
    problems = [
        f"integration {i.name!r}: grants on undeclared permission {p!r}{did_you_mean(p, known)}"
        for i in model.integrations
        for p in i.grants
        if p not in known
    ]
    problems += [
        f"segregation_of_duties pair {list(pair.permissions)}: undeclared permission {p!r}{did_you_mean(p, known)}"
        for pair in model.segregation_of_duties
        for p in pair.permissions
        if p not in known
    ]
    problems += [
        f"route {r.label}: needs undeclared permission {r.permission!r}{did_you_mean(r.permission, known)}"
        for r in model.routes
        if r.permission not in known
    ]
    servers = [i.name for i in model.identities if i.serves_routes]
    if len(servers) > 1:
        problems.append(f"identities {servers}: only one identity may have serves_routes: true")
    for ident in model.identities:
        problems += [
            f"identity {ident.name!r}: API permission {p!r} is undeclared{did_you_mean(p, known)}"
            for p in ident.api_permissions
            if p not in known
        ]
        problems += [
            f"identity {ident.name!r}: reads undeclared secret {s!r}{did_you_mean(s, model.secret_by_key)}"
            for s in ident.reads_secrets
            if s not in model.secret_by_key
        ]
    return problems


def _check_sign_in(model: AccessModel) -> list[str]:
    """Connections feed only the /ops application: never a machine identity or an unknown client."""
    app = model.sign_in.application.name
    machines = {i.name for i in model.identities}
    problems = [f"sign_in.application {app!r}: is also a machine identity's name"] if app in machines else []
    for connection in model.sign_in.connections:
        where = f"sign_in.connections {connection.name!r}"
        for client in connection.clients:
            if client in machines:
                problems.append(
                    f"{where}: enabled for machine identity {client!r}; a connection may be enabled only for "
                    f"the /ops application {app!r}"
                )
            elif client != app:
                problems.append(f"{where}: enabled for unknown application {client!r}; allowed: {app!r}")
    return problems


def _check_management_scopes(model: AccessModel) -> list[str]:
    problems = []
    for ident in model.identities:
        where = f"identity {ident.name!r}"
        for scope in ident.management_api_scopes:
            if not MANAGEMENT_SCOPE_PATTERN.match(scope) or not scope.startswith("read:"):
                problems.append(
                    f"{where}: Management API scope {scope!r} is not read-only; only read:<object> scopes may be granted"
                )
        if ident.management_api_scopes and ident.api_permissions:
            problems.append(f"{where}: reads Auth0's Management API, so it may hold no ops API permissions")
    return problems


def _check_secrets(model: AccessModel) -> list[str]:
    problems = []
    for secret in model.secrets:
        where = f"secret {secret.key!r}"
        limit = 30 if secret.rotation == "lambda" else 90
        if secret.rotation_days > limit:
            problems.append(f"{where}: rotation_days {secret.rotation_days} exceeds {limit} for {secret.rotation} rotation")
        if secret.rotation == "lambda" and secret.database_group not in ("writer", "reader", "metrics_writer", "checkpoint"):
            problems.append(f"{where}: lambda rotation needs database_user with database_group writer, reader, metrics_writer or checkpoint")
        if (secret.database_user is None) != (secret.database_group is None):
            problems.append(f"{where}: database_user and database_group (writer, reader, metrics_writer, checkpoint or rotator) go together")
        if secret.database_group == "rotator" and secret.rotation != "reminder":
            problems.append(f"{where}: the rotator login is rotated by people (rotation: reminder), never by itself")
        if secret.database_admin and (secret.database_user or secret.rotation != "reminder"):
            problems.append(f"{where}: database_admin is the admin login from config: no database_user, rotation reminder")
        problems += _check_master(model, secret)
    admins = [s.key for s in model.secrets if s.database_admin]
    if len(admins) > 1:
        problems.append(f"secrets {admins}: only one secret may be the database_admin")
    problems += [
        f"integration {i.name!r}: has no secret; declare its credential under secrets (vendor: {i.name})"
        for i in model.integrations
        if not any(s.vendor == i.name for s in model.secrets)
    ]
    masters = {s.master for s in model.secrets if s.master}
    problems += [
        f"identity {ident.name!r}: reads master secret {key!r}, which only its rotation Lambda may read"
        for ident in model.identities
        for key in ident.reads_secrets
        if key in masters
    ]
    problems += [
        f"identity {ident.name!r}: reads the database admin secret {key!r}, which only Pulumi may read"
        for ident in model.identities
        for key in ident.reads_secrets
        if key in admins
    ]
    return problems


def _check_master(model: AccessModel, secret: SecretSpec) -> list[str]:
    """A lambda-rotated secret names a declared, people-rotated master of the same vendor."""
    where = f"secret {secret.key!r}"
    if (secret.rotation == "lambda") != (secret.master is not None):
        return [f"{where}: lambda rotation needs master (the secret that can ALTER ROLE), and only lambda rotation may name one"]
    if secret.master is None:
        return []
    master = model.secret_by_key.get(secret.master)
    if master is None:
        return [f"{where}: master {secret.master!r} is not a declared secret{did_you_mean(secret.master, model.secret_by_key)}"]
    if master.vendor != secret.vendor or master.rotation != "reminder" or master.database_group != "rotator":
        return [
            f"{where}: master {secret.master!r} must be a reminder-rotated rotator login "
            f"(database_group: rotator) of vendor {secret.vendor!r}"
        ]
    return []


def _check_routes(model: AccessModel) -> list[str]:
    problems = []
    for route in model.routes:
        if route.permission in model.permission_by_name:
            problems += [f"route {route.label}: {p}" for p in _route_problems(model, route)]
    routes_by_action: dict[str, list[str]] = {}
    for route in model.routes:
        if route.audit_action:
            routes_by_action.setdefault(route.audit_action, []).append(route.label)
    problems += [
        f"audit action {action!r}: recorded by more than one route ({', '.join(labels)}); give each route its own"
        for action, labels in sorted(routes_by_action.items())
        if len(labels) > 1
    ]
    return problems


def _route_problems(model: AccessModel, route: Route) -> list[str]:
    """What is wrong with one route whose permission is declared."""
    permission = model.permission_by_name[route.permission]
    integration = model.integration_by_name.get(route.integration)
    if integration is None:
        return [f"acts on undeclared integration {route.integration!r}"]
    problems = []
    if route.permission not in integration.grants:
        problems.append(f"integration {route.integration!r} grants nothing for its permission {route.permission!r}")
    if not route.audit_action and (permission.writes or permission.privileged):
        kind = "writes" if permission.writes else "is privileged"
        problems.append(f"{route.permission!r} {kind}, so the route must record an audit_action")
    problems += _cache_problems(model, route, permission)
    return problems + _route_secret_problems(model, route)


def _route_secret_problems(model: AccessModel, route: Route) -> list[str]:
    server = model.route_server
    if server is None:
        return []
    secrets = model.route_secrets(route)
    if route.secret is not None and not secrets:
        return [f"secret {route.secret!r} is not a {route.integration} secret the route server {server.name!r} reads"]
    if not secrets:
        return [f"the route server {server.name!r} reads no {route.integration} secret"]
    if len(secrets) > 1:
        return [f"the route server {server.name!r} reads {secrets}; name the one this route uses with `secret`"]
    return []


def _cache_problems(model: AccessModel, route: Route, permission: Permission) -> list[str]:
    if permission.writes:
        return ["writes, so it takes no cache_seconds (only reads are cached)"] if route.cache_seconds is not None else []
    if route.cache_seconds is None:
        return ["is a read, so it needs cache_seconds (0 for never cached)"]
    if permission.privileged and route.cache_seconds != 0:
        return [f"reads privileged {route.permission!r}, so cache_seconds must be 0 (found {route.cache_seconds})"]
    if route.cache_seconds > model.route_cache_max_seconds:
        return [f"cache_seconds {route.cache_seconds} exceeds route_cache_max_seconds {model.route_cache_max_seconds}"]
    return []


def _check_vendor_scopes(model: AccessModel) -> list[str]:
    problems = []
    for secret in model.secrets:
        where = f"secret {secret.key!r}"
        vocabulary = VOCABULARIES.get(secret.vendor)
        if vocabulary is None:
            if secret.vendor_scopes is not None:
                problems.append(f"{where}: vendor {secret.vendor!r} has no scope vocabulary; remove vendor_scopes")
        elif secret.vendor_scopes is None:
            problems.append(
                f"{where}: declare vendor_scopes (what the key may do at {secret.vendor}; key_type one of {sorted(vocabulary.key_types)})"
            )
        else:
            found = vocabulary.problems(secret.vendor_scopes) or tag_problems(secret.vendor_scopes)
            problems += [f"{where}: vendor_scopes: {p}" for p in found]
    return problems


def validate_model(model: AccessModel) -> list[str]:
    """Every invariant the schema cannot express, as readable problems."""
    return (
        _check_unique(model)
        + _check_roles(model)
        + _check_references(model)
        + _check_routes(model)
        + _check_secrets(model)
        + _check_vendor_scopes(model)
        + _check_sign_in(model)
        + _check_management_scopes(model)
    )


def parse_model(data: object, source: str = "access model") -> AccessModel:
    """Validate raw data as an access model, raising ModelError with every problem."""
    try:
        model = AccessModel.model_validate(data)
    except ValidationError as exc:
        raise ModelError(source, describe_validation_error(exc, data)) from None
    problems = validate_model(model)
    if problems:
        raise ModelError(source, problems)
    return model


def load_model(path: Path = DEFAULT_MODEL_PATH) -> AccessModel:
    """Load and validate the access model file."""
    return parse_model(load_yaml_mapping(path, ModelError), str(path))
