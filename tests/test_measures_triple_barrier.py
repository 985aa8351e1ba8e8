"""Tests of mhbook.measures.triple_barrier on the real published data (mirror); its chart
and words are tested in ``test_pages_triple_barrier.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhbook import areas
from mhbook.measures import footprints
from mhbook.measures import triple_barrier as tb

PERIOD = "2024-25"
pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def england() -> pd.DataFrame:
    return tb.barriers("England", "All", PERIOD)


@pytest.fixture(scope="module")
def oldham_icb() -> pd.DataFrame:
    fp = footprints.iapt_footprint(areas.get("E08000004"), PERIOD)
    return tb.barriers(fp.org_type, fp.org_code, PERIOD)


def _cell(table, dimension, group, measure) -> pd.Series:
    rows = table[(table["dimension"] == dimension) & (table["group"] == group) & (table["measure"] == measure)]
    assert len(rows) == 1, (dimension, group, measure)
    return rows.iloc[0]


def test_columns_and_every_cell_present(england):
    assert list(england.columns) == tb.COLUMNS
    assert set(england["barrier"]) == set(tb.BARRIERS)
    cells = england.groupby(["dimension", "group"])["barrier"].nunique()
    assert (cells == len(tb.BARRIERS)).all()
    assert set(england["dimension"]) == set(tb.DIMENSIONS)


def test_recovery_ratios_consistent_with_values(england):
    rows = england[(england["measure"] == tb.RECOVERY) & england["ratio"].notna()]
    # value / ratio is England's overall recovery for every group: 2024-25 Total row counts
    total = tb._iapt_total("England", "All", PERIOD)
    assert np.allclose(rows["value"] / rows["ratio"], 100 * total["recovery"] / total["caseness_finished"], rtol=1e-9)
    assert total["caseness_finished"] == 670_419 - 35_234  # finished minus not at caseness, 2024-25
    assert ((rows["ratio_lower"] <= rows["ratio"]) & (rows["ratio"] <= rows["ratio_upper"])).all()


def test_detention_ratios_consistent_with_values(england):
    eth = england[(england["measure"] == tb.DETENTIONS) & (england["dimension"] == "ethnicity")]
    # MHA 2023-24 England, ethnicity "All" crude rate: 80.7 per 100,000 (published)
    assert np.allclose(eth["value"] / eth["ratio"], 80.7, rtol=2e-3)
    assert ((eth["ratio_lower"] <= eth["ratio"]) & (eth["ratio"] <= eth["ratio_upper"])).all()


def test_empty_decile_in_footprint_is_explained():
    # Cornwall and the Isles of Scilly ICB (QT6) has no LSOA in IMD decile 10
    table = tb.barriers("ICB", "QT6", PERIOD)
    row = _cell(table, "deprivation", tb.decile_label(10), tb.RATE_16)
    assert np.isnan(row["value"]) and row["note"] == tb.NOTE_NO_RESIDENTS


def test_published_england_values(england):
    # MHA 2023-24 (PROVENANCE): Black or Black British crude 239.0 per 100,000; decile 1 151.3.
    assert _cell(england, "ethnicity", "Black or Black British", tb.DETENTIONS)["value"] == pytest.approx(239.0)
    assert _cell(england, "deprivation", tb.decile_label(1), tb.DETENTIONS)["value"] == pytest.approx(151.3)
    # HoC Library modelled depression prevalence: 13.75% in decile 1, 10.69% in decile 10.
    assert _cell(england, "deprivation", tb.decile_label(1), tb.DEPRESSION)["value"] == pytest.approx(13.75, abs=0.01)
    assert _cell(england, "deprivation", tb.decile_label(10), tb.DEPRESSION)["value"] == pytest.approx(10.69, abs=0.01)
    # Published NHS recovery rates (truncated to whole or one decimal) for two age bands.
    assert _cell(england, "age", "65 to 74", tb.RECOVERY)["value"] == pytest.approx(61.8, abs=0.15)
    assert _cell(england, "age", "18 to 25", tb.RECOVERY)["value"] == pytest.approx(43.9, abs=0.15)


def test_deprivation_access_gradient_and_reverse_outcome(england):
    d1, d10 = tb.decile_label(1), tb.decile_label(10)
    assert (
        _cell(england, "deprivation", d1, tb.RATE_16)["value"] > _cell(england, "deprivation", d10, tb.RATE_16)["value"]
    )
    assert (
        _cell(england, "deprivation", d1, tb.RATE_16)["ratio"]
        > 1
        > _cell(england, "deprivation", d10, tb.RATE_16)["ratio"]
    )
    assert (
        _cell(england, "deprivation", d1, tb.RECOVERY)["ratio"]
        < 1
        < _cell(england, "deprivation", d10, tb.RECOVERY)["ratio"]
    )
    assert (
        _cell(england, "deprivation", d1, tb.DETENTIONS)["ratio"]
        > _cell(england, "deprivation", d10, tb.DETENTIONS)["ratio"]
    )


def test_no_denominator_is_noted_not_invented(england):
    shares = england[
        (england["barrier"] == "access") & england["dimension"].isin(["ethnicity", "sexual orientation", "disability"])
    ]
    assert not shares.empty
    assert shares["ratio"].isna().all()
    assert shares["note"].isin([tb.NOTE_NO_DENOMINATOR, tb.NOTE_NO_DENOMINATOR_MULTIPLE]).all()
    assert (shares.loc[shares["dimension"] == "disability", "note"] == tb.NOTE_NO_DENOMINATOR_MULTIPLE).all()
    assert (shares["measure"] == tb.SHARE).all()


def test_missing_is_noted_not_zero(england, oldham_icb):
    for table in (england, oldham_icb):
        empty = table[table["value"].isna()]
        assert not empty.empty
        assert (empty["note"].str.len() > 0).all()
        assert set(table["note"]) <= {*tb.NOTES, ""}  # codes, every one put into words by the page
        assert not (table["value"] == 0).any()
    # need by deprivation is England only: the footprint says so rather than showing England's
    need = oldham_icb[(oldham_icb["dimension"] == "deprivation") & (oldham_icb["barrier"] == "need")]
    assert need["value"].isna().all() and (need["note"] == tb.NOTE_NEED_ENGLAND).all()
    # Greater Manchester's 2024-25 Gay/Lesbian recovery count is published as "*"
    gl = _cell(oldham_icb, "sexual orientation", "Gay/Lesbian", tb.RECOVERY)
    assert np.isnan(gl["value"]) and gl["note"] == tb.NOTE_SUPPRESSED


def test_footprint_uses_its_own_total(oldham_icb):
    # QOP 2024-25 age "65 to 74": 770 recovered of 1,320 finished at caseness (finished
    # minus not at caseness, NHS England's denominator; counts published rounded to 5)
    row = _cell(oldham_icb, "age", "65 to 74", tb.RECOVERY)
    assert row["value"] == pytest.approx(100 * 770 / 1320)
    # MHA 2023-24 QOP: Black or Black British 212.5 per 100,000 against the ICB's detentions
    # of people of known ethnic group over those groups' populations (as for England):
    # counts and crude rates of Asian, Black, Mixed, Other and White as published.
    counts = {
        "Asian": (305, 78.3),
        "Black": (285, 212.5),
        "Mixed": (125, 144.5),
        "Other": (110, 164.3),
        "White": (2275, 103.8),
    }
    known = sum(c for c, _ in counts.values()) / sum(c / r for c, r in counts.values())
    det = _cell(oldham_icb, "ethnicity", "Black or Black British", tb.DETENTIONS)
    assert det["ratio"] == pytest.approx(212.5 / known, rel=2e-3)


def test_summary_rows():
    rows = tb.summary_rows("E08000004", PERIOD)
    assert set(rows["geography"]) == {"England", "NHS Greater Manchester Integrated Care Board"}
    eng = rows[(rows["geography"] == "England") & (rows["group"] == tb.decile_label(1))]
    assert list(eng["barrier"]) == list(tb.BARRIERS)


def test_every_area_runs():
    done = 0
    for area in areas.all_areas():
        fp = footprints.iapt_footprint(area, PERIOD)
        local = tb.local_table(fp)
        assert local is not None, area.code
        assert set(local["barrier"]) == set(tb.BARRIERS)
        done += 1
    assert done == 153
