"""Fingertips' comparison of a value with a benchmark (e.g. England), by its limits.

Method
------
Fingertips compares an area's value with a benchmark by asking whether the benchmark
lies inside the value's confidence interval (at 95% or 99.8%, the level being that of
the limits passed in):

* upper limit below the benchmark: the value is significantly *lower*;
* lower limit above the benchmark: significantly *higher*;
* otherwise *similar* (not significantly different).

With a polarity (which direction is good) lower/higher become *Better*/*Worse*;
without one (Fingertips' "BOB", blue-orange-blue, or no judgement) they stay
*Lower*/*Higher*. A missing value, limit or benchmark gives *Not compared*.

Assumptions: the benchmark is treated as known without error, as Fingertips does for
England; comparing two areas that both have sampling error needs a test of their
difference instead (see :func:`mhbook.stats.difference`).

References
----------
1. OHID. Fingertips public health profiles: "Compared with benchmark" and polarity
   definitions (technical user guide).
2. PHE. Technical guide: confidence intervals (2018), section on comparing with a
   benchmark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook.errors import StatsInputError
from mhbook.stats._validate import check_inputs, row_name
from mhbook.stats.proportions import ArrayLike

BETTER, SIMILAR, WORSE = "Better", "Similar", "Worse"
HIGHER, LOWER = "Higher", "Lower"
NOT_COMPARED = "Not compared"

# Fingertips' own polarity labels are accepted as well as the short forms.
_POLARITIES = {
    None: None,
    "none": None,
    "not applicable": None,
    "bob - blue orange blue": None,
    "high_is_good": "high",
    "high is good": "high",
    "rag - high is good": "high",
    "low_is_good": "low",
    "low is good": "low",
    "rag - low is good": "low",
}


def _polarity(polarity: str | None) -> str | None:
    key = polarity.strip().lower() if isinstance(polarity, str) else polarity
    if key not in _POLARITIES:
        raise StatsInputError(
            f"polarity {polarity!r} is not known: give 'high_is_good', 'low_is_good' or None "
            "(Fingertips' 'RAG - High is good', 'RAG - Low is good', 'BOB - Blue orange blue' also work)."
        )
    return _POLARITIES[key]


def compare_to_benchmark(
    value: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    benchmark: ArrayLike,
    polarity: str | None = None,
) -> str | pd.Series:
    """Fingertips' significance category of each value against a benchmark.

    Parameters
    ----------
    value, lower, upper:
        The area values and their confidence limits at the level compared at (pass
        the 95% limits for a 95% comparison, the 99.8% limits for 99.8%).
    benchmark:
        The comparator value(s), e.g. England's value; scalar or one per row.
    polarity:
        ``"high_is_good"``, ``"low_is_good"`` or None (no judgement).

    Returns
    -------
    str or pandas.Series
        ``"Better"``, ``"Similar"``, ``"Worse"`` with a polarity, else ``"Higher"``,
        ``"Similar"``, ``"Lower"``; ``"Not compared"`` when anything is missing.
        A Series (index of the first Series input) for array input, a string for
        scalars.
    """
    direction = _polarity(polarity)
    checked = check_inputs({"value": value, "lower": lower, "upper": upper, "benchmark": benchmark})
    lo, hi, bench = checked["lower"], checked["upper"], checked["benchmark"]
    pos = np.flatnonzero(lo > hi)
    if pos.size:
        raise StatsInputError(
            f"lower ({lo[pos[0]]:g}) is above upper ({hi[pos[0]]:g}) in {row_name(checked.index, int(pos[0]))}."
        )
    high_label, low_label = {None: (HIGHER, LOWER), "high": (BETTER, WORSE), "low": (WORSE, BETTER)}[direction]
    category = np.select([checked.missing, hi < bench, lo > bench], [NOT_COMPARED, low_label, high_label], SIMILAR)
    if checked.scalar:
        return str(category[0])
    return pd.Series(category, index=checked.index, name="comparison", dtype=object)
