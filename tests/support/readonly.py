"""A directory nobody may write into, even root: for the "read-only output folder" tests.

Tests run as root here and in CI, and root ignores permission bits. An immutable
directory (`chattr +i`, ext4 and friends, needs CAP_LINUX_IMMUTABLE) refuses root
too. Where that is not available the test is run as `nobody` instead, in a
subprocess, with the directory's write bits cleared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.config import REPO_ROOT


@dataclass(frozen=True)
class ReadOnlyDir:
    path: Path
    as_nobody: bool  # True: the CLI must run as `nobody` for the directory to be read-only to it

    def opshub(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run `opshub ARGV` as whoever the directory is read-only for."""
        command = [sys.executable, "-m", "infra.cli.main", *argv]
        if self.as_nobody:
            command = ["runuser", "-u", "nobody", "--", *command]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def _immutable(path: Path) -> bool:
    return shutil.which("chattr") is not None and subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[ReadOnlyDir]:
    target = tmp_path / "read-only"
    target.mkdir()
    (target / "keep.txt").write_text("keep me")
    if os.geteuid() != 0:
        target.chmod(0o555)
        yield ReadOnlyDir(target, as_nobody=False)
        target.chmod(0o755)
    elif _immutable(target):
        yield ReadOnlyDir(target, as_nobody=False)
        subprocess.run(["chattr", "-i", str(target)], check=True)
    else:
        # pytest's temp dirs are private to root: give `nobody` a path it can walk.
        shared = Path(tempfile.mkdtemp(prefix="opshub-read-only-"))
        shared.chmod(0o755)
        moved = shared / "read-only"
        target.rename(moved)
        moved.chmod(0o555)
        yield ReadOnlyDir(moved, as_nobody=True)
        moved.chmod(0o755)
        shutil.rmtree(shared)
