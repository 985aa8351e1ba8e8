"""Crude rates with exact or Byar's confidence limits, as PHE and Fingertips compute them.

Method
------
A crude rate is ``count / denominator × multiplier`` (per 100,000 people by default).
Its limits are the limits of the count, divided by the denominator and multiplied:

* fewer than 10 events: exact Poisson limits from the chi-squared distribution,
  ``χ²(α/2; 2O)/2`` and ``χ²(1 − α/2; 2O + 2)/2`` (0 for the lower limit of O = 0);
* 10 events or more: Byar's approximation to those limits,
  ``O(1 − 1/(9O) − z/(3√O))³`` and ``(O + 1)(1 − 1/(9(O + 1)) + z/(3√(O + 1)))³``,
  where ``α = 1 − confidence`` and ``z`` is the normal quantile at ``1 − α/2``.

Assumptions: events are independent (a Poisson count) and the denominator is known
exactly (e.g. a mid-year population estimate). Rates may exceed the multiplier (more
events than people, e.g. repeat detentions), so counts are not capped by denominators.

References
----------
1. Breslow NE, Day NE. Statistical methods in cancer research, volume II: the design and
   analysis of cohort studies. Lyon: IARC; 1987 (Byar's method).
2. Armitage P, Berry G. Statistical methods in medical research, 4th edn. Blackwell;
   2002 (exact Poisson limits).
3. PHEindicatormethods (UKHSA), ``phe_rate``, ``byars_lower`` and ``byars_upper``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import chi2

from mhbook.stats._result import Estimate, build_frame, to_estimate
from mhbook.stats._validate import (
    check_inputs,
    check_multiplier,
    confidence_levels,
    single_level,
    warn_missing,
)
from mhbook.stats.proportions import ArrayLike, Limits, z_value

#: Counts below this use exact limits, from it Byar's approximation (PHE's rule).
EXACT_BELOW = 10


def _byars(count: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = count * (1 - 1 / (9 * count) - z / (3 * np.sqrt(count))) ** 3
    # Byar's lower limit is 0 for no events; for tiny counts at high confidence the
    # cube goes negative and the approximation is meaningless (PHE returns NA there).
    lower = np.where(count == 0, 0.0, np.where(lower < 0, np.nan, lower))
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * np.sqrt(count + 1))) ** 3
    return lower, upper


def _exact(count: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(count == 0, 0.0, chi2.ppf(alpha / 2, 2 * count) / 2)
    upper = chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return lower, upper


def count_limits(count: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Limits of a Poisson count by PHE's rule: exact below 10 events, Byar's from 10."""
    exact_lo, exact_hi = _exact(count, confidence)
    byars_lo, byars_hi = _byars(count, confidence)
    small = count < EXACT_BELOW
    return np.where(small, exact_lo, byars_lo), np.where(small, exact_hi, byars_hi)


def byars_ci(count: ArrayLike, confidence: float = 0.95) -> Limits:
    """Byar's confidence limits for an observed number of events (not a rate).

    Parameters
    ----------
    count:
        Observed events, >= 0 (scalar, array or Series).
    confidence:
        One level, a fraction in [0.9, 1).

    Returns
    -------
    Limits
        ``(lower, upper)`` on the count scale (PHE's ``byars_lower``/``byars_upper``).
        Byar's method is poor for very small counts: where its lower limit would be
        negative it is returned missing, as PHE does; :func:`rate` uses exact limits
        below 10 events instead.
    """
    level = single_level(confidence, "byars_ci", "rate()")
    checked = check_inputs({"count": count}, nonnegative=("count",), context="for Byar's limits")
    warn_missing(checked, "count")
    lower, upper = _byars(checked["count"], level)
    if checked.scalar:
        return Limits(float(lower[0]), float(upper[0]))
    return Limits(lower, upper)


def statistic_name(multiplier: float) -> str:
    """PHE's label for a rate's scale, e.g. 'rate per 100000'."""
    return f"rate per {int(multiplier) if float(multiplier).is_integer() else multiplier}"


def rate(
    count: ArrayLike,
    denominator: ArrayLike,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 100_000,
) -> pd.DataFrame | Estimate:
    """Crude rates with exact (under 10 events) or Byar's (10 or more) limits.

    Parameters
    ----------
    count:
        Events (e.g. detentions), >= 0. Missing values (suppressed counts) give missing
        outputs and one :class:`SuppressedInputWarning`.
    denominator:
        Population or person-years at risk, > 0.
    confidence:
        A level such as 0.95, or several such as ``(0.95, 0.998)``.
    multiplier:
        Rate per how many (default 100,000).

    Returns
    -------
    pandas.DataFrame or Estimate
        Array/Series input: ``count, denominator, value, lower_cl, upper_cl,
        confidence, statistic, method`` per row, ``method`` being ``"Exact"`` or
        ``"Byars"`` row by row (missing where the count is missing), ``statistic``
        ``"rate per 100000"``, as in PHEindicatormethods' ``phe_rate``. Several levels
        give suffixed limit columns (``lower_cl_95`` ...). Scalar input: an
        :class:`Estimate`.
    """
    levels = confidence_levels(confidence)
    m = check_multiplier(multiplier)
    checked = check_inputs(
        {"count": count, "denominator": denominator},
        nonnegative=("count",),
        positive=("denominator",),
        context="for a rate",
    )
    warn_missing(checked, "count or denominator")
    x, n = checked["count"], checked["denominator"]
    limits = {}
    for level in levels:
        lower, upper = count_limits(x, level)
        limits[level] = (lower / n * m, upper / n * m)
    method = np.where(np.isnan(x), None, np.where(x < EXACT_BELOW, "Exact", "Byars"))
    frame = build_frame(checked.index, {"count": x, "denominator": n}, x / n * m, limits, statistic_name(m), method)
    return to_estimate(frame, levels) if checked.scalar else frame
