"""Interpolated quantiles, as numpy's default `method="linear"` (Hyndman and Fan type 7).

For sorted values x[0..n-1] and a quantile q, h = (n - 1) q and the result is
x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]). Implemented here
rather than depending on numpy for two numbers; tests compare it with numpy's
documented results on hand-computed cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DECIMALS = 4


def quantile(values: Sequence[float], q: float) -> float | None:
    """The type-7 quantile of the values, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    if low + 1 >= len(ordered):
        return float(ordered[-1])
    return ordered[low] + (h - low) * (ordered[low + 1] - ordered[low])


def rounded(value: float | None) -> float | int | None:
    """Numbers as the snapshot writes them: integers stay integers, others get 4 decimals."""
    if value is None:
        return None
    if float(value).is_integer():
        return int(value)
    return round(value, DECIMALS)


def median(values: Sequence[float]) -> float | int | None:
    return rounded(quantile(values, 0.5))


def p90(values: Sequence[float]) -> float | int | None:
    return rounded(quantile(values, 0.9))


def ratio(numerator: int, denominator: int) -> float | int | None:
    """numerator / denominator, or None when there is nothing to divide by (never 0 for "no data")."""
    return rounded(numerator / denominator) if denominator else None
