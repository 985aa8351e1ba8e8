"""Deprivation and prevalence: the Commission's Figures 2-5 for every County & UA.

Four indicators, each mapped across England's 153 Counties & Unitary Authorities
(December 2023) and, for the three prevalences, plotted against the IMD average score
with a least-squares line and Pearson's r (Fisher-z 95% limits):

* ``emotional_disorders``: estimated prevalence of emotional disorders, % of children
  aged 5-16, 2015 (OHID Fingertips 91137; modelled; County & UA, pre-2019 codes; the
  London file is missing from the snapshot);
* ``children_low_income``: children under 16 in low-income families, %, latest year of
  the HMRC series (Fingertips 10101; District & UA only, rounded, no counts);
* ``cmd_prevalence``: estimated prevalence of common mental disorders, % aged 16+, 2017
  (Fingertips 93495; modelled; County & UA, December 2022 codes; no England value);
* ``imd_score``: IMD 2019 average score (population-weighted mean of LSOA scores, from
  ``imd.utla_scores(vintage=2019, geography=2023)``; no unit, higher = more deprived).

Every dataset is on its own geography, so each value is placed on the 2023 code by one
rule, recorded per area in ``match`` with the facts behind it (``SOURCE_COLUMNS``):

* ``published``: the dataset has this code;
* ``re-mapped``: the code is in the file but its value was re-mapped from older areas by
  whoever made the extract (CMD: Bournemouth, Christchurch and Poole, Buckinghamshire,
  Dorset, the Northamptonshires);
* ``former code``: published under a former code for exactly the same area (e.g.
  Buckinghamshire County Council E10000002 for Buckinghamshire UA E06000060);
* ``predecessor``: the area was created from part of a former area, whose value is shown
  (e.g. Cumberland gets Cumbria's);
* ``predecessors``: several former areas; their values are listed and none is mapped;
* ``districts only``: published only for the area's districts, without counts, so no
  county figure can be made honestly; the districts' range is given;
* ``not available``: nothing in the extract (e.g. London's 5-16 prevalence).

Fits use only ``published`` and ``former code`` values, so that no area is counted twice
and no borrowed value enters the line. Depression (QOF recorded prevalence 18+, Fingertips
848, District & UA on 2023 codes) is shown over time against England; for a county the
extract has no county row, so the middle, lowest and highest of its districts are shown
(``depression_trend``'s series codes :data:`AREA`, :data:`DISTRICTS` and :data:`ENGLAND`).

This module returns numbers and the facts about where they come from; the chapter's
words, tables, maps and charts are in ``mhbook.pages.deprivation_prevalence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from mhbook import areas, geometry, reads, stats
from mhbook.areas import Area
from mhbook.constants import ENGLAND_CODE
from mhbook.errors import InsufficientDataError
from mhbook.sources import boundaries, fingertips, imd, lookups


@dataclass(frozen=True)
class Indicator:
    """What an indicator is and where it comes from: its label, unit, publisher and geography."""

    key: str
    label: str  # lower-case measure, used on axes and in sentences
    short: str  # legend title on maps
    unit: str  # "%" or "" (IMD score has no unit)
    source: str
    geography: str  # the geography the data were published on


INDICATORS: dict[str, Indicator] = {
    "emotional_disorders": Indicator(
        "emotional_disorders",
        "estimated prevalence of emotional disorders, aged 5-16",
        "emotional disorders, 5-16",
        "%",
        "OHID Fingertips indicator 91137 (children and young people's mental health profile; modelled estimate)",
        "Counties & UAs as they were before April 2019",
    ),
    "children_low_income": Indicator(
        "children_low_income",
        "children in low-income families, aged under 16",
        "children in low-income families",
        "%",
        "OHID Fingertips indicator 10101 (HMRC children in low-income families local measure)",
        "districts and unitary authorities",
    ),
    "cmd_prevalence": Indicator(
        "cmd_prevalence",
        "estimated prevalence of common mental disorders, aged 16+",
        "common mental disorders, 16+",
        "%",
        "OHID Fingertips indicator 93495 (modelled from the Adult Psychiatric Morbidity Survey 2014)",
        "Counties & UAs of December 2022",
    ),
    "imd_score": Indicator(
        "imd_score",
        "IMD 2019 average score",
        "IMD 2019 average score",
        "",
        "MHCLG English Indices of Deprivation 2019 (population-weighted average of LSOA scores)",
        "Counties & UAs of December 2023",
    ),
}
PREVALENCES = ("emotional_disorders", "children_low_income", "cmd_prevalence")
#: Matches whose value stands for the area itself and may enter a fit.
FIT_MATCHES = ("published", "former code")


def indicator(key: str) -> Indicator:
    if key not in INDICATORS:
        raise ValueError(f"Unknown indicator {key!r}; expected one of {list(INDICATORS)}")
    return INDICATORS[key]


def _latest(periods: pd.Series) -> str:
    return str(sorted(periods.astype(str).unique())[-1])


@reads.cached
def _published(key: str) -> tuple[pd.DataFrame, float, str, float]:
    """(County & UA rows on the data's own codes, England value, period, middle County & UA
    value where the extract has no England value, else NaN).

    The rows have ``area_code``, ``area_name``, ``value`` and ``value_note``.
    """
    cols = ["area_code", "area_name", "value", "value_note"]
    if key == "imd_score":
        s = imd.utla_scores(vintage=2019, geography=2023)
        # England's average score is, by MHCLG's method, the population-weighted mean.
        england = float(np.average(s["imd_score"], weights=s["population"]))
        rows = s.assign(value=s["imd_score"], value_note=None, compared=None)[cols + ["compared"]]
        return rows, england, "2019", np.nan
    name = {
        "emotional_disorders": "emotional_disorders_5_16",
        "children_low_income": "children_low_income",
        "cmd_prevalence": "cmd_prevalence",
    }[key]
    df = fingertips.indicator(name, sex="Persons")
    period = _latest(df.loc[df["area_type"] == "County & UA", "period"])
    df = df[df["period"].astype(str) == period]
    eng = df.loc[df["area_type"] == "England", "value"]
    england = float(eng.iloc[0]) if len(eng) else np.nan
    middle = np.nan if len(eng) else float(df.loc[df["area_type"] == "County & UA", "value"].median())
    rows = df.loc[df["area_type"] == "County & UA", cols].astype({"area_code": str, "area_name": str})
    rows["value_note"] = rows["value_note"].astype(object).where(rows["value_note"].notna(), None)
    # Fingertips' own comparison with England, where the file carries one (it is made
    # from limits the extract does not hold).
    compared = df.loc[df["area_type"] == "County & UA", "compared_to_england"].astype(object)
    rows["compared"] = compared.where(compared.isin(["Better", "Similar", "Worse", "Higher", "Lower"]), None).to_numpy()
    return rows.reset_index(drop=True), england, period, middle


@reads.cached
def _district_values(key: str) -> pd.DataFrame:
    """District & UA rows of a district-level indicator, with their 2023 County & UA.

    Columns ``area_code``, ``area_name``, ``value``, ``utla_code``; empty for indicators
    published for Counties & UAs.
    """
    if key != "children_low_income":
        return pd.DataFrame(columns=["area_code", "area_name", "value", "utla_code"])
    _, _, period, _ = _published(key)
    df = fingertips.indicator("children_low_income", area_type="District & UA", sex="Persons", period=period)
    codes = lookups.la_all_codes()[["lad_code_any", "utla_code"]]
    df = df[["area_code", "area_name", "value"]].astype({"area_code": str, "area_name": str})
    return df.merge(codes, left_on="area_code", right_on="lad_code_any", how="left").drop(columns="lad_code_any")


def _district_range(area: Area, key: str) -> tuple[int, str, float, str, float] | None:
    """(districts with a value, lowest district's name and value, highest's), or None."""
    d = _district_values(key)
    d = d[(d["utla_code"] == area.code) & d["value"].notna()]
    if d.empty:
        return None
    lo, hi = d.loc[d["value"].idxmin()], d.loc[d["value"].idxmax()]
    return len(d), str(lo["area_name"]), float(lo["value"]), str(hi["area_name"]), float(hi["value"])


def _successor_names(code: str) -> list[str]:
    return [a.name for a in areas.find(code).areas]


#: Columns of ``_resolve_one`` that say where a value comes from (see ``indicator_table``).
SOURCE_COLUMNS = ("value_note", "changed_on", "also_covered", "former", "district_range")


def _resolve_one(area: Area, key: str, pub: pd.DataFrame, period: str) -> dict:
    """The value for ``area`` and where it comes from (see the module docstring)."""
    by_code = pub.set_index("area_code")
    out = {
        "area_code": area.code,
        "value": np.nan,
        "value_from": None,
        "value_from_name": None,
        "compared": None,
        "value_note": None,
        "changed_on": None,
        "also_covered": (),
        "former": (),
        "district_range": None,
    }
    own = by_code.loc[area.code] if area.code in by_code.index else None
    if own is not None and own["value_note"] is not None:
        out["value_note"] = str(own["value_note"])
    if own is not None and pd.notna(own["value"]):
        remapped = own["value_note"] is not None and "re-mapped" in str(own["value_note"])
        return out | {
            "value": own["value"],
            "value_from": area.code,
            "value_from_name": area.name,
            "match": "re-mapped" if remapped else "published",
            "compared": None if remapped else own["compared"],
        }
    preds = [p for p in area.predecessors if p in by_code.index and pd.notna(by_code.loc[p, "value"])]
    if len(preds) == 1:
        p = preds[0]
        pname = str(by_code.loc[p, "area_name"])
        date = areas.REORGANISATIONS[p].date if p in areas.REORGANISATIONS else None
        succ = _successor_names(p)
        base = out | {"value": by_code.loc[p, "value"], "value_from": p, "value_from_name": pname, "changed_on": date}
        if succ == [area.name]:
            return base | {"match": "former code", "compared": by_code.loc[p, "compared"]}
        return base | {"match": "predecessor", "also_covered": tuple(n for n in succ if n != area.name)}
    if len(preds) > 1:
        former = tuple((str(by_code.loc[p, "area_name"]), p, float(by_code.loc[p, "value"])) for p in preds)
        return out | {"match": "predecessors", "former": former}
    districts = _district_range(area, key)
    if districts:
        return out | {"match": "districts only", "district_range": districts}
    return out | {"match": "not available"}


@reads.cached(stored=True)
def _resolved(key: str) -> pd.DataFrame:
    pub, _, period, _ = _published(key)
    rows = [_resolve_one(a, key, pub, period) for a in areas.all_areas()]
    df = pd.DataFrame(rows)
    df["period"] = period
    df["in_fit"] = df["match"].isin(FIT_MATCHES) & df["value"].notna()
    return df


def indicator_table(key: str) -> pd.DataFrame:
    """One row per 2023 County & UA for one indicator.

    Columns: ``area_code``, ``area_name``, ``value`` (in the indicator's unit; NaN when no
    value can honestly be given), ``period``, ``value_from`` / ``value_from_name`` (code
    and name of the geography the value was published for), ``match`` (see the module
    docstring), ``in_fit`` (used in the line against IMD score), ``compared``
    (Fingertips' comparison with England, where the file has one), and what says where
    the value comes from (``SOURCE_COLUMNS``; ``mhbook.pages.deprivation_prevalence.value_note``
    puts them into words): ``value_note`` (the extract's own note for the area, or None),
    ``changed_on`` (the date a former code stopped being used, for ``former code`` and
    ``predecessor``), ``also_covered`` (the other current areas a ``predecessor`` covered),
    ``former`` ((name, code, value) of each of the ``predecessors``), ``district_range``
    ((districts with a value, lowest district's name, its value, highest's name, its
    value) for ``districts only``).
    """
    indicator(key)
    names = {a.code: a.name for a in areas.all_areas()}
    df = _resolved(key).copy()
    df.insert(1, "area_name", df["area_code"].map(names))
    return df


@reads.cached
def _geometry() -> gpd.GeoDataFrame:
    gdf = boundaries.load("ctyua-2023")[["code", "geometry"]].rename(columns={"code": "area_code"})
    return geometry.simplify_for_map(gdf)


@reads.cached
def _indicators() -> gpd.GeoDataFrame:
    geo = _geometry()
    base = pd.DataFrame(
        {"area_code": [a.code for a in areas.all_areas()], "area_name": [a.name for a in areas.all_areas()]}
    )
    for key in INDICATORS:
        t = _resolved(key).drop(columns=["value_from_name", *SOURCE_COLUMNS])
        t = t.rename(
            columns={
                "value": key,
                "period": f"{key}_period",
                "value_from": f"{key}_from",
                "match": f"{key}_match",
                "in_fit": f"{key}_in_fit",
                "compared": f"{key}_compared",
            }
        )
        base = base.merge(t, on="area_code", how="left", validate="one_to_one")
    missing = sorted(set(base["area_code"]) - set(geo["area_code"]))
    if missing:
        raise InsufficientDataError(f"bnd-ctyua-2023: no boundary for County & UA codes {missing}")
    return gpd.GeoDataFrame(base.merge(geo, on="area_code", how="left"), geometry="geometry", crs=geo.crs)


def county_ua_indicators() -> gpd.GeoDataFrame:
    """Every indicator for the 153 County & UAs of December 2023, with boundaries.

    Columns: ``area_code``, ``area_name``; for each key of :data:`INDICATORS` the value
    (column named by the key), ``<key>_period``, ``<key>_from`` (code the value was
    published for), ``<key>_match``, ``<key>_in_fit`` and ``<key>_compared``; and
    ``geometry`` (British National Grid, simplified to 250 m for maps).
    """
    return _indicators().copy()


def england_value(key: str) -> tuple[float, float]:
    """England's value (NaN if the extract has none) and, when it has none, the middle
    (median) County & UA value (else NaN). England's IMD score is the population-weighted
    mean of all Counties & UAs, by MHCLG's method."""
    _, england, _, middle = _published(indicator(key).key)
    return england, middle


def area_values(area: Area) -> pd.DataFrame:
    """The area's value of each indicator beside England's, with its rank.

    One row per indicator: ``indicator`` (key), ``label``, ``unit``, ``period``, ``value``,
    ``england``, ``rank`` (1 = highest among County & UAs with a value of their own),
    ``ranked`` (how many have one), ``value_from``, ``value_from_name``, ``match``,
    ``compared`` (Fingertips' published comparison with England, where the file has one),
    ``england_middle`` (the middle County & UA where England has no value: ``england_value``)
    and the columns saying where the area's value comes from (``SOURCE_COLUMNS``, see
    ``indicator_table``).

    A value borrowed from a predecessor that also covered other areas is shown but never
    ranked: only values that stand for the area itself (``in_fit``) are counted, so no
    area is counted twice.
    """
    rows = []
    for key, ind in INDICATORS.items():
        t = _resolved(key)
        row = t[t["area_code"] == area.code].iloc[0]
        have = t.loc[t["in_fit"], "value"]
        rank = int((have > row["value"]).sum()) + 1 if row["in_fit"] else pd.NA
        england, middle = england_value(key)
        rows.append(
            {
                "indicator": key,
                "label": ind.label,
                "unit": ind.unit,
                "period": row["period"],
                "value": row["value"],
                "england": england,
                "rank": rank,
                "ranked": len(have),
                "value_from": row["value_from"],
                "value_from_name": row["value_from_name"],
                "match": row["match"],
                "compared": row["compared"],
                "england_middle": middle,
                **{c: row[c] for c in SOURCE_COLUMNS},
            }
        )
    out = pd.DataFrame(rows)
    out["rank"] = out["rank"].astype("Int64")
    return out


def fit(key: str) -> tuple[stats.LinearFit, stats.Estimate]:
    """Least-squares line of the indicator on IMD 2019 average score, and Pearson's r.

    Uses the County & UAs whose value is published for that area (``in_fit``): borrowed
    and re-mapped values are left out so that no area counts twice.
    """
    if indicator(key).key not in PREVALENCES:
        raise ValueError(f"fit: {key!r} is not a prevalence; expected one of {list(PREVALENCES)}")
    df = _indicators()
    df = df[df[f"{key}_in_fit"] & df["imd_score"].notna()]
    return stats.linear_fit(df["imd_score"], df[key]), stats.correlation(df["imd_score"], df[key])


def area_match(key: str, area: Area) -> pd.Series:
    """The area's row of ``indicator_table(key)``: its ``match`` and where its value comes from."""
    return _resolved(key).set_index("area_code").loc[area.code]


def figure5_table() -> gpd.GeoDataFrame:
    """The Commission's Figure 5 as near as the data allow, by 2023 County & UA.

    The Commission mapped the IMD 2015 *average score* on pre-2019 County & UAs. The
    data hold IMD 2015 for districts only as the *rank* of the average score, and ranks
    cannot be averaged into a County & UA score. What can be aggregated exactly is the
    share of neighbourhoods in England's most deprived 10% (``imd.utla_most_deprived_share_2015``).
    Columns: ``area_code``, ``geometry``, that table's ``share`` (%), ``most_deprived``,
    ``lsoas``, and ``area_name``.
    """
    share = imd.utla_most_deprived_share_2015().rename(columns={"utla_code": "area_code"})
    df = _geometry().merge(share, on="area_code", how="left")
    df["area_name"] = df["area_code"].map({a.code: a.name for a in areas.all_areas()})
    return df


def figure5_numbers(area: Area) -> dict:
    """The area's IMD 2015 share and rank of its own, for the prose."""
    share = imd.utla_most_deprived_share_2015().set_index("utla_code")
    mine = share.loc[area.code]
    rank = int((share["share"] > mine["share"]).sum()) + 1
    return {
        "imd2015_share": float(mine["share"]),
        "imd2015_most_deprived": int(mine["most_deprived"]),
        "imd2015_lsoas": int(mine["lsoas"]),
        "imd2015_rank": rank,
        "imd2015_ranked": len(share),
    }


def lsoa_deciles(area: Area) -> pd.DataFrame:
    """The area's neighbourhoods in each national IMD decile (1 = most deprived).

    Columns: ``imd_decile``; ``lsoas_2019`` (its LSOAs 2011 in each IoD2019 decile) and
    ``share_2019`` (%); ``lsoas_2025`` (its LSOAs 2021 in each IoD2025 decile) and
    ``share_2025`` (%). Every decile 1-10 is present (0 = none of its LSOAs).
    """
    parts = []
    for year, codes, table, col in (
        (2019, area.lsoa11(), imd.lsoa_2019(), "lsoa11_code"),
        (2025, area.lsoa21(), imd.lsoa_2025(), "lsoa21_code"),
    ):
        mine = table[table[col].isin(codes)]
        if len(mine) != len(codes):
            raise InsufficientDataError(
                f"IoD{year}: {len(codes) - len(mine)} of {area.name}'s {len(codes)} LSOAs have no decile"
            )
        n = mine["imd_decile"].value_counts().reindex(range(1, 11), fill_value=0)
        parts.append(
            pd.DataFrame(
                {f"lsoas_{year}": n.to_numpy(), f"share_{year}": 100 * n.to_numpy() / n.sum()},
                index=pd.Index(range(1, 11), name="imd_decile"),
            )
        )
    return pd.concat(parts, axis=1).reset_index()


#: The series of ``depression_trend``: the area's own values, a county's districts, England.
AREA, DISTRICTS, ENGLAND = "area", "districts", "England"


def depression_trend(area: Area) -> pd.DataFrame:
    """Depression, QOF recorded prevalence aged 18+ (%), by year: the area and England.

    Columns: ``period`` ("2014/15"...), ``series`` (:data:`AREA`: the area's own values,
    or for a county :data:`DISTRICTS`: the middle of its districts; and :data:`ENGLAND`),
    ``value``, ``lower`` and ``upper`` (for a county the lowest and highest district;
    otherwise equal to ``value``: the extract has no confidence limits), ``districts``
    (districts with a value). The extract is District & UA on 2023 codes (earlier years
    re-mapped by Trafford Data Lab); it has no County rows, so a county is described by
    its districts, never by an invented total.
    """
    df = fingertips.indicator("depression_qof", sex="Persons")
    df = df.assign(period=df["period"].astype(str), area_code=df["area_code"].astype(str))
    eng = df[df["area_code"] == ENGLAND_CODE]
    out = [
        pd.DataFrame(
            {
                "period": eng["period"],
                "series": ENGLAND,
                "value": eng["value"],
                "lower": eng["value"],
                "upper": eng["value"],
                "districts": np.nan,
            }
        )
    ]
    own = df[df["area_code"] == area.code]
    if len(own):
        out.append(
            pd.DataFrame(
                {
                    "period": own["period"],
                    "series": AREA,
                    "value": own["value"],
                    "lower": own["value"],
                    "upper": own["value"],
                    "districts": 1.0,
                }
            )
        )
    else:
        codes = [c for c, _ in area.districts]
        d = df[df["area_code"].isin(codes)].groupby("period")["value"]
        agg = d.agg(["median", "min", "max", "count"]).reset_index()
        if len(agg):
            out.append(
                pd.DataFrame(
                    {
                        "period": agg["period"],
                        "series": DISTRICTS,
                        "value": agg["median"],
                        "lower": agg["min"],
                        "upper": agg["max"],
                        "districts": agg["count"].astype(float),
                    }
                )
            )
    return pd.concat(out, ignore_index=True).sort_values(["series", "period"], ignore_index=True)


def depression_kind(trend: pd.DataFrame) -> str:
    """What ``depression_trend`` holds for the area: :data:`AREA` (its own values),
    :data:`DISTRICTS` (a county's districts) or "none"."""
    series = set(trend["series"])
    if AREA in series:
        return AREA
    return DISTRICTS if DISTRICTS in series else "none"
