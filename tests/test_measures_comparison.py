"""The comparison chapter's numbers: statistical neighbours, indicators, trends and key
findings (mhbook.measures.comparison, mhbook.measures.key_findings). Its words, display
tables and charts are tested in test_pages_comparison.py; the key findings' words are
made by mhbook.pages.summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mhbook import areas, figures
from mhbook.figures.spine import spine_chart
from mhbook.measures import comparison
from mhbook.pages import comparison as page

#: County & UAs created in the 2019-2023 reorganisations.
NEW_AREAS = [
    "E06000058",
    "E06000059",
    "E06000060",
    "E06000061",
    "E06000062",
    "E06000063",
    "E06000064",
    "E06000065",
    "E06000066",
]
LONDON_BOROUGH, SHIRE_COUNTY = "E09000002", "E10000014"


# ------------------------------------------------------------------ pure helpers (no data)


def test_expected_periods_fill_missing_years():
    assert comparison._expected_periods(["2021/22", "2022/23", "2024/25"]) == [
        "2021/22",
        "2022/23",
        "2023/24",
        "2024/25",
    ]
    assert comparison._expected_periods(["2006", "2008"]) == ["2006", "2007", "2008"]
    assert comparison._expected_periods(["2022-23", "2024-25"]) == ["2022-23", "2023-24", "2024-25"]


def test_spine_chart_leaves_suppressed_neighbours_out_synthetic():
    # Synthetic rows: one indicator with England, one without (centred on the neighbours).
    rows = pd.DataFrame(
        {
            "label": ["a", "b"],
            "unit": ["%", "score"],
            "value": [10.0, np.nan],
            "england": [12.0, np.nan],
            "region": [11.0, np.nan],
            "comparison": ["lower than England at 95%", "not tested"],
        }
    )
    nb = pd.DataFrame({"label": ["a", "a", "a", "b", "b"], "value": [8.0, np.nan, 14.0, 3.0, 5.0]})
    fig = spine_chart(rows, nb, area="Synthetic area", region="Synthetic region")
    assert list(fig.data["neighbours_with_value"]) == [2, 2]  # the NaN is not drawn, not zero
    assert fig.data.loc[0, "neighbours_min"] == 8.0
    assert fig.data.loc[1, "centre_is"] == "neighbours' average"
    assert fig.data.loc[1, "centre"] == pytest.approx(4.0)
    assert "No value for Synthetic area: b" in fig.alt


# ------------------------------------------------------------------ neighbours (real data)


@pytest.mark.mirror
def test_every_area_has_ten_current_neighbours_or_a_reason():
    current = {a.code for a in areas.all_areas()}
    assert len(current) == 153
    for code in sorted(current):
        nb = comparison.neighbours(code)
        assert nb.model in ("2025", "2021"), f"{code}: in neither DfE model"
        t = nb.table
        assert len(t) == 10, code
        placed = t[t["placed"]]
        assert set(placed["neighbour_code"]) <= current, code
        assert code not in set(placed["neighbour_code"]), f"{code} is its own neighbour"
        assert not placed["neighbour_code"].duplicated().any(), code
        note = page.neighbours_note(nb, code)
        for name in nb.unplaced:  # each neighbour that cannot be placed is named, with the reason
            assert name in note and "could not be placed" in note, (code, note)
        if nb.model == "2021":
            assert "not in the May 2025 model" in note


@pytest.mark.mirror
@pytest.mark.parametrize("code", NEW_AREAS)
def test_areas_created_2019_2023_have_neighbours(code):
    nb = comparison.neighbours(code)
    assert nb.model is not None
    assert len(nb.codes) + len(nb.unplaced) == 10
    assert len(nb.codes) >= 8, nb.unplaced


# ------------------------------------------------------------------ the chapter (real data)


@pytest.fixture(scope="module", params=[LONDON_BOROUGH, SHIRE_COUNTY])
def chapter(request):
    area = areas.get(request.param)
    table = comparison.comparison_table(area)
    trends = comparison.trend_table(area, table)
    values = comparison.neighbour_values(area)
    return area, table, trends, values


@pytest.mark.mirror
def test_every_indicator_has_a_value_or_its_reason(chapter):
    area, table, _, _ = chapter
    assert list(table["indicator"]) == [s.key for s in comparison.SPECS]
    for _, r in table.iterrows():
        note = page.table_note(r)
        assert pd.notna(r["value"]) or note.strip(), f"{area.name}: {r['indicator']} has neither value nor reason"
        assert r["region_source"] in comparison.REGION_SOURCES
        if r["indicator"] in ("referrals", "recovery", "improvement") and pd.notna(r["value"]):
            assert "Integrated Care Board" in page.value_is_for(r)  # says which organisation the number is for
        if r["indicator"] == "detentions" and pd.notna(r["value"]):
            assert "ICB" in page.value_is_for(r) and "fit" in note  # the footprint and how well it fits


@pytest.mark.mirror
def test_comparisons_use_polarity_words(chapter):
    _, table, _, _ = chapter
    for r in table.itertuples():
        allowed = {"Better", "Worse"} if isinstance(r.polarity, str) else {"Higher", "Lower"}
        allowed |= {"Similar", "Not compared"}
        assert {r.vs_england_95, r.vs_england_99_8} <= allowed, r.indicator


@pytest.mark.mirror
def test_missing_neighbour_values_are_never_zero(chapter):
    _, table, _, values = chapter
    missing = values[values["status"] != "value"]
    assert missing["value"].isna().all()
    # Ranks count only neighbours with a value.
    for r in table[table["rank"].notna()].itertuples():
        assert r.rank_of == r.neighbours_with_value + 1
        assert 1 <= r.rank <= r.rank_of


@pytest.mark.mirror
def test_trends_cover_every_series_with_three_periods(chapter):
    area, _, trends, _ = chapter
    for s in comparison.SPECS:
        n = comparison.series(area, s.key)["period"].nunique()
        assert (s.key in set(trends["indicator"])) == (n >= 3), s.key
    assert set(trends["trend"]) <= {"Increasing", "Decreasing", "No significant change", "Cannot be calculated"}
    # A flag needs a significant trend in the bad direction and a 99.8% "Worse".
    for r in trends[trends["flag"]].itertuples():
        assert r.vs_england == "Worse" and r.direction_is == "getting worse"


@pytest.mark.mirror
def test_key_findings_numbers_equal_the_published_tables(chapter, tmp_path):
    from mhbook.measures import inequality
    from mhbook.pages import summary

    area, table, trends, _ = chapter
    found = summary.key_findings(area, table=table, trends=trends)
    assert 5 <= len(found) <= 8
    # Write the tables exactly as the chapters do, then read the CSVs back.
    figures.publish_table(page.display_table(table), "comparison-indicators", caption="x", outdir=tmp_path)
    figures.publish_table(
        summary.outcome_gaps(inequality.widest_gaps(area)), "widest-outcome-shortfalls", caption="x", outdir=tmp_path
    )
    checked = 0
    for f in found:
        assert f.evidence in {"comparison", "exploring_inequality", "iapt_deprivation", "triple_barrier"}
        assert f"]({f.evidence}.html)" in f.markdown
        for key, (csv, row_col, row_value, col, shown) in f.cells.items():
            df = pd.read_csv(tmp_path / csv, dtype=str)
            cell = df.loc[df[row_col] == str(row_value), col].iloc[0]
            number = float(str(shown).rstrip("%").replace(",", ""))
            assert math.isclose(float(cell.rstrip("%").replace(",", "")), number), (key, cell, shown)
            assert math.isclose(f.numbers[key], number), (key, f.numbers[key], shown)
            # a gap is written as a positive number of points "lower"
            assert str(shown).lstrip("-") in f.text, (key, shown, f.text)
            checked += 1
    assert checked >= 4
    glued = summary.glue_values(found)
    assert glued["key_findings_md"].count("\n- ") == len(found) - 1


@pytest.mark.mirror
def test_fallback_to_2021_model_and_unplaced_neighbours_synthetic(monkeypatch):
    # Synthetic: the real 2025 model has every area and places every neighbour, so the
    # fallback is exercised with a made-up 2021 list holding one abolished authority.
    from mhbook.errors import UnknownAreaError
    from mhbook.sources import comparators

    def fake(code, model="2025"):
        if model == "2025":
            raise UnknownAreaError("not in 2025 (synthetic)")
        codes = ["E10000014", None, *[a.code for a in areas.all_areas() if a.code.startswith("E06")][:8]]
        names = ["Hampshire", "Northamptonshire", *["x"] * 8]
        return pd.DataFrame(
            {"rank": range(1, 11), "neighbour_code": codes, "neighbour_name": names, "closeness": "Close"}
        )

    monkeypatch.setattr(comparators, "statistical_neighbours", fake)
    comparison.neighbours.cache_clear()
    try:
        nb = comparison.neighbours("E09000002")
        assert nb.model == "2021" and nb.unplaced == ["Northamptonshire"]
        assert len(nb.codes) == 9
    finally:
        comparison.neighbours.cache_clear()
