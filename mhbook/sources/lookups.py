"""Geography lookups for England: LSOA, local authority and NHS areas, tidy and checked.

Sources (ONS Open Geography Portal, Open Government Licence v3.0, via the
humaniverse/geographr and drkane/geo-lookups repositories; see
``shared/data/geo/PROVENANCE.md``):

* ``lkp-lsoa11-lad19``, ``lkp-lad19-utla19``, ``lkp-lad19-region19``: the 2019
  hierarchy that IoD2019 is published on (LSOA 2011 -> LAD19 -> UTLA19 -> region).
* ``lkp-lsoa11-current`` / ``lkp-lsoa21-current``: LSOA 2011 / 2021 -> current
  (2023/24) LAD, County & UA, combined authority and region (drkane).
* ``lkp-lsoa11-subicb22-icb22-lad22``: LSOA 2011 -> Sub-ICB Location (July 2022)
  -> ICB (2022) -> LAD22, with both ONS (E38/E54) and ODS codes.
* ``lkp-lad22-lad23``, ``lkp-lad23-utla23``.
* ``lkp-la-all-codes``, ``lkp-region-all-codes``: every LAD code used since 2011
  with the active LAD and County & UA it now lies in (drkane).
* ``pop-lsoa11-mid2020``: ONS mid-2020 LSOA 2011 persons, the population weights
  used to split areas between NHS footprints.

Columns follow ``<geography><yy>_code`` / ``<geography><yy>_name``; ``_ods`` marks
an NHS ODS code (e.g. ``QYG``, ``01F``). Unsuffixed ``lad_``/``utla_``/``region_``
columns are the current (2023/24) codes. All tables are England only.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

LSOA11_ENGLAND = 32_844
LSOA21_ENGLAND = 33_755

_CODE = {
    "lsoa": r"^E01\d{6}$",
    "lad": r"^E0[6789]\d{6}$",
    "utla": r"^E(06|08|09|10)\d{6}$",
    "region": r"^E12\d{6}$",
    "sicbl": r"^E38\d{6}$",
    "icb": r"^E54\d{6}$",
}


def code_col(kind: str, **kw) -> pa.Column:
    """A pandera column holding ONS codes of ``kind`` (a key of the pattern table)."""
    return pa.Column(str, pa.Check.str_matches(_CODE[kind]), **kw)


def _england(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return df[df[col].astype(str).str.startswith("E")].reset_index(drop=True)


def _expect_rows(df: pd.DataFrame, n: int, where: str) -> None:
    if len(df) != n:
        raise SchemaError(f"{where}: expected {n:,} English rows, found {len(df):,}")


@tidy_table("lkp-la-all-codes", "lkp-lad23-utla23")
def la_all_codes() -> pd.DataFrame:
    """Every English LAD code used since 2011 -> the active LAD, County & UA, region.

    Columns: ``lad_code_any``, ``lad_name_any`` (the code as once used), ``current``
    (bool: an ONS LAD 2023 code), ``lad_code``, ``lad_name`` (the LAD 2023 it now lies
    in), ``utla_code``, ``utla_name`` (its County & UA 2023), ``cauth_code``,
    ``cauth_name``, ``region_code``, ``region_name``.

    Method: drkane's table, with the active codes checked against ONS's LAD23 ->
    UTLA23 lookup. drkane treats E08000038/E08000039 (Barnsley/Sheffield codes issued
    for a 2019 boundary change) as active, but ONS's 2019 and 2023 lookups, the LSOA
    lookups and the Dec 2023 boundaries all use E08000016/E08000019; where drkane's
    active code is not an ONS LAD23 code it is replaced by the LAD23 code of the same
    name, so every row ends on a code used by the other tables.
    """
    raw = pd.read_csv(fetch("lkp-la-all-codes"), dtype=str, keep_default_na=False)
    df = _england(raw, "LADCD").rename(
        columns={
            "LADCD": "lad_code_any",
            "LADNM": "lad_name_any",
            "LADCD_ACTIVE": "lad_code",
            "LADNM_ACTIVE": "lad_name",
            "CAUTHCD": "cauth_code",
            "CAUTHNM": "cauth_name",
            "RGNCD": "region_code",
            "RGNNM": "region_name",
        }
    )
    ons = lad23_utla23()
    by_name = dict(zip(ons["lad23_name"], ons["lad23_code"]))
    stale = ~df["lad_code"].isin(ons["lad23_code"])
    df.loc[stale, "lad_code"] = df.loc[stale, "lad_name"].map(by_name)
    df["current"] = df["lad_code_any"].isin(ons["lad23_code"])
    df = df.merge(
        ons.rename(columns={"lad23_code": "lad_code", "utla23_code": "utla_code", "utla23_name": "utla_name"}).drop(
            columns="lad23_name"
        ),
        on="lad_code",
        how="left",
        validate="many_to_one",
    )
    df = df[
        [
            "lad_code_any",
            "lad_name_any",
            "current",
            "lad_code",
            "lad_name",
            "utla_code",
            "utla_name",
            "cauth_code",
            "cauth_name",
            "region_code",
            "region_name",
        ]
    ]
    schema = pa.DataFrameSchema(
        {
            "lad_code_any": code_col("lad", unique=True),
            "current": pa.Column(bool),
            "lad_code": code_col("lad"),
            "utla_code": code_col("utla"),
            "region_code": code_col("region"),
        }
    )
    return validate(df, schema, "lkp-la-all-codes")


@tidy_table("lkp-la-all-codes", "lkp-lad23-utla23")
def utla23() -> pd.DataFrame:
    """The 153 English Counties & UAs of December 2023 with their region.

    Columns: ``utla_code``, ``utla_name``, ``region_code``, ``region_name``. Codes
    and names from ONS's LAD23 -> UTLA23 lookup, regions from drkane's table.
    """
    lads = la_all_codes().query("current")
    df = lads.groupby(["utla_code", "utla_name"], as_index=False).agg(
        region_code=("region_code", "first"), region_name=("region_name", "first"), n_regions=("region_code", "nunique")
    )
    if (df["n_regions"] != 1).any():
        raise SchemaError(
            f"lkp-la-all-codes: Counties & UAs in several regions: {df.loc[df['n_regions'] != 1, 'utla_code'].tolist()}"
        )
    df = df.drop(columns="n_regions").sort_values("utla_code", ignore_index=True)
    schema = pa.DataFrameSchema(
        {"utla_code": code_col("utla", unique=True), "region_code": code_col("region")},
        checks=pa.Check(lambda d: len(d) == 153, error="153 Counties & UAs"),
    )
    return validate(df, schema, "lkp-lad23-utla23")


def region_all_codes() -> pd.DataFrame:
    """The nine English regions: ``region_code``, ``region_name``."""
    raw = pd.read_csv(fetch("lkp-region-all-codes"), dtype=str)
    df = _england(raw, "RGNCD").rename(columns={"RGNCD": "region_code", "RGNNM": "region_name"})
    df = df[["region_code", "region_name"]]
    return validate(df, pa.DataFrameSchema({"region_code": code_col("region", unique=True)}), "lkp-region-all-codes")


def lad19_utla19() -> pd.DataFrame:
    """English LAD 2019 -> County & UA 2019: ``lad19_code``, ``lad19_name``,
    ``utla19_code``, ``utla19_name`` (317 LADs in 151 Counties & UAs)."""
    raw = pd.read_csv(fetch("lkp-lad19-utla19"), dtype=str)
    df = _england(raw, "ltla19_code").rename(columns={"ltla19_code": "lad19_code", "ltla19_name": "lad19_name"})[
        ["lad19_code", "lad19_name", "utla19_code", "utla19_name"]
    ]
    schema = pa.DataFrameSchema({"lad19_code": code_col("lad", unique=True), "utla19_code": code_col("utla")})
    return validate(df, schema, "lkp-lad19-utla19")


def lad19_region19() -> pd.DataFrame:
    """English LAD 2019 -> region: ``lad19_code``, ``region19_code``, ``region19_name``."""
    raw = pd.read_csv(fetch("lkp-lad19-region19"), dtype=str)
    df = raw.rename(columns={"ltla19_code": "lad19_code"})[["lad19_code", "region19_code", "region19_name"]]
    schema = pa.DataFrameSchema({"lad19_code": code_col("lad", unique=True), "region19_code": code_col("region")})
    return validate(df, schema, "lkp-lad19-region19")


@tidy_table("lkp-lsoa11-lad19", "lkp-lad19-utla19", "lkp-lad19-region19")
def lsoa11_lad19() -> pd.DataFrame:
    """LSOA 2011 -> LAD19 -> County & UA 2019 -> region, England (32,844 rows).

    Columns: ``lsoa11_code``, ``lsoa11_name``, ``lad19_code``, ``lad19_name``,
    ``utla19_code``, ``utla19_name``, ``region19_code``, ``region19_name``.
    """
    raw = pd.read_csv(fetch("lkp-lsoa11-lad19"), dtype=str)
    df = _england(raw, "lsoa11_code").rename(columns={"ltla19_code": "lad19_code", "ltla19_name": "lad19_name"})[
        ["lsoa11_code", "lsoa11_name", "lad19_code", "lad19_name"]
    ]
    df = df.merge(lad19_utla19().drop(columns="lad19_name"), on="lad19_code", how="left", validate="many_to_one")
    df = df.merge(lad19_region19(), on="lad19_code", how="left", validate="many_to_one")
    _expect_rows(df, LSOA11_ENGLAND, "lkp-lsoa11-lad19")
    schema = pa.DataFrameSchema(
        {
            "lsoa11_code": code_col("lsoa", unique=True),
            "lad19_code": code_col("lad"),
            "utla19_code": code_col("utla"),
            "region19_code": code_col("region"),
        }
    )
    return validate(df.sort_values("lsoa11_code", ignore_index=True), schema, "lkp-lsoa11-lad19")


def _lsoa_current(dataset_id: str, year: str, n: int) -> pd.DataFrame:
    raw = pd.read_csv(fetch(dataset_id), dtype=str, keep_default_na=False)
    code, name = f"LSOA{year}CD", f"LSOA{year}NM"
    df = raw.rename(
        columns={
            code: f"lsoa{year}_code",
            name: f"lsoa{year}_name",
            "LADCD_ACTIVE": "lad_code",
            "UTLACD": "utla_code",
            "CAUTHCD": "cauth_code",
            "RGNCD": "region_code",
        }
    )[[f"lsoa{year}_code", f"lsoa{year}_name", "lad_code", "utla_code", "cauth_code", "region_code"]]
    lads = la_all_codes().query("current")[["lad_code", "lad_name"]]
    df = df.merge(lads, on="lad_code", how="left", validate="many_to_one")
    df = df.merge(
        utla23()[["utla_code", "utla_name", "region_name"]], on="utla_code", how="left", validate="many_to_one"
    )
    _expect_rows(df, n, dataset_id)
    schema = pa.DataFrameSchema(
        {
            f"lsoa{year}_code": code_col("lsoa", unique=True),
            "lad_code": code_col("lad"),
            "lad_name": pa.Column(str),  # a missing name means a LAD code unknown to drkane
            "utla_code": code_col("utla"),
            "utla_name": pa.Column(str),
            "region_code": code_col("region"),
        }
    )
    df = df[
        [
            f"lsoa{year}_code",
            f"lsoa{year}_name",
            "lad_code",
            "lad_name",
            "utla_code",
            "utla_name",
            "cauth_code",
            "region_code",
            "region_name",
        ]
    ]
    return validate(df.sort_values(f"lsoa{year}_code", ignore_index=True), schema, dataset_id)


@tidy_table("lkp-lsoa11-current", "lkp-la-all-codes", "lkp-lad23-utla23")
def lsoa11_current() -> pd.DataFrame:
    """LSOA 2011 -> current LAD, County & UA, combined authority and region (32,844 rows).

    Columns: ``lsoa11_code``, ``lsoa11_name``, ``lad_code``, ``lad_name``,
    ``utla_code``, ``utla_name``, ``cauth_code`` ("" outside one), ``region_code``,
    ``region_name``. Current = LAD May 2024 / County & UA Dec 2023 codes.
    """
    return _lsoa_current("lkp-lsoa11-current", "11", LSOA11_ENGLAND)


@tidy_table("lkp-lsoa21-current", "lkp-la-all-codes", "lkp-lad23-utla23")
def lsoa21_current() -> pd.DataFrame:
    """LSOA 2021 -> current LAD, County & UA, combined authority and region (33,755
    rows); the same columns as :func:`lsoa11_current` with ``lsoa21_`` keys."""
    return _lsoa_current("lkp-lsoa21-current", "21", LSOA21_ENGLAND)


@tidy_table("lkp-lsoa11-subicb22-icb22-lad22")
def lsoa11_nhs22() -> pd.DataFrame:
    """LSOA 2011 -> Sub-ICB Location (July 2022) -> ICB (2022) -> LAD22 (32,844 rows).

    Columns: ``lsoa11_code``, ``sicbl22_code`` (ONS E38), ``sicbl22_ods`` (ODS, e.g.
    ``01F``; these are also the 2021-22 CCG codes), ``sicbl22_name``, ``icb22_code``
    (ONS E54), ``icb22_ods`` (ODS, e.g. ``QYG``, as used by NHS Talking Therapies
    files), ``icb22_name``, ``lad22_code``, ``lad22_name``.
    """
    raw = pd.read_csv(fetch("lkp-lsoa11-subicb22-icb22-lad22"), dtype=str)
    df = raw.rename(
        columns={
            "sicbl22_code_h": "sicbl22_ods",
            "icb22_code_h": "icb22_ods",
            "ltla22_code": "lad22_code",
            "ltla22_name": "lad22_name",
        }
    )[
        [
            "lsoa11_code",
            "sicbl22_code",
            "sicbl22_ods",
            "sicbl22_name",
            "icb22_code",
            "icb22_ods",
            "icb22_name",
            "lad22_code",
            "lad22_name",
        ]
    ]
    _expect_rows(df, LSOA11_ENGLAND, "lkp-lsoa11-subicb22-icb22-lad22")
    schema = pa.DataFrameSchema(
        {
            "lsoa11_code": code_col("lsoa", unique=True),
            "sicbl22_code": code_col("sicbl"),
            "sicbl22_ods": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{3}([0-9A-Z]{2})?$")),
            "icb22_code": code_col("icb"),
            "icb22_ods": pa.Column(str, pa.Check.str_matches(r"^Q[0-9A-Z]{2}$")),
            "lad22_code": code_col("lad"),
        }
    )
    return validate(df.sort_values("lsoa11_code", ignore_index=True), schema, "lkp-lsoa11-subicb22-icb22-lad22")


def lad22_lad23() -> pd.DataFrame:
    """English LAD 2022 -> LAD 2023: ``lad22_code``, ``lad22_name``, ``lad23_code``,
    ``lad23_name`` (the April 2023 Cumbria, North Yorkshire and Somerset mergers)."""
    raw = pd.read_csv(fetch("lkp-lad22-lad23"), dtype=str)
    df = _england(raw.rename(columns=lambda c: c.replace("ltla", "lad")), "lad22_code")
    schema = pa.DataFrameSchema({"lad22_code": code_col("lad", unique=True), "lad23_code": code_col("lad")})
    return validate(df[["lad22_code", "lad22_name", "lad23_code", "lad23_name"]], schema, "lkp-lad22-lad23")


def lad23_utla23() -> pd.DataFrame:
    """English LAD 2023 -> County & UA 2023: ``lad23_code``, ``lad23_name``,
    ``utla23_code``, ``utla23_name`` (296 LADs in 153 Counties & UAs)."""
    raw = pd.read_csv(fetch("lkp-lad23-utla23"), dtype=str)
    df = _england(raw.rename(columns=lambda c: c.replace("ltla", "lad")), "lad23_code")
    schema = pa.DataFrameSchema({"lad23_code": code_col("lad", unique=True), "utla23_code": code_col("utla")})
    return validate(df[["lad23_code", "lad23_name", "utla23_code", "utla23_name"]], schema, "lkp-lad23-utla23")


def lsoa11_population() -> pd.DataFrame:
    """ONS mid-2020 population of each English LSOA 2011, persons: the weights used
    to split areas between NHS footprints and to weight IoD2025 LAD scores.

    Columns: ``lsoa11_code``, ``population`` (all ages), ``population_18plus``.
    32,844 rows; ``population`` sums to 56,550,138, ONS's published England total.
    Parsed by :func:`mhbook.sources.population.lsoa_2020` (not rebased to Census 2021).
    """
    from mhbook.sources import population  # the parser of pop-lsoa11-mid2020

    total = population.lsoa_2020()[["lsoa11_code", "population"]]
    adults = population.lsoa_2020("18+")[["lsoa11_code", "population"]]
    df = _england(total.merge(adults, on="lsoa11_code", suffixes=("", "_18plus"), validate="one_to_one"), "lsoa11_code")
    _expect_rows(df, LSOA11_ENGLAND, "pop-lsoa11-mid2020")
    schema = pa.DataFrameSchema(
        {
            "lsoa11_code": code_col("lsoa", unique=True),
            "population": pa.Column("int64", pa.Check.ge(0)),
            "population_18plus": pa.Column("int64", pa.Check.ge(0)),
        }
    )
    return validate(df.sort_values("lsoa11_code", ignore_index=True), schema, "pop-lsoa11-mid2020")
