"""Where snapshots live in the bucket: the job writes these keys and nothing else (its IAM says so too)."""

from __future__ import annotations

SNAPSHOT_PREFIX = "snapshots"
LATEST_KEY = "latest.json"


def snapshot_key(as_of: str) -> str:
    """`snapshots/<yyyy>/<mm>/<dd>.json` for an RFC 3339 as_of."""
    yyyy, mm, dd = as_of[:10].split("-")
    return f"{SNAPSHOT_PREFIX}/{yyyy}/{mm}/{dd}.json"


def partial_key(as_of: str, generated_at: str) -> str:
    """A partial snapshot, kept for people under `snapshots/partial/`, never as latest.json."""
    yyyy, mm, dd = as_of[:10].split("-")
    return f"{SNAPSHOT_PREFIX}/partial/{yyyy}/{mm}/{dd}/{generated_at.replace(':', '')}.json"
