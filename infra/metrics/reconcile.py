"""Double entry: figures entered by hand (CSV) against an automated snapshot.

The CSV has a header row with `date`, `metric`, `window`, `value` and `entered_by`.
`metric` is a catalogue metric name, optionally with a path into its window entry:
`lead_time` (the value), `lead_time.p90`, `pages_by_hour_class.ops-hub.sleep`,
`oncall_time.ops-hub.median`. `value` is a number, or `null` for "not defined".
Only rows dated the snapshot's `as_of` day are compared; each figure matches when
|manual - automated| <= absolute + relative x |automated| (the metric's tolerance
in the catalogue). Any malformed row is a usage error naming its line and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError
from infra.markdown import cell, table
from infra.model.metrics import MetricsCatalogue

COLUMNS = ("date", "metric", "window", "value", "entered_by")
WINDOWS = ("7d", "28d", "90d")


class ReconcileError(UsageError):
    """The manual CSV or the snapshot cannot be compared."""


@dataclass(frozen=True)
class ManualRow:
    line: int
    date: dt.date
    metric: str
    window: str
    value: float | None
    entered_by: str


@dataclass(frozen=True)
class Comparison:
    row: ManualRow
    automated: float | None
    matches: bool

    @property
    def difference(self) -> float | None:
        if self.row.value is None or self.automated is None:
            return None
        return round(self.row.value - self.automated, 4)


def _number(text: str) -> float | None:
    if text.strip().lower() in ("null", "none"):
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_manual(path: Path, catalogue: MetricsCatalogue) -> list[ManualRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ReconcileError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ReconcileError(str(path), [f"line 1: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})"])
    rows, problems, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        where = f"line {line}"
        try:
            date = dt.date.fromisoformat((raw["date"] or "").strip())
        except ValueError:
            problems.append(f"{where}, field date: {raw['date']!r} is not a date (YYYY-MM-DD)")
            continue
        metric = (raw["metric"] or "").strip()
        if metric.split(".")[0] not in catalogue.metric_by_name:
            problems.append(f"{where}, field metric: {metric!r} is not a metric of the catalogue")
            continue
        window = (raw["window"] or "").strip()
        if window not in WINDOWS:
            problems.append(f"{where}, field window: {window!r} is not one of {', '.join(WINDOWS)}")
            continue
        try:
            value = _number(raw["value"] or "")
        except ValueError:
            problems.append(f"{where}, field value: {raw['value']!r} is not a number (or null)")
            continue
        entered_by = (raw["entered_by"] or "").strip()
        if not entered_by:
            problems.append(f"{where}, field entered_by: empty; say who entered the figure")
            continue
        key = (date, metric, window)
        if key in seen:
            problems.append(f"{where}: {metric} {window} on {date} was already entered on line {seen[key]}")
            continue
        seen[key] = line
        rows.append(ManualRow(line, date, metric, window, value, entered_by))
    if problems:
        raise ReconcileError(str(path), problems)
    return rows


def read_snapshot(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReconcileError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    except ValueError as exc:
        raise ReconcileError(str(path), [f"not JSON: {exc}"]) from None
    from infra.metrics.snapshot import SnapshotInvalid, validate

    try:
        validate(document)
    except SnapshotInvalid as exc:
        raise ReconcileError(str(path), [f"not a valid snapshot: {p}" for p in exc.problems]) from None
    return document


def figure(snapshot: dict, metric: str, window: str) -> float | None:
    """The automated figure a manual row names; a path that does not exist is a usage error."""
    name, *path = metric.split(".")
    node = snapshot["metrics"][name]["windows"][window]
    if not path:
        return node["value"]
    for part in path:
        for container in (node, node.get("details", {}) if isinstance(node, dict) else {},
                          node.get("details", {}).get("by_team", {}) if isinstance(node, dict) else {}):
            if isinstance(container, dict) and part in container:
                node = container[part]
                break
        else:
            raise KeyError(part)
    if node is not None and not isinstance(node, (int, float)):
        raise KeyError(metric)
    return node


def reconcile(rows: list[ManualRow], snapshot: dict, catalogue: MetricsCatalogue, source: str) -> list[Comparison]:
    day = dt.date.fromisoformat(snapshot["as_of"][:10])
    todays = [r for r in rows if r.date == day]
    if not todays:
        raise ReconcileError(source, [f"no manual figure is dated {day}, the snapshot's as_of day"])
    comparisons, problems = [], []
    for row in todays:
        try:
            automated = figure(snapshot, row.metric, row.window)
        except KeyError:
            problems.append(f"line {row.line}, field metric: the snapshot has no figure {row.metric!r} in window {row.window}")
            continue
        tolerance = catalogue.metric_by_name[row.metric.split(".")[0]].tolerance
        if row.value is None or automated is None:
            matches = row.value is None and automated is None
        else:
            matches = tolerance.allows(row.value, automated)
        comparisons.append(Comparison(row, automated, matches))
    if problems:
        raise ReconcileError(source, problems)
    return comparisons


def _fmt(value: float | None) -> str:
    return "null" if value is None else f"{value:g}"


def _tolerance(catalogue: MetricsCatalogue, metric: str) -> str:
    t = catalogue.metric_by_name[metric.split(".")[0]].tolerance
    return f"{t.absolute:g} + {t.relative:.0%}"


def render(comparisons: list[Comparison], catalogue: MetricsCatalogue, fmt: str) -> str:
    rows = [
        {
            "metric": c.row.metric, "window": c.row.window, "manual": c.row.value, "automated": c.automated,
            "difference": c.difference, "tolerance": _tolerance(catalogue, c.row.metric),
            "result": "match" if c.matches else "MISMATCH", "entered_by": c.row.entered_by, "line": c.row.line,
        }
        for c in comparisons
    ]
    mismatches = sum(1 for c in comparisons if not c.matches)
    if fmt == "json":
        return json.dumps({"date": str(comparisons[0].row.date), "matches": len(rows) - mismatches,
                           "mismatches": mismatches, "rows": rows}, indent=2, sort_keys=True) + "\n"
    headers = ["metric", "window", "manual", "automated", "difference", "tolerance", "result", "entered by"]
    values = [[r["metric"], r["window"], _fmt(r["manual"]), _fmt(r["automated"]), _fmt(r["difference"]),
               r["tolerance"], r["result"], r["entered_by"]] for r in rows]
    summary = f"{len(rows) - mismatches} match, {mismatches} mismatch"
    if fmt == "markdown":
        return "\n".join([*table(headers, [[cell(v) for v in row] for row in values]), "", summary]) + "\n"
    widths = [max(len(h), *(len(row[i]) for row in values)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in values]
    return "\n".join([*lines, summary]) + "\n"
