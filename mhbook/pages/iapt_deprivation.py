"""The Talking therapies by deprivation chapter: its sentences, display tables, captions and charts.

Numbers come from ``mhbook.measures.iapt_deprivation`` (NHS Talking Therapies by IMD
decile, 1 = most deprived, and the recovery gradient across years) and the area's NHS
footprint from ``mhbook.measures.footprints``; this module puts them into words, rounds
them for display and draws them, computing nothing new. ``notebooks/iapt_deprivation.md``
holds the chapter's fixed text and calls one function here per glued block, table or chart.

Display rules: counts as whole numbers, referral rates per 100,000 to no decimals,
percentages to one decimal, each value beside its 95% limits at the same precision
(limits rounded outwards, ``mhbook.figures.numbers``); suppressed counts are missing,
never zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from mhbook import figures
from mhbook.areas import Area
from mhbook.figures import numbers
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.measures.iapt_deprivation import (
    IMD2019_POSSIBLE_FROM,
    decile_attrition,
    gradient_by_year,
    population_year,
)
from mhbook.pages.footprint_notes import footprint_note

#: Axis and panel label of each stage (``MEASURES`` of the measures module), in order.
MEASURE_LABELS = {
    "referral_rate": "referrals per 100,000 aged 16+",
    "finished_pct": "finished treatment (% of referrals)",
    "recovery_pct": "recovery (% finished at caseness)",
    "improvement_pct": "reliable improvement (% finished)",
}


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    england: pd.DataFrame  # decile_attrition(period): England in the Commission's year
    latest: pd.DataFrame  # decile_attrition(latest_period): England in the latest year
    trend: pd.DataFrame  # gradient_by_year(): England, every year with deciles
    footprint: Footprint  # the area's NHS footprint in the latest year
    local: pd.DataFrame  # decile_attrition of the footprint in the latest year


def chapter_numbers(area: Area, period: str, latest_period: str) -> ChapterNumbers:
    """The chapter's measures for ``area``: England in ``period`` (the Commission's year)
    and in ``latest_period``, England's gradient by year, and the footprint in ``latest_period``."""
    footprint = iapt_footprint(area, latest_period)
    return ChapterNumbers(
        area,
        decile_attrition(period),
        decile_attrition(latest_period),
        gradient_by_year(),
        footprint,
        decile_attrition(latest_period, footprint.org_type, footprint.org_code),
    )


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return headline_numbers(n.england, n.latest, n.trend, n.footprint, n.local, n.area)


# --- charts and tables as published ----------------------------------------------------------


def publish_latest_attrition(n: ChapterNumbers) -> Markdown:
    """England's four panels by decile in the latest year."""
    return figures.publish(attrition_figure(n.latest), "attrition-england")


def publish_latest_deciles(n: ChapterNumbers) -> Markdown:
    """England's decile table in the latest year, with its caption."""
    return figures.publish_table(
        decile_table(n.latest),
        "england-deciles",
        caption=f"NHS Talking Therapies by deprivation decile, England, {_period(n.latest)}: counts as "
        "published by NHS England, rates and percentages computed from them with 95% limits, and "
        "NHS England's own recovery percentage (rounded to one decimal).",
    )


def publish_local_attrition(n: ChapterNumbers) -> Markdown:
    """The footprint's panels beside England's, latest year."""
    return figures.publish(local_figure(n.latest, n.local, n.footprint), "attrition-local")


def publish_local_deciles(n: ChapterNumbers) -> Markdown:
    """The footprint's decile table, latest year, suppressed counts shown as such."""
    return figures.publish_table(
        decile_table(n.local),
        "local-deciles",
        caption=f"Referrals, finished treatment, recovery and reliable improvement by deprivation "
        f"decile for the area's NHS footprint, {_period(n.latest)}. Counts below England level are rounded "
        "to the nearest 5 and small counts are suppressed by NHS England (shown as 'suppressed').",
        missing_label="suppressed",
    )


def publish_trend_chart(n: ChapterNumbers) -> Markdown:
    """The SII of recovery by year."""
    return figures.publish(trend_figure(n.trend), "recovery-sii-trend")


def publish_trend_table(n: ChapterNumbers) -> Markdown:
    """The gradient by year as a table, with its caption."""
    return figures.publish_table(
        trend_table(n.trend),
        "gradient-by-year",
        caption="Recovery by deprivation decile, England, each year: slope and relative indices "
        "of inequality with 95% limits, and the odds ratio of recovery per decile step towards "
        "less deprived areas (binomial model, test for trend).",
    )


def publish_commission_year_attrition(n: ChapterNumbers) -> Markdown:
    """England's four panels by decile in the Commission's year."""
    return figures.publish(attrition_figure(n.england), "attrition-england-commission-year")


def publish_commission_year_deciles(n: ChapterNumbers) -> Markdown:
    """England's decile table in the Commission's year."""
    return figures.publish_table(
        decile_table(n.england),
        "england-deciles-commission-year",
        caption=f"NHS Talking Therapies by deprivation decile, England, {_period(n.england)} (the Commission's "
        "year), as the table for the latest year.",
    )


def _period(table: pd.DataFrame) -> str:
    return str(table["period"].iloc[0])


# --- words about the deciles ---------------------------------------------------------------


def imd_label(period: str) -> str:
    """What the IMD deciles of ``period`` are, as far as the published files tell.

    NHS Digital / NHS England assign each referral the decile of its LSOA; the annual
    files do not say which edition of the IMD they used. IMD 2019 was published in
    September 2019, so years to 2018-19 must have used an earlier edition (IMD 2015);
    from 2019-20 it may be IMD 2019. The book therefore says "deprivation decile as
    published" and names what is known."""
    if period < IMD2019_POSSIBLE_FROM:
        return f"deprivation decile as published for {period} (an IMD edition before 2019, as IMD 2019 appeared later)"
    return f"deprivation decile as published for {period} (the files do not say whether IMD 2015 or 2019)"


def imd_switch_note(periods: list[str]) -> str:
    """A sentence marking where the IMD edition behind the deciles may change, for trends."""
    before = [p for p in periods if p < IMD2019_POSSIBLE_FROM]
    after = [p for p in periods if p >= IMD2019_POSSIBLE_FROM]
    if not before or not after:
        return ""
    return (
        f"Deciles up to {before[-1]} come from an IMD edition before 2019 (IMD 2019 was published in "
        f"September 2019); from {after[0]} NHS may have used IMD 2019, so a step between {before[-1]} and "
        f"{after[0]} can reflect the change of index as well as of recovery."
    )


def attrition_long(table: pd.DataFrame, series: str) -> pd.DataFrame:
    """The four attrition measures of ``decile_attrition`` in long form for the panels."""
    parts = []
    for name, label in MEASURE_LABELS.items():
        parts.append(
            pd.DataFrame(
                {
                    "measure": label,
                    "imd_decile": table["imd_decile"],
                    "value": table[name],
                    "lower_cl": table[f"{name}_lower"],
                    "upper_cl": table[f"{name}_upper"],
                    "series": series,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def attrition_figure(table: pd.DataFrame, series: str = "England") -> figures.Figure:
    """The Commission's graph for one organisation and year: four panels by decile."""
    period = table["period"].iloc[0]
    return figures.attrition_panels(
        attrition_long(table, series),
        series="series",
        order=list(MEASURE_LABELS.values()),
        units={label: ("per 100,000" if key == "referral_rate" else "%") for key, label in MEASURE_LABELS.items()},
        context=f"{series}, {period}",
        ncols=2,
        caption=(
            f"NHS Talking Therapies by {imd_label(period)}, 1 = most deprived, {series}, {period}: "
            f"referrals per 100,000 people aged 16+ ({population_year(period)} population), and the share "
            "finishing treatment, recovering and reliably improving, with 95% confidence limits. Finished "
            "treatment and referrals in the same year are different cohorts, so that share is shown without "
            "a test."
        ),
    )


def local_figure(england: pd.DataFrame, local: pd.DataFrame, footprint: Footprint) -> figures.Figure:
    """England and the area's footprint side by side, same year."""
    period = england["period"].iloc[0]
    long = pd.concat([attrition_long(england, "England"), attrition_long(local, footprint.org_name)])
    return figures.attrition_panels(
        long,
        series="series",
        order=list(MEASURE_LABELS.values()),
        units={label: ("per 100,000" if key == "referral_rate" else "%") for key, label in MEASURE_LABELS.items()},
        context=f"{footprint.org_name} and England, {period}",
        ncols=2,
        area=footprint.org_name,
        caption=(
            f"NHS Talking Therapies by {imd_label(period)}, 1 = most deprived, {footprint.org_name} "
            f"against England, both {period}, with 95% confidence limits; referral rates over the "
            f"{population_year(period)} population aged 16+. Counts below England level are rounded to 5 "
            "and small ones suppressed; suppressed deciles are left blank."
        ),
    )


def decile_table(table: pd.DataFrame) -> pd.DataFrame:
    """A readable table of ``decile_attrition`` for the page and its CSV: counts as whole
    numbers, each value beside its limits at the same precision (limits rounded outwards)."""
    period = table["period"].iloc[0]
    return pd.DataFrame(
        {
            "year": table["period"],
            "organisation": table["org_name"],
            "IMD decile (1 = most deprived)": table["imd_decile"],
            "referrals": numbers.counts_series(table["referrals"]),
            f"population aged 16+ ({population_year(period)})": numbers.counts_series(table["population_16plus"]),
            "referrals per 100,000 aged 16+": numbers.numbers_series(table["referral_rate"], 0),
            "referral rate 95% limits": numbers.limits_series(
                table["referral_rate_lower"], table["referral_rate_upper"], 0
            ),
            "finished treatment": numbers.counts_series(table["finished"]),
            "finished (% of referrals, no test: different cohorts)": numbers.numbers_series(table["finished_pct"], 1),
            "finished at caseness": numbers.counts_series(table["caseness_finished"]),
            "recovered": numbers.counts_series(table["recovery"]),
            "recovery (%)": numbers.numbers_series(table["recovery_pct"], 1),
            "recovery (%), 95% limits": numbers.limits_series(
                table["recovery_pct_lower"], table["recovery_pct_upper"], 1
            ),
            "recovery (%, as published)": table["recovery_pct_published"],
            "reliable improvement (% finished)": numbers.numbers_series(table["improvement_pct"], 1),
            "reliable improvement 95% limits": numbers.limits_series(
                table["improvement_pct_lower"], table["improvement_pct_upper"], 1
            ),
        }
    )


def trend_figure(trend: pd.DataFrame) -> figures.Figure:
    """SII of recovery by year with its 95% limits."""
    first, last = trend["period"].iloc[0], trend["period"].iloc[-1]
    return figures.trend_chart(
        trend,
        x="period",
        value="sii",
        lower="sii_lower",
        upper="sii_upper",
        measure="slope index of inequality in recovery",
        unit="percentage points",
        context=f"England, {first} to {last}",
        reference=0.0,
        reference_label="no gradient",
        caption=(
            f"Slope index of inequality in recovery across deprivation deciles as published, England, "
            f"{first} to {last}, with 95% simulated limits. Above zero: recovery higher in less deprived "
            f"areas. {imd_switch_note(list(trend['period']))}"
        ),
    )


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """A readable table of ``gradient_by_year``."""
    return pd.DataFrame(
        {
            "year": trend["period"],
            "deciles": [imd_label(p) for p in trend["period"]],
            "recovery, most deprived decile (%)": numbers.numbers_series(trend["recovery_most_deprived"], 1),
            "recovery, least deprived decile (%)": numbers.numbers_series(trend["recovery_least_deprived"], 1),
            "SII (percentage points)": numbers.numbers_series(trend["sii"], 1),
            "SII 95% limits": numbers.limits_series(trend["sii_lower"], trend["sii_upper"], 1),
            "RII": numbers.numbers_series(trend["rii"], 2),
            "RII 95% limits": numbers.limits_series(trend["rii_lower"], trend["rii_upper"], 2),
            "odds ratio per decile step": numbers.numbers_series(trend["odds_ratio"], 3),
            "odds ratio 95% limits": numbers.limits_series(trend["odds_ratio_lower"], trend["odds_ratio_upper"], 3),
            "p for trend": trend["p_trend"].map(lambda p: "<0.001" if p < 0.001 else f"{p:.3f}"),
        }
    )


def _ends(table: pd.DataFrame, suffix: str) -> dict:
    d1, d10 = (table.set_index("imd_decile").loc[d] for d in (1, 10))
    return {
        f"eng_referrals_d1{suffix}": d1["referrals"],
        f"eng_rate_d1{suffix}": d1["referral_rate"],
        f"eng_rate_d10{suffix}": d10["referral_rate"],
        f"eng_recovery_d1{suffix}": d1["recovery_pct_published"],
        f"eng_recovery_d10{suffix}": d10["recovery_pct_published"],
    }


def headline_numbers(
    england: pd.DataFrame,
    latest: pd.DataFrame,
    trend: pd.DataFrame,
    footprint: Footprint,
    local: pd.DataFrame | None,
    area: Area,
) -> dict:
    """Numbers and sentences glued into the chapter's prose: England in the latest year
    (suffix ``_latest``) and in the Commission's year (no suffix), each value computed by
    the same function as the figure and table beside it."""
    period, latest_period = england["period"].iloc[0], latest["period"].iloc[0]
    values = {
        "area_name": area.name,
        "period": period,
        "latest_period": latest_period,
        "population_year": population_year(period),
        "population_year_latest": population_year(latest_period),
        "imd_label_latest": imd_label(latest_period),
        "first_trend_period": trend["period"].iloc[0],
        "last_trend_period": trend["period"].iloc[-1],
        "sii_first": trend["sii"].iloc[0],
        "sii_last": trend["sii"].iloc[-1],
        "imd_switch_note": imd_switch_note(list(trend["period"])),
        "local_name": footprint.org_name or "not available",
        "local_note": footprint_note(footprint) + " " + suppression_note(local),
    }
    return values | _ends(england, "") | _ends(latest, "_latest")


def suppression_note(local: pd.DataFrame | None) -> str:
    """Say how many decile values NHS England suppressed in ``local``, if any."""
    if local is None or local.empty:
        return "No decile figures are published for this footprint."
    missing = int(local[["referrals", "finished", "caseness_finished", "recovery"]].isna().sum().sum())
    if missing == 0:
        return "No decile figures are suppressed for this footprint; counts are rounded to the nearest 5."
    return (
        f"{missing} decile counts are suppressed by NHS England (small numbers) and are shown as "
        "'suppressed', not as zero; other counts are rounded to the nearest 5."
    )
