"""Tests of mhbook.pages.footprint_notes: the sentence naming an area's NHS footprint. The
first tests feed it SYNTHETIC footprints made here; the last reads the real lookups (mirror)."""

from __future__ import annotations

import pytest

from mhbook import areas
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.pages.footprint_notes import footprint_note, share_text


def test_shares_are_whole_percentages_and_tiny_ones_say_less_than_one():
    assert [share_text(x) for x in (1.0, 0.456, 0.004, 0.0)] == ["100%", "46%", "less than 1%", "0%"]


def test_a_footprint_mostly_inside_the_area_is_named_with_both_shares():
    fp = Footprint("2024-25", "Synthetic Town", "ICB", "QXX", "NHS Synthetic ICB", 0.98, 0.75)
    assert footprint_note(fp) == (
        "In 2024-25 Synthetic Town is served by NHS Synthetic ICB (code QXX), where 98% of the area's "
        "residents live; the area makes up 75% of that Integrated Care Board's population."
    )


def test_other_organisations_are_listed_and_a_mostly_outside_footprint_is_flagged():
    fp = Footprint(
        "2018-19", "Synthetic Town", "CCG", "00X", "NHS Synthetic CCG", 0.9, 0.3, others=(("NHS Next CCG", 0.1),)
    )
    note = footprint_note(fp)
    assert "that Clinical Commissioning Group's population" in note
    assert " Other parts of the area are served by NHS Next CCG (10%)." in note
    assert note.endswith(
        " Figures for 00X describe the whole Clinical Commissioning Group, most of whose residents live "
        "outside Synthetic Town."
    )


def test_an_unmapped_year_says_why():
    fp = Footprint("2016-17", "Synthetic Town", None, None, None, 0.0, 0.0, unmapped="no lookup for 2016-17")
    assert footprint_note(fp) == "NHS footprints for 2016-17 cannot be mapped to Synthetic Town: no lookup for 2016-17"


@pytest.mark.mirror
def test_oldhams_years_before_the_ccg_lookups_say_they_cannot_be_mapped():
    note = footprint_note(iapt_footprint(areas.get("Oldham"), "2016-17"))
    assert "2016-17" in note and "cannot be mapped" in note and "Oldham" in note
    assert footprint_note(iapt_footprint(areas.get("Oldham"), "2018-19")).startswith(
        "In 2018-19 Oldham is served by NHS Oldham CCG (code 00Y)"
    )
