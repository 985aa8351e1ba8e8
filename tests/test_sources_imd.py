"""IoD2019/2025 parsers and County & UA averages, checked against published values.

Reference values: MHCLG IoD2019 File 11 upper-tier average scores and File 6 total,
and ONS mid-2020 populations by IMD decile, as recorded in
shared/data/geo/PROVENANCE.md and shared/data/population/PROVENANCE.md.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.errors import InsufficientDataError, SchemaError, UnknownAreaError
from mhbook.sources import imd, lookups


@pytest.mark.mirror
def test_lsoa_2019_rows_and_deciles():
    df = imd.lsoa_2019()
    assert len(df) == 32_844
    assert df["lsoa11_code"].is_unique
    for d in imd.DOMAINS:
        # rank 1 is the most deprived LSOA, which must sit in decile 1
        assert df.loc[df[f"{d}_rank"].idxmin(), f"{d}_decile"] == 1
        assert df.loc[df[f"{d}_rank"].idxmax(), f"{d}_decile"] == 10
        sizes = df[f"{d}_decile"].value_counts()
        assert sizes.index.sort_values().tolist() == list(range(1, 11))
        assert sizes.between(3_284, 3_285).all()


@pytest.mark.mirror
def test_lsoa_2019_population_denominators_total():
    # File 6 England total, mid-2015 excluding prisoners (MHCLG)
    assert imd.lsoa_2019()["population"].sum() == 54_728_204


@pytest.mark.mirror
def test_lsoa_2019_thousands_separators_parsed():
    row = imd.lsoa_2019().set_index("lsoa11_code").loc["E01000001"]
    assert row["imd_rank"] == 29_199  # "29,199" in the file
    assert row["population"] == 1_296  # "1,296" in the file


@pytest.mark.mirror
def test_lsoa_2025_rows_scores_and_deciles():
    df = imd.lsoa_2025()
    assert len(df) == 33_755
    assert df["lsoa21_code"].is_unique
    top = df.loc[df["imd_rank"].idxmin()]
    assert top["imd_decile"] == 1
    assert top["imd_score"] == df["imd_score"].max()  # highest score = most deprived


@pytest.mark.mirror
def test_lad_summaries():
    l19, l25 = imd.lad_2019(), imd.lad_2025()
    assert len(l19) == 317 and len(l25) == 296
    assert l19["population"].sum() == 54_728_204
    bpool = l25.set_index("lad24_code").loc["E06000009"]
    assert bpool["imd_rank_of_score"] == 1  # Blackpool: most deprived LAD in IoD2025


# Published IoD2019 File 11 (upper tier) average scores, 2 decimal places.
FILE11 = {"E06000009": 45.04, "E08000011": 43.01, "E08000012": 42.41, "E06000041": 5.85}


@pytest.mark.mirror
@pytest.mark.parametrize("geography", [2019, 2023])
@pytest.mark.parametrize("code,published", FILE11.items())
def test_utla_2019_scores_match_file11(geography, code, published):
    df = imd.utla_scores(vintage=2019, geography=geography).set_index("area_code")
    assert df.loc[code, "imd_score"] == pytest.approx(published, abs=0.005)


@pytest.mark.mirror
def test_utla_2019_on_2023_codes():
    old = imd.utla_scores(vintage=2019, geography=2019).set_index("area_code")
    new = imd.utla_scores(vintage=2019, geography=2023).set_index("area_code")
    assert len(old) == 151 and len(new) == 153
    assert new.index.equals(pd.Index(sorted(lookups.utla23()["utla_code"])))
    # Cumbria split into Cumberland + Westmorland and Furness: populations add up and
    # the population-weighted mean of the successors gives back the county's score.
    parts = new.loc[["E06000063", "E06000064"]]
    assert parts["population"].sum() == old.loc["E10000006", "population"]
    mean = (parts["imd_score"] * parts["population"]).sum() / parts["population"].sum()
    assert mean == pytest.approx(old.loc["E10000006", "imd_score"], rel=1e-12)
    # North Yorkshire county -> North Yorkshire UA (same area, new code)
    assert new.loc["E06000065", "imd_score"] == pytest.approx(old.loc["E10000023", "imd_score"])
    assert new["population"].sum() == old["population"].sum() == 54_728_204


@pytest.mark.mirror
def test_utla_2025():
    df = imd.utla_scores(vintage=2025, geography=2023).set_index("area_code")
    lad = imd.lad_2025().set_index("lad24_code")
    assert len(df) == 153
    # a unitary authority is one LAD: its average is the published LAD value
    assert df.loc["E06000009", "imd_score"] == lad.loc["E06000009", "imd_score"]
    hants = df.loc["E10000014"]
    lads = lad.loc[[c for c in lad.index if c.startswith("E07")]]
    assert hants["n_lads"] == 11
    assert lads["imd_score"].min() < hants["imd_score"] < lads["imd_score"].max()


def test_utla_2025_on_2019_codes_is_refused():
    with pytest.raises(InsufficientDataError, match="LAD24"):
        imd.utla_scores(vintage=2025, geography=2019)
    with pytest.raises(ValueError, match="vintage"):
        imd.utla_scores(vintage=2015)


# ONS mid-2020 population by IoD2019 decile, England: all ages / 18+
MID2020 = {1: (5_603_911, 4_103_485), 5: (5_720_152, 4_569_147), 10: (5_443_509, 4_318_547)}


@pytest.mark.mirror
@pytest.mark.parametrize("decile,expected", MID2020.items())
def test_population_by_decile_mid2020(decile, expected):
    df = imd.population_by_decile(source="mid2020").set_index("imd_decile")
    assert tuple(df.loc[decile, ["population", "population_18plus"]]) == expected
    assert df["population"].sum() == 56_550_138


@pytest.mark.mirror
def test_population_by_decile_for_lsoas():
    lsoa = imd.lsoa_2019()
    oldham = lsoa[lsoa["lad19_code"] == "E08000004"]
    df = imd.population_by_decile(oldham["lsoa11_code"])
    assert df["imd_decile"].tolist() == list(range(1, 11))
    assert df["population"].sum() == oldham["population"].sum()
    expected = oldham.groupby("imd_decile")["population"].sum()
    assert df.set_index("imd_decile")["population"].loc[expected.index].equals(expected)


@pytest.mark.mirror
def test_population_by_decile_unknown_lsoa():
    with pytest.raises(UnknownAreaError, match="E01999999"):
        imd.population_by_decile(["E01000001", "E01999999"])


def test_validate_names_dataset_and_column():
    import pandera.pandas as pa

    synthetic = pd.DataFrame({"lsoa11_code": ["E01000001", "X"]})  # synthetic table
    schema = pa.DataFrameSchema({"lsoa11_code": lookups.code_col("lsoa")})
    with pytest.raises(SchemaError, match=r"some-dataset.*'lsoa11_code'.*'X'"):
        lookups.validate(synthetic, schema, "some-dataset")


@pytest.mark.mirror
def test_imd_2015_most_deprived_share_adds_districts_exactly():
    lad = imd.lad_2015().set_index("lad19_code")
    share = imd.utla_most_deprived_share_2015().set_index("utla_code")
    assert len(share) == 153
    # Blackpool is one district: its share is File 10's proportion (36 of 94 LSOAs).
    assert share.loc["E06000009", "share"] == pytest.approx(100 * lad.loc["E06000009", "imd_proportion"])
    assert share.loc["E06000009", "lsoas"] == 94
    # Hampshire adds its eleven districts' counts, each proportion times its LSOAs.
    lsoa = imd.lookups.lsoa11_lad19()
    hants = lsoa[lsoa["utla19_code"] == "E10000014"].groupby("lad19_code").size()
    expected = sum(lad.loc[c, "imd_proportion"] * n for c, n in hants.items())
    assert share.loc["E10000014", "most_deprived"] == round(expected)
    assert share.loc["E10000014", "lsoas"] == hants.sum()
