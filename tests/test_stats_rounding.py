"""Limits that carry the rounding of published counts (mhbook.stats.rounding).

Brute force is the reference: every pair of true counts that rounds to the published
ones is enumerated, its Wilson/Poisson limits computed with the ordinary functions, and
the widened limits must equal the extremes. Counts here are synthetic.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mhbook import stats
from mhbook.stats import rounding


@pytest.mark.parametrize("x,n", [(5, 20), (0, 10), (45, 50), (50, 50), (320, 650)])
def test_proportion_limits_are_the_extremes_over_every_consistent_count(x, n):
    got = rounding.proportion_limits(x, n, confidence=0.95).iloc[0]
    lows, highs = [], []
    for tx, tn in itertools.product(range(max(x - 2, 0), x + 3), range(max(n - 2, 1), n + 3)):
        if tx <= tn:
            est = stats.proportion(tx, tn)
            lows.append(est.lower_cl)
            highs.append(est.upper_cl)
    assert got["lower_cl_95"] == pytest.approx(min(lows))
    assert got["upper_cl_95"] == pytest.approx(max(highs))


def test_a_gap_that_rounding_alone_could_create_is_not_significant():
    # Synthetic row: 25 of 100 published (both rounded to 5) against an overall 35%.
    # Taken as exact, the 95% interval (17.6 to 34.3) excludes 35%: "worse". The true
    # counts could be 27 of 98 (27.6%), whose interval reaches 37%: rounding alone could
    # create that gap, so with the rounding carried it is "similar".
    exact = stats.proportion(25, 100)
    assert stats.compare_to_benchmark(25, exact.lower_cl, exact.upper_cl, 35, "high_is_good") == "Worse"
    widened = rounding.proportion_limits(25, 100, confidence=0.95).iloc[0]
    assert widened["upper_cl_95"] >= stats.proportion(27, 98).upper_cl - 1e-9
    assert (
        stats.compare_to_benchmark(25, widened["lower_cl_95"], widened["upper_cl_95"], 35, "high_is_good") == "Similar"
    )


def test_published_value_is_used_and_lies_inside_its_limits():
    got = rounding.proportion_limits(5, 20, published=39).iloc[0]
    assert got["value"] == 39 and got["value_source"] == "published"
    assert got["lower_cl_95"] <= 39 <= got["upper_cl_95"]
    tight = rounding.proportion_limits(500_000, 1_000_000, confidence=0.95, published=51, terms=0).iloc[0]
    assert tight["lower_cl_95"] <= 50.5 and tight["upper_cl_95"] >= 51.5  # the published rounding is carried


def test_exact_counts_are_not_widened():
    got = rounding.proportion_limits(321061, 634248, confidence=0.95, terms=0).iloc[0]
    est = stats.proportion(321061, 634248)
    assert (got["lower_cl_95"], got["upper_cl_95"]) == pytest.approx((est.lower_cl, est.upper_cl))


def test_sums_of_rounded_counts_widen_with_the_number_of_terms():
    one = rounding.rate_limits(100, 100_000, confidence=0.95, terms=1).iloc[0]
    three = rounding.rate_limits(100, 100_000, confidence=0.95, terms=3).iloc[0]
    assert three["lower_cl_95"] < one["lower_cl_95"] and three["upper_cl_95"] > one["upper_cl_95"]
    assert one["lower_cl_95"] == pytest.approx(stats.rate(98, 100_000).lower_cl)
    assert one["upper_cl_95"] == pytest.approx(stats.rate(102, 100_000).upper_cl)


def test_published_rate_limits_cover_every_consistent_count():
    got = rounding.published_rate_limits(445, 104.3, confidence=0.95).iloc[0]
    assert got["value"] == 104.3
    for n in range(443, 448):
        est = stats.rate(n, n / 104.3 * 100_000)
        assert got["lower_cl_95"] <= est.lower_cl + 1e-9 and got["upper_cl_95"] >= est.upper_cl - 1e-9


def test_suppressed_counts_give_missing_limits_never_zero():
    got = rounding.proportion_limits(np.array([np.nan, 5.0]), np.array([20.0, np.nan]))
    assert got.drop(columns="value_source").isna().all().all()
