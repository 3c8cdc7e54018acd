"""Where a plan came from: the git revision of the code, and digests of what it read.

A plan carries these as its identity stamp, so a report made later, from another
checkout, still names the revision and inputs the plan was made from. Digests are
sha256 of canonical JSON (sorted keys, no spaces, UTF-8) of the parsed data, so a
comment or quoting change in a YAML file does not change them, and a reader can
recompute them from the data the plan embeds.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import REPO_ROOT

NOT_GIT = "unknown (not a git checkout)"


def canonical_sha256(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git(args: list[str], root: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


@dataclass(frozen=True)
class GitRevision:
    commit: str | None  # the full commit id; None outside a git checkout
    dirty: bool  # tracked or untracked (not ignored) changes in the working tree

    @property
    def label(self) -> str:
        """What a report shows: the short commit, `-dirty` when the tree had changes."""
        if self.commit is None:
            return NOT_GIT
        return self.commit[:12] + ("-dirty" if self.dirty else "")


def git_revision(root: Path = REPO_ROOT) -> GitRevision:
    head = git(["rev-parse", "HEAD"], root)
    if head.returncode != 0:
        return GitRevision(None, False)
    status = git(["status", "--porcelain"], root).stdout.strip()
    return GitRevision(head.stdout.decode().strip(), bool(status))
