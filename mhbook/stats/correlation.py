"""Correlation and straight-line fits for scatter plots (e.g. prevalence against IMD).

Methods
-------
:func:`correlation`: Pearson's r with limits from Fisher's z transformation,
``tanh(atanh(r) ∓ z / sqrt(n − 3))`` (scipy's ``pearsonr(...).confidence_interval``),
and the two-sided p-value of r = 0. Assumes the pairs are independent and roughly
bivariate normal; the limits need n >= 4.

:func:`linear_fit`: ordinary least squares ``y = intercept + slope·x`` (statsmodels'
OLS) with t-based limits for both coefficients and a confidence band for the fitted
mean over a grid of x, for drawing on a figure. Assumes independent, homoscedastic,
normal residuals around a straight line. The band is for the mean line, not a
prediction interval for single areas.

References
----------
1. Fisher RA. On the "probable error" of a coefficient of correlation deduced from a
   small sample. Metron 1921;1:3-32.
2. Altman DG, Gardner MJ. Calculating confidence intervals for regression and
   correlation. BMJ 1988;296:1238-1242.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import pearsonr

from mhbook.stats._result import Estimate
from mhbook.stats._validate import (
    StatsInputError,
    check_inputs,
    confidence_levels,
    single_level,
    warn_missing,
)
from mhbook.stats.proportions import ArrayLike


def _pairs(x: ArrayLike, y: ArrayLike, minimum: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    checked = check_inputs({"x": x, "y": y})
    warn_missing(checked, "x or y", stacklevel=4)
    keep = ~checked.missing
    xs, ys = checked["x"][keep], checked["y"][keep]
    if xs.size < minimum:
        raise StatsInputError(f"{what} needs at least {minimum} complete (x, y) pairs; got {xs.size}.")
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        raise StatsInputError(f"{what} needs x and y that vary; one of them is constant.")
    return xs, ys


def correlation(x: ArrayLike, y: ArrayLike, confidence: float | Sequence[float] = 0.95) -> Estimate:
    """Pearson's r between x and y, with Fisher-z limits, n and p-value.

    Pairs with a missing x or y are dropped (counted in a
    :class:`SuppressedInputWarning`). Returns an :class:`Estimate` whose ``value`` is
    r, with ``details`` ``n`` and ``p_value``; ``to_frame()`` gives the tidy row.
    """
    levels = confidence_levels(confidence)
    xs, ys = _pairs(x, y, 4, "correlation")
    result = pearsonr(xs, ys)
    intervals = []
    for level in levels:
        ci = result.confidence_interval(confidence_level=level)
        intervals.append((level, float(ci.low), float(ci.high)))
    return Estimate(
        value=float(result.statistic),
        intervals=tuple(intervals),
        statistic="Pearson correlation",
        method="Fisher z",
        details={"n": float(xs.size), "p_value": float(result.pvalue)},
    )


@dataclass(frozen=True)
class LinearFit:
    """A straight-line fit: coefficients with limits, and a band to draw.

    ``band`` has columns ``x, fit, lower, upper``: the fitted mean and its confidence
    band over ``grid`` evenly spaced x values spanning the data.
    """

    slope: Estimate
    intercept: Estimate
    r_squared: float
    n: int
    band: pd.DataFrame

    def __str__(self) -> str:
        return f"slope {self.slope}\nintercept {self.intercept}\nR² {self.r_squared:.3f}, n {self.n}"


def linear_fit(x: ArrayLike, y: ArrayLike, confidence: float = 0.95, grid: int = 100) -> LinearFit:
    """Least-squares line of y on x with coefficient limits and a confidence band.

    Pairs with a missing x or y are dropped (with a warning); at least 3 pairs needed.
    """
    level = single_level(confidence, "linear_fit", "correlation()")
    if grid < 2:
        raise StatsInputError(f"grid {grid!r} should be at least 2 points.")
    xs, ys = _pairs(x, y, 3, "linear_fit")
    result = sm.OLS(ys, sm.add_constant(xs)).fit()
    ci = np.asarray(result.conf_int(alpha=1 - level))

    def coefficient(i: int, name: str) -> Estimate:
        return Estimate(
            value=float(result.params[i]),
            intervals=((level, float(ci[i, 0]), float(ci[i, 1])),),
            statistic=name,
            method="OLS",
        )

    x_grid = np.linspace(xs.min(), xs.max(), grid)
    frame = result.get_prediction(sm.add_constant(x_grid)).summary_frame(alpha=1 - level)
    band = pd.DataFrame(
        {
            "x": x_grid,
            "fit": frame["mean"].to_numpy(),
            "lower": frame["mean_ci_lower"].to_numpy(),
            "upper": frame["mean_ci_upper"].to_numpy(),
        }
    )
    return LinearFit(
        slope=coefficient(1, "slope"),
        intercept=coefficient(0, "intercept"),
        r_squared=float(result.rsquared),
        n=int(xs.size),
        band=band,
    )
