"""Waivers: one rule, one resource, an owner, a reason and an expiry date, reviewed in policies/waivers.yaml.

A waiver matches a finding by rule id and by the resource's URN, or by its
type token and logical name. A waived finding is still reported, as waived.
An expired waiver waives nothing and fails the check (exit 1) until it is
renewed or removed, so exceptions cannot outlive their review.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infra.config import REPO_ROOT
from infra.errors import UsageError, describe_validation_error
from infra.yamlio import load_yaml_mapping

WAIVERS_FILE = REPO_ROOT / "policies" / "waivers.yaml"


class WaiverError(UsageError):
    """The waivers file is malformed or names an unknown rule."""


class WaivedResource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    urn: str | None = None
    type: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one_way_to_name_it(self) -> WaivedResource:
        if not self.urn and not (self.type and self.name):
            msg = "name the resource by urn, or by type and name"
            raise ValueError(msg)
        return self


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(pattern=r"^OPS-[A-Z]+-\d{3}$")
    resource: WaivedResource
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=10)
    expires: dt.date

    def matches(self, rule_id: str, urn: str, type_token: str, name: str) -> bool:
        if rule_id != self.rule:
            return False
        if self.resource.urn:
            return self.resource.urn == urn
        return (self.resource.type, self.resource.name) == (type_token, name)

    def expired(self, today: dt.date) -> bool:
        return self.expires < today

    def describe(self) -> str:
        target = self.resource.urn or f"{self.resource.type} {self.resource.name}"
        return f"{self.rule} on {target} (owner {self.owner}, expires {self.expires.isoformat()})"


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    waivers: tuple[Waiver, ...] = ()


def load_waivers(path: Path = WAIVERS_FILE, known_rules: frozenset[str] = frozenset()) -> tuple[Waiver, ...]:
    """Parse the waivers file; a missing file means no waivers."""
    if not Path(path).exists():
        return ()
    data = load_yaml_mapping(path, WaiverError)
    try:
        waivers = WaiverFile.model_validate(data).waivers
    except ValidationError as exc:
        raise WaiverError(str(path), describe_validation_error(exc, data)) from None
    unknown = [f"waivers[{i}]: unknown rule {w.rule}" for i, w in enumerate(waivers) if known_rules and w.rule not in known_rules]
    if unknown:
        raise WaiverError(str(path), unknown)
    return waivers
