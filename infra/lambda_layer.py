"""The Lambda layers that `make lambda-layer` builds, and the check that they are there.

- `psycopg`: psycopg and cryptography, for the rotation, export and review Lambdas;
- `metrics`: the metrics job's other dependencies (infra/components/metrics.py).

A real `pulumi preview` or `pulumi up` refuses to start without them, naming the command
that builds them, rather than failing at the layer upload with part of the stack already
changed. Each layer must carry exactly the versions pyproject.toml pins.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from infra.config import REPO_ROOT
from infra.errors import UsageError

LAYER_DIR = REPO_ROOT / "build" / "lambda-layer" / "psycopg"
METRICS_LAYER_DIR = REPO_ROOT / "build" / "lambda-layer" / "metrics"
PYPROJECT = REPO_ROOT / "pyproject.toml"
BUILD_COMMAND = "make lambda-layer"
# Each requirement a layer carries, and the distributions it installs (dist-info names,
# compared case-insensitively: pip writes PyYAML's as pyyaml in newer wheels).
LAYER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "psycopg[binary]": ("psycopg", "psycopg_binary"),
    "cryptography": ("cryptography",),
}
METRICS_LAYER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "urllib3": ("urllib3",),
    "jsonschema": ("jsonschema",),
    "pydantic": ("pydantic",),
    "PyYAML": ("pyyaml",),
}


def layer_pins(requirements: Mapping[str, tuple[str, ...]] = LAYER_REQUIREMENTS, pyproject: Path = PYPROJECT) -> dict[str, str]:
    """The version pyproject.toml pins for each requirement of a layer."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(str(pyproject), [f"cannot read the layer's pins: {exc}"]) from None
    dependencies = project.get("dependencies", [])
    pins, problems = {}, []
    for requirement in requirements:
        found = [m.group(1) for d in dependencies if (m := re.fullmatch(re.escape(requirement) + r"==(\S+)", d))]
        if len(found) == 1:
            pins[requirement] = found[0]
        else:
            problems.append(f"expected exactly one `{requirement}==VERSION` dependency")
    if problems:
        raise UsageError(str(pyproject), problems)
    return pins


def pinned_psycopg(pyproject: Path = PYPROJECT) -> str:
    """The psycopg version pyproject.toml pins (the layer must carry the same)."""
    return layer_pins(LAYER_REQUIREMENTS, pyproject)["psycopg[binary]"]


def require_layer(layer_dir: Path, requirements: Mapping[str, tuple[str, ...]], pyproject: Path = PYPROJECT) -> None:
    """Refuse when a layer is missing or was built for other versions than the pinned ones."""
    site = layer_dir / "python"
    installed = {p.name.lower() for p in site.glob("*.dist-info")} if site.is_dir() else set()
    problems = []
    for requirement, version in layer_pins(requirements, pyproject).items():
        distributions = requirements[requirement]
        missing = [f"{d}-{version}.dist-info" for d in distributions if f"{d}-{version}.dist-info".lower() not in installed]
        if not missing:
            continue
        found = sorted(name for d in distributions for name in installed if name.startswith(f"{d.lower()}-"))
        problem = f"the {requirement.split('[')[0]} {version} Lambda layer is not built (missing {', '.join(missing)}"
        problem += f"; found {', '.join(found)})" if found else ")"
        problems.append(f"{problem}; run `{BUILD_COMMAND}` before `pulumi preview` or `pulumi up`")
    if problems:
        raise UsageError(str(layer_dir), problems)


def require_lambda_layer(layer_dir: Path = LAYER_DIR, pyproject: Path = PYPROJECT) -> None:
    """The psycopg layer of the rotation, export and review Lambdas."""
    require_layer(layer_dir, LAYER_REQUIREMENTS, pyproject)


def require_metrics_layer(layer_dir: Path = METRICS_LAYER_DIR, pyproject: Path = PYPROJECT) -> None:
    """The metrics job's dependency layer."""
    require_layer(layer_dir, METRICS_LAYER_REQUIREMENTS, pyproject)
