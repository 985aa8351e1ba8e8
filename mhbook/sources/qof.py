"""QOF recorded prevalence of depression and serious mental illness, and CCG deprivation.

Sources (ids in ``catalogue.yaml``; read ``shared/data/qof/PROVENANCE.md``):

* ``qof-ccg-1718``, ``qof-ccg-1819``, ``qof-ccg-1920``: NHS Digital's Quality and
  Outcomes Framework CCG workbooks, sheets ``DEP`` (depression register, patients aged
  18+, over the 18+ list) and ``MH`` (schizophrenia, bipolar disorder and other
  psychoses, all ages, over the whole list). Each year is joined to that year's CCGs:
  boundaries changed in 2018, 2019 and 2020.
* ``qof-practice-prevalence-1920`` (practice registers and list sizes, 2019-20) with
  ``ods-practices-2019-12`` (ODS ``epraccur``, December 2019: practice -> commissioning
  CCG).
* ``hocl-qof1920-*``: the House of Commons Library's *modelled* apportionment of the
  2019-20 practice registers to LSOAs, aggregated to IMD deciles, regions, LADs and
  counties. Modelled estimates, not counts.
* ``iod2019-ccg-summaries``: MHCLG English Indices of Deprivation 2019 summaries for the
  191 CCGs of 2019.

Units: ``register`` and ``list_size`` are people; ``value`` is recorded prevalence in
per cent (register / list size x 100). Registers measure *recorded* prevalence, which
depends on diagnosis and coding as well as on illness.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

#: QOF group code -> tidy indicator name (the DEP denominator is the 18+ list).
INDICATORS = {"DEP": "depression_18plus", "MH": "smi_all_ages"}
CCG_WORKBOOKS = {"2017-18": "qof-ccg-1718", "2018-19": "qof-ccg-1819", "2019-20": "qof-ccg-1920"}
#: The practice file's list type for each group (PROVENANCE: DEP 18OV, MH TOTAL).
_LIST_TYPES = {"DEP": "18OV", "MH": "TOTAL"}
_HOCL_LEVELS = {
    "imd": ("hocl-qof1920-imd", ["imd_overall"]),
    "imd_income": ("hocl-qof1920-imd-income", ["imd_income"]),
    "imd_region": ("hocl-qof1920-imd-region", ["region", "imd_overall"]),
    "region": ("hocl-qof1920-region", ["region"]),
    "county": ("hocl-qof1920-county", ["county_conurbation"]),
    "lad": ("hocl-qof1920-lad", ["lad_code", "lad_name"]),
}
_IOD_SHEETS = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Barriers": "barriers",
    "Health": "health",
    "Crime": "crime",
    "Living": "living_environment",
    "IDACI": "idaci",
    "IDAOPI": "idaopi",
}
#: IoD CCG summary headers (after the "<domain> - " prefix) -> tidy measure names.
_IOD_MEASURES = {
    "average rank": "average_rank",
    "rank of average rank": "rank_of_average_rank",
    "average score": "average_score",
    "rank of average score": "rank_of_average_score",
    "proportion of lsoas in most deprived 10% nationally": "proportion_lsoas_most_deprived_10pct",
    "rank of proportion of lsoas in most deprived 10% nationally": "rank_of_proportion_lsoas_most_deprived_10pct",
    "extent": "extent",
    "rank of extent": "rank_of_extent",
    "local concentration": "local_concentration",
    "rank of local concentration": "rank_of_local_concentration",
    "scale": "scale",
    "rank of scale": "rank_of_scale",
}

_percent = pa.Column(float, pa.Check.in_range(0, 100), nullable=False)
_count = pa.Column(float, pa.Check.ge(0))
CCG_SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.isin(list(CCG_WORKBOOKS))),
        "org_type": pa.Column(str, pa.Check.eq("CCG")),
        "org_code": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{3}$")),
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E38\d{6}$")),
        "org_name": pa.Column(str),
        "indicator": pa.Column(str, pa.Check.isin(list(INDICATORS.values()))),
        "practices": pa.Column("Int64", pa.Check.gt(0)),
        "register": _count,
        "list_size": pa.Column(float, pa.Check.gt(0)),
        "value": _percent,
    },
    unique=["period", "org_code", "indicator"],
    strict=True,
)
PRACTICE_SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.eq("2019-20")),
        "practice_code": pa.Column(str, pa.Check.str_matches(r"^[A-Z]\d{5}$")),
        "practice_name": pa.Column(str),
        "ccg_code": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{3}$")),
        "postcode": pa.Column(str, nullable=True),
        "indicator": pa.Column(str, pa.Check.isin(list(INDICATORS.values()))),
        "register": pa.Column("int64", pa.Check.ge(0)),
        "list_size": pa.Column("int64", pa.Check.ge(0)),
        "value": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
        "value_status": pa.Column(str, pa.Check.isin(["computed", "empty list", "register exceeds list"])),
    },
    unique=["practice_code", "indicator"],
    strict=True,
)
HOCL_SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.eq("2019-20")),
        "level": pa.Column(str, pa.Check.isin(list(_HOCL_LEVELS))),
        "area_code": pa.Column(str, pa.Check.str_matches(r"^E0[6-9]\d{6}$"), nullable=True),
        "area_name": pa.Column(str, nullable=True),
        "imd_decile": pa.Column("Int64", pa.Check.in_range(1, 10), nullable=True),
        "indicator": pa.Column(str, pa.Check.isin(list(INDICATORS.values()))),
        "register": pa.Column(float, pa.Check.ge(0)),
        "list_size": pa.Column(float, pa.Check.gt(0)),
        "value": _percent,
    },
    strict=True,
)
IOD_SCHEMA = pa.DataFrameSchema(
    {
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E38\d{6}$")),
        "org_name": pa.Column(str),
        "domain": pa.Column(str, pa.Check.isin(list(_IOD_SHEETS.values()))),
        "measure": pa.Column(str, pa.Check.isin(list(_IOD_MEASURES.values()))),
        "value": pa.Column(float),
    },
    unique=["ons_code", "domain", "measure"],
    strict=True,
)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check ``df`` against ``schema``; failures become one SchemaError naming ``where``."""
    return validate(df, schema, where)


def _require(found, expected, where: str) -> None:
    missing = [c for c in expected if c not in set(found)]
    if missing:
        raise SchemaError(f"{where}: expected columns {missing} not found; the file has {list(found)}")


def _norm(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


# --- CCG workbooks -----------------------------------------------------------------


def _parse_ccg_sheet(path, dataset_id: str, period: str, sheet: str) -> pd.DataFrame:
    """One QOF CCG sheet -> tidy rows for ``period`` (the workbook's own year).

    The header row is the one whose first cell names a region or CCG code; the block
    for ``period`` is found from the year labels in the rows above it (the first, i.e.
    leftmost, occurrence is the prevalence block; later ones are achievement).
    """
    where = f"{dataset_id} sheet {sheet}"
    raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    first = raw.iloc[:, 0].map(_norm)
    starts = first.index[first.isin(["region code", "ccg ods code (practice parent)"])]
    if len(starts) == 0:
        raise SchemaError(f"{where}: no header row starting 'Region code' or 'CCG ODS code (practice parent)'")
    hdr = starts[0]
    heads = [_norm(h) for h in raw.iloc[hdr]]

    def column(*names: str) -> int:
        for name in names:
            if name in heads:
                return heads.index(name)
        raise SchemaError(f"{where}: expected a column headed one of {list(names)}; headers are {heads}")

    ods = column("ccg code", "ccg ods code (practice parent)")
    ons = column("ccg geography code", "ccg ons code", "ccg ons code (practice parent)")
    name = column("ccg name", "ccg name (practice parent)")
    above = raw.iloc[max(hdr - 4, 0) : hdr]
    year_cols = [c for c in range(raw.shape[1]) if (above.iloc[:, c].map(_norm) == period).any()]
    if not year_cols:
        raise SchemaError(f"{where}: no column block labelled {period!r} above the header row")
    c = year_cols[0]
    block = heads[c : c + 4]
    expected = ["number of practices", "list size", "register", "prevalence"]
    if not all(h.startswith(e) for h, e in zip(block, expected)) or len(block) < 4:
        raise SchemaError(f"{where}: the {period} block should be headed {expected}, found {block}")
    body = raw.iloc[hdr + 1 :]
    body = body[body.iloc[:, ons].astype(str).str.startswith("E38")]
    if body.empty:
        raise SchemaError(f"{where}: no CCG rows (ONS codes starting E38) below the header")
    return pd.DataFrame(
        {
            "period": period,
            "org_type": "CCG",
            "org_code": body.iloc[:, ods].astype(str).str.strip().to_numpy(),
            "ons_code": body.iloc[:, ons].astype(str).str.strip().to_numpy(),
            "org_name": body.iloc[:, name].astype(str).str.strip().to_numpy(),
            "indicator": INDICATORS[sheet],
            "practices": pd.to_numeric(body.iloc[:, c]).astype("Int64").to_numpy(),
            "list_size": pd.to_numeric(body.iloc[:, c + 1]).astype(float).to_numpy(),
            "register": pd.to_numeric(body.iloc[:, c + 2]).astype(float).to_numpy(),
            "value": pd.to_numeric(body.iloc[:, c + 3]).astype(float).to_numpy(),
        }
    )


@tidy_table(*CCG_WORKBOOKS.values())
def _ccg_prevalence() -> pd.DataFrame:
    frames = [
        _parse_ccg_sheet(fetch(ds), ds, period, sheet) for period, ds in CCG_WORKBOOKS.items() for sheet in INDICATORS
    ]
    cols = [
        "period",
        "org_type",
        "org_code",
        "ons_code",
        "org_name",
        "indicator",
        "practices",
        "register",
        "list_size",
        "value",
    ]
    return pd.concat(frames, ignore_index=True)[cols]


def ccg_prevalence(period: str | None = None) -> pd.DataFrame:
    """QOF recorded prevalence by CCG, 2017-18 to 2019-20, from NHS Digital's workbooks.

    Columns: ``period`` ("2017-18"...), ``org_type`` ("CCG"), ``org_code`` (ODS, e.g.
    "00K"), ``ons_code`` (E38...), ``org_name``, ``indicator`` ("depression_18plus" or
    "smi_all_ages"), ``practices``, ``register``, ``list_size`` (18+ list for
    depression, whole list for SMI), ``value`` (prevalence, %). Each period uses that
    year's CCGs (2017-18: 194 with 2017 codes; 2018-19: 191; 2019-20: 135, April 2020).
    """
    df = _validate(CCG_SCHEMA, _ccg_prevalence(), "QOF CCG workbooks (qof-ccg-*)")
    if period is not None:
        if period not in CCG_WORKBOOKS:
            raise SchemaError(f"QOF CCG workbooks: period {period!r} not held; choose from {list(CCG_WORKBOOKS)}")
        df = df[df["period"] == period].reset_index(drop=True)
    return df


# --- Practice level, 2019-20 ---------------------------------------------------------

#: epraccur has no header: ODS's standard 27-column layout (0-based positions used here).
_EPRACCUR = {0: "practice_code", 1: "practice_name", 9: "postcode", 14: "ccg_code"}


@tidy_table("qof-practice-prevalence-1920", "ods-practices-2019-12")
def _practice_prevalence_1920() -> pd.DataFrame:
    where = "qof-practice-prevalence-1920 (PREVALENCE_1920.csv)"
    prev = pd.read_csv(fetch("qof-practice-prevalence-1920"), dtype={"PRACTICE_CODE": str})
    _require(prev.columns, ["PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE", "PATIENT_LIST_SIZE"], where)
    prev = prev[prev["GROUP_CODE"].isin(list(INDICATORS))]
    wrong = prev[prev["PATIENT_LIST_TYPE"] != prev["GROUP_CODE"].map(_LIST_TYPES)]
    if not wrong.empty:
        raise SchemaError(
            f"{where}: column PATIENT_LIST_TYPE expected {_LIST_TYPES} by group; "
            f"found {sorted(set(map(tuple, wrong[['GROUP_CODE', 'PATIENT_LIST_TYPE']].values)))}"
        )
    ods = pd.read_csv(fetch("ods-practices-2019-12"), header=None, dtype=str, keep_default_na=False)
    if ods.shape[1] != 27:
        raise SchemaError(
            f"ods-practices-2019-12 (epraccur): expected the 27-column ODS layout, found {ods.shape[1]} columns"
        )
    ods = ods[list(_EPRACCUR)].rename(columns=_EPRACCUR)
    ods["postcode"] = ods["postcode"].replace("", None)
    out = prev.merge(ods, left_on="PRACTICE_CODE", right_on="practice_code", how="left", validate="many_to_one")
    unmapped = out.loc[out["ccg_code"].isna(), "PRACTICE_CODE"].unique()
    if len(unmapped):
        raise SchemaError(
            f"ods-practices-2019-12: {len(unmapped)} QOF practices have no epraccur row, e.g. {list(unmapped[:5])}"
        )
    list_size = out["PATIENT_LIST_SIZE"].astype("int64")
    register = out["REGISTER"].astype("int64")
    # A register larger than its list is a publisher error (one practice in 2019-20);
    # its counts are kept, as they are in NHS Digital's CCG totals, but no prevalence.
    status = pd.Series("computed", index=out.index)
    status[list_size == 0] = "empty list"
    status[register > list_size] = "register exceeds list"
    for row in out[status == "register exceeds list"].itertuples():
        log.warning(
            "%s: practice %s %s register %s exceeds its list %s; prevalence left missing",
            where,
            row.PRACTICE_CODE,
            row.GROUP_CODE,
            row.REGISTER,
            row.PATIENT_LIST_SIZE,
        )
    return pd.DataFrame(
        {
            "period": "2019-20",
            "practice_code": out["practice_code"],
            "practice_name": out["practice_name"],
            "ccg_code": out["ccg_code"],
            "postcode": out["postcode"],
            "indicator": out["GROUP_CODE"].map(INDICATORS),
            "register": register,
            "list_size": list_size,
            "value": (100 * register / list_size).where(status == "computed").astype(float),
            "value_status": status,
        }
    ).reset_index(drop=True)


def practice_prevalence_1920() -> pd.DataFrame:
    """QOF 2019-20 registers by GP practice (6,720 practices), with the practice's CCG.

    Columns: ``period`` ("2019-20"), ``practice_code``, ``practice_name``, ``ccg_code``
    (the commissioning CCG in ODS epraccur, December 2019: the 191 CCGs of 2019-20),
    ``postcode``, ``indicator``, ``register``, ``list_size`` (18+ list for depression,
    whole list for SMI), ``value`` (prevalence, %), ``value_status`` ("computed", or why
    ``value`` is missing: "empty list", "register exceeds list" - practice Y03051's
    depression register of 442 on an 18+ list of 106, a publisher error).
    """
    return _validate(
        PRACTICE_SCHEMA, _practice_prevalence_1920(), "qof-practice-prevalence-1920 with ods-practices-2019-12"
    )


def ccg_from_practices_1920() -> pd.DataFrame:
    """CCG totals for 2019-20 summed from practices (registers and lists, then prevalence).

    Practices are grouped by their December 2019 commissioner, so CCGs merged in April
    2020 appear under their 2019 codes, and a practice that changed parent between
    December 2019 and the year end is counted under its December parent. Columns:
    ``period``, ``org_type`` ("CCG"), ``org_code``, ``indicator``, ``practices``,
    ``register``, ``list_size``, ``value`` (%).
    """
    p = practice_prevalence_1920()
    agg = p.groupby(["ccg_code", "indicator"], as_index=False).agg(
        practices=("practice_code", "nunique"), register=("register", "sum"), list_size=("list_size", "sum")
    )
    agg.insert(0, "period", "2019-20")
    agg.insert(1, "org_type", "CCG")
    agg["value"] = 100 * agg["register"] / agg["list_size"]
    return agg.rename(columns={"ccg_code": "org_code"})


# --- House of Commons Library modelled prevalence ---------------------------------


@tidy_table(*(ds for ds, _ in _HOCL_LEVELS.values()))
def _hocl_prevalence() -> pd.DataFrame:
    frames = []
    for level, (ds, keys) in _HOCL_LEVELS.items():
        raw = pd.read_csv(fetch(ds), dtype={k: str for k in keys})
        _require(raw.columns, [*keys, "group_code", "register", "list", "prevalence"], ds)
        raw = raw[raw["group_code"].isin(list(INDICATORS))]
        # Welsh rows cover only patients of English practices (PROVENANCE), so drop them.
        if "lad_code" in keys:
            raw = raw[raw["lad_code"].str.startswith("E")]
        for key in ("region", "imd_overall", "imd_income"):
            if key in keys:
                raw = raw[raw[key] != "Wales"]
        if "county_conurbation" in keys:
            raw = raw[~raw["county_conurbation"].str.contains("Wales")]
        decile_col = next((k for k in keys if k.startswith("imd")), None)
        name_col = next((k for k in keys if k in ("region", "county_conurbation", "lad_name")), None)
        frames.append(
            pd.DataFrame(
                {
                    "period": "2019-20",
                    "level": level,
                    "area_code": raw["lad_code"] if "lad_code" in keys else None,
                    "area_name": raw[name_col] if name_col else None,
                    # The Library's deciles are national IMD 2019 LSOA deciles, 1 = most deprived
                    # (MHCLG's convention; PROVENANCE), so no reversal is needed.
                    "imd_decile": pd.to_numeric(raw[decile_col]).astype("Int64") if decile_col else pd.NA,
                    "indicator": raw["group_code"].map(INDICATORS),
                    "register": raw["register"].astype(float),
                    "list_size": raw["list"].astype(float),
                    "value": 100 * raw["prevalence"].astype(float),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    for col in ("area_code", "area_name"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    df["imd_decile"] = df["imd_decile"].astype("Int64")
    return df


def hocl_prevalence(level: str) -> pd.DataFrame:
    """House of Commons Library *modelled* QOF 2019-20 prevalence at one ``level``.

    ``level`` is one of "imd" (national IMD 2019 decile of LSOA), "imd_income" (income
    domain decile), "imd_region" (decile within region), "region", "county" (county or
    conurbation) or "lad" (314 English 2019 LADs). English rows only.
    Columns: ``period``, ``level``, ``area_code`` (LAD code, else missing), ``area_name``
    (region / county / LAD name), ``imd_decile`` (1 = most deprived), ``indicator``,
    ``register``, ``list_size`` (modelled, unrounded people), ``value`` (%).
    """
    if level not in _HOCL_LEVELS:
        raise SchemaError(f"hocl-qof1920-*: level {level!r} unknown; choose from {list(_HOCL_LEVELS)}")
    df = _validate(HOCL_SCHEMA, _hocl_prevalence(), "hocl-qof1920-* (Commons Library modelled prevalence)")
    return df[df["level"] == level].reset_index(drop=True)


# --- IoD 2019 CCG summaries --------------------------------------------------------


def _iod_measure(header: str, where: str) -> str:
    text = _norm(header)
    text = re.sub(r"^.*? - ", "", text)  # drop the "<domain> - " / "IMD 2019 - " prefix
    text = re.sub(r"^(rank of )?(income|employment) scale$", r"\1scale", text)
    if text not in _IOD_MEASURES:
        raise SchemaError(f"{where}: unexpected column {header!r}; expected one of {list(_IOD_MEASURES)}")
    return _IOD_MEASURES[text]


@tidy_table("iod2019-ccg-summaries")
def _iod2019_ccg() -> pd.DataFrame:
    sheets = pd.read_excel(fetch("iod2019-ccg-summaries"), sheet_name=None)
    frames = []
    for sheet, domain in _IOD_SHEETS.items():
        where = f"iod2019-ccg-summaries sheet {sheet}"
        if sheet not in sheets:
            raise SchemaError(f"{where}: sheet missing; the workbook has {list(sheets)}")
        raw = sheets[sheet]
        keys = ["Clinical Commissioning Group Code (2019)", "Clinical Commissioning Group Name (2019)"]
        _require(raw.columns, keys, where)
        long = raw.melt(id_vars=keys, var_name="header", value_name="value")
        long["measure"] = long["header"].map(lambda h, where=where: _iod_measure(h, where))
        long["domain"] = domain
        frames.append(long.rename(columns={keys[0]: "ons_code", keys[1]: "org_name"}))
    df = pd.concat(frames, ignore_index=True)
    df["value"] = df["value"].astype(float)
    return df[["ons_code", "org_name", "domain", "measure", "value"]]


def iod2019_ccg(domain: str | None = None) -> pd.DataFrame:
    """English Indices of Deprivation 2019 summaries for the 191 CCGs of 2019 (MHCLG).

    Columns: ``ons_code`` (E38, 2019 CCG), ``org_name``, ``domain`` ("imd", "income",
    ..., "idaopi"), ``measure`` ("average_score", "average_rank", "extent", ...;
    ranks: 1 = most deprived), ``value``. 2019 CCG codes match the 2018-19 QOF
    workbook fully but only 117 of the 135 CCGs of 2019-20.
    """
    df = _validate(IOD_SCHEMA, _iod2019_ccg(), "iod2019-ccg-summaries (IMD_CCG_2019.xlsx)")
    if domain is not None:
        if domain not in _IOD_SHEETS.values():
            raise SchemaError(
                f"iod2019-ccg-summaries: domain {domain!r} unknown; choose from {list(_IOD_SHEETS.values())}"
            )
        df = df[df["domain"] == domain].reset_index(drop=True)
    return df
