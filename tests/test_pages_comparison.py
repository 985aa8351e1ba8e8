"""Tests of mhbook.pages.comparison: the Compared with similar areas chapter's sentences,
display tables and captions. The first tests feed it SYNTHETIC tidy tables made here in
the columns of ``comparison_table``, ``neighbour_values`` and ``trend_table`` (numbers
chosen so each expected word can be worked out by hand; no mirror needed); the last ones
run it on the real published data (mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhbook import areas, figures
from mhbook.measures import comparison
from mhbook.measures.coercion import Footprint
from mhbook.measures.footprints import Footprint as IaptFootprint
from mhbook.pages import comparison as page

LONDON_BOROUGH, SHIRE_COUNTY = "E09000002", "E10000014"


def _table(rows):
    """SYNTHETIC rows of ``comparison_table``: (label, unit, value, lower_95, upper_95,
    england, neighbours_mean, rank, rank_of, vs_neighbours, vs_england_95, vs_england_99_8, note), ``note``
    being a code of ``comparison.NOTES`` ("not_published" rows are marked suppressed, by the
    publisher's silence)."""
    t = pd.DataFrame(
        rows,
        columns=[
            "label", "unit", "value", "lower_95", "upper_95", "england", "neighbours_mean", "rank", "rank_of",
            "vs_neighbours", "vs_england_95", "vs_england_99_8", "note",
        ],
    )  # fmt: skip
    return t.assign(
        barrier="need",
        indicator=[f"ind{i}" for i in range(len(t))],
        period="2024",
        region=np.nan,
        neighbours_min=t["neighbours_mean"] - 1,
        neighbours_max=t["neighbours_mean"] + 1,
        describes="Synthetic area",
        region_source="published",
        source="synthetic",
        lower_99_8=np.nan,
        upper_99_8=np.nan,
        area_name="Synthetic area",
        suppressed=t["note"] == "not_published",
        publisher_note=None,
        footprint=None,
    )


def _trends(rows):
    """SYNTHETIC rows of ``trend_table``: (label, unit, area_first, area_last, trend, reason, flag)."""
    t = pd.DataFrame(rows, columns=["label", "unit", "area_first", "area_last", "trend", "trend_reason", "flag"])
    return t.assign(
        first_period="2019",
        last_period="2023",
        england_trend="Decreasing",
        england_trend_reason="",
        indicator=[f"ind{i}" for i in range(len(t))],
    )


def _cells(column: pd.Series) -> list:
    """A display column's cells, each missing one as None (left for the table's missing label)."""
    return [None if pd.isna(x) else x for x in column]


class _Neighbours:
    model = "2025"
    unplaced: list[str] = []
    table = pd.DataFrame({"neighbour_name": ["North", "South"]})


@pytest.fixture
def synthetic_area(monkeypatch):
    monkeypatch.setattr(page, "neighbours", lambda code: _Neighbours())
    return type("SyntheticArea", (), {"code": "E06999999", "name": "Synthetic area", "region_name": "Synthetic"})()


def test_values_and_limits_share_precision():
    assert page.fmt(12.345, "%") == "12.3%"
    assert page.fmt(1234.56, "per 100,000") == "1,234.6"
    assert page.fmt(float("nan"), "%") == "no value"


def test_comparison_words():
    assert page.comparison_words("Worse", "Worse") == "worse than England at 99.8%"
    assert page.comparison_words("Higher", "Similar") == "higher than England at 95%"
    assert page.comparison_words("Similar", "Similar") == "similar to England"
    assert page.comparison_words("Not compared", "Not compared") == "not tested"


def test_sentences_count_and_name_what_the_tables_hold_synthetic(synthetic_area):
    table = _table(
        [
            ("depression", "%", 12.34, 11.0, 13.0, 12.0, 11.0, 2, 3, "Higher", "Similar", "Similar", ""),
            ("self-harm", "per 100,000", np.nan, np.nan, np.nan, 150.0, np.nan, pd.NA, pd.NA,
             "Not compared", "Not compared", "Not compared", "not_published"),
        ]
    )  # fmt: skip
    trends = _trends(
        [
            ("depression", "%", 10.0, 12.34, "Increasing", "", False),
            ("self-harm", "per 100,000", np.nan, np.nan, "Cannot be calculated", "fewer than 5 points (3)", False),
        ]
    )
    out = page.sentences(synthetic_area, table, trends)
    assert out["cmp_neighbour_names"] == "North, South"
    assert out["cmp_neighbour_note"] == "DfE's children's services statistical neighbours, May 2025 model."
    assert (out["cmp_n_indicators"], out["cmp_n_with_value"], out["cmp_n_tested"], out["cmp_n_missing"]) == (2, 1, 1, 1)
    assert (out["cmp_n_trends"], out["cmp_n_trend_tested"], out["cmp_n_flagged"]) == (2, 1, 0)
    assert out["cmp_missing_text"] == "No value for the area: self-harm (Suppressed or not published)."
    assert out["cmp_neighbour_text"] == (
        "depression: 12.3%, rank 2 of 3 with a value (higher than the neighbours' average of 11.0%)."
    )
    assert out["cmp_flag_text"] == (
        "No indicator is both worse than England and getting significantly worse, though for most the published "
        "extracts hold neither counts nor limits, so the trend cannot be tested."
    )
    flagged = trends.assign(flag=[True, False])
    assert page.sentences(synthetic_area, table, flagged)["cmp_flag_text"] == (
        "Worse than England and getting worse: depression."
    )


def test_display_tables_write_missing_as_missing_never_zero_synthetic():
    table = _table(
        [
            ("depression", "%", 12.35, 11.04, 13.66, 12.0, 11.0, 2, 3, "Higher", "Better", "Similar", ""),
            ("self-harm", "per 100,000", np.nan, np.nan, np.nan, 1500.0, np.nan, pd.NA, pd.NA,
             "Not compared", "Not compared", "Not compared", ""),
        ]
    )  # fmt: skip
    shown = page.display_table(table)
    assert _cells(shown["95% limits"]) == ["11.0% to 13.7%", None]
    assert list(shown["England"]) == ["12.0%", "1,500.0"]
    assert pd.isna(shown.loc[1, "value"]) and pd.isna(shown.loc[1, "rank among neighbours (1 = highest)"])
    assert shown.loc[0, "rank among neighbours (1 = highest)"] == "2 of 3 with a value"
    assert shown.loc[0, "vs England (95% / 99.8%)"] == "Better / Similar"
    both_limits = table.assign(lower_99_8=[10.5, np.nan], upper_99_8=[14.2, np.nan])
    notes = page.notes_table(both_limits)
    assert pd.isna(notes.loc[0, "note"])  # nothing to say is shown as missing, not as ""
    assert notes.loc[1, "note"] == "No value for Synthetic area."
    assert list(notes["value is for"]) == ["Synthetic area", "Synthetic area"]
    assert list(notes["region"]) == ["Published regional value."] * 2
    values = pd.DataFrame(
        {
            "indicator": ["cmd_prevalence", "cmd_prevalence", "suicide", "suicide"],
            "label": [comparison.SPEC["cmd_prevalence"].label] * 2 + [comparison.SPEC["suicide"].label] * 2,
            "neighbour": ["North", "South", "North", "South"],
            "value": [20.04, np.nan, 10.0, np.nan],
            "status": ["value", "suppressed", "value", "no value"],
        }
    )
    wide = page.neighbour_display(None, values)
    assert list(wide["area"]) == ["North", "South"]
    assert list(wide[comparison.SPEC["cmd_prevalence"].label]) == ["20.0%", "suppressed"]
    assert list(wide[comparison.SPEC["suicide"].label]) == ["10.0", "no value"]
    assert wide[comparison.SPEC["depression"].label].isna().all()  # no rows: left for the missing label


def _panel_row(note: str, **facts) -> dict:
    """A SYNTHETIC panel row without facts but those given (see ``comparison.panel``)."""
    row = comparison._empty_row("E06999999", "2023/24", None, note)
    return row | facts


#: (note code, facts, indicator, the words expected): each worked out by hand from the facts
VALUE_NOTES = [
    ("", {}, "suicide", ""),
    (
        "remapped",
        {"publisher_note": "Value re-mapped from 2019 boundaries."},
        "suicide",
        "Caution: Value re-mapped from 2019 boundaries.",
    ),
    ("not_published", {"publisher_note": None, "suppressed": True}, "suicide", "Suppressed or not published."),
    ("not_published", {"publisher_note": "Data quality issue"}, "suicide", "Data quality issue."),
    (
        "former_code",
        {"from_code": "E10999999", "from_name": "Old Synthetic"},
        "suicide",
        "Published as Old Synthetic (E10999999), the former code for the same area.",
    ),
    (
        "part_of_former",
        {"from_code": "E10999998", "from_name": "Greater Synthetic", "from_value": 1234.56},
        "suicide",
        "Not published for Synthetic area; the former Greater Synthetic (E10999998), which also covered other "
        "areas, had 1,234.6.",
    ),
    ("no_value_or_former", {}, "suicide", "No value for Synthetic area or a former area covering it."),
    (
        "single_district",
        {"from_code": "E07999999"},
        "depression",
        "Published for the district E07999999, the whole of Synthetic area.",
    ),
    (
        "districts_only",
        {"districts_with_value": 3.0, "districts": 7.0},
        "depression",
        "Published only for districts, without counts, so no value for Synthetic area as a whole can be made "
        "(3 of its 7 districts have a value in 2023/24).",
    ),
    ("no_value_in_period", {}, "depression", "No value for Synthetic area in 2023/24."),
    ("england_mean", {}, "imd_score", "Population-weighted mean of all Counties & UAs."),
    (
        "not_published_error",
        {"publisher_note": "no rows for QXX (synthetic)"},
        "recovery",
        "Not published: no rows for QXX (synthetic)",
    ),
    (
        "nhs_organisation",
        {"describes": "NHS Synthetic ICB (QXX)"},
        "recovery",
        "Value for NHS Synthetic ICB (QXX), the NHS organisation serving most of the area; limits carry NHS "
        "England's rounding of counts to 5 and of the percentage to a whole number.",
    ),
    (
        "nhs_organisation",
        {"describes": "NHS Synthetic ICB (QXX)", "suppressed": True},
        "referrals",
        "Value for NHS Synthetic ICB (QXX), the NHS organisation serving most of the area; limits carry NHS "
        "England's rounding of counts to 5. Suppressed or not published.",
    ),
    (
        "mha_footprint",
        {"footprint": Footprint("Sub-ICB", ("98X", "99X"), ("NHS Synthetic ICB - 98X", "x"), 0.92, 0.004)},
        "detentions",
        "Value for 2 Sub-ICB Locations of Synthetic ICB together (98X, 99X) (poor fit: 92% of the area's "
        "residents live in it and they are less than 1% of its residents). Crude rate, all ages; limits carry "
        "the rounding of counts to 5.",
    ),
    ("", {"suppressed": True}, "recovery", "Suppressed or not published."),
]


@pytest.mark.parametrize("code, facts, indicator, expected", VALUE_NOTES, ids=lambda x: str(x)[:20])
def test_each_note_code_is_worded_from_its_facts_synthetic(code, facts, indicator, expected):
    assert page.value_note(_panel_row(code, **facts), "Synthetic area", indicator) == expected


def test_every_note_code_has_its_words():
    worded = {code for code, *_ in VALUE_NOTES} | {"region_mean", "footprint_unmapped"}
    assert worded == set(comparison.NOTES)
    assert page.value_note(_panel_row("region_mean"), "Synthetic area", "imd_score") == page.REGION_WORDS["region_mean"]
    assert set(page.REGION_WORDS) == set(comparison.REGION_SOURCES)
    unmapped = IaptFootprint("2015-16", "Synthetic area", None, None, None, 0.0, 0.0, unmapped="no lookup (synthetic)")
    assert page.value_note(_panel_row("footprint_unmapped", footprint=unmapped), "Synthetic area", "recovery") == (
        "NHS footprints for 2015-16 cannot be mapped to Synthetic area: no lookup (synthetic)"
    )
    with pytest.raises(ValueError, match="'made_up'"):
        page.value_note(_panel_row("") | {"note": "made_up"}, "Synthetic area", "recovery")


def test_table_note_adds_what_the_numbers_leave_untested_synthetic():
    row = _panel_row("former_code", from_code="E10999999", from_name="Old Synthetic") | {
        "indicator": "suicide",
        "area_name": "Synthetic area",
        "value": 10.0,
        "lower_95": np.nan,
        "lower_99_8": np.nan,
        "england": np.nan,
    }
    assert page.table_note(row) == (
        "Published as Old Synthetic (E10999999), the former code for the same area. No confidence limits are "
        "published, so it is not tested against England. No England value in the extract."
    )
    only_95 = row | {"note": "", "lower_95": 9.0, "england": 11.0}
    assert page.table_note(only_95) == "Only 95% limits are published, so the 99.8% comparison is not made."
    assert page.table_note(only_95 | {"lower_99_8": 8.0}) == ""
    assert page.table_note(only_95 | {"value": np.nan}) == "No value for Synthetic area."
    fp = Footprint("ICB", ("QXX",), ("NHS Synthetic Integrated Care Board",), 1.0, 1.0)
    assert page.value_is_for(_panel_row("mha_footprint", footprint=fp)) == "Synthetic ICB (QXX)"
    assert page.value_is_for(_panel_row("", describes="Synthetic area")) == "Synthetic area"
    assert page.value_is_for(_panel_row("not_published")) is None


def test_neighbours_note_names_the_model_and_who_could_not_be_placed_synthetic():
    t = pd.DataFrame({"neighbour_name": ["North", "Old Shire", "Older Shire"], "placed": [True, False, False]})
    nb = comparison.Neighbours("E06999999", "2021", t)
    assert page.neighbours_note(nb, "Synthetic area") == (
        "DfE's children's services statistical neighbours, April 2021 (the area is not in the May 2025 model) "
        "model. 2 of the 10 could not be placed on a current County & UA: Old Shire, Older Shire (abolished in "
        "the 2019-2023 reorganisations)."
    )
    none = comparison.Neighbours("E06999999", None, t.iloc[0:0])
    assert page.neighbours_note(none, "Synthetic area") == "Synthetic area is in neither DfE model (2025 or 2021)."


def test_trend_display_gives_the_reason_a_trend_is_not_tested_synthetic():
    trends = _trends(
        [
            ("depression", "%", 10.0, 12.34, "Increasing", "", True),
            ("self-harm", "per 100,000", np.nan, np.nan, "Cannot be calculated", "fewer than 5 points (3)", False),
            ("smoking", "%", np.nan, np.nan, "Cannot be calculated", comparison.NO_VALUES, False),
            ("obesity", "%", 20.0, 21.0, "Cannot be calculated", comparison.NO_LIMITS_OR_COUNTS, False),
        ]
    )
    shown = page.trend_display(trends, "Synthetic Shire")
    assert _cells(shown["area, first to last value"]) == [
        "10.0% (2019) to 12.3% (2023)",
        None,
        None,
        "20.0% (2019) to 21.0% (2023)",
    ]
    assert list(shown["recent trend (area)"]) == [
        "Increasing",
        "Cannot be calculated: fewer than 5 points (3)",
        "Cannot be calculated: no values for Synthetic Shire",
        "Cannot be calculated: the extract publishes no confidence limits or counts",
    ]
    assert page.trend_reason(comparison.NO_VALUES, "England") == "no England values"
    assert list(shown["worse than England and getting worse"]) == ["yes", "no", "no", "no"]


# --- on the real published data ------------------------------------------------------------


@pytest.fixture(scope="module", params=[LONDON_BOROUGH, SHIRE_COUNTY])
def chapter(request):
    return page.chapter_numbers(areas.get(request.param))


@pytest.mark.mirror
def test_value_never_outside_its_displayed_limits(chapter):
    shown = page.display_table(chapter.table)
    for r, text in zip(chapter.table.itertuples(), shown["95% limits"]):
        if not isinstance(text, str):
            assert pd.isna(r.lower_95)
            continue
        lo, hi = (float(x.rstrip("%").replace(",", "")) for x in text.split(" to "))
        v = float(page.fmt(r.value, r.unit).rstrip("%").replace(",", ""))
        assert lo <= v <= hi, (r.indicator, v, text)


@pytest.mark.mirror
def test_missing_neighbour_values_are_shown_as_such(chapter):
    missing = chapter.values[chapter.values["status"] != "value"]
    wide = page.neighbour_display(chapter.area, chapter.values)
    for r in missing.itertuples():
        assert wide.loc[wide["area"] == r.neighbour, r.label].iloc[0] == r.status


@pytest.mark.mirror
def test_overview_figure_has_alt_text_and_csv(chapter, tmp_path):
    fig = page.overview_figure(chapter.area, chapter.table, chapter.values)
    assert chapter.area.name in fig.alt and "13 indicators" in fig.alt
    md = figures.publish(fig, "comparison-spine", outdir=tmp_path)
    assert ':alt: "Spine chart' in md.data
    csv = pd.read_csv(tmp_path / "comparison-spine.csv")
    assert len(csv) == len(chapter.table)
    assert (tmp_path / "comparison-spine.png").stat().st_size > 10_000


@pytest.mark.mirror
def test_glued_values_are_all_filled(chapter):
    values = page.glued_values(chapter)
    assert values["cmp_area_name"] == chapter.area.name
    assert values["cmp_n_indicators"] == len(comparison.SPECS)
    assert all(isinstance(values[k], str) and values[k] for k in ("cmp_missing_text", "cmp_neighbour_text"))
