"""IAPT by deprivation decile: England's published figures and every area's footprint."""

from __future__ import annotations

import numpy as np
import pytest

from mhbook import areas
from mhbook.measures import footprints, iapt_deprivation

pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def england_2018():
    return iapt_deprivation.decile_attrition("2018-19").set_index("imd_decile")


def test_england_2018_19_counts_and_published_recovery(england_2018):
    # iapt/PROVENANCE.md: decile 1 = NHS "10 Most deprived", decile 10 = "01 Least deprived".
    # Finished at caseness is NHS England's recovery denominator: finished minus not at
    # caseness (decile 1: 63,934 - 2,261; decile 10: 47,921 - 4,325).
    assert england_2018.loc[1, ["referrals", "finished", "caseness_finished", "recovery"]].tolist() == [
        219_236,
        63_934,
        61_673,
        26_623,
    ]
    assert england_2018.loc[10, ["referrals", "finished", "caseness_finished", "recovery"]].tolist() == [
        110_356,
        47_921,
        43_596,
        25_319,
    ]
    assert england_2018["recovery_pct_published"].tolist() == [
        43.2,
        47.1,
        49.7,
        51.2,
        52.9,
        54.3,
        55.2,
        56.2,
        57.7,
        58.1,
    ]


def test_recomputed_recovery_has_wilson_limits_around_it(england_2018):
    assert england_2018.loc[1, "recovery_pct"] == pytest.approx(100 * 26_623 / 61_673)
    # and it is NHS England's published percentage to its rounding, every decile
    diff = england_2018["recovery_pct"] - england_2018["recovery_pct_published"]
    assert diff.abs().max() <= 0.05 + 1e-9
    assert (england_2018["recovery_pct_lower"] < england_2018["recovery_pct"]).all()
    assert (england_2018["recovery_pct"] < england_2018["recovery_pct_upper"]).all()


def test_referral_rate_uses_the_16plus_population_and_falls_with_deprivation(england_2018):
    rate = england_2018["referral_rate"]
    assert rate.loc[1] == pytest.approx(1e5 * 219_236 / england_2018.loc[1, "population_16plus"])
    assert rate.loc[1] > 2 * rate.loc[10]


def test_recovery_gradient_narrows_but_persists():
    trend = iapt_deprivation.gradient_by_year().set_index("period")
    assert trend.index[0] == "2015-16" and trend.index[-1] == "2024-25"
    assert (trend["sii_lower"] > 0).all(), "recovery is higher at the less deprived end every year"
    assert trend.loc["2024-25", "sii"] < trend.loc["2015-16", "sii"]
    assert (trend["odds_ratio_lower"] > 1).all()


def test_suppressed_counts_stay_missing_in_a_footprint():
    table = iapt_deprivation.decile_attrition("2021-22", "CCG", "00Y")  # NHS Oldham CCG
    assert len(table) == 10
    counts = table[["referrals", "finished", "recovery"]]
    assert not (counts == 0).any().any(), "a suppressed count became zero"
    published = counts.stack().dropna()
    assert (published % 5 == 0).all(), "sub-national counts are rounded to 5"


def test_every_areas_footprint_in_every_nhs_year_has_a_decile_table():
    seen = {}
    for area in areas.all_areas():
        for period in ("2021-22", "2022-23", "2023-24", "2024-25"):
            fp = footprints.iapt_footprint(area, period)
            assert fp.available, f"{area.name} {period}: {fp.unmapped}"
            key = (period, fp.org_code)
            if key not in seen:
                seen[key] = iapt_deprivation.decile_attrition(period, fp.org_type, fp.org_code)
            table = seen[key]
            assert table["imd_decile"].tolist() == list(range(1, 11)), f"{area.name} {period}"
            shown = table["recovery_pct"].dropna()
            assert ((shown >= 0) & (shown <= 100)).all()
            rates = table["referral_rate"]
            assert not np.isinf(rates).any()


def test_ccg_years_from_2017_18_are_mapped_and_earlier_ones_say_why():
    fp = footprints.iapt_footprint(areas.get("Oldham"), "2018-19")  # April 2018 CCG lookup
    assert fp.available and fp.org_type == "CCG" and fp.org_code == "00Y"
    fp = footprints.iapt_footprint(areas.get("Oldham"), "2016-17")
    assert not fp.available and fp.unmapped
