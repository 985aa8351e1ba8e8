"""Ratios and differences of two proportions or two rates, with confidence limits.

Group 1 is the group of interest and group 2 the reference: for example the most
deprived decile against the least deprived, or Black against White detention rates.

Method
------
Ratio (relative risk of two proportions, or rate ratio), on the log scale:

* proportions (Katz): ``SE(log RR) = sqrt(1/x1 − 1/n1 + 1/x2 − 1/n2)``;
* rates (Poisson counts): ``SE(log RR) = sqrt(1/O1 + 1/O2)``;

and limits ``RR × exp(∓z·SE)``. A zero count in either group leaves the limits
missing (the log method has none); a zero in the reference group leaves the ratio
missing too.

Difference, by the method of variance estimates recovery (MOVER): with each group's
own limits ``(l1, u1)`` and ``(l2, u2)`` around ``p1`` and ``p2``,
``lower = d − sqrt((p1 − l1)² + (u2 − p2)²)`` and
``upper = d + sqrt((u1 − p1)² + (p2 − l2)²)``, ``d = p1 − p2``. With Wilson limits
this is Newcombe's hybrid score interval (his method 10) for proportions; for rates
the group limits are PHE's (exact below 10 events, Byar's from 10), so a difference
always agrees with the rates shown beside it.

Assumptions: the two groups are independent (no person counted in both); counts are
binomial (proportions) or Poisson (rates) with known denominators.

References
----------
1. Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk
   ratio in cohort studies. Biometrics 1978;34:469-474.
2. Newcombe RG. Interval estimation for the difference between independent
   proportions: comparison of eleven methods. Stat Med 1998;17:873-890.
3. Zou GY, Donner A. Construction of confidence limits about effect measures: a general
   approach. Stat Med 2008;27:1693-1702.
4. Rothman KJ, Greenland S, Lash TL. Modern epidemiology, 3rd edn. 2008 (rate ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from mhbook.stats._result import Estimate, build_frame, to_estimate
from mhbook.stats._validate import (
    StatsInputError,
    check_inputs,
    check_multiplier,
    confidence_levels,
    warn_missing,
)
from mhbook.stats.proportions import ArrayLike, _wilson, z_value
from mhbook.stats.rates import count_limits, statistic_name

Kind = Literal["proportion", "rate"]
_NAMES = ("numerator1", "denominator1", "numerator2", "denominator2")


def _checked(kind: str, numerator1, denominator1, numerator2, denominator2):
    if kind not in ("proportion", "rate"):
        raise StatsInputError(f"kind {kind!r} should be 'proportion' or 'rate'.")
    fields = dict(zip(_NAMES, (numerator1, denominator1, numerator2, denominator2)))
    checked = check_inputs(
        fields,
        nonnegative=("numerator1", "numerator2"),
        positive=("denominator1", "denominator2"),
        not_above=(("numerator1", "denominator1"), ("numerator2", "denominator2")) if kind == "proportion" else (),
        context=f"for a {kind}",
    )
    warn_missing(checked, "numerator or denominator", stacklevel=4)
    return checked


def ratio(
    numerator1: ArrayLike,
    denominator1: ArrayLike,
    numerator2: ArrayLike,
    denominator2: ArrayLike,
    kind: Kind = "proportion",
    confidence: float | Sequence[float] = 0.95,
) -> pd.DataFrame | Estimate:
    """Ratio of group 1 to group 2 (relative risk or rate ratio) with log-method limits.

    Parameters
    ----------
    numerator1, denominator1, numerator2, denominator2:
        Counts and denominators of the two groups (scalars, arrays or Series).
    kind:
        ``"proportion"`` (numerators within denominators) or ``"rate"`` (events over
        population; numerators may exceed denominators).
    confidence:
        A level such as 0.95, or several.

    Returns
    -------
    pandas.DataFrame or Estimate
        The four inputs, ``value`` (the ratio), limits, ``confidence``, ``statistic``
        (``"ratio of proportions"`` or ``"rate ratio"``) and ``method``.
    """
    levels = confidence_levels(confidence)
    checked = _checked(kind, numerator1, denominator1, numerator2, denominator2)
    x1, n1, x2, n2 = (checked[k] for k in _NAMES)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(x2 > 0, (x1 / n1) / (x2 / n2), np.nan)
        if kind == "proportion":
            se = np.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
        else:
            se = np.sqrt(1 / x1 + 1 / x2)
    se = np.where((x1 > 0) & (x2 > 0), se, np.nan)
    limits = {}
    for level in levels:
        z = z_value(level)
        limits[level] = (value * np.exp(-z * se), value * np.exp(z * se))
    statistic = "ratio of proportions" if kind == "proportion" else "rate ratio"
    method = "log (Katz)" if kind == "proportion" else "log (Poisson)"
    frame = build_frame(checked.index, checked.values, value, limits, statistic, method)
    return to_estimate(frame, levels) if checked.scalar else frame


def difference(
    numerator1: ArrayLike,
    denominator1: ArrayLike,
    numerator2: ArrayLike,
    denominator2: ArrayLike,
    kind: Kind = "proportion",
    confidence: float | Sequence[float] = 0.95,
    multiplier: float | None = None,
) -> pd.DataFrame | Estimate:
    """Difference group 1 minus group 2 of two proportions or rates, MOVER limits.

    Parameters
    ----------
    numerator1, denominator1, numerator2, denominator2:
        Counts and denominators of the two groups.
    kind:
        ``"proportion"`` or ``"rate"``.
    confidence:
        A level such as 0.95, or several.
    multiplier:
        Scale of the difference: default 100 (percentage points) for proportions and
        100,000 (per 100,000) for rates.

    Returns
    -------
    pandas.DataFrame or Estimate
        The four inputs, ``value`` (the difference), limits, ``confidence``,
        ``statistic`` (e.g. ``"difference of percentages"``) and ``method``
        (``"Newcombe (Wilson MOVER)"`` or ``"MOVER (exact/Byars)"``).
    """
    levels = confidence_levels(confidence)
    checked = _checked(kind, numerator1, denominator1, numerator2, denominator2)
    m = check_multiplier(multiplier if multiplier is not None else (100 if kind == "proportion" else 100_000))
    x1, n1, x2, n2 = (checked[k] for k in _NAMES)
    p1, p2 = x1 / n1, x2 / n2
    limits = {}
    for level in levels:
        if kind == "proportion":
            (l1, u1), (l2, u2) = _wilson(x1, n1, level), _wilson(x2, n2, level)
        else:
            (c1_lo, c1_hi), (c2_lo, c2_hi) = count_limits(x1, level), count_limits(x2, level)
            l1, u1, l2, u2 = c1_lo / n1, c1_hi / n1, c2_lo / n2, c2_hi / n2
        d = p1 - p2
        lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        limits[level] = (lower * m, upper * m)
    if kind == "proportion":
        statistic = "difference of percentages" if m == 100 else f"difference of proportions of {m:g}"
        method = "Newcombe (Wilson MOVER)"
    else:
        statistic = "difference of " + statistic_name(m).replace("rate ", "rates ")
        method = "MOVER (exact/Byars)"
    frame = build_frame(checked.index, checked.values, (p1 - p2) * m, limits, statistic, method)
    return to_estimate(frame, levels) if checked.scalar else frame
