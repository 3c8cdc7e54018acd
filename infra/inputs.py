"""Everything a stack's program is built from, read and checked in one pass.

`load_inputs(stack)` reads the stack config (`Pulumi.<stack>.yaml`), the access
model, the approved assignments, the SLO catalogue, the metrics catalogue and
Supabase's platform principals, and reports the
problems of all of them together (exit 2), so one run lists everything to fix.
Checks that need a file which did not load are skipped, never guessed.

With `lenient=True` (used to plan a revision for a diff) the invariant
violations of the model and of the assignments are kept as `problems` instead,
so the diff can show what such a revision would widen; a file that does not
parse at all is still an error.

`ProgramInputs.identity()` is the plan's identity stamp and `embedded()` the
data it carries, so a report made later needs nothing from the checkout.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from infra.config import REPO_ROOT, StackConfig, parse_stack_config, read_stack_file, stack_file
from infra.errors import ModelError, UsageError, describe_validation_error, raise_all
from infra.model import access, assignments as approvals, metrics, observability, platform
from infra.model.access import AccessModel, validate_model
from infra.model.assignments import Assignments, AssignmentsError, assignment_problems, assignments_schema
from infra.model.metrics import MetricsCatalogue
from infra.model.observability import Catalogue
from infra.model.platform import Platform
from infra.provenance import canonical_sha256, git_revision
from infra.yamlio import load_yaml_mapping

T = TypeVar("T")

# Read at call time, so a test can point one of them elsewhere.
MODEL_PATH = access.DEFAULT_MODEL_PATH
ASSIGNMENTS_PATH = approvals.DEFAULT_ASSIGNMENTS_PATH
ALERTS_DIR = observability.ALERTS_DIR
METRICS_PATH = metrics.DEFAULT_CATALOGUE_PATH
PLATFORM_PATH = platform.DEFAULT_PLATFORM_PATH

STAMP_VERSION = 1


@dataclass(frozen=True)
class ProgramInputs:
    stack: str
    config: StackConfig
    model_data: dict[str, Any]
    model: AccessModel
    assignments_data: dict[str, Any]
    assignments: Assignments
    catalogue: Catalogue
    metrics: MetricsCatalogue
    platform: Platform
    # Lenient only: invariant violations kept for a diff, as (file relative to the repo, problem).
    problems: tuple[tuple[str, str], ...] = field(default=())

    def identity(self, code_root: Path = REPO_ROOT) -> dict[str, Any]:
        """The plan's identity stamp: the code's revision and the digests of what it read."""
        revision = git_revision(code_root)
        return {
            "stamp": STAMP_VERSION,
            "stack": self.stack,
            "revision": revision.commit,
            "dirty": revision.dirty,
            "model_sha256": canonical_sha256(self.model_data),
            "assignments_sha256": canonical_sha256(self.assignments_data),
            "config_sha256": canonical_sha256(self.config_data()),
            "platform_sha256": canonical_sha256(self.platform_data()),
        }

    def config_data(self) -> dict[str, Any]:
        """The validated settings by their config keys, as the program used them."""
        return self.config.model_dump(mode="json", by_alias=True)

    def platform_data(self) -> dict[str, Any]:
        return self.platform.model_dump(mode="json")

    def embedded(self) -> dict[str, Any]:
        """What the plan carries so that its report never reads the checkout's files."""
        return {
            "access_model": self.model_data,
            "assignments": self.assignments_data,
            "config": self.config_data(),
            "platform": self.platform_data(),
            "problems": [{"source": source, "message": message} for source, message in self.problems],
        }


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    """YAML's dates as ISO strings, so the data can be embedded in a plan and hashed."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, dt.date) else repr(v)))


def _load_data(path: Path, error: type[UsageError]) -> dict[str, Any]:
    return _json_ready(load_yaml_mapping(path, error))


def _attempt(errors: list[UsageError], load: Callable[[], T]) -> T | None:
    try:
        return load()
    except UsageError as exc:
        errors.append(exc)
        return None


def _schema_model(data: dict[str, Any], source: str) -> AccessModel:
    try:
        return AccessModel.model_validate(data)
    except ValidationError as exc:
        raise ModelError(source, describe_validation_error(exc, data)) from None


def _checked(problems: list[str], error: type[UsageError], path: Path, lenient: bool, kept: list[tuple[str, str]]) -> None:
    if problems and not lenient:
        raise error(str(path), problems)
    kept += [(repo_relative(path), p) for p in problems]


def repo_relative(path: Path) -> str:
    """`infra/model/access.yaml` for a file of the repo, else the path as given."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _stack_config(stack: str, root: Path) -> StackConfig:
    path = stack_file(stack, root)
    return parse_stack_config(read_stack_file(path), str(path))


def load_inputs(
    stack: str,
    root: Path = REPO_ROOT,
    *,
    lenient: bool = False,
    config: Callable[[], StackConfig] | None = None,
) -> ProgramInputs:
    """Read and check every input of the stack's program; all problems at once (exit 2).

    `config` replaces reading `Pulumi.<stack>.yaml` from `root` (`pulumi up` passes
    the settings the engine handed over).
    """
    errors: list[UsageError] = []
    kept: list[tuple[str, str]] = []
    settings = _attempt(errors, config or (lambda: _stack_config(stack, root)))
    model_data = _attempt(errors, lambda: _load_data(MODEL_PATH, ModelError))
    model = _attempt(errors, lambda: _schema_model(model_data, str(MODEL_PATH))) if model_data is not None else None
    if model is not None:
        _attempt(errors, lambda: _checked(validate_model(model), ModelError, MODEL_PATH, lenient, kept))
    assignments_data = _attempt(errors, lambda: _load_data(ASSIGNMENTS_PATH, AssignmentsError))
    assigned = None
    if assignments_data is not None:
        assigned = _attempt(errors, lambda: assignments_schema(assignments_data, str(ASSIGNMENTS_PATH)))
    if assigned is not None and model is not None:
        problems = assignment_problems(assigned, model)
        _attempt(errors, lambda: _checked(problems, AssignmentsError, ASSIGNMENTS_PATH, lenient, kept))
    catalogue = _attempt(errors, lambda: observability.load_catalogue(ALERTS_DIR))
    permissions = frozenset(model.permission_by_name) if model is not None else None
    metrics_catalogue = _attempt(errors, lambda: metrics.load_catalogue(METRICS_PATH, permissions))
    principals = _attempt(errors, lambda: platform.load_platform(PLATFORM_PATH))
    raise_all(errors)
    return ProgramInputs(
        stack, settings, model_data, model, assignments_data, assigned, catalogue, metrics_catalogue, principals, tuple(kept)
    )  # type: ignore[arg-type]
