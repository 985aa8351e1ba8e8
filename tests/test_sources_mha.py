"""Tests for mhbook.sources.mha: published values, suppression and the label repair."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook import catalogue
from mhbook.constants import ENGLAND_CODE
from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.sources import mha

GENDERS = set(mha.BREAKDOWN_ORDER["Gender"])


@pytest.fixture(scope="module")
def crude():
    return mha.detentions("crude")


def england(df, measure="All detentions", subcategory="All", breakdown=None):
    rows = df[(df["org_code"] == ENGLAND_CODE) & (df["measure"] == measure) & (df["subcategory"] == subcategory)]
    return rows if breakdown is None else rows[rows["breakdown"] == breakdown].set_index("group")


@pytest.mark.mirror
def test_england_total_detentions(crude):
    total = england(crude, breakdown="all").loc["All"]
    # PROVENANCE: ~52,458 detentions in England (MHSDS + ECDS), crude rate 90.9.
    assert total["count"] == 52458 and total["count_status"] == "exact"


@pytest.mark.mirror
def test_black_white_rates():
    crude = england(mha.detentions("crude"), breakdown="ethnicity")
    std = england(mha.detentions("standardised"), breakdown="ethnicity")
    # PROVENANCE: Black 5,693 (crude 239.0, std 242.3); White 31,735 (69.5, 68.4).
    assert crude.loc["Black or Black British", "count"] == 5693
    assert crude.loc["White", "count"] == 31735
    assert crude.loc["Black or Black British", "value"] == pytest.approx(239.0)
    assert std.loc["White", "value"] == pytest.approx(68.4)
    ratio = std.loc["Black or Black British", "value"] / std.loc["White", "value"]
    assert ratio == pytest.approx(3.54, abs=0.005)
    other_black = std.loc["Any Other Black background"]
    assert (other_black["value"], other_black["upper_cl"] - other_black["value"]) == pytest.approx((740.6, 40.3))


@pytest.mark.mirror
def test_suppressed_counts_are_missing_not_zero(crude):
    suppressed = crude[crude["count_status"] == "suppressed"]
    assert len(suppressed) > 0 and suppressed["count"].isna().all()
    assert (crude.loc[crude["count"].isna(), "count_status"] == "suppressed").all()
    orgs = crude[
        crude["org_type"].isin(["ICB", "Sub-ICB", "NHS trust", "Independent provider"])
        & (crude["org_code"] != "ALL")
        & crude["count"].notna()
    ]
    assert (orgs["count_status"] == "rounded").all() and (orgs["count"] % 5 == 0).all()
    # Published example: South Yorkshire ICB (QF7), ages 15 and under, is blank in the file.
    row = crude[
        (crude["org_code"] == "QF7")
        & (crude["measure"] == "All detentions")
        & (crude["subcategory"] == "All")
        & (crude["group"] == "15 and under")
    ]
    assert row["count"].isna().all() and (row["count_status"] == "suppressed").all()


@pytest.mark.mirror
def test_no_damaged_label_survives(crude):
    for breakdown, labels in mha._TIDY_GROUPS.items():
        groups = set(crude.loc[crude["breakdown"] == breakdown, "group"])
        assert groups <= labels, (breakdown, groups - labels)
    assert crude["group"].notna().all()
    assert set(crude["org_type"]) <= set(mha.ORG_TYPES.values())
    # Gender rows inside a repaired run were out of step; after repair every England
    # gender block is in NHS order again.
    raw = mha.read_raw(fetch(mha.dataset()), mha.dataset())
    repaired, changes = mha.repair_labels(raw)
    assert len(repaired) == len(raw)  # every damaged row could be repaired
    non_gender = repaired[repaired["Demographic"] != "Gender"]
    assert not non_gender["DemographicBreakdown"].isin(GENDERS).any()
    # PROVENANCE counts 117 gender labels under IMD/Ethnicity/Age plus the 7 blanks.
    raw_dem = raw.loc[changes["row"], "Demographic"].to_numpy()
    moved = changes.assign(dem=raw_dem)
    assert (moved["dem"] == "IMD").sum() == 70 and (moved["dem"] == "Ethnicity").sum() == 31
    assert changes["published"].isna().sum() == 7


@pytest.mark.mirror
def test_known_repaired_imd_deciles(crude):
    imd = england(crude, breakdown="imd")
    # NHS "01 Least deprived" and "02" were mislabelled Male / Non-binary (PROVENANCE):
    # 2,292 (43.4 per 100,000) and 2,637 (49.9); 1 = most deprived here.
    assert (imd.loc["10", "count"], imd.loc["10", "value"]) == (2292, 43.4)
    assert (imd.loc["9", "count"], imd.loc["9", "value"]) == (2637, 49.9)
    assert imd.loc[["10", "9"], "label_status"].eq("repaired").all()
    assert imd.loc["1", "value"] == 151.3 and imd.loc["1", "imd_decile"] == 1
    deciles = imd.loc[[str(d) for d in range(1, 11)] + ["Not stated/Not known/Invalid"], "count"]
    assert deciles.sum() == imd.loc["All", "count"]  # 50,437 MHSDS detentions


@pytest.mark.mirror
@pytest.mark.parametrize("times", ["2", "3", "5"])
def test_repaired_repeat_detention_groups_add_up(crude, times):
    measure = "People subject to repeat detentions"
    total = england(crude, measure, times, "all").loc["All", "count"]
    age = england(crude, measure, times, "age")
    assert age.loc[[g for g in age.index if g not in ("All", "Unknown")], "count"].sum() == total
    if times == "2":
        eth = england(crude, measure, times, "ethnicity")["count"]
        assert eth["Black or Black British"] == eth[["African", "Caribbean", "Any Other Black background"]].sum()
        assert eth["White"] == eth[["British", "Irish", "Any Other White background"]].sum()
        gender = england(crude, measure, times, "gender")["count"]
        assert gender.drop("All genders").sum() == total
        assert gender["Male"] == 4341


def test_repair_by_position_synthetic():
    """Synthetic England-only Gender and Age blocks damaged like the real file."""
    gender = list(mha.BREAKDOWN_ORDER["Gender"])
    age = list(mha.BREAKDOWN_ORDER["Age"])
    rows = [("Gender", g) for g in gender[-1:] + gender[:-1]]  # out of step by one
    rows += [("Age", a) for a in age[:2]] + [("Age", None)] + [("Age", "Male")] + [("Age", a) for a in age[4:]]
    raw = pd.DataFrame(
        {
            "Measure": "m",
            "measureSubcategory": "All",
            "Demographic": [d for d, _ in rows],
            "DemographicBreakdown": [b for _, b in rows],
            "OrganisationBreakdown": "All submissions",
            "OrgID": "All prov",
            "OrgName": "All providers",
        }
    )
    fixed, changes = mha.repair_labels(raw)
    assert list(fixed["DemographicBreakdown"]) == gender + age
    assert len(changes) == 7 + 2


def test_unrepairable_label_is_dropped_with_warning():
    """Synthetic ICB-only Age block (no England rows): the damaged row's label is unknown."""
    raw = pd.DataFrame(
        {
            "Measure": "m",
            "measureSubcategory": "All",
            "Demographic": "Age",
            "DemographicBreakdown": ["16 to 17", "Male", "18 to 34"],
            "OrganisationBreakdown": "ICB",
            "OrgID": ["QE1", "QF7", "QE1"],
            "OrgName": "x",
        }
    )
    with pytest.warns(mha.MhaLabelWarning, match="dropped 1 rows"):
        fixed, _ = mha.repair_labels(raw)
    assert list(fixed["DemographicBreakdown"]) == ["16 to 17", "18 to 34"]


def test_changed_file_raises_schema_error(tmp_path):
    """Synthetic sheet without the StdRate column."""
    cols = [c for c in mha.RAW_COLUMNS if c != "StdRate"]
    path = tmp_path / "synthetic.xlsx"
    sheet = catalogue.get("mha-2023-24").sheets[0]
    pd.DataFrame(columns=cols).to_excel(path, sheet_name=sheet, index=False)
    with pytest.raises(SchemaError, match=r"mha-2023-24 sheet .*\['StdRate'\] not found"):
        mha.read_raw(path, "mha-2023-24")


@pytest.fixture
def synthetic_crude(synthetic_mirror):
    """The parser's output for the SYNTHETIC workbook of ``tests/synthetic/mha.py``."""
    return mha.detentions("crude")


def test_synthetic_counts_rounded_suppressed_and_exact(synthetic_crude):
    total = synthetic_crude[synthetic_crude["breakdown"] == "all"].set_index("org_code")
    # England row whose OrganisationBreakdown reads "h": repaired to England, exact.
    assert (total.loc[ENGLAND_CODE, "org_type"], total.loc[ENGLAND_CODE, "count"]) == ("England", 1000)
    assert total.loc[ENGLAND_CODE, "count_status"] == "exact" and total.loc[ENGLAND_CODE, "source"] == "Both"
    assert (total.loc["QX1", "count"], total.loc["QX1", "count_status"], total.loc["QX1", "value"]) == (
        35,
        "rounded",
        12.3,
    )
    # A blank count is missing with its reason, never 0; its rate is missing too.
    assert pd.isna(total.loc["QX2", "count"]) and total.loc["QX2", "count_status"] == "suppressed"
    assert pd.isna(total.loc["QX2", "value"]) and total.loc["QX2", "org_type"] == "ICB"
    assert set(synthetic_crude["period"]) == {"2023-24"} and synthetic_crude["lower_cl"].isna().all()


def test_synthetic_imd_deciles_are_turned_round_and_the_damaged_label_repaired(synthetic_crude):
    imd = synthetic_crude[synthetic_crude["breakdown"] == "imd"].set_index("group")
    # NHS decile k (01 = least deprived) holds 10 k; here decile 11 - k, 1 = most deprived.
    for k in range(1, 11):
        row = imd.loc[str(11 - k)]
        assert (row["count"], row["value"], row["imd_decile"]) == (10 * k, float(k), 11 - k)
    assert imd.loc["9", "label_status"] == "repaired"  # published as "Male"
    assert set(imd.drop(index="9")["label_status"]) == {"published"}
    assert (
        imd.loc[[str(d) for d in range(1, 11)], "count"].sum() + imd.loc["Not stated/Not known/Invalid", "count"]
        == imd.loc["All", "count"]
        == 555
    )


def test_synthetic_standardised_rates_carry_limits_from_the_half_width(synthetic_mirror):
    std = mha.detentions("standardised").set_index("group")
    assert list(std.index) == ["Black or Black British", "White"]  # only rows with a standardised rate
    assert tuple(std.loc["Black or Black British", ["value", "lower_cl", "upper_cl"]]) == pytest.approx(
        (242.3, 233.6, 251.0)
    )
    assert tuple(std.loc["White", ["value", "lower_cl", "upper_cl"]]) == pytest.approx((68.4, 67.6, 69.2))
    assert tuple(std.loc["White", ["count", "count_status"]]) == (600, "exact")
