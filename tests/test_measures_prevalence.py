"""Tests of mhbook.measures.prevalence (the "Deprivation and prevalence" chapter).

The tests read the real extracts through the mirror; published reference values are
quoted with their source. The chapter's words and charts are tested in
``test_pages_deprivation_prevalence.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook import areas
from mhbook.measures import prevalence
from mhbook.sources import fingertips

mirror = pytest.mark.mirror
#: Every kind of match (the module docstring of mhbook.measures.prevalence).
MATCHES = {"published", "re-mapped", "former code", "predecessor", "predecessors", "districts only", "not available"}


def _row(key: str, code: str) -> pd.Series:
    t = prevalence.indicator_table(key)
    return t.set_index("area_code").loc[code]


@mirror
def test_every_area_gets_a_value_or_a_note_for_every_indicator():
    gdf = prevalence.county_ua_indicators()
    assert len(gdf) == 153 and gdf["area_code"].is_unique
    assert gdf.geometry.notna().all()
    for area in areas.all_areas():
        values = prevalence.area_values(area)
        assert list(values["indicator"]) == list(prevalence.INDICATORS)
        for row in values.itertuples():
            has_value = pd.notna(row.value)
            assert row.match in MATCHES, f"{area.code} {row.indicator}: {row.match}"
            # A value taken from another geography always names it.
            assert has_value == (row.match in ("published", "re-mapped", "former code", "predecessor"))
            if has_value and row.value_from != area.code:
                assert row.match in ("former code", "predecessor") and row.value_from_name, area.code
        deciles = prevalence.lsoa_deciles(area)
        assert deciles["lsoas_2019"].sum() == len(area.lsoa11())
        assert deciles["lsoas_2025"].sum() == len(area.lsoa21())
        trend = prevalence.depression_trend(area)
        assert {"England"} < set(trend["series"]), f"{area.code}: no local depression series"


@mirror
def test_lsoas_of_all_areas_fill_each_national_decile_once():
    # Every LSOA lies in exactly one County & UA, so the areas' counts add up to the
    # national deciles: 32,844 LSOAs (2011) cut into tenths of 3,284 or 3,285.
    total = sum(prevalence.lsoa_deciles(a)["lsoas_2019"] for a in areas.all_areas())
    assert total.sum() == 32_844
    assert total.between(3_284, 3_285).all()


@mirror
def test_cmd_prevalence_has_no_england_value_and_matches_the_extract_summary():
    england, middle = prevalence.england_value("cmd_prevalence")
    published = fingertips.indicator("cmd_prevalence")["value"]
    # the extract is County & UA rows of 2017 only, so the middle of them is its median
    assert pd.isna(england) and middle == pytest.approx(published.median())
    # prevalence/PROVENANCE.md: range 0.116 (Wokingham) to 0.244 (Hackney), mean of areas 0.174.
    assert published.mean() == pytest.approx(17.4, abs=0.05)
    assert _row("cmd_prevalence", "E06000041")["value"] == pytest.approx(11.6, abs=0.05)  # Wokingham
    assert _row("cmd_prevalence", "E09000012")["value"] == pytest.approx(24.4, abs=0.05)  # Hackney


@mirror
def test_england_reference_values():
    # Fingertips England values: IMD 2019 average score 21.7 (93553); emotional disorders
    # aged 5-16, 2015, 3.6% (91137); children in low-income families 2016, 17.0% (10101).
    assert prevalence.england_value("imd_score")[0] == pytest.approx(21.7, abs=0.05)
    assert prevalence.england_value("emotional_disorders")[0] == pytest.approx(3.6, abs=0.05)
    assert prevalence.england_value("children_low_income")[0] == pytest.approx(17.0, abs=0.05)


@mirror
@pytest.mark.parametrize("key", prevalence.PREVALENCES)
def test_prevalence_rises_with_deprivation(key):
    line, r = prevalence.fit(key)
    # prevalence/PROVENANCE.md found r = 0.81 for CMD on 125 unitary areas; fingertips/
    # PROVENANCE.md 0.91 (low income, districts) and 0.92 (emotional disorders, unitaries).
    assert r.value > 0.7 and r.lower_cl > 0
    assert line.slope.lower_cl > 0
    assert line.n == int(r.details["n"])


@mirror
def test_fit_leaves_out_borrowed_values():
    t = prevalence.indicator_table("cmd_prevalence")
    line, _ = prevalence.fit("cmd_prevalence")
    assert line.n == int(t["in_fit"].sum())
    assert not t.loc[t["match"].isin(["re-mapped", "predecessor"]), "in_fit"].any()
    with pytest.raises(ValueError, match="not a prevalence"):
        prevalence.fit("imd_score")


@mirror
def test_new_unitary_gets_its_predecessors_value_with_a_note():
    cumbria = fingertips.indicator("cmd_prevalence").set_index("area_code").loc["E10000006", "value"]
    for code in ("E06000063", "E06000064"):  # Cumberland, Westmorland and Furness
        row = _row("cmd_prevalence", code)
        assert row["value"] == cumbria
        assert row["match"] == "predecessor" and row["value_from"] == "E10000006"
        assert row["value_from_name"] == "Cumbria" and row["changed_on"] == "1 April 2023"
        assert row["also_covered"] == (("Westmorland and Furness",) if code == "E06000063" else ("Cumberland",))
        assert not row["in_fit"]


@mirror
def test_renamed_county_keeps_its_value_as_the_same_area():
    # North Yorkshire County (E10000023) became North Yorkshire UA (E06000065) unchanged.
    row = _row("cmd_prevalence", "E06000065")
    published = fingertips.indicator("cmd_prevalence").set_index("area_code").loc["E10000023", "value"]
    assert row["match"] == "former code" and row["value"] == published and row["in_fit"]


@mirror
def test_area_formed_from_several_areas_lists_them_without_a_value():
    row = _row("emotional_disorders", "E06000058")  # Bournemouth, Christchurch and Poole
    assert pd.isna(row["value"]) and row["match"] == "predecessors"
    assert [code for _, code, _ in row["former"]] == ["E06000028", "E06000029", "E10000009"]


@mirror
def test_county_low_income_is_the_districts_range_not_a_total():
    row = _row("children_low_income", "E10000014")  # Hampshire
    assert pd.isna(row["value"]) and row["match"] == "districts only"
    districts = fingertips.indicator("children_low_income", area_type="District & UA", period="2016")
    hants = districts[districts["area_code"].isin([c for c, _ in areas.get("E10000014").districts])]
    assert len(hants) == 11
    low, high = hants.loc[hants["value"].idxmin()], hants.loc[hants["value"].idxmax()]
    assert row["district_range"] == (11, low["area_name"], low["value"], high["area_name"], high["value"])


@mirror
def test_single_district_areas_missed_by_the_loader_get_their_value():
    # fingertips.county_ua_from_districts leaves Barnsley and Sheffield empty (stale codes).
    districts = fingertips.indicator("children_low_income", area_type="District & UA", period="2016")
    for code in ("E08000016", "E08000019"):
        row = _row("children_low_income", code)
        assert row["match"] == "published"
        assert row["value"] == districts.set_index("area_code").loc[code, "value"]


@mirror
def test_london_children_have_no_value_and_say_why():
    row = _row("emotional_disorders", "E09000033")  # Westminster
    assert pd.isna(row["value"]) and row["match"] == "not available" and "London file" in row["value_note"]


@mirror
def test_county_depression_trend_uses_its_districts():
    area = areas.get("E10000014")
    trend = prevalence.depression_trend(area)
    mine = trend[trend["series"] == prevalence.DISTRICTS].set_index("period")
    dep = fingertips.indicator("depression_qof", period="2024/25")
    hants = dep[dep["area_code"].isin([c for c, _ in area.districts])]["value"]
    assert mine.loc["2024/25", "districts"] == len(hants) == 11
    assert mine.loc["2024/25", "lower"] == hants.min() and mine.loc["2024/25", "upper"] == hants.max()
    assert mine.loc["2024/25", "value"] == hants.median()


@mirror
def test_unitary_depression_trend_is_published_values():
    trend = prevalence.depression_trend(areas.get("E08000004"))
    dep = fingertips.indicator("depression_qof")
    oldham = dep[dep["area_code"] == "E08000004"].set_index("period")["value"]
    mine = trend[trend["series"] == prevalence.AREA].set_index("period")["value"]
    assert mine.to_dict() == {str(k): v for k, v in oldham.items()}
