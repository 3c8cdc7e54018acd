"""Plans of git revisions and of plan files, as inputs to the access report and diff.

`plan_revision(rev)` exports the revision's tree with `git archive` into a temp
dir and runs *that revision's* program offline in a child process (its own
`infra/` code, model and stack file), so a base revision is planned exactly as
it was. A model that breaks an invariant is still planned, with the problems
returned, so that a diff can show the widening and report the violation as a
finding; anything else that stops the plan is a RevisionError naming the
revision (exit 2).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config import REPO_ROOT
from infra.errors import UsageError, describe_validation_error
from infra.model.access import AccessModel, load_model

PLAN_TIMEOUT_SECONDS = 600
MIGRATIONS = "infra/migrations"


class RevisionError(UsageError):
    """A revision or plan file that cannot be planned or read."""


@dataclass(frozen=True)
class PlannedRevision:
    label: str  # what the report shows as its revision
    resources: list[dict[str, Any]]
    model: AccessModel
    model_problems: list[str]
    sql_files: dict[str, str]  # the migration files of that tree, by name


# Runs inside the exported tree, importing that revision's own code.
_DRIVER = r"""
import json, sys, traceback
from pathlib import Path
out_path, stack = sys.argv[1], sys.argv[2]
result = {}
try:
    import yaml
    from infra.config import StackSecrets, config_from_pulumi
    from infra.model.access import AccessModel, validate_model
    from infra.offline.plan import run_plan
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
Path(out_path).write_text(json.dumps(result), encoding="utf-8")
"""


def migration_sql(root: Path = REPO_ROOT) -> dict[str, str]:
    """The checkout's migration files by name; the report uses only those whose digest the plan declares."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((root / MIGRATIONS).glob("*.sql"))}


def _git(args: list[str], root: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


def git_revision(root: Path = REPO_ROOT) -> str:
    """`HEAD`'s commit, with `-dirty` when the working tree has changes; `unknown` outside git."""
    head = _git(["rev-parse", "--short=12", "HEAD"], root)
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = _git(["status", "--porcelain", "--untracked-files=no"], root).stdout.strip()
    return head.stdout.decode().strip() + ("-dirty" if dirty else "")


def _resolve(rev: str, root: Path) -> str:
    found = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    if found.returncode != 0:
        raise RevisionError(f"revision {rev!r}", ["is not a commit in this repository"])
    return found.stdout.decode().strip()


def _export(commit: str, root: Path, into: Path) -> None:
    archive = _git(["archive", "--format=tar", commit], root)
    if archive.returncode != 0:
        raise RevisionError(f"revision {commit}", [f"git archive failed: {archive.stderr.decode().strip()}"])
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def _schema_model(raw: object, source: str) -> AccessModel:
    """The model's schema only: invariant violations are findings in a diff, not a refusal."""
    try:
        return AccessModel.model_validate(raw)
    except ValidationError as exc:
        raise RevisionError(source, describe_validation_error(exc, raw)) from None


def plan_tree(tree: Path, label: str, stack: str = "prod") -> PlannedRevision:
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
    model = _schema_model(result["model"], f"revision {label}: infra/model/access.yaml")
    return PlannedRevision(label, result["resources"], model, list(result["model_problems"]), result["sql"])


def plan_revision(rev: str, root: Path = REPO_ROOT, stack: str = "prod") -> PlannedRevision:
    commit = _resolve(rev, root)
    label = f"{rev} ({commit[:12]})" if not commit.startswith(rev) else commit[:12]
    with tempfile.TemporaryDirectory(prefix="opshub-rev-") as tmp:
        _export(commit, root, Path(tmp))
        return plan_tree(Path(tmp), label, stack)


def read_plan_file(path: Path, model_path: Path | None = None) -> PlannedRevision:
    """A `resources.json` from `opshub plan`, joined with the given (default: committed) access model."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RevisionError(str(path), [f"cannot read the plan file: {exc.strerror}"]) from None
    except ValueError as exc:
        raise RevisionError(str(path), [f"not JSON: {exc}"]) from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) and "type" in r for r in resources):
        raise RevisionError(str(path), ["expected the resources.json of `opshub plan`: an object with a `resources` list"])
    model = load_model(model_path) if model_path else load_model()
    return PlannedRevision(path.name, resources, model, [], migration_sql())
