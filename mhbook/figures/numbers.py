"""Numbers as the book's tables show them: one precision per value and its limits.

A value and its confidence limits are always written at the same number of decimals,
and the limits are rounded *outwards* (lower down, upper up) at that precision, so a
displayed value never falls outside its displayed limits (rounding the value and its
limits each to nearest can put "1.5" outside "1.48 to 1.49"). Counts are whole numbers.
Missing values stay missing (``None``), for the table's missing label to say why.

Precision per kind of measure (:data:`DECIMALS`): percentages 1 decimal, rates per
100,000 none (or 1 below 1,000, as rates of that size are published), ratios and odds ratios 2 (three significant figures near
1), prevalence 1.
"""

from __future__ import annotations

import math

import pandas as pd

#: decimals per unit as the tables show it
DECIMALS = {"%": 1, "per 100,000": 0, "ratio": 2, "score": 1}


def decimals_for(unit: str, value: float | None = None) -> int:
    """Decimals for a value in ``unit``; a rate per 100,000 below 1,000 keeps one decimal."""
    if unit == "per 100,000" and value is not None and pd.notna(value) and abs(value) < 1000:
        return 1
    return DECIMALS.get(unit, 1)


def number(value, decimals: int = 1) -> str | None:
    """``value`` with thousands separators at ``decimals``; None when missing."""
    if value is None or pd.isna(value):
        return None
    return f"{value:,.{decimals}f}"


def count(value) -> str | None:
    """A count as a whole number ("855", never "855.0"); None when missing."""
    if value is None or pd.isna(value):
        return None
    return f"{round(float(value)):,d}"


def _outward(x: float, decimals: int, up: bool) -> float:
    scale = 10**decimals
    # a tiny tolerance keeps 1.2000000001 from becoming 1.3 when it was 1.2 computed
    shifted = x * scale
    return (math.ceil(shifted - 1e-9) if up else math.floor(shifted + 1e-9)) / scale


def limits(lower, upper, decimals: int = 1) -> str | None:
    """ "lower to upper" rounded outwards at ``decimals``; None when either is missing."""
    if lower is None or upper is None or pd.isna(lower) or pd.isna(upper):
        return None
    return f"{_outward(lower, decimals, False):,.{decimals}f} to {_outward(upper, decimals, True):,.{decimals}f}"


def limits_series(lower: pd.Series, upper: pd.Series, decimals: int | pd.Series = 1) -> pd.Series:
    """:func:`limits` row by row (``decimals`` a number or one per row)."""
    dec = decimals if isinstance(decimals, pd.Series) else pd.Series(decimals, index=lower.index)
    return pd.Series([limits(lo, hi, int(d)) for lo, hi, d in zip(lower, upper, dec)], index=lower.index, dtype=object)


def numbers_series(values: pd.Series, decimals: int | pd.Series = 1) -> pd.Series:
    """:func:`number` row by row."""
    dec = decimals if isinstance(decimals, pd.Series) else pd.Series(decimals, index=values.index)
    return pd.Series([number(v, int(d)) for v, d in zip(values, dec)], index=values.index, dtype=object)


def counts_series(values: pd.Series) -> pd.Series:
    """Counts as whole numbers (nullable integers), missing kept missing."""
    return pd.to_numeric(values, errors="coerce").round().astype("Int64")


def with_limits(value, lower, upper, decimals: int = 1) -> str | None:
    """ "value (lower to upper)" at one precision, limits rounded outwards."""
    shown = number(value, decimals)
    if shown is None:
        return None
    text = limits(lower, upper, decimals)
    return shown if text is None else f"{shown} ({text})"


def rounded_within(value: float, lower: float, upper: float, decimals: int) -> bool:
    """Whether ``value`` as shown lies within its limits as shown (for tests and checks)."""
    if any(pd.isna(x) for x in (value, lower, upper)):
        return True
    shown = round(float(value), decimals)
    return _outward(lower, decimals, False) - 1e-12 <= shown <= _outward(upper, decimals, True) + 1e-12


__all__ = [
    "DECIMALS",
    "count",
    "counts_series",
    "decimals_for",
    "limits",
    "limits_series",
    "number",
    "numbers_series",
    "rounded_within",
    "with_limits",
]
