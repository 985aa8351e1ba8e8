"""NHS Talking Therapies (IAPT) by deprivation decile: the Commission's attrition graph.

For one organisation and year: referrals per 100,000 people aged 16 and over, the share
of referrals that finished a course of treatment, recovery among those at caseness and
reliable improvement among those who finished, each by IMD 2019 decile (1 = most
deprived) with 95% limits; and, across years, the slope and relative indices of
inequality (PHE method) and the odds ratio per decile step (binomial model).

Sources: ``mhbook.sources.iapt`` (NHS Digital annual reports), population by decile
from the IoD2019 denominators (mid-2015, ``mhbook.sources.imd``), LSOA to ICB / Sub-ICB
2022 from ``mhbook.sources.lookups``. This module returns numbers only; the chapter's
words, display tables and charts are in ``mhbook.pages.iapt_deprivation``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import reads, stats
from mhbook.measures._quiet import quietly
from mhbook.measures.deprivation_gradient import recovery_sii
from mhbook.sources import iapt, imd, lookups, population

#: Seed for the SII simulations, so a rebuilt book shows identical limits.
SEED = 2020
#: Monte Carlo repetitions for SII/RII limits (PHE's default).
REPETITIONS = 100_000

#: The four stages of ``decile_attrition``, in the Commission's order: referrals per
#: 100,000 aged 16+, finished treatment (% of referrals), recovery (% finished at
#: caseness) and reliable improvement (% finished).
MEASURES = ("referral_rate", "finished_pct", "recovery_pct", "improvement_pct")


#: First NHS year whose nearest population is ONS mid-2020 (the latest the data hold);
#: earlier years use the IoD2019 denominators (mid-2015).
MID_2020_FROM = "2019-20"


#: First NHS year that could have used IMD 2019 (published by MHCLG on 26 September 2019):
#: the annual files do not say which edition of the IMD their deciles come from, and years
#: to 2018-19 must have used an earlier one (IMD 2015).
IMD2019_POSSIBLE_FROM = "2019-20"


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
    for name in MEASURES:
        keep += [name, f"{name}_lower", f"{name}_upper"]
    return df[keep]


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
