"""The approved role assignments (infra/model/assignments.yaml), checked against the access model.

Every problem is reported at once as an AssignmentsError naming the entry: an
unknown role, a malformed Auth0 user id, self-approval, an approval that
expires before it was given, a duplicate, or a person whose approved roles
together hold a segregation-of-duties pair. An approval that has expired is
not an error here: the access review reports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from infra.errors import UsageError, describe_validation_error, did_you_mean
from infra.model.access import AccessModel
from infra.yamlio import load_yaml_mapping

DEFAULT_ASSIGNMENTS_PATH = Path(__file__).with_name("assignments.yaml")

# Auth0 user ids are `<connection or provider>|<id>`, e.g. auth0|64f1..., google-oauth2|1098...
AUTH0_USER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*\|[A-Za-z0-9._@:+-]{1,128}$")


def _auth0_user_id(value: str) -> str:
    if not AUTH0_USER_ID.match(value):
        msg = "must be an Auth0 user id of the form <connection>|<id>, e.g. auth0|6553a1f0c2d4e1a9b7f3c201"
        raise ValueError(msg)
    return value


UserId = Annotated[str, AfterValidator(_auth0_user_id)]


class AssignmentsError(UsageError):
    """The approved-assignments file is malformed or contradicts the access model."""


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: UserId
    role: str
    approver: UserId
    approved: dt.date  # the day the approver approved it (the pull request's merge)
    expires: dt.date


class Assignments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assignments: tuple[Assignment, ...]


def sod_pairs_held(roles: set[str], model: AccessModel) -> list[tuple[str, str]]:
    """The segregation-of-duties pairs that one person holding all `roles` would hold."""
    held = {p for r in roles if r in model.role_by_name for p in model.role_by_name[r].permissions}
    return [(x, y) for x, y in (pair.permissions for pair in model.segregation_of_duties) if {x, y} <= held]


def assignment_problems(assignments: Assignments, model: AccessModel) -> list[str]:
    """What the file gets wrong against the model, one line per problem."""
    problems = []
    seen: set[tuple[str, str]] = set()
    roles_of: dict[str, set[str]] = defaultdict(set)
    for i, a in enumerate(assignments.assignments):
        where = f"assignments[{i}] ({a.user} as {a.role})"
        if a.role not in model.role_by_name:
            hint = did_you_mean(a.role, model.role_by_name) or f" (known: {', '.join(model.role_by_name)})"
            problems.append(f"{where}: unknown role {a.role!r}{hint}")
        if a.expires < a.approved:
            problems.append(f"{where}: expires {a.expires} before it was approved ({a.approved})")
        if a.approver == a.user:
            problems.append(f"{where}: approved by the user themself; someone else must approve")
        if (a.user, a.role) in seen:
            problems.append(f"{where}: listed more than once")
        seen.add((a.user, a.role))
        roles_of[a.user].add(a.role)
    for user, roles in sorted(roles_of.items()):
        problems += [
            f"user {user}: approved roles {sorted(roles)} together hold {x!r} and {y!r}, a segregation-of-duties pair"
            for x, y in sod_pairs_held(roles, model)
        ]
    return problems


def assignments_schema(data: object, source: str = "approved assignments") -> Assignments:
    """The file's shape only, without the checks against the model."""
    try:
        return Assignments.model_validate(data)
    except ValidationError as exc:
        raise AssignmentsError(source, describe_validation_error(exc, data)) from None


def parse_assignments(data: object, model: AccessModel, source: str = "approved assignments") -> Assignments:
    assignments = assignments_schema(data, source)
    problems = assignment_problems(assignments, model)
    if problems:
        raise AssignmentsError(source, problems)
    return assignments


def load_assignments(model: AccessModel, path: Path | None = None) -> Assignments:
    """Load and check the approvals file (default: infra/model/assignments.yaml)."""
    path = path or DEFAULT_ASSIGNMENTS_PATH
    return parse_assignments(load_yaml_mapping(path, AssignmentsError), model, str(path))
