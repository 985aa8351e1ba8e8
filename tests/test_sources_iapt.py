"""Tests for mhbook.sources.iapt against published NHS Talking Therapies figures.

Reference values are the England 2018-19 figures quoted in
``shared/data/iapt/PROVENANCE.md`` (they match the Health Foundation technical appendix
built from NHS Digital's raw CSV).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mhbook.errors import InsufficientDataError, SchemaError
from mhbook.fetch import fetch
from mhbook.sources import iapt


@pytest.fixture(scope="module")
def measures() -> pd.DataFrame:
    return iapt.load_measures()


@pytest.fixture(scope="module")
def england_1819() -> pd.DataFrame:
    return iapt.by_decile(period="2018-19")


@pytest.mark.mirror
def test_england_total_referrals_2018_19(measures):
    row = measures[
        (measures["period"] == "2018-19")
        & (measures["org_type"] == "England")
        & (measures["breakdown"] == "Total")
        & (measures["measure"] == "referrals_received")
    ]
    assert len(row) == 1
    assert row["count"].iloc[0] == 1_603_643
    assert row["count_status"].iloc[0] == "published"
    assert row["percentage_status"].iloc[0] == "not_applicable"


@pytest.mark.mirror
@pytest.mark.parametrize(
    "decile, referrals, finished, at_caseness, recovered",
    [(1, 219_236, 63_934, 61_572, 26_623), (10, 110_356, 47_921, 43_515, 25_319)],
)
def test_england_2018_19_extreme_deciles(england_1819, decile, referrals, finished, at_caseness, recovered):
    row = england_1819.set_index("imd_decile").loc[decile]
    assert row["referrals_received"] == referrals
    assert row["finished_course_treatment"] == finished
    assert row["at_caseness"] == at_caseness
    assert row["recovery"] == recovered


@pytest.mark.mirror
def test_published_recovery_percentages_2018_19(england_1819):
    got = england_1819.sort_values("imd_decile")["recovery_pct"].tolist()
    assert got == pytest.approx([43.2, 47.1, 49.7, 51.2, 52.9, 54.3, 55.2, 56.2, 57.7, 58.1], abs=1e-9)
    # The published rate is recovery / at caseness, truncated rather than rounded:
    # recomputing never falls below it and exceeds it by less than 0.1 point.
    recomputed = 100 * england_1819["recovery"] / england_1819["at_caseness"]
    diff = recomputed - england_1819["recovery_pct"]
    assert (diff > -1e-9).all() and (diff < 0.1).all()


@pytest.mark.mirror
def test_decile_mapping_agrees_with_nhs_metadata(measures):
    meta = pd.read_parquet(fetch("iapt-meta-variables"))
    imd = meta[(meta["variable_type"] == iapt.IMD_BREAKDOWN) & (meta["dataset_name"] == "measures_annual")]
    published = {}
    for label, rule in zip(imd["variable_a"], imd["values_for_variable_a"]):
        m = re.search(r"=\s*(\d+)", rule)
        published[label] = int(m.group(1)) if m else None  # "IS NULL": unknown decile
    assert published["01 Least deprived"] == 10 and published["10 Most deprived"] == 1
    rows = measures[measures["breakdown"] == iapt.IMD_BREAKDOWN]
    ours = rows.drop_duplicates("group_original").set_index("group_original")["imd_decile"]
    for label, decile in published.items():
        assert (pd.isna(ours[label]) and decile is None) or ours[label] == decile, label


@pytest.mark.mirror
def test_suppressed_values_are_missing_not_zero(measures):
    suppressed = measures[measures["count_status"] == "suppressed"]
    assert len(suppressed) > 100_000
    assert suppressed["count"].isna().all()
    published = measures[measures["count_status"] == "published"]
    assert published["count"].notna().all()
    pct_suppressed = measures[measures["percentage_status"] == "suppressed"]
    assert pct_suppressed["percentage"].isna().all()


@pytest.mark.mirror
def test_subnational_counts_are_rounded_to_five(measures):
    sub = measures[(measures["org_type"] != "England") & measures["count"].notna()]
    assert len(sub) > 1_000_000
    assert (np.mod(sub["count"], 5) == 0).all()


@pytest.mark.mirror
def test_legacy_years_are_england_only(measures):
    legacy = measures[measures["source"] == "iapt-annual-legacy"]
    assert set(legacy["period"].astype(str)) == {"2012-13", "2013-14", "2014-15", "2015-16", "2016-17"}
    assert set(legacy["org_type"].astype(str)) == {"England"}
    imd = legacy[legacy["breakdown"] == iapt.IMD_BREAKDOWN]
    assert set(imd["period"].astype(str)) == {"2015-16", "2016-17"}
    assert "referrals_received" not in set(imd["measure"].astype(str))
    assert set(imd.loc[imd["imd_decile"].isna(), "group"].astype(str)) == {"Not known"}


@pytest.mark.mirror
def test_row_counts_and_unique_keys(measures):
    # 2,911,986 published count rows less 1,305 repeated count rows (provider TAF90 in
    # 2023-24, published twice under two names), plus the legacy file's 1,604 count rows.
    by_source = measures.groupby("source", observed=True).size()
    assert by_source["iapt-annual"] == 2_911_986 - 1_305
    assert by_source["iapt-annual-legacy"] == 1_604
    assert not measures.duplicated(list(iapt.KEY)).any()
    assert list(measures.columns) == list(iapt.COLUMNS)
    assert iapt.periods()[0] == "2012-13" and iapt.periods()[-1] == "2024-25"


@pytest.mark.mirror
def test_organisations_and_breakdown_helpers():
    icbs = iapt.organisations("2023-24", "ICB")
    assert len(icbs) == 43
    assert icbs["org_code"].is_unique
    eth = iapt.breakdown("Ethnic Group", "England", period="2020-21")
    broad = eth[(eth["subgroup"] == "All") & (eth["measure"] == "referrals_received")]
    assert len(broad) == len(broad["group"].unique()) >= 5
    with pytest.raises(ValueError, match="breakdown"):
        iapt.breakdown("Ethnicity", "England")
    with pytest.raises(InsufficientDataError):
        iapt.breakdown("Sexual Orientation Type", "England", period="2018-19")


def test_raw_column_check_names_missing_and_unexpected_columns():
    # Synthetic column list: a changed file that renamed `value` to `val`.
    names = [c for c in iapt.RAW_COLUMNS if c != "value"] + ["val"]
    with pytest.raises(SchemaError, match=r"missing \['value'\].*unexpected \['val'\]"):
        iapt._check_raw_columns(names, "iapt-annual (synthetic.parquet)")


def test_schema_failure_names_dataset_and_column():
    # Synthetic one-row tidy table with a negative count.
    row = {
        "period": "2018-19", "start_date": pd.Timestamp("2018-04-01"), "end_date": pd.Timestamp("2019-03-31"),
        "org_type": "England", "org_code": "All", "org_name": "All", "breakdown": "Total", "group": "Total",
        "subgroup": None, "measure": "recovery", "count": -5.0, "count_status": "published",
        "percentage": 50.0, "percentage_status": "published", "imd_decile": None,
        "group_original": None, "source": "iapt-annual",
    }  # fmt: skip
    df = pd.DataFrame([row]).astype(
        {
            c: "category"
            for c in iapt.COLUMNS
            if c not in ("start_date", "end_date", "count", "percentage", "imd_decile")
        }
    )
    df["imd_decile"] = df["imd_decile"].astype("Int64")
    df[["start_date", "end_date"]] = df[["start_date", "end_date"]].astype("datetime64[ns]")
    with pytest.raises(SchemaError, match=r"synthetic-iapt.*column 'count'.*greater_than_or_equal_to\(0"):
        iapt._validate(df, "synthetic-iapt")


def test_unexpected_imd_label_is_a_schema_error():
    # Synthetic label list with a label NHS does not use.
    with pytest.raises(SchemaError, match="variable_a.*Decile one"):
        iapt._deprivation_labels(pd.Index(["01 Least deprived", "Decile one"]))


@pytest.mark.mirror
def test_by_decile_for_every_icb_has_fixed_columns():
    icb = iapt.by_decile(period="2022-23", org_type="ICB")
    assert len(icb) == 43 * 10
    assert not icb.duplicated(["org_code", "imd_decile"]).any()
    legacy = iapt.by_decile(period="2015-16")
    assert list(legacy.columns) == list(icb.columns)
    assert legacy["referrals_received"].isna().all() and legacy["recovery"].notna().all()
