"""Tests of mhbook.measures.inequality against the real published data (mirror), and of its
Mental Health Act ratios on the SYNTHETIC workbook of ``tests/synthetic/mha.py`` as well."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhbook import areas, stats
from mhbook.measures import inequality
from mhbook.sources import iapt


@pytest.fixture(scope="module")
def england():
    return inequality.all_breakdowns("2024-25")


def _row(table, key, group, measure="recovery"):
    hit = table[(table["breakdown"] == key) & (table["group"] == group) & (table["measure"] == measure)]
    assert len(hit) == 1, f"{key}/{group}/{measure}: {len(hit)} rows"
    return hit.iloc[0]


@pytest.mark.mirror
@pytest.mark.parametrize("period", ["2020-21", "2024-25"])
def test_sexual_orientation_recovery_exists_from_2020_21(period):
    table = inequality.breakdown_table("sexual_orientation", period)
    groups = set(table["group"])
    assert {"Heterosexual", "Gay/Lesbian", "Bi-sexual"} <= groups
    assert table.loc[table["measure"] == "recovery", "value"].between(20, 80).all()


@pytest.mark.mirror
def test_sexual_orientation_and_disability_absent_before_2020_21():
    assert inequality.breakdown_table("sexual_orientation", "2019-20").empty
    assert inequality.breakdown_table("disability", "2019-20").empty
    assert not inequality.published_in("disability", "2019-20")


@pytest.mark.mirror
def test_problem_descriptor_then_presenting_complaint():
    assert inequality.breakdown_for("problem", "2019-20").nhs == "Problem Descriptor"
    assert inequality.breakdown_for("problem", "2024-25").nhs == "Presenting Complaint"
    old = inequality.breakdown_table("problem", "2019-20")
    assert "Generalized anxiety disorder" in set(old["group"])  # NHS's spelling that year


@pytest.mark.mirror
def test_recovery_is_nhs_published_percentage_and_its_definition(england):
    """The value shown is NHS England's published %; recomputed with NHS's definition
    (recovered / (finished - not at caseness)) from England's exact counts it agrees to
    rounding (0.05 point), for every England group with a published figure."""
    raw = iapt.breakdown("Sexual Orientation Type", period="2024-25")
    published = raw[raw["measure"] == "recovery"].set_index("group")["percentage"].astype(float)
    ours = england[(england["breakdown"] == "sexual_orientation") & (england["measure"] == "recovery")]
    ours = ours.set_index("group")
    assert (ours["value"] == published.reindex(ours.index)).all()
    assert (ours["value_source"] == "published").all()
    recomputed = 100 * ours["numerator"] / ours["denominator"]
    assert (recomputed - ours["value"]).abs().max() <= 0.05 + 1e-9


@pytest.mark.mirror
def test_england_values_by_hand(england):
    # Published counts, 2024-25: Bi-sexual recovered 11,960; Total recovered 321,061.
    bi = _row(england, "sexual_orientation", "Bi-sexual")
    assert bi["numerator"] == 11960
    assert bi["value"] == pytest.approx(100 * bi["numerator"] / bi["denominator"], abs=0.05)
    total = iapt.breakdown("Total", period="2024-25").set_index("measure")["count"]
    assert total["recovery"] == 321061
    assert bi["denominator"] < total["finished_course_treatment"]
    # England's benchmark is NHS England's published 50.5%: 321,061 / (670,419 - 35,234).
    assert bi["benchmark"] == 50.5
    assert 100 * total["recovery"] / (total["finished_course_treatment"] - total["not_at_caseness"]) == pytest.approx(
        50.5, abs=0.05
    )


@pytest.mark.mirror
def test_broad_and_detailed_ethnic_groups_are_kept_apart(england):
    broad = england[(england["breakdown"] == "ethnicity_broad") & (england["measure"] == "recovery")]
    detailed = england[(england["breakdown"] == "ethnicity_detailed") & (england["measure"] == "recovery")]
    assert "Black or Black British" in set(broad["group"]) and "Caribbean" not in set(broad["group"])
    assert "Caribbean" in set(detailed["group"]) and "Black or Black British" not in set(detailed["group"])
    # The detailed Black groups add up to the broad Black group (England counts are exact).
    black = detailed[detailed["group"].isin(["African", "Caribbean", "Any other Black background"])]
    assert black["numerator"].sum() == _row(england, "ethnicity_broad", "Black or Black British")["numerator"]


@pytest.mark.mirror
def test_significance_agrees_with_limits(england):
    t = england.dropna(subset=["value"])
    below95, above95 = t["upper_cl"] < t["benchmark"], t["lower_cl"] > t["benchmark"]
    assert (t.loc[below95, "significance_95"] == "Worse").all()
    assert (t.loc[above95, "significance_95"] == "Better").all()
    assert (t.loc[~below95 & ~above95, "significance_95"] == "Similar").all()
    below998 = t["upper_cl_998"] < t["benchmark"]
    assert (t.loc[below998, "significance_998"] == "Worse").all()
    # A 99.8% difference is always a 95% one, since the 99.8% interval is wider.
    assert (
        t.loc[t["significance_998"] != "Similar", "significance_95"]
        == t.loc[t["significance_998"] != "Similar", "significance_998"]
    ).all()
    assert ((t["lower_cl_998"] <= t["lower_cl"]) & (t["upper_cl"] <= t["upper_cl_998"])).all()


@pytest.mark.mirror
def test_suppressed_counts_are_missing_not_zero():
    # Greater Manchester ICB, 2024-25: NHS suppressed Gay/Lesbian recovery ("*").
    table = inequality.breakdown_table("sexual_orientation", "2024-25", "ICB", "QOP")
    row = _row(table, "sexual_orientation", "Gay/Lesbian")
    assert row["suppressed"] and pd.isna(row["numerator"]) and pd.isna(row["value"])
    assert row["status"] == "suppressed" and row["significance_95"] == "Not compared"
    assert "1 of the 4 groups has a suppressed count" in inequality.suppression_sentence(
        table[table["measure"] == "recovery"]
    )
    shown = inequality.breakdown_display(
        inequality.IaptInequality(
            "2024-25",
            inequality.iapt_footprint(areas.get("E08000004"), "2024-25"),
            inequality.all_breakdowns("2024-25"),
            inequality.all_breakdowns("2024-25", "ICB", "QOP"),
        ),
        "sexual_orientation",
    )
    cell = shown.loc[shown["group"] == "Gay/Lesbian", "recovered"].iloc[0]
    assert pd.isna(cell)


@pytest.mark.mirror
def test_rounded_counts_carry_their_rounding_into_the_limits():
    # Greater Manchester ICB: counts rounded to 5, so every interval contains what the
    # counts could give if each were 2 higher or lower, and the published value.
    table = inequality.breakdown_table("ethnicity_broad", "2024-25", "ICB", "QOP")
    rec = table[(table["measure"] == "recovery") & table["value"].notna()]
    plain = stats.proportion(rec["numerator"], rec["denominator"])
    assert (rec["lower_cl"].to_numpy() < plain["lower_cl"].to_numpy()).all()
    assert (rec["upper_cl"].to_numpy() > plain["upper_cl"].to_numpy()).all()
    assert ((rec["lower_cl"] <= rec["value"]) & (rec["value"] <= rec["upper_cl"])).all()


@pytest.mark.mirror
def test_widest_gaps_are_significant_shortfalls():
    gaps = inequality.widest_gaps(areas.get("E08000004"))
    assert len(gaps) and (gaps["significance_95"] == "Worse").all()
    assert (gaps["gap"] < 0).all() and gaps["gap"].is_monotonic_increasing
    assert not gaps["unknown"].any()
    assert not gaps.duplicated(["breakdown", "measure"]).any()


@pytest.mark.mirror
def test_england_black_white_standardised_ratio():
    ratios = inequality.detention_ratios()
    black = ratios[(ratios["group"] == "Black or Black British") & (ratios["rate_type"] == "standardised")].iloc[0]
    # NHS England 2023-24: 242.3 against 68.4 per 100,000, "about 3.5 times".
    assert black["ratio"] == pytest.approx(242.3 / 68.4, rel=1e-9)
    assert black["ratio"] == pytest.approx(3.5, abs=0.05)
    assert black["lower_cl"] < black["ratio"] < black["upper_cl"] and black["significance"] == "Higher"


@pytest.mark.mirror
def test_crude_ratio_limits_are_poisson_on_published_counts():
    ratios = inequality.detention_ratios()
    black = ratios[(ratios["group"] == "Black or Black British") & (ratios["rate_type"] == "crude")].iloc[0]
    assert black["ratio"] == pytest.approx(239.0 / 69.5)
    se = np.sqrt(1 / 5693 + 1 / 31735)  # England detentions, Black and White
    assert black["upper_cl"] == pytest.approx(black["ratio"] * np.exp(1.959964 * se), rel=1e-6)


@pytest.mark.mirror
def test_icb_ratios_match_the_area():
    ratios = inequality.detention_ratios(areas.get("E08000004"))
    icb = ratios[ratios["org_type"] == "ICB"]
    assert set(icb["org_code"]) == {"QOP"} and "White" not in set(icb["group"])
    assert (icb["rate_type"] == "crude").all()


@pytest.mark.mirror
def test_all_areas_run():
    for area in areas.all_areas():
        result = inequality.iapt_inequality(area)
        gaps = inequality.widest_gaps(area)
        ratios = inequality.detention_ratios(area)
        values = inequality.headline_numbers(area, result, ratios, inequality.subicb_detentions(area))
        assert result.local is not None, area.name
        assert set(gaps.columns) == set(result.england.columns)
        assert (ratios["org_type"] == "ICB").any(), area.name
        assert all(v == v for v in values.values() if isinstance(v, float)), area.name


@pytest.mark.mirror
def test_last_ccg_year_beside_the_icb_where_the_ccg_fits_better():
    # Blackpool is exactly CCG 00R in 2021-22 but 8% of its ICB: both are shown.
    table, sentence = inequality.ccg_beside_icb(areas.get("E06000009"))
    assert table is not None and "00R" in sentence and "2021-22" in sentence
    assert any("2021-22" in c for c in table.columns) and any("2024-25" in c for c in table.columns)
    assert set(table["breakdown"]) >= {"Ethnic group, broad", "Age group", "Gender"}
    # Hackney's 2021-22 CCG was already North East London's single Sub-ICB: no better fit.
    table, sentence = inequality.ccg_beside_icb(areas.get("E09000012"))
    assert table is None and "does not fit the area better" in sentence


# Twins on the SYNTHETIC MHA workbook: England Black 300 detentions (crude 239.0, standardised
# 242.3 +/- 8.7), White 600 (crude 69.5, standardised 68.4 +/- 0.8).


def test_synthetic_standardised_ratio_has_log_limits_from_both_half_widths(synthetic_mirror):
    ratios = inequality.detention_ratios()
    std = ratios[ratios["rate_type"] == "standardised"].set_index("group")
    assert list(std.index) == ["Black or Black British"]  # White is the reference, not a row
    black = std.loc["Black or Black British"]
    ratio = 242.3 / 68.4  # 3.5424
    # log standard error = sqrt((half-width / z / rate) ** 2 summed); z cancels in z * se
    spread = np.sqrt((8.7 / 242.3) ** 2 + (0.8 / 68.4) ** 2)  # 0.03776
    assert black["ratio"] == pytest.approx(ratio, rel=1e-12)
    assert (black["lower_cl"], black["upper_cl"]) == pytest.approx((ratio * np.exp(-spread), ratio * np.exp(spread)))
    assert (black["lower_cl"], black["upper_cl"]) == pytest.approx((3.4111, 3.6787), abs=1e-4)
    assert black["significance"] == "Higher" and black["reference_rate"] == 68.4 and black["level"] == "broad"


def test_synthetic_crude_ratio_limits_are_poisson_on_the_counts(synthetic_mirror):
    ratios = inequality.detention_ratios()
    black = ratios[ratios["rate_type"] == "crude"].set_index("group").loc["Black or Black British"]
    ratio = 239.0 / 69.5  # 3.4388
    se = np.sqrt(1 / 300 + 1 / 600)  # 0.070711
    assert black["ratio"] == pytest.approx(ratio)
    assert black["upper_cl"] == pytest.approx(ratio * np.exp(1.959964 * se), rel=1e-6)
    assert black["lower_cl"] == pytest.approx(ratio * np.exp(-1.959964 * se), rel=1e-6)
    assert black["count"] == 300 and black["count_status"] == "exact"
