"""Proportions with Wilson score confidence intervals, as PHE and Fingertips compute them.

Method
------
For ``x`` events out of ``n``, with ``z`` the standard normal quantile at
``(1 + confidence) / 2``, the Wilson score limits are::

    (2x + z² ∓ z·sqrt(z² + 4x(1 − x/n))) / (2(n + z²))

They stay inside [0, 1], are asymmetric near 0 and 1, and behave well for small ``n``
and for ``x = 0`` or ``x = n``, which the simple normal (Wald) interval does not.

Assumptions: each of the ``n`` people independently has the attribute with the same
probability (a binomial count). Counts need not be whole numbers (PHE allows weighted
counts), but the numerator must not exceed the denominator.

References
----------
1. Wilson EB. Probable inference, the law of succession, and statistical inference.
   J Am Stat Assoc 1927;22:209-212.
2. Newcombe RG, Altman DG. Proportions and their differences. In: Altman DG et al.
   (eds). Statistics with confidence, 2nd edn. BMJ Books; 2000. p. 46-48.
3. PHEindicatormethods (UKHSA), ``phe_proportion`` and ``wilson_lower``/``wilson_upper``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import norm

from mhbook.stats._result import Estimate, build_frame, to_estimate
from mhbook.stats._validate import (
    check_inputs,
    check_multiplier,
    confidence_levels,
    single_level,
    warn_missing,
)

ArrayLike = float | Sequence[float] | np.ndarray | pd.Series


class Limits(NamedTuple):
    """Lower and upper confidence limits (floats for scalar input, else arrays)."""

    lower: float | np.ndarray
    upper: float | np.ndarray


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level (1.959964 at 0.95)."""
    return float(norm.ppf((1 + confidence) / 2))


def _wilson(x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    z = z_value(confidence)
    centre = 2 * x + z**2
    # x(1 - x/n) can dip a hair below 0 through rounding when x == n
    spread = z * np.sqrt(z**2 + 4 * x * np.clip(1 - x / n, 0, None))
    denom = 2 * (n + z**2)
    return (centre - spread) / denom, (centre + spread) / denom


def _proportion_checks(x: ArrayLike, n: ArrayLike, names: tuple[str, str]):
    return check_inputs(
        {names[0]: x, names[1]: n},
        nonnegative=(names[0],),
        positive=(names[1],),
        not_above=((names[0], names[1]),),
        context="for a proportion",
    )


def wilson_ci(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> Limits:
    """Wilson score limits for ``x`` events out of ``n``, on the 0-1 scale.

    Parameters
    ----------
    x, n:
        Numerators and denominators (scalars, arrays or Series; scalars broadcast).
    confidence:
        One level, a fraction in [0.9, 1), e.g. 0.95 or 0.998.

    Returns
    -------
    Limits
        ``(lower, upper)`` as proportions of 1 (PHE's ``wilson_lower``/``wilson_upper``).
        Missing inputs give missing limits, with a :class:`SuppressedInputWarning`.
    """
    level = single_level(confidence, "wilson_ci", "proportion()")
    checked = _proportion_checks(x, n, ("x", "n"))
    warn_missing(checked, "x or n")
    lower, upper = _wilson(checked["x"], checked["n"], level)
    if checked.scalar:
        return Limits(float(lower[0]), float(upper[0]))
    return Limits(lower, upper)


def _statistic(multiplier: float) -> str:
    if multiplier == 100:
        return "percentage"
    return f"proportion of {multiplier:g}"


def proportion(
    numerator: ArrayLike,
    denominator: ArrayLike,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 100,
) -> pd.DataFrame | Estimate:
    """Proportions (percentages by default) with Wilson score confidence limits.

    Parameters
    ----------
    numerator, denominator:
        Counts of people with the attribute and in the population (scalars, arrays or
        Series). Numerators must be 0 to denominator; denominators above 0. Missing
        values (suppressed counts) give missing outputs and one warning.
    confidence:
        A level such as 0.95, or several such as ``(0.95, 0.998)`` for Fingertips'
        two sets of limits.
    multiplier:
        Scale of the output: 100 (default) for a percentage, 1 for a proportion of 1.

    Returns
    -------
    pandas.DataFrame or Estimate
        For array/Series input, one row per input row (the Series index is kept) with
        ``numerator, denominator, value, lower_cl, upper_cl, confidence, statistic,
        method`` (limit columns suffixed ``_95``, ``_99_8`` ... when several levels are
        asked for). For scalar input, an :class:`Estimate` that prints readably.
        ``statistic`` is ``"percentage"`` or ``"proportion of <multiplier>"`` and
        ``method`` is ``"Wilson"``, as in PHEindicatormethods' ``phe_proportion``.

    Examples
    --------
    >>> print(proportion(26623, 61572))  # doctest: +SKIP
    43.24 (95% CI 42.85 to 43.63) percentage, Wilson
    """
    levels = confidence_levels(confidence)
    m = check_multiplier(multiplier)
    checked = _proportion_checks(numerator, denominator, ("numerator", "denominator"))
    warn_missing(checked, "numerator or denominator")
    x, n = checked["numerator"], checked["denominator"]
    limits = {}
    for level in levels:
        lower, upper = _wilson(x, n, level)
        limits[level] = (lower * m, upper * m)
    frame = build_frame(checked.index, {"numerator": x, "denominator": n}, x / n * m, limits, _statistic(m), "Wilson")
    return to_estimate(frame, levels) if checked.scalar else frame
