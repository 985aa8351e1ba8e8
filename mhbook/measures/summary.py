"""The area's landing page: its triple barrier against England at a glance.

Need: modelled and recorded prevalence for the County & UA (from
``mhbook.measures.prevalence``). Access and outcomes: NHS Talking Therapies for the
area's NHS footprint (``mhbook.measures.footprints``), referrals per 100,000 aged 16+
over the population nearest the year (Poisson limits) and NHS England's published
recovery and reliable improvement percentages (Wilson limits); below England level all
limits carry the rounding of counts to 5 (``mhbook.stats.rounding``). Coercion: Mental
Health Act detentions per 100,000 (all ages, the latest Mental Health Act year) for the finest footprint that fits
the area, with its ICB beside it (``mhbook.measures.coercion``), against the like-for-like
England rate. Each is compared with England as Fingertips does, at 95% and 99.8%:
better/worse for outcomes (high is good), higher/lower for referral and detention rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import stats
from mhbook.areas import Area
from mhbook.figures import numbers
from mhbook.measures import coercion, prevalence, talking_therapies
from mhbook.measures.footprints import Footprint
from mhbook.measures.iapt_deprivation import population_year
from mhbook.pages.deprivation_prevalence import england_note, value_note  # moves with this chapter's page
from mhbook.pages.footprint_notes import footprint_note  # the sentence: moves with this chapter's page

LEVELS = (0.95, 0.998)

#: Which step of NHS England's Advancing Mental Health Equalities process each chapter serves.
AMHE_STEPS = [
    ("The triple barrier", "1A: use existing data to understand local inequalities in need, access and outcomes"),
    ("Deprivation and prevalence", "1A: use existing data (prevalence and deprivation, mapped and compared)"),
    ("Talking therapies by deprivation", "1A and 4A: existing data, benchmarked against England over time"),
    (
        "Exploring inequality",
        "4A: collect and benchmark data by ethnicity, age, sex, sexual orientation and disability",
    ),
    ("The report's claims, re-checked", "1A: test national evidence with current data"),
]


def _compare(value, lower, upper, benchmark, polarity):
    """Fingertips' category at one level, as a word."""
    return stats.compare_to_benchmark(value, lower, upper, benchmark, polarity=polarity)


def _row(
    barrier,
    measure,
    unit,
    period,
    geography,
    value,
    england,
    limits95=None,
    limits998=None,
    polarity=None,
    note="",
    decimals=None,
):
    row = {
        "barrier": barrier,
        "measure": measure,
        "unit": unit,
        "period": period,
        "geography": geography,
        "value": value,
        "england": england,
        "decimals": decimals,
        "lower_95": np.nan,
        "upper_95": np.nan,
        "vs_england_95": "Not compared",
        "vs_england_99_8": "Not compared",
        "note": note,
    }
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
        compared = r.compared if isinstance(r.compared, str) else None
        test = (
            "Compared with England as Fingertips publishes it (95%); the extract holds no limits, so there "
            "is no 99.8% test."
            if compared
            else "Modelled estimate published without confidence limits, so it is not tested against England."
        )
        notes = [value_note(area.name, r.indicator, r._asdict()), england_note(r.indicator, r.england_middle), test]
        note = " ".join(n.rstrip(".") + "." for n in notes if isinstance(n, str) and n)
        row = _row("need", r.label, r.unit, r.period, area.name, r.value, r.england, note=note)
        if compared:
            row["vs_england_95"] = compared
        rows.append(row)
    return rows


#: measure key of ``talking_therapies.headline`` -> label on the page
_IAPT_LABELS = {
    "referrals": "referrals per 100,000 aged 16+",
    "recovery": "recovery (% of those finished at caseness)",
    "improvement": "reliable improvement (% finished)",
}


def _iapt_rows(footprint: Footprint) -> list[dict]:
    period = footprint.period
    england = talking_therapies.headline(period, "England", "All")
    local = talking_therapies.headline(period, footprint.org_type, footprint.org_code)
    year = population_year(period)
    where = f"{footprint.org_name} ({footprint.org_code})"
    rows = []
    for key, label in _IAPT_LABELS.items():
        loc, eng = local.loc[key], england.loc[key]
        if key == "referrals":
            barrier, unit, polarity, decimals = "access", "per 100,000", None, None
            note = (
                f"Referrals received in {period} over the {year} population aged 16+ of the footprint's "
                f"neighbourhoods ({_POPULATION_SOURCE[year]}); England over England's {year} population. "
                "Limits carry the rounding of the footprint's count to 5. A referral rate has no polarity: "
                "higher or lower, not better or worse."
            )
        else:
            barrier, unit, polarity, decimals = "outcome", "%", "high_is_good", int(loc["decimals"])
            note = (
                f"NHS England's published percentage ({loc['value_source']}); limits carry the rounding of "
                "counts to 5 and of the percentage to a whole number."
            )
        rows.append(
            _row(
                barrier,
                label,
                unit,
                period,
                where,
                loc["value"],
                eng["value"],
                (loc["lower_95"], loc["upper_95"]),
                (loc["lower_99_8"], loc["upper_99_8"]),
                polarity=polarity,
                decimals=decimals,
                note=note,
            )
        )
    return rows


_POPULATION_SOURCE = {"mid-2020": "ONS mid-2020 LSOA estimates", "mid-2015": "IoD2019 denominators, mid-2015"}


def _coercion_rows(area: Area) -> list[dict]:
    measure = "Mental Health Act detentions per 100,000"
    rows = []
    for i, r in enumerate(coercion.detention_rates(area).itertuples()):
        geography = r.geography if i == 0 else f"{r.geography}, for context"
        note = (
            f"Crude rate, all ages, {r.period}; {r.fit_text}. England: {r.england:.1f} per 100,000, the "
            f"publisher's total over all {r.org_type}s (MHSDS), like for like; England's all-source rate "
            f"({coercion.england_all_sources():.1f}) includes detentions assigned to no organisation. Limits "
            "carry the rounding of counts to 5. A detention rate has no polarity: higher or lower, not better "
            "or worse."
        )
        if pd.isna(r.value):
            note = f"Not available for {r.geography}: {r.note}. " + note
        row = _row(
            "coercion",
            measure,
            "per 100,000",
            r.period,
            geography,
            r.value,
            r.england,
            (r.lower_95, r.upper_95),
            (r.lower_998, r.upper_998),
            polarity=None,
            note=note,
        )
        row["fit"] = r.fit
        rows.append(row)
    return rows


def barrier_table(area: Area, footprint: Footprint) -> pd.DataFrame:
    """One row per headline measure: ``barrier`` (need/access/outcome/coercion), ``measure``,
    ``unit``, ``period``, ``geography``, ``value``, ``england`` (the like-for-like England
    value), 95% limits, Fingertips' comparison with England at 95% and 99.8% (better/
    worse only where the measure has a polarity), ``fit`` (coercion: how well the
    footprint fits) and a ``note``. Coercion has a second row: the ICB, for context."""
    rows = _need_rows(area)
    if footprint.available:
        rows += _iapt_rows(footprint)
    rows += _coercion_rows(area)
    return pd.DataFrame(rows)


def _decimals(table: pd.DataFrame) -> pd.Series:
    """Decimals per row: a percentage NHS England publishes as a whole number is shown as
    one; otherwise the unit's precision (``figures.numbers``)."""
    dec = pd.Series([numbers.decimals_for(u, v) for u, v in zip(table["unit"], table["value"])], index=table.index)
    if "decimals" in table:
        dec = table["decimals"].fillna(dec).astype(int)
    return dec


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The barrier table as shown on the page: value, limits and England at one precision
    per row, limits rounded outwards (a value never outside its limits)."""
    dec = _decimals(table)
    return pd.DataFrame(
        {
            "barrier": table["barrier"],
            "measure": table["measure"],
            "where": table["geography"],
            "period": table["period"],
            "value": numbers.numbers_series(table["value"], dec),
            "95% limits": numbers.limits_series(table["lower_95"], table["upper_95"], dec),
            "England": numbers.numbers_series(
                table["england"],
                pd.Series(
                    [numbers.decimals_for(u, v) for u, v in zip(table["unit"], table["value"])], index=table.index
                ),
            ),
            "against England (95% / 99.8%)": (table["vs_england_95"] + " / " + table["vs_england_99_8"]).where(
                table["vs_england_95"] != stats.benchmark.NOT_COMPARED, "not compared"
            ),
        }
    )


def amhe_table() -> pd.DataFrame:
    """Chapters and the Advancing Mental Health Equalities step each serves."""
    return pd.DataFrame(AMHE_STEPS, columns=["chapter", "Advancing Mental Health Equalities step"])


def sentences(area: Area, footprint: Footprint, table: pd.DataFrame) -> dict:
    """Plain-English sentences for the page, built from the table."""
    out = {
        "area_name": area.name,
        "region_name": area.region_name,
        "footprint_note": footprint_note(footprint),
        "n_districts": len(area.districts),
    }
    for barrier in ("access", "outcome", "coercion"):
        rows = table[table["barrier"] == barrier]
        parts = []
        for r in rows.itertuples():
            if pd.isna(r.value):
                parts.append(_sentence(f"{r.measure}: no value for {r.geography} ({r.period}): {r.note}"))
                continue
            word = r.vs_england_99_8.lower() if r.vs_england_99_8 != "Not compared" else "not compared"
            word95 = r.vs_england_95.lower() + (" to" if r.vs_england_95 == "Similar" else " than")
            unit = "" if r.unit == "per 100,000" else "%"
            dec = int(r.decimals) if pd.notna(r.decimals) else numbers.decimals_for(r.unit, r.value)
            shown = numbers.with_limits(r.value, r.lower_95, r.upper_95, dec)
            eng = numbers.number(r.england, numbers.decimals_for(r.unit, r.value))
            fit = f" ({r.fit} fit to the area)" if isinstance(getattr(r, "fit", None), str) else ""
            parts.append(
                _sentence(
                    f"{r.measure} in {r.geography}{fit}, {r.period}: {shown}{unit} against "
                    f"{eng}{unit} in England ({word95} England at 95% confidence, {word} at "
                    f"99.8%)."
                )
            )
        out[f"{barrier}_text"] = (
            " ".join(parts) if parts else (f"No NHS footprint could be mapped for {area.name} in {footprint.period}.")
        )
    need = table[table["barrier"] == "need"]
    need_parts = []
    for r in need.itertuples():
        if pd.isna(r.value):
            need_parts.append(f"{r.measure}: no value for {area.name} ({r.note})")
        else:
            tested = (
                f", {r.vs_england_95.lower()}{' to' if r.vs_england_95 == 'Similar' else ' than'} England "
                "by Fingertips' published comparison"
                if r.vs_england_95 != stats.benchmark.NOT_COMPARED
                else ""
            )
            need_parts.append(
                f"{r.measure} {r.value:.1f}% ({r.period}; England {r.england:.1f}%{tested})"
                if pd.notna(r.england)
                else f"{r.measure} {r.value:.1f}% ({r.period}; England's value is not in the data this "
                "book was built from)"
            )
    out["need_text"] = _sentence("; ".join(need_parts) + ".")
    return out


def _sentence(text: str) -> str:
    """Capitalise the first letter (measure labels are lower case, as in the charts)."""
    return text[:1].upper() + text[1:]


def gap_table(rows: pd.DataFrame) -> pd.DataFrame:
    """``triple_barrier.summary_rows`` as shown on the page."""
    return pd.DataFrame(
        {
            "where": rows["geography"],
            "group": rows["group"],
            "barrier": rows["barrier"],
            "measure": rows["measure"],
            "period": rows["period"],
            "ratio to whole population": numbers.numbers_series(rows["ratio"], 2),
            "95% limits": numbers.limits_series(rows["ratio_lower"], rows["ratio_upper"], 2),
        }
    )


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
    return pd.DataFrame(
        {
            "characteristic": strict["breakdown_title"],
            "group": strict["group"],
            "measure": measure.fillna(strict["measure"]),
            "people": numbers.counts_series(strict["denominator"]),
            "group value": strict["value"].round(1),
            "overall value": strict["benchmark"].round(1),
            "gap (percentage points)": strict["gap"].round(1),
        }
    )
