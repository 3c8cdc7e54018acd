"""Plans of git revisions and of plan files, as inputs to the access report and diff.

`plan_revision(rev)` exports the revision's tree with `git archive` into a temp
dir and runs *that revision's* program offline in a child process (its own
`infra/` code, model and stack file), so a base revision is planned exactly as
it was. A model or approvals file that breaks an invariant is still planned,
with the problems returned, so that a diff can show the widening and report the
violation as a finding; anything else that stops the plan is a RevisionError
naming the revision (exit 2). `read_plan_file(path)` reads a `resources.json`
and takes everything from it (infra/report/planned.py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.config import REPO_ROOT
from infra.errors import UsageError, describe_validation_error
from infra.model.access import AccessModel
from infra.model.assignments import Assignments
from infra.model.platform import Platform, load_platform
from infra.provenance import git
from infra.report.planned import PlannedRevision, PlanFileError, planned_from_document

PLAN_TIMEOUT_SECONDS = 600
MIGRATIONS = "infra/migrations"
ASSIGNMENTS = "infra/model/assignments.yaml"
PLATFORM = "infra/model/platform.yaml"


class RevisionError(UsageError):
    """A revision that cannot be planned."""


# Runs inside the exported tree, importing that revision's own code. Revisions that load
# their inputs in one pass (infra/inputs.py) write a stamped plan document; older ones
# are planned the way they were, and the parent fills in what they did not record.
_DRIVER = r"""
import json, sys, traceback
from pathlib import Path
out_path, stack = sys.argv[1], sys.argv[2]
result = {}
try:
    try:
        from infra.inputs import load_inputs
    except ImportError:
        load_inputs = None
    from infra.offline.plan import run_plan
    if load_inputs is not None:
        result["document"] = run_plan(stack, root=Path.cwd(), inputs=load_inputs(stack, Path.cwd(), lenient=True)).document()
    else:
        import yaml
        from infra.config import StackSecrets, config_from_pulumi
        from infra.model.access import AccessModel, validate_model
        from infra.program import build
        raw = yaml.safe_load(Path("infra/model/access.yaml").read_text(encoding="utf-8"))
        result["model"] = raw
        model = AccessModel.model_validate(raw)
        result["model_problems"] = validate_model(model)
        plan = run_plan(stack, root=Path.cwd(), program=lambda: build(config_from_pulumi(), model, StackSecrets()))
        result["resources"] = plan.resources
        result["sql"] = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[3]).glob("*.sql"))}
except BaseException as exc:  # the parent names the revision; keep the cause readable
    render = getattr(exc, "render", None)
    result["error"] = render() if callable(render) else f"{type(exc).__name__}: {exc}"
    result["trace"] = traceback.format_exc(limit=3)
Path(out_path).write_text(json.dumps(result, default=str), encoding="utf-8")
"""


def _resolve(rev: str, root: Path) -> str:
    found = git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    if found.returncode != 0:
        raise RevisionError(f"revision {rev!r}", ["is not a commit in this repository"])
    return found.stdout.decode().strip()


def _export(commit: str, root: Path, into: Path) -> None:
    archive = git(["archive", "--format=tar", commit], root)
    if archive.returncode != 0:
        raise RevisionError(f"revision {commit}", [f"git archive failed: {archive.stderr.decode().strip()}"])
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def _legacy(result: dict[str, Any], tree: Path, label: str, commit: str | None, stack: str) -> PlannedRevision:
    """A revision from before plans carried their inputs: its model, approvals and SQL from its tree."""
    try:
        model = AccessModel.model_validate(result["model"])
    except ValidationError as exc:
        problems = describe_validation_error(exc, result["model"])
        hint = "this revision's access model lacks what this report reads; compare with a later revision, or report it with its own checkout"
        raise RevisionError(f"revision {label}: infra/model/access.yaml", [*problems, hint]) from None
    try:
        assignments = Assignments.model_validate(yaml.safe_load((tree / ASSIGNMENTS).read_text(encoding="utf-8")))
    except (OSError, ValidationError, yaml.YAMLError):
        assignments = None  # older approvals lack fields the report shows; the report says so
    return PlannedRevision(
        label=label,
        stack=stack,
        resources=result["resources"],
        model=model,
        assignments=assignments,
        sql_files=result["sql"],
        platform=_platform_of(tree),
        identity={"stack": stack, "revision": commit, "dirty": False},
        problems=tuple({"source": "infra/model/access.yaml", "message": p} for p in result.get("model_problems", [])),
    )


def _platform_of(tree: Path) -> Platform:
    """The revision's platform principals; a revision from before they were written down has the checkout's."""
    path = tree / PLATFORM
    return load_platform(path) if path.is_file() else load_platform()


def plan_tree(tree: Path, label: str, stack: str = "prod", commit: str | None = None) -> PlannedRevision:
    """Run the offline plan of the project in `tree` with its own code, in a child process."""
    out = tree / ".opshub-revision-plan.json"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _DRIVER, str(out), stack, MIGRATIONS],
            cwd=tree, env=env, capture_output=True, text=True, timeout=PLAN_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        raise RevisionError(f"revision {label}", [f"the offline plan did not finish in {PLAN_TIMEOUT_SECONDS} s"]) from None
    if not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RevisionError(f"revision {label}", ["the offline plan crashed", *tail])
    result = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        problems = [f"does not plan: {line}" for line in result["error"].splitlines() if line.strip()]
        problems += [f"access model problem: {p}" for p in result.get("model_problems", [])]
        raise RevisionError(f"revision {label}", problems)
    if "document" not in result:
        return _legacy(result, tree, label, commit, stack)
    document = result["document"]
    # The tree is an export, not a checkout: the commit is the one it was exported from.
    document["identity"].update(revision=commit, dirty=False)
    try:
        planned = planned_from_document(document, f"revision {label}", allow_empty=True)
    except PlanFileError as exc:
        raise RevisionError(exc.source, exc.problems) from None
    return replace(planned, label=label)


def plan_revision(rev: str, root: Path = REPO_ROOT, stack: str = "prod") -> PlannedRevision:
    commit = _resolve(rev, root)
    label = f"{rev} ({commit[:12]})" if not commit.startswith(rev) else commit[:12]
    with tempfile.TemporaryDirectory(prefix="opshub-rev-") as tmp:
        _export(commit, root, Path(tmp))
        return plan_tree(Path(tmp), label, stack, commit)


def read_plan_file(path: Path, *, allow_empty: bool = False) -> PlannedRevision:
    """A `resources.json` from `opshub plan`, with the revision and inputs it carries."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(str(path), [f"cannot read the plan file: {exc.strerror}"]) from None
    except ValueError as exc:
        raise PlanFileError(str(path), [f"not JSON: {exc}"]) from None
    return planned_from_document(document, str(path), allow_empty=allow_empty)
