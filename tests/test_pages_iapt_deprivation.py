"""Tests of mhbook.pages.iapt_deprivation: the Talking therapies by deprivation chapter's
sentences, display tables and captions, fed SYNTHETIC tidy tables made here (numbers
chosen so each expected word or figure can be worked out by hand; no mirror needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import areas
from mhbook.measures import iapt_deprivation
from mhbook.measures.footprints import Footprint
from mhbook.pages import iapt_deprivation as page


def _deciles(period, org_name="England", **overrides):
    """SYNTHETIC ``decile_attrition`` rows: decile d has 1,000 x (11 - d) referrals, half of
    them finishing, 40 + 2d % recovering; 100,000 residents aged 16+ in every decile."""
    d = np.arange(1, 11)
    referrals = 1000.0 * (11 - d)
    finished = referrals / 2
    recovery_pct = 40.0 + 2 * d
    table = pd.DataFrame(
        {
            "period": period,
            "org_type": "England" if org_name == "England" else "ICB",
            "org_code": "All" if org_name == "England" else "QXX",
            "org_name": org_name,
            "imd_decile": d,
            "referrals": referrals,
            "finished": finished,
            "caseness_finished": finished,
            "recovery": finished * recovery_pct / 100,
            "improvement": finished * 0.6,
            "recovery_pct_published": recovery_pct,
            "population_16plus": 100_000.0,
            "referral_rate": referrals,
            "referral_rate_lower": referrals - 31.04,
            "referral_rate_upper": referrals + 31.04,
            "finished_pct": 50.0,
            "finished_pct_lower": np.nan,
            "finished_pct_upper": np.nan,
            "recovery_pct": recovery_pct,
            "recovery_pct_lower": recovery_pct - 1.04,
            "recovery_pct_upper": recovery_pct + 1.04,
            "improvement_pct": 60.0,
            "improvement_pct_lower": 58.96,
            "improvement_pct_upper": 61.04,
        }
    )
    for column, values in overrides.items():
        table[column] = values
    return table


def _trend(periods, sii, p_trend):
    """SYNTHETIC ``gradient_by_year`` rows, one per period."""
    n = len(periods)
    return pd.DataFrame(
        {
            "period": periods,
            "deciles": 10,
            "sii": sii,
            "sii_lower": [s - 1 for s in sii],
            "sii_upper": [s + 1 for s in sii],
            "rii": [1.25] * n,
            "rii_lower": [1.2] * n,
            "rii_upper": [1.3] * n,
            "odds_ratio": [1.0456] * n,
            "odds_ratio_lower": [1.04] * n,
            "odds_ratio_upper": [1.05] * n,
            "p_trend": p_trend,
            "recovery_most_deprived": [42.0] * n,
            "recovery_least_deprived": [60.0] * n,
        }
    )


def _footprint():
    """SYNTHETIC: the whole area in one ICB, a quarter of the ICB's residents."""
    return Footprint("2024-25", "Synthetic Area", "ICB", "QXX", "NHS Synthetic ICB", 1.0, 0.25)


def test_the_imd_edition_is_named_as_far_as_the_year_allows():
    assert "an IMD edition before 2019" in page.imd_label("2018-19")
    assert "whether IMD 2015 or 2019" in page.imd_label("2019-20")
    assert page.imd_label("2019-20").startswith("deprivation decile as published for 2019-20")


def test_the_switch_note_names_the_two_years_either_side_or_is_empty():
    assert page.imd_switch_note(["2019-20", "2020-21"]) == ""
    assert page.imd_switch_note(["2016-17", "2017-18"]) == ""
    note = page.imd_switch_note(["2017-18", "2018-19", "2019-20", "2020-21"])
    assert "Deciles up to 2018-19" in note and "from 2019-20" in note
    assert "between 2018-19 and 2019-20" in note


def test_suppression_note_counts_the_missing_decile_counts():
    assert page.suppression_note(None) == "No decile figures are published for this footprint."
    assert page.suppression_note(_deciles("2024-25").iloc[:0]) == "No decile figures are published for this footprint."
    assert page.suppression_note(_deciles("2024-25")).startswith("No decile figures are suppressed")
    # deciles 9 and 10: referrals and recovery suppressed -> 4 counts
    local = _deciles("2024-25", referrals=[5.0] * 8 + [np.nan] * 2, recovery=[5.0] * 8 + [np.nan] * 2)
    assert page.suppression_note(local).startswith("4 decile counts are suppressed by NHS England")


def test_the_decile_table_rounds_for_display_and_keeps_suppressed_counts_missing():
    local = _deciles("2024-25", "NHS Synthetic ICB", referrals=[np.nan] + [1000.0] * 9)
    shown = page.decile_table(local)
    assert shown["referrals"].isna().iloc[0] and shown["referrals"].iloc[1] == 1000
    row = shown.iloc[1]  # decile 2: rate 9,000, recovery 44%
    assert row["IMD decile (1 = most deprived)"] == 2
    assert row["referrals per 100,000 aged 16+"] == "9,000"
    assert row["referral rate 95% limits"] == "8,968 to 9,032"  # limits rounded outwards
    assert row["recovery (%)"] == "44.0" and row["recovery (%), 95% limits"] == "42.9 to 45.1"
    assert "population aged 16+ (mid-2020)" in shown.columns
    assert "population aged 16+ (mid-2015)" in page.decile_table(_deciles("2018-19")).columns


def test_the_trend_table_writes_small_p_values_as_below_a_thousandth():
    shown = page.trend_table(_trend(["2018-19", "2019-20"], [10.0, 8.0], [0.0004, 0.0123]))
    assert shown["p for trend"].tolist() == ["<0.001", "0.012"]
    assert shown["odds ratio per decile step"].tolist() == ["1.046", "1.046"]
    assert "an IMD edition before 2019" in shown["deciles"].iloc[0]


def test_attrition_panels_hold_the_four_stages_in_the_commissions_order():
    long = page.attrition_long(_deciles("2024-25"), "England")
    assert list(dict.fromkeys(long["measure"])) == [page.MEASURE_LABELS[m] for m in iapt_deprivation.MEASURES]
    assert len(long) == 40 and set(long["series"]) == {"England"}


def test_glued_values_come_from_the_tables_they_describe():
    england, latest = _deciles("2018-19"), _deciles("2024-25")
    trend = _trend(["2015-16", "2018-19", "2024-25"], [12.5, 10.0, 7.5], [0.0001] * 3)
    area = areas.Area("E06999999", "Synthetic Area", "E12999999", "Synthetic Region", ())
    values = page.glued_values(page.ChapterNumbers(area, england, latest, trend, _footprint(), latest))
    assert values["eng_referrals_d1"] == 10_000 and values["eng_rate_d10_latest"] == 1_000
    assert values["eng_recovery_d1"] == 42.0 and values["eng_recovery_d10_latest"] == 60.0
    assert (values["sii_first"], values["sii_last"]) == (12.5, 7.5)
    assert (values["first_trend_period"], values["last_trend_period"]) == ("2015-16", "2024-25")
    assert values["population_year"] == "mid-2015" and values["population_year_latest"] == "mid-2020"
    assert values["local_name"] == "NHS Synthetic ICB"
    assert values["local_note"].endswith(
        "of that Integrated Care Board's population. Figures for QXX describe the whole Integrated Care Board, "
        "most of whose residents live outside Synthetic Area. No decile figures are suppressed for this footprint; "
        "counts are rounded to the nearest 5."
    )
    assert "Deciles up to 2018-19" in values["imd_switch_note"]


def test_a_footprint_without_a_code_is_named_as_not_available():
    fp = Footprint("2016-17", "Synthetic Area", None, None, None, 0.0, 0.0, unmapped="SYNTHETIC lookup message.")
    area = areas.Area("E06999999", "Synthetic Area", "E12999999", "Synthetic Region", ())
    trend = _trend(["2024-25"], [7.5], [0.01])
    values = page.headline_numbers(_deciles("2018-19"), _deciles("2024-25"), trend, fp, None, area)
    assert values["local_name"] == "not available"
    assert values["local_note"] == (
        "NHS footprints for 2016-17 cannot be mapped to Synthetic Area: SYNTHETIC lookup message. "
        "No decile figures are published for this footprint."
    )
