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
rule, recorded per area in ``match`` with a plain-English ``note``:

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
extract has no county row, so the middle, lowest and highest of its districts are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from mhbook import areas, figures, reads, stats
from mhbook.areas import Area
from mhbook.constants import ENGLAND_CODE
from mhbook.errors import InsufficientDataError
from mhbook.measures._quiet import quietly
from mhbook.sources import boundaries, fingertips, imd, lookups


@dataclass(frozen=True)
class Indicator:
    """What an indicator is and where it comes from (for labels, captions and prose)."""

    key: str
    label: str  # lower-case measure, used on axes and in sentences
    short: str  # legend title on maps
    unit: str  # "%" or "" (IMD score has no unit)
    source: str
    geography: str  # the geography the data were published on
    phrase: str  # sentence with {period}, {value} and {place}


INDICATORS: dict[str, Indicator] = {
    "emotional_disorders": Indicator(
        "emotional_disorders",
        "estimated prevalence of emotional disorders, aged 5-16",
        "emotional disorders, 5-16",
        "%",
        "OHID Fingertips indicator 91137 (children and young people's mental health profile; modelled estimate)",
        "Counties & UAs as they were before April 2019",
        "In {period}, an estimated {value} of children aged 5 to 16 in {place} had an emotional disorder",
    ),
    "children_low_income": Indicator(
        "children_low_income",
        "children in low-income families, aged under 16",
        "children in low-income families",
        "%",
        "OHID Fingertips indicator 10101 (HMRC children in low-income families local measure)",
        "districts and unitary authorities",
        "In {period}, {value} of children under 16 in {place} lived in low-income families",
    ),
    "cmd_prevalence": Indicator(
        "cmd_prevalence",
        "estimated prevalence of common mental disorders, aged 16+",
        "common mental disorders, 16+",
        "%",
        "OHID Fingertips indicator 93495 (modelled from the Adult Psychiatric Morbidity Survey 2014)",
        "Counties & UAs of December 2022",
        "In {period}, an estimated {value} of people aged 16 and over in {place} had a common mental disorder",
    ),
    "imd_score": Indicator(
        "imd_score",
        "IMD 2019 average score",
        "IMD 2019 average score",
        "",
        "MHCLG English Indices of Deprivation 2019 (population-weighted average of LSOA scores)",
        "Counties & UAs of December 2023",
        "The IMD {period} average score of {place} was {value}",
    ),
}
UNITS = {"emotional_disorders": "%", "children_low_income": "%", "cmd_prevalence": "%", "imd_score": ""}
#: How the fit sentence names each prevalence.
SUBJECTS = {
    "emotional_disorders": "the estimated share of children aged 5-16 with an emotional disorder",
    "children_low_income": "the share of children under 16 in low-income families",
    "cmd_prevalence": "the estimated share of people aged 16+ with a common mental disorder",
}
PREVALENCES = ("emotional_disorders", "children_low_income", "cmd_prevalence")
#: Matches whose value stands for the area itself and may enter a fit.
FIT_MATCHES = ("published", "former code")


def _indicator(key: str) -> Indicator:
    if key not in INDICATORS:
        raise ValueError(f"Unknown indicator {key!r}; expected one of {list(INDICATORS)}")
    return INDICATORS[key]


def _fmt(value: float, unit: str, decimals: int = 1) -> str:
    return figures.alttext.format_value(value, unit, decimals) if pd.notna(value) else "no value"


def _latest(periods: pd.Series) -> str:
    return str(sorted(periods.astype(str).unique())[-1])


@reads.cached
def _published(key: str) -> tuple[pd.DataFrame, float, str, str]:
    """(County & UA rows on the data's own codes, England value, period, England note).

    The rows have ``area_code``, ``area_name``, ``value`` and ``value_note``.
    """
    cols = ["area_code", "area_name", "value", "value_note"]
    if key == "imd_score":
        s = imd.utla_scores(vintage=2019, geography=2023)
        # England's average score is, by MHCLG's method, the population-weighted mean.
        england = float(np.average(s["imd_score"], weights=s["population"]))
        rows = s.assign(value=s["imd_score"], value_note=None, compared=None)[cols + ["compared"]]
        return rows, england, "2019", "population-weighted mean of all Counties & UAs"
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
    note = ""
    if not len(eng):
        middle = df.loc[df["area_type"] == "County & UA", "value"].median()
        note = (
            f"England's value is not in the data this book was built from (OHID publishes one on Fingertips); "
            f"the middle County & UA has "
            f"{figures.alttext.format_value(middle, UNITS.get(key, ''))}"
        )
    rows = df.loc[df["area_type"] == "County & UA", cols].astype({"area_code": str, "area_name": str})
    rows["value_note"] = rows["value_note"].astype(object).where(rows["value_note"].notna(), None)
    # Fingertips' own comparison with England, where the file carries one (it is made
    # from limits the extract does not hold).
    compared = df.loc[df["area_type"] == "County & UA", "compared_to_england"].astype(object)
    rows["compared"] = compared.where(compared.isin(["Better", "Similar", "Worse", "Higher", "Lower"]), None).to_numpy()
    return rows.reset_index(drop=True), england, period, note


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


def _districts_note(area: Area, key: str, period: str) -> str | None:
    d = _district_values(key)
    d = d[(d["utla_code"] == area.code) & d["value"].notna()]
    if d.empty:
        return None
    unit = _indicator(key).unit
    lo, hi = d.loc[d["value"].idxmin()], d.loc[d["value"].idxmax()]
    return (
        f"Published in {period} only for districts, without counts, so no figure for {area.name} as a whole "
        f"can be made from them. Its {len(d)} districts range from {_fmt(lo['value'], unit)} "
        f"({lo['area_name']}) to {_fmt(hi['value'], unit)} ({hi['area_name']})."
    )


def _successor_names(code: str) -> list[str]:
    return [a.name for a in areas.find(code).areas]


def _resolve_one(area: Area, key: str, pub: pd.DataFrame, period: str) -> dict:
    """The value for ``area`` and where it comes from (see the module docstring)."""
    unit = _indicator(key).unit
    by_code = pub.set_index("area_code")
    out = {"area_code": area.code, "value": np.nan, "value_from": None, "value_from_name": None, "compared": None}
    own = by_code.loc[area.code] if area.code in by_code.index else None
    if own is not None and pd.notna(own["value"]):
        remapped = own["value_note"] is not None and "re-mapped" in str(own["value_note"])
        text = str(own["value_note"])
        note = f"Caution: in the extract this is the {text[:1].lower() + text[1:]}." if remapped else ""
        return out | {
            "value": own["value"],
            "value_from": area.code,
            "value_from_name": area.name,
            "match": "re-mapped" if remapped else "published",
            "note": note,
            "compared": None if remapped else own["compared"],
        }
    preds = [p for p in area.predecessors if p in by_code.index and pd.notna(by_code.loc[p, "value"])]
    if len(preds) == 1:
        p = preds[0]
        pname = str(by_code.loc[p, "area_name"])
        date = areas.REORGANISATIONS[p].date if p in areas.REORGANISATIONS else "a later date"
        succ = _successor_names(p)
        base = out | {"value": by_code.loc[p, "value"], "value_from": p, "value_from_name": pname}
        if succ == [area.name]:
            return base | {
                "match": "former code",
                "compared": by_code.loc[p, "compared"],
                "note": (f"Published as {pname} ({p}), the code used for the same area until {date}."),
            }
        others = ", ".join(n for n in succ if n != area.name)
        return base | {
            "match": "predecessor",
            "note": (
                f"Not published for {area.name}, which was created on {date}. The value shown is for the former "
                f"{pname} ({p}), which also covered {others}."
            ),
        }
    if len(preds) > 1:
        listed = "; ".join(f"{by_code.loc[p, 'area_name']} ({p}) {_fmt(by_code.loc[p, 'value'], unit)}" for p in preds)
        return out | {
            "match": "predecessors",
            "note": (
                f"Not published for {area.name}, which was formed from several former areas, some only in part; "
                f"their {period} values are: {listed}. None is used on the map or in the fit."
            ),
        }
    districts = _districts_note(area, key, period)
    if districts:
        return out | {"match": "districts only", "note": districts}
    why = (
        str(own["value_note"])
        if own is not None and own["value_note"] is not None
        else (
            f"No value for {area.name} or a former area covering it is in the data this book was built from (the "
            "publisher may hold one: see its source)"
        )
    )
    return out | {"match": "not available", "note": why.rstrip(".") + "."}


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
    docstring), ``note`` (plain English; empty when the value is published for the area
    itself), ``in_fit`` (used in the line against IMD score).
    """
    _indicator(key)
    names = {a.code: a.name for a in areas.all_areas()}
    df = _resolved(key).copy()
    df.insert(1, "area_name", df["area_code"].map(names))
    return df


@reads.cached
def _geometry() -> gpd.GeoDataFrame:
    gdf = boundaries.load("ctyua-2023")[["code", "geometry"]].rename(columns={"code": "area_code"})
    return figures.simplify_for_map(gdf)


@reads.cached
def _indicators() -> gpd.GeoDataFrame:
    geo = _geometry()
    base = pd.DataFrame(
        {"area_code": [a.code for a in areas.all_areas()], "area_name": [a.name for a in areas.all_areas()]}
    )
    for key in INDICATORS:
        t = _resolved(key).drop(columns=["value_from_name"])
        t = t.rename(
            columns={
                "value": key,
                "period": f"{key}_period",
                "value_from": f"{key}_from",
                "match": f"{key}_match",
                "note": f"{key}_note",
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
    published for), ``<key>_match``, ``<key>_note`` and ``<key>_in_fit``; and
    ``geometry`` (British National Grid, simplified to 250 m for maps).
    """
    return _indicators().copy()


def england_value(key: str) -> tuple[float, str]:
    """England's value (NaN if the extract has none) and a note on where it comes from."""
    _, england, _, note = _published(_indicator(key).key)
    return england, note


def area_values(area: Area) -> pd.DataFrame:
    """The area's value of each indicator beside England's, with its rank.

    One row per indicator: ``indicator`` (key), ``label``, ``unit``, ``period``, ``value``,
    ``england``, ``rank`` (1 = highest among County & UAs with a value of their own),
    ``ranked`` (how many have one), ``value_from``, ``value_from_name``, ``match``,
    ``compared`` (Fingertips' published comparison with England, where the file has one),
    ``note`` (about the area's value), ``england_note`` (about England's).

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
        england, england_note = england_value(key)
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
                "note": row["note"],
                "england_note": england_note,
            }
        )
    out = pd.DataFrame(rows)
    out["rank"] = out["rank"].astype("Int64")
    return out


#: What the table says where an area has no value, by ``match``.
_NO_VALUE = {
    "districts only": "districts only (see text)",
    "predecessors": "former areas (see text)",
    "not available": "not in the data this book was built from",
}


def values_table(area: Area) -> pd.DataFrame:
    """A readable version of :func:`area_values` for the page."""
    v = area_values(area)
    return pd.DataFrame(
        {
            "indicator": v["label"] + v["unit"].map(lambda u: f" ({u})" if u else ""),
            "period": v["period"],
            area.name: v["value"].round(1),
            "England": v["england"].round(1),
            "rank (1 = highest)": [
                f"{r} of {n}" if pd.notna(r) else ("not ranked: borrowed value" if pd.notna(x) else "")
                for r, n, x in zip(v["rank"], v["ranked"], v["value"])
            ],
            "value for": [
                f"{n} ({c})" if isinstance(c, str) else _NO_VALUE.get(m, "")
                for n, c, m in zip(v["value_from_name"], v["value_from"], v["match"])
            ],
        }
    )


def fit(key: str) -> tuple[stats.LinearFit, stats.Estimate]:
    """Least-squares line of the indicator on IMD 2019 average score, and Pearson's r.

    Uses the County & UAs whose value is published for that area (``in_fit``): borrowed
    and re-mapped values are left out so that no area counts twice.
    """
    if _indicator(key).key not in PREVALENCES:
        raise ValueError(f"fit: {key!r} is not a prevalence; expected one of {list(PREVALENCES)}")
    df = _indicators()
    df = df[df[f"{key}_in_fit"] & df["imd_score"].notna()]
    return stats.linear_fit(df["imd_score"], df[key]), stats.correlation(df["imd_score"], df[key])


def r_text(estimate: stats.Estimate) -> str:
    """Pearson's r with its 95% limits, as shown on the chart and in the prose."""
    return f"r = {estimate.value:.2f} (95% CI {estimate.lower_cl:.2f} to {estimate.upper_cl:.2f})"


def _note_for(key: str, area: Area) -> tuple[str, str]:
    row = _resolved(key).set_index("area_code").loc[area.code]
    return row["match"], row["note"]


def map_figure(key: str, area: Area) -> figures.Figure:
    """Choropleth of one indicator across England's County & UAs, the area outlined."""
    ind = _indicator(key)
    df = _indicators()
    period = df[f"{key}_period"].iloc[0]
    _, note = _note_for(key, area)
    caption = (
        f"{ind.label[:1].upper() + ind.label[1:]} by County & UA, {period}; darker means higher. "
        f"Source: {ind.source}, published for {ind.geography}. {area.name} is outlined. {note}"
    )
    df = df.assign(borrowed=df[f"{key}_match"].eq("predecessor"))
    if df["borrowed"].any():
        caption += (
            " Dotted areas show the value of a former area that also covered other places; they are "
            "not ranked and not used in the fit."
        )
    return figures.choropleth(
        df,
        key,
        highlight_code=area.code,
        label=ind.short,
        unit=ind.unit,
        context=f"England, {period}",
        caption=caption.strip(),
        borrowed="borrowed",
    )


def figure5_map(area: Area) -> figures.Figure:
    """The Commission's Figure 5 as near as the data allow: IMD 2015 by County & UA.

    The Commission mapped the IMD 2015 *average score* on pre-2019 County & UAs. The
    data hold IMD 2015 for districts only as the *rank* of the average score, and ranks
    cannot be averaged into a County & UA score. What can be aggregated exactly is the
    share of neighbourhoods in England's most deprived 10% (``imd.utla_most_deprived_share_2015``),
    mapped here on today's County & UAs."""
    share = imd.utla_most_deprived_share_2015().rename(columns={"utla_code": "area_code"})
    df = _geometry().merge(share, on="area_code", how="left")
    df["area_name"] = df["area_code"].map({a.code: a.name for a in areas.all_areas()})
    caption = (
        "Share of neighbourhoods (LSOAs 2011) in England's most deprived 10% in the IMD 2015, by County & "
        "UA (2023 boundaries); darker means more deprived. The Commission's Figure 5 showed the IMD 2015 "
        "average score; the data hold only the rank of that score for districts, which cannot be added up "
        "into a County & UA score, so this exact aggregate of the same index is shown instead. Source: "
        f"MHCLG English Indices of Deprivation 2015, File 10. {area.name} is outlined."
    )
    return figures.choropleth(
        df,
        "share",
        highlight_code=area.code,
        label="neighbourhoods in the most deprived 10%",
        unit="%",
        context="England, IMD 2015",
        caption=caption,
    )


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


def scatter_figure(key: str, area: Area) -> figures.Figure:
    """The indicator against IMD 2019 average score, with the fitted line and r."""
    ind = _indicator(key)
    line, r = fit(key)
    df = _indicators()
    # The area is always passed (even without a value) so the chart can say it is missing.
    shown = df[df[f"{key}_in_fit"] | (df["area_code"] == area.code)]
    period = df[f"{key}_period"].iloc[0]
    match, note = _note_for(key, area)
    if match in FIT_MATCHES:
        where = f" {note}" if note else ""
    elif pd.notna(shown.loc[shown["area_code"] == area.code, key]).any():
        where = f" {area.name} is drawn but left out of the line: its value comes from another geography. {note}"
    else:
        where = f" {area.name} has no value and is not drawn. {note}"
    caption = (
        f"{ind.label[:1].upper() + ind.label[1:]} ({period}) against IMD 2019 average score, one dot per "
        f"County & UA with its own published value ({line.n} areas). The line is a least-squares fit with its "
        f"95% confidence band; {r_text(r)}.{where}"
    )
    # Rows without a value are said in the caption, not warned about.
    return quietly(
        figures.scatter_fit,
        shown,
        x="imd_score",
        y=key,
        highlight_code=area.code,
        fit=line.band,
        r_text=r_text(r),
        x_measure="IMD 2019 average score",
        y_measure=ind.short,
        y_unit=ind.unit,
        context=f"England, {period}",
        caption=caption,
    )


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


def lsoa_decile_figure(area: Area, deciles: pd.DataFrame) -> figures.Figure:
    """Bars of the share of the area's LSOAs (2011) in each IoD2019 decile."""
    n = int(deciles["lsoas_2019"].sum())
    return figures.lsoa_decile_chart(
        deciles,
        count="lsoas_2019",
        area_name=area.name,
        what="LSOAs",
        index_name="IMD 2019",
        caption=(
            f"{area.name}'s {n:,} neighbourhoods (LSOAs, 2011 boundaries) by national IMD 2019 decile "
            "(1 = most deprived). The dashed line marks 10%, England's share in every decile. "
            "Source: MHCLG English Indices of Deprivation 2019."
        ),
    )


def lsoa_decile_table(deciles: pd.DataFrame) -> pd.DataFrame:
    """IoD2019 and IoD2025 decile counts side by side, for the page."""
    return pd.DataFrame(
        {
            "IMD decile (1 = most deprived)": deciles["imd_decile"],
            "LSOAs 2011, IMD 2019": deciles["lsoas_2019"],
            "share, IMD 2019 (%)": deciles["share_2019"].round(1),
            "LSOAs 2021, IMD 2025": deciles["lsoas_2025"],
            "share, IMD 2025 (%)": deciles["share_2025"].round(1),
        }
    )


def depression_trend(area: Area) -> pd.DataFrame:
    """Depression, QOF recorded prevalence aged 18+ (%), by year: the area and England.

    Columns: ``period`` ("2014/15"...), ``series`` (the area's name, or for a county
    "<name> districts: middle (band: lowest to highest)", and "England"), ``value``, ``lower`` and ``upper`` (for a
    county the lowest and highest district; otherwise equal to ``value``: the extract has
    no confidence limits), ``districts`` (districts with a value). The extract is District
    & UA on 2023 codes (earlier years re-mapped by Trafford Data Lab); it has no County
    rows, so a county is described by its districts, never by an invented total.
    """
    df = fingertips.indicator("depression_qof", sex="Persons")
    df = df.assign(period=df["period"].astype(str), area_code=df["area_code"].astype(str))
    eng = df[df["area_code"] == ENGLAND_CODE]
    out = [
        pd.DataFrame(
            {
                "period": eng["period"],
                "series": "England",
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
                    "series": area.name,
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
                        "series": _districts_label(area),
                        "value": agg["median"],
                        "lower": agg["min"],
                        "upper": agg["max"],
                        "districts": agg["count"].astype(float),
                    }
                )
            )
    return pd.concat(out, ignore_index=True).sort_values(["series", "period"], ignore_index=True)


def _districts_label(area: Area) -> str:
    return f"{area.name} districts: middle (band: lowest to highest)"


def _depression_kind(area: Area, trend: pd.DataFrame) -> str:
    series = set(trend["series"])
    if area.name in series:
        return "area"
    return "districts" if _districts_label(area) in series else "none"


def depression_figure(area: Area, trend: pd.DataFrame) -> figures.Figure:
    """Depression QOF prevalence 18+ by year, the area (or its districts) against England."""
    periods = sorted(trend["period"].unique())
    kind = _depression_kind(area, trend)
    span = f"{periods[0]} to {periods[-1]}"
    if kind == "districts":
        label = _districts_label(area)
        extra = (
            f"The extract has no figure for {area.name} as a whole, only for its districts: the line is the "
            "middle district each year and the shaded band runs from the lowest to the highest district."
        )
        return figures.trend_chart(
            trend,
            series="series",
            lower="lower",
            upper="upper",
            measure="depression, QOF recorded prevalence 18+",
            unit="%",
            area=label,
            context=f"{area.name}'s districts and England, {span}",
            caption=f"Depression: QOF recorded prevalence, aged 18+, {span}. {extra} Source: OHID Fingertips "
            "indicator 848 (District & UA, 2023 boundaries; earlier years re-mapped by Trafford Data Lab).",
        )
    missing = "" if kind == "area" else f" The extract has no figure for {area.name} or its districts."
    return figures.trend_chart(
        trend,
        series="series",
        lower=None,
        upper=None,
        measure="depression, QOF recorded prevalence 18+",
        unit="%",
        area=area.name if kind == "area" else None,
        context=f"{area.name} and England, {span}",
        caption=f"Depression: QOF recorded prevalence, aged 18+, {area.name} and England, {span}. Values are "
        "rounded to one decimal place; the extract has no confidence limits. Source: OHID Fingertips "
        "indicator 848 (District & UA, 2023 boundaries; earlier years re-mapped by Trafford Data Lab)." + missing,
    )


def _missing_years(periods: list[str]) -> list[str]:
    """Financial years ("2023/24") between the first and last that the extract lacks."""
    starts = [int(p[:4]) for p in periods]
    have = set(starts)
    return [f"{y}/{(y + 1) % 100:02d}" for y in range(min(starts), max(starts) + 1) if y not in have]


def _sentence(key: str, area: Area, values: pd.DataFrame) -> str:
    """Plain English: the area's value, England's, the rank and any note."""
    ind = INDICATORS[key]
    row = values.set_index("indicator").loc[key]
    eng = f"England: {_fmt(row['england'], ind.unit)}" if pd.notna(row["england"]) else row["england_note"]
    if pd.isna(row["value"]):
        return f"There is no {row['period']} value for {area.name}. {row['note']} ({eng}.)"
    own = row["match"] in ("published", "re-mapped", "former code")
    whose = area.name if own else f"the former {row['value_from_name']}"
    order = "most deprived" if key == "imd_score" else "highest"
    text = (
        ind.phrase.format(period=row["period"], value=_fmt(row["value"], ind.unit), place=whose)
        + f" ({eng}). That ranks {row['rank']} of the {row['ranked']} County & UAs with a value, from the {order}."
    )
    return f"{text} {row['note']}".strip()


def _fit_sentence(key: str) -> str:
    line, r = fit(key)
    strength = "strongly" if abs(r.value) >= 0.7 else "moderately" if abs(r.value) >= 0.4 else "weakly"
    direction = "higher" if r.value > 0 else "lower"
    step = 10 * line.slope.value
    d = 2 if abs(step) < 1 else 1  # small slopes (5-16 prevalence) need two decimals to be seen
    return (
        f"Across the {line.n} County & UAs with their own published value, {SUBJECTS[key]} is {strength} "
        f"{direction} where deprivation is higher ({r_text(r)}). Each 10 more points of IMD score go with "
        f"{abs(step):.{d}f} percentage points {'more' if step > 0 else 'less'} on average "
        f"(95% CI {10 * line.slope.lower_cl:.{d}f} to {10 * line.slope.upper_cl:.{d}f})."
    )


def headline_numbers(area: Area) -> dict:
    """Numbers and sentences glued into the chapter's prose (keys used by the notebook)."""
    values = area_values(area)
    out: dict[str, object] = {"area_name": area.name}
    for key in INDICATORS:
        out[f"{key}_sentence"] = _sentence(key, area, values)
        out[f"{key}_period"] = str(values.set_index("indicator").loc[key, "period"])
    for key in PREVALENCES:
        out[f"{key}_fit_sentence"] = _fit_sentence(key)
    deciles = lsoa_deciles(area)
    out["lsoas_2019"] = int(deciles["lsoas_2019"].sum())
    out["lsoas_2025"] = int(deciles["lsoas_2025"].sum())
    out["most_deprived_share_2019"] = float(deciles.loc[deciles["imd_decile"] == 1, "share_2019"].iloc[0])
    out["most_deprived_share_2025"] = float(deciles.loc[deciles["imd_decile"] == 1, "share_2025"].iloc[0])
    out["worst_three_share_2019"] = float(deciles.loc[deciles["imd_decile"] <= 3, "share_2019"].sum())
    out["depression_sentence"] = _depression_sentence(area, depression_trend(area))
    return out


def _depression_sentence(area: Area, trend: pd.DataFrame) -> str:
    periods = sorted(trend["period"].unique())
    eng = trend[trend["series"] == "England"].set_index("period")["value"]
    first, last = periods[0], periods[-1]
    gaps = _missing_years(periods)
    gap = f" The extract has no figures for {', '.join(gaps)}." if gaps else ""
    kind = _depression_kind(area, trend)
    england = (
        f"England's recorded prevalence rose from {_fmt(eng.get(first), '%')} in {first} "
        f"to {_fmt(eng.get(last), '%')} in {last}."
    )
    if kind == "none":
        return f"{england} The extract has no figures for {area.name} or its districts.{gap}"
    label = area.name if kind == "area" else _districts_label(area)
    mine = trend[trend["series"] == label].set_index("period")
    lo, hi = mine["value"].first_valid_index(), mine["value"].last_valid_index()
    if kind == "area":
        local = (
            f"In {area.name} it went from {_fmt(mine.loc[lo, 'value'], '%')} in {lo} to "
            f"{_fmt(mine.loc[hi, 'value'], '%')} in {hi}."
        )
    else:
        local = (
            f"The extract has no figure for {area.name} as a whole, only for its districts: in {hi} they ranged "
            f"from {_fmt(mine.loc[hi, 'lower'], '%')} to {_fmt(mine.loc[hi, 'upper'], '%')}, with the middle "
            f"district at {_fmt(mine.loc[hi, 'value'], '%')}."
        )
    return f"{england} {local}{gap}"
