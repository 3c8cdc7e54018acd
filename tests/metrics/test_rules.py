"""The time and statistics rules every metric follows, on hand-computed values.

Quantiles follow numpy's default `method="linear"` (Hyndman and Fan type 7); the
expected values are numpy's documented results for these inputs, worked by hand:
h = (n - 1) q, result x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from infra.metrics import stats
from infra.metrics.timeutil import UTC, BadTimestamp, Window, hour_class, parse_time, rfc3339, span_minutes, windows, zone


def t(text: str) -> dt.datetime:
    return parse_time(text)


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([1, 2, 3, 4], 0.5, 2.5),          # h = 1.5
    ([1, 2, 3, 4], 0.9, 3.7),          # h = 2.7 -> 3 + 0.7
    ([15, 20, 35, 40, 50], 0.9, 46),   # h = 3.6 -> 40 + 0.6 * 10
    ([15, 20, 35, 40, 50], 0.5, 35),
    ([7], 0.9, 7),
    ([3, 1, 2], 0.5, 2),               # unsorted input
])
def test_interpolated_quantiles(values: list[float], q: float, expected: float) -> None:
    assert stats.quantile(values, q) == pytest.approx(expected)


def test_no_values_give_no_quantile_and_no_ratio() -> None:
    assert stats.median([]) is None and stats.p90([]) is None
    assert stats.ratio(0, 0) is None, "nothing to divide by is null, not 0"
    assert stats.ratio(0, 4) == 0


@pytest.mark.parametrize(("start", "end", "minutes"), [
    ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z", 0),
    ("2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z", 1),    # rounded up
    ("2026-12-01T10:00:00Z", "2026-12-01T10:01:01Z", 2),
    ("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", 60),
    ("2026-12-01T10:00:00Z", "2026-12-01T09:59:59Z", None),  # negative: null, never 0
])
def test_minutes_are_rounded_up_and_negative_spans_are_null(start: str, end: str, minutes: int | None) -> None:
    assert span_minutes(t(start), t(end)) == minutes


def test_a_missing_end_is_null() -> None:
    assert span_minutes(t("2026-12-01T10:00:00Z"), None) is None


def test_windows_are_half_open_and_end_at_as_of() -> None:
    as_of = t("2026-12-08T00:00:00Z")
    seven, twenty_eight, ninety = windows(as_of)
    assert [w.days for w in (seven, twenty_eight, ninety)] == [7, 28, 90]
    assert seven.start == t("2026-12-01T00:00:00Z") and seven.end == as_of
    assert seven.contains(t("2026-12-01T00:00:00Z")), "the start belongs to the window"
    assert not seven.contains(as_of), "the end (as_of) does not"
    assert not seven.contains(None)


def test_weeks_start_on_monday() -> None:
    # Tuesday 2026-12-01 .. Tuesday 2026-12-08: the Monday weeks of Nov 30 (6 days in) and Dec 7 (1 day in).
    window = Window(7, t("2026-12-01T00:00:00Z"), t("2026-12-08T00:00:00Z"))
    assert window.weeks() == [(dt.date(2026, 11, 30), 6), (dt.date(2026, 12, 7), 1)]


@pytest.mark.parametrize(("utc", "tz", "expected"), [
    ("2026-12-07T07:59:00Z", "UTC", "sleep"),           # Monday 07:59
    ("2026-12-07T08:00:00Z", "UTC", "business"),        # Monday 08:00
    ("2026-12-07T17:59:00Z", "UTC", "business"),
    ("2026-12-07T18:00:00Z", "UTC", "off_hours"),       # Monday evening
    ("2026-12-07T21:59:00Z", "UTC", "off_hours"),
    ("2026-12-07T22:00:00Z", "UTC", "sleep"),           # sleep wins from 22:00
    ("2026-12-05T12:00:00Z", "UTC", "off_hours"),       # Saturday noon
    ("2026-12-05T23:00:00Z", "UTC", "sleep"),           # Saturday night: sleep wins over the weekend
    ("2026-12-07T07:30:00Z", "Europe/Warsaw", "business"),  # 08:30 in Warsaw (UTC+1)
    ("2026-12-06T02:00:10Z", "America/New_York", "off_hours"),  # Saturday 21:00 in New York
    ("2026-07-06T06:30:00Z", "Europe/Warsaw", "business"),  # 08:30 CEST (UTC+2), daylight saving
])
def test_hour_class_in_the_responders_zone(utc: str, tz: str, expected: str, catalogue) -> None:
    assert hour_class(t(utc), ZoneInfo(tz), catalogue.hour_classes) == expected


def test_unknown_zones_are_none_so_callers_fall_back_to_utc() -> None:
    assert zone("Mars/Olympus") is None and zone(None) is None and zone("") is None
    assert zone("Europe/Warsaw") == ZoneInfo("Europe/Warsaw")


@pytest.mark.parametrize("bad", ["2026-12-01", "2026-12-01T10:00:00", "yesterday", None, 5])
def test_timestamps_need_an_offset(bad: object) -> None:
    with pytest.raises(BadTimestamp):
        parse_time(bad)


def test_times_are_written_as_rfc3339_utc() -> None:
    assert rfc3339(t("2026-12-01T11:00:00+01:00")) == "2026-12-01T10:00:00Z"
    assert rfc3339(dt.datetime(2026, 12, 1, 10, 0, 0, 999, tzinfo=UTC)) == "2026-12-01T10:00:00Z"
    assert rfc3339(None) is None
