"""Headline NHS Talking Therapies figures of one organisation and year, as published.

Source: ``mhbook.sources.iapt`` (NHS Digital / NHS England annual reports), the
organisation's "Total" row. Three measures:

* ``referrals``: referrals received per 100,000 people aged 16 and over, over the
  population nearest the year (``iapt_deprivation.population_year``), Poisson limits;
* ``recovery``: NHS England's published recovery percentage, recovered /
  (finished treatment - not at caseness at the start);
* ``improvement``: NHS England's published reliable improvement percentage, improved /
  finished treatment.

Below England level counts are rounded to 5 and percentages published as whole
numbers, so the limits (95% and 99.8%) carry both roundings (``stats.rounding``);
England's counts are exact and its percentages have one decimal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import reads
from mhbook.measures.iapt_deprivation import population_16plus
from mhbook.sources import iapt
from mhbook.stats import rounding

LEVELS = (0.95, 0.998)
MEASURES = ("referrals", "recovery", "improvement")
#: measure -> (numerator, denominator counts, subtracted from the first)
_OUTCOMES = {
    "recovery": ("recovery", ("finished_course_treatment", "not_at_caseness")),
    "improvement": ("improvement", ("finished_course_treatment",)),
}


@reads.cached(maxsize=512)
def headline(period: str, org_type: str, org_code: str) -> pd.DataFrame:
    """One row per measure (``referrals``, ``recovery``, ``improvement``): ``value``,
    ``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8``, ``count`` (numerator),
    ``denominator`` (population aged 16+ or people), ``value_source`` ("published" /
    "recomputed"), ``decimals`` (the published precision). Missing where suppressed.
    Raises ``InsufficientDataError`` when the organisation has no rows that year."""
    totals = iapt.breakdown("Total", org_type, org_code, period).set_index("measure")[["count", "percentage"]]
    rounded = org_type != "England"
    rows = []
    pop = float(population_16plus(org_type, org_code, period)["population_16plus"].sum())
    count = totals["count"].get("referrals_received", np.nan)
    r = rounding.rate_limits(count, pop, LEVELS, terms=1 if rounded else 0).iloc[0]
    rows.append(
        {
            "measure": "referrals",
            "count": count,
            "denominator": pop,
            "value_source": "recomputed",
            "decimals": 0,
            **_limits(r),
        }
    )
    for measure, (num, den) in _OUTCOMES.items():
        n = totals["count"].get(den[0], np.nan) - (totals["count"].get(den[1], np.nan) if len(den) > 1 else 0)
        x = totals["count"].get(num, np.nan)
        published = totals["percentage"].get(num, np.nan)
        r = rounding.proportion_limits(
            x,
            n,
            LEVELS,
            terms=1 if rounded else 0,
            denominator_terms=len(den) if rounded else 0,
            published=published,
            published_unit=1.0 if rounded else 0.1,
        ).iloc[0]
        rows.append(
            {
                "measure": measure,
                "count": x,
                "denominator": n,
                "value_source": r["value_source"],
                "decimals": 0 if rounded and r["value_source"] == "published" else 1,
                **_limits(r),
            }
        )
    return pd.DataFrame(rows).set_index("measure")


def _limits(r: pd.Series) -> dict:
    return {
        "value": r["value"],
        "lower_95": r["lower_cl_95"],
        "upper_95": r["upper_cl_95"],
        "lower_99_8": r["lower_cl_99_8"],
        "upper_99_8": r["upper_cl_99_8"],
    }
