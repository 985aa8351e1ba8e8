"""Tests of mhbook.pages.exploring_inequality: the chapter's sentences, display tables and
captions. The first tests feed it SYNTHETIC tidy tables made here (numbers chosen so each
expected word can be worked out by hand; no mirror needed); the last ones run it on the real
published data (mirror)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mhbook import areas
from mhbook.measures import (
    claims,
    coercion,
    comparison,
    detentions_by_ethnicity,
    iapt_deprivation,
    inequality,
    key_findings,
    local_series,
    prevalence,
    summary,
    triple_barrier,
)
from mhbook.measures.footprints import Footprint
from mhbook.pages import exploring_inequality as page

ROOT = Path(__file__).parents[1]


def _footprint(period, org_type, code, name, population_share, footprint_share):
    return Footprint(period, "Synthetic Area", org_type, code, name, population_share, footprint_share)


def _recovery_rows(period, org_type, org_code, rows):
    """SYNTHETIC recovery rows in ``breakdown_table``'s columns: (group, value, lower, upper,
    significance at 95%, at 99.8%, suppressed, value_source)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "group", "value", "lower_cl", "upper_cl", "significance_95", "significance_998", "suppressed",
            "value_source",
        ],
    )  # fmt: skip
    return frame.assign(
        period=period,
        org_type=org_type,
        org_code=org_code,
        breakdown="gender",
        breakdown_title="Gender",
        measure="recovery",
    )


def test_comparison_words_name_the_strictest_level_passed():
    sig95 = pd.Series(["Worse", "Worse", "Better", "Similar", "Not compared"])
    sig998 = pd.Series(["Worse", "Similar", "Better", "Similar", "Not compared"])
    assert page.comparison_words(sig95, sig998).tolist() == [
        "worse at 99.8%",
        "worse at 95%",
        "better at 99.8%",
        "similar",
        "not compared",
    ]


def test_decimals_follow_what_nhs_england_published():
    rows = pd.DataFrame(
        {
            "org_type": ["England", "ICB", "ICB"],
            "value_source": ["published", "published", "computed"],
        }
    )
    # England to one decimal; a published ICB percentage is a whole number; a recomputed one 1 dp.
    assert page.decimals(rows).tolist() == [1, 0, 1]


def test_suppression_sentence_counts_groups_not_rows():
    table = pd.DataFrame({"group": ["A", "A", "B", "C"], "suppressed": [False, True, False, False]})
    assert page.suppression_sentence(table).startswith("1 of the 3 groups has a suppressed count (A)")
    assert page.suppression_sentence(table.assign(suppressed=False)) == "None of the 3 groups is suppressed."


def test_ccg_table_sets_the_two_organisations_side_by_side():
    ccg = _footprint("2021-22", "Sub-ICB", "00X", "NHS Synthetic CCG", 1.0, 0.9)
    icb = _footprint("2024-25", "ICB", "QXX", "NHS Synthetic ICB", 1.0, 0.1)
    recovery = pd.concat(
        [
            _recovery_rows(
                "2021-22",
                "Sub-ICB",
                "00X",
                [
                    ("Female", 50.0, 47.2, 52.6, "Similar", "Similar", False, "published"),
                    ("Male", np.nan, np.nan, np.nan, "Not compared", "Not compared", True, "missing"),
                ],
            ),
            _recovery_rows(
                "2024-25",
                "ICB",
                "QXX",
                [
                    ("Female", 48.0, 46.6, 49.4, "Worse", "Similar", False, "published"),
                    ("Male", 55.0, 53.1, 56.8, "Better", "Better", False, "published"),
                ],
            ),
        ],
        ignore_index=True,
    )
    both = inequality.CcgBesideIcb(ccg, icb, "2024-25", recovery)
    table = page.ccg_table(both)
    # Whole numbers (published below England), limits rounded outwards: 47.2 -> 47, 52.6 -> 53.
    assert table.to_dict("records") == [
        {
            "breakdown": "Gender",
            "group": "Female",
            "NHS Synthetic CCG, 2021-22": "50 (47 to 53) (similar)",
            "NHS Synthetic ICB, 2024-25": "48 (46 to 50) (worse at 95%)",
        },
        {
            "breakdown": "Gender",
            "group": "Male",
            "NHS Synthetic CCG, 2021-22": "suppressed",
            "NHS Synthetic ICB, 2024-25": "55 (53 to 57) (better at 99.8%)",
        },
    ]
    area = areas.Area("E06999999", "Synthetic Town", "E12999999", "Synthetic Region", ())
    sentence = page.ccg_sentence(area, both)
    assert "NHS Synthetic CCG (00X) fitted Synthetic Town better than its 2024-25" in sentence
    assert "100% of the area's residents lived in it and they were 90% of its residents, against 10%" in sentence
    alone = inequality.CcgBesideIcb(ccg, icb, "2024-25", None)
    assert page.ccg_table(alone) is None and page.publish_ccg_table(alone) is None
    assert page.ccg_sentence(area, alone) == (
        "Synthetic Town's 2021-22 Clinical Commissioning Group does not fit the area better than its 2024-25 "
        "Integrated Care Board, so only the ICB is shown."
    )


def test_gaps_sentence_names_the_widest_shortfall_of_each_measure():
    gaps = pd.DataFrame(
        {
            "group": ["Male", "16-17"],
            "breakdown_title": ["Gender", "Age group"],
            "measure": ["recovery", "improvement"],
            "value": [44.04, 60.0],
            "benchmark": [50.0, 66.66],
        }
    )
    assert page.gaps_sentence(gaps, "NHS Synthetic ICB") == (
        "In NHS Synthetic ICB, the widest significant shortfall in recovery is for Male (gender), 44.0% "
        "against 50.0% overall; in reliable improvement, for 16-17 (age group), 60.0% against 66.7% overall."
    )
    assert page.gaps_sentence(gaps.iloc[0:0], "England") == (
        "In England no group's recovery or reliable improvement is significantly below the overall value."
    )


def test_icb_sentence_reads_the_black_ratio_or_says_it_is_suppressed():
    ratios = pd.DataFrame(
        {
            "org_type": ["England", "ICB"],
            "org_name": ["England", "NHS SYNTHETIC AND OTHER INTEGRATED CARE BOARD"],
            "group": ["Black or Black British"] * 2,
            "ratio": [3.5, 2.5],
            "lower_cl": [3.4, 2.046],
            "upper_cl": [3.6, 3.054],
            "rate": [240.0, 150.0],
            "reference_rate": [68.5, 60.0],
        }
    )
    assert page.icb_sentence(ratios) == (
        "In Synthetic and Other ICB, Black or Black British people were detained at 2.50 times the White crude "
        "rate (95% limits 2.05 to 3.05; 150.0 against 60.0 per 100,000)."
    )
    suppressed = ratios.assign(ratio=[3.5, np.nan])
    assert "cannot be computed (suppressed counts)" in page.icb_sentence(suppressed)
    assert page.icb_sentence(ratios.iloc[:1]) == "No ICB figures by ethnicity could be matched to this area."


def _gender_table(org_type, org_name, values):
    """SYNTHETIC ``breakdown_table`` rows for the gender breakdown, both measures: each group
    (value %, at n = 1,000) against an overall value of 50%."""
    rows = []
    for measure in inequality.MEASURES:
        for group, value in values.items():
            x = value * 10
            rows.append(
                dict(
                    period="2024-25", org_type=org_type, org_name=org_name, breakdown="gender",
                    breakdown_title="Gender", group=group, unknown=False, referrals=2000.0, measure=measure,
                    numerator=x, denominator=1000.0, suppressed=False, status="published", value=value,
                    value_source="published", lower_cl=value - 3.1, upper_cl=value + 3.1, benchmark=50.0,
                    significance_95="Worse" if value < 46.9 else "Similar", significance_998="Similar",
                    gap=value - 50.0,
                )
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_englands_chart_is_drawn_afresh_for_each_area(tmp_path, monkeypatch):
    """``figures.publish`` re-lays a chart out for phones and closes it, so a chart object
    must never be published twice: England's chart, published for a second area in the same
    process with an empty rendering cache, keeps the size it had for the first."""
    from PIL import Image

    publishing = importlib.import_module("mhbook.figures.publish")  # the module, not the function
    monkeypatch.setattr(publishing, "cache_dir", lambda: tmp_path / "cache")
    england = _gender_table("England", "England", {"Female": 52.0, "Male": 45.0})
    sizes = []
    for name in ("first", "second"):
        local = _gender_table("ICB", f"NHS Synthetic {name} ICB", {"Female": 51.0, "Male": 44.0})
        fp = _footprint("2024-25", "ICB", "QXX", f"NHS Synthetic {name} ICB", 1.0, 0.2)
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        shown = page.publish_breakdown(inequality.IaptInequality("2024-25", fp, england, local), "gender")
        assert "gender-recovery-england.png" in shown.data and "gender-table.csv" in shown.data
        with Image.open(tmp_path / name / "_figures" / "gender-recovery-england.png") as image:
            sizes.append(image.size)
    assert sizes[0] == sizes[1], sizes


@pytest.mark.parametrize(
    "module",
    [
        inequality,
        detentions_by_ethnicity,
        comparison,
        coercion,
        local_series,
        claims,
        summary,
        key_findings,
        iapt_deprivation,
        triple_barrier,
        prevalence,
    ],
    ids=lambda m: m.__name__,
)
def test_the_chapters_measures_import_no_figures_or_display(module):
    """Measures hold numbers: drawing and display are the page layer's."""
    tree = ast.parse(Path(module.__file__).read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    display = {m for m in imported if m.startswith(("IPython", "matplotlib", "mhbook.figures", "mhbook.pages"))}
    assert display == KNOWN_DISPLAY_IMPORTS.get(module.__name__, set())


#: Display imports still in a measures module, each a known piece of issue 17 left to do
#: (DEVELOPING.md, "The page layer"); none left: add one here only with the issue it waits on.
KNOWN_DISPLAY_IMPORTS: dict[str, set[str]] = {}


# --- on the real published data ------------------------------------------------------------


@pytest.mark.mirror
def test_every_area_gets_its_numbers_and_sentences():
    for area in areas.all_areas():
        chapter = page.chapter_numbers(area, "2024-25")
        values = page.glued_values(chapter)
        assert chapter.iapt.local is not None, area.name
        assert (chapter.ratios["org_type"] == "ICB").any(), area.name
        assert all(v == v for v in values.values() if isinstance(v, float)), area.name
        assert all(isinstance(values[k], str) and values[k] for k in ("local_gaps", "ccg_sentence", "icb_ratios"))


@pytest.mark.mirror
def test_blackpool_shows_its_last_ccg_year_beside_the_icb():
    # Blackpool is exactly CCG 00R in 2021-22 but 8% of its ICB: both are shown.
    both = inequality.ccg_beside_icb(areas.get("E06000009"), "2024-25")
    table, sentence = page.ccg_table(both), page.ccg_sentence(areas.get("E06000009"), both)
    assert "00R" in sentence and "2021-22" in sentence
    assert any("2021-22" in c for c in table.columns) and any("2024-25" in c for c in table.columns)
    assert set(table["breakdown"]) >= {"Ethnic group, broad", "Age group", "Gender"}
    hackney = inequality.ccg_beside_icb(areas.get("E09000012"), "2024-25")
    assert "does not fit the area better" in page.ccg_sentence(areas.get("E09000012"), hackney)


@pytest.mark.mirror
def test_suppressed_counts_are_shown_as_missing_with_a_sentence():
    # Greater Manchester ICB, 2024-25: NHS suppressed Gay/Lesbian recovery ("*").
    table = inequality.breakdown_table("sexual_orientation", "2024-25", "ICB", "QOP")
    assert "1 of the 4 groups has a suppressed count" in page.suppression_sentence(
        table[table["measure"] == "recovery"]
    )
    shown = page.breakdown_display(
        inequality.IaptInequality(
            "2024-25",
            inequality.iapt_footprint(areas.get("E08000004"), "2024-25"),
            inequality.all_breakdowns("2024-25"),
            inequality.all_breakdowns("2024-25", "ICB", "QOP"),
        ),
        "sexual_orientation",
    )
    row = shown[shown["group"] == "Gay/Lesbian"].iloc[0]
    assert pd.isna(row["recovered"]) and pd.isna(row["recovery vs overall"])
