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
from mhbook.measures import coercion, prevalence, talking_therapies
from mhbook.measures.footprints import Footprint
from mhbook.measures.iapt_deprivation import population_year

LEVELS = (0.95, 0.998)


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
    decimals=None,
    **details,
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
        **details,
    }
    if limits95 is not None and not np.isnan(value):
        row["lower_95"], row["upper_95"] = limits95
        row["vs_england_95"] = _compare(value, *limits95, england, polarity)
        row["vs_england_99_8"] = _compare(value, *limits998, england, polarity)
    return row


#: The fields of ``prevalence.area_values`` that say where a need value comes from.
NEED_SOURCE = ("match", "period", "value_from", "value_from_name", *prevalence.SOURCE_COLUMNS)


def _need_rows(area: Area) -> list[dict]:
    rows = []
    values = prevalence.area_values(area)
    for r in values.itertuples():
        if r.indicator == "imd_score":
            continue
        compared = r.compared if isinstance(r.compared, str) else None
        row = _row(
            "need",
            r.label,
            r.unit,
            r.period,
            area.name,
            r.value,
            r.england,
            published_comparison=compared is not None,
            indicator=r.indicator,
            value_source={k: getattr(r, k) for k in NEED_SOURCE},
            england_middle=r.england_middle,
        )
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
            details = {"population_year": year}
        else:
            barrier, unit, polarity, decimals = "outcome", "%", "high_is_good", int(loc["decimals"])
            details = {"value_source": loc["value_source"]}
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
                **details,
            )
        )
    return rows


def _coercion_rows(area: Area) -> list[dict]:
    measure = "Mental Health Act detentions per 100,000"
    rows = []
    for i, r in enumerate(coercion.detention_rates(area).itertuples()):
        row = _row(
            "coercion",
            measure,
            "per 100,000",
            r.period,
            None,  # named by the page from ``footprint`` (``mhbook.pages.coercion_notes``)
            r.value,
            r.england,
            (r.lower_95, r.upper_95),
            (r.lower_998, r.upper_998),
            polarity=None,
            footprint=r.footprint,
            for_context=i > 0,
            org_type=r.org_type,
            status=r.status,
            england_all_sources=coercion.england_all_sources(),
        )
        row["fit"] = r.fit
        rows.append(row)
    return rows


def barrier_table(area: Area, footprint: Footprint) -> pd.DataFrame:
    """One row per headline measure: ``barrier`` (need/access/outcome/coercion), ``measure``,
    ``unit``, ``period``, ``geography`` (the area or NHS organisation the value is for;
    none for coercion rows, which the page names from ``footprint``), ``value``, ``england`` (the like-for-like England
    value), 95% limits, Fingertips' comparison with England at 95% and 99.8% (better/
    worse only where the measure has a polarity), ``fit`` (coercion: how well the
    footprint fits). Coercion has a second row: the ICB, for context.

    What the page's notes on each row are written from (``mhbook.pages.summary.barrier_note``):
    need: ``published_comparison`` (whether Fingertips published a comparison with
    England), ``indicator``, ``value_source`` (where the value comes from: the
    ``NEED_SOURCE`` fields of ``prevalence.area_values``) and ``england_middle`` (the middle
    County & UA's value where the extract has no England value);
    access: ``population_year`` (the population the referral rate is over); outcomes:
    ``value_source``; coercion: ``footprint`` (the ``coercion.Footprint``: codes, names,
    shares), ``for_context`` (True for the ICB row), ``org_type``, ``status`` ("value" or
    "suppressed") and ``england_all_sources`` (England's rate over every source, per
    100,000)."""
    rows = _need_rows(area)
    if footprint.available:
        rows += _iapt_rows(footprint)
    rows += _coercion_rows(area)
    return pd.DataFrame(rows)
