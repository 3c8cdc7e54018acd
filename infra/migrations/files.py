"""The versioned migration files (`NNNN_name.sql` beside this module), read without a database.

The plan needs their digests and nothing else, so this module stays free of psycopg;
`runner` applies them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError

MIGRATIONS_DIR = Path(__file__).resolve().parent
FILE_PATTERN = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")


class MigrationError(UsageError):
    """The migrations cannot be applied; nothing was changed."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; a .sql file with another name is an error, not skipped."""
    files = sorted(directory.glob("*.sql"))
    bad = [f.name for f in files if not FILE_PATTERN.match(f.name)]
    if bad:
        raise MigrationError(str(directory), [f"{name}: migration files must be named NNNN_name.sql" for name in bad])
    return [Migration(f.name, f.read_text(encoding="utf-8")) for f in files]


def file_digests(directory: Path = MIGRATIONS_DIR) -> dict[str, str]:
    """sha256 per migration file: the dynamic resource's input, so a new file means an update."""
    return {m.name: m.sha256 for m in load_migrations(directory)}
