"""Time rules shared by every metric: UTC, RFC 3339, half-open windows, Monday weeks, minutes rounded up, hour classes."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infra.model.metrics import WEEKDAYS, WINDOW_DAYS, HourClasses

UTC = dt.UTC
HOUR_CLASSES = ("business", "off_hours", "sleep")


class BadTimestamp(ValueError):
    """A value that is not an RFC 3339 timestamp with an offset."""


def parse_time(value: object) -> dt.datetime:
    """An RFC 3339 timestamp (`Z` or an offset) as an aware UTC datetime; naive or malformed values are refused."""
    if not isinstance(value, str):
        raise BadTimestamp(f"expected an RFC 3339 timestamp, found {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadTimestamp(f"expected an RFC 3339 timestamp, found {value!r}") from None
    if parsed.tzinfo is None:
        raise BadTimestamp(f"timestamp {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def rfc3339(moment: dt.datetime | None) -> str | None:
    """UTC, whole seconds, `Z` suffix (the snapshot's only time format)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def span_minutes(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    """Whole minutes from start to end, rounded up; None when either is missing or end is before start."""
    if start is None or end is None or end < start:
        return None
    return math.ceil((end - start).total_seconds() / 60)


def is_negative(start: dt.datetime | None, end: dt.datetime | None) -> bool:
    return start is not None and end is not None and end < start


@dataclass(frozen=True)
class Window:
    """`[start, end)` in UTC, `days` long, ending at the snapshot's as_of."""

    days: int
    start: dt.datetime
    end: dt.datetime

    @property
    def name(self) -> str:
        return f"{self.days}d"

    def contains(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def weeks(self) -> list[tuple[dt.date, int]]:
        """Monday-started UTC weeks overlapping the window, with how many of their days lie in it."""
        first = (self.start - dt.timedelta(days=self.start.weekday())).date()
        weeks = []
        monday = first
        while dt.datetime.combine(monday, dt.time(), UTC) < self.end:
            week_start = dt.datetime.combine(monday, dt.time(), UTC)
            overlap = min(self.end, week_start + dt.timedelta(days=7)) - max(self.start, week_start)
            weeks.append((monday, math.ceil(overlap.total_seconds() / 86400)))
            monday += dt.timedelta(days=7)
        return weeks


def windows(as_of: dt.datetime, days: tuple[int, ...] = WINDOW_DAYS) -> tuple[Window, ...]:
    return tuple(Window(d, as_of - dt.timedelta(days=d), as_of) for d in days)


def week_start(moment: dt.datetime) -> dt.date:
    return (moment - dt.timedelta(days=moment.weekday())).date()


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone, or None when the name is missing or unknown (the caller falls back to UTC and says so)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def hour_class(moment: dt.datetime, tz: ZoneInfo | dt.timezone, classes: HourClasses) -> str:
    """business, off_hours or sleep for a moment in the responder's zone; sleep wins where it overlaps."""
    local = moment.astimezone(tz)
    sleep, business = classes.sleep, classes.business
    in_sleep = (sleep.start <= local.hour or local.hour < sleep.end) if sleep.start > sleep.end else sleep.start <= local.hour < sleep.end
    if in_sleep:
        return "sleep"
    if WEEKDAYS[local.weekday()] in business.weekdays and business.start <= local.hour < business.end:
        return "business"
    return "off_hours"
