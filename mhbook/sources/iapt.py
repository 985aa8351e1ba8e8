"""NHS Talking Therapies for anxiety and depression (formerly IAPT): annual measures.

Source: NHS Digital / NHS England annual reports "Psychological Therapies: Annual report
on the use of IAPT services" (2012-13 to 2021-22) and "NHS Talking Therapies for anxiety
and depression annual reports" (2022-23 on), as re-published without changing values by
the Bennett Institute's ``nhstt`` package (catalogue ids ``iapt-annual`` for 2017-18 to
2024-25 and ``iapt-annual-legacy`` for the England-only years 2012-13 to 2016-17).
Open Government Licence v3.0.

Units: ``count`` is a number of referrals (a count of people's referrals, not of people);
``percentage`` is the published percentage, 0-100. Below England level NHS rounds counts to
the nearest 5 and replaces small numbers by ``*``; both files keep those markers, and this
module turns them into missing values with a status saying why (never zero).

Method notes:
* IMD deciles are renumbered so that **1 = most deprived**. NHS labels them the other way
  round ("01 Least deprived" is IMD decile 10, "10 Most deprived" is decile 1; the nhstt
  metadata file ``iapt-meta-variables`` says ``IndicesOfDeprivationDecile = 10`` for
  "01 Least deprived"). The published label stays in ``group_original``.
* The recovery rate as published is ``recovery / at_caseness``. NHS appears to truncate,
  not round, its percentages (recomputing can give 0.1 point more), so the published
  ``percentage`` is kept rather than recomputed.
* Referrals received and finished treatment count different cohorts; their ratio is not a
  conversion rate. "Entered treatment" is not in these files.
* In 2023-24 provider TAF90 is published twice under two names with identical values; the
  repeat is dropped (any repeat with *different* values is an error).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mhbook.errors import InsufficientDataError, SchemaError
from mhbook.fetch import fetch
from mhbook.sources._schema import check_columns, validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

MAIN_ID = "iapt-annual"
LEGACY_ID = "iapt-annual-legacy"

RAW_COLUMNS = (
    "reporting_period", "start_date", "end_date", "org_type", "org_code", "org_name",
    "variable_type", "variable_a", "variable_b", "measure_name", "measure_statistic", "value",
)  # fmt: skip

MEASURES = (
    "referrals_received", "finished_course_treatment", "at_caseness", "not_at_caseness",
    "improvement", "no_reliable_change", "deterioration", "recovery", "reliable_recovery",
)  # fmt: skip
# NHS publishes no percentage for these four, so a missing percentage is "not_applicable".
COUNT_ONLY = ("referrals_received", "finished_course_treatment", "at_caseness", "not_at_caseness")

ORG_TYPES = ("England", "Commissioning Region", "STP", "CCG", "ICB", "Provider")
STATUSES = ("published", "suppressed", "not_applicable", "missing")
IMD_BREAKDOWN = "Indices of Deprivation Decile"
IMD_UNKNOWN_LABELS = ("Not stated/Not known/Invalid", "Unknown IMD")

COLUMNS = (
    "period", "start_date", "end_date", "org_type", "org_code", "org_name", "breakdown",
    "group", "subgroup", "measure", "count", "count_status", "percentage",
    "percentage_status", "imd_decile", "group_original", "source",
)  # fmt: skip
KEY = ("period", "org_type", "org_code", "breakdown", "group", "subgroup", "measure")


def _status_is_published(df: pd.DataFrame) -> pd.Series:
    """A value is present exactly when its status is "published"."""
    return (df["count"].notna() == (df["count_status"] == "published")) & (
        df["percentage"].notna() == (df["percentage_status"] == "published")
    )


SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column("category", pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "start_date": pa.Column("datetime64[ns]"),
        "end_date": pa.Column("datetime64[ns]"),
        "org_type": pa.Column("category", pa.Check.isin(ORG_TYPES)),
        "org_code": pa.Column("category"),
        "org_name": pa.Column("category"),
        "breakdown": pa.Column("category"),
        "group": pa.Column("category", nullable=True),
        "subgroup": pa.Column("category", nullable=True),
        "measure": pa.Column("category", pa.Check.isin(MEASURES)),
        "count": pa.Column(float, pa.Check.ge(0), nullable=True),
        "count_status": pa.Column("category", pa.Check.isin(STATUSES)),
        "percentage": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "percentage_status": pa.Column("category", pa.Check.isin(STATUSES)),
        "imd_decile": pa.Column("Int64", pa.Check.in_range(1, 10), nullable=True),
        "group_original": pa.Column("category", nullable=True),
        "source": pa.Column("category", pa.Check.isin((MAIN_ID, LEGACY_ID))),
    },
    checks=[pa.Check(_status_is_published, error="value present iff status is 'published'")],
    unique=list(KEY),
    strict=True,
    ordered=True,
)


def _validate(df: pd.DataFrame, where: str) -> pd.DataFrame:
    return validate(df, SCHEMA, where)


def _check_raw_columns(names: list[str], where: str) -> None:
    check_columns(names, RAW_COLUMNS, where, exact=True)


def _deprivation_labels(labels: pd.Index) -> tuple[np.ndarray, list]:
    """IMD decile (1 = most deprived) and readable group label for each NHS IMD label.

    NHS's label ``NN <...> deprived`` counts from the least deprived, so decile = 11 - NN.
    """
    number = pd.to_numeric(pd.Series(labels, dtype=object).str.extract(r"^(\d{2}) \w+ deprived$")[0])
    decile = (11 - number).to_numpy()
    unknown = labels.isin(IMD_UNKNOWN_LABELS)
    bad = np.isnan(decile) & ~unknown
    if bad.any():
        raise SchemaError(
            f"column 'variable_a': unexpected IMD labels {list(labels[bad])}; expected "
            f"'01 Least deprived' ... '10 Most deprived' or one of {IMD_UNKNOWN_LABELS}"
        )
    extremes = {1: " (most deprived)", 10: " (least deprived)"}
    readable = ["Not known" if np.isnan(d) else f"IMD decile {int(d)}{extremes.get(int(d), '')}" for d in decile]
    return decile, readable


def _label_groups(breakdown: pd.Series, label: pd.Series) -> tuple[pd.Categorical, pd.Series]:
    """``group`` and ``imd_decile`` for every row, worked out once per distinct
    (breakdown, label) pair and spread back by code, so millions of rows cost one pass."""
    combo = breakdown.cat.codes.to_numpy(np.int64) * (len(label.cat.categories) + 1) + (
        label.cat.codes.to_numpy(np.int64) + 1
    )
    uniq, inverse = np.unique(combo, return_inverse=True)
    first = pd.Series(np.arange(len(combo))).groupby(inverse).first().to_numpy()
    pairs = pd.DataFrame({"breakdown": breakdown.to_numpy()[first], "label": label.to_numpy()[first]})
    pairs["group"] = pairs["label"]
    pairs.loc[pairs["breakdown"] == "Total", "group"] = "Total"
    pairs["decile"] = np.nan
    imd = (pairs["breakdown"] == IMD_BREAKDOWN).to_numpy()
    if imd.any():
        decile, readable = _deprivation_labels(pd.Index(pairs.loc[imd, "label"]))
        pairs.loc[imd, "decile"] = decile
        pairs.loc[imd, "group"] = readable
    group = pd.Categorical(pairs["group"].to_numpy(dtype=object)[inverse])
    return group, pd.array(pairs["decile"].to_numpy()[inverse], dtype="Int64")


def _null_to_na(values: pd.Series) -> pd.Series:
    """The published text NULL ("does not apply") as a missing value."""
    return values.cat.remove_categories([c for c in ["NULL"] if c in values.cat.categories])


def _finish(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Shared last steps: group labels, IMD deciles, types and column order."""
    group_original = _null_to_na(df["variable_a"])
    group, decile = _label_groups(df["variable_type"], group_original)
    out = pd.DataFrame(
        {
            "period": df["reporting_period"],
            "start_date": pd.to_datetime(df["start_date"]).astype("datetime64[ns]"),
            "end_date": pd.to_datetime(df["end_date"]).astype("datetime64[ns]"),
            "org_type": df["org_type"],
            "org_code": df["org_code"],
            "org_name": df["org_name"],
            "breakdown": df["variable_type"],
            "group": group,
            "subgroup": _null_to_na(df["variable_b"]),
            "measure": df["measure_name"],
            "count": df["value"],
            "count_status": df["status"],
            "percentage": df["percentage"],
            "percentage_status": df["percentage_status"],
            "imd_decile": decile,
            "group_original": group_original,
            "source": pd.Categorical([source] * len(df)),
        }
    )
    return out.reset_index(drop=True)


def _status(text: pa_arrow.ChunkedArray) -> pd.Categorical:
    """Status of each published value text: ``*`` suppressed, NULL not applicable."""
    codes = np.select(
        [
            pc.fill_null(pc.equal(text, "*"), False).to_numpy(zero_copy_only=False),
            pc.fill_null(pc.equal(text, "NULL"), False).to_numpy(zero_copy_only=False),
            pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True).to_numpy(zero_copy_only=False),
        ],
        [STATUSES.index("suppressed"), STATUSES.index("not_applicable"), STATUSES.index("missing")],
        default=STATUSES.index("published"),
    )
    return pd.Categorical.from_codes(codes, STATUSES)


def _to_float(text: pa_arrow.ChunkedArray, where: str) -> np.ndarray:
    markers = pa_arrow.array(["*", "NULL", ""])
    blanked = pc.if_else(pc.is_in(text, value_set=markers), pa_arrow.scalar(None, pa_arrow.string()), text)
    try:
        return pc.cast(blanked, pa_arrow.float64()).to_numpy(zero_copy_only=False)
    except pa_arrow.ArrowInvalid as err:
        raise SchemaError(
            f"{where}: column 'value' holds text that is neither a number nor '*'/'NULL' ({err})"
        ) from None


def _widen(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """One row per key with its count and percentage side by side.

    The file has a ``count`` row and, for five measures, a ``percentage`` row per key.
    Keys are numbered once (categorical codes make this fast) and percentages are
    attached to count rows by that number, avoiding a multi-column merge of 4.5M rows.
    """
    stats = set(df["measure_statistic"].cat.categories)
    if not stats <= {"count", "percentage"}:
        raise SchemaError(
            f"{where}: column 'measure_statistic' must be 'count' or 'percentage'; "
            f"found {sorted(stats - {'count', 'percentage'})}"
        )
    keys = ["reporting_period", "org_type", "org_code", "variable_type", "variable_a", "variable_b", "measure_name"]
    gid = df.groupby(keys, observed=True, sort=False, dropna=False).ngroup().to_numpy()
    is_pct = (df["measure_statistic"] == "percentage").to_numpy()
    keyed = pd.DataFrame({"key": gid * 2 + is_pct, "value": df["value"].to_numpy(), "status": df["status"].cat.codes})
    repeated = keyed.duplicated("key").to_numpy()
    if repeated.any():
        same = keyed.duplicated().to_numpy()
        if (repeated & ~same).any():
            bad = df.loc[repeated & ~same, ["reporting_period", "org_code", "variable_type"]].head(3)
            raise SchemaError(
                f"{where}: the same key is published twice with different values, e.g. "
                f"{bad.astype(str).to_dict('records')}"
            )
        log.info("%s: dropping %d repeated rows (same key, same value)", where, int(repeated.sum()))
    keep = ~repeated
    pct = df[keep & is_pct]
    count_gid, pct_gid = gid[keep & ~is_pct], gid[keep & is_pct]
    orphan = ~np.isin(pct_gid, count_gid)
    if orphan.any():
        raise SchemaError(f"{where}: {int(orphan.sum())} percentage rows have no matching count row")
    pos = pd.Series(np.arange(len(pct_gid)), index=pct_gid).reindex(count_gid).to_numpy()
    has = ~np.isnan(pos)
    idx = np.where(has, pos, 0).astype(np.int64)
    out = df[keep & ~is_pct].drop(columns=["measure_statistic"])
    out["percentage"] = np.where(has, pct["value"].to_numpy()[idx], np.nan)
    # A measure that never has a percentage is "not_applicable"; one whose row is absent, "missing".
    absent = np.where(
        out["measure_name"].isin(COUNT_ONLY).to_numpy(),
        STATUSES.index("not_applicable"),
        STATUSES.index("missing"),
    )
    codes = np.where(has, pct["status"].cat.codes.to_numpy()[idx], absent)
    out["percentage_status"] = pd.Categorical.from_codes(codes, STATUSES)
    return out


def _read_main() -> pd.DataFrame:
    path = fetch(MAIN_ID)
    where = f"{MAIN_ID} ({path.name})"
    _check_raw_columns(pq.read_schema(path).names, where)
    text_cols = [c for c in RAW_COLUMNS if c not in ("start_date", "end_date", "value")]
    table = pq.read_table(path, read_dictionary=text_cols)
    value = table["value"]
    df = table.drop_columns(["value"]).to_pandas()
    df["value"] = _to_float(value, where)
    df["status"] = _status(value)
    return _finish(_widen(df, where), MAIN_ID)


def _read_legacy() -> pd.DataFrame:
    path = fetch(LEGACY_ID)
    where = f"{LEGACY_ID} ({path.name})"
    _check_raw_columns(pq.read_schema(path).names, where)
    df = pd.read_parquet(path)
    # The legacy file writes "not applicable" as a true null rather than the text NULL.
    df["variable_a"] = df["variable_a"].fillna("NULL")
    df["variable_b"] = df["variable_b"].fillna("NULL")
    text_cols = [c for c in RAW_COLUMNS if c not in ("start_date", "end_date", "value")]
    df[text_cols] = df[text_cols].astype("category")
    # This file already holds floats; NaN there cannot tell suppression from absence.
    codes = np.where(df["value"].notna(), STATUSES.index("published"), STATUSES.index("missing"))
    df["status"] = pd.Categorical.from_codes(codes, STATUSES)
    return _finish(_widen(df, where), LEGACY_ID)


def _union_categories(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate while keeping categoricals (plain concat would fall back to text)."""
    out = {}
    for col in frames[0].columns:
        if isinstance(frames[0][col].dtype, pd.CategoricalDtype):
            out[col] = pd.api.types.union_categoricals([f[col] for f in frames], ignore_order=True)
        else:
            out[col] = np.concatenate([f[col].to_numpy() for f in frames])
    df = pd.DataFrame(out)
    df["imd_decile"] = df["imd_decile"].astype("Int64")
    df["period"] = df["period"].cat.reorder_categories(sorted(df["period"].cat.categories), ordered=True)
    return df


@tidy_table(MAIN_ID, LEGACY_ID)
def load_measures() -> pd.DataFrame:
    """All annual measures, 2012-13 to 2024-25, one row per period × organisation ×
    breakdown × group × subgroup × measure.

    Columns: ``period`` (financial year "2018-19", ordered categorical), ``start_date``,
    ``end_date``, ``org_type`` (England, Commissioning Region, STP, CCG, ICB, Provider),
    ``org_code`` ("All" for England), ``org_name``, ``breakdown`` (NHS ``variable_type``,
    e.g. "Total", "Indices of Deprivation Decile", "Ethnic Group"), ``group`` (NHS
    ``variable_a``; "Total" on Total rows; IMD rows relabelled "IMD decile 1 (most
    deprived)" ... "IMD decile 10 (least deprived)" and "Not known"; missing on the
    2013-14 legacy ethnicity rows, which name only the detailed group), ``subgroup``
    (``variable_b``, missing where NHS wrote NULL; for Ethnic Group "All" is the broad
    group's total: never sum both levels), ``measure`` (see ``MEASURES``), ``count``
    (float; NaN unless published), ``count_status`` ("published", "suppressed" for ``*``,
    "not_applicable" for NULL, "missing" for blank or absent), ``percentage`` (published
    %, 0-100), ``percentage_status`` (as ``count_status``; "not_applicable" for the four
    measures NHS gives no percentage), ``imd_decile`` (Int64, 1 = most deprived; NA off the
    IMD breakdown and for unknown IMD), ``group_original`` (the published ``variable_a``),
    ``source`` (dataset id).

    2012-13 to 2016-17 (``iapt-annual-legacy``) are England only; they have IMD rows in
    2015-16 and 2016-17 only, outcomes only (no referrals by IMD), no percentages in
    2012-13, and their missing values cannot be told apart from suppressed ones
    ("missing"). Parsed once per file hash and cached as Parquet; the schema is checked
    when the table is built, so a cached table is one that passed.
    """
    df = _union_categories([_read_main(), _read_legacy()])
    return _validate(df, f"{MAIN_ID}+{LEGACY_ID}")


def periods() -> list[str]:
    """Financial years present, oldest first ("2012-13" ... "2024-25")."""
    return [str(p) for p in load_measures()["period"].cat.categories]


def organisations(period: str | None = None, org_type: str | None = None) -> pd.DataFrame:
    """Organisations published: columns ``period``, ``org_type``, ``org_code``, ``org_name``.

    Codes are those of each year (CCGs merged in 2020-21, ICBs replaced CCGs and STPs in
    2022-23), so filter by ``period`` before joining to a geography.
    """
    df = _select(load_measures(), period=period, org_type=org_type)
    cols = ["period", "org_type", "org_code", "org_name"]
    orgs = df[cols].drop_duplicates(["period", "org_type", "org_code"])
    return orgs.sort_values(cols[:3]).reset_index(drop=True).astype({c: str for c in cols})


def _select(
    df: pd.DataFrame,
    period: str | list[str] | None = None,
    org_type: str | None = None,
    org_code: str | None = None,
    breakdown: str | None = None,
) -> pd.DataFrame:
    """Filter, checking each requested value exists so typos fail loudly."""
    mask = np.ones(len(df), dtype=bool)
    for col, wanted in (("org_type", org_type), ("breakdown", breakdown), ("period", period), ("org_code", org_code)):
        if wanted is None:
            continue
        wanted_list = [wanted] if isinstance(wanted, str) else list(wanted)
        known = set(df[col].cat.categories)
        unknown = [w for w in wanted_list if w not in known]
        if unknown:
            choices = sorted(known) if len(known) <= 30 else f"{len(known)} values"
            raise ValueError(f"IAPT {col} {unknown} not found; expected one of {choices}")
        mask &= df[col].isin(wanted_list).to_numpy()
    out = df[mask]
    if out.empty:
        raise InsufficientDataError(
            f"No IAPT rows for period={period!r}, org_type={org_type!r}, org_code={org_code!r}, "
            f"breakdown={breakdown!r}; `iapt.organisations()` lists what each year has"
        )
    return out


def breakdown(
    breakdown: str,
    org_type: str = "England",
    org_code: str | None = None,
    period: str | list[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``load_measures()`` for one breakdown (e.g. "Ethnic Group") at one level.

    ``org_code`` None means every organisation of ``org_type``. Long format, same columns
    as ``load_measures()``, unused categories removed.
    """
    df = _select(load_measures(), period=period, org_type=org_type, org_code=org_code, breakdown=breakdown)
    return _drop_unused(df)


def _drop_unused(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True)
    for col in out.select_dtypes("category"):
        out[col] = out[col].cat.remove_unused_categories()
    return out


def by_decile(
    period: str | list[str] | None = None,
    org_type: str = "England",
    org_code: str | None = None,
    include_unknown: bool = False,
) -> pd.DataFrame:
    """IMD-decile table, wide: one row per period × organisation × decile.

    Columns: ``period``, ``org_type``, ``org_code``, ``org_name``, ``imd_decile`` (Int64,
    1 = most deprived; NA for "not known" when ``include_unknown``), then one column per
    measure holding its count (``referrals_received``, ..., ``reliable_recovery``) and
    ``<measure>_pct`` for the five measures with a published percentage (e.g.
    ``recovery_pct``, the published recovery rate = recovery / at caseness, %). Suppressed
    counts are NaN. Legacy years (2015-16, 2016-17) have no ``referrals_received`` by IMD
    (the column is there, empty).
    """
    df = _select(load_measures(), period=period, org_type=org_type, org_code=org_code, breakdown=IMD_BREAKDOWN)
    if not include_unknown:
        df = df[df["imd_decile"].notna()]
    index = ["period", "org_type", "org_code", "org_name", "imd_decile"]
    flat = df[index + ["measure", "count", "percentage"]].astype(
        {c: str for c in ("period", "org_type", "org_code", "org_name", "measure")}
    )
    # Keys are unique (schema), so a plain unstack; pivot_table would cross every level.
    wide = flat.set_index(index + ["measure"])[["count", "percentage"]].unstack("measure")
    wide.columns = [m if stat == "count" else f"{m}_pct" for stat, m in wide.columns]
    # Fixed columns, so a year without some measure (no referrals by IMD before 2017-18)
    # still has the column, empty.
    wide = wide.reindex(columns=[*MEASURES, *(f"{m}_pct" for m in MEASURES if m not in COUNT_ONLY)])
    return wide.reset_index().sort_values(["period", "org_code", "imd_decile"]).reset_index(drop=True)
