"""Tests for mhbook.sources.qof: published QOF values, practice -> CCG totals, schema errors."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.errors import SchemaError
from mhbook.sources import qof


@pytest.mark.mirror
def test_ccg_rows_per_year_match_provenance():
    df = qof.ccg_prevalence()
    counts = df.groupby("period")["org_code"].nunique().to_dict()
    assert counts == {"2017-18": 194, "2018-19": 191, "2019-20": 135}
    assert set(df["indicator"]) == {"depression_18plus", "smi_all_ages"}


@pytest.mark.mirror
@pytest.mark.parametrize(
    "period, code, indicator, practices, list_size, register",
    [
        # Values read from the workbooks' rows (sheet DEP / MH), as published.
        ("2017-18", "02P", "depression_18plus", 34, 211602, 23992),
        ("2018-19", "07M", "smi_all_ages", 54, 427543, 4451),
        ("2019-20", "07L", "depression_18plus", 34, 167159, 13596),
    ],
)
def test_ccg_published_values(period, code, indicator, practices, list_size, register):
    row = qof.ccg_prevalence(period).set_index(["org_code", "indicator"]).loc[(code, indicator)]
    assert (row["practices"], row["list_size"], row["register"]) == (practices, list_size, register)
    assert row["value"] == pytest.approx(100 * register / list_size, abs=1e-9)


@pytest.mark.mirror
def test_practice_file_england_prevalence():
    p = qof.practice_prevalence_1920()
    assert p["practice_code"].nunique() == 6720
    england = p.groupby("indicator")[["register", "list_size"]].sum()
    rate = 100 * england["register"] / england["list_size"]
    # PROVENANCE: DEP 11.56%, MH 0.93% (NHS Digital publishes 11.6% for depression).
    assert rate["depression_18plus"] == pytest.approx(11.56, abs=0.005)
    assert rate["smi_all_ages"] == pytest.approx(0.93, abs=0.005)
    bad = p[p["value_status"] == "register exceeds list"]
    assert bad["value"].isna().all() and list(bad["practice_code"]) == ["Y03051"]


@pytest.mark.mirror
def test_ccg_totals_from_practices_equal_the_workbook():
    """Practices grouped by December 2019 parent vs the 2019-20 workbook (April 2020 CCGs).

    England totals must agree exactly. CCGs whose code exists in both agree exactly,
    except where a practice changed parent after December 2019: at most two CCGs, and
    then the pair's totals still agree.
    """
    agg = qof.ccg_from_practices_1920().set_index(["org_code", "indicator"])
    book = qof.ccg_prevalence("2019-20").set_index(["org_code", "indicator"])
    for col in ("register", "list_size"):
        by_ind_agg = agg.groupby("indicator")[col].sum()
        by_ind_book = book.groupby("indicator")[col].sum()
        pd.testing.assert_series_equal(by_ind_agg.astype(float), by_ind_book, check_names=False)
    common = agg.index.intersection(book.index)
    assert len(common) == 2 * 117
    differ = [k for k in common if agg.loc[k, "register"] != book.loc[k, "register"]]
    ccgs = {code for code, _ in differ}
    assert len(ccgs) <= 2
    for ind in {i for _, i in differ}:
        keys = [(c, ind) for c in ccgs]
        assert agg.loc[keys, "register"].sum() == book.loc[keys, "register"].sum()
    same = common.difference(differ)
    assert (agg.loc[same, "value"] - book.loc[same, "value"]).abs().max() < 1e-9


@pytest.mark.mirror
def test_hocl_deciles_most_deprived_first():
    imd = qof.hocl_prevalence("imd").set_index(["imd_decile", "indicator"])["value"]
    # PROVENANCE headline: DEP 13.75% in decile 1 (most deprived) vs 10.69% in decile 10.
    assert imd[(1, "depression_18plus")] == pytest.approx(13.75, abs=0.005)
    assert imd[(10, "depression_18plus")] == pytest.approx(10.69, abs=0.005)
    assert imd[(1, "smi_all_ages")] == pytest.approx(1.18, abs=0.005)
    assert imd[(10, "smi_all_ages")] == pytest.approx(0.72, abs=0.005)
    assert sorted(imd.index.get_level_values(0).unique()) == list(range(1, 11))


@pytest.mark.mirror
def test_hocl_lad_england_only():
    lad = qof.hocl_prevalence("lad")
    assert lad["area_code"].nunique() == 314
    assert lad["area_code"].str.startswith("E").all()
    assert "Wales" not in set(qof.hocl_prevalence("region")["area_name"])
    with pytest.raises(SchemaError, match="level"):
        qof.hocl_prevalence("ward")


@pytest.mark.mirror
def test_iod_ccg_summaries():
    iod = qof.iod2019_ccg("imd")
    assert iod["ons_code"].nunique() == 191
    row = iod.set_index(["ons_code", "measure"])["value"]
    assert row[("E38000004", "average_score")] == pytest.approx(32.768)  # Barking and Dagenham
    assert row[("E38000004", "rank_of_average_score")] == 17


def test_changed_workbook_raises_schema_error(tmp_path):
    """Synthetic workbook: the 2019-20 layout with the 'Register' header renamed."""
    rows = [[None] * 7 for _ in range(14)]
    rows[11][3] = "2019-20"
    rows[13] = [
        "CCG ODS code (practice parent)",
        "CCG ONS code (practice parent)",
        "CCG name (practice parent)",
        "Number of practices",
        "List size",
        "Patients",
        "Prevalence (%)",
    ]
    rows.append(["00X", "E38000999", "NHS Synthetic CCG", 3, 1000, 10, 1.0])
    path = tmp_path / "synthetic.xlsx"
    pd.DataFrame(rows).to_excel(path, sheet_name="MH", header=False, index=False)
    with pytest.raises(SchemaError, match=r"synthetic-id sheet MH.*2019-20 block.*register"):
        qof._parse_ccg_sheet(path, "synthetic-id", "2019-20", "MH")


def test_synthetic_workbook_parses(tmp_path):
    """Synthetic workbook in the 2019-20 layout parses to the tidy columns."""
    rows = [[None] * 7 for _ in range(14)]
    rows[11][3] = "2019-20"
    rows[13] = [
        "CCG ODS code (practice parent)",
        "CCG ONS code (practice parent)",
        "CCG name (practice parent)",
        "Number of practices",
        "List size",
        "Register",
        "Prevalence (%)",
    ]
    rows.append(["00X", "E38000999", "NHS Synthetic CCG", 3, 1000, 10, 1.0])
    rows.append(["Copyright line", None, None, None, None, None, None])
    path = tmp_path / "synthetic.xlsx"
    pd.DataFrame(rows).to_excel(path, sheet_name="MH", header=False, index=False)
    out = qof._parse_ccg_sheet(path, "synthetic-id", "2019-20", "MH")
    assert out[["org_code", "register", "list_size", "value"]].values.tolist() == [["00X", 10.0, 1000.0, 1.0]]
