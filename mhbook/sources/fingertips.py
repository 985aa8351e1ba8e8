"""OHID Fingertips indicator extracts, in one tidy indicator table.

Source: Office for Health Improvement and Disparities (OHID, DHSC; formerly Public Health
England), Fingertips public health profiles, Open Government Licence v3.0. No extract came
from the live API: each file is a copy committed to a public repository (see the
catalogue and ``shared/data/fingertips/PROVENANCE.md``). They come in four shapes, each
read by one function here:

* the standard Fingertips CSV export (children and young people's mental health profile
  and suicide prevention profile, one file per region: ``ft-cypmh-*``, ``ft-suicide-*``);
* Trafford Data Lab's tidy reformat (``ft-depression-qof-18plus``, ``ft-self-harm-*``,
  ``ft-smi-excess-mortality``, ``ft-children-low-income``): values rounded to 1 dp, no CIs,
  counts or denominators; its ``unit`` column holds the sex and ``measure`` the unit;
* the FingertipsNext development sample (``ft-next-sample-imd-lowincome-perinatal``): a
  few areas only; its CI level is not stated, so its CIs are not carried;
* single-indicator files: CMD prevalence 16+ (``ft-cmd-prevalence-16plus``) and IMD score
  by GP practice (``ft-imd-score-gp-practice``).

Units: ``value`` is in the published unit named by ``unit`` ("%", "per 100,000",
"per 10,000", "ratio (%)" for the SMI excess-mortality indirectly standardised ratio,
"number", "score"). The CMD prevalence file holds proportions (0-1); they are multiplied
by 100 and published here as %.

Gaps that are flagged, not hidden (``value_note`` says why, ``value`` is NaN):
* the CYP mental health profile's London file is missing from the snapshot, so each CYP
  indicator gets a placeholder row for London and its boroughs;
* County & UA rows of children in low-income families are aggregated from districts only
  where the extract allows (see ``county_ua_from_districts``).

The MHCLG IoD LA summaries (``iod2019-lad-summaries-long``, ``iod2015-...``) are not
Fingertips-shaped (domains × rank/score columns) and are not read here.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mhbook import catalogue
from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.sources import lookups
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

COLUMNS = (
    "indicator_id", "indicator_name", "area_code", "area_name", "area_type", "period", "sex",
    "age", "category_type", "category", "value", "lower_cl_95", "upper_cl_95", "lower_cl_99_8",
    "upper_cl_99_8", "count", "denominator", "compared_to_england", "unit", "value_note", "source",
)  # fmt: skip
KEY = ("indicator_id", "area_type", "area_code", "period", "sex", "age", "category_type", "category")
_TEXT = [
    c
    for c in COLUMNS
    if c
    not in (
        "indicator_id",
        "value",
        "lower_cl_95",
        "upper_cl_95",
        "lower_cl_99_8",
        "upper_cl_99_8",
        "count",
        "denominator",
    )
]

# Published unit of each indicator (Fingertips metadata; the exports do not carry it).
UNITS = {
    93495: "%", 91137: "%", 91138: "%", 91139: "%", 91141: "%", 91145: "number", 91146: "number",
    91871: "%", 92315: "%", 90813: "per 100,000", 92796: "per 100,000", 41001: "per 100,000",
    91390: "per 100,000", 91393: "per 100,000", 91430: "per 100,000", 91404: "per 10,000",
    848: "%", 21001: "per 100,000", 91096: "ratio (%)", 10101: "%", 93701: "%", 94103: "%",
    93553: "score",
}  # fmt: skip

# Short names accepted by ``indicator()``.
SHORT_NAMES = {
    "cmd_prevalence": 93495, "emotional_disorders_5_16": 91137, "conduct_disorders_5_16": 91138,
    "hyperkinetic_disorders_5_16": 91139, "mental_disorders_5_16": 91141, "adhd_16_24": 91145,
    "eating_disorders_16_24": 91146, "semh_pupils": 91871, "cause_for_concern": 92315,
    "self_harm_10_24": 90813, "self_harm_10_14": 92796, "suicide_rate": 41001,
    "suicide_10_34": 91390, "suicide_35_64": 91393, "suicide_65_plus": 91430,
    "suicide_years_of_life_lost": 91404, "depression_qof": 848, "self_harm_emergency": 21001,
    "smi_excess_mortality": 91096, "children_low_income": 10101,
    "children_absolute_low_income": 93701, "perinatal_mh": 94103, "imd_score": 93553,
}  # fmt: skip

AREA_TYPES = (
    "England", "Region", "County & UA", "District & UA", "UA", "Combined authority",
    "CCG", "ICB", "NHS region", "GP practice",
)  # fmt: skip

LONDON = "E12000007"
CYP_IDS = tuple(d for d in catalogue.datasets() if d.startswith("ft-cypmh-"))
SUICIDE_IDS = tuple(d for d in catalogue.datasets() if d.startswith("ft-suicide-"))
TRAFFORD_IDS = {
    # dataset id: (indicator id, area type of its local rows, age as Fingertips labels it)
    "ft-self-harm-emergency": (21001, "District & UA", "All ages"),
    "ft-self-harm-10-24": (90813, "County & UA", "10-24 yrs"),
    "ft-smi-excess-mortality": (91096, "County & UA", None),
    "ft-children-low-income": (10101, "District & UA", "<16 yrs"),
}
DEPRESSION_ID = "ft-depression-qof-18plus"
CMD_ID = "ft-cmd-prevalence-16plus"
NEXT_ID = "ft-next-sample-imd-lowincome-perinatal"
GP_IMD_ID = "ft-imd-score-gp-practice"
LA_LOOKUP_ID = "lkp-la-all-codes"
UTLA_LOOKUP_ID = "lkp-utla-all-codes"

EXPORT_COLUMNS = (
    "IndicatorID", "IndicatorName", "ParentCode", "ParentName", "AreaCode", "AreaName",
    "AreaType", "Sex", "Age", "Category_Type", "Category", "Timeperiod", "Value",
    "Lower_CI_95.0_limit", "Upper_CI_95.0_limit", "Lower_CI_99.8_limit", "Upper_CI_99.8_limit",
    "Count", "Denominator", "Value_note", "Recent_Trend",
    "Compared_to_England_value_or_percentiles", "Compared_to_Region_value_or_percentiles",
    "Time_period_Sortable", "New_data", "Compared_to_goal",
)  # fmt: skip
TRAFFORD_COLUMNS = ("area_code", "area_name", "period", "value", "indicator", "measure", "unit", "significance")
THEMES_COLUMNS = (
    "area_code", "area_name", "area_type", "period", "indicator", "measure", "unit", "value",
    "compared_to_England", "inequality",
)  # fmt: skip
CMD_COLUMNS = ("UTLA22NM", "AreaCode", "Value")
NEXT_COLUMNS = (
    "IndicatorId", "Category", "CategoryType", "Age", "Sex", "Trend", "Denominator",
    "CategoryTypeId", "UpperCI", "Value", "Count", "AreaCode", "SexID", "AgeID", "Year",
    "LowerCI", "CategoryId",
)  # fmt: skip
GP_IMD_COLUMNS = ("IndicatorID", "Year", "AreaCode", "AreaName", "IsAreaCurrent", "Value")

# Unit of the Trafford files' ``measure`` column, as named in this table.
_MEASURE_UNITS = {
    "Percentage": "%",
    "Age standardised rate per 100,000": "per 100,000",
    "Indirectly standardised ratio": "ratio (%)",
}


SCHEMA = pa.DataFrameSchema(
    {
        "indicator_id": pa.Column("int64", pa.Check.isin(list(UNITS))),
        "indicator_name": pa.Column("category"),
        "area_code": pa.Column("category", pa.Check.str_matches(r"^[A-Z][0-9A-Z]\d{3,7}$")),
        "area_name": pa.Column("category", nullable=True),
        "area_type": pa.Column("category", pa.Check.isin(AREA_TYPES)),
        "period": pa.Column("category"),
        "sex": pa.Column("category", pa.Check.isin(["Persons", "Male", "Female"])),
        "age": pa.Column("category", nullable=True),
        "category_type": pa.Column("category", nullable=True),
        "category": pa.Column("category", nullable=True),
        "value": pa.Column(float, pa.Check.ge(0), nullable=True),
        "lower_cl_95": pa.Column(float, nullable=True),
        "upper_cl_95": pa.Column(float, nullable=True),
        "lower_cl_99_8": pa.Column(float, nullable=True),
        "upper_cl_99_8": pa.Column(float, nullable=True),
        "count": pa.Column(float, pa.Check.ge(0), nullable=True),
        "denominator": pa.Column(float, pa.Check.gt(0), nullable=True),
        "compared_to_england": pa.Column("category", nullable=True),
        "unit": pa.Column("category", pa.Check.isin(sorted(set(UNITS.values())))),
        "value_note": pa.Column("category", nullable=True),
        "source": pa.Column("category"),
    },
    checks=[
        pa.Check(
            lambda d: ~(d["lower_cl_95"] > d["value"]) & ~(d["upper_cl_95"] < d["value"]),
            error="95% CI contains the value",
        ),
        pa.Check(lambda d: (d["unit"] != "%") | ~(d["value"] > 100), error="percentages are at most 100"),
    ],
    unique=list(KEY),
    strict=True,
    ordered=True,
)


def _validate(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check ``df`` against ``SCHEMA``; one typed error naming each failing column."""
    return validate(df, SCHEMA, where)


def _read_csv(dataset_id: str, expected: tuple[str, ...]) -> pd.DataFrame:
    """Read a file as text, checking first that its header is the expected one."""
    path = fetch(dataset_id)
    # Text first, so markers like "NA" or "" are seen as published before any conversion.
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in expected if c not in df.columns]
    extra = [c for c in df.columns if c not in expected]
    if missing or extra:
        raise SchemaError(
            f"{dataset_id} ({path.name}): unexpected columns; missing {missing}, unexpected {extra}; "
            f"expected {list(expected)}"
        )
    return df


def _number(text: pd.Series, column: str, dataset_id: str) -> pd.Series:
    """Published numbers as floats; blank and "NA" are missing, anything else is an error."""
    blank = text.str.strip().isin(["", "NA"])
    num = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = num.isna() & ~blank
    if bad.any():
        raise SchemaError(
            f"{dataset_id}: column {column!r} should hold numbers; found {sorted(text[bad].unique())[:3]}"
        )
    return num.astype(float)


def _blank_to_na(text: pd.Series) -> pd.Series:
    return text.where(text.str.strip() != "")


def _frame(n: int, **columns) -> pd.DataFrame:
    """A table with every column of ``COLUMNS``, missing where not given."""
    return pd.DataFrame({c: columns.get(c, np.nan) for c in COLUMNS}, index=range(n))


def _area_type_by_code(codes: pd.Series, local: str | None = None) -> pd.Series:
    """Area type from the ONS/ODS code prefix; ``local`` names the tier of LA codes."""
    prefix = codes.str[:3]
    types = pd.Series(local, index=codes.index, dtype=object)
    types[prefix.eq("E92")] = "England"
    types[prefix.eq("E12")] = "Region"
    types[prefix.eq("E47")] = "Combined authority"
    types[prefix.eq("E38")] = "CCG"
    types[prefix.eq("E54")] = "ICB"
    types[prefix.isin(["E40", "E39"])] = "NHS region"
    types[~codes.str.startswith("E")] = "GP practice"
    return types


def read_export(dataset_id: str) -> pd.DataFrame:
    """One standard Fingertips CSV export (the CYP mental health and suicide prevention
    profile files), with all the export's CIs, counts and denominators."""
    raw = _read_csv(dataset_id, EXPORT_COLUMNS)
    num = {c: _number(raw[c], c, dataset_id) for c in EXPORT_COLUMNS[12:19]}
    return _frame(
        len(raw),
        indicator_id=raw["IndicatorID"].astype(int),
        indicator_name=raw["IndicatorName"],
        area_code=raw["AreaCode"],
        area_name=raw["AreaName"],
        area_type=raw["AreaType"],
        period=raw["Timeperiod"],
        sex=raw["Sex"],
        age=_blank_to_na(raw["Age"]),
        category_type=_blank_to_na(raw["Category_Type"]),
        category=_blank_to_na(raw["Category"]),
        value=num["Value"],
        lower_cl_95=num["Lower_CI_95.0_limit"],
        upper_cl_95=num["Upper_CI_95.0_limit"],
        lower_cl_99_8=num["Lower_CI_99.8_limit"],
        upper_cl_99_8=num["Upper_CI_99.8_limit"],
        count=num["Count"],
        denominator=num["Denominator"],
        compared_to_england=_blank_to_na(raw["Compared_to_England_value_or_percentiles"]),
        value_note=_blank_to_na(raw["Value_note"]),
        source=dataset_id,
    )


def read_trafford(dataset_id: str) -> pd.DataFrame:
    """One Trafford Data Lab dashboard file (values rounded to 1 dp; no CIs or counts).

    Its ``unit`` column holds the sex and ``measure`` the unit; the indicator id, the tier
    of its local areas and the age band come from ``TRAFFORD_IDS``.
    """
    indicator_id, local_type, age = TRAFFORD_IDS[dataset_id]
    raw = _read_csv(dataset_id, TRAFFORD_COLUMNS)
    _check_known(raw["measure"], _MEASURE_UNITS, "measure", dataset_id)
    return _frame(
        len(raw),
        indicator_id=indicator_id,
        indicator_name=raw["indicator"],
        area_code=raw["area_code"],
        area_name=raw["area_name"],
        area_type=_area_type_by_code(raw["area_code"], local_type),
        period=raw["period"],
        sex=raw["unit"],
        age=age,
        value=_number(raw["value"], "value", dataset_id),
        compared_to_england=raw["significance"],
        source=dataset_id,
    )


def _check_known(values: pd.Series, known, column: str, dataset_id: str) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SchemaError(f"{dataset_id}: column {column!r} has unexpected values {unknown}; expected {sorted(known)}")


def read_depression() -> pd.DataFrame:
    """Depression: QOF recorded prevalence, 18+ (848), % of registered patients, District &
    UA on 2023 codes (earlier years re-mapped by Trafford Data Lab), rounded to 1 dp."""
    raw = _read_csv(DEPRESSION_ID, THEMES_COLUMNS)
    area_types = {"Country": "England", "District": "District & UA", "UA": "District & UA"}
    _check_known(raw["area_type"], area_types, "area_type", DEPRESSION_ID)
    _check_known(raw["measure"], _MEASURE_UNITS, "measure", DEPRESSION_ID)
    return _frame(
        len(raw),
        indicator_id=848,
        indicator_name=raw["indicator"],
        area_code=raw["area_code"],
        area_name=raw["area_name"],
        area_type=raw["area_type"].map(area_types),
        period=raw["period"],
        sex=raw["unit"],
        age="18+ yrs",
        value=_number(raw["value"], "value", DEPRESSION_ID),
        compared_to_england=raw["compared_to_England"],
        source=DEPRESSION_ID,
    )


# Caveats of the CMD file's re-mapping to 2022 County & UAs (prevalence/PROVENANCE.md).
_CMD_NOTES = {
    "E06000058": "Unweighted mean of Bournemouth, Christchurch and Poole (re-mapped by uploader)",
    "E06000060": "Old Buckinghamshire county value (re-mapped by uploader)",
    "E06000059": "Old Dorset county value, including Christchurch (re-mapped by uploader)",
    "E06000061": "Old Northamptonshire county value, duplicated (re-mapped by uploader)",
    "E06000062": "Old Northamptonshire county value, duplicated (re-mapped by uploader)",
}


def read_cmd_prevalence() -> pd.DataFrame:
    """Estimated prevalence of common mental disorders, % aged 16+ (93495), 2017, County &
    UA on Dec-2022 codes. Model-based (APMS 2014 rates applied to local populations).

    The file holds proportions (0-1); they are multiplied by 100 so ``value`` is in %.
    No England value, CIs, counts or denominators are in the file.
    """
    raw = _read_csv(CMD_ID, CMD_COLUMNS)
    proportion = _number(raw["Value"], "Value", CMD_ID)
    if (proportion > 1).any():
        raise SchemaError(f"{CMD_ID}: column 'Value' should hold proportions (0-1); found {proportion.max()}")
    return _frame(
        len(raw),
        indicator_id=93495,
        indicator_name="Estimated prevalence of common mental disorders: % of population aged 16 & over",
        area_code=raw["AreaCode"],
        area_name=raw["UTLA22NM"],
        area_type="County & UA",
        period="2017",
        sex="Persons",
        age="16+ yrs",
        value=100 * proportion,
        value_note=raw["AreaCode"].map(_CMD_NOTES),
        source=CMD_ID,
    )


_NEXT_NAMES = {
    93553: "Deprivation score (IMD 2019)",
    93701: "Children in absolute low income families (under 16s)",
    94103: "Estimated prevalence of perinatal mental health problems: % of women aged 15-55",
}


def read_next_sample() -> pd.DataFrame:
    """The FingertipsNext development sample (93553, 93701, 94103): a few areas only.

    Exact repeated rows are dropped. CIs are not carried: the sample does not say their
    level. Areas have no names; their type comes from the code.
    """
    raw = _read_csv(NEXT_ID, NEXT_COLUMNS).drop_duplicates()
    ids = raw["IndicatorId"].astype(int)
    _check_known(ids, _NEXT_NAMES, "IndicatorId", NEXT_ID)
    prefix = raw["AreaCode"].str[:3]
    local = np.select([prefix.eq("E07"), prefix.eq("E10")], ["District & UA", "County & UA"], "UA")
    return _frame(
        len(raw),
        indicator_id=ids.to_numpy(),
        indicator_name=ids.map(_NEXT_NAMES).to_numpy(),
        area_code=raw["AreaCode"].to_numpy(),
        area_type=_area_type_by_code(raw["AreaCode"], None).fillna(pd.Series(local, index=raw.index)).to_numpy(),
        period=raw["Year"].to_numpy(),
        sex=raw["Sex"].to_numpy(),
        age=raw["Age"].to_numpy(),
        # The sample quotes its category type, e.g. "District & UA deprivation deciles ...".
        category_type=_blank_to_na(raw["CategoryType"].str.strip('"')).to_numpy(),
        category=_blank_to_na(raw["Category"]).to_numpy(),
        value=_number(raw["Value"], "Value", NEXT_ID).to_numpy(),
        count=_number(raw["Count"], "Count", NEXT_ID).to_numpy(),
        denominator=_number(raw["Denominator"], "Denominator", NEXT_ID).to_numpy(),
        value_note="FingertipsNext development sample (not national coverage)",
        source=NEXT_ID,
    )


def read_gp_imd() -> pd.DataFrame:
    """IMD score (93553) by GP practice for IMD 2010, 2015 and 2019 (``period`` is the IMD
    edition year), including closed practices."""
    raw = _read_csv(GP_IMD_ID, GP_IMD_COLUMNS)
    return _frame(
        len(raw),
        indicator_id=raw["IndicatorID"].astype(int),
        indicator_name="Deprivation score (IMD)",
        area_code=raw["AreaCode"],
        area_name=raw["AreaName"],
        area_type="GP practice",
        period=raw["Year"],
        sex="Persons",
        age="All ages",
        value=_number(raw["Value"], "Value", GP_IMD_ID),
        value_note=np.where(raw["IsAreaCurrent"] == "0", "Practice no longer current", None),
        source=GP_IMD_ID,
    )


def county_ua_from_districts(districts: pd.DataFrame) -> pd.DataFrame:
    """County & UA rows built from District & UA rows of the same indicators.

    Each district code (any vintage since 2011) is mapped to its current County & UA with
    ``lkp-la-all-codes``. For each indicator, period, sex, age and category:

    * a County & UA whose only district carries the same code (a unitary authority) takes
      the district's row unchanged;
    * otherwise, when every district of that County & UA present in that period has a
      count and a denominator, count and denominator are summed and ``value`` =
      100 × count / denominator (only for "%" indicators); CIs are left missing;
    * otherwise ``value`` is NaN and ``value_note`` says why. The Trafford-format extracts
      publish no counts, so for children in low-income families counties and
      reorganised unitaries (e.g. Bournemouth, Christchurch and Poole) stay missing.

    The extract is a full District & UA download, so the districts present in a period
    are taken to be all the districts that existed then.
    """
    # lookups.la_all_codes() corrects drkane's stale Barnsley/Sheffield codes (E08000038/39).
    lookup = lookups.la_all_codes().rename(
        columns={"lad_code_any": "LADCD", "utla_code": "UTLACD", "utla_name": "UTLANM"}
    )[["LADCD", "UTLACD", "UTLANM"]]
    df = districts.merge(lookup, left_on="area_code", right_on="LADCD", how="left", validate="many_to_one")
    unmapped = df["UTLACD"].isna()
    if unmapped.any():
        raise SchemaError(
            f"{LA_LOOKUP_ID}: district codes {sorted(df.loc[unmapped, 'area_code'].unique())[:5]} have no County & UA"
        )
    group = ["indicator_id", "period", "sex", "age", "category_type", "category", "UTLACD"]
    df["n"] = df.groupby(group, dropna=False)["area_code"].transform("size")
    single = (df["n"] == 1) & (df["area_code"] == df["UTLACD"])
    kept = df[single].assign(
        area_type="County & UA",
        value_note=df.loc[single, "value_note"].fillna("District value (this County & UA is one district)"),
    )
    rest = df[~single]
    complete = rest["count"].notna() & rest["denominator"].notna()
    agg = (
        rest.assign(complete=complete)
        .groupby(group, dropna=False)
        .agg(
            indicator_name=("indicator_name", "first"),
            area_name=("UTLANM", "first"),
            unit=("unit", "first"),
            source=("source", "first"),
            count=("count", "sum"),
            denominator=("denominator", "sum"),
            districts=("area_code", "size"),
            complete=("complete", "all"),
        )
    )
    agg = agg.reset_index().rename(columns={"UTLACD": "area_code"})
    ok = agg["complete"] & agg["unit"].eq("%")
    agg["value"] = np.where(ok, 100 * agg["count"] / agg["denominator"], np.nan)
    agg.loc[~ok, ["count", "denominator"]] = np.nan
    agg["value_note"] = np.where(
        ok,
        "Sum of counts and denominators of " + agg["districts"].astype(str) + " districts",
        "Not aggregated: the district extract has no count and denominator for every district",
    )
    agg["area_type"] = "County & UA"
    out = pd.concat([kept, agg], ignore_index=True)
    return out.reindex(columns=list(COLUMNS))


def _london_placeholders(cyp: pd.DataFrame, present: pd.DataFrame) -> pd.DataFrame:
    """Missing-value rows for London and its boroughs for each CYP profile indicator
    that has no London row, so the gap is visible rather than silently absent."""
    utla = pd.read_csv(fetch(UTLA_LOOKUP_ID), dtype=str, usecols=["UTLACD", "UTLANM", "RGNCD"])
    boroughs = utla[utla["RGNCD"].eq(LONDON) & utla["UTLACD"].str.startswith("E09")]
    areas = pd.concat(
        [
            pd.DataFrame({"area_code": [LONDON], "area_name": ["London region"], "area_type": ["Region"]}),
            pd.DataFrame(
                {"area_code": boroughs["UTLACD"], "area_name": boroughs["UTLANM"], "area_type": "County & UA"}
            ),
        ]
    )
    series = cyp[["indicator_id", "indicator_name", "period", "sex", "age", "unit"]].drop_duplicates()
    rows = series.merge(areas, how="cross")
    have = present[["indicator_id", "area_code", "period"]].drop_duplicates()
    rows = rows.merge(have, how="left", indicator=True)
    rows = rows[rows["_merge"] == "left_only"].drop(columns="_merge")
    rows["value_note"] = "Not available: the London file of the CYP mental health profile is missing from the snapshot"
    rows["source"] = UTLA_LOOKUP_ID  # the rows are the London area list; no data file
    return rows.reindex(columns=list(COLUMNS))


def _drop_repeats(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per key, preferring earlier rows (fuller sources come first).

    England and regional rows repeat in every regional file, and self-harm 10-24 for
    2017/18 is in both the CYP profile export and the rounded Trafford file. Repeats must
    agree to the Trafford files' 1 dp rounding; otherwise the files contradict each other.
    """
    key = list(KEY)
    first = df.groupby(key, dropna=False, sort=False)["value"].transform("first")
    gap = (df["value"] - first).abs()
    if (gap > 0.05 + 1e-9).any():
        bad = df.loc[gap > 0.05 + 1e-9, ["indicator_id", "area_code", "period", "source"]].head(3)
        raise SchemaError(
            f"Fingertips extracts disagree on the same indicator, area and period: {bad.to_dict('records')}"
        )
    repeated = df.duplicated(key)
    log.info("Fingertips: dropping %d rows repeated across extracts", int(repeated.sum()))
    return df[~repeated]


_ALL_IDS = (
    *CYP_IDS, *SUICIDE_IDS, *TRAFFORD_IDS, DEPRESSION_ID, CMD_ID, NEXT_ID, GP_IMD_ID,
    LA_LOOKUP_ID, UTLA_LOOKUP_ID,
)  # fmt: skip


@tidy_table(*_ALL_IDS)
def load_indicators() -> pd.DataFrame:
    """Every Fingertips extract as one indicator table.

    One row per ``indicator_id`` × ``area_type`` × ``area_code`` × ``period`` × ``sex`` ×
    ``age`` × ``category_type`` × ``category``. Columns (``COLUMNS``): ``indicator_id``
    (Fingertips id), ``indicator_name``, ``area_code``, ``area_name``, ``area_type``
    (England, Region, County & UA, District & UA, UA, Combined authority, CCG, ICB,
    NHS region, GP practice), ``period`` (as published: "2015", "2017/18", "2015 - 17"),
    ``sex``, ``age``, ``category_type``/``category`` (inequality breakdowns; missing for
    the whole population), ``value`` (in ``unit``; CMD prevalence converted to %),
    ``lower_cl_95``, ``upper_cl_95``, ``lower_cl_99_8``, ``upper_cl_99_8``, ``count``,
    ``denominator``, ``compared_to_england`` (Fingertips' published comparison, where
    given), ``unit``, ``value_note`` (published note, or why a value is missing or how it
    was made), ``source`` (dataset id).

    Area codes are those of each file's geography (pre-2019 County & UA for the profile
    exports, Dec-2022 for CMD prevalence, 2023 District & UA for QOF depression). County
    & UA rows of children in low-income families are derived by
    ``county_ua_from_districts``. London rows of the CYP profile indicators are present
    with NaN values and a note, because that file is missing (their ``source`` is
    ``lkp-utla-all-codes``, where the London area list comes from).
    """
    exports = [read_export(d) for d in (*CYP_IDS, *SUICIDE_IDS)]
    trafford = [read_trafford(d) for d in TRAFFORD_IDS]
    # Order matters: where extracts overlap, the earlier (fuller) one is kept.
    parts = [*exports, read_depression(), *trafford, read_cmd_prevalence(), read_gp_imd(), read_next_sample()]
    df = pd.concat(parts, ignore_index=True)
    df["unit"] = df["indicator_id"].map(UNITS)
    unknown = sorted(set(df.loc[df["unit"].isna(), "indicator_id"]))
    if unknown:
        raise SchemaError(f"Fingertips: no unit known for indicator ids {unknown}; add them to fingertips.UNITS")
    df = _drop_repeats(df)
    low_income = df[(df["indicator_id"] == 10101) & (df["area_type"] == "District & UA")]
    cyp = pd.concat([e for e in exports if e["source"].iloc[0] in CYP_IDS])
    cyp["unit"] = cyp["indicator_id"].map(UNITS)
    df = pd.concat([df, county_ua_from_districts(low_income), _london_placeholders(cyp, df)], ignore_index=True)
    df["indicator_id"] = df["indicator_id"].astype("int64")
    for col in _TEXT:
        df[col] = df[col].astype("category")
    return _validate(df.reset_index(drop=True), "Fingertips extracts")


def indicator(which: int | str, area_type: str | None = None, **filters) -> pd.DataFrame:
    """Rows of one indicator, by Fingertips id (e.g. 91137) or short name (``SHORT_NAMES``,
    e.g. "emotional_disorders_5_16"), optionally for one ``area_type`` and further
    column filters (e.g. ``period="2015"``, ``sex="Male"``). Unused categories are removed.
    """
    if isinstance(which, str):
        if which not in SHORT_NAMES:
            raise ValueError(f"Unknown Fingertips indicator name {which!r}; expected one of {sorted(SHORT_NAMES)}")
        which = SHORT_NAMES[which]
    df = load_indicators()
    if which not in set(df["indicator_id"]):
        raise ValueError(f"Fingertips indicator {which} is not in the extracts; ids: {sorted(set(df['indicator_id']))}")
    mask = df["indicator_id"] == which
    for col, wanted in {"area_type": area_type, **filters}.items():
        if wanted is None:
            continue
        if col not in df:
            raise ValueError(f"No column {col!r} to filter on; columns: {list(COLUMNS)}")
        mask &= df[col] == wanted
    out = df[mask].reset_index(drop=True)
    for col in out.select_dtypes("category"):
        out[col] = out[col].cat.remove_unused_categories()
    return out
