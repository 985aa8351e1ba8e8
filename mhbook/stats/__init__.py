"""Pure statistics for mhbook (no I/O), validated against PHEindicatormethods.

Inputs are arrays or Series of equal length, one entry per row. :func:`sii` and
:func:`gradient`, which fit across quantile rows, take them by keyword and give one
result per group of a ``by=`` array of keys.

Every function checks its inputs first with one shared validator
(:mod:`mhbook.stats._validate`): impossible input raises :class:`StatsInputError` (a
``ValueError``) naming the field and row; missing (suppressed) input gives missing
output and one :class:`SuppressedInputWarning` counting the rows.

Outputs use the project's columns ``value``, ``lower_cl``, ``upper_cl`` (PHE's
``value``, ``lowercl``, ``uppercl``) plus ``confidence``, ``statistic`` and ``method``;
see :mod:`mhbook.stats._result`. Scalar input gives a printable :class:`Estimate`.
"""

from mhbook.errors import ManyQuantilesWarning, StatsInputError, SuppressedInputWarning
from mhbook.stats._result import Estimate
from mhbook.stats.benchmark import compare_to_benchmark
from mhbook.stats.correlation import LinearFit, correlation, linear_fit
from mhbook.stats.gradient import gradient
from mhbook.stats.proportions import Limits, proportion, wilson_ci
from mhbook.stats.rates import byars_ci, rate
from mhbook.stats.ratios import difference, ratio
from mhbook.stats.sii import sii
from mhbook.stats.trend import TrendResult, chi_squared_for_trend, recent_trend, weighted_trend

__all__ = [
    "Estimate",
    "LinearFit",
    "Limits",
    "TrendResult",
    "ManyQuantilesWarning",
    "StatsInputError",
    "SuppressedInputWarning",
    "byars_ci",
    "chi_squared_for_trend",
    "compare_to_benchmark",
    "correlation",
    "difference",
    "gradient",
    "linear_fit",
    "proportion",
    "rate",
    "ratio",
    "recent_trend",
    "sii",
    "weighted_trend",
    "wilson_ci",
]
