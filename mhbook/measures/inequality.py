"""Exploring inequality: every NHS Talking Therapies breakdown, and Mental Health Act
detentions by ethnicity.

NHS Talking Therapies (IAPT), one financial year, for England and the area's NHS
footprint (``footprints.iapt_footprint``): for each group of each breakdown (ethnic
group broad and detailed, age, gender, sexual orientation, disability, problem
descriptor / presenting complaint) the recovery rate (recovered / finished treatment at
caseness, %) and reliable improvement (improved / finished treatment, %), each with
Wilson limits at 95% and 99.8%. Each group is compared with the organisation's own
overall value (its "Total" row) as Fingertips does: the benchmark lies outside the
group's interval or not (``stats.compare_to_benchmark``, high is good). A group is part
of the total it is compared with, so the comparison is conservative for large groups;
Fingertips makes the same simplification when comparing areas with England.

Ethnic Group rows come at two levels in the file: broad groups (``subgroup`` "All") and
detailed groups within them. They are shown separately and never added together.
"Problem Descriptor" (to 2019-20) became "Presenting Complaint" (2020-21 on), with
slightly different categories; sexual orientation and disability are published from
2020-21 only. Counts below England level are rounded to 5 and small ones suppressed by
NHS England; suppressed counts stay missing here (never zero) and are counted.

The words, display tables and charts of the chapter are in
``mhbook.pages.exploring_inequality``; Mental Health Act detentions by ethnic group, the
chapter's second half, in ``mhbook.measures.detentions_by_ethnicity``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mhbook import periods, reads, stats
from mhbook.areas import Area
from mhbook.constants import NHS_CODE_PREFIX, UNKNOWN_GROUP
from mhbook.errors import InsufficientDataError
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.sources import iapt
from mhbook.stats import rounding

log = logging.getLogger(__name__)

#: First year NHS published sexual orientation, disability and presenting complaint.
NEW_BREAKDOWNS_FROM = "2020-21"


@dataclass(frozen=True)
class Breakdown:
    """One IAPT breakdown as the chapter shows it: ``nhs`` is NHS's ``variable_type``."""

    key: str
    title: str
    nhs: str
    since: str | None = None
    until: str | None = None


BREAKDOWNS = {
    b.key: b
    for b in (
        Breakdown("ethnicity_broad", "Ethnic group, broad", "Ethnic Group"),
        Breakdown("ethnicity_detailed", "Ethnic group, detailed", "Ethnic Group"),
        Breakdown("age", "Age group", "Age Group"),
        Breakdown("gender", "Gender", "Gender"),
        Breakdown("sexual_orientation", "Sexual orientation", "Sexual Orientation Type", since=NEW_BREAKDOWNS_FROM),
        Breakdown("disability", "Disability", "Disability Type", since=NEW_BREAKDOWNS_FROM),
        Breakdown("problem", "Presenting complaint", "Presenting Complaint", since=NEW_BREAKDOWNS_FROM),
    )
}
# Before 2020-21 the same breakdown was published under its older name and categories.
_PROBLEM_DESCRIPTOR = Breakdown("problem", "Problem descriptor", "Problem Descriptor", until="2019-20")

#: measure -> (numerator, denominator), both counts of people. NHS England's recovery
#: rate is recovered / (finished treatment - not at caseness at the start).
MEASURES = {
    "recovery": ("recovery", "caseness_finished"),
    "improvement": ("improvement", "finished_course_treatment"),
}
#: How many rounded counts make each count, below England level (0 = exact, England).
_TERMS = {"recovery": 1, "improvement": 1, "caseness_finished": 2, "finished_course_treatment": 1}
LEVELS = (0.95, 0.998)


def breakdown_for(key: str, period: str) -> Breakdown:
    """The breakdown ``key`` as published in ``period`` (problem descriptor changes name)."""
    if key not in BREAKDOWNS:
        raise KeyError(f"breakdown {key!r} unknown; expected one of {list(BREAKDOWNS)}")
    if key == "problem" and period < NEW_BREAKDOWNS_FROM:
        return _PROBLEM_DESCRIPTOR
    return BREAKDOWNS[key]


def published_in(key: str, period: str) -> bool:
    """Whether NHS published breakdown ``key`` in ``period``."""
    b = breakdown_for(key, period)
    return (b.since is None or period >= b.since) and (b.until is None or period <= b.until)


@reads.cached(maxsize=64)
def _org_rows(period: str, org_type: str, org_code: str) -> pd.DataFrame:
    """Count rows of the breakdowns used here for one organisation and year."""
    wanted = {"Total", *(b.nhs for b in BREAKDOWNS.values()), _PROBLEM_DESCRIPTOR.nhs}
    df = iapt.load_measures()
    df = df[
        (df["period"] == period)
        & (df["org_type"] == org_type)
        & (df["org_code"] == org_code)
        & df["breakdown"].isin(wanted)
    ]
    if df.empty:
        raise InsufficientDataError(
            f"IAPT: no rows for {org_type} {org_code} in {period}; `iapt.organisations({period!r})` lists them"
        )
    cols = ["org_name", "breakdown", "group", "subgroup", "measure", "count_status"]
    out = df[cols + ["count", "percentage"]].astype({c: object for c in cols}).reset_index(drop=True)
    return out


def _label(key: str, group: str, subgroup) -> str:
    """Readable group label; detailed ethnic groups and complaints use NHS's subgroup."""
    sub = None if pd.isna(subgroup) else str(subgroup)
    if key == "ethnicity_detailed":
        return sub
    if key == "disability":
        return NHS_CODE_PREFIX.sub("", group)
    if key == "problem" and sub is not None and sub != group:
        if sub in ("All", "Total"):
            return f"{group} (all)"
        return f"{group}: {sub.lower()}" if sub == "Other" else sub
    return group


def _select(rows: pd.DataFrame, key: str, period: str) -> pd.DataFrame:
    b = breakdown_for(key, period)
    part = rows[rows["breakdown"] == b.nhs]
    if b.nhs == "Ethnic Group":
        broad = part["subgroup"] == "All"
        part = part[broad] if key == "ethnicity_broad" else part[~broad & part["subgroup"].notna()]
    if key == "problem":
        part = part[part["group"] != "All ADSM"]  # NHS's empty all-problems row
    return part


def _wide(part: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per group in published order: counts and their status per measure."""
    part = part.assign(label=[_label(key, g, s) for g, s in zip(part["group"], part["subgroup"])])
    order = pd.unique(part["label"])
    counts = part.pivot(index="label", columns="measure", values="count").reindex(order)
    status = part.pivot(index="label", columns="measure", values="count_status").reindex(order)
    pct = part.pivot(index="label", columns="measure", values="percentage").reindex(order)
    names = ["referrals_received", "finished_course_treatment", "not_at_caseness", "recovery", "improvement"]
    out = counts.reindex(columns=names).astype(float)
    for name in names:
        out[f"{name}_status"] = status[name] if name in status else "missing"
    out = out.fillna({f"{n}_status": "missing" for n in names})
    # NHS England's recovery denominator: finished treatment minus those not at caseness
    # at the start. A missing not-at-caseness count is missing, never zero.
    out["caseness_finished"] = out["finished_course_treatment"] - out["not_at_caseness"]
    out["caseness_finished_status"] = np.where(
        out["not_at_caseness_status"] != "published",
        out["not_at_caseness_status"],
        out["finished_course_treatment_status"],
    )
    for name in ("recovery", "improvement"):
        out[f"{name}_pct"] = pct[name].astype(float) if name in pct else np.nan
    return out.rename_axis("group").reset_index()


def _measure_rows(wide: pd.DataFrame, measure: str, benchmark: float, rounded: bool) -> pd.DataFrame:
    """Rows of one measure: the published percentage where NHS England gives one (else
    recomputed), with Wilson limits that carry the rounding of ``rounded`` counts."""
    num, den = MEASURES[measure]
    x = wide[num].copy()
    n = wide[den].where(wide[den] > 0)  # a zero denominator has no rate
    x = x.where(n.notna() & (x <= n))
    res = rounding.proportion_limits(
        x,
        n,
        LEVELS,
        terms=_TERMS[num] if rounded else 0,
        denominator_terms=_TERMS[den] if rounded else 0,
        published=wide[f"{num}_pct"].where(x.notna()),
        published_unit=1.0 if rounded else 0.1,
    )
    out = pd.DataFrame(
        {
            "group": wide["group"],
            "unknown": wide["group"].str.contains(UNKNOWN_GROUP),
            "referrals": wide["referrals_received"],
            "measure": measure,
            "numerator": x,
            "denominator": n,
            "suppressed": x.isna() | n.isna(),
            "status": np.where(wide[f"{num}_status"] != "published", wide[f"{num}_status"], wide[f"{den}_status"]),
            "value": res["value"],
            "value_source": res["value_source"],
            "lower_cl": res["lower_cl_95"],
            "upper_cl": res["upper_cl_95"],
            "lower_cl_998": res["lower_cl_99_8"],
            "upper_cl_998": res["upper_cl_99_8"],
            "benchmark": benchmark,
        }
    )
    out["significance_95"] = stats.compare_to_benchmark(
        out["value"], out["lower_cl"], out["upper_cl"], benchmark, "high_is_good"
    )
    out["significance_998"] = stats.compare_to_benchmark(
        out["value"], out["lower_cl_998"], out["upper_cl_998"], benchmark, "high_is_good"
    )
    out["gap"] = out["value"] - benchmark
    return out


def breakdown_table(
    key: str, period: str | None = None, org_type: str = "England", org_code: str = "All"
) -> pd.DataFrame:
    """Recovery and reliable improvement by group for one breakdown, organisation, year.

    One row per group × measure ("recovery", "improvement"), groups in NHS's order.
    Columns: ``period, org_type, org_code, org_name, breakdown`` (key), ``breakdown_title``,
    ``group`` (readable label), ``unknown`` (not stated / not known / invalid groups),
    ``referrals`` (referrals received), ``measure``, ``numerator``, ``denominator``
    (counts; missing when suppressed), ``suppressed`` (bool), ``status`` (NHS status of the
    missing count: "suppressed", "missing" ... or "published"), ``value`` (%), ``lower_cl``,
    ``upper_cl`` (95% Wilson), ``lower_cl_998``, ``upper_cl_998`` (99.8%), ``benchmark``
    (the organisation's overall value, %), ``significance_95``/``significance_998``
    ("Better", "Similar", "Worse", "Not compared"), ``gap`` (value minus benchmark, percentage points). Empty when NHS did not publish the
    breakdown that year.
    """
    period = period or periods.latest("iapt")
    rows = _org_rows(period, org_type, org_code)
    b = breakdown_for(key, period)
    if not published_in(key, period):
        return pd.DataFrame()
    total = _wide(rows[rows["breakdown"] == "Total"], "total")
    wide = _wide(_select(rows, key, period), key)
    parts = []
    rounded = org_type != "England"
    for measure, (num, den) in MEASURES.items():
        published = total[f"{num}_pct"].iloc[0]
        bench = float(published) if pd.notna(published) else float(total[num].iloc[0] / total[den].iloc[0]) * 100
        parts.append(_measure_rows(wide, measure, bench, rounded))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "breakdown_title", b.title)
    out.insert(0, "breakdown", key)
    for col, value in zip(
        ["period", "org_type", "org_code", "org_name"], [period, org_type, org_code, str(rows["org_name"].iloc[0])]
    ):
        out.insert(0, col, value)
    return out[["period", "org_type", "org_code", "org_name", *out.columns[4:]]]


def all_breakdowns(period: str | None = None, org_type: str = "England", org_code: str = "All") -> pd.DataFrame:
    """``breakdown_table`` for every breakdown published in ``period``, stacked."""
    period = period or periods.latest("iapt")
    return _all_breakdowns(period, org_type, org_code).copy()


@reads.cached(maxsize=64, stored=True)
def _all_breakdowns(period: str, org_type: str, org_code: str) -> pd.DataFrame:
    # Cached because many areas share an ICB; callers get a copy.
    parts = [breakdown_table(k, period, org_type, org_code) for k in BREAKDOWNS if published_in(k, period)]
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class IaptInequality:
    """Everything the chapter shows for IAPT: England and (if mapped) footprint tables."""

    period: str
    footprint: Footprint
    england: pd.DataFrame
    local: pd.DataFrame | None

    def name(self, which: str) -> str:
        return "England" if which == "england" else str(self.footprint.org_name)


def iapt_inequality(area: Area, period: str | None = None) -> IaptInequality:
    """All breakdowns for England and ``area``'s footprint in ``period``."""
    period = period or periods.latest("iapt")
    fp = iapt_footprint(area, period)
    if not fp.available:
        log.info("%s: no NHS footprint for %s, showing England only", area.name, period)
    local = all_breakdowns(period, fp.org_type, fp.org_code) if fp.available else None
    return IaptInequality(period, fp, all_breakdowns(period), local)


#: The last NHS year published for Clinical Commissioning Groups (Sub-ICB codes of July 2022).
LAST_CCG_PERIOD = "2021-22"
#: Breakdowns set beside each other for the CCG and the ICB (every one published in 2021-22).
CCG_BREAKDOWNS = ("ethnicity_broad", "age", "gender", "sexual_orientation", "disability")


def _fit(fp: Footprint) -> float:
    return min(fp.population_share, fp.footprint_share) if fp.available else 0.0


@dataclass(frozen=True)
class CcgBesideIcb:
    """The area's last Clinical Commissioning Group year beside its latest ICB year.

    ``ccg`` is the area's footprint in ``LAST_CCG_PERIOD``, ``icb`` its footprint in
    ``period``. ``recovery`` is None when the CCG does not fit the area better than the
    ICB; otherwise ``breakdown_table`` rows of the recovery measure for each of
    ``CCG_BREAKDOWNS``, the CCG's year before the ICB's within each breakdown.
    """

    ccg: Footprint
    icb: Footprint
    period: str
    recovery: pd.DataFrame | None


def ccg_beside_icb(area: Area, period: str | None = None) -> CcgBesideIcb:
    """Recovery by group for the area's 2021-22 CCG and its ``period`` ICB, when the CCG
    fits the area better.

    Fit is the smaller of the two population shares (the area's residents in the
    organisation, the organisation's residents in the area)."""
    period = period or periods.latest("iapt")
    ccg, icb = iapt_footprint(area, LAST_CCG_PERIOD), iapt_footprint(area, period)
    if not ccg.available or _fit(ccg) <= _fit(icb):
        return CcgBesideIcb(ccg, icb, period, None)
    parts = [
        breakdown_table(key, org_period, fp.org_type, fp.org_code)
        for key in CCG_BREAKDOWNS
        for org_period, fp in ((LAST_CCG_PERIOD, ccg), (period, icb))
        if published_in(key, org_period) and fp.available
    ]
    table = pd.concat(parts, ignore_index=True)
    return CcgBesideIcb(ccg, icb, period, table[table["measure"] == "recovery"].reset_index(drop=True))


def widest_gaps(area: Area, period: str | None = None) -> pd.DataFrame:
    """For the area's footprint, per breakdown and measure, the group with the lowest value
    that is significantly below (95%) the footprint's overall value.

    Groups that are "not stated / not known / invalid" are left out. Columns as
    ``breakdown_table`` (``gap`` in percentage points, negative), sorted widest gap
    first; empty (same columns) when the footprint cannot be mapped or no group is
    significantly below.
    """
    period = period or periods.latest("iapt")
    result = iapt_inequality(area, period)
    return gaps_from(result.local if result.local is not None else result.england.iloc[0:0])


def gaps_from(table: pd.DataFrame) -> pd.DataFrame:
    """The widest significant shortfall per breakdown × measure in a stacked table."""
    worse = table[(table["significance_95"] == stats.benchmark.WORSE) & ~table["unknown"]]
    idx = worse.groupby(["breakdown", "measure"], sort=False)["gap"].idxmin()
    return table.loc[idx].sort_values("gap").reset_index(drop=True)
