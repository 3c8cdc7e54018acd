"""The psycopg Lambda layer that `make lambda-layer` builds, and the check that it is there.

The rotation and export Lambdas import psycopg from this layer. A real `pulumi preview`
or `pulumi up` refuses to start without it, naming the command that builds it, rather
than failing at the layer upload with part of the stack already changed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infra.config import REPO_ROOT
from infra.errors import UsageError

LAYER_DIR = REPO_ROOT / "build" / "lambda-layer" / "psycopg"
# The metrics job's other dependencies (infra/components/metrics.py), built by the same command.
METRICS_LAYER_DIR = REPO_ROOT / "build" / "lambda-layer" / "metrics"
METRICS_LAYER_PACKAGES = ("urllib3", "jsonschema", "pydantic", "PyYAML")
PYPROJECT = REPO_ROOT / "pyproject.toml"
BUILD_COMMAND = "make lambda-layer"


def _pinned(pattern: str, what: str, requirement: str, pyproject: Path) -> str:
    """The version pyproject.toml pins with `requirement==VERSION` (matched by `pattern`)."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(str(pyproject), [f"cannot read the pinned {what}: {exc}"]) from None
    dependencies = project.get("dependencies", [])
    pins = [m.group(1) for d in dependencies if (m := re.fullmatch(pattern, d))]
    if len(pins) != 1:
        raise UsageError(str(pyproject), [f"expected exactly one `{requirement}==VERSION` dependency"])
    return pins[0]


def pinned_psycopg(pyproject: Path = PYPROJECT) -> str:
    """The psycopg version pyproject.toml pins (the layer must carry the same)."""
    return _pinned(r"psycopg\[binary\]==(\S+)", "psycopg", "psycopg[binary]", pyproject)


def pinned_package(package: str, pyproject: Path = PYPROJECT) -> str:
    """The version pyproject.toml pins for `package==VERSION`."""
    return _pinned(re.escape(package) + r"==(\S+)", package, package, pyproject)


def require_metrics_layer(layer_dir: Path = METRICS_LAYER_DIR, pyproject: Path = PYPROJECT) -> None:
    """Refuse when the metrics job's dependency layer is missing a pinned package or holds another version."""
    site = layer_dir / "python"
    pins = {package: pinned_package(package, pyproject) for package in METRICS_LAYER_PACKAGES}
    # pip names dist-info directories by the normalised project name (PyYAML -> pyyaml only in newer wheels).
    missing = [
        f"{package}=={version}"
        for package, version in pins.items()
        if not any((site / f"{name}-{version}.dist-info").is_dir() for name in (package, package.lower()))
    ]
    if missing:
        raise UsageError(str(layer_dir), [f"the metrics Lambda layer lacks {', '.join(missing)}; run `{BUILD_COMMAND}` before `pulumi preview` or `pulumi up`"])


def require_lambda_layer(layer_dir: Path = LAYER_DIR, pyproject: Path = PYPROJECT) -> None:
    """Refuse when the layer is missing or was built for another psycopg than the pinned one."""
    version = pinned_psycopg(pyproject)
    site = layer_dir / "python"
    missing = [
        f"{package}-{version}.dist-info"
        for package in ("psycopg", "psycopg_binary")
        if not (site / f"{package}-{version}.dist-info").is_dir()
    ]
    if missing:
        found = sorted(p.name for p in site.glob("psycopg*.dist-info")) if site.is_dir() else []
        problem = f"the psycopg {version} Lambda layer is not built (missing {', '.join(missing)}"
        problem += f"; found {', '.join(found)})" if found else ")"
        raise UsageError(str(layer_dir), [f"{problem}; run `{BUILD_COMMAND}` before `pulumi preview` or `pulumi up`"])
