"""Tests for mhbook.sources.fingertips against the extracts and their PROVENANCE notes.

Reference values: CMD prevalence figures quoted in ``shared/data/prevalence/PROVENANCE.md``
(Barking and Dagenham 0.2238 = 22.4%, range 0.116 Wokingham to 0.244 Hackney, mean of
areas 0.174); England values as published by Fingertips/QOF (QOF depression 2019/20 11.6%
and 2022/23 13.2%; mental disorders 5-16 in 2015 9.2%; self-harm admissions 10-24 in
2017/18 421.2 per 100,000); row, area and period counts from
``shared/data/fingertips/PROVENANCE.md``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.errors import SchemaError
from mhbook.sources import fingertips as ft


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return ft.load_indicators()


def _one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for col, value in where.items():
        mask &= df[col] == value
    rows = df[mask]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


@pytest.mark.mirror
def test_columns_and_unique_keys(table):
    assert list(table.columns) == list(ft.COLUMNS)
    assert not table.duplicated(list(ft.KEY)).any()
    assert set(table["source"].astype(str)) >= {"ft-cmd-prevalence-16plus", "ft-depression-qof-18plus"}


@pytest.mark.mirror
def test_cmd_prevalence_is_converted_to_percent(table):
    cmd = ft.indicator("cmd_prevalence")
    assert len(cmd) == 152 and cmd["area_code"].is_unique
    assert set(cmd["unit"].astype(str)) == {"%"}
    assert _one(cmd, area_name="Barking and Dagenham")["value"] == pytest.approx(22.38, abs=0.01)
    assert cmd.loc[cmd["value"].idxmin(), "area_name"] == "Wokingham"
    assert cmd["value"].min() == pytest.approx(11.6, abs=0.05)
    assert cmd.loc[cmd["value"].idxmax(), "area_name"] == "Hackney"
    assert cmd["value"].max() == pytest.approx(24.4, abs=0.05)
    assert cmd["value"].mean() == pytest.approx(17.4, abs=0.05)
    # The uploader's re-mapping caveats travel with the values.
    assert "Northamptonshire" in _one(cmd, area_code="E06000061")["value_note"]


@pytest.mark.mirror
@pytest.mark.parametrize(
    "indicator_id, period, value, tolerance",
    [(848, "2019/20", 11.6, 0), (848, "2022/23", 13.2, 0), (91141, "2015", 9.2, 0.05), (90813, "2017/18", 421.2, 0.05)],
)
def test_published_england_values(table, indicator_id, period, value, tolerance):
    row = _one(table, indicator_id=indicator_id, area_code="E92000001", period=period)
    assert row["value"] == pytest.approx(value, abs=tolerance + 1e-9)


@pytest.mark.mirror
def test_depression_extract_matches_provenance():
    dep = ft.indicator("depression_qof")
    assert len(dep) == 3_011
    assert dep["area_code"].nunique() == 316
    assert "2023/24" not in set(dep["period"].astype(str))
    assert set(dep["unit"].astype(str)) == {"%"} and set(dep["age"].astype(str)) == {"18+ yrs"}


@pytest.mark.mirror
def test_london_missing_from_emotional_disorders_is_flagged(table):
    emo = ft.indicator("emotional_disorders_5_16")
    london = emo[emo["area_code"].astype(str).str.startswith("E09") | (emo["area_code"] == "E12000007")]
    assert len(london) == 34  # 33 boroughs and the region
    assert london["value"].isna().all()
    assert london["value_note"].str.contains("London file").all()
    published = emo[emo["value"].notna()]
    assert len(published) == 128  # England, 8 regions and 119 County & UAs
    assert not published["area_code"].astype(str).str.startswith("E09").any()


@pytest.mark.mirror
def test_suicide_profile_matches_provenance(table):
    suicide = table[table["source"].astype(str).str.startswith("ft-suicide-")]
    assert suicide["area_code"].nunique() == 162
    assert set(ft.indicator("suicide_rate")["sex"].astype(str)) == {"Male"}
    # England appears in all nine regional files; it is kept once per indicator.
    assert len(ft.indicator(41001, area_type="England")) == 1


@pytest.mark.mirror
def test_overlapping_self_harm_extracts_agree():
    export = pd.concat(ft.read_export(d) for d in ft.CYP_IDS)
    export = export[(export["indicator_id"] == 90813)].drop_duplicates("area_code")
    rounded = ft.read_trafford("ft-self-harm-10-24")
    rounded = rounded[rounded["period"] == "2017/18"]
    both = export.merge(rounded, on="area_code", suffixes=("_export", "_rounded"))
    assert len(both) > 100
    diff = (both["value_export"].round(1) - both["value_rounded"]).abs()
    assert (diff.dropna() < 0.051).all()


@pytest.mark.mirror
def test_low_income_county_ua_values(table):
    county = ft.indicator("children_low_income", area_type="County & UA", period="2016")
    district = ft.indicator("children_low_income", area_type="District & UA", period="2016")
    # A unitary authority keeps its district value.
    assert _one(county, area_code="E08000003")["value"] == _one(district, area_code="E08000003")["value"]
    # A two-tier county cannot be summed: the extract publishes no counts.
    kent = _one(county, area_code="E10000016")
    assert pd.isna(kent["value"]) and "no count" in kent["value_note"]


@pytest.mark.mirror
def test_county_ua_aggregation_sums_counts():
    # Synthetic district rows for Kent's 12 districts (real codes, made-up counts).
    kent = [f"E070001{n:02d}" for n in range(5, 17)]
    rows = pd.DataFrame({c: [None] * len(kent) for c in ft.COLUMNS})
    rows = rows.assign(
        indicator_id=10101, area_code=kent, area_type="District & UA", period="2016", sex="Persons",
        age="<16 yrs", count=[10.0] * len(kent), denominator=[100.0] * len(kent), unit="%", source="synthetic",
    )  # fmt: skip
    out = ft.county_ua_from_districts(rows)
    row = _one(out, area_code="E10000016")
    assert row["count"] == 120 and row["denominator"] == 1200 and row["value"] == pytest.approx(10.0)
    assert "12 districts" in row["value_note"]


def test_broken_header_raises_schema_error_naming_column(tmp_path, monkeypatch):
    # Synthetic CSV: the CMD prevalence file with its Value column renamed.
    path = tmp_path / "synthetic_cmd.csv"
    path.write_text('"UTLA22NM","AreaCode","Prevalence"\n"Somewhere","E06000001",0.2\n')
    monkeypatch.setattr(ft, "fetch", lambda dataset_id: path)
    with pytest.raises(
        SchemaError, match=r"ft-cmd-prevalence-16plus.*missing \['Value'\].*unexpected \['Prevalence'\]"
    ):
        ft.read_cmd_prevalence()


def test_non_numeric_value_raises_schema_error(tmp_path, monkeypatch):
    # Synthetic Trafford-format file with a text value.
    path = tmp_path / "synthetic_self_harm.csv"
    path.write_text(
        "area_code,area_name,period,value,indicator,measure,unit,significance\n"
        'E06000001,Hartlepool,2017/18,high,Self-harm,"Age standardised rate per 100,000",Persons,Worse\n'
    )
    monkeypatch.setattr(ft, "fetch", lambda dataset_id: path)
    with pytest.raises(SchemaError, match=r"ft-self-harm-emergency: column 'value'.*'high'"):
        ft.read_trafford("ft-self-harm-emergency")


def test_schema_failure_names_the_column():
    # Synthetic tidy row with a negative count.
    row = {c: [None] for c in ft.COLUMNS}
    row.update(
        indicator_id=[91137], indicator_name=["synthetic"], area_code=["E06000001"], area_name=["Hartlepool"],
        area_type=["County & UA"], period=["2015"], sex=["Persons"], age=["5-16 yrs"], value=[3.0],
        count=[-1.0], unit=["%"], source=["synthetic"],
    )  # fmt: skip
    df = pd.DataFrame(row)
    for col in ft._TEXT:
        df[col] = df[col].astype("category")
    for col in ("value", "lower_cl_95", "upper_cl_95", "lower_cl_99_8", "upper_cl_99_8", "count", "denominator"):
        df[col] = df[col].astype(float)
    with pytest.raises(SchemaError, match=r"synthetic table: .*column 'count'.*greater_than_or_equal_to\(0"):
        ft._validate(df, "synthetic table")


def test_unknown_short_name_lists_the_choices():
    with pytest.raises(ValueError, match="emotional_disorders_5_16"):
        ft.indicator("emotional_disorder")


# Twins on the SYNTHETIC mirror (tests/synthetic/fingertips.py): each file is read through
# the catalogue and fetch as a published one is; the expected values are those written there.


def test_synthetic_export_keeps_limits_counts_and_blanks(synthetic_mirror):
    df = ft.read_export("ft-suicide-north-east").set_index("area_code")
    assert list(df.columns) == [c for c in ft.COLUMNS if c != "area_code"]
    eng = df.loc["E92000001"]
    assert tuple(
        eng[["value", "lower_cl_95", "upper_cl_95", "lower_cl_99_8", "upper_cl_99_8", "count", "denominator"]]
    ) == (10.5, 10.3, 10.7, 10.2, 10.8, 5000, 47619048)
    one = df.loc["E06900001"]
    assert (one["value"], one["count"]) == (12.25, 60) and pd.isna(one["lower_cl_99_8"])
    assert one["value_note"] == "SYNTHETIC note" and one["compared_to_england"] == "Similar"
    suppressed = df.loc["E06900002"]  # blank value and count are missing, never 0
    assert suppressed[["value", "lower_cl_95", "count"]].isna().all() and suppressed["denominator"] == 120000
    assert pd.isna(eng["category"]) and set(df["source"]) == {"ft-suicide-north-east"}
    assert set(df["indicator_id"]) == {41001} and set(df["period"]) == {"2020 - 22"}


def test_synthetic_trafford_file_types_areas_by_code_and_na_is_missing(synthetic_mirror):
    df = ft.read_trafford("ft-self-harm-emergency").set_index("area_code")
    assert df["area_type"].to_dict() == {
        "E92000001": "England",
        "E12900001": "Region",
        "E06900001": "District & UA",
        "E07900001": "District & UA",
    }
    assert df.loc["E06900001", "sex"] == "Female" and df.loc["E12900001", "value"] == 200.4
    assert pd.isna(df.loc["E07900001", "value"]) and set(df["indicator_id"]) == {21001}
    assert set(df["age"]) == {"All ages"} and df[["count", "lower_cl_95"]].isna().all().all()


def test_synthetic_cmd_proportions_become_percent_with_their_caveats(synthetic_mirror):
    df = ft.read_cmd_prevalence().set_index("area_code")
    assert df["value"].to_dict() == pytest.approx({"E06900001": 22.38, "E06900002": 11.6, "E06000061": 18.0})
    assert pd.isna(df.loc["E06900001", "value_note"])
    assert df.loc["E06000061", "value_note"] == ft._CMD_NOTES["E06000061"]
    assert set(df["period"]) == {"2017"} and set(df["age"]) == {"16+ yrs"}
