"""Supabase's platform principals (infra/model/platform.yaml), typed and checked.

The roles every Supabase project has and no grant of this project controls. The
checkpoint job expects exactly their superusers and BYPASSRLS holders, and the
access report names each one that can read or alter the audit trail. Every
problem is reported at once as a ModelError naming the file and the entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra.errors import ModelError, describe_validation_error
from infra.yamlio import load_yaml_mapping

DEFAULT_PLATFORM_PATH = Path(__file__).with_name("platform.yaml")

Attribute = Literal["superuser", "createdb", "createrole", "replication", "bypassrls"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    repository: str = Field(pattern=r"^https://github\.com/[\w.-]+/[\w.-]+$")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")


class PlatformPrincipal(_Strict):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    login: bool
    attributes: tuple[Attribute, ...] = ()
    member_of: tuple[str, ...] = ()
    # Where in the source repository the role and its attributes are set.
    source: str = Field(min_length=1)
    note: str = Field(min_length=1)


class Platform(_Strict):
    source: Source
    principals: tuple[PlatformPrincipal, ...] = Field(min_length=1)

    def holding(self, attribute: Attribute) -> tuple[str, ...]:
        """Sorted names of the principals with `attribute`."""
        return tuple(sorted(p.name for p in self.principals if attribute in p.attributes))


def parse_platform(data: object, source: str = "platform principals") -> Platform:
    try:
        platform = Platform.model_validate(data)
    except ValidationError as exc:
        raise ModelError(source, describe_validation_error(exc, data)) from None
    names = [p.name for p in platform.principals]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ModelError(source, [f"principal {n!r}: listed more than once" for n in repeated])
    return platform


def load_platform(path: Path = DEFAULT_PLATFORM_PATH) -> Platform:
    return parse_platform(load_yaml_mapping(path, ModelError), str(path))
