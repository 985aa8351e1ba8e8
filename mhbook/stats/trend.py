"""Fingertips' recent-trend test: increasing, decreasing or no significant change.

Method
------
As documented in OHID's *Fingertips public health technical guidance: trend markers*
(https://fingertips.phe.org.uk/static-reports/public-health-technical-guidance/Presentation/Trend_markers.html)
and implemented in PHEindicatormethods' ``assign_trend_markers()``:

* The test uses the **five most recent** values of a series. Fewer than five points,
  a missing value, count, denominator or limit among them, repeated time values or
  overlapping (rolling) periods mean the trend *cannot be calculated*, with the reason.
* **Proportions** (crude or indirectly standardised): the chi-squared test for trend
  (Cochran-Armitage; Altman 1991, pp. 261-265). With counts ``x_i`` of ``n_i`` at
  times ``t_i``, ``N = sum n``, ``p = sum x / N`` and ``t_bar = sum n t / N``::

      beta = sum n_i (x_i/n_i - p)(t_i - t_bar) / sum n_i (t_i - t_bar)^2
      chi2 = (sum x_i (t_i - t_bar))^2 / (p (1 - p) sum n_i (t_i - t_bar)^2)

  ``beta`` is the slope of the proportions on time weighted by the denominators (its
  sign is the direction); ``chi2`` equals R's ``prop.trend.test``.
* **Rates and every other type** with confidence limits: weighted least squares of
  the values on time, each weighted by ``1 / SE_i^2`` with ``SE_i = (U_i - L_i) /
  (2 z)`` from the published limits (``z`` of their level, 1.96 for 95%)::

      beta = sum w (t - t_w)(y - y_w) / sum w (t - t_w)^2,  Var(beta) = 1 / sum w (t - t_w)^2
      chi2 = beta^2 / Var(beta)

* The trend is significant when ``chi2`` exceeds 9.5495, the chi-squared (1 df)
  critical value at 99.8% (``3.0902^2``). A significant trend is then checked for an
  outlier: the slope is refitted leaving out each point in turn, and if any refit
  changes sign the result is "No significant change" (reason "outlier found").
  Otherwise it is "Increasing" (``beta > 0``) or "Decreasing".

Whether a direction is good or bad depends on the indicator's polarity and is for the
caller to say; this module reports direction only.

References
----------
1. Office for Health Improvement and Disparities. Fingertips trend markers. Public
   health technical guidance (2025), URL above.
2. PHEindicatormethods (UKHSA), ``assign_trend_markers`` (R package), which applies
   the same 99.8% threshold (9.5495) and leave-one-out outlier check.
3. Altman DG. Practical statistics for medical research. Chapman & Hall, 1991,
   section 10.7.4 (chi-squared test for trend).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from mhbook.errors import StatsInputError

INCREASING, DECREASING = "Increasing", "Decreasing"
NO_CHANGE, CANNOT = "No significant change", "Cannot be calculated"
#: Chi-squared (1 df) critical value at 99.8%, as Fingertips uses (3.0902^2).
CRITICAL = float(sps.chi2.ppf(0.998, 1))
POINTS = 5


@dataclass(frozen=True)
class TrendResult:
    """One recent-trend result.

    ``trend``: "Increasing", "Decreasing", "No significant change" or "Cannot be
    calculated"; ``reason``: why (e.g. "fewer than 5 points (3)"); ``slope`` and
    ``chi_squared`` of the five most recent points (NaN when not calculated);
    ``n_points`` used; ``method``: "chi-squared test for trend" or "weighted least
    squares"; ``times``: the time values tested.
    """

    trend: str
    reason: str
    slope: float = float("nan")
    chi_squared: float = float("nan")
    n_points: int = 0
    method: str = ""
    times: tuple[float, ...] = ()

    @property
    def calculated(self) -> bool:
        return self.trend != CANNOT

    def __str__(self) -> str:
        if not self.calculated:
            return f"{self.trend}: {self.reason}"
        return f"{self.trend} (chi-squared {self.chi_squared:.2f}, slope {self.slope:.4g}; {self.reason})"


def _floats(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numbers; got {values!r}") from exc
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def chi_squared_for_trend(
    x: Sequence[float], n: Sequence[float], scores: Sequence[float] | None = None
) -> tuple[float, float]:
    """The chi-squared test for trend in proportions: ``(chi2, slope)``.

    ``x`` events out of ``n`` at each ``scores`` (default 1, 2, ...). The slope is that
    of the proportions on the scores, weighted by ``n``. Raises
    :class:`StatsInputError` for counts above denominators or negative input.
    """
    x, n = _floats("x", x), _floats("n", n)
    t = np.arange(1.0, len(x) + 1) if scores is None else _floats("scores", scores)
    if not (len(x) == len(n) == len(t)):
        raise StatsInputError(f"x, n and scores must have the same length; got {len(x)}, {len(n)}, {len(t)}")
    if np.isnan(np.concatenate([x, n, t])).any():
        raise StatsInputError("x, n and scores must not be missing for the chi-squared test for trend")
    if (x < 0).any() or (n <= 0).any() or (x > n).any():
        raise StatsInputError(f"need 0 <= x <= n and n > 0; got x={x.tolist()}, n={n.tolist()}")
    big_n = n.sum()
    p = x.sum() / big_n
    t_bar = (n * t).sum() / big_n
    sxx = (n * (t - t_bar) ** 2).sum()
    if sxx == 0:
        raise StatsInputError("scores must not all be equal")
    slope = (n * (x / n - p) * (t - t_bar)).sum() / sxx
    if p in (0.0, 1.0):
        return 0.0, slope
    chi2 = ((x * (t - t_bar)).sum()) ** 2 / (p * (1 - p) * sxx)
    return float(chi2), float(slope)


def weighted_trend(
    values: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    times: Sequence[float],
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Weighted least-squares trend: ``(chi2, slope)``, weights ``1/SE^2`` from the limits."""
    y, lo, hi, t = (
        _floats(k, v) for k, v in (("values", values), ("lower", lower), ("upper", upper), ("times", times))
    )
    if not (len(y) == len(lo) == len(hi) == len(t)):
        raise StatsInputError("values, lower, upper and times must have the same length")
    if not 0.9 <= confidence < 1:
        raise StatsInputError(f"confidence must be a fraction in [0.9, 1); got {confidence}")
    z = sps.norm.ppf(0.5 + confidence / 2)
    se = (hi - lo) / (2 * z)
    if (se <= 0).any():
        raise StatsInputError(f"upper limits must be above lower limits; got {lo.tolist()} and {hi.tolist()}")
    w = 1 / se**2
    t_w = (w * t).sum() / w.sum()
    y_w = (w * y).sum() / w.sum()
    sxx = (w * (t - t_w) ** 2).sum()
    if sxx == 0:
        raise StatsInputError("times must not all be equal")
    slope = (w * (t - t_w) * (y - y_w)).sum() / sxx
    return float(slope**2 * sxx), float(slope)


def recent_trend(
    times: Sequence[float],
    *,
    value_type: str,
    numerator: Sequence[float] | None = None,
    denominator: Sequence[float] | None = None,
    values: Sequence[float] | None = None,
    lower: Sequence[float] | None = None,
    upper: Sequence[float] | None = None,
    confidence: float = 0.95,
    overlapping: bool = False,
) -> TrendResult:
    """Fingertips' recent trend of a series (see the module docstring for the method).

    ``times``: numeric time values (e.g. the first year of each period), any order.
    ``value_type``: "proportion" (needs ``numerator`` and ``denominator``) or "other"
    (rates, ratios, ...; needs ``values`` and their ``lower``/``upper`` limits at
    ``confidence``). ``overlapping=True`` for rolling periods (e.g. three-year
    pooled), which Fingertips does not test.
    """
    if value_type not in ("proportion", "other"):
        raise StatsInputError(f"value_type must be 'proportion' or 'other'; got {value_type!r}")
    t = _floats("times", times)
    cols = (
        {"numerator": numerator, "denominator": denominator}
        if value_type == "proportion"
        else {"values": values, "lower": lower, "upper": upper}
    )
    missing_args = [k for k, v in cols.items() if v is None]
    if missing_args:
        raise StatsInputError(f"value_type {value_type!r} needs {', '.join(missing_args)}")
    data = {k: _floats(k, v) for k, v in cols.items()}
    if any(len(v) != len(t) for v in data.values()):
        raise StatsInputError(f"times and {', '.join(data)} must have the same length")
    method = "chi-squared test for trend" if value_type == "proportion" else "weighted least squares"
    if np.isnan(t).any():
        raise StatsInputError("times must not be missing")
    if len(np.unique(t)) != len(t):
        return TrendResult(CANNOT, "repeated time periods", method=method)
    if overlapping:
        return TrendResult(
            CANNOT, "rolling (overlapping) periods are not independent, so Fingertips does not test them", method=method
        )
    order = np.argsort(t)
    t = t[order]
    data = {k: v[order] for k, v in data.items()}
    if len(t) < POINTS:
        return TrendResult(
            CANNOT, f"fewer than {POINTS} points ({len(t)})", n_points=len(t), method=method, times=tuple(t)
        )
    t = t[-POINTS:]
    data = {k: v[-POINTS:] for k, v in data.items()}
    gaps = [k for k, v in data.items() if np.isnan(v).any()]
    if gaps:
        return TrendResult(
            CANNOT,
            f"missing {' and '.join(gaps)} among the {POINTS} most recent points",
            n_points=POINTS,
            method=method,
            times=tuple(t),
        )

    def fit(keep: np.ndarray) -> tuple[float, float]:
        if value_type == "proportion":
            return chi_squared_for_trend(data["numerator"][keep], data["denominator"][keep], t[keep])
        return weighted_trend(data["values"][keep], data["lower"][keep], data["upper"][keep], t[keep], confidence)

    everything = np.ones(POINTS, dtype=bool)
    chi2, slope = fit(everything)
    common = dict(slope=slope, chi_squared=chi2, n_points=POINTS, method=method, times=tuple(t))
    if not chi2 > CRITICAL:
        return TrendResult(NO_CHANGE, "no significant trend at 99.8%", **common)
    for j in range(POINTS):
        keep = everything.copy()
        keep[j] = False
        if np.sign(fit(keep)[1]) != np.sign(slope):
            return TrendResult(NO_CHANGE, "outlier found: leaving one point out reverses the slope", **common)
    return TrendResult(INCREASING if slope > 0 else DECREASING, "significant at 99.8%, no outlier", **common)
