"""Ratios, differences, benchmark categories, gradient GLMs, correlation and line fits,
checked against published worked examples, independent implementations (statsmodels,
hand formulas) and synthetic data whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.rates import confint_poisson_2indep

import mhbook.stats as st


@pytest.mark.parametrize(
    ("a", "b", "lower", "upper"),
    [  # Newcombe (1998) Stat Med 17:873, Table II, method 10 (hybrid score / Wilson)
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.1705, 0.8090),
    ],
)
def test_difference_of_proportions_matches_newcombe_published(a, b, lower, upper):
    got = st.difference(*a, *b, multiplier=1)
    assert got.lower_cl == pytest.approx(lower, abs=5e-5)
    assert got.upper_cl == pytest.approx(upper, abs=5e-5)


def test_difference_and_ratio_agree_with_statsmodels():
    rng = np.random.default_rng(11)  # synthetic counts
    n1, n2 = rng.integers(50, 5000, 30), rng.integers(50, 5000, 30)
    x1, x2 = rng.binomial(n1, 0.3), rng.binomial(n2, 0.2)
    diff = st.difference(x1, n1, x2, n2, multiplier=1)
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    np.testing.assert_allclose(diff[["lower_cl", "upper_cl"]].to_numpy().T, [lo, hi], rtol=1e-9)
    rr = st.ratio(x1, n1, x2, n2)
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio")
    np.testing.assert_allclose(rr[["lower_cl", "upper_cl"]].to_numpy().T, [lo, hi], rtol=1e-9)
    irr = st.ratio(x1, n1, x2, n2, kind="rate")
    lo, hi = confint_poisson_2indep(x1, n1, x2, n2, method="wald-log", compare="ratio")
    np.testing.assert_allclose(irr[["lower_cl", "upper_cl"]].to_numpy().T, [lo, hi], rtol=1e-9)


def test_rate_difference_against_a_near_fixed_reference_is_the_rate_interval():
    # a reference group so large its rate is almost exact: the MOVER limits collapse to
    # the first group's own (Byar's) limits minus the reference rate
    own = st.rate(250, 100_000)
    diff = st.difference(250, 100_000, 1e9, 1e13, kind="rate")
    assert diff.value == pytest.approx(own.value - 10, rel=1e-12)
    assert diff.lower_cl == pytest.approx(own.lower_cl - 10, abs=0.01)
    assert diff.upper_cl == pytest.approx(own.upper_cl - 10, abs=0.01)


def test_ratio_with_zero_counts_has_missing_limits():
    got = st.ratio([0, 5], [100, 100], [4, 0], [100, 100], kind="rate")
    assert got["value"].tolist()[0] == 0 and np.isnan(got["value"].iloc[1])
    assert got["lower_cl"].isna().all()


def test_compare_to_benchmark_categories():
    value = pd.Series([10, 20, 30, 20, np.nan])
    lower = pd.Series([8, 15, 25, np.nan, 1])
    upper = pd.Series([12, 25, 35, 22, 3])
    assert st.compare_to_benchmark(value, lower, upper, 20).tolist() == [
        "Lower",
        "Similar",
        "Higher",
        "Not compared",
        "Not compared",
    ]
    assert st.compare_to_benchmark(value, lower, upper, 20, polarity="RAG - Low is good").tolist()[:3] == [
        "Better",
        "Similar",
        "Worse",
    ]
    assert st.compare_to_benchmark(10, 8, 12, 20, polarity="high_is_good") == "Worse"


def test_compare_at_998_is_more_conservative_than_95():
    got = st.proportion([490, 430], [1000, 1000], confidence=(0.95, 0.998))
    at95 = st.compare_to_benchmark(got["value"], got["lower_cl_95"], got["upper_cl_95"], 45)
    at998 = st.compare_to_benchmark(got["value"], got["lower_cl_99_8"], got["upper_cl_99_8"], 45)
    assert at95.tolist() == ["Higher", "Similar"] and at998.tolist() == ["Similar", "Similar"]


def synthetic_exact_gradient(family: str) -> pd.DataFrame:
    """Synthetic deciles lying exactly on the model, so the fit recovers exp(0.1)."""
    q = np.arange(1, 11)
    n = np.linspace(2000, 6000, 10)
    mean = expit(-1 + 0.1 * q) if family == "binomial" else np.exp(-5 + 0.1 * q)
    return pd.DataFrame({"area": "A", "q": q, "n": n, "x": n * mean})


@pytest.mark.filterwarnings("ignore:Perfect separation:statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_gradient_recovers_known_slope(family):
    t = synthetic_exact_gradient(family)
    got = st.gradient(quantile=t["q"], numerator=t["x"], denominator=t["n"], family=family, by=t["area"]).iloc[0]
    assert got["area"] == "A"
    assert got["value"] == pytest.approx(np.exp(0.1), rel=1e-8)
    assert got["lower_cl"] < got["value"] < got["upper_cl"]
    assert got["p_trend"] < 1e-6 and got["dispersion"] == pytest.approx(0, abs=1e-8)
    assert got["statistic"].startswith("odds ratio" if family == "binomial" else "rate ratio")


def test_gradient_overdispersion_widens_limits():
    rng = np.random.default_rng(8)  # synthetic, with extra between-decile variation
    n = np.full(10, 5000.0)
    x = rng.binomial(5000, expit(-1 + 0.05 * np.arange(1, 11) + rng.normal(0, 0.2, 10)))
    table = pd.DataFrame({"q": range(1, 11), "x": x, "n": n})
    arrays = dict(quantile=table["q"], numerator=table["x"], denominator=table["n"])
    plain = st.gradient(**arrays).iloc[0]
    quasi = st.gradient(**arrays, overdispersion=True).iloc[0]
    assert plain["dispersion"] > 1
    assert quasi["upper_cl"] - quasi["lower_cl"] > plain["upper_cl"] - plain["lower_cl"]


def test_gradient_binomial_rejects_numerator_above_denominator():
    table = pd.DataFrame({"q": range(1, 11), "x": [5] * 9 + [50], "n": [10] * 10})
    with pytest.raises(st.StatsInputError, match=r"numerator \(50\) is above denominator \(10\) in row 9"):
        st.gradient(quantile=table["q"], numerator=table["x"], denominator=table["n"])


def test_correlation_matches_fisher_z_by_hand():
    rng = np.random.default_rng(2)  # synthetic
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    got = st.correlation(x, y, confidence=(0.95, 0.998))
    r = np.corrcoef(x, y)[0, 1]
    z = np.arctanh(r)
    assert got.value == pytest.approx(r, rel=1e-12)
    assert got.lower_cl == pytest.approx(np.tanh(z - 1.959963984540054 / np.sqrt(37)), rel=1e-9)
    assert got.upper_cl == pytest.approx(np.tanh(z + 1.959963984540054 / np.sqrt(37)), rel=1e-9)
    assert got.details["n"] == 40 and got.intervals[1][1] < got.lower_cl


def test_correlation_drops_missing_pairs_with_warning():
    with pytest.warns(st.SuppressedInputWarning, match="1 of 6 rows"):
        got = st.correlation([1, 2, 3, 4, 5, np.nan], [2, 1, 4, 3, 6, 1])
    assert got.details["n"] == 5


def test_linear_fit_exact_line_and_band():
    x = np.arange(10.0)
    y = 3 + 2 * x + np.tile([0.1, -0.1], 5)  # synthetic, near-exact line
    fit = st.linear_fit(x, y, grid=11)
    assert fit.slope.value == pytest.approx(2, abs=0.02) and fit.intercept.value == pytest.approx(3, abs=0.1)
    assert fit.slope.lower_cl < fit.slope.value < fit.slope.upper_cl
    assert list(fit.band.columns) == ["x", "fit", "lower", "upper"] and len(fit.band) == 11
    assert (fit.band["lower"] < fit.band["fit"]).all() and (fit.band["fit"] < fit.band["upper"]).all()
    width = fit.band["upper"] - fit.band["lower"]
    assert width.idxmin() == 5  # the band is narrowest at the mean of x (4.5)
