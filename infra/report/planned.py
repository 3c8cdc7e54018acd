"""A plan as the report reads it: its resources and the identity and inputs it carries.

`planned_from_document` takes a `resources.json` of `opshub plan` and returns
everything a report needs (the access model, approvals, Supabase's platform
principals and migration files embedded in the plan, the revision it was made at) without reading the
checkout. A plan without the identity stamp, or whose embedded data does not
match its digests, is refused with a message saying how to make a good one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from infra.errors import UsageError, describe_validation_error
from infra.inputs import STAMP_VERSION
from infra.model.access import AccessModel
from infra.model.assignments import Assignments
from infra.model.platform import Platform, load_platform
from infra.provenance import NOT_GIT, GitRevision, canonical_sha256

REPLAN = "make it again with `opshub plan --stack STACK --out DIR` (or `make plan`)"


class PlanFileError(UsageError):
    """A plan file the report cannot use: unreadable, unstamped, empty or inconsistent."""


@dataclass(frozen=True)
class PlannedRevision:
    label: str  # what the report shows as its revision
    stack: str
    resources: list[dict[str, Any]]
    model: AccessModel
    assignments: Assignments | None
    sql_files: dict[str, str]  # the migration files the plan applies, by name
    platform: Platform
    config: dict[str, Any] = field(default_factory=dict)  # the stack settings the plan was made with, by config key
    identity: dict[str, Any] = field(default_factory=dict)
    # Invariant violations of the model or the approvals, as {"source", "message"}: findings, not refusals.
    problems: tuple[dict[str, str], ...] = ()


def revision_label(identity: dict[str, Any]) -> str:
    commit = identity.get("revision")
    return GitRevision(commit, bool(identity.get("dirty"))).label if commit else NOT_GIT


def _schema(kind: type, data: object, source: str) -> Any:
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(source, describe_validation_error(exc, data)) from None


def _check_stamp(document: dict[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    identity, inputs = document.get("identity"), document.get("inputs")
    if not isinstance(identity, dict) or identity.get("stamp") != STAMP_VERSION or not isinstance(inputs, dict):
        raise PlanFileError(source, [f"the plan carries no identity stamp (version {STAMP_VERSION}), so its revision and model are unknown: {REPLAN}"])
    mismatched = [
        name
        for name, digest, data in (
            ("access model", identity.get("model_sha256"), inputs.get("access_model")),
            ("assignments", identity.get("assignments_sha256"), inputs.get("assignments")),
            ("config", identity.get("config_sha256"), inputs.get("config")),
        )
        if canonical_sha256(data) != digest
    ]
    if "platform" in inputs and canonical_sha256(inputs["platform"]) != identity.get("platform_sha256"):
        mismatched.append("platform principals")
    if mismatched:
        raise PlanFileError(source, [f"the {n} embedded in the plan does not match its stamp's digest: the file was edited; {REPLAN}" for n in mismatched])
    return identity, inputs


def planned_from_document(document: Any, source: str, *, allow_empty: bool = False) -> PlannedRevision:
    """The report's view of a `resources.json` document; `source` names it in errors."""
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) and "type" in r for r in resources):
        raise PlanFileError(source, ["expected the resources.json of `opshub plan`: an object with a `resources` list"])
    if not resources and not allow_empty:
        raise PlanFileError(source, ["the plan declares no resources; pass --allow-empty if that is what you mean to report"])
    identity, inputs = _check_stamp(document, source)
    model = _schema(AccessModel, inputs["access_model"], f"{source}: embedded access model")
    assignments = _schema(Assignments, inputs["assignments"], f"{source}: embedded assignments")
    # Plans stamped before the platform principals were embedded use the checkout's.
    platform = _schema(Platform, inputs["platform"], f"{source}: embedded platform principals") if "platform" in inputs else load_platform()
    return PlannedRevision(
        label=revision_label(identity),
        stack=str(identity.get("stack") or document.get("stack") or ""),
        resources=resources,
        model=model,
        assignments=assignments,
        sql_files=dict(inputs.get("migrations") or {}),
        platform=platform,
        config=dict(inputs["config"]),
        identity=identity,
        problems=tuple(inputs.get("problems") or ()),
    )
