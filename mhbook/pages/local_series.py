"""The "Your area's NHS Talking Therapies, year by year" chapter: its sentences, display
tables, captions and charts.

Numbers come from ``mhbook.measures.local_series`` (the area's footprint each NHS year, its
funnel in total and by IMD decile against England, the recovery gap and the SII by year);
this module puts them into words, rounds them for display and draws them, computing
nothing new. ``notebooks/local_series.md`` holds the chapter's fixed text and calls one
function here per glued block, table or chart; the summary chapter reuses
``summary_sentences`` and ``trend_figure``.

Display rules: counts whole, summed counts with the rounding they carry ("1,230 ± 7.5");
percentages and their limits at one decimal and referral rates per 100,000 at none, limits
rounded outwards (``mhbook.figures.numbers``); shares of residents as whole percentages
("less than 1%", "over 99%"); a year without a usable footprint, a gap or an SII says why
(:func:`no_footprint_note`, :func:`gap_reason`, :func:`sii_reason`, from the measures' codes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown

from mhbook import figures
from mhbook.areas import Area
from mhbook.errors import SchemaError
from mhbook.figures import numbers
from mhbook.figures.segments import segmented_trend_chart
from mhbook.measures.local_series import (
    INSIDE,
    LIMITS_AT_BOUND,
    MEASURES,
    MIN_DECILES,
    NO_MAJORITY,
    NO_RESIDENTS,
    SUPPRESSED,
    TOO_FEW_DECILES,
    UNPUBLISHED,
    LocalFootprint,
    footprints,
    funnel,
    gaps,
    hub_referrals,
    latest_by_type,
    sii_by_year,
    years,
)
from mhbook.pages import iapt_deprivation

POPULATION_LABEL = "mid-2020 population aged 16+"
#: Name of each trend chart of the chapter, by measure.
TREND_NAMES = {
    "referral_rate": "local-trend-referrals",
    "finished_pct": "local-trend-finished",
    "recovery_pct": "local-trend-recovery",
    "improvement_pct": "local-trend-improvement",
}


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    footprints: list[LocalFootprint]  # the footprint in each year of ``years()``
    funnel: pd.DataFrame  # funnel(area): footprint and England, every year, total and by decile
    gaps: pd.DataFrame  # gaps(area): recovery gap between deciles 10 and 1, each year
    sii: pd.DataFrame  # sii_by_year(area)


def chapter_numbers(area: Area) -> ChapterNumbers:
    """The chapter's measures for ``area`` (kept in memory by the measures module, so the
    display functions below, which take the area, read the same tables)."""
    return ChapterNumbers(area, footprints(area), funnel(area), gaps(area), sii_by_year(area))


def glued_values(n: ChapterNumbers) -> dict[str, object]:
    """Every number and sentence the chapter's text glues in, by name."""
    return headline_numbers(n.area)


# --- footprints -------------------------------------------------------------------------------


def _pct(x: float) -> str:
    """A share (0-1) as a whole percentage, "less than 1%" and "over 99%" at the ends."""
    if 0 < x < 0.005:
        return "less than 1%"
    if 0.995 <= x < 1:
        return "over 99%"
    return f"{100 * x:.0f}%"


def no_footprint_note(fp: LocalFootprint) -> str:
    """Why the year of ``fp`` has no usable footprint, in one sentence ("" when it has one)."""
    if fp.available:
        return ""
    if fp.unusable == UNPUBLISHED:
        why = f"NHS England published no {fp.org_type} figures in {fp.period} for {', '.join(fp.unpublished)}"
    elif fp.unusable == NO_MAJORITY and fp.largest is not None:
        name, share = fp.largest
        why = (
            f"no {fp.org_type} lying inside {fp.area_name}, nor any single {fp.org_type}, holds at least "
            f"half of its residents (the largest, {name}, holds {_pct(share)})"
        )
    else:
        raise SchemaError(
            f"local_series: {fp.area_name} {fp.period} has no footprint and an unknown reason {fp.unusable!r}; "
            f"expected {UNPUBLISHED!r} or {NO_MAJORITY!r} (with its largest organisation)"
        )
    return f"{fp.area_name} has no usable NHS footprint in {fp.period}: {why}."


def describe(fp: LocalFootprint) -> str:
    """A plain sentence: organisation, fit, shares and year."""
    if not fp.available:
        return no_footprint_note(fp)
    kind = {"CCG": "Clinical Commissioning Group", "ICB": "Integrated Care Board"}[fp.org_type]
    if fp.method == "own" and len(fp.orgs) > 1:
        what = (
            f"the {len(fp.orgs)} {kind}s lying inside it, added together ({'; '.join(f'{n}, {c}' for c, n in fp.orgs)})"
        )
    elif fp.method == "own":
        what = f"{fp.orgs[0][1]} ({fp.orgs[0][0]})"
    else:
        what = f"{fp.orgs[0][1]} ({fp.orgs[0][0]}), which straddles the area's boundary"
    it, its = ("them", "their") if len(fp.orgs) > 1 else ("it", "its")
    text = (
        f"In {fp.period} {fp.area_name} is represented by {what}: {_pct(fp.coverage)} of the "
        f"area's residents live in {it} and {_pct(fp.purity)} of {its} residents live in the area "
        f"(fit: {fp.grade})."
    )
    shown = [o for o in fp.others if o[2] >= 0.01]
    if shown:
        text += (
            " Not included: "
            + "; ".join(
                f"{name} ({code}), home to {_pct(share)} of the area's residents, {_pct(inside)} of its own "
                f"living in the area"
                for code, name, share, inside in shown
            )
            + "."
        )
    return text


def footprint_table(area: Area) -> pd.DataFrame:
    """One row per year: organisation(s), type, method, coverage, purity, fit, note."""
    rows = []
    for fp in footprints(area):
        rows.append(
            {
                "year": fp.period,
                "organisation type": fp.org_type,
                "organisation(s)": fp.label if fp.available else "none usable",
                "how chosen": {
                    "own": "own organisation(s), counts added" if len(fp.orgs) > 1 else "own organisation",
                    "straddling": "straddles the boundary",
                    None: "-",
                }[fp.method],
                "area residents in footprint (%)": round(100 * fp.coverage, 1) if fp.available else np.nan,
                "footprint residents in area (%)": round(100 * fp.purity, 1) if fp.available else np.nan,
                "fit": fp.grade or "none",
                "note": no_footprint_note(fp),
            }
        )
    return pd.DataFrame(rows)


# --- tables and figures -----------------------------------------------------------------------


def _bounded(count: pd.Series, bound: pd.Series) -> pd.Series:
    text = count.map(lambda v: f"{v:,.0f}") + " ± " + bound.map(lambda v: f"{v:g}")
    return text.where(count.notna())


def funnel_table(area: Area) -> pd.DataFrame:
    """Totals per year, footprint and England, readable (for the page and its CSV): each
    value at the precision of its limits, limits rounded outwards; counts whole."""
    df = funnel(area)
    df = df[df["imd_decile"] == 0]
    return pd.DataFrame(
        {
            "year": df["period"],
            "organisation": df["organisation"],
            "fit": df["fit"],
            "referrals (± rounding)": _bounded(df["referrals"], df["referrals_bound"]),
            f"{POPULATION_LABEL}": numbers.counts_series(df["population_16plus"]),
            "referrals per 100,000 aged 16+": numbers.numbers_series(df["referral_rate"], 0),
            "referral rate 95% limits": numbers.limits_series(df["referral_rate_lower"], df["referral_rate_upper"], 0),
            "finished (% of referrals, no test: different cohorts)": numbers.numbers_series(df["finished_pct"], 1),
            "recovery (%)": numbers.numbers_series(df["recovery_pct"], 1),
            "recovery 95% limits": numbers.limits_series(df["recovery_pct_lower"], df["recovery_pct_upper"], 1),
            "reliable improvement (%)": numbers.numbers_series(df["improvement_pct"], 1),
        }
    ).reset_index(drop=True)


def decile_table(area: Area, period: str) -> pd.DataFrame | None:
    """The footprint's funnel by decile in one year, or None without a footprint."""
    df = funnel(area)
    df = df[(df["period"] == period) & (df["series"] == "footprint") & (df["imd_decile"] > 0)]
    if df.empty:
        return None
    return pd.DataFrame(
        {
            "IMD decile (1 = most deprived)": df["imd_decile"],
            "referrals (± rounding)": _bounded(df["referrals"], df["referrals_bound"]),
            f"{POPULATION_LABEL}": numbers.counts_series(df["population_16plus"]),
            "referrals per 100,000 aged 16+": numbers.numbers_series(df["referral_rate"], 0),
            "finished (% of referrals, no test: different cohorts)": numbers.numbers_series(df["finished_pct"], 1),
            "finished at caseness": numbers.counts_series(df["at_caseness"]),
            "recovered": numbers.counts_series(df["recovery"]),
            "recovery (%)": numbers.numbers_series(df["recovery_pct"], 1),
            "recovery 95% limits": numbers.limits_series(df["recovery_pct_lower"], df["recovery_pct_upper"], 1),
            "reliable improvement (%)": numbers.numbers_series(df["improvement_pct"], 1),
        }
    ).reset_index(drop=True)


def publish_decile_tables(area: Area) -> Markdown:
    """One captioned table (with CSV) per year; a sentence for a year without a footprint."""
    parts = []
    for fp in footprints(area):
        table = decile_table(area, fp.period)
        if table is None:
            parts.append(f"**{fp.period}.** {no_footprint_note(fp)}\n")
            continue
        caption = (
            f"NHS Talking Therapies by {iapt_deprivation.imd_label(fp.period)}, {fp.label}, {fp.period} "
            f"(fit: {fp.grade}). "
            "Deciles are NHS England's breakdown of the organisation's referrals by the "
            "deprivation of the patient's neighbourhood, not of the area's neighbourhoods only. "
            f"Rates use the {POPULATION_LABEL} of the organisation's LSOAs in each decile."
        )
        parts.append(figures.publish_table(table, f"local-deciles-{fp.period}", caption=caption).data)
    return Markdown("\n".join(parts))


def gap_reason(reason: str, empty_deciles: tuple = ()) -> str:
    """Why a year has no recovery gap, from the ``reason`` code of ``gaps`` ("" for none)."""
    if reason == NO_RESIDENTS:
        return f"the footprint has no residents in decile {' or '.join(map(str, empty_deciles))}"
    if reason == SUPPRESSED:
        return "recovery in decile 1 or 10 is suppressed (small numbers)"
    if reason == "":
        return ""
    raise SchemaError(f"local_series: unknown reason {reason!r} in gaps; expected {NO_RESIDENTS!r} or {SUPPRESSED!r}")


def sii_reason(reason: str, deciles: int = 0, missing_deciles: tuple = ()) -> str:
    """Why a year has no SII, from the ``reason`` code of ``sii_by_year`` ("" for none)."""
    if reason == SUPPRESSED:
        return (
            f"recovery is suppressed or not published for decile(s) {', '.join(map(str, missing_deciles))}, "
            "where the footprint has residents; an SII without them would be biased"
        )
    if reason == TOO_FEW_DECILES:
        return f"only {deciles} deciles have published recovery; an SII needs {MIN_DECILES}"
    if reason == LIMITS_AT_BOUND:
        return (
            "a decile has so few people at caseness that its limits (widened for rounding) reach 0% or "
            "100%; the PHE method cannot simulate them"
        )
    if reason == "":
        return ""
    raise SchemaError(
        f"local_series: unknown reason {reason!r} in sii_by_year; expected "
        f"{SUPPRESSED!r}, {TOO_FEW_DECILES!r} or {LIMITS_AT_BOUND!r}"
    )


def _gap_reasons(g: pd.DataFrame) -> pd.Series:
    """:func:`gap_reason` of each row of a ``gaps`` table."""
    return pd.Series([gap_reason(r, e) for r, e in zip(g["reason"], g["empty_deciles"])], index=g.index, dtype=object)


def gap_table(area: Area) -> pd.DataFrame:
    """Recovery in deciles 1 and 10 and the gap per year, readable, with reasons."""
    g = gaps(area)
    return pd.DataFrame(
        {
            "year": g["period"],
            "organisation": g["organisation"],
            "fit": g["fit"],
            "recovery, most deprived decile (%)": numbers.numbers_series(g["recovery_most_deprived"], 1),
            "recovery, least deprived decile (%)": numbers.numbers_series(g["recovery_least_deprived"], 1),
            "gap (percentage points)": numbers.numbers_series(g["gap"], 1),
            "gap 95% limits": numbers.limits_series(g["gap_lower"], g["gap_upper"], 1),
            "why no gap": _gap_reasons(g),
        }
    )


def sii_table(area: Area) -> pd.DataFrame:
    """SII/RII per year and series, readable, with the reason where none is computed."""
    s = sii_by_year(area)
    return pd.DataFrame(
        {
            "year": s["period"],
            "organisation": s["organisation"],
            "fit": s["fit"],
            "deciles used": s["deciles"],
            "SII (percentage points)": numbers.numbers_series(s["sii"], 1),
            "SII 95% limits": numbers.limits_series(s["sii_lower"], s["sii_upper"], 1),
            "RII": numbers.numbers_series(s["rii"], 2),
            "RII 95% limits": numbers.limits_series(s["rii_lower"], s["rii_upper"], 2),
            "why no SII": [sii_reason(r, n, m) for r, n, m in zip(s["reason"], s["deciles"], s["missing_deciles"])],
        }
    )


def _series_frame(area: Area, column: str) -> pd.DataFrame:
    df = funnel(area)
    df = df[df["imd_decile"] == 0]
    return _trend_frame(area, df, column)


def _trend_frame(area: Area, df: pd.DataFrame, column: str) -> pd.DataFrame:
    own = f"{area.name}'s NHS footprint"
    out = pd.DataFrame(
        {
            "period": df["period"].to_numpy(),
            "series": np.where(df["series"] == "England", "England", own),
            "segment": np.where(
                df["series"] == "England",
                "England",
                df["organisation"] + np.where(df["fit"] != "", " (fit: " + df["fit"] + ")", ""),
            ),
            "kind": df["org_type"].to_numpy(),
            "value": df[column].to_numpy(),
            "lower_cl": df[f"{column}_lower"].to_numpy(),
            "upper_cl": df[f"{column}_upper"].to_numpy(),
        }
    )
    return out


def _who(area: Area) -> str:
    """Which organisations the footprint line describes, year by year, compactly."""
    runs: list[tuple[str, str, str]] = []
    for fp in footprints(area):
        what = f"{fp.short_label}, fit {fp.grade}" if fp.available else "no footprint"
        if runs and runs[-1][2] == what:
            runs[-1] = (runs[-1][0], fp.period, what)
        else:
            runs.append((fp.period, fp.period, what))
    return "; ".join(f"{a}{'' if a == b else ' to ' + b}: {w}" for a, b, w in runs)


def trend_figure(area: Area, measure: str) -> figures.Figure:
    """One measure, every year of ``years()``, the area's footprint against England."""
    _, _, label, unit = MEASURES[measure]
    data = _series_frame(area, measure)
    return segmented_trend_chart(
        data,
        years(),
        measure=label,
        unit=unit,
        context=f"{area.name}'s NHS footprint and England",
        area=f"{area.name}'s NHS footprint",
        caption=(
            f"{label[:1].upper() + label[1:]}, {area.name}'s NHS footprint against England, "
            f"{years()[0]} to {years()[-1]}, with 95% limits widened for rounding. Footprint by year: "
            f"{_who(area)}. Referral rates use the {POPULATION_LABEL}."
        ),
    )


def gap_figure(area: Area) -> figures.Figure:
    """The recovery gap (least minus most deprived decile) over time, footprint and England."""
    g = gaps(area)
    own = f"{area.name}'s NHS footprint"
    data = pd.DataFrame(
        {
            "period": g["period"],
            "series": np.where(g["series"] == "England", "England", own),
            "segment": np.where(g["series"] == "England", "England", g["organisation"] + " (fit: " + g["fit"] + ")"),
            "kind": g["org_type"],
            "value": g["gap"],
            "lower_cl": g["gap_lower"],
            "upper_cl": g["gap_upper"],
        }
    )
    return segmented_trend_chart(
        data,
        years(),
        measure="recovery gap (decile 10 minus 1)",
        unit="percentage points",
        context=f"{area.name}'s NHS footprint and England",
        area=own,
        caption=(
            f"Recovery in the least deprived decile minus the most deprived decile, {own} against "
            f"England, {years()[0]} to {years()[-1]}, with 95% limits (Newcombe, widened for rounding). "
            f"Above zero: recovery is higher in the least deprived neighbourhoods. Footprint by "
            f"year: {_who(area)}."
        ),
    )


def attrition_figure(area: Area, org_type: str) -> figures.Figure | Markdown:
    """The Commission's "goes into reverse" graph for the latest CCG or ICB year."""
    fp = latest_by_type(area).get(org_type)
    if fp is None:
        return Markdown(
            f"{area.name} has no usable {org_type} footprint in any year, so there is no {org_type} graph by decile."
        )
    df = funnel(area)
    df = df[(df["period"] == fp.period) & (df["imd_decile"] > 0)]
    own = f"{fp.short_label} (fit: {fp.grade})"
    parts = []
    for name, (_, _, label, _) in MEASURES.items():
        parts.append(
            pd.DataFrame(
                {
                    "measure": label,
                    "imd_decile": df["imd_decile"],
                    "value": df[name],
                    "lower_cl": df[f"{name}_lower"],
                    "upper_cl": df[f"{name}_upper"],
                    "series": np.where(df["series"] == "England", "England", own),
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    return figures.attrition_panels(
        long,
        series="series",
        order=[m[2] for m in MEASURES.values()],
        units={m[2]: m[3] for m in MEASURES.values()},
        ncols=2,
        area=own,
        context=f"{fp.label} and England, {fp.period}",
        caption=(
            f"NHS Talking Therapies by deprivation decile as published (1 = most deprived), {fp.label} (fit: "
            f"{fp.grade}) against England, {fp.period}, with 95% limits widened for rounding. "
            "Suppressed deciles are left blank."
        ),
    )


def publish_attrition(area: Area, org_type: str) -> Markdown:
    """The "goes into reverse" graph for the latest ``org_type`` year, published, or the
    sentence saying why there is none."""
    fig = attrition_figure(area, org_type)
    if isinstance(fig, Markdown):
        return fig
    return figures.publish(fig, f"local-attrition-{org_type.lower()}")


def hub_note(period: str) -> str:
    """How many referrals in ``period`` sit with hubs or UNKNOWN, left out of every area."""
    hubs = hub_referrals(period)
    if hubs is None:
        return ""
    n, eng = hubs.referrals, hubs.england_referrals
    return (
        f"In {period}, {n:,.0f} of England's {eng:,.0f} referrals ({100 * n / eng:.1f}%) were recorded "
        f"against non-geographic commissioning hubs or an unknown CCG "
        f"({', '.join(hubs.codes)}) and belong to no area's footprint."
    )


# --- prose ---------------------------------------------------------------------------------------


def _first_last(area: Area, series: str = "footprint") -> tuple[pd.Series | None, pd.Series | None]:
    df = funnel(area)
    df = df[(df["imd_decile"] == 0) & (df["series"] == series)].dropna(subset=["recovery_pct"])
    if df.empty:
        return None, None
    return df.iloc[0], df.iloc[-1]


def _gap_sentence(area: Area) -> str:
    every = gaps(area)
    every = every[every["series"] == "footprint"]
    g = every.dropna(subset=["gap"])
    without = every[every["gap"].isna()]
    reasons = "; ".join(
        f"{', '.join(part['period'])}: {reason}" for reason, part in without.groupby(_gap_reasons(without), sort=False)
    )
    missing = f" There is no gap for {reasons}." if len(without) else ""
    if len(g) < 2:
        return (
            f"There are too few years with published recovery for both the most and least deprived "
            f"deciles in {area.name}'s footprint to say whether the gap changed.{missing}"
        )
    a, b = g.iloc[0], g.iloc[-1]
    change = b["gap"] - a["gap"]
    overlap = not (a["gap_upper"] < b["gap_lower"] or b["gap_upper"] < a["gap_lower"])
    if abs(change) < 0.05:
        verb = "was unchanged"
    else:
        verb = "narrowed" if abs(b["gap"]) < abs(a["gap"]) else "widened"
    caveat = (
        " Their 95% limits overlap, so the change may be chance." if overlap else " Their 95% limits do not overlap."
    )
    same = (
        " The two years describe different organisations, so part of the change may come from the change of footprint."
        if a["organisation"] != b["organisation"]
        else ""
    )
    return (
        f"The recovery gap between the least and most deprived deciles in {area.name}'s footprint {verb}: "
        f"{a['gap']:.1f} percentage points in {a['period']} ({a['organisation']}, fit {a['fit']}) and "
        f"{b['gap']:.1f} in {b['period']} ({b['organisation']}, fit {b['fit']}).{caveat}{same}{missing}"
    )


def summary_sentences(area: Area) -> dict[str, str]:
    """Glue-ready sentences for the summary page (keys ``local_series_*``).

    ``local_series_recovery``: recovery in the area's own footprint in the first and latest
    years with data, naming each organisation and fit; ``local_series_gap``: whether the
    gap between most and least deprived deciles narrowed; ``local_series_footprints``:
    which organisation each year's numbers describe; ``local_series_england``: England's
    recovery the same two years.
    """
    a, b = _first_last(area)
    if a is None:
        recovery = (
            f"No year from {years()[0]} to {years()[-1]} has a usable NHS footprint with published "
            f"recovery for {area.name}."
        )
        england = ""
    else:
        recovery = (
            f"Recovery in {area.name}'s own NHS footprint was {a['recovery_pct']:.1f}% in {a['period']} "
            f"({a['organisation']}, fit {a['fit']}) and {b['recovery_pct']:.1f}% in {b['period']} "
            f"({b['organisation']}, fit {b['fit']})."
        )
        eng = funnel(area)
        eng = eng[(eng["series"] == "England") & (eng["imd_decile"] == 0)].set_index("period")["recovery_pct"]
        england = (
            f"In England it was {eng[a['period']]:.1f}% in {a['period']} and {eng[b['period']]:.1f}% in {b['period']}."
        )
    return {
        "local_series_recovery": recovery,
        "local_series_england": england,
        "local_series_gap": _gap_sentence(area),
        "local_series_footprints": f"Footprint by year: {_who(area)}.",
    }


def _describe_runs(fps: list[LocalFootprint]) -> str:
    """:func:`describe` once per run of years with the same footprint, naming the years."""
    out, i = [], 0
    while i < len(fps):
        j = i
        while j + 1 < len(fps) and describe(fps[j + 1]).replace(fps[j + 1].period, "") == describe(fps[i]).replace(
            fps[i].period, ""
        ):
            j += 1
        text = describe(fps[i])
        if j > i:
            text = text.replace(f"In {fps[i].period} ", f"From {fps[i].period} to {fps[j].period} ", 1)
            text = text.replace(f"in {fps[i].period}:", f"from {fps[i].period} to {fps[j].period}:", 1)
        out.append(text)
        i = j + 1
    return " ".join(out)


def headline_numbers(area: Area) -> dict[str, object]:
    """Values and sentences glued into the chapter's prose."""
    fps = footprints(area)
    usable = [fp for fp in fps if fp.available]
    values: dict[str, object] = {
        "area_name": area.name,
        "first_year": years()[0],
        "last_year": years()[-1],
        "n_usable": len(usable),
        "n_years": len(years()),
        "footprint_sentences": _describe_runs(fps),
        "hub_notes": " ".join(filter(None, (hub_note(p) for p in years()))),
        "inside_pct": f"{100 * INSIDE:.0f}%",
        "grades_text": (
            "exact: at least 99% of the area's residents live in the footprint and at least 99% "
            "of the footprint's residents live in the area; close: both at least 90%; partial: "
            "both at least 50%; poor: either below 50%"
        ),
    }
    values.update(summary_sentences(area))
    s = sii_by_year(area)
    s = s[s["series"] == "footprint"]
    ok = s.dropna(subset=["sii"])
    values["sii_sentence"] = (
        f"An SII could be computed for {len(ok)} of the {len(s)} years with a footprint"
        + (f" ({', '.join(ok['period'])})" if len(ok) else "")
        + "."
        + ("" if len(ok) == len(s) else " In the other years NHS England suppressed small decile counts.")
    )
    return values


# --- as published, with captions ---------------------------------------------------------------


def publish_footprint_table(area: Area) -> Markdown:
    """The area's footprint in each year."""
    return figures.publish_table(
        footprint_table(area),
        "local-footprints",
        caption="The area's NHS footprint in each year: organisation(s), how they were chosen, "
        "the share of the area's residents living in them, the share of their residents living "
        "in the area, and the fit grade (mid-2020 populations).",
        missing_label="-",
    )


def publish_funnel_table(area: Area) -> Markdown:
    """The funnel, every year, footprint and England."""
    return figures.publish_table(
        funnel_table(area),
        "local-funnel",
        caption="NHS Talking Therapies, the area's footprint (organisation and fit as named) and "
        "England, each year. Counts below England level are rounded to the nearest 5; summed "
        "counts carry the rounding (±) and limits are widened for it. Referral rates use the "
        "mid-2020 population aged 16+ of the footprint's neighbourhoods.",
        missing_label="suppressed",
    )


def publish_trend(area: Area, measure: str) -> Markdown:
    """``trend_figure(area, measure)``, published under its name in :data:`TREND_NAMES`."""
    return figures.publish(trend_figure(area, measure), TREND_NAMES[measure])


def publish_gap_figure(area: Area) -> Markdown:
    """The recovery gap over time."""
    return figures.publish(gap_figure(area), "local-recovery-gap")


def publish_gap_table(area: Area) -> Markdown:
    """Recovery in deciles 1 and 10 and the gap, each year."""
    return figures.publish_table(
        gap_table(area),
        "local-recovery-gap-table",
        caption="Recovery in the most (1) and least (10) deprived deciles (as published by NHS England) and the gap "
        "between them, the area's footprint (organisation and fit as named) and England, each "
        "year, with 95% limits widened for rounding; where there is no gap, the reason.",
        missing_label="-",
    )


def publish_sii_table(area: Area) -> Markdown:
    """SII and RII of recovery, each year."""
    return figures.publish_table(
        sii_table(area),
        "local-sii",
        caption="Slope and relative indices of inequality in recovery across deprivation deciles as published, "
        "the area's footprint (organisation and fit as named) and England, each year, with 95% "
        "simulated limits (PHE method); where none is computed, the reason.",
        missing_label="-",
    )
