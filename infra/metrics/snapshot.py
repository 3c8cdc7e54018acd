"""The snapshot document: assembled from the computation, validated against the published
JSON Schema (snapshot.schema.json, draft 2020-12) and rendered byte-identically for the
same inputs (sorted keys, fixed indentation, numbers rounded by `stats.rounded`).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from infra.metrics.compute import Result
from infra.metrics.records import SourceReport
from infra.metrics.timeutil import rfc3339, windows
from infra.model.metrics import MetricsCatalogue

SCHEMA_PATH = Path(__file__).with_name("snapshot.schema.json")
SCHEMA_VERSION = 1


class SnapshotInvalid(Exception):
    """The document breaks the published schema: it must not be published."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(document: dict) -> None:
    """Raise SnapshotInvalid listing every schema violation (path: message)."""
    validator = Draft202012Validator(schema(), format_checker=FormatChecker())
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top level)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise SnapshotInvalid(problems)


def build(catalogue: MetricsCatalogue, digest: str, as_of: dt.datetime, generated_at: dt.datetime,
          reports: list[SourceReport], result: Result) -> dict:
    reasons = [reason for report in reports for reason in report.partial_reasons]
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": rfc3339(as_of),
        "generated_at": rfc3339(generated_at),
        "status": "partial" if reasons else "complete",
        "partial_reasons": reasons,
        "catalogue_sha256": digest,
        "windows": [{"name": w.name, "days": w.days, "start": rfc3339(w.start), "end": rfc3339(w.end)} for w in windows(as_of)],
        "sources": {report.name: report.to_json() for report in reports},
        "metrics": {
            m.name: {
                "title": m.title, "family": m.family, "unit": m.unit, "aggregation": m.aggregation,
                "owner": catalogue.owner_by_key[m.owner].title,
                "validation": catalogue.validation_state(m, as_of),
                "windows": result.metrics[m.name],
            }
            for m in catalogue.metrics
        },
    }


def render(document: dict) -> str:
    """The canonical text: the same document always gives the same bytes."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_items(items: list[dict]) -> str:
    """JSON Lines, one item per line, keys sorted."""
    return "".join(json.dumps(item, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n" for item in items)
