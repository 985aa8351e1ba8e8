"""A deprivation gradient: how an outcome changes per quantile step, by a GLM.

Method
------
The quantile number (1 = most deprived, e.g. IMD decile) is used as a linear score:

* ``family="binomial"``: a logistic regression of successes out of trials
  (``numerator`` of ``denominator``, e.g. recovered out of finished treatment) on the
  score; ``exp(slope)`` is the odds ratio per one-step move towards less deprived
  quantiles;
* ``family="poisson"``: a log-linear Poisson regression of counts with
  ``log(denominator)`` as offset (e.g. referrals over population); ``exp(slope)`` is the
  rate ratio per step.

Limits are Wald limits on the log scale, ``exp(slope ∓ z·SE)``. The test for trend is
the Wald z test of slope = 0 (for the binomial model this is the regression form of the
Cochran-Armitage trend test). ``dispersion`` is Pearson's χ² over residual degrees of
freedom: well above 1 means more variation between quantiles than the model allows;
``overdispersion=True`` then multiplies the variances by it (quasi-binomial or
quasi-Poisson), which widens the limits and weakens the trend test honestly.

Assumptions: the log odds (or log rate) changes linearly with the quantile number;
counts are independent binomial or Poisson given the quantile (before any
overdispersion scaling). Fitted with statsmodels' GLM.

References
----------
1. Armitage P. Tests for linear trends in proportions and frequencies. Biometrics
   1955;11:375-386.
2. McCullagh P, Nelder JA. Generalized linear models, 2nd edn. Chapman & Hall; 1989.
3. Seabold S, Perktold J. statsmodels: econometric and statistical modeling with
   Python. Proc 9th Python in Science Conf; 2010.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from mhbook.stats._result import limit_columns
from mhbook.stats._validate import (
    StatsInputError,
    SuppressedInputWarning,
    check_inputs,
    check_quantile_count,
    ci_label,
    confidence_levels,
    group_positions,
)
from mhbook.stats.proportions import ArrayLike

_STATISTIC = {"binomial": "odds ratio per quantile step", "poisson": "rate ratio per quantile step"}


def _fit_one(score, x, n, family, levels, overdispersion):
    exog = sm.add_constant(score)
    if family == "binomial":
        model = sm.GLM(np.column_stack([x, n - x]), exog, family=sm.families.Binomial())
    else:
        model = sm.GLM(x, exog, family=sm.families.Poisson(), offset=np.log(n))
    result = model.fit()
    dispersion = float(result.pearson_chi2 / result.df_resid)
    if overdispersion:
        # an explicit scale: statsmodels' scale="X2" mis-scales two-column binomial endog
        result = model.fit(scale=dispersion)
    slope = result.params[1]
    out = {"value": float(np.exp(slope))}
    for level, lo, hi in limit_columns(levels):
        ci = np.asarray(result.conf_int(alpha=1 - level))[1]
        out[lo], out[hi] = float(np.exp(ci[0])), float(np.exp(ci[1]))
    out["p_trend"] = float(result.pvalues[1])
    out["dispersion"] = dispersion
    out["n_quantiles"] = int(score.size)
    return out


def gradient(
    *,
    quantile: ArrayLike,
    numerator: ArrayLike,
    denominator: ArrayLike,
    by: ArrayLike | pd.DataFrame | None = None,
    family: Literal["binomial", "poisson"] = "binomial",
    confidence: float | Sequence[float] = 0.95,
    overdispersion: bool = False,
) -> pd.DataFrame:
    """Odds ratio (binomial) or rate ratio (Poisson) per quantile step, with a trend test.

    Every input is a keyword array (or Series) with one entry per quantile row, all of
    the same length; rows may come in any order.

    Parameters
    ----------
    quantile, numerator, denominator:
        The quantile number used as a linear score (a whole number from 1 = most
        deprived), the successes or events, and the trials or population (> 0).
    by:
        Group keys, one per row (e.g. ``table["area_code"]``), to fit one model per
        group; a DataFrame of key columns groups by several. None: one model.
    family:
        ``"binomial"`` (numerator out of denominator) or ``"poisson"`` (events over
        population, numerators may exceed denominators).
    confidence:
        A level such as 0.95, or several.
    overdispersion:
        Multiply variances by Pearson χ²/df (quasi-likelihood).

    Returns
    -------
    pandas.DataFrame
        One row per group, in sorted key order: the group keys (a column named after
        the ``by`` Series, ``by`` for a plain array, or the DataFrame's key columns),
        ``value`` (ratio per step), ``lower_cl``, ``upper_cl``, ``p_trend``,
        ``dispersion``, ``n_quantiles``, ``confidence``, ``statistic`` and ``method``.
        Rows with missing numerator or denominator are dropped before fitting, with a
        :class:`SuppressedInputWarning`.

    Raises
    ------
    StatsInputError
        Inputs of different lengths, a quantile that is not a whole number from 1 to
        100 or is missing, a missing ``by`` key, a negative numerator, a denominator not
        above zero (or, for the binomial, below its numerator), fewer than 5 quantiles
        in a group, bad arguments. Each message names the argument (and row) at fault.
    """
    if family not in _STATISTIC:
        raise StatsInputError(f"family {family!r} should be 'binomial' or 'poisson'.")
    levels = confidence_levels(confidence)
    checked = check_inputs(
        {"quantile": quantile, "numerator": numerator, "denominator": denominator},
        required=("quantile",),
        nonnegative=("numerator",),
        positive=("denominator",),
        not_above=(("numerator", "denominator"),) if family == "binomial" else (),
        quantiles=("quantile",),
        keys=("by", by) if by is not None else None,
        context=f"for a {family} model",
    )
    if checked.missing.any():
        warnings.warn(
            SuppressedInputWarning(
                f"{int(checked.missing.sum())} of {checked.missing.size} rows have a missing numerator or "
                "denominator (suppressed?); they are left out of the fit."
            ),
            stacklevel=2,
        )
    keys = [] if checked.keys is None else list(checked.keys.columns)
    rows = []
    for key, pos in group_positions(checked.keys, checked.missing.size, sort=True).items():
        where = "data" if not keys else f"group {key!r}"
        pos = pos[~checked.missing[pos]]
        score = checked["quantile"][pos]
        check_quantile_count(np.unique(score).size, where)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update(
            _fit_one(score, checked["numerator"][pos], checked["denominator"][pos], family, levels, overdispersion)
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out["confidence"] = ci_label(levels)
    out["statistic"] = _STATISTIC[family]
    out["method"] = f"{family} GLM, quantile as linear score" + (", quasi-likelihood scale" if overdispersion else "")
    return out
