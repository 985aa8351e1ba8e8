"""Mental Health Act statistics, annual figures (NHS England), as a tidy table per year.

Source: one catalogue dataset per financial year, id ``mha-YYYY-YY`` (today
``mha-2023-24``: sheet 1 of a dashboard workbook re-uploaded to GitHub, holding NHS
England's "main (suppressed)" CSV ``mha_annual_suppressed_2023_24.csv``; read
``shared/data/mha/PROVENANCE.md``). The sheet read is the entry's first ``sheets``
name, and the year in the file's ``Year`` column must be the year of its id. A new
year is a new catalogue entry: ``periods()`` and ``detentions()`` find it with no code
change (``mhbook.periods``). The other sheets are the uploader's pivots and
are ignored. Counts come from MHSDS (and ECDS for s136); MHSDS coverage is incomplete,
so counts undercount the true number of detentions.

Units: ``count`` is detentions, uses or people (see ``measure``); ``value``,
``lower_cl`` and ``upper_cl`` are rates per 100,000 population (ONS estimates).
Crude rates have no interval in the file; the standardised rates (age and sex
standardised, ethnicity only) carry a 95% interval, given as a half-width which is
turned into ``lower_cl``/``upper_cl`` here.

Disclosure control: organisation counts are rounded to the nearest 5 (every one is a
multiple of 5 in the file) and small ones are blank; blanks become missing counts with
``count_status`` "suppressed", never 0. England counts are exact.

Repair of labels damaged by the uploader
----------------------------------------
Some ``DemographicBreakdown`` cells were overwritten by a repeating run of the seven
gender labels (Male, Female, Non-binary, Other, Not stated, All genders, Missing),
including Gender rows whose labels are therefore out of step, and seven cells were
blanked; one ``OrganisationBreakdown`` cell reads "h". The values in those rows are
intact (e.g. the repaired repeat-detention groups add up to their totals). The file
is sorted by measure, subcategory and demographic, then by breakdown in a fixed order
(``BREAKDOWN_ORDER``: alphabetical, except gender in NHS code order), and within each
breakdown group the England row comes first, followed by its organisations. So in a
block that starts with an England row and holds exactly one England row per label of
the full list, the k-th England-led group carries the k-th label, with certainty.
Within such blocks a damaged row takes its group's label. In a block with demographic
"All" the only possible label is "All". Any damaged row outside those cases, or in a
block whose intact labels contradict the order, is dropped with a
``MhaLabelWarning``; none is in this file. The "h" row is the England row ("All prov",
"All providers") that opens its block and becomes "All submissions". Repaired rows
carry ``label_status`` "repaired".

IMD deciles: NHS labels run "01 Least deprived" .. "10 Most deprived"; they are turned
into ``imd_decile`` 1 = most deprived (NHS 10) .. 10 = least deprived (NHS 01).
"""

from __future__ import annotations

import functools
import logging
import re
import warnings

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mhbook import catalogue
from mhbook.constants import ENGLAND_CODE
from mhbook.errors import InsufficientDataError, MhaLabelWarning, SchemaError
from mhbook.fetch import fetch
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

#: Catalogue ids of the yearly files: "mha-" and the financial year.
DATASET_ID = re.compile(r"^mha-(\d{4}-\d{2})$")
RAW_COLUMNS = [
    "Year",
    "Measure",
    "measureSubcategory",
    "Demographic",
    "DemographicBreakdown",
    "OrganisationBreakdown",
    "Datasource",
    "OrgID",
    "OrgName",
    "MHSDS_Count",
    "Acute_Count",
    "Total_Count",
    "CrudeRate",
    "StdRate",
    "Confidence_interval",
]
_IMD_NHS = (
    ["01 Least deprived"]
    + [f"0{n} Less deprived" for n in range(2, 6)]
    + [f"0{n} More deprived" for n in range(6, 10)]
    + ["10 Most deprived"]
)
#: Every breakdown label per demographic, in the order the publisher sorts them.
BREAKDOWN_ORDER = {
    "All": ["All"],
    "Age": ["15 and under", "16 to 17", "18 to 34", "35 to 49", "50 to 64", "65 and over", "All", "Unknown"],
    "Gender": ["Male", "Female", "Non-binary", "Other", "Not stated", "All genders", "Missing"],
    "IMD": _IMD_NHS + ["All", "Not stated/Not known/Invalid"],
    "Ethnicity": [
        "African",
        "All",
        "Any Other Asian background",
        "Any Other Black background",
        "Any Other Ethnic Group",
        "Any Other Mixed background",
        "Any Other White background",
        "Asian or Asian British",
        "Bangladeshi",
        "Black or Black British",
        "British",
        "Caribbean",
        "Chinese",
        "Indian",
        "Irish",
        "Mixed",
        "Not Known",
        "Not Stated",
        "Other Ethnic Groups",
        "Pakistani",
        "Unknown",
        "White",
        "White and Asian",
        "White and Black African",
        "White and Black Caribbean",
    ],
}
ORG_TYPES = {
    "All submissions": "England",
    "ICB": "ICB",
    "Sub ICB": "Sub-ICB",
    "NHS Trust": "NHS trust",
    "Independent Health Provider": "Independent provider",
}


SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "org_type": pa.Column(str, pa.Check.isin(list(ORG_TYPES.values()))),
        "org_code": pa.Column(str),
        "org_name": pa.Column(str),
        "source": pa.Column(str, pa.Check.isin(["MHSDS", "ECDS", "Both"])),
        "measure": pa.Column(str),
        "subcategory": pa.Column(str),
        "breakdown": pa.Column(str, pa.Check.isin(["all", "age", "gender", "ethnicity", "imd"])),
        "group": pa.Column(str),
        "imd_decile": pa.Column("Int64", pa.Check.in_range(1, 10), nullable=True),
        "label_status": pa.Column(str, pa.Check.isin(["published", "repaired"])),
        "count": pa.Column(float, pa.Check.ge(0), nullable=True),
        "count_status": pa.Column(str, pa.Check.isin(["exact", "rounded", "suppressed"])),
        "rate_type": pa.Column(str, pa.Check.isin(["crude", "standardised"])),
        "value": pa.Column(float, pa.Check.ge(0), nullable=True),
        "lower_cl": pa.Column(float, nullable=True),
        "upper_cl": pa.Column(float, nullable=True),
    },
    checks=[
        pa.Check(
            lambda d: d["count"].isna() == (d["count_status"] == "suppressed"),
            error="count is missing exactly when count_status is 'suppressed'",
        ),
        pa.Check(
            lambda d: d.apply(lambda r: r["group"] in _TIDY_GROUPS[r["breakdown"]], axis=1),
            error="group is a label of its breakdown",
        ),
    ],
    strict=True,
)


def _imd_group(label: str) -> str:
    """NHS IMD label -> decile text with 1 = most deprived ("01 Least deprived" -> "10")."""
    return str(11 - int(label[:2])) if label in _IMD_NHS else label


_TIDY_GROUPS = {k.lower(): set(v) for k, v in BREAKDOWN_ORDER.items()}
_TIDY_GROUPS["imd"] = {_imd_group(x) for x in BREAKDOWN_ORDER["IMD"]}


def periods() -> list[str]:
    """Financial years with a catalogued MHA file, oldest first ("2023-24", ...)."""
    return sorted(DATASET_ID.match(i).group(1) for i in catalogue.datasets() if DATASET_ID.match(i))


def dataset(period: str | None = None) -> str:
    """The catalogue id of the MHA file for ``period`` (default: the latest year)."""
    years = periods()
    if not years:
        raise InsufficientDataError("The catalogue lists no Mental Health Act file (an id 'mha-YYYY-YY').")
    period = period or years[-1]
    if period not in years:
        raise InsufficientDataError(f"No Mental Health Act file for {period}; the catalogue has {', '.join(years)}.")
    return f"mha-{period}"


def _sheet(dataset_id: str) -> str:
    ds = catalogue.get(dataset_id)
    if not ds.sheets:
        raise SchemaError(
            f"{dataset_id}: the catalogue entry names no sheet ('sheets'); name the sheet holding the main data file."
        )
    return ds.sheets[0]


def _validate(df: pd.DataFrame, dataset_id: str) -> pd.DataFrame:
    df = validate(df, SCHEMA, f"{dataset_id} ({_sheet(dataset_id)})")
    year = DATASET_ID.match(dataset_id).group(1)
    wrong = sorted(set(df["period"]) - {year})
    if wrong:
        raise SchemaError(
            f"{dataset_id}: column Year holds {wrong}, but the dataset id says {year}; "
            f"fix the catalogue entry's id or file."
        )
    return df


def read_raw(path, dataset_id: str | None = None) -> pd.DataFrame:
    """Sheet 1 as published (strings kept as text), after checking its header."""
    dataset_id = dataset_id or dataset()
    sheet = _sheet(dataset_id)
    raw = pd.read_excel(path, sheet_name=sheet, dtype={"OrgID": str, "measureSubcategory": str})
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"{dataset_id} sheet {sheet}: expected columns {missing} not found; it has {list(raw.columns)}"
        )
    return raw[RAW_COLUMNS]


def repair_labels(raw: pd.DataFrame, dataset_id: str = "mha") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Repair damaged breakdown/organisation labels by position (see the module docstring).

    Returns the repaired rows (damaged rows that cannot be repaired are dropped, with a
    ``MhaLabelWarning``) and a log of changes: ``row`` (0-based data row), ``column``,
    ``published``, ``repaired``.
    """
    df = raw.copy()
    changes = []
    bad_org = ~df["OrganisationBreakdown"].isin(list(ORG_TYPES))
    england = bad_org & (df["OrgID"] == "All prov") & (df["OrgName"] == "All providers")
    for i in df.index[england]:
        changes.append((i, "OrganisationBreakdown", df.at[i, "OrganisationBreakdown"], "All submissions"))
    df.loc[england, "OrganisationBreakdown"] = "All submissions"
    drop = set(df.index[bad_org & ~england])

    keys = df[["Measure", "measureSubcategory", "Demographic"]].fillna("")
    block_id = keys.ne(keys.shift()).any(axis=1).cumsum()
    for _, block in df.groupby(block_id, sort=False):
        demographic = block["Demographic"].iloc[0]
        order = BREAKDOWN_ORDER.get(demographic)
        if order is None:
            raise SchemaError(
                f"{dataset_id}: column Demographic has unexpected value {demographic!r}; expected {list(BREAKDOWN_ORDER)}"
            )
        labels = block["DemographicBreakdown"]
        damaged = labels.isna() | ~labels.isin(order)
        expected = None
        if demographic == "All":
            expected = pd.Series("All", index=block.index)
        else:
            is_england = block["OrganisationBreakdown"] == "All submissions"
            group = is_england.cumsum() - 1
            if is_england.iloc[0] and group.max() + 1 == len(order):
                expected = group.map(dict(enumerate(order)))
        if expected is not None and demographic == "Gender":
            damaged |= labels != expected  # gender labels in a gender block can be out of step
        if expected is not None and (labels[~damaged] != expected[~damaged]).any():
            expected = None  # intact labels contradict the sort order: do not guess
        for i in block.index[damaged]:
            if expected is None:
                drop.add(i)
            else:
                changes.append((i, "DemographicBreakdown", labels[i], expected[i]))
                df.at[i, "DemographicBreakdown"] = expected[i]
    if drop:
        warnings.warn(
            f"{dataset_id}: dropped {len(drop)} rows whose damaged labels cannot be repaired with "
            f"certainty (data rows {sorted(drop)[:10]}...)",
            MhaLabelWarning,
            stacklevel=2,
        )
    log.info("%s: repaired %d labels, dropped %d rows", dataset_id, len(changes), len(drop))
    log_df = pd.DataFrame(changes, columns=["row", "column", "published", "repaired"])
    return df.drop(index=sorted(drop)), log_df


def _parse(dataset_id: str) -> pd.DataFrame:
    raw = read_raw(fetch(dataset_id), dataset_id)
    df, changes = repair_labels(raw, dataset_id)
    org_type = df["OrganisationBreakdown"].map(ORG_TYPES)
    is_total = df["OrgID"] == "All prov"
    org_code = df["OrgID"].where(~is_total, "ALL")
    org_name = df["OrgName"].where(~is_total, "All providers")
    england = org_type == "England"
    org_code = org_code.where(~england, ENGLAND_CODE)
    org_name = org_name.where(~england, "England")
    count = df["Total_Count"].astype(float)
    status = np.select([count.isna(), england], ["suppressed", "exact"], "rounded")
    group = df["DemographicBreakdown"].map(_imd_group).where(df["Demographic"] == "IMD", df["DemographicBreakdown"])
    imd = pd.to_numeric(group.where(df["Demographic"] == "IMD"), errors="coerce").astype("Int64")
    base = pd.DataFrame(
        {
            "period": df["Year"].str.replace("/", "-", regex=False),
            "org_type": org_type,
            "org_code": org_code,
            "org_name": org_name,
            "source": df["Datasource"],
            "measure": df["Measure"],
            "subcategory": df["measureSubcategory"].astype(str),
            "breakdown": df["Demographic"].str.lower(),
            "group": group,
            "imd_decile": imd,
            "label_status": np.where(
                df.index.isin(changes.loc[changes["column"] == "DemographicBreakdown", "row"]), "repaired", "published"
            ),
            "count": count,
            "count_status": status,
        }
    )
    crude = base.assign(rate_type="crude", value=df["CrudeRate"].astype(float), lower_cl=np.nan, upper_cl=np.nan)
    has_std = df["StdRate"].notna()
    half = df["Confidence_interval"].astype(float)
    std = base[has_std].assign(
        rate_type="standardised",
        value=df.loc[has_std, "StdRate"].astype(float),
        lower_cl=(df["StdRate"] - half)[has_std],
        upper_cl=(df["StdRate"] + half)[has_std],
    )
    return _validate(pd.concat([crude, std], ignore_index=True), dataset_id)  # once, before caching


@functools.cache
def _loader(dataset_id: str):
    """The cached tidy-table loader of one year's file (one per catalogue id)."""

    def detentions_table() -> pd.DataFrame:
        return _parse(dataset_id)

    detentions_table.__name__ = detentions_table.__qualname__ = f"detentions_{dataset_id.replace('-', '_')}"
    return tidy_table(dataset_id)(detentions_table)


def detentions(rate_type: str = "crude", period: str | None = None) -> pd.DataFrame:
    """MHA, one year (default the latest): detentions, CTO uses and other measures.

    One row per published record and ``rate_type`` ("crude": every record;
    "standardised": the ethnicity rows that carry one). Columns: ``period``
    (e.g. "2023-24"), ``org_type`` (England / ICB / Sub-ICB / NHS trust / Independent
    provider), ``org_code`` (ODS; "E92000001" for England; "ALL" for the publisher's
    total over the organisations of that type, MHSDS only), ``org_name``, ``source``
    (MHSDS / ECDS / Both), ``measure`` (e.g. "All detentions", "Uses of CTOs"),
    ``subcategory`` (e.g. "Section 2"), ``breakdown`` (all / age / gender / ethnicity /
    imd), ``group`` (the breakdown label; for imd the decile "1".."10", 1 = most
    deprived), ``imd_decile``, ``label_status`` (published / repaired), ``count``,
    ``count_status`` (exact / rounded / suppressed), ``rate_type``, ``value`` (per
    100,000), ``lower_cl``, ``upper_cl`` (95%, standardised only). No population is
    given in the file. The label "All" inside a demographic is not always a total
    (for repeat detentions it is a 0 placeholder): use breakdown "all" for totals.
    """
    dataset_id = dataset(period)
    if rate_type not in ("crude", "standardised"):
        raise SchemaError(f"{dataset_id}: rate_type {rate_type!r} unknown; expected 'crude' or 'standardised'")
    catalogue.get(dataset_id)  # a read of the dataset, recorded for the incremental build on every call
    df = _loader(dataset_id)()
    return df[df["rate_type"] == rate_type].reset_index(drop=True)
