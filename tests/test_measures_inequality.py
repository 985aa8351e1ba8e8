"""Tests of mhbook.measures.inequality (NHS Talking Therapies outcomes by group) against the
real published data (mirror). Its words and display tables are tested in
``test_pages_exploring_inequality.py``; the Mental Health Act ratios of the same chapter in
``test_measures_detentions_by_ethnicity.py``."""

from __future__ import annotations

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
def test_last_ccg_year_beside_the_icb_where_the_ccg_fits_better():
    # Blackpool is exactly CCG 00R in 2021-22 but 8% of its ICB: both are given.
    both = inequality.ccg_beside_icb(areas.get("E06000009"), "2024-25")
    assert both.ccg.org_code == "00R" and both.icb.org_type == "ICB"
    rec = both.recovery
    assert set(zip(rec["period"], rec["org_code"])) == {("2021-22", "00R"), ("2024-25", both.icb.org_code)}
    assert (rec["measure"] == "recovery").all()
    assert set(rec["breakdown"]) == set(inequality.CCG_BREAKDOWNS)
    # Within each breakdown the CCG's year comes first, as the page's columns do.
    first = rec.groupby("breakdown", sort=False)["period"].first()
    assert (first == "2021-22").all()
    # Hackney's 2021-22 CCG was already North East London's single Sub-ICB: no better fit.
    assert inequality.ccg_beside_icb(areas.get("E09000012"), "2024-25").recovery is None


@pytest.mark.mirror
def test_tables_hold_numbers_and_codes_not_sentences(england):
    """The measure's columns are numbers, flags and the data's own labels: no phrase made
    for the reader (those are the page layer's, ``mhbook.pages.exploring_inequality``)."""
    text = [c for c in england.columns if not pd.api.types.is_numeric_dtype(england[c])]
    assert set(text) == {
        "period", "org_type", "org_code", "org_name", "breakdown", "breakdown_title", "group",
        "measure", "status", "value_source", "significance_95", "significance_998",
    }  # fmt: skip
    assert set(england["significance_95"]) <= {"Better", "Similar", "Worse", "Not compared"}
