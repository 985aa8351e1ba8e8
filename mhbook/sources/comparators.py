"""DfE children's services statistical neighbours, joined to ONS County & UA 2023 codes.

Sources (read ``shared/data/comparators/PROVENANCE.md``): ``dfe-stat-neighbours-2021``
(April 2021 model) and ``dfe-stat-neighbours-2025`` (May 2025 model) from DfE's Local
Authority Interactive Tool: for each of 158 authorities, its 10 nearest statistical
neighbours (nearest first) with a closeness label, on DfE 3-digit LA codes. DfE's
model weights child-population characteristics, so these are children's-services
comparators, not CIPFA's model.

ONS codes come from ``bnd-ctyua-2023`` (CTYUA23CD/CTYUA23NM, attributes only) by
normalised name (lower case, "&" -> "and", punctuation and the words "city of", "county of" and
"borough" dropped). One DfE name needs a manual mapping (``MANUAL_CODES``); the rows
left unmatched are abolished authorities (Cumbria, Northamptonshire and the pre-2019
Dorset, Poole and Bournemouth), kept with a missing ``ons_code`` and listed by
:func:`unmatched`.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
import pandera.pandas as pa
import pyogrio

from mhbook.errors import SchemaError, UnknownAreaError
from mhbook.fetch import fetch
from mhbook.sources._schema import validate
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

MODELS = {"2021": "dfe-stat-neighbours-2021", "2025": "dfe-stat-neighbours-2025"}
#: DfE name -> CTYUA 2023 code, where normalised names differ but the match is certain.
MANUAL_CODES = {
    "Durham": "E06000047",  # DfE's "Durham" is the unitary County Durham (DfE code 840)
}
CLOSENESS = ["Extremely close", "Very close", "Close", "Somewhat close", "Not close"]

SCHEMA = pa.DataFrameSchema(
    {
        "model": pa.Column(str, pa.Check.isin(list(MODELS))),
        "la_code": pa.Column("int64", pa.Check.in_range(200, 999)),
        "la_name": pa.Column(str),
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E(06|08|09|10)\d{6}$"), nullable=True),
        "rank": pa.Column("int64", pa.Check.in_range(1, 10)),
        "neighbour_la_code": pa.Column("int64", pa.Check.in_range(200, 999)),
        "neighbour_name": pa.Column(str),
        "neighbour_code": pa.Column(str, pa.Check.str_matches(r"^E(06|08|09|10)\d{6}$"), nullable=True),
        "closeness": pa.Column(str, pa.Check.isin(CLOSENESS)),
    },
    unique=["model", "la_code", "rank"],
    strict=True,
)


def normalise_name(name: str) -> str:
    """Name key for matching DfE to ONS names ("Bristol, City of" -> "bristol")."""
    text = str(name).lower().replace("&", " and ")
    text = re.sub(r"\b(city of|county of|borough)\b", " ", text)
    text = re.sub(r"[^a-z ]", " ", text)
    return " ".join(text.split())


def _ctyua_2023() -> dict[str, str]:
    """Normalised CTYUA 2023 name -> code, English authorities only."""
    attrs = pyogrio.read_dataframe(fetch("bnd-ctyua-2023"), read_geometry=False)
    if not {"CTYUA23CD", "CTYUA23NM"} <= set(attrs.columns):
        raise SchemaError(f"bnd-ctyua-2023: expected columns CTYUA23CD, CTYUA23NM; found {list(attrs.columns)}")
    eng = attrs[attrs["CTYUA23CD"].str.startswith("E")]
    keys = eng["CTYUA23NM"].map(normalise_name)
    if keys.duplicated().any():
        raise SchemaError(f"bnd-ctyua-2023: normalised names are not unique: {sorted(keys[keys.duplicated()])}")
    return dict(zip(keys, eng["CTYUA23CD"]))


def _read_model(model: str) -> pd.DataFrame:
    ds = MODELS[model]
    raw = pd.read_excel(fetch(ds), header=2)
    sn = [f"SN{i}" for i in range(1, 11)]
    # The ten closeness columns are all headed "SNP"; pandas reads them as SNP, SNP.1, ...
    snp = ["SNP"] + [f"SNP.{i}" for i in range(1, 10)]
    missing = [c for c in ["LA Name", "LA number", *sn, *snp] if c not in raw.columns]
    if missing:
        raise SchemaError(f"{ds}: expected columns {missing} in header row 3; found {list(raw.columns)}")
    raw = raw[raw["LA number"].notna()]
    long = []
    for rank, (code_col, label_col) in enumerate(zip(sn, snp), start=1):
        part = raw[["LA number", "LA Name", code_col, label_col]].set_axis(
            ["la_code", "la_name", "neighbour_la_code", "closeness"], axis=1
        )
        long.append(part.assign(rank=rank))
    df = pd.concat(long, ignore_index=True)
    # Authorities created after the model (Cumberland, Westmorland and Furness in 2021) have "-".
    df = df[pd.to_numeric(df["neighbour_la_code"], errors="coerce").notna()]
    df["la_code"] = df["la_code"].astype("int64")
    df["neighbour_la_code"] = df["neighbour_la_code"].astype("int64")
    df["closeness"] = df["closeness"].str.strip().str.capitalize()
    df.insert(0, "model", model)
    return df


@tidy_table(*MODELS.values(), "bnd-ctyua-2023")
def _neighbours() -> pd.DataFrame:
    lookup = _ctyua_2023()
    frames = []
    for model in MODELS:
        df = _read_model(model)
        names = df.drop_duplicates("la_code").set_index("la_code")["la_name"].str.strip()
        codes = names.map(lambda n: MANUAL_CODES.get(n) or lookup.get(normalise_name(n)))
        unknown = set(df["neighbour_la_code"]) - set(names.index)
        if unknown:
            raise SchemaError(f"{MODELS[model]}: neighbour codes {sorted(unknown)} have no row of their own")
        df["la_name"] = df["la_code"].map(names)
        df["ons_code"] = df["la_code"].map(codes)
        df["neighbour_name"] = df["neighbour_la_code"].map(names)
        df["neighbour_code"] = df["neighbour_la_code"].map(codes)
        frames.append(df)
    cols = [
        "model",
        "la_code",
        "la_name",
        "ons_code",
        "rank",
        "neighbour_la_code",
        "neighbour_name",
        "neighbour_code",
        "closeness",
    ]
    out = pd.concat(frames, ignore_index=True)[cols]
    for col in ("ons_code", "neighbour_code"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def neighbours() -> pd.DataFrame:
    """Every authority's 10 neighbours in both models, one row per (model, authority, rank).

    Columns: ``model`` ("2021"/"2025"), ``la_code`` (DfE), ``la_name``, ``ons_code``
    (CTYUA 2023, missing for abolished authorities), ``rank`` (1 = nearest),
    ``neighbour_la_code``, ``neighbour_name``, ``neighbour_code``, ``closeness``
    (Extremely close / Very close / Close / Somewhat close / Not close).
    """
    return validate(_neighbours(), SCHEMA, "dfe-stat-neighbours-*")


def unmatched() -> pd.DataFrame:
    """DfE authorities with no CTYUA 2023 code: ``la_code``, ``la_name`` (all models)."""
    df = neighbours()
    return df.loc[df["ons_code"].isna(), ["la_code", "la_name"]].drop_duplicates().reset_index(drop=True)


def statistical_neighbours(ons_code: str, model: str = "2025") -> pd.DataFrame:
    """The 10 DfE statistical neighbours of a County & UA (CTYUA 2023 code), nearest first.

    Columns: ``rank`` (1..10), ``neighbour_code`` (ONS, missing if the neighbour is an
    abolished authority), ``neighbour_name`` (DfE's name), ``closeness``.
    """
    if model not in MODELS:
        raise ValueError(f"model {model!r} unknown; choose from {list(MODELS)}")
    df = neighbours()
    rows = df[(df["model"] == model) & (df["ons_code"] == ons_code)]
    if rows.empty:
        raise UnknownAreaError(
            f"{ons_code!r} has no statistical neighbours in DfE's {model} model "
            f"({MODELS[model]}); codes are County & UA 2023 (E06/E08/E09/E10)"
        )
    return rows.sort_values("rank")[["rank", "neighbour_code", "neighbour_name", "closeness"]].reset_index(drop=True)
