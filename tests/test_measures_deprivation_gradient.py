"""The recovery SII shared by the England and local deprivation chapters, on synthetic
deciles whose answer can be worked out by hand."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mhbook import stats
from mhbook.measures import deprivation_gradient


def synthetic_deciles() -> pd.DataFrame:
    """Ten synthetic deciles of 1,000 people at caseness each. With equal weights decile
    i sits at relative rank (i - 0.5) / 10, and recovery is 40% + 20 points × rank
    (39 + 2i %), so the fitted line runs from 40% (most deprived end) to 60%: SII 20
    percentage points, RII 60 / 40 = 1.5, intercept 40%."""
    d = np.arange(1, 11)
    pct = 39.0 + 2 * d
    return pd.DataFrame(
        {
            "imd_decile": d,
            "at_caseness": 1000.0,
            "recovery_pct": pct,
            "recovery_pct_lower": pct - 3,
            "recovery_pct_upper": pct + 3,
        },
        index=[f"row{i}" for i in d],
    )


def run(t: pd.DataFrame) -> pd.DataFrame:
    return deprivation_gradient.recovery_sii(
        decile=t["imd_decile"],
        at_caseness=t["at_caseness"],
        recovery_pct=t["recovery_pct"],
        recovery_pct_lower=t["recovery_pct_lower"],
        recovery_pct_upper=t["recovery_pct_upper"],
        repetitions=2000,
        random_state=1,
    )


def test_recovery_sii_is_the_worked_example_in_percentage_points():
    got = run(synthetic_deciles()).iloc[0]
    assert got["sii"] == pytest.approx(20, rel=1e-9)
    assert got["rii"] == pytest.approx(1.5, rel=1e-9)
    assert got["intercept"] == pytest.approx(40, rel=1e-9)
    assert got["sii_lower_cl"] < 20 < got["sii_upper_cl"]
    assert got["rii_lower_cl"] < 1.5 < got["rii_upper_cl"]


def test_recovery_sii_is_stats_sii_on_proportions_from_wilson_limits():
    t = synthetic_deciles().sample(frac=1, random_state=3)  # row order does not matter
    want = stats.sii(
        quantile=t["imd_decile"],
        population=t["at_caseness"],
        value=t["recovery_pct"] / 100,
        lower_cl=t["recovery_pct_lower"] / 100,
        upper_cl=t["recovery_pct_upper"] / 100,
        value_type=2,
        rii=True,
        multiplier=100,
        repetitions=2000,
        random_state=1,
    )
    pd.testing.assert_frame_equal(run(t), want)


def test_a_suppressed_decile_gives_a_missing_sii_without_a_warning():
    t = synthetic_deciles()
    t.loc["row4", "recovery_pct"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(t).iloc[0]
    assert np.isnan(got["sii"]) and np.isnan(got["rii"])


def test_bad_deciles_stop_with_the_argument_named():
    t = synthetic_deciles().astype({"imd_decile": float})
    t.loc["row10", "imd_decile"] = 11.5
    with pytest.raises(stats.StatsInputError, match="quantile is 11.5 in row 'row10'"):
        run(t)


def test_the_module_holds_numbers_only():
    tree = ast.parse(Path(deprivation_gradient.__file__).read_text("utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.startswith(("IPython", "matplotlib", "mhbook.figures", "mhbook.pages"))}
