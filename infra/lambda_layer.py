"""The Lambda layer that `make lambda-layer` builds, and the check that it is there.

The rotation and export Lambdas import psycopg from this layer, and the access review
imports cryptography to sign its client assertion. A real `pulumi preview` or
`pulumi up` refuses to start without the layer (or with one built for other versions
than pyproject.toml pins), naming the command that builds it, rather than failing at
the layer upload with part of the stack already changed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infra.config import REPO_ROOT
from infra.errors import UsageError

LAYER_DIR = REPO_ROOT / "build" / "lambda-layer" / "psycopg"
PYPROJECT = REPO_ROOT / "pyproject.toml"
BUILD_COMMAND = "make lambda-layer"
# Each requirement the layer carries, and the distributions it installs.
LAYER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "psycopg[binary]": ("psycopg", "psycopg_binary"),
    "cryptography": ("cryptography",),
}


def layer_pins(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """The version pyproject.toml pins for each requirement of the layer."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(str(pyproject), [f"cannot read the layer's pins: {exc}"]) from None
    dependencies = project.get("dependencies", [])
    pins, problems = {}, []
    for requirement in LAYER_REQUIREMENTS:
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
    return layer_pins(pyproject)["psycopg[binary]"]


def require_lambda_layer(layer_dir: Path = LAYER_DIR, pyproject: Path = PYPROJECT) -> None:
    """Refuse when the layer is missing or was built for other versions than the pinned ones."""
    site = layer_dir / "python"
    problems = []
    for requirement, version in layer_pins(pyproject).items():
        distributions = LAYER_REQUIREMENTS[requirement]
        missing = [f"{d}-{version}.dist-info" for d in distributions if not (site / f"{d}-{version}.dist-info").is_dir()]
        if not missing:
            continue
        found = sorted(p.name for d in distributions for p in site.glob(f"{d}-*.dist-info")) if site.is_dir() else []
        problem = f"the {requirement.split('[')[0]} {version} Lambda layer is not built (missing {', '.join(missing)}"
        problem += f"; found {', '.join(found)})" if found else ")"
        problems.append(f"{problem}; run `{BUILD_COMMAND}` before `pulumi preview` or `pulumi up`")
    if problems:
        raise UsageError(str(layer_dir), problems)
