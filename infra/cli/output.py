"""Output folders: checked before the work starts, and written all or nothing.

`check_out_dir` fails early (exit 2, naming the folder) when `--out` is a file
or cannot be written, by really creating and removing a scratch folder in it,
so a long plan is never run for nothing. `write_all` renders every file into a
scratch folder inside `--out` and then moves each into place; if anything
fails, the files already moved are put back as they were and the error names
the folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from infra.errors import UsageError

SCRATCH_PREFIX = ".opshub-"


def _fail(out: Path, action: str, exc: OSError) -> UsageError:
    return UsageError(str(out), [f"cannot {action}: {exc.strerror or exc} (choose another --out, or fix its permissions)"])


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_out_dir(out: Path) -> None:
    """Fail before any work if `out` can never hold the result."""
    if out.exists() and not out.is_dir():
        raise UsageError(str(out), ["--out must be a directory, and this is a file"])
    probe_in = out if out.exists() else _nearest_existing(out)
    if not probe_in.is_dir():
        raise UsageError(str(out), [f"cannot create the output directory: {probe_in} is a file"])
    try:
        Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=probe_in)).rmdir()
    except OSError as exc:
        where = "write into the output directory" if probe_in == out else f"create the output directory in {probe_in}"
        raise _fail(out, where, exc) from None


def write_all(out: Path, files: dict[str, str]) -> list[Path]:
    """Write every `name -> text` into `out`, or none of them; returns the paths written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=out))
    except OSError as exc:
        raise _fail(out, "create the output directory", exc) from None
    try:
        for name, text in files.items():
            (scratch / name).write_text(text, encoding="utf-8")
        return _move_into_place(out, scratch, list(files))
    except OSError as exc:
        raise _fail(out, "write the output files", exc) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _move_into_place(out: Path, scratch: Path, names: list[str]) -> list[Path]:
    """Move the rendered files over their targets; on a failure put every replaced file back."""
    backup = scratch / ".previous"
    backup.mkdir()
    moved: list[str] = []
    try:
        for name in names:
            target = out / name
            if target.exists():
                os.link(target, backup / name)
            os.replace(scratch / name, target)
            moved.append(name)
    except OSError:
        for name in moved:
            previous = backup / name
            if previous.exists():
                os.replace(previous, out / name)
            else:
                (out / name).unlink(missing_ok=True)
        raise
    return [out / name for name in names]
