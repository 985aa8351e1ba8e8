"""The triple barrier: need, access, outcomes (and coercion) by group, relative to everyone.

The Commission for Equality in Mental Health's framing: some groups have poorer mental
health (need), less access to support, and poorer experiences and outcomes. For each
dimension (deprivation decile, ethnicity, age, gender, sexual orientation, disability)
and each group, this module puts each barrier as a ratio of the group's figure to the
whole population's figure (1 = same as everyone), with 95% limits where they exist.

Sources and periods (they differ, and every row states its own ``period``):

* **need**: House of Commons Library *modelled* QOF 2019-20 prevalence by national
  IMD 2019 decile (``mhbook.sources.qof.hocl_prevalence("imd")``): depression (18+)
  and serious mental illness (all ages). England only; no prevalence by ethnicity,
  age, gender, sexual orientation or disability is in the data. Modelled estimates
  have no sampling interval, so their limits are missing.
* **access**: NHS Talking Therapies referrals received (``mhbook.sources.iapt``) per
  100,000 people. By deprivation: IoD2019 population aged 16+ by decile (mid-2015,
  ``mhbook.sources.imd``), as in ``iapt_deprivation``. By age: ONS mid-2020 population
  in the same age band (England from MYE2; an NHS footprint from its LSOAs, which ONS
  gives by single year of age for persons only). By gender: ONS mid-2020 females and
  males aged 16+, England only (there is no LSOA population by sex). Ethnicity, sexual
  orientation and disability have no population denominator in the data: only the
  share of all referrals is given, with no ratio.
* **outcome**: recovery (% of those at caseness who finished treatment), Wilson
  limits; also finished treatment per 100 referrals received (different cohorts in
  the same year, Poisson limits) and reliable improvement (% of those who finished).
* **coercion**: Mental Health Act detentions of the latest year ("All detentions", MHSDS),
  crude rates per 100,000 by ethnicity (broad groups), IMD decile and gender
  (``mhbook.sources.mha``), for England and ICBs.

Ratios: group ÷ whole population, where the whole population is the published total
over the same groups when there is one (e.g. referrals with a known decile over the
population of all deciles; England's MHA total "All" within each breakdown), else the
organisation's overall total. Limits come from :func:`mhbook.stats.ratio` (Katz log
method for proportions, Poisson log method for rates). That method assumes two
independent groups, but a group is part of the whole it is compared with; the
positive covariance it ignores makes the limits **wider than exact** (conservative).
For MHA rates the file gives no population, so each population is implied as
count ÷ rate × 100,000 (approximate where counts are rounded to 5).

Missing values are never zero: every (group, barrier) cell without data has a row
with ``value`` missing and a ``note`` saying why. A ``note`` is a code (one of the
``NOTE_*`` constants, or "" for none): why a value is missing, or a caveat on it. The
chapter's sentences (the notes in words among them), table and charts are in
``mhbook.pages.triple_barrier``.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from mhbook import areas, periods, reads, stats
from mhbook.areas import Area
from mhbook.constants import BROAD_ETHNIC_GROUPS, ENGLAND_CODE, NHS_CODE_PREFIX, UNKNOWN_GROUP
from mhbook.errors import InsufficientDataError
from mhbook.measures._quiet import quietly
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.measures.iapt_deprivation import population_16plus, population_year
from mhbook.sources import iapt, lookups, mha, population, qof

log = logging.getLogger(__name__)

DIMENSIONS = ("deprivation", "ethnicity", "age", "gender", "sexual orientation", "disability")
BARRIERS = ("need", "access", "outcome", "coercion")
COLUMNS = [
    "dimension",
    "group",
    "barrier",
    "measure",
    "value",
    "lower_cl",
    "upper_cl",
    "ratio",
    "ratio_lower",
    "ratio_upper",
    "source",
    "period",
    "note",
]

# Measures (the ``measure`` column). The chart shows one headline measure per barrier.
DEPRESSION = "depression prevalence, 18+ (%, modelled)"
SMI = "serious mental illness prevalence, all ages (%, modelled)"
RATE_16 = "referrals per 100,000 aged 16+"
RATE_AGE = "referrals per 100,000 in the age band"
RATE_SEX = "referrals per 100,000 aged 16+ of that sex"
SHARE = "share of all referrals (%)"
FINISHED = "finished treatment per 100 referrals"
RECOVERY = "recovery (% at caseness)"
IMPROVEMENT = "reliable improvement (% finished)"
DETENTIONS = "detentions per 100,000 (crude)"
HEADLINE = {
    DEPRESSION: "need",
    RATE_16: "access",
    RATE_AGE: "access",
    RATE_SEX: "access",
    SHARE: "access",
    RECOVERY: "outcome",
    DETENTIONS: "coercion",
}

NEED_PERIOD = "2019-20"
MHA_MEASURE = "All detentions"

# The ``note`` codes, so the caption can group the cells it leaves out by reason.
# Why a value (or a ratio) is missing:
NOTE_NO_NEED = "no_need"  # no prevalence by this group in the data
NOTE_NEED_ENGLAND = "need_england_only"  # prevalence by deprivation is for England only
NOTE_NO_DENOMINATOR = "no_denominator"  # no population count for the group: share of referrals only
NOTE_NO_DENOMINATOR_MULTIPLE = "no_denominator_multiple_codes"  # the same, and a referral can carry several codes
NOTE_NO_SEX_POP = "no_sex_population"  # no LSOA population by sex, so none for an NHS footprint
NOTE_NO_AGE_POP = "no_age_population"  # no population band matches the age group
NOTE_SUPPRESSED = "suppressed"  # suppressed or missing in the published file
NOTE_NO_COERCION = "no_coercion"  # no Mental Health Act figures for this group
NOTE_NO_RESIDENTS = "no_residents"  # no residents of the footprint live in this decile
NOTE_NO_GROUP_POP = "no_group_population"  # no population estimate for this group
NOTE_MHA_AGE = "mha_age_bands"  # Mental Health Act age bands differ from Talking Therapies'
NOTE_MHA_NONE = "mha_no_breakdown"  # the Mental Health Act statistics have no such breakdown
NOTE_NO_MHA_ORG = "no_mha_org"  # no Mental Health Act breakdowns for this organisation type
NOTE_NOT_PUBLISHED = "breakdown_not_published"  # breakdown not published for the organisation and year
NOTE_NO_GROUP = "group_not_published"  # group not published for the organisation and year
NOTE_INCONSISTENT = "inconsistent"  # rounded counts put the numerator above the denominator
# Caveats on a value:
NOTE_MODELLED = "modelled"  # modelled estimate, no sampling interval, England only
NOTE_COHORTS = "different_cohorts"  # referrals and finished treatment: different cohorts of one year
NOTE_WHOLE_KNOWN_DECILE = "whole_known_decile"  # whole: referrals with a known decile, population 16+
NOTE_WHOLE_AGE = "whole_age_bands"  # whole: referrals and population of the age bands with a population
NOTE_WHOLE_SEX = "whole_females_males"  # whole: referrals of females and males, population 16+
NOTE_MHA_KNOWN_ETHNICITY = "mha_whole_known_ethnicity"  # whole: the broad ethnic groups shown, added
NOTE_MHA_ENGLAND_TOTAL = "mha_whole_england_breakdown"  # whole: England's total within the breakdown
NOTE_MHA_ICB_TOTAL = "mha_whole_icb"  # whole: the ICB's overall total
#: Every code of the ``note`` column ("" for none).
NOTES = (
    NOTE_NO_NEED,
    NOTE_NEED_ENGLAND,
    NOTE_NO_DENOMINATOR,
    NOTE_NO_DENOMINATOR_MULTIPLE,
    NOTE_NO_SEX_POP,
    NOTE_NO_AGE_POP,
    NOTE_SUPPRESSED,
    NOTE_NO_COERCION,
    NOTE_NO_RESIDENTS,
    NOTE_NO_GROUP_POP,
    NOTE_MHA_AGE,
    NOTE_MHA_NONE,
    NOTE_NO_MHA_ORG,
    NOTE_NOT_PUBLISHED,
    NOTE_NO_GROUP,
    NOTE_INCONSISTENT,
    NOTE_MODELLED,
    NOTE_COHORTS,
    NOTE_WHOLE_KNOWN_DECILE,
    NOTE_WHOLE_AGE,
    NOTE_WHOLE_SEX,
    NOTE_MHA_KNOWN_ETHNICITY,
    NOTE_MHA_ENGLAND_TOTAL,
    NOTE_MHA_ICB_TOTAL,
)
#: Organisation types with Mental Health Act breakdowns.
MHA_ORG_TYPES = ("England", "ICB")

IAPT_BREAKDOWNS = {
    "deprivation": "Indices of Deprivation Decile",
    "ethnicity": "Ethnic Group",
    "age": "Age Group",
    "gender": "Gender",
    "sexual orientation": "Sexual Orientation Type",
    "disability": "Disability Type",
}
_SHORT = {"Indeterminate (unable to be classified as male or female)": "Indeterminate", "Bi-sexual": "Bisexual"}
MHA_BREAKDOWNS = {"deprivation": "imd", "ethnicity": "ethnicity", "gender": "gender"}
MHA_TOTALS = {"imd": "All", "ethnicity": "All", "gender": "All genders"}


def decile_label(decile: int) -> str:
    """The group label of an IMD decile, as ``mhbook.sources.iapt`` writes it."""
    extremes = {1: " (most deprived)", 10: " (least deprived)"}
    return f"IMD decile {decile}{extremes.get(decile, '')}"


def _short(label: str, dimension: str) -> str:
    """A readable group label: NHS disability codes ("05 Mobility ...") lose their code
    and their bracketed examples."""
    label = _SHORT.get(label, label)
    if dimension == "disability":
        label = NHS_CODE_PREFIX.sub("", label).split(" (")[0]
    return label


def _frame(dimension: str, groups, barrier: str, measure: str, source: str, period: str, **cols) -> pd.DataFrame:
    """Rows of the tidy table; absent numeric columns are missing."""
    groups = list(groups)
    out = pd.DataFrame(
        {"dimension": dimension, "group": groups, "barrier": barrier, "measure": measure}, index=range(len(groups))
    )
    for col in ["value", "lower_cl", "upper_cl", "ratio", "ratio_lower", "ratio_upper"]:
        out[col] = np.asarray(cols.get(col, np.nan), dtype=float) * np.ones(len(groups))
    out["source"], out["period"] = source, period
    note = cols.get("note", "")
    out["note"] = list(note) if not isinstance(note, str) else note
    return out[COLUMNS]


def _with_ratio(
    dimension, groups, barrier, measure, source, period, num, den, num0, den0, kind, multiplier, note=""
) -> pd.DataFrame:
    """Value (proportion or rate with limits) and ratio to the whole (num0/den0)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    bad = np.isnan(num) | np.isnan(den)
    if kind == "proportion":
        inconsistent = ~bad & (num > den)
        num = np.where(inconsistent, np.nan, num)
    else:
        inconsistent = np.zeros(len(num), dtype=bool)
    den = np.where(den > 0, den, np.nan)
    n0 = np.full(len(num), float(num0))
    d0 = np.full(len(num), float(den0))
    if kind == "proportion":
        val = quietly(stats.proportion, num, den, multiplier=multiplier)
    else:
        val = quietly(stats.rate, num, den, multiplier=multiplier)
    rat = quietly(stats.ratio, num, den, n0, d0, kind=kind)
    notes = np.where(inconsistent, NOTE_INCONSISTENT, np.where(np.isnan(num) | np.isnan(den), NOTE_SUPPRESSED, note))
    return _frame(
        dimension,
        groups,
        barrier,
        measure,
        source,
        period,
        value=val["value"],
        lower_cl=val["lower_cl"],
        upper_cl=val["upper_cl"],
        ratio=rat["value"],
        ratio_lower=rat["lower_cl"],
        ratio_upper=rat["upper_cl"],
        note=notes,
    )


# --- need --------------------------------------------------------------------------


def need(org_type: str = "England") -> pd.DataFrame:
    """Modelled QOF 2019-20 prevalence by IMD decile, relative to England (England only).

    Depression (18+, over the 18+ list) and serious mental illness (all ages, over the
    whole list); ``value`` in %, ``ratio`` = decile ÷ England (sum of the ten deciles'
    modelled registers over their list sizes). No limits: modelled, not sampled.
    """
    deciles = [decile_label(d) for d in range(1, 11)]
    if org_type != "England":
        return _frame(
            "deprivation", deciles, "need", DEPRESSION, "hocl-qof1920-imd", NEED_PERIOD, note=NOTE_NEED_ENGLAND
        )
    hocl = qof.hocl_prevalence("imd")
    hocl = hocl[hocl["imd_decile"].notna()]
    parts = []
    for indicator, measure in (("depression_18plus", DEPRESSION), ("smi_all_ages", SMI)):
        rows = hocl[hocl["indicator"] == indicator].set_index("imd_decile").reindex(range(1, 11))
        whole = rows["register"].sum() / rows["list_size"].sum()
        share = rows["register"] / rows["list_size"]
        parts.append(
            _frame(
                "deprivation",
                deciles,
                "need",
                measure,
                "hocl-qof1920-imd",
                NEED_PERIOD,
                value=100 * share,
                ratio=share / whole,
                note=NOTE_MODELLED,
            )
        )
    return pd.concat(parts, ignore_index=True)


# --- IAPT counts by group ------------------------------------------------------------


def _iapt_counts(dimension: str, org_type: str, org_code: str, period: str) -> pd.DataFrame:
    """One row per published group: ``group`` (readable), ``label`` (published),
    ``imd_decile`` and the counts ``referrals, finished, caseness_finished`` (finished
    minus not at caseness: NHS England's recovery denominator), ``recovery,
    improvement`` (NaN when suppressed). Unknown / not-stated categories are left out."""
    rows = iapt.breakdown(IAPT_BREAKDOWNS[dimension], org_type, org_code, period)
    if dimension == "ethnicity":
        rows = rows[rows["subgroup"] == "All"]
    rows = rows[rows["group"].notna() & ~rows["group"].astype(str).str.contains(UNKNOWN_GROUP)]
    wide = rows.pivot_table(
        index="group", columns="measure", values="count", aggfunc="first", observed=True, dropna=False
    )
    order = list(dict.fromkeys(rows["group"].astype(str)))
    wide = wide.reindex(order)
    if dimension == "deprivation":
        deciles = rows.drop_duplicates("group").set_index(rows.drop_duplicates("group")["group"].astype(str))[
            "imd_decile"
        ]
        wide = wide.assign(decile=deciles.reindex(order).astype(int).to_numpy()).sort_values("decile")
    out = pd.DataFrame({"label": wide.index.astype(str)})
    for name, measure in (
        ("referrals", "referrals_received"),
        ("finished", "finished_course_treatment"),
        ("not_at_caseness", "not_at_caseness"),
        ("recovery", "recovery"),
        ("improvement", "improvement"),
    ):
        out[name] = wide[measure].to_numpy() if measure in wide else np.nan
    out["caseness_finished"] = out["finished"] - out.pop("not_at_caseness")
    out["group"] = [_short(x, dimension) for x in out["label"]]
    return out


def _iapt_total(org_type: str, org_code: str, period: str) -> pd.Series:
    rows = iapt.breakdown("Total", org_type, org_code, period).set_index("measure")["count"]
    return pd.Series(
        {
            "referrals": rows.get("referrals_received"),
            "finished": rows.get("finished_course_treatment"),
            "caseness_finished": rows.get("finished_course_treatment") - rows.get("not_at_caseness"),
            "recovery": rows.get("recovery"),
            "improvement": rows.get("improvement"),
        },
        dtype=float,
    )


def outcomes(dimension: str, counts: pd.DataFrame, total: pd.Series, period: str) -> pd.DataFrame:
    """Recovery, finished treatment per 100 referrals and reliable improvement, each
    relative to the organisation's overall figure (its Total row)."""
    src = "iapt-annual"
    return pd.concat(
        [
            _with_ratio(
                dimension,
                counts["group"],
                "outcome",
                RECOVERY,
                src,
                period,
                counts["recovery"],
                counts["caseness_finished"],
                total["recovery"],
                total["caseness_finished"],
                "proportion",
                100,
            ),
            _with_ratio(
                dimension,
                counts["group"],
                "outcome",
                FINISHED,
                src,
                period,
                counts["finished"],
                counts["referrals"],
                total["finished"],
                total["referrals"],
                "rate",
                100,
                note=NOTE_COHORTS,
            ),
            _with_ratio(
                dimension,
                counts["group"],
                "outcome",
                IMPROVEMENT,
                src,
                period,
                counts["improvement"],
                counts["finished"],
                total["improvement"],
                total["finished"],
                "proportion",
                100,
            ),
        ],
        ignore_index=True,
    )


# --- access ----------------------------------------------------------------------------


def _lsoas(org_type: str, org_code: str) -> list[str]:
    """LSOA 2011 codes of an ICB or (2021-22) CCG by ONS's July 2022 lookup."""
    column = {"ICB": "icb22_ods", "CCG": "sicbl22_ods"}.get(org_type)
    if column is None:
        raise InsufficientDataError(f"triple_barrier: no LSOA lookup for org_type {org_type!r}; expected ICB or CCG")
    nhs = lookups.lsoa11_nhs22()
    codes = nhs.loc[nhs[column] == org_code, "lsoa11_code"].tolist()
    if not codes:
        raise InsufficientDataError(f"triple_barrier: {org_type} {org_code!r} has no LSOAs in the July 2022 lookup")
    return codes


def _access_deprivation(counts: pd.DataFrame, org_type: str, org_code: str, period: str) -> pd.DataFrame:
    """Referrals per 100,000 aged 16+ by decile, over the population nearest the year
    (``iapt_deprivation.population_year``: ONS mid-2020 from 2019-20, else IoD2019 mid-2015)."""
    pop16 = population_16plus(org_type, org_code, period)["population_16plus"].to_numpy()
    decile = counts["label"].str.extract(r"IMD decile (\d+)")[0].astype(int).to_numpy()
    den = pop16[decile - 1]
    known = counts["referrals"].notna()
    year = population_year(period)
    source = "ONS mid-2020 estimates" if year == "mid-2020" else "iod2019 denominators"
    out = _with_ratio(
        "deprivation",
        counts["group"],
        "access",
        RATE_16,
        f"iapt-annual; {source}",
        f"{period} (population {year})",
        counts["referrals"],
        den,
        counts.loc[known, "referrals"].sum(),
        den[known.to_numpy()].sum(),
        "rate",
        100_000,
        note=NOTE_WHOLE_KNOWN_DECILE,
    )
    out.loc[den == 0, "note"] = NOTE_NO_RESIDENTS
    return out


def _age_band(label: str) -> tuple[int, int] | None:
    """Ages (inclusive; 90 = 90 and over) of an IAPT age-group label, None if open below."""
    if m := re.fullmatch(r"(\d+) to (\d+)", label):
        return int(m[1]), int(m[2])
    if m := re.fullmatch(r"(\d+) and over", label):
        return int(m[1]), 90
    return None


@reads.cached(maxsize=16)
def _lsoa_band(band: str) -> pd.DataFrame:
    """ONS mid-2020 LSOA populations in one age band (cached: each call re-reads the table)."""
    return population.lsoa_2020(band)[["lsoa11_code", "population"]]


def _band_population(org_type: str, org_code: str, band: tuple[int, int] | None) -> float:
    """Mid-2020 persons aged ``band`` (inclusive; 90 = 90 and over) in England or a footprint."""
    if band is None:
        return np.nan
    text = f"{band[0]}-{band[1]}"
    if org_type == "England":
        return float(population.by_area(ENGLAND_CODE, 2020, "persons", text))
    pop = _lsoa_band(text)
    return float(pop.loc[pop["lsoa11_code"].isin(_lsoas(org_type, org_code)), "population"].sum())


def _access_age(counts: pd.DataFrame, org_type: str, org_code: str, period: str) -> pd.DataFrame:
    """Referrals per 100,000 of the same age band, ONS mid-2020; groups with no
    closed lower bound ("Under 18") have no matching band and no value."""
    bands = counts["label"].map(_age_band)
    den = np.array([_band_population(org_type, org_code, b) for b in bands], dtype=float)
    has = ~np.isnan(den) & counts["referrals"].notna().to_numpy()
    out = _with_ratio(
        "age",
        counts["group"],
        "access",
        RATE_AGE,
        "iapt-annual; ONS mid-2020 estimates",
        f"{period} (population mid-2020)",
        counts["referrals"],
        den,
        counts.loc[has, "referrals"].sum(),
        den[has].sum(),
        "rate",
        100_000,
        note=NOTE_WHOLE_AGE,
    )
    out.loc[np.isnan(den), "note"] = NOTE_NO_AGE_POP
    return out


def _access_gender(counts: pd.DataFrame, org_type: str, period: str) -> pd.DataFrame:
    """Referrals per 100,000 females / males aged 16+ (ONS mid-2020), England only."""
    if org_type != "England":
        return _frame("gender", counts["group"], "access", RATE_SEX, "iapt-annual", period, note=NOTE_NO_SEX_POP)
    mye = population.mid_year_estimates("mid-2020")
    rows = mye[(mye["area_code"] == ENGLAND_CODE) & (mye["age"] >= 16)]
    pop = rows.groupby("sex")["population"].sum()
    den = counts["group"].map({"Female": pop["females"], "Male": pop["males"]}).astype(float).to_numpy()
    has = ~np.isnan(den) & counts["referrals"].notna().to_numpy()
    out = _with_ratio(
        "gender",
        counts["group"],
        "access",
        RATE_SEX,
        "iapt-annual; ONS mid-2020 estimates",
        f"{period} (population mid-2020)",
        counts["referrals"],
        den,
        counts.loc[has, "referrals"].sum(),
        den[has].sum(),
        "rate",
        100_000,
        note=NOTE_WHOLE_SEX,
    )
    out.loc[np.isnan(den), "note"] = NOTE_NO_GROUP_POP
    return out


def _access_share(dimension: str, counts: pd.DataFrame, total: pd.Series, period: str) -> pd.DataFrame:
    """Share of all referrals (%, Wilson limits); no population, so no ratio."""
    num = counts["referrals"].to_numpy(dtype=float)
    val = quietly(stats.proportion, num, np.full(len(num), total["referrals"]), multiplier=100)
    note = NOTE_NO_DENOMINATOR_MULTIPLE if dimension == "disability" else NOTE_NO_DENOMINATOR
    notes = np.where(np.isnan(num), NOTE_SUPPRESSED, note)
    return _frame(
        dimension,
        counts["group"],
        "access",
        SHARE,
        "iapt-annual",
        period,
        value=val["value"],
        lower_cl=val["lower_cl"],
        upper_cl=val["upper_cl"],
        note=notes,
    )


def access(
    dimension: str, counts: pd.DataFrame, total: pd.Series, org_type: str, org_code: str, period: str
) -> pd.DataFrame:
    """The access rows of one dimension (see the module docstring for denominators)."""
    if dimension == "deprivation":
        return _access_deprivation(counts, org_type, org_code, period)
    if dimension == "age":
        return _access_age(counts, org_type, org_code, period)
    if dimension == "gender":
        return _access_gender(counts, org_type, period)
    return _access_share(dimension, counts, total, period)


# --- coercion --------------------------------------------------------------------------


def coercion(dimension: str, org_type: str, org_code: str) -> pd.DataFrame:
    """MHA detentions (latest year) per 100,000 (crude) by group, relative to the total.

    Ethnicity, for England and an ICB alike: the groups shown added together (people
    whose ethnic group is known), so the two ratios are built the same way. Other
    breakdowns: England's total within the breakdown ("All", "All genders"); an ICB (no
    such row) its overall total. Populations implied by count ÷ rate.
    """
    breakdown = MHA_BREAKDOWNS[dimension]
    det = mha.detentions("crude")
    rows = det[(det["measure"] == MHA_MEASURE) & (det["subcategory"] == "All") & (det["source"] == "MHSDS")]
    if org_type not in MHA_ORG_TYPES:
        raise InsufficientDataError(
            f"triple_barrier: no Mental Health Act breakdowns for organisation type {org_type!r}; "
            f"they are published for {' and '.join(MHA_ORG_TYPES)}"
        )
    mha_type = org_type
    code = ENGLAND_CODE if org_type == "England" else org_code
    mine = rows[(rows["org_type"] == mha_type) & (rows["org_code"] == code)]
    part = mine[mine["breakdown"] == breakdown]
    total = part[part["group"] == MHA_TOTALS[breakdown]]
    if total.empty:
        total = mine[mine["breakdown"] == "all"]
    if part.empty or total.empty:
        raise InsufficientDataError(f"no MHA {breakdown} rows for {org_type} {org_code}")
    if breakdown == "imd":
        groups = [str(d) for d in range(1, 11)]
        labels = [decile_label(d) for d in range(1, 11)]
    elif breakdown == "ethnicity":
        groups = labels = list(BROAD_ETHNIC_GROUPS)
    else:
        groups = labels = ["Female", "Male"]
    found = part.set_index("group").reindex(groups)
    count, rate = found["count"].to_numpy(float), found["value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pop = np.where(rate > 0, count / rate * 100_000, np.nan)
    if breakdown == "ethnicity":
        # Built the same way for England and an ICB: the detentions of people whose ethnic
        # group is known, over the populations of those groups (implied by count and rate).
        t_count, t_pop = float(np.nansum(count)), float(np.nansum(pop))
        if np.isnan(pop).any():
            t_count = t_pop = np.nan
        note = NOTE_MHA_KNOWN_ETHNICITY
    else:
        t_count, t_rate = float(total["count"].iloc[0]), float(total["value"].iloc[0])
        t_pop = t_count / t_rate * 100_000
        note = NOTE_MHA_ENGLAND_TOTAL if total["breakdown"].iloc[0] == breakdown else NOTE_MHA_ICB_TOTAL
    out = _with_ratio(
        dimension,
        labels,
        "coercion",
        DETENTIONS,
        mha.dataset(),
        periods.latest("mha"),
        count,
        pop,
        t_count,
        t_pop,
        "rate",
        100_000,
        note=note,
    )
    # Report the published rate itself (implied populations reproduce it to rounding).
    keep = ~np.isnan(rate)
    out.loc[keep, "value"] = rate[keep]
    return out


# --- the table -------------------------------------------------------------------------


def _grid(groups: dict[str, list[str]]) -> pd.DataFrame:
    cells = [(d, g, b) for d, gs in groups.items() for g in gs for b in BARRIERS]
    return pd.DataFrame(cells, columns=["dimension", "group", "barrier"])


def _dimension(
    dimension: str, org_type: str, org_code: str, period: str, total: pd.Series
) -> tuple[list[str], list[pd.DataFrame]]:
    """Groups and rows for one dimension."""
    parts: list[pd.DataFrame] = []
    try:
        counts = _iapt_counts(dimension, org_type, org_code, period)
    except (InsufficientDataError, ValueError) as exc:
        log.info("triple_barrier: %s: %s", dimension, exc)
        counts = None
    groups = list(counts["group"]) if counts is not None else []
    if dimension == "deprivation":
        groups = [decile_label(d) for d in range(1, 11)]
        parts.append(need(org_type))
    elif dimension == "ethnicity" and not groups:
        groups = list(BROAD_ETHNIC_GROUPS)
    if counts is not None:
        parts.append(access(dimension, counts, total, org_type, org_code, period))
        parts.append(outcomes(dimension, counts, total, period))
    if dimension in MHA_BREAKDOWNS:
        try:
            parts.append(coercion(dimension, org_type, org_code))
        except InsufficientDataError:
            note = NOTE_NO_MHA_ORG if org_type not in MHA_ORG_TYPES else NOTE_SUPPRESSED
            parts.append(
                _frame(dimension, groups, "coercion", DETENTIONS, mha.dataset(), periods.latest("mha"), note=note)
            )
    return groups, parts


@reads.cached(maxsize=64, stored=True)
def _barriers(org_type: str, org_code: str, period: str) -> pd.DataFrame:
    total = _iapt_total(org_type, org_code, period)
    groups, parts = {}, []
    for dimension in DIMENSIONS:
        groups[dimension], rows = _dimension(dimension, org_type, org_code, period, total)
        parts += rows
    table = pd.concat(parts, ignore_index=True)
    table = table[table["group"].isin({g for gs in groups.values() for g in gs})]
    # Every (group, barrier) cell has at least one row; empty ones say why.
    present = table[["dimension", "group", "barrier"]].drop_duplicates()
    empty = _grid(groups).merge(present, how="left", indicator=True).query("_merge == 'left_only'")
    fill = []
    for (dim, barrier), cells in empty.groupby(["dimension", "barrier"], sort=False):
        note, source, period_ = _empty_reason(dim, barrier, period)
        fill.append(_frame(dim, cells["group"], barrier, "", source, period_, note=note))
    table = pd.concat([table, *fill], ignore_index=True)
    order = {(d, g): i for i, (d, g) in enumerate((d, g) for d, gs in groups.items() for g in gs)}
    table["_o"] = [order[(d, g)] for d, g in zip(table["dimension"], table["group"])]
    table["_b"] = table["barrier"].map({b: i for i, b in enumerate(BARRIERS)})
    return table.sort_values(["_o", "_b"], kind="stable").drop(columns=["_o", "_b"]).reset_index(drop=True)


def _empty_reason(dimension: str, barrier: str, period: str) -> tuple[str, str, str]:
    if barrier == "need":
        return NOTE_NO_NEED, "", ""
    if barrier == "coercion":
        note = {"age": NOTE_MHA_AGE, "sexual orientation": NOTE_MHA_NONE, "disability": NOTE_MHA_NONE}
        return note.get(dimension, NOTE_NO_COERCION), mha.dataset(), periods.latest("mha")
    return NOTE_NOT_PUBLISHED if dimension not in ("deprivation", "ethnicity") else NOTE_NO_GROUP, "iapt-annual", period


def barriers(org_type: str = "England", org_code: str = "All", period: str | None = None) -> pd.DataFrame:
    """The triple-barrier table for England (``"England", "All"``) or an NHS footprint
    (``"ICB", "QOP"``; ``"CCG"`` codes for 2021-22) in an NHS Talking Therapies year.

    Columns: ``dimension`` (one of ``DIMENSIONS``), ``group``, ``barrier`` ("need",
    "access", "outcome", "coercion"), ``measure`` (empty where no measure exists),
    ``value`` with ``lower_cl``/``upper_cl`` (95%; units in ``measure``), ``ratio``
    (group ÷ whole population) with ``ratio_lower``/``ratio_upper``, ``source``
    (dataset ids), ``period`` (of the data, with the population year where one is
    used) and ``note`` (a code of :data:`NOTES`: why a value is missing, or a caveat;
    "" for none). Several measures may
    share a (group, barrier) cell; ``HEADLINE`` names the one charted.
    """
    period = period or periods.latest("iapt")
    return _barriers(org_type, org_code, period).copy()


# --- the charted cells ----------------------------------------------------------------------


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, barrier): the charted measure, or the empty cell's note."""
    best = table[table["measure"].isin(HEADLINE) | (table["measure"] == "")]
    return best.drop_duplicates(["dimension", "group", "barrier"]).reset_index(drop=True)


def local_table(footprint: Footprint) -> pd.DataFrame | None:
    """``barriers`` for the footprint, or None when the year has no footprint."""
    if not footprint.available:
        return None
    return barriers(footprint.org_type, footprint.org_code, footprint.period)


def summary_rows(area: Area | str, period: str | None = None) -> pd.DataFrame:
    """A few headline ratios for the book's summary page.

    Columns: ``geography`` ("England" or the footprint's name), ``dimension``,
    ``group``, ``barrier``, ``measure``, ``ratio``, ``ratio_lower``, ``ratio_upper``,
    ``period``, ``note``. Rows: the most deprived decile's four barriers and Black or
    Black British detentions for England; the most deprived decile's access and
    outcome (and coercion for an ICB) for the area's footprint.
    """
    period = period or periods.latest("iapt")
    area = areas.get(area) if isinstance(area, str) else area
    picks = [
        ("England", barriers("England", "All", period), "deprivation", decile_label(1), BARRIERS),
        ("England", None, "ethnicity", "Black or Black British", ("coercion",)),
    ]
    fp = iapt_footprint(area, period)
    local = local_table(fp)
    if local is not None:
        picks.append((fp.org_name, local, "deprivation", decile_label(1), ("access", "outcome", "coercion")))
    rows = []
    england = picks[0][1]
    for geography, table, dimension, group, wanted in picks:
        cells = headline(england if table is None else table)
        sel = cells[(cells["dimension"] == dimension) & (cells["group"] == group) & cells["barrier"].isin(wanted)]
        rows.append(sel.assign(geography=geography))
    out = pd.concat(rows, ignore_index=True)
    return out[
        [
            "geography",
            "dimension",
            "group",
            "barrier",
            "measure",
            "ratio",
            "ratio_lower",
            "ratio_upper",
            "period",
            "note",
        ]
    ]
