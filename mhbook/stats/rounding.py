"""Confidence limits that carry the rounding of published counts.

NHS England publishes counts below England level rounded to the nearest 5 (NHS Talking
Therapies, Mental Health Act statistics), and percentages computed from the unrounded
counts. A rate or proportion recomputed from rounded counts is therefore uncertain for
two reasons: sampling (the usual confidence interval) and rounding (the true counts are
any whose rounding gives the published ones). Here the interval is widened to cover
both: the lower limit is the smallest lower limit, and the upper limit the largest
upper limit, over every pair of true counts consistent with the published ones.

Method
------
A count published as ``c`` (a multiple of ``base``, rounded to the nearest) was one of
``c - h .. c + h`` with ``h = floor((base - 1) / 2)`` (2 for base 5); a sum of ``k``
rounded counts was within ``k * h`` of the sum published. Wilson's lower limit rises
with the numerator and falls with the denominator, and its upper limit the reverse, so
the extremes are at the corners ``(x - h, n + h)`` and ``(min(x + h, n - h), n - h)``.
Poisson limits of a rate move with the count alone. Rounding of the published value
itself (whole percentages) is carried the same way: the interval always contains
``value ± half a unit`` of its published precision.

A difference that rounding alone could create never passes a comparison made with these
limits, because the limits contain every value the true counts could give.

References
----------
1. NHS England. NHS Talking Therapies annual report, data quality statement: counts
   below national level rounded to the nearest 5; percentages calculated from
   unrounded figures.
2. PHE. Technical guide: confidence intervals (2018): Wilson score and Byar's methods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mhbook.stats._validate import confidence_levels
from mhbook.stats.proportions import _wilson
from mhbook.stats.rates import count_limits


def half_width(base: int = 5) -> int:
    """How far a count rounded to the nearest ``base`` can be from the true one (2 for 5)."""
    return (base - 1) // 2


def _suffix(level: float) -> str:
    text = f"{level * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", "_")


def _arr(values) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(values)), errors="coerce"), dtype=float)


def proportion_limits(
    numerator,
    denominator,
    confidence: float | Sequence[float] = (0.95, 0.998),
    *,
    terms=1,
    denominator_terms=None,
    base: int = 5,
    published=None,
    published_unit: float = 1.0,
    multiplier: float = 100,
) -> pd.DataFrame:
    """Percentages with Wilson limits widened over the rounding of their counts.

    Parameters
    ----------
    numerator, denominator:
        Published (rounded) counts; missing (suppressed) gives missing output.
    terms:
        How many rounded counts were added to make each count (1, or an array): a sum of
        ``k`` rounded counts is within ``2k`` of the truth (base 5).
    denominator_terms:
        The same for the denominator, when it differs (a denominator that is the
        difference of two rounded counts has 2); default ``terms``.
    base:
        Rounding base (5). ``terms=0`` marks exact counts (England): no widening.
    published:
        The publisher's own percentage, if any: then it is the value, and the limits are
        widened to contain ``published ± published_unit / 2`` (its own rounding).

    Returns
    -------
    pandas.DataFrame
        ``value`` (published, else recomputed), ``value_source`` ("published" /
        "recomputed"), and ``lower_cl_<level>``/``upper_cl_<level>`` (e.g.
        ``lower_cl_95``, ``upper_cl_99_8``), one row per input row.
    """
    x, n = _arr(numerator), _arr(denominator)
    h = half_width(base) * np.broadcast_to(_arr(terms), x.shape)
    hn = half_width(base) * np.broadcast_to(_arr(terms if denominator_terms is None else denominator_terms), x.shape)
    ok = ~np.isnan(x) & ~np.isnan(n) & (n > 0) & (x <= n)
    x_lo, n_hi = np.clip(x - h, 0, None), n + hn
    n_lo = np.clip(n - hn, 1, None)
    x_hi = np.minimum(x + h, n_lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        recomputed = np.where(ok, x / n * multiplier, np.nan)
    pub = np.broadcast_to(_arr(published), x.shape) if published is not None else np.full(x.shape, np.nan)
    has_pub = ~np.isnan(pub)
    out = {
        "value": np.where(has_pub, pub, recomputed),
        "value_source": np.where(has_pub, "published", np.where(ok, "recomputed", None)),
    }
    for level in confidence_levels(confidence):
        lo, _ = _wilson(np.where(ok, x_lo, np.nan), np.where(ok, n_hi, np.nan), level)
        _, hi = _wilson(np.where(ok, x_hi, np.nan), np.where(ok, n_lo, np.nan), level)
        lo, hi = lo * multiplier, hi * multiplier
        lo = np.where(has_pub, np.fmin(lo, pub - published_unit / 2), lo)
        hi = np.where(has_pub, np.fmax(hi, pub + published_unit / 2), hi)
        out[f"lower_cl_{_suffix(level)}"] = np.where(ok, np.clip(lo, 0, multiplier), np.nan)
        out[f"upper_cl_{_suffix(level)}"] = np.where(ok, np.clip(hi, 0, multiplier), np.nan)
    index = numerator.index if isinstance(numerator, pd.Series) else None
    return pd.DataFrame(out, index=index)


def rate_limits(
    count,
    denominator,
    confidence: float | Sequence[float] = (0.95, 0.998),
    *,
    terms=1,
    base: int = 5,
    multiplier: float = 100_000,
) -> pd.DataFrame:
    """Rates with Poisson limits (exact under 10, Byar's from 10) widened over the
    rounding of the count: lower limit of ``count - 2k``, upper of ``count + 2k`` (base 5).

    ``denominator`` is the population (taken as exact). Returns ``value`` and
    ``lower_cl_<level>``/``upper_cl_<level>`` per row.
    """
    x, n = _arr(count), _arr(denominator)
    k = np.broadcast_to(_arr(terms), x.shape)
    h = half_width(base) * k
    ok = ~np.isnan(x) & ~np.isnan(n) & (n > 0)
    out = {"value": np.where(ok, x / np.where(ok, n, 1) * multiplier, np.nan)}
    for level in confidence_levels(confidence):
        lo, _ = count_limits(np.where(ok, np.clip(x - h, 0, None), 0.0), level)
        _, hi = count_limits(np.where(ok, x + h, 0.0), level)
        out[f"lower_cl_{_suffix(level)}"] = np.where(ok, lo / np.where(ok, n, 1) * multiplier, np.nan)
        out[f"upper_cl_{_suffix(level)}"] = np.where(ok, hi / np.where(ok, n, 1) * multiplier, np.nan)
    index = count.index if isinstance(count, pd.Series) else None
    return pd.DataFrame(out, index=index)


def published_rate_limits(
    count, rate, confidence: float | Sequence[float] = (0.95, 0.998), *, terms=1, base: int = 5, rate_unit: float = 0.1
) -> pd.DataFrame:
    """Limits for a published crude rate whose population is not published.

    The rate was computed from the true count ``n`` and population ``P``; the published
    count ``c`` is ``n`` rounded. Since ``rate = n / P``, the limits are
    ``rate × L(n) / n`` and ``rate × U(n) / n`` for Poisson limits ``L, U`` of ``n``,
    taken at their widest over every ``n`` within ``2k`` of ``c`` (base 5), and widened
    to contain the published rate's own rounding (``rate ± rate_unit / 2``).
    """
    c, r = _arr(count), _arr(rate)
    k = np.broadcast_to(_arr(terms), c.shape)
    h = half_width(base) * k
    ok = ~np.isnan(c) & ~np.isnan(r) & (c > 0)
    out = {"value": np.where(ok, r, np.nan)}
    offsets = np.arange(-int(h.max(initial=0)), int(h.max(initial=0)) + 1)
    for level in confidence_levels(confidence):
        lows, highs = [], []
        for d in offsets:
            n = np.where(ok & (np.abs(d) <= h), c + d, np.nan)
            n = np.where(n > 0, n, np.nan)
            lo, hi = count_limits(np.nan_to_num(n, nan=1.0), level)
            lows.append(np.where(np.isnan(n), np.inf, r * lo / np.nan_to_num(n, nan=1.0)))
            highs.append(np.where(np.isnan(n), -np.inf, r * hi / np.nan_to_num(n, nan=1.0)))
        lo = np.fmin(np.min(lows, axis=0), r - rate_unit / 2)
        hi = np.fmax(np.max(highs, axis=0), r + rate_unit / 2)
        out[f"lower_cl_{_suffix(level)}"] = np.where(ok, np.clip(lo, 0, None), np.nan)
        out[f"upper_cl_{_suffix(level)}"] = np.where(ok, hi, np.nan)
    index = count.index if isinstance(count, pd.Series) else None
    return pd.DataFrame(out, index=index)
