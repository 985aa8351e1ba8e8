"""Tests of mhbook.pages.coercion_notes: how a Mental Health Act footprint and its fit are
named. Every footprint here is SYNTHETIC (made-up codes and names, shares chosen so each
expected word can be worked out by hand); no mirror needed."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.measures.coercion import Footprint
from mhbook.pages import coercion_notes
from mhbook.pages import summary as summary_page

ICB = Footprint("ICB", ("QXX",), ("NHS Synthetic Integrated Care Board",), 0.98, 0.31)
ONE_SUB_ICB = Footprint("Sub-ICB", ("99X",), ("NHS Synthetic ICB - 99X",), 0.995, 0.9)
TWO_SUB_ICBS = Footprint("Sub-ICB", ("98X", "99X"), ("NHS Synthetic ICB - 98X", "NHS Synthetic ICB - 99X"), 0.8, 0.004)


def test_names_drop_nhs_the_long_icb_name_and_the_code_suffix():
    assert coercion_notes.short_name("NHS Synthetic Integrated Care Board") == "Synthetic ICB"
    assert coercion_notes.short_name(" NHS Synthetic ICB - 99X ") == "Synthetic ICB"
    assert coercion_notes.short_name("NHS Synthetic ICB - 99") == "Synthetic ICB - 99"  # not a code suffix


def test_footprint_labels_synthetic():
    assert coercion_notes.footprint_label(ICB) == "Synthetic ICB (QXX)"
    assert coercion_notes.footprint_label(ONE_SUB_ICB) == "Sub-ICB Location 99X of Synthetic ICB"
    assert coercion_notes.footprint_label(TWO_SUB_ICBS) == ("2 Sub-ICB Locations of Synthetic ICB together (98X, 99X)")


def test_fit_text_gives_the_grade_and_both_shares_synthetic():
    # grade by the smaller share: 0.31 -> poor; 0.9 -> close; 0.004 -> poor, written "less than 1%"
    assert coercion_notes.fit_text(ICB) == (
        "poor fit: 98% of the area's residents live in it and they are 31% of its residents"
    )
    assert coercion_notes.fit_text(ONE_SUB_ICB) == (
        "close fit: 100% of the area's residents live in it and they are 90% of its residents"
    )
    assert coercion_notes.fit_text(TWO_SUB_ICBS).endswith("80% of the area's residents live in it and they are "
                                                          "less than 1% of its residents")  # fmt: skip


def test_status_words_and_an_unknown_status_is_refused():
    assert coercion_notes.status_text("value") == ""
    assert coercion_notes.status_text("suppressed") == "suppressed or not published for this footprint"
    with pytest.raises(ValueError, match="'withheld'"):
        coercion_notes.status_text("withheld")


def test_the_summary_names_coercion_rows_by_their_footprint_synthetic():
    best = pd.Series({"barrier": "coercion", "geography": None, "footprint": ONE_SUB_ICB, "for_context": False})
    context = pd.Series({"barrier": "coercion", "geography": None, "footprint": ICB, "for_context": True})
    access = pd.Series({"barrier": "access", "geography": "NHS Synthetic ICB (QXX)"})
    assert summary_page.place(best) == "Sub-ICB Location 99X of Synthetic ICB"
    assert summary_page.place(context) == "Synthetic ICB (QXX), for context"
    assert summary_page.place(access) == "NHS Synthetic ICB (QXX)"
