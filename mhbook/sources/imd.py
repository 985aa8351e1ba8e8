"""English Indices of Deprivation (MHCLG) 2019 and 2025, tidy and checked.

Publisher: Ministry of Housing, Communities and Local Government, *English Indices
of Deprivation 2019* and *2025*, Open Government Licence v3.0 (see
``shared/data/geo/PROVENANCE.md``). Deciles are always 1 = most deprived 10% of
LSOAs in England; ranks are 1 = most deprived.

Domains use one short vocabulary in every table: ``imd`` (the Index of Multiple
Deprivation), ``income``, ``employment``, ``education`` (education, skills and
training), ``health`` (health deprivation and disability), ``crime``, ``housing``
(barriers to housing and services) and ``environment`` (living environment).

Scores: the IMD score has no unit (a weighted combination of domain scores);
income and employment scores are proportions of the population (0-1); the others
are domain-specific indicators. LA and County & UA "average scores" are
population-weighted means of LSOA scores (MHCLG's method).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import InsufficientDataError, SchemaError, UnknownAreaError
from mhbook.fetch import fetch
from mhbook.sources import lookups
from mhbook.sources._schema import validate
from mhbook.sources.lookups import code_col
from mhbook.tables import tidy_table

DOMAINS = ("imd", "income", "employment", "education", "health", "crime", "housing", "environment")

# Leading words of the File 2 headers (before "Rank"/"Decile") -> our domain keys.
_FILE2_DOMAINS = {
    "Index of Multiple Deprivation (IMD)": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education, Skills and Training": "education",
    "Health Deprivation and Disability": "health",
    "Crime": "crime",
    "Barriers to Housing and Services": "housing",
    "Living Environment": "environment",
}
# File 6 population columns -> ours (all mid-2015, excluding prisoners).
_FILE6 = {
    "Total population: mid 2015 (excluding prisoners)": "population",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)": "population_0_15",
    "Population aged 16-59: mid 2015 (excluding prisoners)": "population_16_59",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)": "population_60_plus",
    "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners)": "population_working_age",
}
# humaniverse prefixes (IoD2025 LSOA file, IoD2019 LAD file) -> our domain keys.
_HUMANIVERSE = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "housing",
    "Housing_and_Access": "housing",
    "Environment": "environment",
}
# janitor-cleaned File 10 (2025) prefixes -> our domain keys.
_FILE10_2025 = {
    "imd": "imd",
    "income": "income",
    "employment": "employment",
    "education_skills_and_training": "education",
    "health_deprivation_and_disability": "health",
    "crime": "crime",
    "barriers_to_housing_and_services": "housing",
    "living_environment": "environment",
}

_N_LSOA = {2019: 32_844, 2025: 33_755}


def _read_iod_csv(dataset_id: str) -> pd.DataFrame:
    # Saved from Excel: BOM before the first header and "29,199"-style numbers.
    return pd.read_csv(fetch(dataset_id), encoding="utf-8-sig", thousands=",")


def _rank_decile_checks(n: int) -> dict[str, pa.Column]:
    cols = {}
    for d in DOMAINS:
        # not unique: LSOAs with equal scores share a published rank
        cols[f"{d}_rank"] = pa.Column("int64", pa.Check.in_range(1, n))
        cols[f"{d}_decile"] = pa.Column("int64", pa.Check.in_range(1, 10))
    return cols


def _expect_rows(df: pd.DataFrame, n: int, where: str) -> None:
    if len(df) != n:
        raise SchemaError(f"{where}: expected {n:,} LSOA rows, found {len(df):,}")


@tidy_table("iod2019-lsoa-imd", "iod2019-lsoa-domains", "iod2019-lsoa-population")
def lsoa_2019() -> pd.DataFrame:
    """IoD2019 for the 32,844 LSOAs (2011) of England: ranks, deciles, denominators.

    Columns: ``lsoa11_code``, ``lsoa11_name``, ``lad19_code``, ``lad19_name``, then
    ``<domain>_rank`` and ``<domain>_decile`` for each of :data:`DOMAINS`, then the
    File 6 denominators (persons, mid-2015, excluding prisoners): ``population``,
    ``population_0_15``, ``population_16_59``, ``population_60_plus``,
    ``population_working_age`` (18-59 women / 18-64 men).

    Sources: File 2 (domain ranks and deciles), File 6 (denominators); File 1 is
    read too and its IMD rank and decile must agree with File 2. LSOA scores of
    IoD2019 are not in the mirror (File 5/7 could not be obtained).
    """
    f2 = _read_iod_csv("iod2019-lsoa-domains")
    keys = {
        "LSOA code (2011)": "lsoa11_code",
        "LSOA name (2011)": "lsoa11_name",
        "Local Authority District code (2019)": "lad19_code",
        "Local Authority District name (2019)": "lad19_name",
    }
    for col in f2.columns:
        for head, key in _FILE2_DOMAINS.items():
            if col.startswith(f"{head} Rank"):
                keys[col] = f"{key}_rank"
            elif col.startswith(f"{head} Decile"):
                keys[col] = f"{key}_decile"
    missing = [f"{d}_{kind}" for d in DOMAINS for kind in ("rank", "decile") if f"{d}_{kind}" not in keys.values()]
    if missing:
        raise SchemaError(f"iod2019-lsoa-domains: no column found for {missing}")
    df = f2.rename(columns=keys)[list(keys.values())]

    f1 = _read_iod_csv("iod2019-lsoa-imd")
    f1 = f1.set_axis(["lsoa11_code", "lsoa11_name", "lad19_code", "lad19_name", "imd_rank", "imd_decile"], axis=1)
    both = df.merge(
        f1[["lsoa11_code", "imd_rank", "imd_decile"]],
        on="lsoa11_code",
        how="outer",
        suffixes=("", "_f1"),
        indicator=True,
    )
    disagree = both[
        (both["_merge"] != "both")
        | (both["imd_rank"] != both["imd_rank_f1"])
        | (both["imd_decile"] != both["imd_decile_f1"])
    ]
    if len(disagree):
        raise SchemaError(
            f"iod2019-lsoa-imd: File 1 and File 2 disagree on IMD rank/decile "
            f"for {len(disagree)} LSOAs, e.g. {disagree['lsoa11_code'].head(3).tolist()}"
        )

    f6 = _read_iod_csv("iod2019-lsoa-population")
    absent = [c for c in _FILE6 if c not in f6.columns]
    if absent:
        raise SchemaError(f"iod2019-lsoa-population: missing columns {absent}")
    f6 = f6.rename(columns={"LSOA code (2011)": "lsoa11_code", **_FILE6})
    df = df.merge(f6[["lsoa11_code", *_FILE6.values()]], on="lsoa11_code", how="left", validate="one_to_one")
    _expect_rows(df, _N_LSOA[2019], "iod2019-lsoa-domains")
    schema = pa.DataFrameSchema(
        {
            "lsoa11_code": code_col("lsoa", unique=True),
            "lad19_code": code_col("lad"),
            **_rank_decile_checks(_N_LSOA[2019]),
            **{c: pa.Column("int64", pa.Check.ge(0)) for c in _FILE6.values()},
        }
    )
    return validate(
        df.sort_values("lsoa11_code", ignore_index=True), schema, "iod2019-lsoa-domains + iod2019-lsoa-population"
    )


@tidy_table("iod2025-lsoa")
def lsoa_2025() -> pd.DataFrame:
    """IoD2025 for the 33,755 LSOAs (2021) of England: scores, ranks and deciles.

    Columns: ``lsoa21_code``, then ``<domain>_score``, ``<domain>_rank`` and
    ``<domain>_decile`` for each of :data:`DOMAINS`. Source: IoD2025 File 7 as
    selected by the humaniverse/IMD package (no names or population denominators).
    """
    raw = pd.read_csv(fetch("iod2025-lsoa"))
    names = {"lsoa21_code": "lsoa21_code"}
    for col in raw.columns:
        head, _, kind = col.rpartition("_")
        if head in _HUMANIVERSE and kind in ("score", "rank", "decile"):
            names[col] = f"{_HUMANIVERSE[head]}_{kind}"
    df = raw.rename(columns=names)[list(names.values())]
    missing = [f"{d}_{k}" for d in DOMAINS for k in ("score", "rank", "decile") if f"{d}_{k}" not in df.columns]
    if missing:
        raise SchemaError(f"iod2025-lsoa: no column found for {missing}")
    for d in DOMAINS:  # stored as floats by R; whole numbers by definition
        for k in ("rank", "decile"):
            df[f"{d}_{k}"] = df[f"{d}_{k}"].astype("int64")
    _expect_rows(df, _N_LSOA[2025], "iod2025-lsoa")
    schema = pa.DataFrameSchema(
        {
            "lsoa21_code": code_col("lsoa", unique=True),
            **_rank_decile_checks(_N_LSOA[2025]),
            **{f"{d}_score": pa.Column(float) for d in DOMAINS},
        }
    )
    return validate(df.sort_values("lsoa21_code", ignore_index=True), schema, "iod2025-lsoa")


@tidy_table("iod2019-lad-summaries", "iod2019-lsoa-domains", "iod2019-lsoa-population")
def lad_2019() -> pd.DataFrame:
    """IoD2019 File 10 summaries for the 317 English LADs (2019 codes).

    Columns: ``lad19_code``, ``lad19_name``, ``imd_score`` (average score),
    ``imd_proportion`` (share of the LAD's LSOAs in England's most deprived 10%),
    ``imd_extent`` (share of the population in the most deprived 30%, weighted),
    ``<domain>_score`` and ``<domain>_proportion`` for the seven domains, and
    ``population`` (File 6 mid-2015 total summed over the LAD's LSOAs).
    """
    raw = pd.read_csv(fetch("iod2019-lad-summaries"))
    names = {"ltla19_code": "lad19_code", "Score": "imd_score", "Proportion": "imd_proportion", "Extent": "imd_extent"}
    for col in raw.columns:
        head, _, kind = col.rpartition("_")
        if head in _HUMANIVERSE and kind in ("Score", "Proportion"):
            names[col] = f"{_HUMANIVERSE[head]}_{kind.lower()}"
    df = raw.rename(columns=names)[list(names.values())]
    lsoa = lsoa_2019()
    pop = lsoa.groupby(["lad19_code", "lad19_name"], as_index=False)["population"].sum()
    df = df.merge(pop, on="lad19_code", how="left", validate="one_to_one")
    columns = ["lad19_code", "lad19_name", "imd_score", "imd_proportion", "imd_extent"] + [
        f"{d}_{k}" for d in DOMAINS[1:] for k in ("score", "proportion")
    ]
    schema = pa.DataFrameSchema(
        {
            "lad19_code": code_col("lad", unique=True),
            "lad19_name": pa.Column(str),  # missing = a LAD with no LSOA in File 6
            **{c: pa.Column(float) for c in columns[2:]},
            "population": pa.Column("int64", pa.Check.gt(0)),
        },
        checks=pa.Check(lambda d: len(d) == 317, error="317 LADs (2019)"),
    )
    return validate(df[columns + ["population"]], schema, "iod2019-lad-summaries")


@tidy_table("iod2025-lad-summaries")
def lad_2025() -> pd.DataFrame:
    """IoD2025 File 10 summaries for the 296 English LADs (May 2024 codes).

    Columns: ``lad24_code``, ``lad24_name``, and for each of :data:`DOMAINS`:
    ``<domain>_average_rank``, ``<domain>_rank_of_average_rank``, ``<domain>_score``
    (average score), ``<domain>_rank_of_score``, ``<domain>_proportion`` (share of
    LSOAs in the most deprived 10% nationally), ``<domain>_rank_of_proportion``;
    plus ``imd_extent``, ``imd_rank_of_extent``, ``imd_local_concentration``,
    ``imd_rank_of_local_concentration``. Ranks among LADs: 1 = most deprived.
    """
    raw = pd.read_csv(fetch("iod2025-lad-summaries"))
    suffixes = {
        "average_rank": "average_rank",
        "rank_of_average_rank": "rank_of_average_rank",
        "average_score": "score",
        "rank_of_average_score": "rank_of_score",
        "proportion_of_lso_as_in_most_deprived_10_percent_nationally": "proportion",
        "rank_of_proportion_of_lso_as_in_most_deprived_10_percent_nationally": "rank_of_proportion",
    }
    names = {
        "ltla24_code": "lad24_code",
        "ltla24_name": "lad24_name",
        "imd25_extent": "imd_extent",
        "imd25_rank_of_extent": "imd_rank_of_extent",
        "imd25_local_concentration": "imd_local_concentration",
        "imd25_rank_of_local_concentration": "imd_rank_of_local_concentration",
    }
    for prefix, key in _FILE10_2025.items():
        for raw_suffix, ours in suffixes.items():
            names[f"{prefix}_{raw_suffix}"] = f"{key}_{ours}"
    absent = [c for c in names if c not in raw.columns]
    if absent:
        raise SchemaError(f"iod2025-lad-summaries: missing columns {absent}")
    df = raw.rename(columns=names)[list(names.values())]
    schema = pa.DataFrameSchema(
        {
            "lad24_code": code_col("lad", unique=True),
            **{f"{d}_score": pa.Column(float) for d in DOMAINS},
            **{f"{d}_proportion": pa.Column(float, pa.Check.in_range(0, 1)) for d in DOMAINS},
        },
        checks=pa.Check(lambda d: len(d) == 296, error="296 LADs (2024)"),
    )
    return validate(df, schema, "iod2025-lad-summaries")


def _weighted(df: pd.DataFrame, by: list[str], score_cols: list[str]) -> pd.DataFrame:
    """Population-weighted mean of ``score_cols`` within ``by`` groups."""
    weighted = df[score_cols].mul(df["population"], axis=0)
    weighted[by] = df[by]
    weighted["population"] = df["population"]
    weighted["n_lads"] = 1
    sums = weighted.groupby(by, as_index=False).sum()
    sums[score_cols] = sums[score_cols].div(sums["population"], axis=0)
    return sums


@tidy_table(
    "iod2019-lad-summaries",
    "iod2019-lsoa-domains",
    "iod2019-lsoa-population",
    "lkp-lad19-utla19",
    "lkp-la-all-codes",
    "lkp-lad23-utla23",
    "iod2025-lad-summaries",
    "lkp-lsoa11-current",
    "pop-lsoa11-mid2020",
)
def _utla_scores(vintage: int, geography: int) -> pd.DataFrame:
    if vintage == 2019:
        lad = lad_2019().rename(columns={"lad19_code": "lad_code"})
        if geography == 2019:
            parents = lookups.lad19_utla19().rename(
                columns={"lad19_code": "lad_code", "utla19_code": "area_code", "utla19_name": "area_name"}
            )
        else:
            parents = lookups.la_all_codes().rename(
                columns={
                    "lad_code": "lad_active",
                    "lad_code_any": "lad_code",
                    "utla_code": "area_code",
                    "utla_name": "area_name",
                }
            )
        weight_source = "IoD2019 File 6 population, mid-2015 (as MHCLG's File 11)"
    else:
        lad = lad_2025().rename(columns={"lad24_code": "lad_code"})
        pop = lookups.lsoa11_current().merge(lookups.lsoa11_population(), on="lsoa11_code")
        pop = pop.groupby("lad_code", as_index=False)["population"].sum()
        lad = lad.merge(pop, on="lad_code", how="left", validate="one_to_one")
        parents = lookups.lad23_utla23().rename(
            columns={"lad23_code": "lad_code", "utla23_code": "area_code", "utla23_name": "area_name"}
        )
        weight_source = "ONS mid-2020 LSOA 2011 population summed to LAD (approximation)"
    scores = [f"{d}_score" for d in DOMAINS]
    df = lad[["lad_code", "population", *scores]].merge(
        parents[["lad_code", "area_code", "area_name"]], on="lad_code", how="left", validate="one_to_one"
    )
    unmapped = df.loc[df["area_code"].isna() | df["population"].isna(), "lad_code"].tolist()
    if unmapped:
        raise SchemaError(
            f"IoD{vintage} LAD summaries: LADs {unmapped} have no County & UA "
            f"{geography} or no population in the lookups"
        )
    out = _weighted(df, ["area_code", "area_name"], scores)
    out["imd_rank_of_score"] = out["imd_score"].rank(ascending=False, method="min").astype("int64")
    out["vintage"] = vintage
    out["geography"] = f"County & UA {geography}"
    out["weight_source"] = weight_source
    out = out.sort_values("area_code", ignore_index=True)
    n = {2019: 151, 2023: 153}[geography]
    schema = pa.DataFrameSchema(
        {
            "area_code": code_col("utla", unique=True),
            **{c: pa.Column(float) for c in scores},
            "population": pa.Column("int64", pa.Check.gt(0)),
        },
        checks=pa.Check(lambda d: len(d) == n, error=f"{n} Counties & UAs"),
    )
    return validate(out, schema, f"IoD{vintage} County & UA {geography} average scores")


def utla_scores(vintage: Literal[2019, 2025] = 2019, geography: Literal[2019, 2023] = 2023) -> pd.DataFrame:
    """County & UA average scores for IMD and the seven domains.

    Method: MHCLG's upper-tier "average score" is the population-weighted mean of
    LSOA scores. LSOAs nest in LADs and LADs in Counties & UAs, so it equals the
    LAD average scores (File 10) weighted by LAD population. For IoD2019 the
    weights are File 6 (mid-2015) populations summed to LAD; this reproduces the
    published File 11 (e.g. Blackpool 45.04). On ``geography=2023`` each LAD19 is
    placed in the current County & UA through the all-codes table: every 2019-23
    reorganisation (Buckinghamshire 2020, Northamptonshire 2021, Cumbria, North
    Yorkshire and Somerset 2023) merged whole districts, so each LAD19 lies
    entirely in one current County & UA and the result is exact.

    IoD2025 (LAD 2024 summaries) is only available on ``geography=2023``; its
    population denominators are not in the mirror, so LADs are weighted by ONS
    mid-2020 LSOA populations summed to LAD. Counties & UAs that are a single LAD
    get the published LAD value exactly; two-tier counties are approximate.

    Columns: ``area_code``, ``area_name``, ``<domain>_score`` for each of
    :data:`DOMAINS`, ``population`` (the weights, persons), ``n_lads``,
    ``imd_rank_of_score`` (1 = highest IMD average score), ``vintage``,
    ``geography``, ``weight_source``.
    """
    if vintage not in (2019, 2025) or geography not in (2019, 2023):
        raise ValueError(
            f"utla_scores: vintage must be 2019 or 2025 and geography 2019 or "
            f"2023, got vintage={vintage!r}, geography={geography!r}"
        )
    if vintage == 2025 and geography == 2019:
        raise InsufficientDataError(
            "IoD2025 is published on LAD 2024 codes; County & UA 2019 averages would need "
            "a LAD24 -> UTLA19 lookup, which the mirror does not have. Use geography=2023."
        )
    return _utla_scores(vintage=vintage, geography=geography)


@tidy_table("iod2015-lad-summaries-long")
def lad_2015() -> pd.DataFrame:
    """IoD2015 File 10 summaries of the Index of Multiple Deprivation for the 317 LADs
    (2019 codes): ``lad19_code``, ``lad19_name``, ``rank_average_score`` (1 = most
    deprived; the average score itself is not in the file) and ``imd_proportion`` (share
    of the LAD's LSOAs in England's most deprived 10% in IMD 2015)."""
    where = "iod2015-lad-summaries-long"
    raw = pd.read_csv(fetch(where))
    df = raw[raw["index_domain"] == "Index of Multiple Deprivation"]
    df = df.rename(
        columns={"lad19cd": "lad19_code", "lad19nm": "lad19_name", "proportion_bottom_decile": "imd_proportion"}
    )
    schema = pa.DataFrameSchema(
        {
            "lad19_code": code_col("lad", unique=True),
            "lad19_name": pa.Column(str),
            "rank_average_score": pa.Column("int64", pa.Check.between(1, 326)),
            "imd_proportion": pa.Column(float, pa.Check.between(0, 1)),
        },
        checks=pa.Check(lambda d: len(d) == 317, error="317 LADs (2019)"),
    )
    cols = ["lad19_code", "lad19_name", "rank_average_score", "imd_proportion"]
    return validate(df[cols].reset_index(drop=True), schema, where)


def utla_most_deprived_share_2015() -> pd.DataFrame:
    """Share of each current County & UA's LSOAs (2011) in England's most deprived 10%
    in IMD 2015, from the district summaries: each district's count is its proportion
    times its number of LSOAs, and the counts are added over the districts of a County &
    UA (districts nest in them, so this is exact, unlike any average of ranks).

    Columns ``utla_code``, ``lsoas``, ``most_deprived`` (LSOAs), ``share`` (%).
    """
    lsoa = lookups.lsoa11_lad19()[["lsoa11_code", "lad19_code"]].merge(
        lookups.lsoa11_current()[["lsoa11_code", "utla_code"]], on="lsoa11_code", validate="one_to_one"
    )
    n = lsoa.groupby(["lad19_code", "utla_code"], as_index=False).size().rename(columns={"size": "lsoas"})
    n = n.merge(lad_2015()[["lad19_code", "imd_proportion"]], on="lad19_code", how="left", validate="many_to_one")
    n["most_deprived"] = n["imd_proportion"] * n["lsoas"]
    out = n.groupby("utla_code", as_index=False)[["lsoas", "most_deprived"]].sum()
    out["most_deprived"] = out["most_deprived"].round()
    out["share"] = 100 * out["most_deprived"] / out["lsoas"]
    return out


def population_by_decile(
    lsoa_codes=None,
    source: Literal["iod2019", "mid2020"] = "iod2019",
) -> pd.DataFrame:
    """Population in each IoD2019 IMD decile (1 = most deprived), for England or a set
    of LSOA 2011 codes: the denominators for rates by deprivation decile.

    ``source="iod2019"``: the File 6 denominators (mid-2015, excluding prisoners),
    columns ``imd_decile``, ``population``, ``population_0_15``, ``population_16_59``,
    ``population_60_plus``, ``population_working_age``.
    ``source="mid2020"``: ONS mid-2020 LSOA estimates, columns ``imd_decile``,
    ``population`` (all ages) and ``population_18plus``.

    Every decile 1-10 is present (0 when none of the LSOAs falls in it). Codes not
    among England's 32,844 LSOAs (2011) raise :class:`UnknownAreaError`.
    """
    lsoa = lsoa_2019()[["lsoa11_code", "imd_decile", *_FILE6.values()]]
    if source == "mid2020":
        lsoa = lsoa[["lsoa11_code", "imd_decile"]].merge(
            lookups.lsoa11_population(), on="lsoa11_code", validate="one_to_one"
        )
    elif source != "iod2019":
        raise ValueError(f"population_by_decile: source must be 'iod2019' or 'mid2020', got {source!r}")
    if lsoa_codes is not None:
        wanted = pd.Index(pd.unique(pd.Series(list(lsoa_codes), dtype=str)))
        unknown = wanted.difference(lsoa["lsoa11_code"])
        if len(unknown):
            raise UnknownAreaError(
                f"{len(unknown)} codes are not English LSOAs (2011) of IoD2019, e.g. {list(unknown[:5])}",
                suggestions=[],
            )
        lsoa = lsoa[lsoa["lsoa11_code"].isin(wanted)]
    counts = lsoa.drop(columns="lsoa11_code").groupby("imd_decile").sum()
    counts = counts.reindex(range(1, 11), fill_value=0).rename_axis("imd_decile")
    return counts.reset_index()
