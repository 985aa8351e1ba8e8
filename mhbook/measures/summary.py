"""The area's landing page: its triple barrier against England at a glance.

Need: modelled and recorded prevalence for the County & UA (from
``mhbook.measures.prevalence``). Access and outcomes: NHS Talking Therapies for the
area's NHS footprint (``mhbook.measures.footprints``), referrals per 100,000 aged 16+
(Byar's limits) and recovery and reliable improvement (Wilson limits). Coercion: Mental
Health Act detentions per 100,000 (all ages, 2023-24) for the footprint's ICB, with
limits from the rounded published count. Each is compared with England as Fingertips
does, at 95% and 99.8%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import stats
from mhbook.areas import Area
from mhbook.measures import prevalence
from mhbook.measures._quiet import quietly
from mhbook.measures.footprints import Footprint
from mhbook.measures.iapt_deprivation import population_16plus
from mhbook.sources import iapt, mha

LEVELS = (0.95, 0.998)

#: Which step of NHS England's Advancing Mental Health Equalities process each chapter serves.
AMHE_STEPS = [
    ("The triple barrier", "1A: use existing data to understand local inequalities in need, access and outcomes"),
    ("Deprivation and prevalence", "1A: use existing data (prevalence and deprivation, mapped and compared)"),
    ("Talking therapies by deprivation", "1A and 4A: existing data, benchmarked against England over time"),
    ("Exploring inequality", "4A: collect and benchmark data by ethnicity, age, sex, sexual orientation and disability"),
    ("The report's claims, re-checked", "1A: test national evidence with current data"),
]


def _limits(estimate: stats.Estimate, i: int) -> tuple[float, float]:
    """(lower, upper) of an estimate's i-th confidence level."""
    _, lower, upper = estimate.intervals[i]
    return lower, upper


def _compare(value, lower, upper, benchmark, polarity):
    """Fingertips' category at one level, as a word."""
    return stats.compare_to_benchmark(value, lower, upper, benchmark, polarity=polarity)


def _row(barrier, measure, unit, period, geography, value, england, limits95=None, limits998=None,
         polarity=None, note=""):
    row = {"barrier": barrier, "measure": measure, "unit": unit, "period": period, "geography": geography,
           "value": value, "england": england, "lower_95": np.nan, "upper_95": np.nan,
           "vs_england_95": "Not compared", "vs_england_99_8": "Not compared", "note": note}
    if limits95 is not None and not np.isnan(value):
        row["lower_95"], row["upper_95"] = limits95
        row["vs_england_95"] = _compare(value, *limits95, england, polarity)
        row["vs_england_99_8"] = _compare(value, *limits998, england, polarity)
    return row


def _need_rows(area: Area) -> list[dict]:
    rows = []
    values = prevalence.area_values(area)
    for r in values.itertuples():
        if r.indicator == "imd_score":
            continue
        notes = [r.note, r.england_note, "No confidence limits are published, so it is not tested against England."]
        note = " ".join(n.rstrip(".") + "." for n in notes if isinstance(n, str) and n)
        rows.append(_row("need", r.label, r.unit, r.period, area.name, r.value, r.england, note=note))
    return rows


def _total(period: str, org_type: str, org_code: str) -> pd.Series:
    df = iapt.breakdown("Total", org_type, org_code, period)
    return df.set_index("measure")["count"]


def _iapt_rows(footprint: Footprint) -> list[dict]:
    period = footprint.period
    england = _total(period, "England", "All")
    local = _total(period, footprint.org_type, footprint.org_code)
    pop_e = population_16plus("England", "All")["population_16plus"].sum()
    pop_l = population_16plus(footprint.org_type, footprint.org_code)["population_16plus"].sum()
    rows = []
    e_rate = quietly(stats.rate, england["referrals_received"], pop_e)
    l_rate = quietly(stats.rate, local["referrals_received"], pop_l, confidence=LEVELS)
    rows.append(_row(
        "access", "referrals per 100,000 aged 16+", "per 100,000", period, footprint.org_name,
        l_rate.value, e_rate.value, _limits(l_rate, 0), _limits(l_rate, 1),
        note="Referrals received in the year over the mid-2015 population aged 16+ of the footprint's "
             "neighbourhoods (IoD2019 denominators)."))
    for measure, num, den in (("recovery (% at caseness)", "recovery", "at_caseness"),
                              ("reliable improvement (% finished)", "improvement", "finished_course_treatment")):
        e = quietly(stats.proportion, england[num], england[den])
        loc = quietly(stats.proportion, local[num], local[den], confidence=LEVELS)
        rows.append(_row("outcome", measure, "%", period, footprint.org_name, loc.value, e.value,
                         _limits(loc, 0), _limits(loc, 1), polarity="high_is_good"))
    return rows


def _mha_row(footprint_icb: Footprint) -> dict:
    d = mha.detentions("crude")
    d = d[(d["breakdown"] == "all") & (d["measure"] == "All detentions")]
    eng = d[d["org_type"] == "England"].iloc[0]
    local = d[(d["org_type"] == "ICB") & (d["org_code"] == footprint_icb.org_code)]
    measure = "Mental Health Act detentions per 100,000"
    if local.empty or pd.isna(local["count"].iloc[0]):
        return _row("coercion", measure, "per 100,000", "2023-24", footprint_icb.org_name or "not mapped",
                    np.nan, eng["value"], note="Not published for this ICB (suppressed or not reported).")
    r = local.iloc[0]
    population = r["count"] / r["value"] * 100_000  # the file gives rates, not populations
    est = stats.rate(r["count"], population, confidence=LEVELS)
    return _row("coercion", measure, "per 100,000", "2023-24", footprint_icb.org_name, r["value"], eng["value"],
                _limits(est, 0), _limits(est, 1), polarity="low_is_good",
                note="Crude rate, all ages. Population worked back from the published count and rate; the "
                     "count is rounded to the nearest 5.")


def barrier_table(area: Area, footprint: Footprint) -> pd.DataFrame:
    """One row per headline measure: ``barrier`` (need/access/outcome/coercion), ``measure``,
    ``unit``, ``period``, ``geography``, ``value``, ``england``, 95% limits and Fingertips'
    comparison with England at 95% and 99.8%, and a ``note``."""
    rows = _need_rows(area)
    if footprint.available:
        rows += _iapt_rows(footprint)
        rows.append(_mha_row(footprint))
    return pd.DataFrame(rows)


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The barrier table as shown on the page."""
    def fmt(v, unit):
        if pd.isna(v):
            return None
        return f"{v:,.0f}" if unit == "per 100,000" else f"{v:.1f}"

    return pd.DataFrame({
        "barrier": table["barrier"],
        "measure": table["measure"],
        "period": table["period"],
        "value": [fmt(v, u) for v, u in zip(table["value"], table["unit"])],
        "95% limits": [None if pd.isna(lo) else f"{fmt(lo, u)} to {fmt(hi, u)}"
                       for lo, hi, u in zip(table["lower_95"], table["upper_95"], table["unit"])],
        "England": [fmt(v, u) for v, u in zip(table["england"], table["unit"])],
        "against England (95% / 99.8%)": table["vs_england_95"] + " / " + table["vs_england_99_8"],
    })


def amhe_table() -> pd.DataFrame:
    """Chapters and the Advancing Mental Health Equalities step each serves."""
    return pd.DataFrame(AMHE_STEPS, columns=["chapter", "Advancing Mental Health Equalities step"])


def sentences(area: Area, footprint: Footprint, table: pd.DataFrame) -> dict:
    """Plain-English sentences for the page, built from the table."""
    out = {"area_name": area.name, "region_name": area.region_name, "footprint_note": footprint.note,
           "n_districts": len(area.districts)}
    for barrier in ("access", "outcome", "coercion"):
        rows = table[table["barrier"] == barrier]
        parts = []
        for r in rows.itertuples():
            if pd.isna(r.value):
                parts.append(_sentence(f"{r.measure}: not published for {r.geography} ({r.period})."))
                continue
            word = r.vs_england_99_8.lower() if r.vs_england_99_8 != "Not compared" else "not compared"
            word95 = r.vs_england_95.lower()
            unit = "" if r.unit == "per 100,000" else "%"
            number = f"{r.value:,.0f}" if r.unit == "per 100,000" else f"{r.value:.1f}"
            eng = f"{r.england:,.0f}" if r.unit == "per 100,000" else f"{r.england:.1f}"
            parts.append(_sentence(f"{r.measure} in {r.geography}, {r.period}: {number}{unit} against "
                                   f"{eng}{unit} in England ({word95} at 95% confidence, {word} at 99.8%)."))
        out[f"{barrier}_text"] = " ".join(parts) if parts else (
            f"No NHS footprint could be mapped for {area.name} in {footprint.period}.")
    need = table[table["barrier"] == "need"]
    need_parts = []
    for r in need.itertuples():
        if pd.isna(r.value):
            need_parts.append(f"{r.measure}: no value for {area.name} ({r.note})")
        else:
            need_parts.append(f"{r.measure} {r.value:.1f}% ({r.period}; England {r.england:.1f}%)"
                              if pd.notna(r.england) else f"{r.measure} {r.value:.1f}% ({r.period})")
    out["need_text"] = _sentence("; ".join(need_parts) + ".")
    return out


def _sentence(text: str) -> str:
    """Capitalise the first letter (measure labels are lower case, as in the charts)."""
    return text[:1].upper() + text[1:]


def gap_table(rows: pd.DataFrame) -> pd.DataFrame:
    """``triple_barrier.summary_rows`` as shown on the page."""
    def limits(lo, hi):
        return None if pd.isna(lo) or pd.isna(hi) else f"{lo:.2f} to {hi:.2f}"

    return pd.DataFrame({
        "where": rows["geography"],
        "group": rows["group"],
        "barrier": rows["barrier"],
        "measure": rows["measure"],
        "period": rows["period"],
        "ratio to whole population": rows["ratio"].round(2),
        "95% limits": [limits(lo, hi) for lo, hi in zip(rows["ratio_lower"], rows["ratio_upper"])],
    })


def claim_numbers(verdicts: pd.Series) -> dict:
    """Counts of the claims table's verdicts, for the prose."""
    return {
        "claims_hold": int(verdicts.get("still holds", 0)),
        "claims_partly": int(verdicts.get("partly holds", 0)),
        "claims_no_longer": int(verdicts.get("no longer holds", 0)),
        "claims_untestable": int(verdicts.get("cannot be tested with these data", 0)),
    }


def outcome_gaps(gaps: pd.DataFrame, top: int = 6) -> pd.DataFrame:
    """The groups whose recovery or improvement falls furthest below the footprint's
    overall value, keeping only gaps that pass Fingertips' stricter 99.8% test (so that
    very small groups with wide limits do not lead the list)."""
    strict = gaps[gaps["significance_998"] == "Worse"].head(top)
    measure = strict["measure"].map({"recovery": "recovery (%)", "improvement": "reliable improvement (%)"})
    return pd.DataFrame({
        "characteristic": strict["breakdown_title"],
        "group": strict["group"],
        "measure": measure.fillna(strict["measure"]),
        "people": strict["denominator"].astype("Int64"),
        "group value": strict["value"].round(1),
        "overall value": strict["benchmark"].round(1),
        "gap (percentage points)": strict["gap"].round(1),
    })
