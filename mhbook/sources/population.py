"""ONS mid-year population estimates (mid-2019, mid-2020) by area, sex and single year of age.

Sources (read ``shared/data/population/PROVENANCE.md``):

* ``pop-mye-mid2019``: ONS MYE2 tables, mid-2019, on 2019 local authority codes.
* ``pop-mye-mid2020``: ONS MYE2 tables, mid-2020, on April 2021 local authority geography.
* ``pop-lsoa11-mid2020``: ONS mid-2020 LSOA (2011) estimates, persons, single year of age
  (as converted by humaniverse/demographr; values unchanged).

Units: people, at 30 June. Age 90 stands for 90 and over. These are the estimates as
first published, before ONS rebased mid-2012..mid-2020 on the 2021 Census, so rates
built on them differ slightly from ones on the rebased series.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import SchemaError, UnknownAreaError
from mhbook.fetch import fetch
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

MYE = {"mid-2019": "pop-mye-mid2019", "mid-2020": "pop-mye-mid2020"}
SEXES = {"persons": "MYE2 - Persons", "males": "MYE2 - Males", "females": "MYE2 - Females"}
AGES = list(range(90)) + ["90+"]
GEOGRAPHIES = [
    "country",
    "region",
    "county",
    "metropolitan county",
    "unitary authority",
    "metropolitan district",
    "london borough",
    "non-metropolitan district",
    "council area",
    "local government district",
]
_code = pa.Column(str, pa.Check.str_matches(r"^[A-Z]\d{8}$"))
SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.isin(list(MYE))),
        "area_code": _code,
        "area_name": pa.Column(str),
        "geography": pa.Column(str, pa.Check.isin(GEOGRAPHIES)),
        "sex": pa.Column(str, pa.Check.isin(list(SEXES))),
        "age": pa.Column("int64", pa.Check.in_range(0, 90)),
        "population": pa.Column("int64", pa.Check.ge(0)),
    },
    unique=["period", "area_code", "sex", "age"],
    strict=True,
)
LSOA_SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.eq("mid-2020")),
        "lsoa11_code": pa.Column(str, pa.Check.str_matches(r"^[EW]01\d{6}$"), unique=True),
        "lsoa11_name": pa.Column(str),
        "age_band": pa.Column(str),
        "population": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, where: str) -> pd.DataFrame:
    return validate(df, schema, where)


def parse_age_band(age_band: str | None) -> tuple[int, int]:
    """Inclusive (low, high) ages of a band: "16+" -> (16, 90), "5-16" -> (5, 16), "17" -> (17, 17).

    None means all ages. Age 90 is "90 and over", so a band reaches it only as "N+" or "N-90".
    """
    if age_band is None:
        return 0, 90
    m = re.fullmatch(r"\s*(\d+)\s*(\+|-\s*(\d+))?\s*", str(age_band))
    if not m:
        raise ValueError(f"age band {age_band!r} not understood: write e.g. '18+', '5-16' (inclusive) or '17'")
    low = int(m[1])
    high = 90 if m[2] == "+" else int(m[3]) if m[3] else low
    if not 0 <= low <= high <= 90:
        raise ValueError(f"age band {age_band!r}: ages must run from 0 to 90 (90 = 90 and over), low <= high")
    return low, high


def _whole(values: pd.DataFrame, where: str) -> pd.DataFrame:
    if values.isna().any().any() or (values % 1 != 0).any().any():
        raise SchemaError(f"{where}: population counts should be whole numbers with no blanks")
    return values.astype("int64")


def _read_mye2(path, dataset_id: str, period: str, sex: str) -> pd.DataFrame:
    """One MYE2 sheet -> long rows. The header row is the one whose first cell is 'Code'."""
    where = f"{dataset_id} sheet {SEXES[sex]!r}"
    raw = pd.read_excel(path, sheet_name=SEXES[sex], header=None)
    first = raw.iloc[:, 0].astype(str).str.strip()
    if not (first == "Code").any():
        raise SchemaError(f"{where}: no header row starting 'Code'")
    hdr = first.index[first == "Code"][0]
    # Age headers are numbers in some cells (0.0) and text in others ("3"); compare as text.
    heads = [str(int(h)) if isinstance(h, float) and h.is_integer() else str(h).strip() for h in raw.iloc[hdr]]
    geo = next((h for h in heads if h.startswith("Geography")), None)
    ages = [str(a) for a in AGES]
    missing = [c for c in ["Code", "Name", "All ages", *ages] if c not in heads] + ([] if geo else ["Geography"])
    if missing:
        raise SchemaError(f"{where}: expected columns {missing} not found in the header row")
    body = raw.iloc[hdr + 1 :].set_axis(heads, axis=1)
    body = body[body["Code"].astype(str).str.fullmatch(r"[A-Z]\d{8}")]
    counts = _whole(body[ages + ["All ages"]].apply(pd.to_numeric), where)
    if not (counts[ages].sum(axis=1) == counts["All ages"]).all():
        raise SchemaError(f"{where}: single years of age do not sum to 'All ages'")
    wide = counts[ages].set_axis(list(range(91)), axis=1)
    wide.index = pd.MultiIndex.from_arrays(
        [body["Code"].str.strip(), body["Name"].str.strip(), body[geo].str.strip().str.lower()],
        names=["area_code", "area_name", "geography"],
    )
    long = wide.stack().rename("population").rename_axis(wide.index.names + ["age"]).reset_index()
    long.insert(0, "period", period)
    long.insert(4, "sex", sex)
    return long


@tidy_table(*MYE.values())
def _mye() -> pd.DataFrame:
    frames = [_read_mye2(fetch(ds), ds, period, sex) for period, ds in MYE.items() for sex in SEXES]
    df = pd.concat(frames, ignore_index=True)
    df["age"] = df["age"].astype("int64")
    return _validate(SCHEMA, df, "ONS MYE2 (pop-mye-mid2019, pop-mye-mid2020)")  # once, before caching


def mid_year_estimates(period: str | None = None) -> pd.DataFrame:
    """ONS MYE2 single-year-of-age estimates for every UK area in the workbook.

    Columns: ``period`` ("mid-2019" on 2019 codes, "mid-2020" on April 2021
    geography), ``area_code``, ``area_name``, ``geography`` (country, region, county,
    metropolitan county, unitary authority, metropolitan district, london borough,
    non-metropolitan district, council area, local government district), ``sex``
    (persons / males / females), ``age`` (0..90, 90 = 90 and over), ``population``.
    County & UA (upper tier) England = county, unitary authority, metropolitan district
    and london borough rows with E codes.
    """
    df = _mye()
    if period is not None:
        if period not in MYE:
            raise ValueError(f"period {period!r} not held; choose from {list(MYE)}")
        df = df[df["period"] == period].reset_index(drop=True)
    return df


def by_area(code: str, year: int, sex: str = "persons", age_band: str | None = None) -> int:
    """Population of one area at mid-``year`` (2019 or 2020) for a sex and age band.

    ``age_band`` like "16+", "18+", "5-16" (inclusive; 90 = 90 and over) or None for
    all ages. Unknown codes raise ``UnknownAreaError`` (mid-2019 uses 2019 codes,
    mid-2020 April 2021 codes).
    """
    period = f"mid-{year}"
    if period not in MYE:
        raise ValueError(f"year {year!r} not held; choose 2019 or 2020")
    if sex not in SEXES:
        raise ValueError(f"sex {sex!r} unknown; choose from {list(SEXES)}")
    low, high = parse_age_band(age_band)
    df = mid_year_estimates(period)
    rows = df[(df["area_code"] == code) & (df["sex"] == sex)]
    if rows.empty:
        raise UnknownAreaError(f"{code!r} is not an area in the ONS {period} estimates ({MYE[period]})")
    return int(rows.loc[rows["age"].between(low, high), "population"].sum())


@tidy_table("pop-lsoa11-mid2020")
def _lsoa_2020() -> pd.DataFrame:
    where = "pop-lsoa11-mid2020"
    raw = pd.read_csv(fetch(where), dtype={"lsoa11_code": str, "lsoa11_name": str})
    ages = [str(a) for a in AGES]
    missing = [c for c in ["lsoa11_name", "lsoa11_code", "total_population", *ages] if c not in raw.columns]
    if missing:
        raise SchemaError(f"{where}: expected columns {missing} not found")
    counts = _whole(raw[ages + ["total_population"]], where)
    if not (counts[ages].sum(axis=1) == counts["total_population"]).all():
        raise SchemaError(f"{where}: single years of age do not sum to total_population")
    out = counts[ages].set_axis([str(a) for a in range(91)], axis=1)
    out.insert(0, "lsoa11_code", raw["lsoa11_code"])
    out.insert(1, "lsoa11_name", raw["lsoa11_name"])
    return out


def lsoa_2020(age_band: str | None = None) -> pd.DataFrame:
    """ONS mid-2020 persons by LSOA 2011 (England and Wales, 34,753 LSOAs) in one age band.

    Columns: ``period`` ("mid-2020"), ``lsoa11_code``, ``lsoa11_name``, ``age_band``
    (as asked, "all ages" when None), ``population``. Bands as in :func:`by_area`.
    """
    low, high = parse_age_band(age_band)
    wide = _lsoa_2020()
    df = pd.DataFrame(
        {
            "period": "mid-2020",
            "lsoa11_code": wide["lsoa11_code"],
            "lsoa11_name": wide["lsoa11_name"],
            "age_band": age_band or "all ages",
            "population": wide[[str(a) for a in range(low, high + 1)]].sum(axis=1).astype("int64"),
        }
    )
    return _validate(LSOA_SCHEMA, df, "pop-lsoa11-mid2020")
