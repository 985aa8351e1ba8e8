"""Tests for mhbook.sources.comparators: DfE statistical neighbours on ONS codes."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.errors import SchemaError, UnknownAreaError
from mhbook.sources import comparators

OLDHAM = "E08000004"


@pytest.mark.mirror
def test_oldham_2025_matches_provenance():
    sn = comparators.statistical_neighbours(OLDHAM, "2025")
    assert list(sn["neighbour_name"]) == [
        "Blackburn with Darwen",
        "Bolton",
        "Rochdale",
        "Bradford",
        "Walsall",
        "Derby",
        "Stoke-on-Trent",
        "Coventry",
        "Birmingham",
        "Sandwell",
    ]
    assert list(sn["closeness"]) == ["Very close"] * 3 + ["Close"] * 7
    assert list(sn["rank"]) == list(range(1, 11))
    assert sn.loc[sn["neighbour_name"] == "Rochdale", "neighbour_code"].item() == "E08000005"


@pytest.mark.mirror
def test_oldham_2021_matches_provenance():
    sn = comparators.statistical_neighbours(OLDHAM, "2021")
    assert list(sn["neighbour_name"][:3]) == ["Rochdale", "Bradford", "Walsall"]
    assert sn["closeness"].iloc[0] == "Very close" and (sn["closeness"].iloc[1:] == "Close").all()


@pytest.mark.mirror
def test_matching_is_honest():
    # PROVENANCE: 152 of 158 match CTYUA 2023 by name; Durham is mapped by hand;
    # the five left are abolished authorities.
    assert set(comparators.unmatched()["la_name"]) == {
        "Cumbria",
        "Northamptonshire",
        "Dorset (Pre LG)",
        "Poole (Pre LG)",
        "Bournemouth (Pre LG)",
    }
    n = comparators.neighbours()
    matched = n.dropna(subset=["ons_code"]).drop_duplicates(["model", "la_code"])
    assert matched.groupby("model").size().to_dict() == {"2021": 151, "2025": 153}
    assert n.loc[n["la_name"] == "Durham", "ons_code"].iloc[0] == "E06000047"
    # A code is never given to two DfE authorities.
    assert not matched.groupby("model")["ons_code"].apply(lambda s: s.duplicated().any()).any()
    assert n.groupby(["model", "la_code"]).size().eq(10).all()


@pytest.mark.mirror
def test_unknown_area():
    with pytest.raises(UnknownAreaError, match="E07000001"):
        comparators.statistical_neighbours("E07000001")


@pytest.mark.parametrize(
    "name, key",
    [
        ("Bristol, City of", "bristol"),
        ("Kingston upon Hull, City of", "kingston upon hull"),
        ("Herefordshire, County of", "herefordshire"),
        ("Bedford Borough", "bedford"),
        ("Brighton & Hove", "brighton and hove"),
        ("Stoke-on-Trent", "stoke on trent"),
    ],
)
def test_normalise_name(name, key):
    assert comparators.normalise_name(name) == key


def test_changed_file_raises_schema_error(tmp_path, monkeypatch):
    """Synthetic workbook where the SN10 column is missing."""
    header = ["LA num", "LA Name", "LA number", "GOInd", "GOReg"]
    for i in range(1, 10):
        header += [f"SN{i}", "SNP"]
    path = tmp_path / "synthetic.xlsx"
    pd.DataFrame([["A"] * len(header), [1] * len(header), header]).to_excel(path, header=False, index=False)
    monkeypatch.setattr(comparators, "fetch", lambda ds: path)
    with pytest.raises(SchemaError, match=r"dfe-stat-neighbours-2025: expected columns \['SN10', 'SNP.9'\]"):
        comparators._read_model("2025")


# Twins on the SYNTHETIC workbooks of tests/synthetic/comparators.py: authority 900 + n
# lists the next ten authorities in code order; ranks 1-3 "Very close", the rest "Close".


def test_synthetic_neighbours_in_order_with_codes_and_tidied_closeness(synthetic_mirror):
    sn = comparators.statistical_neighbours("E06900001", "2025")
    assert list(sn["rank"]) == list(range(1, 11))
    assert list(sn["neighbour_name"]) == [
        "Synthetic Unitary Ab",
        "Harbourside",
        "Synthetic Unitary Ad",
        "Synthetic Unitary Ae",
        "Synthetic Unitary Af",
        "Synthetic Unitary Ag",
        "Synthetic Unitary Ah",
        "Synthetic Unitary Ai",
        "Synthetic Unitary Aj",
        "Durham",
    ]
    assert list(sn["neighbour_code"]) == [f"E069000{n:02d}" for n in range(2, 11)] + ["E06000047"]
    assert list(sn["closeness"]) == ["Very close"] * 3 + ["Close"] * 7


def test_synthetic_matching_by_name_by_hand_and_not_at_all(synthetic_mirror):
    assert set(comparators.unmatched()["la_name"]) == {"Synthetic Shire (Pre LG)"}
    n = comparators.neighbours().drop_duplicates(["model", "la_code"]).set_index(["model", "la_code"])
    assert n.loc[("2025", 903), "ons_code"] == "E06900003"  # "Harbourside" is ONS's "Harbourside, City of"
    assert n.loc[("2025", 911), "ons_code"] == "E06000047"  # Durham, by hand
    # An abolished authority is still a neighbour of others, with no code.
    of_911 = comparators.neighbours().query("model == '2025' and la_code == 911").set_index("rank")
    assert of_911.loc[1, "neighbour_name"] == "Synthetic Shire (Pre LG)" and pd.isna(of_911.loc[1, "neighbour_code"])


def test_synthetic_dash_for_a_later_authority_is_dropped(synthetic_mirror):
    sn21 = comparators.statistical_neighbours("E06900009", "2021")
    assert list(sn21["rank"]) == list(range(1, 10))  # the tenth was "-"
    assert len(comparators.statistical_neighbours("E06900009", "2025")) == 10
    with pytest.raises(UnknownAreaError, match="E06900011"):
        comparators.statistical_neighbours("E06900011")
