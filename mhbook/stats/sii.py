"""Slope and relative index of inequality (SII, RII), by PHE's method.

Method
------
For one area (or each group of rows sharing a ``by`` key), with quantiles ordered from
1 = most deprived to k = least deprived:

1. Each quantile's share of the population is ``a_i = pop_i / Σ pop``; its relative
   rank ``x_i`` is the midpoint of its band of the cumulative share
   (``x_1 = a_1 / 2``, ``x_2 = a_1 + a_2 / 2``, ...), so x runs from 0 (most deprived
   end) to 1 (least deprived end).
2. The values ``y_i`` are regressed on ``x_i`` by weighted least squares with weights
   ``a_i`` (PHE fits ``√a·y = b0·√a + b1·√a·x`` with no free intercept, which is the
   same thing; the weighting also evens out the variances of unequal quantiles).
3. SII = fitted value at x = 1 minus fitted value at x = 0 (the slope ``b1``), the gap
   across the whole population; RII = fitted value at x = 1 divided by fitted value at
   x = 0, i.e. ``(b0 + b1) / b0``: least deprived end over most deprived end, PHE's
   definition. ``intercept`` is the fitted value at x = 0 (the most deprived end).
4. With ``transform=True`` (rates or proportions only) the regression is run on
   log(rate) or logit(proportion) and the fitted ends are transformed back before
   taking their difference (SII) and ratio (RII), as PHE's ``transform`` option does.
5. Confidence limits come from simulation: each quantile's value is redrawn
   ``repetitions`` times from a normal distribution with its standard error, the SII
   and RII are refitted for every draw, and the limits are the percentiles of the
   simulated values at ``(1 − confidence)/2`` and ``(1 + confidence)/2``. Rates
   (``value_type=1``) are drawn on the log scale and proportions (``value_type=2``) on
   the logit scale, then transformed back (unless ``transform=True``, where the fit
   stays on that scale). Standard errors are taken from ``se`` (on that log or logit
   scale for rates and proportions) or derived from 95% limits as
   ``(g(upper) − g(lower)) / (2 × 1.959964)`` with g the log, logit or identity.
6. ``multiplier`` scales the SII and its limits (e.g. 100 for percentage points); a
   negative multiplier flips the polarity: the SII changes sign, its limits swap, and
   the RII and its limits are inverted, as PHE does. The intercept is scaled by the
   multiplier's absolute value.

Assumptions: the indicator changes linearly with relative rank (on the scale fitted);
each quantile's value is normally distributed (on the log/logit scale for rates and
proportions) with the given standard error, independently of the others; limits passed
in are 95% limits. Small quantile populations (many quantiles) make the SII unstable.
The simulation is vectorised: ``repetitions × k`` normal draws per group (100,000 × 10
is 8 MB).

References
----------
1. Low A, Low A. Measuring the gap: quantifying and comparing local health
   inequalities. J Public Health 2004;26:388-395.
2. PHE. Technical guide: calculating the slope index of inequality and relative index of
   inequality (Fingertips).
3. PHEindicatormethods (UKHSA), ``phe_sii``; validated against its test workbook
   ``testdata_SII.xlsx`` in ``tests/test_stats_reference.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mhbook.stats._result import limit_columns
from mhbook.stats._validate import (
    StatsInputError,
    SuppressedInputWarning,
    check_inputs,
    check_multiplier,
    check_quantile_count,
    ci_label,
    confidence_levels,
    group_positions,
)
from mhbook.stats.proportions import ArrayLike, z_value

VALUE_TYPES = {0: "normal", 1: "rate", 2: "proportion"}
MIN_REPETITIONS = 1000


def _identity(v: np.ndarray) -> np.ndarray:
    return v


def _logit(v: np.ndarray) -> np.ndarray:
    return np.log(v / (1 - v))


def _expit(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


# (to the simulation scale, back to the value scale) for each value_type
_SCALES = {0: (_identity, _identity), 1: (np.log, np.exp), 2: (_logit, _expit)}


def _check_arguments(se, lower_cl, upper_cl, value_type, transform, repetitions) -> None:
    if value_type not in VALUE_TYPES:
        raise StatsInputError(f"value_type {value_type!r} should be 0 (normal), 1 (rate) or 2 (proportion).")
    if transform and value_type == 0:
        raise StatsInputError("transform=True needs value_type 1 (rate, log scale) or 2 (proportion, logit scale).")
    if se is None and (lower_cl is None or upper_cl is None):
        raise StatsInputError("sii needs either se, or both lower_cl and upper_cl: give one value per quantile row.")
    if isinstance(repetitions, bool) or not isinstance(repetitions, (int, np.integer)) or repetitions < MIN_REPETITIONS:
        raise StatsInputError(f"repetitions {repetitions!r} should be a whole number of at least {MIN_REPETITIONS}.")


def _fit(s: np.ndarray, x: np.ndarray, y: np.ndarray, pinv: np.ndarray, back, transform: bool):
    """Weighted fit(s); y is (..., k) on the fitting scale. Returns low end, high end."""
    b0, b1 = np.moveaxis((y * s) @ pinv.T, -1, 0)
    if transform:
        return back(b0), back(b0 + b1)
    return b0, b0 + b1


def _one_group(pop, y_value, se_t, levels, repetitions, value_type, transform, rng):
    to_scale, back = _SCALES[value_type]
    a = pop / pop.sum()
    x = np.cumsum(a) - a / 2
    s = np.sqrt(a)
    pinv = np.linalg.pinv(np.column_stack([s, x * s]))
    mu = to_scale(y_value)
    fit_y = mu if transform else y_value
    low, high = _fit(s, x, fit_y, pinv, back, transform)
    draws = mu + se_t * rng.standard_normal((repetitions, pop.size))
    sim_low, sim_high = _fit(s, x, draws if transform else back(draws), pinv, back, transform)
    sim_sii, sim_rii = sim_high - sim_low, sim_high / sim_low
    limits = {}
    for level in levels:
        q = [(1 - level) / 2, (1 + level) / 2]
        limits[level] = (np.quantile(sim_sii, q), np.quantile(sim_rii, q))
    return high - low, high / low, low, limits


def sii(
    *,
    quantile: ArrayLike,
    population: ArrayLike,
    value: ArrayLike,
    se: ArrayLike | None = None,
    lower_cl: ArrayLike | None = None,
    upper_cl: ArrayLike | None = None,
    by: ArrayLike | pd.DataFrame | None = None,
    value_type: int = 0,
    transform: bool = False,
    confidence: float | Sequence[float] = 0.95,
    repetitions: int = 100_000,
    rii: bool = False,
    multiplier: float = 1,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Slope index of inequality (and optionally RII) with simulated confidence limits.

    Every input is a keyword array (or Series) with one entry per quantile row, all of
    the same length; rows may come in any order.

    Parameters
    ----------
    quantile, population, value:
        The quantile number (a whole number from 1 = most deprived), its population
        (> 0, never missing) and the indicator value.
    se, lower_cl, upper_cl:
        Each quantile's standard error, or its 95% limits (used to derive it when ``se``
        is None). See the module notes for the scale.
    by:
        Group keys, one per row (e.g. ``table["area_code"]``), for one SII per group; a
        DataFrame of key columns groups by several. None: all rows are one group.
    value_type:
        0 normal (e.g. life expectancy), 1 rate (log scale), 2 proportion of 1 (logit).
    transform:
        Fit on the log/logit scale (value_type 1 or 2 only), as PHE's ``transform``.
    confidence:
        A level such as 0.95 or several such as ``(0.95, 0.998)``.
    repetitions:
        Simulation draws (at least 1,000; default 100,000).
    rii:
        Also return the RII and its limits.
    multiplier:
        Scale for the SII (e.g. 100 for percentage points from proportions of 1);
        negative to flip polarity.
    random_state:
        Seed or :class:`numpy.random.Generator`; a fixed seed gives identical output.
        Groups are simulated in sorted key order, so row order does not matter.

    Returns
    -------
    pandas.DataFrame
        One row per group: the group keys first (a column named after the ``by``
        Series, ``by`` for a plain array, or the DataFrame's key columns), then ``sii,
        sii_lower_cl, sii_upper_cl`` (PHE: ``sii, sii_lowercl, sii_uppercl``), then
        ``rii, rii_lower_cl, rii_upper_cl`` when ``rii=True``, ``intercept``,
        ``confidence`` and ``method``. Several levels suffix the limit columns
        (``sii_lower_cl_95``, ...).

    Raises
    ------
    StatsInputError
        Inputs of different lengths, a quantile that is not a whole number from 1 to
        100, missing or non-positive populations, a missing ``by`` key, negative
        standard errors, values or limits outside the range their value_type allows,
        fewer than 5 or more than 100 quantiles in a group, a quantile repeated in a
        group, bad arguments. Each message names the argument (and row) at fault.

    Warns
    -----
    SuppressedInputWarning
        Groups with a missing value, se or limit get missing outputs; counted.
    ManyQuantilesWarning
        More than 10 quantiles in a group.
    """
    _check_arguments(se, lower_cl, upper_cl, value_type, transform, repetitions)
    levels = confidence_levels(confidence)
    m = check_multiplier(multiplier, allow_negative=True)
    spread = {"se": se} if se is not None else {"lower_cl": lower_cl, "upper_cl": upper_cl}
    checked = check_inputs(
        {"quantile": quantile, "population": population, "value": value, **spread},
        required=("quantile", "population"),
        positive=("population",),
        nonnegative=("se",) if se is not None else (),
        quantiles=("quantile",),
        keys=("by", by) if by is not None else None,
    )
    scale_rule = {1: "positive", 2: "open_unit"}.get(value_type)
    if scale_rule:
        scaled = ("value", *(() if se is not None else spread))
        given = {"value": value, **spread}
        check_inputs(
            {name: given[name] for name in scaled},
            **{scale_rule: scaled},
            context=f"for value_type {value_type} ({VALUE_TYPES[value_type]}s are simulated on the "
            f"{'log' if value_type == 1 else 'logit'} scale)",
        )
    to_scale = _SCALES[value_type][0]
    if se is not None:
        se_all = checked["se"]
    else:
        se_all = (to_scale(checked["upper_cl"]) - to_scale(checked["lower_cl"])) / (2 * z_value(0.95))
    rng = np.random.default_rng(random_state)

    keys = [] if checked.keys is None else list(checked.keys.columns)
    groups = group_positions(checked.keys, checked.missing.size, sort=False)
    rows, skipped_rows, skipped_groups = [], 0, []
    for key in sorted(groups, key=_sort_key):
        pos = groups[key]
        where = "data" if not keys else f"group {key!r}"
        q = checked["quantile"][pos]
        if np.unique(q).size != q.size:
            dup = pd.Series(q).value_counts().index[0]
            hint = " (several groups? give their keys as by=)" if not keys else ""
            raise StatsInputError(
                f"quantile {dup:g} appears more than once in {where}: give one row per quantile{hint}."
            )
        check_quantile_count(q.size, where)
        pos = pos[np.argsort(q, kind="stable")]
        result = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        if checked.missing[pos].any():
            skipped_rows += int(checked.missing[pos].sum())
            skipped_groups.append(key)
            rows.append(result)
            continue
        est_sii, est_rii, intercept, limits = _one_group(
            checked["population"][pos],
            checked["value"][pos],
            se_all[pos],
            levels,
            repetitions,
            value_type,
            transform,
            rng,
        )
        result.update(_scaled_output(est_sii, est_rii, intercept, limits, levels, m, rii))
        rows.append(result)
    if skipped_rows:
        warnings.warn(
            SuppressedInputWarning(
                f"{skipped_rows} of {checked.missing.size} rows have a missing value or "
                f"{' or '.join(spread)} (suppressed?); sii is left missing for "
                f"{len(skipped_groups)} group(s): {skipped_groups[:5]!r}."
            ),
            stacklevel=2,
        )
    out = pd.DataFrame(rows, columns=keys + _output_columns(levels, rii))
    out["confidence"] = ci_label(levels)
    out["method"] = f"simulation, {repetitions} repetitions"
    return out


def _sort_key(key):
    # group keys may mix types; sort on their text for a stable order
    return tuple(str(k) for k in key) if isinstance(key, tuple) else str(key)


def _output_columns(levels, rii: bool) -> list[str]:
    cols = ["sii"] + [c for _, lo, hi in limit_columns(levels, "sii_") for c in (lo, hi)]
    if rii:
        cols += ["rii"] + [c for _, lo, hi in limit_columns(levels, "rii_") for c in (lo, hi)]
    return cols + ["intercept"]


def _scaled_output(est_sii, est_rii, intercept, limits, levels, m: float, rii: bool) -> dict:
    out = {"sii": m * est_sii}
    flip = m < 0
    for level, lo_col, hi_col in limit_columns(levels, "sii_"):
        lo, hi = m * limits[level][0]
        out[lo_col], out[hi_col] = (hi, lo) if flip else (lo, hi)
    if rii:
        out["rii"] = 1 / est_rii if flip else est_rii
        for level, lo_col, hi_col in limit_columns(levels, "rii_"):
            lo, hi = limits[level][1]
            out[lo_col], out[hi_col] = (1 / hi, 1 / lo) if flip else (lo, hi)
    out["intercept"] = abs(m) * intercept
    return out
