"""NHS Talking Therapies (IAPT) by deprivation decile: the Commission's attrition graph.

For one organisation and year: referrals per 100,000 people aged 16 and over, the share
of referrals that finished a course of treatment, recovery among those at caseness and
reliable improvement among those who finished, each by IMD 2019 decile (1 = most
deprived) with 95% limits; and, across years, the slope and relative indices of
inequality (PHE method) and the odds ratio per decile step (binomial model).

Sources: ``mhbook.sources.iapt`` (NHS Digital annual reports), population by decile
from the IoD2019 denominators (mid-2015, ``mhbook.sources.imd``), LSOA to ICB / Sub-ICB
2022 from ``mhbook.sources.lookups``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import figures, reads, stats
from mhbook.areas import Area
from mhbook.figures import numbers
from mhbook.measures._quiet import quietly
from mhbook.measures.deprivation_gradient import recovery_sii
from mhbook.measures.footprints import Footprint
from mhbook.sources import iapt, imd, lookups, population

#: Seed for the SII simulations, so a rebuilt book shows identical limits.
SEED = 2020
#: Monte Carlo repetitions for SII/RII limits (PHE's default).
REPETITIONS = 100_000

MEASURE_LABELS = {
    "referral_rate": "referrals per 100,000 aged 16+",
    "finished_pct": "finished treatment (% of referrals)",
    "recovery_pct": "recovery (% finished at caseness)",
    "improvement_pct": "reliable improvement (% finished)",
}


#: First NHS year whose nearest population is ONS mid-2020 (the latest the data hold);
#: earlier years use the IoD2019 denominators (mid-2015).
MID_2020_FROM = "2019-20"


#: First NHS year that could have used IMD 2019 (published by MHCLG on 26 September 2019).
IMD2019_POSSIBLE_FROM = "2019-20"


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


def population_year(period: str) -> str:
    """The population used for ``period``'s rates: the one nearest the year that the data
    hold ("mid-2020" ONS LSOA estimates from 2019-20, else "mid-2015" IoD2019 denominators)."""
    return "mid-2020" if period >= MID_2020_FROM else "mid-2015"


@reads.cached(maxsize=1)
def _lsoa_16plus_2020() -> pd.DataFrame:
    pop = population.lsoa_2020("16+")[["lsoa11_code", "population"]]
    deciles = imd.lsoa_2019()[["lsoa11_code", "imd_decile"]]
    return deciles.merge(pop, on="lsoa11_code", how="left", validate="one_to_one")


def population_16plus(org_type: str, org_code: str, period: str) -> pd.DataFrame:
    """Population aged 16+ by IMD 2019 decile (1 = most deprived) in England or one ICB /
    CCG (LSOAs placed by the July 2022 lookup), from the population nearest ``period``
    (:func:`population_year`). Columns ``imd_decile``, ``population_16plus`` (persons)."""
    if org_type == "England":
        lsoas = None
    else:
        column = {"ICB": "icb22_ods", "CCG": "sicbl22_ods"}[org_type]
        nhs = lookups.lsoa11_nhs22()
        lsoas = nhs.loc[nhs[column] == org_code, "lsoa11_code"].tolist()
    if population_year(period) == "mid-2020":
        table = _lsoa_16plus_2020()
        if lsoas is not None:
            table = table[table["lsoa11_code"].isin(lsoas)]
        pop = table.groupby("imd_decile")["population"].sum().reindex(range(1, 11), fill_value=0)
        return pd.DataFrame({"imd_decile": pop.index, "population_16plus": pop.to_numpy()})
    pop = imd.population_by_decile(lsoas)
    pop["population_16plus"] = pop["population_16_59"] + pop["population_60_plus"]
    return pop[["imd_decile", "population_16plus"]]


def decile_attrition(period: str, org_type: str = "England", org_code: str = "All") -> pd.DataFrame:
    """One row per IMD decile for one organisation and year.

    Columns: ``period, org_type, org_code, org_name, imd_decile`` (1 = most deprived),
    the published counts ``referrals, finished, recovery, improvement`` and
    ``caseness_finished`` (finished minus not at caseness: NHS England's recovery denominator),
    ``recovery_pct_published`` (NHS's figure), ``population_16plus`` (nearest the year:
    :func:`population_year`), and for
    each of ``referral_rate`` (per 100,000, Byar/exact limits), ``finished_pct``,
    ``recovery_pct``, ``improvement_pct`` (%, Wilson limits) the value and
    ``<name>_lower``/``<name>_upper`` 95% limits. Suppressed counts are NaN, and so is
    everything computed from them.
    """
    return _decile_attrition(period, org_type, org_code).copy(deep=False)  # copy-on-write


@reads.cached(maxsize=64, stored=True)  # each page asks for England's years again; the tables are small
def _decile_attrition(period: str, org_type: str, org_code: str) -> pd.DataFrame:
    raw = iapt.by_decile(period, org_type, org_code)
    df = raw.rename(
        columns={
            "referrals_received": "referrals",
            "finished_course_treatment": "finished",
            "recovery_pct": "recovery_pct_published",
        }
    )
    df["imd_decile"] = df["imd_decile"].astype(int)
    if "referrals" not in df:  # legacy years publish outcomes only by decile
        df["referrals"] = np.nan
    df = df.merge(population_16plus(org_type, org_code, period), on="imd_decile", how="left")
    # NHS England's recovery denominator: finished treatment minus not at caseness at the start.
    df["caseness_finished"] = df["finished"] - df["not_at_caseness"]
    pairs = {
        "finished_pct": ("finished", "referrals"),
        "recovery_pct": ("recovery", "caseness_finished"),
        "improvement_pct": ("improvement", "finished"),
    }
    # A decile with no residents in the footprint (or no one at a stage) has no rate or
    # share, rather than an error: its denominator becomes missing.
    for column in ("population_16plus", "referrals", "caseness_finished", "finished"):
        df[column] = df[column].where(df[column] > 0)
    for name, (num, den) in pairs.items():
        # Finished and referred are different cohorts, so in a small footprint more can
        # finish than were referred; that is no proportion, and is left missing.
        numerator = df[num].where(~(df[num] > df[den]))
        res = quietly(stats.proportion, numerator, df[den])
        df[name], df[f"{name}_lower"], df[f"{name}_upper"] = res["value"], res["lower_cl"], res["upper_cl"]
    # ... and so the share finishing gets no binomial interval: it is not a proportion of one cohort.
    df["finished_pct_lower"] = df["finished_pct_upper"] = np.nan
    res = quietly(stats.rate, df["referrals"], df["population_16plus"], multiplier=100_000)
    df["referral_rate"], df["referral_rate_lower"], df["referral_rate_upper"] = (
        res["value"],
        res["lower_cl"],
        res["upper_cl"],
    )
    keep = [
        "period",
        "org_type",
        "org_code",
        "org_name",
        "imd_decile",
        "referrals",
        "finished",
        "caseness_finished",
        "recovery",
        "improvement",
        "recovery_pct_published",
        "population_16plus",
    ]
    for name in MEASURE_LABELS:
        keep += [name, f"{name}_lower", f"{name}_upper"]
    return df[keep]


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


def gradient_by_year(org_type: str = "England", org_code: str = "All") -> pd.DataFrame:
    """Recovery gradient by deprivation for every year with decile data.

    One row per period: ``sii`` (percentage points, least minus most deprived end of the
    fitted line; positive means recovery is higher in less deprived areas) and ``rii``
    (ratio of the fitted values at the two ends) with 95% limits, simulated with PHE's
    method from each decile's Wilson limits and weighted by the number at caseness; and
    ``odds_ratio`` per decile step towards less deprived areas with 95% limits and a
    trend test p-value (binomial GLM allowing for overdispersion).
    """
    return _gradient_by_year(org_type, org_code).copy(deep=False)  # copy-on-write


@reads.cached(maxsize=8, stored=True)  # simulated limits for every year: computed once, kept on disk
def _gradient_by_year(org_type: str, org_code: str) -> pd.DataFrame:
    rows = []
    for period in iapt.periods():
        try:
            table = decile_attrition(period, org_type, org_code)
        except Exception:  # no decile rows published for this year
            continue
        table = table.dropna(subset=["recovery", "caseness_finished"])
        if len(table) < 5:
            continue
        s = recovery_sii(
            decile=table["imd_decile"],
            at_caseness=table["caseness_finished"],
            recovery_pct=table["recovery_pct"],
            recovery_pct_lower=table["recovery_pct_lower"],
            recovery_pct_upper=table["recovery_pct_upper"],
            repetitions=REPETITIONS,
            random_state=SEED,
        )
        g = quietly(
            stats.gradient,
            quantile=table["imd_decile"],
            numerator=table["recovery"],
            denominator=table["caseness_finished"],
            family="binomial",
            overdispersion=True,
        )
        rows.append(
            {
                "period": period,
                "deciles": len(table),
                "sii": s["sii"].iloc[0],
                "sii_lower": s["sii_lower_cl"].iloc[0],
                "sii_upper": s["sii_upper_cl"].iloc[0],
                "rii": s["rii"].iloc[0],
                "rii_lower": s["rii_lower_cl"].iloc[0],
                "rii_upper": s["rii_upper_cl"].iloc[0],
                "odds_ratio": g["value"].iloc[0],
                "odds_ratio_lower": g["lower_cl"].iloc[0],
                "odds_ratio_upper": g["upper_cl"].iloc[0],
                "p_trend": g["p_trend"].iloc[0],
                "recovery_most_deprived": table.loc[table.imd_decile == 1, "recovery_pct"].squeeze(),
                "recovery_least_deprived": table.loc[table.imd_decile == 10, "recovery_pct"].squeeze(),
            }
        )
    return pd.DataFrame(rows)


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
        "local_note": footprint.note + " " + suppression_note(local),
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
