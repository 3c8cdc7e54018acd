"""Publishing a snapshot: S3 (dated key, then latest.json) and one row in ops_metrics.snapshots.

Only a complete snapshot is published: first `snapshots/<yyyy>/<mm>/<dd>.json`, then
the row, then `latest.json`, so `latest.json` and the last good row are replaced
only once everything else worked. A back-fill (an older day) leaves `latest.json` alone. A partial snapshot goes to
`snapshots/partial/<yyyy>/<mm>/<dd>/<generated_at>.json` for people to read, and
the run fails (`PartialSnapshot`), which the job's error alarm reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from infra.metrics.keys import LATEST_KEY, partial_key, snapshot_key
from infra.metrics.run import Outcome

CONTENT_TYPE = "application/json"

INSERT_SQL = """
insert into ops_metrics.snapshots (as_of, generated_at, schema_version, catalogue_sha256, snapshot)
values (%(as_of)s, %(generated_at)s, %(schema_version)s, %(catalogue_sha256)s, %(snapshot)s::jsonb)
"""


class PartialSnapshot(Exception):
    """The run read or computed only part of the data: nothing good was replaced."""


def _put(s3: Any, bucket: str, key: str, text: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=CONTENT_TYPE, ChecksumAlgorithm="SHA256")


def publish(outcome: Outcome, s3: Any, bucket: str, append_row: Callable[[dict], None], replace_latest: bool = True) -> list[str]:
    """Publish a complete snapshot and return the keys written; a partial one raises after saving it aside."""
    document = outcome.document
    if not outcome.complete:
        key = partial_key(document["as_of"], document["generated_at"])
        _put(s3, bucket, key, outcome.text)
        raise PartialSnapshot(f"partial snapshot saved as s3://{bucket}/{key}; latest.json and ops_metrics were left as they were: "
                              + "; ".join(document["partial_reasons"]))
    dated = snapshot_key(document["as_of"])
    _put(s3, bucket, dated, outcome.text)
    append_row(document)
    if not replace_latest:
        return [dated]
    _put(s3, bucket, LATEST_KEY, outcome.text)
    return [dated, LATEST_KEY]


def row(document: dict) -> dict:
    return {
        "as_of": document["as_of"], "generated_at": document["generated_at"], "schema_version": document["schema_version"],
        "catalogue_sha256": document["catalogue_sha256"], "snapshot": json.dumps(document, sort_keys=True),
    }


def postgres_appender(dsn: str) -> Callable[[dict], None]:
    """Append the row as the job's login (psycopg from the Lambda layer; TLS unless PGSSLMODE says otherwise)."""

    def append(document: dict) -> None:
        import psycopg  # only where a database is reached

        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute(INSERT_SQL, row(document))

    return append
