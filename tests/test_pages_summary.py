"""Tests of mhbook.pages.summary (the summary's sentences, notes and key findings) and of the
numbers the key findings rest on (mhbook.measures.key_findings). The first tests feed them
SYNTHETIC rows made here (numbers chosen so each expected word can be worked out by hand;
no mirror needed); the last one runs the chapter on the real published data (mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhbook import areas
from mhbook.areas import Area
from mhbook.measures import coercion, key_findings
from mhbook.measures.footprints import Footprint
from mhbook.pages import summary as page

AREA = Area("E06999999", "Synthetic Shire", "E12999999", "Synthetic Region", (("E07999999", "Synthetic"),))
FOOTPRINT = Footprint("2030-31", "Synthetic Shire", "ICB", "QXX", "NHS Synthetic ICB", 1.0, 0.25)


def _barrier_rows() -> pd.DataFrame:
    """SYNTHETIC ``summary.barrier_table`` rows: one need row without a value, an access and an
    outcome row, and a coercion row without a value (counts suppressed)."""
    base = {
        "lower_95": np.nan,
        "upper_95": np.nan,
        "vs_england_95": "Not compared",
        "vs_england_99_8": "Not compared",
        "decimals": np.nan,
    }
    return pd.DataFrame(
        [
            base
            | {
                "barrier": "need",
                "measure": "estimated prevalence of something",
                "unit": "%",
                "period": "2017",
                "geography": "Synthetic Shire",
                "value": np.nan,
                "england": 17.0,
                "published_comparison": False,
                "indicator": "emotional_disorders",
                "value_source": {
                    "match": "not available",
                    "period": "2017",
                    "value_from": None,
                    "value_from_name": None,
                    "value_note": "No value for this area's predecessor",
                    "changed_on": None,
                    "also_covered": None,
                    "former": None,
                    "district_range": None,
                },
                "england_middle": np.nan,
            },
            base
            | {
                "barrier": "access",
                "measure": "referrals per 100,000 aged 16+",
                "unit": "per 100,000",
                "period": "2030-31",
                "geography": "NHS Synthetic ICB (QXX)",
                "value": 5000.0,
                "england": 4000.0,
                "lower_95": 4950.0,
                "upper_95": 5050.0,
                "vs_england_95": "Higher",
                "vs_england_99_8": "Higher",
                "population_year": "mid-2020",
            },
            base
            | {
                "barrier": "outcome",
                "measure": "recovery (% of those finished at caseness)",
                "unit": "%",
                "period": "2030-31",
                "geography": "NHS Synthetic ICB (QXX)",
                "value": 48.0,
                "england": 48.3,
                "lower_95": 46.0,
                "upper_95": 50.0,
                "vs_england_95": "Similar",
                "vs_england_99_8": "Similar",
                "decimals": 0,
                "value_source": "published",
            },
            base
            | {
                "barrier": "coercion",
                "measure": "Mental Health Act detentions per 100,000",
                "unit": "per 100,000",
                "period": "2029-30",
                "geography": None,
                "value": np.nan,
                "england": 90.04,
                "footprint": coercion.Footprint("Sub-ICB", ("99X",), ("NHS Synthetic ICB - 99X",), 1.0, 0.996),
                "for_context": False,
                "org_type": "Sub-ICB",
                "status": "suppressed",
                "england_all_sources": 95.26,
                "fit": "exact",
            },
        ]
    )


def test_notes_name_the_source_the_benchmark_and_the_missing_value():
    rows = _barrier_rows()
    notes = [page.barrier_note(r) for _, r in rows.iterrows()]
    assert notes[0] == (
        "No value for this area's predecessor. Modelled estimate published without confidence limits, so it "
        "is not tested against England."
    )
    assert "over the mid-2020 population aged 16+ of the footprint's neighbourhoods (ONS mid-2020 LSOA" in notes[1]
    assert notes[2].startswith("NHS England's published percentage (published); limits carry the rounding")
    assert notes[3].startswith(
        "Not available for Sub-ICB Location 99X of Synthetic ICB: suppressed or not published for this footprint. "
        "Crude rate, all ages, 2029-30; exact fit: 100% of the area's residents live in it and they are 100% of "
        "its residents. England: 90.0"
    )
    assert "England: 90.0 per 100,000, the publisher's total over all Sub-ICBs" in notes[3]
    assert "England's all-source rate (95.3)" in notes[3]


def test_sentences_give_values_with_limits_and_fingertips_words():
    text = page.sentences(AREA, FOOTPRINT, _barrier_rows())
    assert text["access_text"] == (
        "Referrals per 100,000 aged 16+ in NHS Synthetic ICB (QXX), 2030-31: 5,000 (4,950 to 5,050) against "
        "4,000 in England (higher than England at 95% confidence, higher at 99.8%)."
    )
    assert text["outcome_text"] == (
        "Recovery (% of those finished at caseness) in NHS Synthetic ICB (QXX), 2030-31: 48 (46 to 50)% against "
        "48.3% in England (similar to England at 95% confidence, similar at 99.8%)."
    )
    assert text["coercion_text"].startswith(
        "Mental Health Act detentions per 100,000: no value for Sub-ICB Location 99X of Synthetic ICB (2029-30): "
        "Not available for"
    )
    assert text["need_text"].startswith("Estimated prevalence of something: no value for Synthetic Shire (No value")
    assert (text["area_name"], text["region_name"], text["n_districts"]) == ("Synthetic Shire", "Synthetic Region", 1)


def test_the_shown_table_keeps_nhs_whole_numbers_and_says_not_compared():
    shown = page.display_table(_barrier_rows())
    assert shown["value"].tolist()[1:3] == ["5,000", "48"]
    assert shown["against England (95% / 99.8%)"].tolist() == [
        "not compared", "Higher / Higher", "Similar / Similar", "not compared",
    ]  # fmt: skip


def _numbers(sii: pd.DataFrame, gaps: pd.DataFrame | None = None) -> key_findings.FindingNumbers:
    """SYNTHETIC finding numbers: a comparison table whose two need indicators have no value
    (so no indicator is ranked or tested)."""
    table = pd.DataFrame(
        {
            "indicator": ["imd_score", "cmd_prevalence"],
            "label": ["IMD 2019 score", "common mental disorders"],
            "unit": ["", "%"],
            "value": [np.nan, np.nan],
            "england": [21.7, 16.9],
            "rank": [np.nan, np.nan],
            "rank_of": [np.nan, np.nan],
            "vs_neighbours": ["Not compared"] * 2,
            "vs_england_95": ["Not compared"] * 2,
            "vs_england_99_8": ["Not compared"] * 2,
            "describes": ["Synthetic Shire"] * 2,
            "neighbours_mean": [np.nan, np.nan],
        }
    )
    trends = pd.DataFrame(columns=["label", "trend", "flag"])
    empty = pd.DataFrame(
        columns=["breakdown_title", "group", "measure", "denominator", "value", "benchmark", "gap", "significance_998"]
    )  # widest_gaps' columns, no row
    gaps = gaps if gaps is not None else empty
    return key_findings.FindingNumbers(AREA, "2030-31", table, trends, 2, gaps, FOOTPRINT, sii)


def _sii(rows):
    return pd.DataFrame(rows, columns=["period", "sii", "sii_lower", "sii_upper"])


def test_the_deprivation_gap_is_called_narrowed_only_when_the_limits_part():
    overlap = _sii([("2028-29", 12.0, 10.0, 14.0), ("2030-31", 9.0, 7.0, 11.0)])
    narrowed = _sii([("2028-29", 12.0, 11.0, 13.0), ("2030-31", 8.0, 7.0, 9.0)])
    widened = _sii([("2028-29", 8.0, 7.0, 9.0), ("2030-31", 12.0, 11.0, 13.0)])
    assert key_findings.sii_change(overlap.iloc[0], overlap.iloc[1]) == key_findings.OVERLAP
    assert key_findings.sii_change(narrowed.iloc[0], narrowed.iloc[1]) == key_findings.NARROWED
    assert key_findings.sii_change(widened.iloc[0], widened.iloc[1]) == key_findings.WIDENED
    kf6 = page.findings_from(_numbers(narrowed))[5]
    assert kf6.text == (
        "In NHS Synthetic ICB, recovery was 12.0 percentage points higher at the least than at the most deprived "
        "end (slope index of inequality) in 2028-29 and 8.0 in 2030-31: it has narrowed."
    )
    assert kf6.numbers == {"kf6_first": 12.0, "kf6_last": 8.0}
    assert "fewer than two years" in page.findings_from(_numbers(narrowed.iloc[:1]))[5].text.lower()


def test_findings_say_so_when_the_data_cannot_tell():
    found = page.findings_from(_numbers(_sii([])))
    assert [f.key for f in found] == ["kf1", "kf2", "kf3", "kf4", "kf5", "kf6", "kf7"]
    assert found[0].text == "No indicator has values for both Synthetic Shire and its statistical neighbours."
    assert (
        found[1].text == "None of the 0 indicators that can be tested is worse than England at the strict 99.8% level."
    )
    assert found[3].text.startswith("No indicator can be shown to be both worse than England and getting worse: of 0")
    assert found[4].text.startswith("In 2030-31 no group's Talking Therapies recovery")
    assert found[6].text == "No deprivation or prevalence value is available for Synthetic Shire."
    glued = page.glue_values(found)
    assert glued["key_findings_md"].count("\n- ") == len(found) - 1
    assert glued["kf5_text"].endswith("([evidence: Exploring inequality](exploring_inequality.html))")


def test_the_widest_gap_is_read_from_the_table_as_shown():
    gaps = pd.DataFrame(  # SYNTHETIC strict gap: 40.04% against 50.0%, 200 people
        {
            "breakdown_title": ["Age group"],
            "group": ["18-25"],
            "measure": ["recovery"],
            "denominator": [200.0],
            "value": [40.04],
            "benchmark": [50.0],
            "gap": [-9.96],
            "significance_998": ["Worse"],
        }
    )
    kf5 = page.findings_from(_numbers(_sii([]), gaps))[4]
    assert kf5.text == (
        "The widest gap between groups that passes the strict 99.8% test: in NHS Synthetic ICB, recovery for "
        "18-25 (age group) was 40.0% against 50.0% for everyone treated (2030-31), 10.0 percentage points lower."
    )
    assert kf5.cells["kf5_gap"] == (
        "widest-outcome-shortfalls.csv",
        "group",
        "18-25",
        "gap (percentage points)",
        "-10.0",
    )


def test_strict_gaps_keep_only_the_99_8_test(monkeypatch):
    widest = pd.DataFrame({"group": list("abcdefgh"), "significance_998": ["Worse", "Similar"] + ["Worse"] * 6})
    monkeypatch.setattr(key_findings.inequality, "widest_gaps", lambda area, period: widest)  # SYNTHETIC
    assert key_findings.strict_gaps(AREA, "2030-31")["group"].tolist() == list("acdefg")


# --- on the real published data ------------------------------------------------------------


@pytest.mark.mirror
def test_the_chapter_glues_every_value_for_a_real_area():
    chapter = page.chapter_numbers(areas.get("E06000063"), "2024-25")
    values = page.glued_values(chapter)
    for key in ("need_text", "access_text", "outcome_text", "coercion_text", "key_findings_md", "claims_hold"):
        assert values[key] != "" and values[key] is not None, key
    assert values["key_findings_md"].count("\n- ") == 6
