"""Tests of mhbook.pages.deprivation_prevalence: the Deprivation and prevalence chapter's
sentences, display tables and captions. The first tests feed it SYNTHETIC tables and fits
made here (numbers chosen so each expected word can be worked out by hand; no mirror
needed); the last ones run it on the real published data (mirror)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from mhbook import areas, stats
from mhbook.measures import prevalence
from mhbook.pages import deprivation_prevalence as page

mirror = pytest.mark.mirror

SYNTHETIC = areas.Area("E06999999", "Synthetic Town", "E12999999", "Synthetic Region", ())


def _estimate(value, lower, upper):
    return stats.Estimate(value, ((0.95, lower, upper),), "synthetic", "synthetic")


def test_missing_years_between_financial_years():
    # Synthetic periods, not from data.
    assert page._missing_years(["2021/22", "2022/23", "2024/25"]) == ["2023/24"]
    assert page._missing_years(["2014/15", "2015/16"]) == []


def test_r_is_written_with_its_limits_to_two_decimals():
    assert page.r_text(_estimate(0.734, 0.651, 0.8)) == "r = 0.73 (95% CI 0.65 to 0.80)"


@pytest.mark.parametrize(
    ("r", "slope", "words"),
    [
        # slope 0.25 points per IMD point: 2.5 per 10 points, one decimal
        (0.8, (0.25, 0.2, 0.3), "strongly higher where deprivation is higher"),
        # slope 0.005 per point: 0.05 per 10 points, shown to two decimals so it is seen
        (0.5, (0.005, 0.004, 0.006), "moderately higher"),
        (-0.2, (-0.1, -0.15, -0.05), "weakly lower"),
    ],
)
def test_the_fit_sentence_grades_r_and_gives_the_slope_per_ten_points(monkeypatch, r, slope, words):
    line = stats.LinearFit(_estimate(*slope), _estimate(1.0, 0.5, 1.5), r * r, 120, pd.DataFrame())
    monkeypatch.setattr(page, "fit", lambda key: (line, _estimate(r, r - 0.1, r + 0.1)))
    sentence = page._fit_sentence("cmd_prevalence")
    assert sentence.startswith("Across the 120 County & UAs with their own published value, the estimated share")
    assert words in sentence
    step = {
        0.25: "2.5 percentage points more",
        0.005: "0.05 percentage points more",
        -0.1: "1.0 percentage points less",
    }
    assert step[slope[0]] in sentence


def _values(**row):
    """SYNTHETIC ``area_values`` with one indicator row (others never read)."""
    base = dict(
        indicator="cmd_prevalence", label="x", unit="%", period="2017", value=20.04, england=17.26,
        rank=3, ranked=120, value_from="E06999999", value_from_name="Synthetic Town", match="published",
        compared=None, england_middle=float("nan"), value_note=None, changed_on=None, also_covered=(),
        former=(), district_range=None,
    )  # fmt: skip
    return pd.DataFrame([base | row])


def _row(match, **detail):
    """SYNTHETIC row of ``indicator_table``: where a value of 20.0% comes from."""
    return _values(match=match, **detail).iloc[0]


def test_each_match_says_where_the_value_comes_from():
    name = "Synthetic Town"
    assert page.value_note(name, "cmd_prevalence", _row("published", value_note="A publisher note")) == ""
    remapped = _row("re-mapped", value_note="Unweighted mean of A and B (re-mapped by uploader)")
    assert page.value_note(name, "cmd_prevalence", remapped) == (
        "Caution: in the extract this is the unweighted mean of A and B (re-mapped by uploader)."
    )
    same = _row("former code", value_from="E10999999", value_from_name="Old Shire", changed_on="1 April 2023")
    assert page.value_note(name, "cmd_prevalence", same) == (
        "Published as Old Shire (E10999999), the code used for the same area until 1 April 2023."
    )
    part = _row(
        "predecessor", value_from="E10999999", value_from_name="Old Shire", also_covered=("Other Town", "Third")
    )
    assert page.value_note(name, "cmd_prevalence", part) == (
        "Not published for Synthetic Town, which was created on a later date. The value shown is for the former "
        "Old Shire (E10999999), which also covered Other Town, Third."
    )
    several = _row("predecessors", former=(("A", "E06999991", 12.34), ("B", "E06999992", 15.0)))
    assert "their 2017 values are: A (E06999991) 12.3%; B (E06999992) 15.0%. None is used" in page.value_note(
        name, "cmd_prevalence", several
    )
    districts = _row("districts only", district_range=(3, "Low", 6.04, "High", 18.46))
    assert page.value_note(name, "cmd_prevalence", districts).endswith(
        "Its 3 districts range from 6.0% (Low) to 18.5% (High)."
    )
    assert page.value_note(name, "cmd_prevalence", _row("not available", value_note="Not in the file.")) == (
        "Not in the file."
    )
    assert page.value_note(name, "cmd_prevalence", _row("not available")).startswith(
        "No value for Synthetic Town or a former area covering it"
    )


def test_englands_note_says_how_it_is_made_or_what_stands_in():
    assert page.england_note("imd_score", float("nan")) == "population-weighted mean of all Counties & UAs"
    assert page.england_note("emotional_disorders", float("nan")) == ""
    assert page.england_note("cmd_prevalence", 17.46).endswith("the middle County & UA has 17.5%")


def test_the_area_sentence_gives_its_value_englands_and_its_rank():
    assert page._sentence("cmd_prevalence", SYNTHETIC, _values()) == (
        "In 2017, an estimated 20.0% of people aged 16 and over in Synthetic Town had a common mental "
        "disorder (England: 17.3%). That ranks 3 of the 120 County & UAs with a value, from the highest."
    )


def test_a_borrowed_value_names_the_former_area_and_a_missing_one_says_why():
    borrowed = _values(
        match="predecessor", value_from="E10999999", value_from_name="Old Shire", also_covered=("Elsewhere",)
    )
    assert "in the former Old Shire had" in page._sentence("cmd_prevalence", SYNTHETIC, borrowed)
    assert page._sentence("cmd_prevalence", SYNTHETIC, borrowed).endswith("which also covered Elsewhere.")
    # a borrowed value has no rank (<NA>): the sentence says why rather than printing it
    unranked = page._sentence("cmd_prevalence", SYNTHETIC, borrowed.assign(rank=pd.array([pd.NA], dtype="Int64")))
    assert "<NA>" not in unranked
    assert "It is not ranked among the 120 County & UAs with a value of their own" in unranked
    missing = _values(
        value=float("nan"), england=float("nan"), england_middle=17.0, match="not available", value_note="Why."
    )
    assert page._sentence("cmd_prevalence", SYNTHETIC, missing) == (
        "There is no 2017 value for Synthetic Town. Why. (England's value is not in the data this book was built "
        "from (OHID publishes one on Fingertips); the middle County & UA has 17.0%.)"
    )


def _trend(series, values):
    """SYNTHETIC ``depression_trend``: England and one series over three years (no 2016/17)."""
    periods = ["2014/15", "2015/16", "2017/18"]
    rows = [dict(period=p, series="England", value=v, lower=v, upper=v) for p, v in zip(periods, (8.0, 9.0, 10.0))]
    rows += [dict(period=p, series=series, value=v, lower=v - 1, upper=v + 1) for p, v in zip(periods, values)]
    return pd.DataFrame(rows)


def test_the_depression_sentence_reads_the_area_its_districts_or_neither():
    area = page._depression_sentence(SYNTHETIC, _trend(prevalence.AREA, (10.0, 11.0, 12.5)))
    assert area == (
        "England's recorded prevalence rose from 8.0% in 2014/15 to 10.0% in 2017/18. In Synthetic Town it "
        "went from 10.0% in 2014/15 to 12.5% in 2017/18. The extract has no figures for 2016/17."
    )
    districts = page._depression_sentence(SYNTHETIC, _trend(prevalence.DISTRICTS, (5.0, 6.0, 7.0)))
    assert "in 2017/18 they ranged from 6.0% to 8.0%, with the middle district at 7.0%" in districts
    none = page._depression_sentence(SYNTHETIC, _trend("Elsewhere", (1.0, 2.0, 3.0)))
    assert "The extract has no figures for Synthetic Town or its districts." in none


def test_the_depression_chart_names_each_series_and_orders_them_by_name():
    trend = _trend(prevalence.DISTRICTS, (5.0, 6.0, 7.0))  # SYNTHETIC, as above
    shown = page.depression_series(SYNTHETIC, trend)
    assert list(dict.fromkeys(shown["series"])) == [
        "England",
        "Synthetic Town districts: middle (band: lowest to highest)",
    ]
    early = areas.Area("E06999998", "Abbeytown", "E12999999", "Synthetic Region", ())  # sorts before England
    shown = page.depression_series(early, _trend(prevalence.AREA, (1.0, 2.0, 3.0)))
    assert list(shown["series"]) == ["Abbeytown"] * 3 + ["England"] * 3
    assert list(shown["period"]) == ["2014/15", "2015/16", "2017/18"] * 2
    assert shown.loc[0, "value"] == 1.0 and shown.loc[3, "value"] == 8.0


def test_the_decile_table_shows_shares_to_one_decimal():
    deciles = pd.DataFrame(
        {
            "imd_decile": range(1, 11),
            "lsoas_2019": [1, 2, 0, 0, 0, 0, 0, 0, 0, 0],
            "share_2019": [100 / 3, 200 / 3] + [0.0] * 8,
            "lsoas_2025": [3] + [0] * 9,
            "share_2025": [100.0] + [0.0] * 9,
        }
    )
    shown = page.lsoa_decile_table(deciles)
    assert shown["share, IMD 2019 (%)"].iloc[:2].tolist() == [33.3, 66.7]
    assert shown["LSOAs 2021, IMD 2025"].iloc[0] == 3


# --- on the real published data ------------------------------------------------------------


@mirror
def test_every_area_gets_its_sentences():
    for area in areas.all_areas():
        values = page.headline_numbers(area)
        assert all(isinstance(values[f"{k}_sentence"], str) for k in prevalence.INDICATORS)
        text = " ".join(str(v) for v in values.values())
        assert "nan" not in text.split() and "<NA>" not in text, area.code


@mirror
def test_new_areas_name_their_predecessor_and_counties_their_districts():
    cumberland = prevalence.area_match("cmd_prevalence", areas.get("E06000063"))
    note = page.value_note("Cumberland", "cmd_prevalence", cumberland)
    assert "Cumbria" in note and "1 April 2023" in note and "Westmorland and Furness" in note
    bcp = prevalence.area_match("emotional_disorders", areas.get("E06000058"))
    assert all(c in page.value_note("BCP", "emotional_disorders", bcp) for c in ("E06000028", "E06000029", "E10000009"))
    hampshire = page.value_note(
        "Hampshire", "children_low_income", prevalence.area_match("children_low_income", areas.get("E10000014"))
    )
    assert "Its 11 districts range from" in hampshire


@mirror
def test_london_childrens_sentence_says_why_there_is_no_value():
    sentence = page.headline_numbers(areas.get("E09000033"))["emotional_disorders_sentence"]  # Westminster
    assert "London file" in sentence and "England: 3.6%" in sentence


def _one_area_per_situation() -> list[tuple[str, str]]:
    """(indicator, area code): the first area in each kind of match, per indicator."""
    out = []
    for key in prevalence.INDICATORS:
        t = prevalence.indicator_table(key)
        out += [(key, codes.iloc[0]) for _, codes in t.groupby("match")["area_code"]]
    return out


@mirror
def test_figures_for_each_kind_of_match():
    for key, code in _one_area_per_situation():
        area = areas.get(code)
        note = page.value_note(area.name, key, prevalence.area_match(key, area))
        shown = [page.map_figure(key, area)]
        if key in prevalence.PREVALENCES:
            shown.append(page.scatter_figure(key, area))
        for fig in shown:
            assert note in fig.caption, f"{key} {code}: caption lacks the area's note"
            plt.close(fig.fig)
    for code in ("E10000014", "E08000004"):
        area = areas.get(code)
        for fig in (
            page.depression_figure(area, prevalence.depression_trend(area)),
            page.lsoa_decile_figure(area, prevalence.lsoa_deciles(area)),
        ):
            assert area.name in fig.caption
            plt.close(fig.fig)
