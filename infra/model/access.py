"""The typed access model: loads infra/model/access.yaml and checks its invariants.

Every problem is reported at once as a ModelError naming the offending role,
permission, identity or secret; derivations may then trust the model.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.errors import ModelError, describe_validation_error
from infra.yamlio import load_yaml_mapping

DEFAULT_MODEL_PATH = Path(__file__).with_name("access.yaml")

PERMISSION_PATTERN = re.compile(r"^[a-z]+:[a-z]+$")
ROLE_PATTERN = re.compile(r"^ops-[a-z]+$")
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"

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


class Identity(_Strict):
    name: str = Field(pattern=SLUG_PATTERN)
    description: str = Field(min_length=1)
    api_permissions: tuple[str, ...] = ()
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
    # The ops_audit group role `database_user` inherits (infra/derive/audit.py).
    database_group: Literal["writer", "reader", "checkpoint"] | None = None
    # `lambda` rotation: the key of the secret whose login can ALTER ROLE `database_user`.
    master: str | None = None

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
        "secret": [s.key for s in model.secrets],
        "route": [f"{r.method} {r.path}" for r in model.routes],
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
                problems.append(f"{where}: grants undeclared permission {perm!r}")
            elif role.read_only and model.permission_by_name[perm].writes:
                problems.append(f"{where}: is read_only but grants writing permission {perm!r}")
        problems += [f"{where}: unknown MFA factor {f!r}" for f in role.mfa if f not in factors]
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
        f"integration {i.name!r}: grants on undeclared permission {p!r}"
        for i in model.integrations
        for p in i.grants
        if p not in known
    ]
    problems += [
        f"segregation_of_duties pair {list(pair.permissions)}: undeclared permission {p!r}"
        for pair in model.segregation_of_duties
        for p in pair.permissions
        if p not in known
    ]
    problems += [
        f"route {r.method} {r.path}: needs undeclared permission {r.permission!r}"
        for r in model.routes
        if r.permission not in known
    ]
    servers = [i.name for i in model.identities if i.serves_routes]
    if len(servers) > 1:
        problems.append(f"identities {servers}: only one identity may have serves_routes: true")
    for ident in model.identities:
        problems += [
            f"identity {ident.name!r}: API permission {p!r} is undeclared"
            for p in ident.api_permissions
            if p not in known
        ]
        problems += [
            f"identity {ident.name!r}: reads undeclared secret {s!r}"
            for s in ident.reads_secrets
            if s not in model.secret_by_key
        ]
    return problems


def _check_secrets(model: AccessModel) -> list[str]:
    problems = []
    for secret in model.secrets:
        where = f"secret {secret.key!r}"
        limit = 30 if secret.rotation == "lambda" else 90
        if secret.rotation_days > limit:
            problems.append(f"{where}: rotation_days {secret.rotation_days} exceeds {limit} for {secret.rotation} rotation")
        if (secret.rotation == "lambda") != (secret.database_user is not None):
            problems.append(f"{where}: lambda rotation needs database_user, and only lambda rotation may name one")
        if (secret.database_user is None) != (secret.database_group is None):
            problems.append(f"{where}: database_user and database_group (writer, reader or checkpoint) go together")
        problems += _check_master(model, secret)
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
        return [f"{where}: master {secret.master!r} is not a declared secret"]
    if master.vendor != secret.vendor or master.rotation != "reminder":
        return [f"{where}: master {secret.master!r} must be a reminder-rotated secret of vendor {secret.vendor!r}"]
    return []


def validate_model(model: AccessModel) -> list[str]:
    """Every invariant the schema cannot express, as readable problems."""
    return _check_unique(model) + _check_roles(model) + _check_references(model) + _check_secrets(model)


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
