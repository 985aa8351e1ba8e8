"""Tests of mhbook.pages.triple_barrier: the Triple barrier chapter's sentences, table and
chart caption. The first tests feed it a SYNTHETIC ``barriers`` table made here (ratios
chosen so each expected word can be worked out by hand; no mirror needed); the last ones
run it on the real published data (mirror)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from mhbook import areas
from mhbook.errors import SchemaError
from mhbook.measures import footprints
from mhbook.measures import triple_barrier as tb
from mhbook.pages import triple_barrier as page

PERIOD = "2024-25"


def _synthetic() -> pd.DataFrame:
    """SYNTHETIC ``barriers`` rows: two ethnic groups with outcome and coercion ratios and a
    share of referrals without a ratio; need missing for both (with its note)."""
    rows = []

    def add(group, barrier, measure, value, ratio, note="", period=PERIOD):
        lo, hi = (ratio * 0.9, ratio * 1.1) if ratio == ratio else (np.nan, np.nan)
        rows.append(
            dict(dimension="ethnicity", group=group, barrier=barrier, measure=measure, value=value,
                 lower_cl=np.nan, upper_cl=np.nan, ratio=ratio, ratio_lower=lo, ratio_upper=hi,
                 source="synthetic", period=period, note=note)
        )  # fmt: skip

    for group, recovery, detentions, share in (("Asian", 0.9, 0.8, 10.0), ("Black", 0.8, 3.5, 5.0)):
        add(group, "need", "", np.nan, np.nan, tb.NOTE_NO_NEED)
        add(group, "access", tb.SHARE, share, np.nan, tb.NOTE_NO_DENOMINATOR)
        add(group, "outcome", tb.RECOVERY, 50 * recovery, recovery)
        add(group, "coercion", tb.DETENTIONS, 80 * detentions, detentions, period="2024-25 (MHA)")
    return pd.DataFrame(rows, columns=tb.COLUMNS)


def test_the_dimension_sentence_names_the_extremes_and_says_why_access_is_a_share():
    assert page.dimension_sentence(_synthetic(), "ethnicity", "England") == (
        'Recovery is lowest for "Black": 0.80 times England\'s (2024-25). There is no population figure by '
        "ethnicity in the data, so access is shown only as each group's share of referrals, not as a rate. "
        'Mental Health Act detentions are highest for "Black": 3.50 times England\'s rate (2024-25).'
    )
    assert page.dimension_sentence(_synthetic(), "age", "England") == "No figures by age are published for England."


def test_a_groups_sentence_lists_its_ratios_barrier_by_barrier():
    assert page.group_sentence(_synthetic(), "ethnicity", "Asian", "the footprint") == (
        'For "Asian", recovery (2024-25) is 0.90 times the footprint\'s and Mental Health Act detentions '
        "(2024-25) are 0.80 times the footprint's rate."
    )
    assert page.group_sentence(_synthetic(), "ethnicity", "Other", "England") == (
        'There are no figures to compare for "Other".'
    )


def test_left_out_groups_the_empty_cells_by_their_reason():
    assert page.left_out(_synthetic(), ("ethnicity",)) == (
        "Not shown: need by ethnicity (no prevalence by this group in the data); access by ethnicity "
        "(no population denominator in the data)."
    )
    whole = _synthetic().assign(ratio=1.0)
    assert page.left_out(whole, ("ethnicity",)) == "Every group has all four barriers."


def test_every_note_code_has_its_words_and_a_reason_before_any_colon():
    assert set(page.NOTES) == {*tb.NOTES, ""}
    assert page.note_text(tb.NOTE_SUPPRESSED) == "suppressed or missing in the published file: small numbers"
    assert page.note_text(tb.NOTE_NO_DENOMINATOR_MULTIPLE) == (
        "no population denominator in the data: share of referrals only, no ratio; "
        "a referral can carry more than one disability code"
    )
    assert page.note_text("") == ""
    with pytest.raises(SchemaError, match="'gone'"):
        page.note_text("gone")


def test_left_out_keeps_two_notes_with_the_same_reason_apart_synthetic():
    t = _synthetic()
    t.loc[(t["group"] == "Black") & (t["barrier"] == "access"), "note"] = tb.NOTE_NO_DENOMINATOR_MULTIPLE
    t.loc[(t["group"] == "Asian") & (t["barrier"] == "outcome"), ["ratio", "note"]] = (np.nan, tb.NOTE_SUPPRESSED)
    assert page.left_out(t, ("ethnicity",)) == (
        "Not shown: need by ethnicity (no prevalence by this group in the data); access for Asian (no "
        "population denominator in the data); outcome for Asian (suppressed or missing in the published "
        "file); access for Black (no population denominator in the data)."
    )


def test_the_wide_table_has_one_row_per_group_and_blank_cells_without_data():
    wide = page.wide_table(_synthetic())
    assert wide["group"].tolist() == ["Asian", "Black"]
    assert wide["need: value"].isna().all() and wide["access: ratio"].isna().all()
    assert wide["access: value"].tolist() == [10.0, 5.0] and wide["coercion: ratio"].tolist() == [0.8, 3.5]
    assert set(page.TABLE_FORMATS) == {c for c in wide.columns if ": " in c}


def test_glued_values_without_a_footprint_say_so():
    fp = footprints.Footprint(PERIOD, "Synthetic Town", None, None, None, 0.0, 0.0, unmapped="SYNTHETIC.")
    area = areas.Area("E06999999", "Synthetic Town", "E12999999", "Synthetic Region", ())
    chapter = page.ChapterNumbers(area, PERIOD, fp, _synthetic(), None)
    values = page.glued_values(chapter)
    assert values["local_name"] == "no NHS footprint" and values["local_note"] == (
        f"NHS footprints for {PERIOD} cannot be mapped to Synthetic Town: SYNTHETIC."
    )
    assert values["local_ethnicity"] == "No footprint figures."
    assert values["eng_ethnicity"].startswith('Recovery is lowest for "Black"')
    assert values["need_period"] == tb.NEED_PERIOD


# --- on the real published data ------------------------------------------------------------


@pytest.fixture(scope="module")
def england() -> pd.DataFrame:
    return tb.barriers("England", "All", PERIOD)


@pytest.mark.mirror
def test_chart_leaves_out_missing_and_says_why(england):
    fig = page.figure(england, "England", ("deprivation", "ethnicity"))
    drawn = fig.data.dropna(subset=["ratio_to_population"])
    assert len(drawn) == len(
        tb.headline(england).query("dimension in ['deprivation', 'ethnicity']").dropna(subset=["ratio"])
    )
    assert "no population denominator" in fig.caption
    assert "suppressed (small numbers)" not in fig.caption
    plt.close(fig.fig)


@pytest.mark.mirror
def test_sentences_name_the_groups(england):
    words = page.dimension_sentences(england, "England")
    assert set(words) == {d.replace(" ", "_") for d in tb.DIMENSIONS}
    assert "IMD decile 1 (most deprived)" in words["deprivation"]
    assert '"Black or Black British"' in words["ethnicity"]


@pytest.mark.mirror
def test_every_areas_footprint_gets_a_chart_and_sentences():
    for area in areas.all_areas():
        fp = footprints.iapt_footprint(area, PERIOD)
        local = tb.local_table(fp)
        fig = page.figure(local, fp.org_name, page.MAIN)
        plt.close(fig.fig)
        assert all(page.dimension_sentences(local, "the footprint").values()), area.code
