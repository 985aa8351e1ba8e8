"""The Exploring inequality chapter: its sentences, display tables, captions and charts.

Numbers come from ``mhbook.measures.inequality`` (NHS Talking Therapies outcomes by group)
and ``mhbook.measures.detentions_by_ethnicity`` (Mental Health Act rate ratios); this
module puts them into words, rounds them for display and draws them, computing nothing new. ``notebooks/exploring_inequality.md``
holds the chapter's fixed text and calls one function here per glued block, table or
chart, so the notebook carries no logic of its own.

Display rules: percentages below England level are shown as whole numbers where NHS
England published them so (``decimals``), counts rounded by NHS England as published,
suppressed values as "suppressed" (never zero), comparisons with the organisation's
overall value in Fingertips' words at 95% and 99.8% (``comparison_words``).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown

from mhbook import figures, periods, stats
from mhbook.areas import Area
from mhbook.figures import numbers
from mhbook.measures.detentions_by_ethnicity import detention_ratios, subicb_detentions
from mhbook.measures.inequality import (
    BREAKDOWNS,
    LAST_CCG_PERIOD,
    MEASURES,
    NEW_BREAKDOWNS_FROM,
    CcgBesideIcb,
    IaptInequality,
    breakdown_for,
    ccg_beside_icb,
    gaps_from,
    iapt_inequality,
    published_in,
)
from mhbook.pages.footprint_notes import footprint_note

#: Axis and table label of each measure (``MEASURES`` of the measures module).
MEASURE_LABELS = {
    "recovery": "recovery (% of those finished at caseness)",
    "improvement": "reliable improvement (% finished)",
}
#: NHS's explanatory brackets in group names, too long for a chart axis.
_EXPLANATION = re.compile(r" \((such as|Person asked|unable to be)[^)]*\)")


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    iapt: IaptInequality  # NHS Talking Therapies outcomes by group, England and footprint
    ratios: pd.DataFrame  # detention_ratios(area): England and the area's ICB
    subicb: pd.DataFrame  # subicb_detentions(area)
    ccg: CcgBesideIcb  # the area's last CCG year beside its ICB


def chapter_numbers(area: Area, period: str) -> ChapterNumbers:
    """The chapter's measures for ``area``, NHS Talking Therapies year ``period``."""
    return ChapterNumbers(
        area,
        iapt_inequality(area, period),
        detention_ratios(area),
        subicb_detentions(area),
        ccg_beside_icb(area, period),
    )


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return {**headline_numbers(n.area, n.iapt, n.ratios, n.subicb), "ccg_sentence": ccg_sentence(n.area, n.ccg)}


# --- words for the comparisons ---------------------------------------------------------------


def comparison_words(sig95: pd.Series, sig998: pd.Series) -> pd.Series:
    """One phrase per group from the two Fingertips levels: "worse at 99.8%" when the
    99.8% interval also excludes the benchmark, "worse at 95%" when only the 95% one
    does, "similar", or "not compared" (suppressed)."""
    words = sig95.str.lower()
    strong = (sig998 == sig95) & ~sig95.isin([stats.benchmark.SIMILAR, stats.benchmark.NOT_COMPARED])
    level = np.where(strong, " at 99.8%", " at 95%")
    return words.where(sig95.isin([stats.benchmark.SIMILAR, stats.benchmark.NOT_COMPARED]), words + level)


def decimals(rows: pd.DataFrame) -> pd.Series:
    """NHS England publishes percentages below England level as whole numbers: shown so."""
    return pd.Series(
        np.where((rows["org_type"] != "England") & (rows["value_source"] == "published"), 0, 1), index=rows.index
    )


# --- the last CCG year beside the ICB --------------------------------------------------------


def ccg_table(c: CcgBesideIcb) -> pd.DataFrame | None:
    """Recovery by group, one column per organisation and year ("value (limits) (comparison)"
    or "suppressed"), one row per breakdown group; None when only the ICB is shown."""
    if c.recovery is None:
        return None
    t = c.recovery
    names = {(LAST_CCG_PERIOD, c.ccg.org_code): c.ccg.org_name, (c.period, c.icb.org_code): c.icb.org_name}
    long = pd.DataFrame(
        {
            "breakdown": t["breakdown_title"],
            "group": t["group"],
            "column": [f"{names[(p, o)]}, {p}" for p, o in zip(t["period"], t["org_code"])],
            "value": t["value"],
            "lower": t["lower_cl"],
            "upper": t["upper_cl"],
            "vs": comparison_words(t["significance_95"], t["significance_998"]).where(~t["suppressed"], "suppressed"),
            "dec": decimals(t),
        }
    )
    long["shown"] = [
        f"{shown} ({vs})" if shown else "suppressed"
        for shown, vs in zip(
            (
                numbers.with_limits(v, lo, hi, int(d))
                for v, lo, hi, d in zip(long["value"], long["lower"], long["upper"], long["dec"])
            ),
            long["vs"].fillna("not compared"),
        )
    ]
    table = long.pivot_table(
        index=["breakdown", "group"], columns="column", values="shown", aggfunc="first", sort=False
    ).reset_index()
    table.columns.name = None
    return table


def ccg_sentence(area: Area, c: CcgBesideIcb) -> str:
    """Which organisations the CCG table shows and why (or why it is not shown)."""
    if c.recovery is None:
        return (
            f"{area.name}'s {LAST_CCG_PERIOD} Clinical Commissioning Group does not fit the area better "
            f"than its {c.period} Integrated Care Board, so only the ICB is shown."
        )
    ccg, icb = c.ccg, c.icb
    return (
        f"In {LAST_CCG_PERIOD}, the last year NHS England published Clinical Commissioning Groups, "
        f"{ccg.org_name} ({ccg.org_code}) fitted {area.name} better than its {c.period} Integrated Care "
        f"Board: {100 * ccg.population_share:.0f}% of the area's residents lived in it and they were "
        f"{100 * ccg.footprint_share:.0f}% of its residents, against "
        f"{100 * icb.footprint_share:.0f}% of the ICB's. Recovery by group is shown for both, each "
        "against its own organisation's overall value."
    )


def publish_ccg_table(c: CcgBesideIcb) -> Markdown | None:
    """The CCG-beside-ICB table as published on the page (None when it is not shown)."""
    table = ccg_table(c)
    if table is None:
        return None
    return figures.publish_table(
        table,
        "recovery-ccg-beside-icb",
        caption="Recovery (% of those finished at caseness) by group, with 95% limits that carry NHS "
        "England's rounding, and the comparison with each organisation's overall value: the area's last "
        "Clinical Commissioning Group year beside its latest Integrated Care Board year.",
        missing_label="not published",
    )


# --- NHS Talking Therapies breakdowns ---------------------------------------------------------


def forest_figure(result: IaptInequality, key: str, measure: str, which: str) -> figures.Figure:
    """Forest chart of ``measure`` by group of breakdown ``key`` for "england" or "local",
    against the organisation's overall value; 95% limits; comparison at 95%."""
    table = result.england if which == "england" else result.local
    return _forest(table, result.name(which), result.period, key, measure)


def _forest(table: pd.DataFrame, name: str, period: str, key: str, measure: str) -> figures.Figure:
    part = table[(table["breakdown"] == key) & (table["measure"] == measure)]
    label = MEASURE_LABELS[measure]
    title = part["breakdown_title"].iloc[0]
    return figures.forest_chart(
        part.assign(sig=part["significance_95"].str.lower(), label=part["group"].map(chart_label)),
        label="label",
        significance="sig",
        benchmark=float(part["benchmark"].iloc[0]),
        measure=label.split(" (")[0],
        unit="%",
        benchmark_label=f"{name} overall",
        context=f"{name}, {period}",
        caption=(
            f"{label[:1].upper()}{label[1:]} by {title.lower()}, {name}, {period}, with 95% "
            f"Wilson confidence intervals, against {name}'s overall value (dashed line). Marker shape and "
            "the words on the right give the comparison at 95%; the table gives the 99.8% one. "
            f"{suppression_sentence(part)}"
        ),
    )


def chart_label(group: str) -> str:
    """A group name short enough for a chart axis: NHS's explanatory brackets dropped
    (the table keeps them) and long names wrapped onto two lines."""
    short = _EXPLANATION.sub("", group)
    return textwrap.fill(short, 40)


def publish_breakdown(result: IaptInequality, key: str) -> Markdown:
    """Publish the four forest charts (footprint then England; recovery then reliable
    improvement) and the table of one breakdown, as one block of MyST."""
    slug = key.replace("_", "-")
    if not published_in(key, result.period):
        return Markdown(f"*No figures: NHS England did not publish this breakdown in {result.period}.*")
    blocks = []
    for which in ("local", "england"):
        if which == "local" and result.local is None:
            continue
        for measure in MEASURES:
            # Drawn afresh for each area even for England: publish re-lays a chart out for
            # phones and closes it, so a chart object is never published twice. England's
            # renderings are still made once (publish keeps them by the chart's content).
            fig = forest_figure(result, key, measure, which)
            blocks.append(figures.publish(fig, f"{slug}-{measure}-{which}").data)
    blocks.append(
        figures.publish_table(
            breakdown_display(result, key),
            f"{slug}-table",
            caption=(
                f"{breakdown_for(key, result.period).title}, NHS Talking Therapies {result.period}: counts, "
                "recovery and reliable improvement with 95% limits, compared with the organisation's overall "
                "value at 95% and 99.8%. Counts below England level are rounded to 5 by NHS England."
            ),
            missing_label="suppressed",
        ).data
    )
    return Markdown("\n".join(blocks))


def breakdown_display(result: IaptInequality, key: str) -> pd.DataFrame:
    """Readable table of one breakdown: footprint rows first, then England."""
    frames = [result.local, result.england] if result.local is not None else [result.england]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["breakdown"] == key]
    rec, imp = (table[table["measure"] == m].reset_index(drop=True) for m in MEASURES)
    dec = decimals(rec)
    return pd.DataFrame(
        {
            "year": rec["period"],
            "organisation": [result.name("england" if t == "England" else "local") for t in rec["org_type"]],
            "group": rec["group"],
            "referrals": numbers.counts_series(rec["referrals"]),
            "finished at caseness": numbers.counts_series(rec["denominator"]),
            "recovered": numbers.counts_series(rec["numerator"]),
            "recovery (%)": numbers.numbers_series(rec["value"], dec),
            "recovery 95% limits": numbers.limits_series(rec["lower_cl"], rec["upper_cl"], dec),
            "recovery vs overall": comparison_words(rec["significance_95"], rec["significance_998"]).where(
                ~rec["suppressed"]
            ),
            "finished": numbers.counts_series(imp["denominator"]),
            "improved": numbers.counts_series(imp["numerator"]),
            "reliable improvement (%)": numbers.numbers_series(imp["value"], decimals(imp)),
            "improvement 95% limits": numbers.limits_series(imp["lower_cl"], imp["upper_cl"], decimals(imp)),
            "improvement vs overall": comparison_words(imp["significance_95"], imp["significance_998"]).where(
                ~imp["suppressed"]
            ),
        }
    )


def suppression_sentence(table: pd.DataFrame) -> str:
    """How many groups have a suppressed (or unpublished) count, in plain words."""
    groups = table.groupby("group", sort=False)["suppressed"].any()
    n, total = int(groups.sum()), len(groups)
    if n == 0:
        return f"None of the {total} groups is suppressed."
    named = ", ".join(groups.index[groups][:6]) + (" and others" if n > 6 else "")
    verb = "has" if n == 1 else "have"
    return (
        f"{n} of the {total} groups {verb} a suppressed count ({named}): NHS England withholds small "
        "numbers, and these are shown as 'suppressed', not as zero."
    )


# --- Mental Health Act detentions by ethnic group ---------------------------------------------


def publish_ratio_chart(ratios: pd.DataFrame, which: str) -> Markdown:
    """Publish ``ratio_figure(ratios, which)`` ("england" or "local")."""
    return figures.publish(ratio_figure(ratios, which), f"mha-ratios-{which}")


def publish_ratio_table(ratios: pd.DataFrame) -> Markdown:
    """Publish ``ratio_table`` with its caption."""
    return figures.publish_table(
        ratio_table(ratios),
        "mha-ratios",
        caption=f"Mental Health Act detentions by ethnic group, {periods.latest('mha')}: detentions, rates per "
        "100,000 and the ratio to the White rate with 95% limits. Standardised rates allow for "
        "age and sex; crude rates do not.",
        missing_label="suppressed",
    )


def ratio_figure(ratios: pd.DataFrame, which: str) -> figures.Figure:
    """Forest chart of rate ratios on a log scale with the line at 1: "england" draws the
    standardised ratios of every group; "local" the ICB's crude ratios beside England's."""
    if which == "england":
        part = ratios[(ratios["org_type"] == "England") & (ratios["rate_type"] == "standardised")]
        part = part.sort_values("level", kind="stable").assign(label=part["group"])
        context = f"England, {periods.latest('mha')}, age and sex standardised rates"
    else:
        part = ratios[(ratios["rate_type"] == "crude")].copy()
        icb = part.loc[part["org_type"] == "ICB", "org_name"]
        short = _short_icb(icb.iloc[0]) if len(icb) else "ICB"
        part["label"] = part["group"] + " (" + np.where(part["org_type"] == "ICB", short, "England") + ")"
        part = part.sort_values(["group", "org_type"], ascending=[True, False], kind="stable")
        context = f"{short} and England, {periods.latest('mha')}, crude rates"
    part = part.assign(sig=part["significance"].str.lower())
    return figures.forest_chart(
        part,
        label="label",
        value="ratio",
        significance="sig",
        benchmark=1.0,
        log=True,
        measure="detention rate ratio against White",
        benchmark_label="same rate as White",
        context=context,
        decimals=2,
        caption=(
            f"Mental Health Act detentions per head by ethnic group relative to White, {context}, with 95% "
            "confidence intervals, on a log scale; 1 means the same rate as White. Words on the right "
            "say whether the interval excludes 1. " + ratio_suppression(part)
        ),
    )


def ratio_suppression(part: pd.DataFrame) -> str:
    n = int(part["ratio"].isna().sum())
    return "" if n == 0 else f"{n} ratio(s) cannot be computed because a count is suppressed."


def _short_icb(name: str) -> str:
    """ "NHS GREATER MANCHESTER INTEGRATED CARE BOARD" -> "Greater Manchester ICB"."""
    text = str(name).title().replace("Integrated Care Board", "ICB").replace("Icb", "ICB")
    text = re.sub(r"^Nhs ", "", text)
    return re.sub(r"\b(And|Of|The)\b", lambda m: m.group(1).lower(), text)


def ratio_table(ratios: pd.DataFrame) -> pd.DataFrame:
    """Readable table of ``detention_ratios``."""
    return pd.DataFrame(
        {
            "organisation": np.where(ratios["org_type"] == "England", "England", ratios["org_name"].map(_short_icb)),
            "rate": ratios["rate_type"],
            "ethnic group": ratios["group"],
            "detentions": numbers.counts_series(ratios["count"]),
            "rate per 100,000": numbers.numbers_series(ratios["rate"], 1),
            "White rate per 100,000": numbers.numbers_series(ratios["reference_rate"], 1),
            "ratio to White": numbers.numbers_series(ratios["ratio"], 2),
            "95% limits": numbers.limits_series(ratios["lower_cl"], ratios["upper_cl"], 2),
            "compared with 1": ratios["significance"].str.lower().where(ratios["ratio"].notna()),
        }
    )


def _phrase(row: pd.Series) -> str:
    return (
        f"{row['group']} ({row['breakdown_title'].lower()}), {row['value']:.1f}% against "
        f"{row['benchmark']:.1f}% overall"
    )


def headline_numbers(area: Area, result: IaptInequality, ratios: pd.DataFrame, subicb: pd.DataFrame) -> dict:
    """Numbers and sentences glued into the chapter (values computed, never typed)."""
    fp = result.footprint
    eng_std = ratios[(ratios["org_type"] == "England") & (ratios["rate_type"] == "standardised")].set_index("group")
    black = eng_std.loc["Black or Black British"]
    top = eng_std.loc[eng_std["ratio"].idxmax()]
    values = {
        "area_name": area.name,
        "period": result.period,
        "mha_period": periods.latest("mha"),
        "local_name": fp.org_name or "no NHS footprint",
        "footprint_note": footprint_note(fp),
        "new_breakdowns_from": NEW_BREAKDOWNS_FROM,
        "eng_recovery": float(result.england.loc[result.england["measure"] == "recovery", "benchmark"].iloc[0]),
        "eng_improvement": float(result.england.loc[result.england["measure"] == "improvement", "benchmark"].iloc[0]),
        "black_ratio": float(black["ratio"]),
        "black_lower": float(black["lower_cl"]),
        "black_upper": float(black["upper_cl"]),
        "top_ratio_group": str(top.name),
        "top_ratio": float(top["ratio"]),
        "england_gaps": gaps_sentence(gaps_from(result.england), "England"),
        "local_gaps": (
            gaps_sentence(gaps_from(result.local), fp.org_name)
            if result.local is not None
            else f"No footprint figures can be shown: {footprint_note(fp)}"
        ),
        "icb_ratios": icb_sentence(ratios),
        "subicb_note": subicb_sentence(subicb),
        "new_breakdowns_note": new_breakdowns_sentence(result.period),
    }
    for key in BREAKDOWNS:
        values[f"{key}_note"] = breakdown_note(result, key)
    return values


def breakdown_note(result: IaptInequality, key: str) -> str:
    """A plain-English summary of one breakdown for the footprint (or England)."""
    if not published_in(key, result.period):
        return f"NHS England did not publish this breakdown in {result.period}."
    which = result.local if result.local is not None else result.england
    part = which[which["breakdown"] == key]
    name = "England" if result.local is None else result.footprint.org_name
    rec = part[part["measure"] == "recovery"]
    worse = rec[(rec["significance_95"] == stats.benchmark.WORSE) & ~rec["unknown"]]
    better = rec[(rec["significance_95"] == stats.benchmark.BETTER) & ~rec["unknown"]]
    text = f"In {name}, recovery is significantly below the overall {rec['benchmark'].iloc[0]:.1f}% for "
    text += (
        f"{len(worse)} group(s): " + "; ".join(f"{r.group} ({r.value:.1f}%)" for r in worse.itertuples())
        if len(worse)
        else "no group"
    )
    text += "; and significantly above it for " + (
        "; ".join(f"{r.group} ({r.value:.1f}%)" for r in better.itertuples()) if len(better) else "no group"
    )
    return text + ". " + suppression_sentence(rec)


def gaps_sentence(gaps: pd.DataFrame, name: str) -> str:
    if gaps.empty:
        return f"In {name} no group's recovery or reliable improvement is significantly below the overall value."
    rec = gaps[gaps["measure"] == "recovery"]
    text = f"In {name}, the widest significant shortfall in recovery is for "
    text += _phrase(rec.iloc[0]) if len(rec) else "no group"
    imp = gaps[gaps["measure"] == "improvement"]
    if len(imp):
        text += f"; in reliable improvement, for {_phrase(imp.iloc[0])}"
    return text + "."


def icb_sentence(ratios: pd.DataFrame) -> str:
    icb = ratios[ratios["org_type"] == "ICB"]
    if icb.empty:
        return "No ICB figures by ethnicity could be matched to this area."
    name = _short_icb(icb["org_name"].iloc[0])
    black = icb[icb["group"] == "Black or Black British"].iloc[0]
    if pd.isna(black["ratio"]):
        return f"In {name} the rate ratio for Black or Black British people cannot be computed (suppressed counts)."
    return (
        f"In {name}, Black or Black British people were detained at {black['ratio']:.2f} times the White "
        f"crude rate (95% limits {black['lower_cl']:.2f} to {black['upper_cl']:.2f}; {black['rate']:.1f} "
        f"against {black['reference_rate']:.1f} per 100,000)."
    )


def subicb_sentence(subicb: pd.DataFrame) -> str:
    parts = [
        f"{_short_icb(r.org_name)} ({r.rate:.1f} per 100,000)"
        if pd.notna(r.rate)
        else f"{_short_icb(r.org_name)} (suppressed)"
        for r in subicb.dropna(subset=["org_name"]).itertuples()
    ]
    if not parts:
        return "No Sub-ICB figures could be matched to this area."
    return (
        f"NHS England does not publish detentions by ethnicity for Sub-ICB Locations. Their overall crude "
        f"detention rates were: {'; '.join(parts)}, against {subicb['england_rate'].iloc[0]:.1f} per 100,000 "
        "for all Sub-ICBs together (MHSDS)."
    )


def new_breakdowns_sentence(period: str) -> str:
    if period >= NEW_BREAKDOWNS_FROM:
        return (
            f"Sexual orientation and disability are published from {NEW_BREAKDOWNS_FROM} only, and the problem "
            f"descriptor was replaced that year by the presenting complaint; {period} uses the presenting "
            "complaint."
        )
    return (
        f"In {period} NHS England published no sexual orientation or disability breakdowns (they start in "
        f"{NEW_BREAKDOWNS_FROM}), and problems are grouped by the older problem descriptor."
    )
