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

Mental Health Act, latest year (``mhbook.sources.mha``): "All detentions" by ethnicity, as
rate ratios against White, with 95% limits. The file publishes no populations, so:

* **standardised rates** (England only) carry 95% limits ``rate ± h``; taking ``h`` as
  1.96 standard errors, the ratio of two independent rates has
  ``SE(log ratio) = sqrt((h1 / 1.96 r1)² + (h2 / 1.96 r2)²)`` (delta method);
* **crude rates** (England and ICBs) come with counts, so each group's population is
  recovered as ``count × 100,000 / rate`` and ``stats.ratio(kind="rate")`` gives the
  published rate ratio with Poisson log limits ``sqrt(1/O1 + 1/O2)``. Below England the
  counts are rounded to 5, so the recovered population and the limits are approximate.

Ethnicity is published for England and ICBs only, from MHSDS (not ECDS), so its totals
are lower than the all-source England total.
"""

from __future__ import annotations

import logging
import re
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown

from mhbook import figures, periods, reads, stats
from mhbook.areas import Area
from mhbook.constants import BROAD_ETHNIC_GROUPS, NHS_CODE_PREFIX, UNKNOWN_GROUP
from mhbook.errors import InsufficientDataError
from mhbook.figures import numbers
from mhbook.measures._quiet import quietly
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.sources import iapt, mha
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

#: measure -> (numerator, denominator, label for axes and tables). NHS England's recovery
#: rate is recovered / (finished treatment - not at caseness at the start).
MEASURES = {
    "recovery": ("recovery", "caseness_finished", "recovery (% of those finished at caseness)"),
    "improvement": ("improvement", "finished_course_treatment", "reliable improvement (% finished)"),
}
#: How many rounded counts make each count, below England level (0 = exact, England).
_TERMS = {"recovery": 1, "improvement": 1, "caseness_finished": 2, "finished_course_treatment": 1}
LEVELS = (0.95, 0.998)
_EXPLANATION = re.compile(r" \((such as|Person asked|unable to be)[^)]*\)")


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
    num, den, _ = MEASURES[measure]
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
    out["comparison"] = comparison_words(out["significance_95"], out["significance_998"])
    out["gap"] = out["value"] - benchmark
    return out


def comparison_words(sig95: pd.Series, sig998: pd.Series) -> pd.Series:
    """One phrase per group from the two Fingertips levels: "worse at 99.8%" when the
    99.8% interval also excludes the benchmark, "worse at 95%" when only the 95% one
    does, "similar", or "not compared" (suppressed)."""
    words = sig95.str.lower()
    strong = (sig998 == sig95) & ~sig95.isin([stats.benchmark.SIMILAR, stats.benchmark.NOT_COMPARED])
    level = np.where(strong, " at 99.8%", " at 95%")
    return words.where(sig95.isin([stats.benchmark.SIMILAR, stats.benchmark.NOT_COMPARED]), words + level)


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
    ("Better", "Similar", "Worse", "Not compared"), ``comparison`` (one phrase for both),
    ``gap`` (value minus benchmark, percentage points). Empty when NHS did not publish the
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
    for measure, (num, den, _) in MEASURES.items():
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


@reads.cached(maxsize=64)
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


def ccg_beside_icb(area: Area, period: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """The area's last CCG year beside its latest ICB year, when the CCG fits the area better.

    Fit is the smaller of the two population shares (the area's residents in the
    organisation, the organisation's residents in the area). Returns the table (one row
    per breakdown group: recovery with 95% limits and its comparison with the
    organisation's overall value, for the CCG in 2021-22 and the ICB in ``period``) and a
    sentence saying which organisations and why; the table is None when the CCG does not
    fit better (the sentence says so)."""
    period = period or periods.latest("iapt")
    ccg, icb = iapt_footprint(area, LAST_CCG_PERIOD), iapt_footprint(area, period)
    if not ccg.available or _fit(ccg) <= _fit(icb):
        return None, (
            f"{area.name}'s {LAST_CCG_PERIOD} Clinical Commissioning Group does not fit the area better "
            f"than its {period} Integrated Care Board, so only the ICB is shown."
        )
    rows = []
    for key in CCG_BREAKDOWNS:
        for org_period, fp in ((LAST_CCG_PERIOD, ccg), (period, icb)):
            if not published_in(key, org_period) or not fp.available:
                continue
            t = breakdown_table(key, org_period, fp.org_type, fp.org_code)
            t = t[t["measure"] == "recovery"]
            rows.append(
                pd.DataFrame(
                    {
                        "breakdown": BREAKDOWNS[key].title,
                        "group": t["group"],
                        "column": f"{fp.org_name}, {org_period}",
                        "value": t["value"],
                        "lower": t["lower_cl"],
                        "upper": t["upper_cl"],
                        "vs": t["comparison"].where(~t["suppressed"], "suppressed"),
                        "dec": _decimals(t),
                    }
                )
            )
    long = pd.concat(rows, ignore_index=True)
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
    sentence = (
        f"In {LAST_CCG_PERIOD}, the last year NHS England published Clinical Commissioning Groups, "
        f"{ccg.org_name} ({ccg.org_code}) fitted {area.name} better than its {period} Integrated Care "
        f"Board: {100 * ccg.population_share:.0f}% of the area's residents lived in it and they were "
        f"{100 * ccg.footprint_share:.0f}% of its residents, against "
        f"{100 * icb.footprint_share:.0f}% of the ICB's. Recovery by group is shown for both, each "
        "against its own organisation's overall value."
    )
    return table, sentence


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


# --- figures and tables -------------------------------------------------------------------


def forest_figure(result: IaptInequality, key: str, measure: str, which: str) -> figures.Figure:
    """Forest chart of ``measure`` by group of breakdown ``key`` for "england" or "local",
    against the organisation's overall value; 95% limits; comparison at 95%."""
    table = result.england if which == "england" else result.local
    return _forest(table, result.name(which), result.period, key, measure)


def _forest(table: pd.DataFrame, name: str, period: str, key: str, measure: str) -> figures.Figure:
    part = table[(table["breakdown"] == key) & (table["measure"] == measure)]
    label = MEASURES[measure][2]
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
    dec = _decimals(rec)
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
            "recovery vs overall": rec["comparison"].where(~rec["suppressed"]),
            "finished": numbers.counts_series(imp["denominator"]),
            "improved": numbers.counts_series(imp["numerator"]),
            "reliable improvement (%)": numbers.numbers_series(imp["value"], _decimals(imp)),
            "improvement 95% limits": numbers.limits_series(imp["lower_cl"], imp["upper_cl"], _decimals(imp)),
            "improvement vs overall": imp["comparison"].where(~imp["suppressed"]),
        }
    )


def _decimals(rows: pd.DataFrame) -> pd.Series:
    """NHS England publishes percentages below England level as whole numbers: shown so."""
    return pd.Series(
        np.where((rows["org_type"] != "England") & (rows["value_source"] == "published"), 0, 1), index=rows.index
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


# --- Mental Health Act detentions by ethnicity -----------------------------------------------

REFERENCE = "White"
MEASURE_MHA = "All detentions"


@reads.cached(maxsize=2)
def _mha_detentions(rate_type: str) -> pd.DataFrame:
    # One rate type at a time, so no row is counted twice; validated once per session.
    df = mha.detentions(rate_type)
    return df[(df["measure"] == MEASURE_MHA)].reset_index(drop=True)


def _mha_rows(rate_type: str, org_type: str, org_code: str | None) -> pd.DataFrame:
    df = _mha_detentions(rate_type)
    df = df[(df["measure"] == MEASURE_MHA) & (df["breakdown"] == "ethnicity") & (df["org_type"] == org_type)]
    if org_code is not None:
        df = df[df["org_code"] == org_code]
    return df[df["value"].notna() | df["count_status"].eq("suppressed")].reset_index(drop=True)


def _ratio_standardised(rows: pd.DataFrame) -> pd.DataFrame:
    ref = rows[rows["group"] == REFERENCE].iloc[0]
    z = stats.proportions.z_value(0.95)
    se1 = (rows["upper_cl"] - rows["value"]) / z / rows["value"]
    se2 = (ref["upper_cl"] - ref["value"]) / z / ref["value"]
    ratio = rows["value"] / ref["value"]
    se = np.sqrt(se1**2 + se2**2)
    return pd.DataFrame(
        {
            "ratio": ratio,
            "lower_cl": ratio * np.exp(-z * se),
            "upper_cl": ratio * np.exp(z * se),
            "reference_rate": ref["value"],
            "method": "ratio of standardised rates; log limits from the published 95% limits",
        }
    )


def _ratio_crude(rows: pd.DataFrame) -> pd.DataFrame:
    ref = rows[rows["group"] == REFERENCE]
    if ref.empty or pd.isna(ref["count"].iloc[0]) or not ref["value"].iloc[0] > 0:
        nan = pd.Series(np.nan, index=rows.index)
        return pd.DataFrame(
            {
                "ratio": nan,
                "lower_cl": nan,
                "upper_cl": nan,
                "reference_rate": np.nan,
                "method": "not computed: the White count or rate is suppressed",
            }
        )
    ref = ref.iloc[0]
    # Populations are not published; count / rate gives them back (approximately, as
    # sub-national counts are rounded to 5), and then the ratio equals the published one.
    pop = (rows["count"] * 100_000 / rows["value"]).where(rows["value"] > 0)
    res = quietly(
        stats.ratio,
        rows["count"].where(pop.notna()),
        pop,
        ref["count"],
        ref["count"] * 100_000 / ref["value"],
        kind="rate",
    )
    return pd.DataFrame(
        {
            "ratio": res["value"],
            "lower_cl": res["lower_cl"],
            "upper_cl": res["upper_cl"],
            "reference_rate": ref["value"],
            "method": "ratio of crude rates; Poisson log limits, populations recovered as count / rate",
        }
    )


def _ratios(rows: pd.DataFrame, rate_type: str, broad_only: bool) -> pd.DataFrame:
    if broad_only:
        rows = rows[rows["group"].isin(BROAD_ETHNIC_GROUPS)].reset_index(drop=True)
    r = _ratio_standardised(rows) if rate_type == "standardised" else _ratio_crude(rows)
    out = pd.DataFrame(
        {
            "period": rows["period"],
            "org_type": rows["org_type"],
            "org_code": rows["org_code"],
            "org_name": rows["org_name"],
            "rate_type": rate_type,
            "level": np.where(rows["group"].isin(BROAD_ETHNIC_GROUPS), "broad", "detailed"),
            "group": rows["group"],
            "count": rows["count"],
            "count_status": rows["count_status"],
            "rate": rows["value"],
            "rate_lower": rows["lower_cl"],
            "rate_upper": rows["upper_cl"],
        }
    )
    out = pd.concat([out, r], axis=1)
    out = out[out["group"] != REFERENCE]
    out["significance"] = stats.compare_to_benchmark(out["ratio"], out["lower_cl"], out["upper_cl"], 1.0)
    return out.reset_index(drop=True)


def mha_icb(area: Area) -> Footprint:
    """The ICB covering most of ``area`` (ICBs have not changed since July 2022)."""
    return iapt_footprint(area, periods.latest("mha"))


def detention_ratios(area: Area | None = None) -> pd.DataFrame:
    """Detention rate ratios by ethnicity against White, MHA (latest year), 95% limits.

    Rows: England standardised (broad and detailed groups), England crude (broad), and
    the area's ICB crude (broad) when ``area`` is given. Columns: ``period, org_type,
    org_code, org_name, rate_type`` ("standardised"/"crude"), ``level`` ("broad"/
    "detailed"), ``group``, ``count`` (detentions; missing when suppressed),
    ``count_status``, ``rate`` (per 100,000) with ``rate_lower``/``rate_upper``
    (standardised only), ``ratio``, ``lower_cl``, ``upper_cl``, ``reference_rate``
    (White's rate), ``method``, ``significance`` ("Higher", "Similar", "Lower" than 1,
    "Not compared"). Groups with no rate ("Not Known", "Not Stated", "Unknown") are left
    out. Detailed White groups are part of the White reference, so their ratios are not
    independent of it.
    """
    parts = [
        _ratios(_mha_rows("standardised", "England", None), "standardised", broad_only=False),
        _ratios(_mha_rows("crude", "England", None), "crude", broad_only=True),
    ]
    if area is not None:
        icb = mha_icb(area)
        rows = _mha_rows("crude", "ICB", icb.org_code) if icb.available else pd.DataFrame()
        if not rows.empty:
            parts.append(_ratios(rows, "crude", broad_only=True))
    return pd.concat(parts, ignore_index=True)


def subicb_detentions(area: Area) -> pd.DataFrame:
    """Overall detention rates of the Sub-ICB Locations covering ``area`` (no ethnicity is
    published for them). Sub-ICB codes and shares are the July 2022 ones
    (``area.footprints("2021-22")``). Columns: ``org_code, org_name, population_share,
    count, count_status, rate`` (crude, per 100,000), ``england_rate`` (the publisher's
    MHSDS total over Sub-ICBs, the like-for-like comparator)."""
    fp = area.footprints("2021-22")[["org_code", "population_share"]]
    rows = _mha_detentions("crude")
    rows = rows[(rows["breakdown"] == "all") & (rows["org_type"] == "Sub-ICB")]
    england = float(rows.loc[rows["org_code"] == "ALL", "value"].iloc[0])
    out = fp.merge(rows[["org_code", "org_name", "count", "count_status", "value"]], on="org_code", how="left")
    return out.rename(columns={"value": "rate"}).assign(england_rate=england)


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


# --- numbers for the prose ---------------------------------------------------------------------


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
        "footprint_note": fp.note,
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
            else f"No footprint figures can be shown: {fp.note}"
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
