"""The numbers behind the key findings at the top of an area's book.

Each finding (worded by ``mhbook.pages.summary``) rests on rows of a chapter's tables;
this module picks those rows, computing nothing new:

1. where the area stands among its statistical neighbours: the indicators on which it
   ranks highest and lowest (``comparison.comparison_table``);
2. and 3. indicators worse (better) than England at 99.8%, and how many were tested;
4. indicators worse than England and getting worse (Fingertips' recent-trend test,
   ``comparison.trend_table``);
5. the widest gap between groups in NHS Talking Therapies outcomes that passes the 99.8%
   test (``inequality.widest_gaps``);
6. the recovery gap by deprivation (slope index of inequality, percentage points) in the
   first and last ICB years, and whether their 95% limits overlap
   (``iapt_deprivation.gradient_by_year``);
7. need: the IMD 2019 score and modelled common mental disorders (``comparison``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mhbook import periods
from mhbook.areas import Area
from mhbook.measures import comparison, iapt_deprivation, inequality
from mhbook.measures.footprints import Footprint

#: The first NHS Talking Therapies year published by Integrated Care Board.
FIRST_ICB_YEAR = "2022-23"
#: How the recovery gap by deprivation changed between the first and last ICB years.
OVERLAP, NARROWED, WIDENED = "overlap", "narrowed", "widened"


@dataclass(frozen=True)
class FindingNumbers:
    """What the key findings of one area rest on."""

    area: Area
    period: str  # NHS Talking Therapies year
    table: pd.DataFrame  # comparison.comparison_table(area)
    trends: pd.DataFrame  # comparison.trend_table(area, table)
    unplaced: int  # statistical neighbours that could not be placed on a current area
    gaps: pd.DataFrame  # strict_gaps(area, period)
    footprint: Footprint  # the area's NHS Talking Therapies footprint in ``period``
    sii: pd.DataFrame  # recovery gap by deprivation, ICB years with a value (gradient_by_year rows)


def finding_numbers(
    area: Area, period: str | None = None, table: pd.DataFrame | None = None, trends: pd.DataFrame | None = None
) -> FindingNumbers:
    """The numbers of ``area``'s key findings; ``table`` and ``trends`` default to
    ``comparison.comparison_table`` and ``comparison.trend_table``."""
    period = period or periods.latest("iapt")
    table = comparison.comparison_table(area) if table is None else table
    trends = comparison.trend_table(area, table) if trends is None else trends
    fp = comparison.footprint(area.code, period)
    return FindingNumbers(
        area,
        period,
        table,
        trends,
        len(comparison.neighbours(area.code).unplaced),
        strict_gaps(area, period),
        fp,
        recovery_sii(fp),
    )


def extremes(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranked indicators on which the area is highest (rank 1) and lowest among its neighbours."""
    ranked = ranked_rows(table)
    return ranked[ranked["rank"] == 1], ranked[ranked["rank"] == ranked["rank_of"]]


def ranked_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Indicators with values for both the area and its statistical neighbours."""
    return table[table["rank"].notna()]


def against_england(table: pd.DataFrame, category: str) -> pd.DataFrame:
    """Indicators in Fingertips' ``category`` ("Worse", "Better") against England at 99.8%."""
    return table[table["vs_england_99_8"] == category]


def tested(table: pd.DataFrame) -> int:
    """How many indicators could be compared with England."""
    return int((table["vs_england_95"] != comparison.NOT_COMPARED).sum())


def strict_gaps(area: Area, period: str, top: int = 6) -> pd.DataFrame:
    """The ``top`` widest shortfalls of ``inequality.widest_gaps`` that also pass
    Fingertips' stricter 99.8% test (so that very small groups with wide limits do not
    lead the list); its columns."""
    gaps = inequality.widest_gaps(area, period)
    return gaps[gaps["significance_998"] == "Worse"].head(top)


def recovery_sii(fp: Footprint) -> pd.DataFrame:
    """The footprint's recovery gap by deprivation (``gradient_by_year`` rows) in the ICB
    years with a value; empty when the footprint cannot be mapped."""
    if not fp.available:
        return pd.DataFrame(columns=["period", "sii", "sii_lower", "sii_upper"])
    g = iapt_deprivation.gradient_by_year(fp.org_type, fp.org_code)
    return g[g["period"] >= FIRST_ICB_YEAR].dropna(subset=["sii"])


def sii_change(first: pd.Series, last: pd.Series) -> str:
    """``OVERLAP`` when the two years' 95% limits overlap, else ``NARROWED`` or ``WIDENED``
    (by the size of the gap, whatever its sign)."""
    if not (last["sii_upper"] < first["sii_lower"] or last["sii_lower"] > first["sii_upper"]):
        return OVERLAP
    return NARROWED if abs(last["sii"]) < abs(first["sii"]) else WIDENED
