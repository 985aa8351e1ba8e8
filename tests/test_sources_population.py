"""Tests for mhbook.sources.population: published ONS totals, row counts, age bands."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook.errors import SchemaError, UnknownAreaError
from mhbook.sources import population


@pytest.mark.mirror
@pytest.mark.parametrize(
    "year, sex, expected",
    [
        # ONS published totals for England, as checked in PROVENANCE.md.
        (2019, "persons", 56_286_961),
        (2019, "males", 27_827_831),
        (2019, "females", 28_459_130),
        (2020, "persons", 56_550_138),
        (2020, "males", 27_982_818),
        (2020, "females", 28_567_320),
    ],
)
def test_england_totals(year, sex, expected):
    assert population.by_area("E92000001", year, sex) == expected


@pytest.mark.mirror
def test_oldham_and_row_counts():
    assert population.by_area("E08000004", 2019) == 237_110
    assert population.by_area("E08000004", 2020) == 237_628
    mye = population.mid_year_estimates()
    areas = mye.groupby("period")["area_code"].nunique()
    assert areas.to_dict() == {"mid-2019": 430, "mid-2020": 420}  # MYE2 rows less footnotes
    assert len(mye) == (430 + 420) * 3 * 91


@pytest.mark.mirror
def test_upper_tier_sums_to_england_mid2020():
    mye = population.mid_year_estimates("mid-2020")
    upper = mye[
        mye["area_code"].str.startswith("E")
        & (mye["sex"] == "persons")
        & mye["geography"].isin(["county", "unitary authority", "metropolitan district", "london borough"])
    ]
    assert upper["area_code"].nunique() == 152
    assert upper["population"].sum() == 56_550_138


@pytest.mark.mirror
def test_age_bands_partition_the_total():
    whole = population.by_area("E08000004", 2020)
    parts = [population.by_area("E08000004", 2020, age_band=b) for b in ("0-4", "5-16", "17", "18+")]
    assert sum(parts) == whole
    assert population.by_area("E08000004", 2020, age_band="16+") == sum(parts[2:]) + population.by_area(
        "E08000004", 2020, age_band="16"
    )


@pytest.mark.mirror
def test_lsoa_2020_totals():
    lsoa = population.lsoa_2020()
    assert len(lsoa) == 34_753
    england = lsoa[lsoa["lsoa11_code"].str.startswith("E")]
    assert len(england) == 32_844 and england["population"].sum() == 56_550_138
    adults = population.lsoa_2020("18+")
    children = population.lsoa_2020("0-17")
    assert (adults["population"] + children["population"] == lsoa["population"]).all()


@pytest.mark.mirror
def test_unknown_area():
    with pytest.raises(UnknownAreaError, match="E99999999"):
        population.by_area("E99999999", 2020)


@pytest.mark.parametrize(
    "band, expected", [(None, (0, 90)), ("16+", (16, 90)), ("5-16", (5, 16)), ("90+", (90, 90)), ("17", (17, 17))]
)
def test_parse_age_band(band, expected):
    assert population.parse_age_band(band) == expected


@pytest.mark.parametrize("band", ["16 plus", "10-5", "85-95"])
def test_parse_age_band_rejects(band):
    with pytest.raises(ValueError, match="age band"):
        population.parse_age_band(band)


def test_changed_sheet_raises_schema_error(tmp_path):
    """Synthetic MYE2 sheet whose '90+' column is missing."""
    header = ["Code", "Name", "Geography", "All ages"] + [str(a) for a in range(90)]
    path = tmp_path / "synthetic.xlsx"
    pd.DataFrame([["title"] + [None] * (len(header) - 1), header]).to_excel(
        path, sheet_name="MYE2 - Persons", header=False, index=False
    )
    with pytest.raises(SchemaError, match=r"synthetic-id sheet 'MYE2 - Persons'.*\['90\+'\]"):
        population._read_mye2(path, "synthetic-id", "mid-2020", "persons")


# Twins on the SYNTHETIC mirror (tests/synthetic/population.py): at age a an area has
# a males and 1 female, so the expected sums below are worked out by hand there.


@pytest.mark.parametrize("year, sex, expected", [(2019, "persons", 4186), (2020, "males", 4095), (2020, "females", 91)])
def test_synthetic_totals_by_sex(synthetic_mirror, year, sex, expected):
    assert population.by_area("E06900001", year, sex) == expected


@pytest.mark.parametrize(
    "band, expected", [("16+", 3975 + 75), ("17", 18), ("90+", 91), ("0-4", 0 + 1 + 2 + 3 + 4 + 5)]
)
def test_synthetic_age_bands(synthetic_mirror, band, expected):
    assert population.by_area("E06900001", 2020, age_band=band) == expected


def test_synthetic_workbook_rows_and_geographies(synthetic_mirror):
    mye = population.mid_year_estimates("mid-2019")
    assert len(mye) == 4 * 3 * 91  # four areas, three sexes, ages 0..90: title and footnote rows dropped
    geography = mye.drop_duplicates("area_code").set_index("area_code")["geography"].to_dict()
    assert geography == {
        "E92000001": "country",
        "E12900001": "region",
        "E06900001": "unitary authority",
        "E07900001": "non-metropolitan district",
    }
    assert set(population.mid_year_estimates()["period"]) == {"mid-2019", "mid-2020"}
    with pytest.raises(UnknownAreaError, match="E06900002"):
        population.by_area("E06900002", 2020)


def test_synthetic_lsoa_bands_partition_the_total(synthetic_mirror):
    total = population.lsoa_2020().set_index("lsoa11_code")["population"]
    adults = population.lsoa_2020("18+").set_index("lsoa11_code")["population"]
    children = population.lsoa_2020("0-17").set_index("lsoa11_code")["population"]
    assert total.to_dict() == {"E01900001": 4186, "E01900002": 4186, "W01900001": 4186}
    assert (adults + children).equals(total) and children["W01900001"] == sum(range(1, 19))
