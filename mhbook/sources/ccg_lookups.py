"""LSOA (2011) -> Clinical Commissioning Group lookups of April 2017, 2018, 2019 and 2020.

NHS Talking Therapies (IAPT) publishes CCGs until 2021-22, and CCGs merged almost every
April, so each NHS year is placed with the lookup of its own April (2017-18 with April
2017, ..., 2020-21 with April 2020). 2021-22 uses the July 2022 Sub-ICB lookup
(``lookups.lsoa11_nhs22``), whose ODS codes are that year's CCG codes.

Source: ONS Open Geography Portal best-fit lookups (Open Government Licence v3.0), via
jtrim-ons/ons-lookups; catalogue ids ``lkp-lsoa11-ccg17-lad17`` ...
``lkp-lsoa11-ccg20-lad20``; ``shared/data/geo/PROVENANCE.md`` ("CCG lookups").

Each loader is its own ``@tidy_table`` so that a page reading one year's lookup records
only that dataset for the incremental build. Tidy columns: ``lsoa11_code``,
``ccg_code`` (ONS E38), ``ccg_ods`` (3-character ODS code used by the IAPT files, e.g.
``00R`` Blackpool), ``ccg_name``, ``lad_code``, ``lad_name`` (the LAD of that year).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.sources._schema import check_columns, validate
from mhbook.sources.lookups import LSOA11_ENGLAND, code_col
from mhbook.tables import tidy_table

#: NHS financial year -> (two-digit April year, catalogue id) of its own CCG lookup.
CCG_LOOKUPS: dict[str, tuple[str, str]] = {
    "2017-18": ("17", "lkp-lsoa11-ccg17-lad17"),
    "2018-19": ("18", "lkp-lsoa11-ccg18-lad18"),
    "2019-20": ("19", "lkp-lsoa11-ccg19-lad19"),
    "2020-21": ("20", "lkp-lsoa11-ccg20-lad20"),
}

#: Number of CCGs in each April (ONS; PROVENANCE.md), checked on load.
CCG_COUNTS = {"17": 207, "18": 195, "19": 191, "20": 135}

COLUMNS = ["lsoa11_code", "ccg_code", "ccg_ods", "ccg_name", "lad_code", "lad_name"]


def _read(yy: str, dataset_id: str) -> pd.DataFrame:
    path = fetch(dataset_id)
    where = f"{dataset_id} ({path.name})"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    expected = ["LSOA11CD", f"CCG{yy}CD", f"CCG{yy}CDH", f"CCG{yy}NM", f"LAD{yy}CD", f"LAD{yy}NM"]
    check_columns(raw.columns, expected, where)
    df = raw.rename(columns=dict(zip(expected, COLUMNS)))[COLUMNS]
    for col in COLUMNS:
        df[col] = df[col].str.strip()
    if len(df) != LSOA11_ENGLAND:
        raise SchemaError(f"{where}: expected {LSOA11_ENGLAND:,} LSOA rows, found {len(df):,}")
    schema = pa.DataFrameSchema(
        {
            "lsoa11_code": code_col("lsoa", unique=True),
            "ccg_code": code_col("sicbl"),
            "ccg_ods": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{3}$")),
            "ccg_name": pa.Column(str, pa.Check.str_length(min_value=1)),
            "lad_code": code_col("lad"),
        },
        checks=[
            pa.Check(lambda d: d["ccg_ods"].nunique() == CCG_COUNTS[yy], error=f"{CCG_COUNTS[yy]} CCGs (ODS codes)"),
            pa.Check(
                lambda d: (d.groupby("ccg_ods")["ccg_code"].nunique() == 1).all(), error="one ONS code per ODS code"
            ),
        ],
    )
    return validate(df.sort_values("lsoa11_code", ignore_index=True), schema, where)


@tidy_table("lkp-lsoa11-ccg17-lad17")
def lsoa11_ccg17() -> pd.DataFrame:
    """LSOA 2011 -> CCG (April 2017, 207 CCGs) -> LAD17; serves NHS year 2017-18."""
    return _read("17", "lkp-lsoa11-ccg17-lad17")


@tidy_table("lkp-lsoa11-ccg18-lad18")
def lsoa11_ccg18() -> pd.DataFrame:
    """LSOA 2011 -> CCG (April 2018, 195 CCGs) -> LAD18; serves NHS year 2018-19."""
    return _read("18", "lkp-lsoa11-ccg18-lad18")


@tidy_table("lkp-lsoa11-ccg19-lad19")
def lsoa11_ccg19() -> pd.DataFrame:
    """LSOA 2011 -> CCG (April 2019, 191 CCGs) -> LAD19; serves NHS year 2019-20."""
    return _read("19", "lkp-lsoa11-ccg19-lad19")


@tidy_table("lkp-lsoa11-ccg20-lad20")
def lsoa11_ccg20() -> pd.DataFrame:
    """LSOA 2011 -> CCG (April 2020, 135 CCGs) -> LAD20; serves NHS year 2020-21."""
    return _read("20", "lkp-lsoa11-ccg20-lad20")


def lsoa11_ccg(period: str) -> pd.DataFrame:
    """The CCG lookup of NHS year ``period`` (2017-18 to 2020-21), tidy columns as above.

    Only that year's loader runs, so the incremental build (``mhbook.reads``) records
    exactly which year's lookup a page reads.
    """
    if period not in CCG_LOOKUPS:
        raise ValueError(
            f"no April CCG lookup for NHS year {period!r}; held: {list(CCG_LOOKUPS)} "
            "(2021-22 uses the July 2022 Sub-ICB lookup, later years ICBs)"
        )
    yy, _ = CCG_LOOKUPS[period]
    return globals()[f"lsoa11_ccg{yy}"]()


def dataset_id(period: str) -> str:
    """The catalogue id of the lookup serving NHS year ``period``."""
    if period in CCG_LOOKUPS:
        return CCG_LOOKUPS[period][1]
    return "lkp-lsoa11-subicb22-icb22-lad22"
