"""Fingertips' recent-trend test (mhbook.stats.trend) against worked examples.

Worked examples, with their sources:

1. R's ``prop.trend.test`` help page (package stats): smokers 83, 90, 129, 70 out of
   patients 86, 93, 136, 82 give "X-squared = 8.2249, df = 1, p-value = 0.004132".
2. Rosner, Fundamentals of Biostatistics, breast cancer and age at first birth
   (pp. 430-437, reproduced in a course handout on studylib.net, doc 5880747): cases
   320, 1206, 1011, 463, 220 of 1742, 5638, 3904, 1555, 626 women at scores 1-5 give
   A = sum x s - (sum x)(sum n s)/N = 567.16; X^2 = A^2 / (p q (sum n s^2 - (sum n s)^2/N)).
3. A weighted-least-squares example worked by hand below (exact arithmetic): values
   10, 12, 14, 16, 18 with 95% limits +-1.96 (so every SE is 1 and every weight 1).
   slope = sum (t - 3)(y - 14) / sum (t - 3)^2 = 20 / 10 = 2; Var(slope) = 1 / 10;
   chi2 = 2^2 * 10 = 40 > 9.5495, so "Increasing".
4. The rate example in PHEindicatormethods' ``assign_trend_markers`` documentation
   (values 30.6, 30.2, 28, 24.6, 24.67 with limits) falls steadily: "Decreasing".
"""

from __future__ import annotations

import numpy as np
import pytest

from mhbook.stats import StatsInputError, chi_squared_for_trend, recent_trend, weighted_trend
from mhbook.stats.trend import CANNOT, CRITICAL, DECREASING, INCREASING, NO_CHANGE


def test_critical_value_is_fingertips_99_8():
    assert CRITICAL == pytest.approx(9.5495, abs=1e-4)


def test_r_prop_trend_test_example():
    chi2, slope = chi_squared_for_trend([83, 90, 129, 70], [86, 93, 136, 82])
    assert chi2 == pytest.approx(8.2249, abs=1e-4)
    assert slope < 0  # proportions fall from 0.97 to 0.85


def test_rosner_breast_cancer_example():
    x = np.array([320, 1206, 1011, 463, 220.0])
    n = np.array([1742, 5638, 3904, 1555, 626.0])
    s = np.arange(1, 6)
    a = (x * s).sum() - x.sum() * (n * s).sum() / n.sum()
    assert a == pytest.approx(567.16, abs=0.01)  # as published
    p = x.sum() / n.sum()
    b = p * (1 - p) * ((n * s**2).sum() - (n * s).sum() ** 2 / n.sum())
    chi2, slope = chi_squared_for_trend(x, n)
    assert chi2 == pytest.approx(a**2 / b, rel=1e-12)
    assert chi2 == pytest.approx(129.01, abs=0.01)
    result = recent_trend([2011, 2012, 2013, 2014, 2015], value_type="proportion", numerator=x, denominator=n)
    assert result.trend == INCREASING and slope > 0


def test_weighted_example_by_hand():
    y = np.array([10, 12, 14, 16, 18.0])
    chi2, slope = weighted_trend(y, y - 1.959964, y + 1.959964, [1, 2, 3, 4, 5])
    assert slope == pytest.approx(2.0)
    assert chi2 == pytest.approx(40.0, rel=1e-6)
    res = recent_trend([1, 2, 3, 4, 5], value_type="other", values=y, lower=y - 1.959964, upper=y + 1.959964)
    assert res.trend == INCREASING


def test_phe_documentation_rate_example_decreasing():
    res = recent_trend(
        [1, 2, 3, 4, 5],
        value_type="other",
        values=[30.6, 30.2, 28, 24.6, 24.67],
        lower=[28.98, 28.63, 26.44, 23.15, 23.16],
        upper=[32.25, 31.9, 29.64, 26.19, 26.25],
    )
    assert res.trend == DECREASING
    assert res.chi_squared > CRITICAL


def test_not_significant_is_no_change():
    # Synthetic: flat proportions with small denominators.
    res = recent_trend([1, 2, 3, 4, 5], value_type="proportion", numerator=[10, 12, 9, 11, 10], denominator=[100] * 5)
    assert res.trend == NO_CHANGE and res.chi_squared < CRITICAL


def test_outlier_reverses_slope():
    # Synthetic: four flat points and one large jump; the jump alone makes the trend,
    # and dropping it reverses the slope, so Fingertips calls it no significant change.
    y = np.array([20.0, 20.5, 20.0, 19.5, 40.0])
    se = np.array([0.1, 0.1, 0.1, 0.1, 0.1])
    res = recent_trend([1, 2, 3, 4, 5], value_type="other", values=y, lower=y - 1.96 * se, upper=y + 1.96 * se)
    assert res.chi_squared > CRITICAL
    assert res.trend == NO_CHANGE and "outlier" in res.reason


@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_fewer_than_five_points_cannot_be_calculated(k):
    res = recent_trend(list(range(k)), value_type="proportion", numerator=[5] * k, denominator=[10] * k)
    assert res.trend == CANNOT and "fewer than 5" in res.reason


def test_uses_only_five_most_recent_points_in_time_order():
    # Synthetic: an early rise then a steady fall; given out of order.
    t = [2019, 2013, 2014, 2015, 2016, 2017, 2018]
    y = [10.0, 5.0, 30.0, 20.0, 18.0, 14.0, 12.0]
    res = recent_trend(t, value_type="other", values=y, lower=[v - 0.5 for v in y], upper=[v + 0.5 for v in y])
    assert res.times == (2015, 2016, 2017, 2018, 2019)
    assert res.trend == DECREASING


def test_missing_value_among_recent_points():
    res = recent_trend([1, 2, 3, 4, 5], value_type="proportion", numerator=[1, 2, np.nan, 4, 5], denominator=[10] * 5)
    assert res.trend == CANNOT and "missing numerator" in res.reason


def test_rolling_periods_not_tested():
    res = recent_trend(
        [1, 2, 3, 4, 5], value_type="other", values=[1] * 5, lower=[0] * 5, upper=[2] * 5, overlapping=True
    )
    assert res.trend == CANNOT and "overlapping" in res.reason


def test_bad_input_raises():
    with pytest.raises(StatsInputError):
        chi_squared_for_trend([5, 11], [10, 10])
    with pytest.raises(StatsInputError):
        recent_trend([1, 2, 3, 4, 5], value_type="rate", values=[1] * 5)
    with pytest.raises(StatsInputError):
        recent_trend([1, 2, 3, 4, 5], value_type="other", values=[1] * 5)
