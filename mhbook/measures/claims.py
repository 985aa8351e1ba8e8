"""The Commission for Equality in Mental Health's quantitative claims, re-checked.

"Mental health for all?" (Commission for Equality in Mental Health, Centre for Mental
Health, 2020) quotes four numbers that public data can test. Each is re-computed here
for England, for the year the Commission drew on (NHS Talking Therapies 2018-19) where
the data hold it, and for the latest year:

1. ``deprivation``: referrals rise with deprivation while the share finishing treatment
   and recovery fall. Three gradients across IMD 2019 deciles (1 = most deprived),
   each per decile step towards *less* deprived areas, from ``stats.gradient`` with
   the quasi-likelihood scale (overdispersion): referrals per person aged 16+ (Poisson,
   mid-2015 population offset; claimed direction: rate ratio below 1), finished
   treatment out of referrals and recovered out of those at caseness (binomial;
   claimed direction: odds ratio above 1).
2. ``sexual_orientation``: recovery 43% bisexual, 49% lesbian and gay, 53%
   heterosexual. Published recovery counts over those at caseness, Wilson limits;
   adjacent groups compared by the Newcombe difference of proportions.
3. ``older_adults``: people aged 65 and over are 7% of IAPT users, read as the share
   of referrals received (Wilson limits), beside the 65+ share of England's population
   aged 16+ (ONS mid-year estimates) that shows whether they are under-represented.
4. ``detention``: Black people are about three times as likely as White people to be
   detained under the Mental Health Act. Rate ratio of all detentions, England,
   latest year: crude (Poisson limits from the counts, populations implied by the
   published crude rates) and age-sex standardised (limits by the delta method on the
   log scale from the published 95% half-widths, which assumes the two rates are
   independent and roughly normal).

The verdict rule (``decide``)
-----------------------------
Every claim is split into its *substance* (a direction: a gradient, an ordering, an
excess) and, where the report gives one, its *number*. A direction counts as shown only
when its 95% interval excludes no difference; a number counts as matched when the 95%
interval of the estimate reaches within half a unit of the claimed figure (the
report's rounding: "43%" covers 42.5 to 43.5; "about three times" covers 2.5 to 3.5).

* **still holds**: the substance is shown and the number (if any) is matched;
* **partly holds**: the substance is shown but the number is not matched, or (for the
  three-part deprivation claim, which gives no numbers) some but not all parts are shown;
* **no longer holds**: the substance is not shown;
* **cannot be tested with these data**: the data for that year or breakdown are not in
  the files.

Sources: ``iapt-annual``, ``iapt-annual-legacy`` (NHS Digital / NHS England annual
reports, via ``mhbook.sources.iapt``), ``imd-2019`` denominators through
``mhbook.measures.iapt_deprivation``, ``pop-mye-mid2019`` / ``pop-mye-mid2020`` (ONS),
``mha-YYYY-YY``, the latest year (NHS England Mental Health Act statistics).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from mhbook import periods, reads, stats
from mhbook.constants import ENGLAND_CODE
from mhbook.measures import iapt_deprivation
from mhbook.sources import iapt, mha, population

log = logging.getLogger(__name__)

STILL, PARTLY, NO_LONGER, UNTESTABLE = (
    "still holds",
    "partly holds",
    "no longer holds",
    "cannot be tested with these data",
)
VERDICTS = (STILL, PARTLY, NO_LONGER, UNTESTABLE)
Z95 = 1.959963984540054

#: The report, for attribution of every quotation.
REPORT = (
    "Commission for Equality in Mental Health, Mental health for all? The final report of the Commission "
    "for Equality in Mental Health (Centre for Mental Health, 2020)"
)
#: The claims in the report's own words (quoted verbatim; see shared/reference/commission_claims.md).
CLAIMS = {
    "deprivation": (
        "with each decile (10% of the population) of deprivation, people are more likely to be "
        "referred to IAPT services – reflecting the higher risk of depression or anxiety. But at each "
        "stage of the IAPT system the graph goes into reverse. People from more deprived "
        "neighbourhoods are less likely to begin treatment, less likely to complete treatment, and "
        "less likely again to recover or see an improvement in their mental health"
    ),
    "sexual_orientation": (
        "Recovery rates in IAPT services are lower for bisexual people (43%) and lesbian and "
        "gay people (49%) than for those identifying as heterosexual (53%) (NHS England, "
        "2020)."
    ),
    "older_adults": (
        "Older adults (over the age of 65) account for only 7% of people who use NHS Improving "
        "Access to Psychological Therapies (IAPT) services (NHS England, 2017)"
    ),
    "detention": (
        "Black people are three times more likely than white people in England to be sectioned under "
        "the Mental Health Act"
    ),
    "cto": (
        "and they are eight times more likely to be given a Community Treatment Order that limits their "
        "freedoms when they leave hospital (NHS Digital, 2019)"
    ),
    "child_poverty": (
        "Children from the poorest 20% of households are four times as likely to have serious "
        "mental health difficulties by the age of 11 as those from the wealthiest 20% (Morrison "
        "Gutman et al., 2015)"
    ),
}
#: Claimed recovery (%) by the published IAPT sexual orientation label, lowest first.
CLAIMED_RECOVERY = {"Bi-sexual": 43.0, "Gay/Lesbian": 49.0, "Heterosexual": 53.0}
SEXUAL_ORIENTATION_LABELS = {"Bi-sexual": "bisexual", "Gay/Lesbian": "lesbian and gay", "Heterosexual": "heterosexual"}
CLAIMED_OLDER_SHARE = 7.0
CLAIMED_DETENTION_RATIO = 3.0
CLAIMED_CTO_RATIO = 8.0
#: Mental Health Act measure tested by each MHA claim.
MHA_MEASURES = {"detention": "All detentions", "cto": "Uses of CTOs"}
#: Half a unit of the claimed figure's rounding (whole percent; "about three").
ROUNDING = 0.5
OLDER_BANDS = ("65 and over", "65 to 74", "75 to 89", "90 and over")
GRADIENT_PARTS = {
    # name: (numerator, denominator, family, claimed direction of the ratio per step
    #        towards less deprived areas, label)
    "referrals": ("referrals", "population_16plus", "poisson", "below 1", "referrals per person aged 16+"),
    # Referrals received and treatments finished in a year are different cohorts: the share
    # is shown by decile, never given an odds ratio or an interval (family None).
    "finished": ("finished", "referrals", None, "above 1", "finished treatment (per referral, not tested)"),
    "recovery": ("recovery", "caseness_finished", "binomial", "above 1", "recovery (of those finished at caseness)"),
}
SOURCES = {
    "deprivation": "iapt-annual, imd-2019",
    "sexual_orientation": "iapt-annual, iapt-annual-legacy",
    "older_adults": "iapt-annual, iapt-annual-legacy, pop-mye-mid2019/2020",
    "detention": "mha",  # the latest year's file: _source names it
    "cto": "mha",
    "child_poverty": "none: household-level cohort data",
}


def _missing(*values) -> bool:
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def decide(substance: bool | None, number_matched: bool | None = True) -> str:
    """The verdict rule (see the module docstring).

    ``substance``: whether the direction the claim asserts is shown at 95%;
    ``number_matched``: whether the claimed figure lies within half a unit of the 95%
    interval (``True`` for claims that give no figure). ``None`` for either means the
    data cannot test it.
    """
    if substance is None or number_matched is None:
        return UNTESTABLE
    if not substance:
        return NO_LONGER
    return STILL if number_matched else PARTLY


def matches(claimed: float, lower: float, upper: float, rounding: float = ROUNDING) -> bool | None:
    """Whether ``claimed`` (rounded to ±``rounding``) overlaps the interval; None if missing."""
    if _missing(lower, upper):
        return None
    return bool(lower <= claimed + rounding and upper >= claimed - rounding)


def shown(lower: float, upper: float, direction: str) -> bool | None:
    """Whether a 95% interval lies wholly on the claimed side of the null.

    ``direction``: "below 1" / "above 1" for ratios, "above 0" for differences.
    """
    if _missing(lower, upper):
        return None
    sides = {"below 1": upper < 1, "above 1": lower > 1, "above 0": lower > 0}
    if direction not in sides:
        raise ValueError(f"direction {direction!r} unknown; expected one of {list(sides)}")
    return bool(sides[direction])


def gradient_verdict(parts: pd.DataFrame) -> str:
    """Verdict on the three-part deprivation claim from ``deprivation_gradients`` rows of
    one year: all parts shown -> still holds, some -> partly, none -> no longer holds."""
    tested = [p for p, spec in GRADIENT_PARTS.items() if spec[2] is not None]
    parts = parts[parts["part"].isin(tested)]
    flags = [shown(r.lower_cl, r.upper_cl, r.direction) for r in parts.itertuples()]
    if len(flags) != len(tested) or any(f is None for f in flags):
        return decide(None)
    return decide(any(flags), all(flags))


def deprivation_gradients(periods: list[str]) -> pd.DataFrame:
    """Gradient of each part of the deprivation claim, England, one row per period × part.

    Columns: ``period``, ``part`` (referrals / finished / recovery), ``label``,
    ``statistic`` (rate or odds ratio per decile step towards less deprived areas),
    ``value``, ``lower_cl``, ``upper_cl`` (95%, quasi-likelihood), ``p_trend``,
    ``dispersion``, ``direction`` (the claimed side of 1), ``shown`` (bool), plus
    ``most_deprived`` and ``least_deprived``: the measure in deciles 1 and 10 (referrals
    per 100,000 aged 16+, or %).
    """
    rows = []
    for period in periods:
        table = iapt_deprivation.decile_attrition(period)
        ends = table.set_index("imd_decile")
        for part, (num, den, family, direction, label) in GRADIENT_PARTS.items():
            if family is None:
                g = pd.Series(
                    {
                        "statistic": "not tested: different cohorts",
                        "value": np.nan,
                        "lower_cl": np.nan,
                        "upper_cl": np.nan,
                        "p_trend": np.nan,
                        "dispersion": np.nan,
                    }
                )
            else:
                g = stats.gradient(
                    quantile=table["imd_decile"],
                    numerator=table[num],
                    denominator=table[den],
                    family=family,
                    overdispersion=True,
                ).iloc[0]
            column = {"referrals": "referral_rate", "finished": "finished_pct", "recovery": "recovery_pct"}[part]
            rows.append(
                {
                    "period": period,
                    "part": part,
                    "label": label,
                    "statistic": g["statistic"],
                    "value": g["value"],
                    "lower_cl": g["lower_cl"],
                    "upper_cl": g["upper_cl"],
                    "p_trend": g["p_trend"],
                    "dispersion": g["dispersion"],
                    "direction": direction,
                    "shown": shown(g["lower_cl"], g["upper_cl"], direction) if family else None,
                    "most_deprived": ends.loc[1, column],
                    "least_deprived": ends.loc[10, column],
                }
            )
    return pd.DataFrame(rows)


def recovery_by_sexual_orientation() -> pd.DataFrame:
    """Recovery by sexual orientation, England, every year published in these files.

    One row per period × group (bisexual, lesbian and gay, heterosexual): ``period``,
    ``group`` (published label), ``label``, ``recovered``, ``at_caseness`` (finished
    treatment minus not at caseness, NHS England's denominator), ``value`` (%),
    ``lower_cl``, ``upper_cl`` (95% Wilson), ``published_pct`` (NHS's own figure),
    ``claimed`` (the Commission's %), ``matched`` (bool). England's counts are exact,
    so the recomputed value equals NHS's published percentage to its rounding.
    The breakdown is published for
    2014-15 to 2016-17 (legacy file) and from 2020-21, not for 2017-18 to 2019-20.
    """
    df = iapt.breakdown("Sexual Orientation Type", org_type="England")
    wanted = ["recovery", "finished_course_treatment", "not_at_caseness"]
    df = df[df["group"].isin(list(CLAIMED_RECOVERY)) & df["measure"].isin(wanted)]
    wide = df.pivot_table(index=["period", "group"], columns="measure", values="count", observed=True)
    wide = wide.reindex(columns=wanted)
    wide["at_caseness"] = wide["finished_course_treatment"] - wide["not_at_caseness"]
    pct = df[df["measure"] == "recovery"].set_index(["period", "group"])["percentage"]
    wide = wide.join(pct.rename("published_pct")).reset_index()
    wide = wide.rename(columns={"recovery": "recovered"}).astype({"period": str, "group": str})
    res = stats.proportion(wide["recovered"], wide["at_caseness"])
    wide["value"], wide["lower_cl"], wide["upper_cl"] = res["value"], res["lower_cl"], res["upper_cl"]
    wide["label"] = wide["group"].map(SEXUAL_ORIENTATION_LABELS)
    wide["claimed"] = wide["group"].map(CLAIMED_RECOVERY)
    wide["matched"] = [matches(c, lo, hi) for c, lo, hi in zip(wide["claimed"], wide["lower_cl"], wide["upper_cl"])]
    wide["order"] = wide["group"].map({g: i for i, g in enumerate(CLAIMED_RECOVERY)})
    cols = [
        "period",
        "group",
        "label",
        "recovered",
        "at_caseness",
        "value",
        "lower_cl",
        "upper_cl",
        "published_pct",
        "claimed",
        "matched",
    ]
    return wide.sort_values(["period", "order"])[cols].reset_index(drop=True)


def ordering_shown(year: pd.DataFrame) -> bool | None:
    """Whether recovery rises bisexual < lesbian and gay < heterosexual in one year's rows
    of ``recovery_by_sexual_orientation``: each step's Newcombe 95% difference above 0."""
    year = year.set_index("group").reindex(list(CLAIMED_RECOVERY))
    if year[["recovered", "at_caseness"]].isna().any().any():
        return None
    low, high = year.iloc[:-1], year.iloc[1:]
    diff = stats.difference(
        high["recovered"].to_numpy(),
        high["at_caseness"].to_numpy(),
        low["recovered"].to_numpy(),
        low["at_caseness"].to_numpy(),
    )
    return all(shown(lo, hi, "above 0") for lo, hi in zip(diff["lower_cl"], diff["upper_cl"]))


def older_adult_share() -> pd.DataFrame:
    """Share of referrals received aged 65 and over, England, every year.

    Columns: ``period``, ``bands`` (the published age bands summed: "65 and over" to
    2020-21; "65 to 74", "75 to 89" and "90 and over" from 2021-22), ``older``,
    ``referrals`` (all referrals received, the Total row, so unknown ages stay in the
    denominator), ``value`` (%), ``lower_cl``, ``upper_cl`` (95% Wilson).
    """
    age = iapt.breakdown("Age Group", org_type="England")
    age = age[(age["measure"] == "referrals_received") & age["group"].isin(list(OLDER_BANDS))]
    total = iapt.breakdown("Total", org_type="England")
    total = total[total["measure"] == "referrals_received"]
    total = pd.Series(total["count"].to_numpy(), index=total["period"].astype(str))
    rows = []
    for period, g in age.groupby("period", observed=True):
        rows.append(
            {
                "period": str(period),
                "bands": ", ".join(map(str, g["group"])),
                "older": g["count"].sum(min_count=len(g)),
                "referrals": total.get(str(period), np.nan),
            }
        )
    out = pd.DataFrame(rows)
    res = stats.proportion(out["older"], out["referrals"])
    out["value"], out["lower_cl"], out["upper_cl"] = res["value"], res["lower_cl"], res["upper_cl"]
    return out


def older_population_share(period: str) -> dict:
    """Percentage of England's population aged 16+ who are 65+, ONS mid-2019 for 2018-19
    and earlier IAPT years, mid-2020 (the latest estimate held) for later ones."""
    year = 2019 if period < "2019-20" else 2020
    older = population.by_area(ENGLAND_CODE, year, age_band="65+")
    adults = population.by_area(ENGLAND_CODE, year, age_band="16+")
    return {"year": f"mid-{year}", "value": 100 * older / adults}


def detention_ratio(measure: str = "All detentions") -> pd.DataFrame:
    """Black / White rate ratio of an MHA ``measure`` ("All detentions", "Uses of CTOs"), England.

    Two rows (``rate_type`` crude, standardised): ``period``, ``black``, ``white``
    (detentions or uses), ``black_rate``, ``white_rate`` (per 100,000), ``value`` (ratio),
    ``lower_cl``, ``upper_cl`` (95%), ``method``.
    """
    rows = []
    for rate_type in ("crude", "standardised"):
        d = mha.detentions(rate_type)
        d = d[(d["org_type"] == "England") & (d["measure"] == measure) & (d["breakdown"] == "ethnicity")]
        pick = d.set_index("group").loc[["Black or Black British", "White"]]
        black, white = pick.iloc[0], pick.iloc[1]
        if rate_type == "crude":
            # populations implied by the published crude rates; the limits use the counts
            pops = pick["count"] / pick["value"] * 100_000
            r = stats.ratio(black["count"], pops.iloc[0], white["count"], pops.iloc[1], kind="rate")
            value, lower, upper, method = r.value, r.lower_cl, r.upper_cl, "log (Poisson), counts"
        else:
            se = np.hypot(
                (black["upper_cl"] - black["value"]) / (Z95 * black["value"]),
                (white["upper_cl"] - white["value"]) / (Z95 * white["value"]),
            )
            value = black["value"] / white["value"]
            lower, upper = value * np.exp(-Z95 * se), value * np.exp(Z95 * se)
            method = "delta method on the log scale, published limits"
        rows.append(
            {
                "period": black["period"],
                "rate_type": rate_type,
                "black": black["count"],
                "white": white["count"],
                "black_rate": black["value"],
                "white_rate": white["value"],
                "value": float(value),
                "lower_cl": float(lower),
                "upper_cl": float(upper),
                "method": method,
            }
        )
    return pd.DataFrame(rows)


#: Status of a check: the data hold it and it was checked; the breakdown or year is not
#: published in the files held (the years that are held name it on the page); the year is
#: not in the files; the claim is about households, which area data cannot test.
CHECKED, NOT_PUBLISHED, NOT_HELD, NOT_AREA_DATA = "checked", "not published", "not held", "not area data"


def dataset_ids(claim: str) -> str:
    """The dataset ids behind ``claim`` (``SOURCES``), the Mental Health Act file of the latest year by id."""
    return mha.dataset() if SOURCES[claim] == "mha" else SOURCES[claim]


def _check(claim: str, period: str, verdict: str, status: str = CHECKED, rate_type: str | None = None) -> dict:
    return {"claim_id": claim, "period": period, "rate_type": rate_type, "status": status, "verdict": verdict}


def _deprivation_checks(period: str, latest_period: str) -> list[dict]:
    grads = deprivation_gradients([period, latest_period])
    return [_check("deprivation", p, gradient_verdict(parts)) for p, parts in grads.groupby("period", sort=False)]


def _sexual_orientation_checks(period: str, latest_period: str) -> list[dict]:
    rec = recovery_by_sexual_orientation()
    years = rec["period"].unique().tolist()
    rows = []
    if period not in years:
        rows.append(_check("sexual_orientation", period, decide(None), NOT_PUBLISHED))
    for p in dict.fromkeys([years[0], latest_period]):
        year = rec[rec["period"] == p]
        if year.empty:
            rows.append(_check("sexual_orientation", p, decide(None), NOT_HELD))
            continue
        matched = None if year["matched"].isna().any() else bool(year["matched"].all())
        rows.append(_check("sexual_orientation", p, decide(ordering_shown(year), matched)))
    return rows


def _older_checks(period: str, latest_period: str) -> list[dict]:
    share = older_adult_share().set_index("period")
    rows = []
    for p in dict.fromkeys([period, latest_period]):
        if p not in share.index:
            rows.append(_check("older_adults", p, decide(None), NOT_HELD))
            continue
        s, pop = share.loc[p], older_population_share(p)
        under = shown(s["lower_cl"] / pop["value"], s["upper_cl"] / pop["value"], "below 1")
        rows.append(
            _check("older_adults", p, decide(under, matches(CLAIMED_OLDER_SHARE, s["lower_cl"], s["upper_cl"])))
        )
    return rows


def _mha_checks(claim: str, period: str) -> list[dict]:
    claimed = CLAIMED_DETENTION_RATIO if claim == "detention" else CLAIMED_CTO_RATIO
    ratio = detention_ratio(MHA_MEASURES[claim])
    rows = []
    if period not in set(ratio["period"]):
        rows.append(_check(claim, period, decide(None), NOT_PUBLISHED))
    for r in ratio.itertuples():
        verdict = decide(shown(r.lower_cl, r.upper_cl, "above 1"), matches(claimed, r.lower_cl, r.upper_cl))
        rows.append(_check(claim, r.period, verdict, rate_type=r.rate_type))
    return rows


def claim_checks(period: str = "2018-19", latest_period: str | None = None) -> pd.DataFrame:
    """One row per claim × period checked (× rate type for the Mental Health Act claims), in
    the order of ``CLAIMS``.

    ``period``: the year the Commission drew on; ``latest_period``: the latest IAPT year.
    Columns: ``claim_id``, ``period`` ("–" for the household claim), ``rate_type`` (crude /
    standardised for the Mental Health Act claims, else None), ``status`` (``CHECKED``,
    ``NOT_PUBLISHED``, ``NOT_HELD``, ``NOT_AREA_DATA``) and ``verdict`` (one of ``VERDICTS``,
    by ``decide``). Mental Health Act figures are for the latest year only; sexual
    orientation is not published for 2017-18 to 2019-20, so the earliest year held is
    checked instead. The numbers behind each row are ``deprivation_gradients``,
    ``recovery_by_sexual_orientation``, ``older_adult_share`` / ``older_population_share``
    and ``detention_ratio``.
    """
    latest_period = latest_period or periods.latest("iapt")
    return _claim_checks(period, latest_period).copy()


@reads.cached(maxsize=4, stored=True)
def _claim_checks(period: str, latest_period: str) -> pd.DataFrame:
    # England-level, the same on every area's page: checked once per process.
    rows = (
        _deprivation_checks(period, latest_period)
        + _sexual_orientation_checks(period, latest_period)
        + _older_checks(period, latest_period)
        + _mha_checks("detention", period)
        + _mha_checks("cto", period)
        + [_check("child_poverty", "–", decide(None), NOT_AREA_DATA)]
    )
    log.info("claims re-checked: %d rows for %s and %s", len(rows), period, latest_period)
    return pd.DataFrame(rows)


def latest_verdicts(checks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One verdict per claim: that of the most recent year the data can test (what holds
    today), else "cannot be tested"; where the crude and standardised Mental Health Act
    rows share that year, the standardised one decides. ``checks``: rows with
    ``claim_id``, ``period``, ``rate_type`` and ``verdict`` (default ``claim_checks()``).
    Columns ``claim_id``, ``verdict``, ``period`` (the year the verdict rests on)."""
    checks = claim_checks() if checks is None else checks
    rows = []
    for claim_id, part in checks.groupby("claim_id", sort=False):
        testable = part[part["verdict"] != UNTESTABLE]
        latest = testable.sort_values("period").iloc[-1] if len(testable) else part.iloc[-1]
        if len(testable) and (testable["period"] == latest["period"]).sum() > 1:
            same = testable[testable["period"] == latest["period"]]
            standardised = same["rate_type"] == "standardised"
            latest = same[standardised].iloc[0] if standardised.any() else same.iloc[-1]
        rows.append({"claim_id": claim_id, "verdict": latest["verdict"], "period": latest["period"]})
    return pd.DataFrame(rows)


def verdict_counts(table: pd.DataFrame | None = None) -> pd.Series:
    """Number of claims with each verdict (:func:`latest_verdicts` of ``table``, default
    ``claim_checks()``; every verdict listed, 0 if none)."""
    verdicts = latest_verdicts(table)
    return verdicts["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0).rename("claims")
