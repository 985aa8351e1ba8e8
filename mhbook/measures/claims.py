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


def _ci(value: float, lower: float, upper: float, digits: int = 1, unit: str = "") -> str:
    return f"{value:.{digits}f}{unit} ({lower:.{digits}f} to {upper:.{digits}f})"


def _range(lower: pd.Series, upper: pd.Series, digits: int) -> pd.Series:
    """Limits as "lower to upper" text with a fixed number of decimals."""
    return pd.Series([f"{lo:.{digits}f} to {hi:.{digits}f}" for lo, hi in zip(lower, upper)], index=lower.index)


def held_years(periods: list[str]) -> str:
    """Runs of consecutive financial years as text: "2014-15 to 2016-17 and 2020-21 to 2024-25"."""
    starts = sorted(periods)
    runs: list[list[str]] = []
    for p in starts:
        if runs and int(p[:4]) == int(runs[-1][-1][:4]) + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return " and ".join(r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def _row(claim: str, measure: str, period: str, result: str, verdict: str) -> dict:
    return {
        "claim_id": claim,
        "claim": f"“{CLAIMS[claim]}”",
        "measure": measure,
        "period": period,
        "result": result,
        "verdict": verdict,
        "source": _source(claim),
    }


def _source(claim: str) -> str:
    """The dataset ids behind ``claim``, the Mental Health Act file of the latest year by name."""
    return mha.dataset() if SOURCES[claim] == "mha" else SOURCES[claim]


def _deprivation_rows(period: str, latest_period: str) -> list[dict]:
    grads = deprivation_gradients([period, latest_period])
    measure = (
        "Ratio per IMD decile step towards less deprived areas (95% limits): referrals per person "
        "aged 16+ (Poisson; claim: below 1) and recovery (binomial odds ratio; claim: above 1); finished "
        "treatment per referral shown without a test, as referrals and finished treatments are different "
        "cohorts"
    )
    rows = []
    for p, parts in grads.groupby("period", sort=False):
        result = "; ".join(
            f"{r.part} {_ci(r.value, r.lower_cl, r.upper_cl, 3)}"
            if pd.notna(r.value)
            else f"{r.part} {r.most_deprived:.1f}% most deprived against {r.least_deprived:.1f}% least "
            "deprived (not tested: different cohorts)"
            for r in parts.itertuples()
        )
        rows.append(_row("deprivation", measure, p, result, gradient_verdict(parts)))
    return rows


def _sexual_orientation_rows(period: str, latest_period: str) -> list[dict]:
    rec = recovery_by_sexual_orientation()
    measure = "Recovery, % of those at caseness who finished treatment (95% Wilson limits)"
    rows = []
    years = rec["period"].unique().tolist()
    if period not in years:
        rows.append(
            _row(
                "sexual_orientation",
                measure,
                period,
                f"Not published by sexual orientation in these files for {period} (held: {held_years(years)})",
                decide(None),
            )
        )
    for p in dict.fromkeys([years[0], latest_period]):
        year = rec[rec["period"] == p]
        if year.empty:
            rows.append(_row("sexual_orientation", measure, p, "not in these files", decide(None)))
            continue
        result = "; ".join(f"{r.label} {_ci(r.value, r.lower_cl, r.upper_cl, unit='%')}" for r in year.itertuples())
        matched = None if year["matched"].isna().any() else bool(year["matched"].all())
        rows.append(_row("sexual_orientation", measure, p, result, decide(ordering_shown(year), matched)))
    return rows


def _older_rows(period: str, latest_period: str) -> list[dict]:
    share = older_adult_share().set_index("period")
    measure = (
        "Referrals received aged 65+, % of all referrals (95% Wilson limits), beside the 65+ share of "
        "England's population aged 16+ (claim's substance: below it)"
    )
    rows = []
    for p in dict.fromkeys([period, latest_period]):
        if p not in share.index:
            rows.append(_row("older_adults", measure, p, "not in these files", decide(None)))
            continue
        s, pop = share.loc[p], older_population_share(p)
        result = (
            f"{_ci(s['value'], s['lower_cl'], s['upper_cl'], 2, '%')} of referrals (bands summed: "
            f"{s['bands']}); 65+ are {pop['value']:.1f}% of people aged 16+ ({pop['year']})"
        )
        under = shown(s["lower_cl"] / pop["value"], s["upper_cl"] / pop["value"], "below 1")
        rows.append(
            _row(
                "older_adults",
                measure,
                p,
                result,
                decide(under, matches(CLAIMED_OLDER_SHARE, s["lower_cl"], s["upper_cl"])),
            )
        )
    return rows


def _mha_rows(claim: str, period: str) -> list[dict]:
    measure_name = MHA_MEASURES[claim]
    claimed = CLAIMED_DETENTION_RATIO if claim == "detention" else CLAIMED_CTO_RATIO
    what = "detentions" if claim == "detention" else "uses of Community Treatment Orders"
    ratio = detention_ratio(measure_name)
    rows = []
    if period not in set(ratio["period"]):
        rows.append(
            _row(
                claim,
                f"Black / White rate ratio of {what}",
                period,
                f"Mental Health Act statistics for {period} are not in these files "
                f"(held: {', '.join(sorted(set(ratio['period'])))})",
                decide(None),
            )
        )
    for r in ratio.itertuples():
        result = (
            f"{_ci(r.value, r.lower_cl, r.upper_cl, 2)} times ({r.black_rate:.1f} against "
            f"{r.white_rate:.1f} per 100,000)"
        )
        rows.append(
            _row(
                claim,
                f"Black / White rate ratio of {what}, {r.rate_type} rates (95% limits; {r.method})",
                r.period,
                result,
                decide(shown(r.lower_cl, r.upper_cl, "above 1"), matches(claimed, r.lower_cl, r.upper_cl)),
            )
        )
    return rows


def _child_poverty_rows() -> list[dict]:
    return [
        _row(
            "child_poverty",
            "Serious mental health difficulties by household income at age 11",
            "–",
            "A claim about households followed from birth (Millennium Cohort Study); area data cannot test "
            "it. The chapter on deprivation and prevalence shows the area-level association only.",
            decide(None),
        )
    ]


def claims_table(period: str = "2018-19", latest_period: str | None = None) -> pd.DataFrame:
    """One row per claim × period checked, in the order of ``CLAIMS``.

    ``period``: the year the Commission drew on; ``latest_period``: the latest IAPT year.
    Columns: ``claim_id``, ``claim`` (as the report stated it), ``measure`` (what is
    computed, with the method), ``period``, ``result`` (values with 95% limits, as
    text), ``verdict`` (one of ``VERDICTS``, by ``decide``), ``source`` (dataset ids).
    Mental Health Act figures are for the latest year only; sexual orientation is not
    published for 2017-18 to 2019-20, so the earliest year held is shown instead.
    """
    latest_period = latest_period or periods.latest("iapt")
    return _claims_table(period, latest_period).copy()


@reads.cached(maxsize=4, stored=True)
def _claims_table(period: str, latest_period: str) -> pd.DataFrame:
    # England-level, the same on every area's page: checked once per process.
    rows = (
        _deprivation_rows(period, latest_period)
        + _sexual_orientation_rows(period, latest_period)
        + _older_rows(period, latest_period)
        + _mha_rows("detention", period)
        + _mha_rows("cto", period)
        + _child_poverty_rows()
    )
    log.info("claims re-checked: %d rows for %s and %s", len(rows), period, latest_period)
    return pd.DataFrame(rows)


def claim_verdicts(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One verdict per claim: that of the most recent year the data can test (what holds
    today), else "cannot be tested". Columns ``claim_id``, ``claim``, ``verdict``,
    ``period`` (the year the verdict rests on), ``years`` (every year checked, with its
    verdict, as text)."""
    table = claims_table() if table is None else table
    rows = []
    for claim_id, part in table.groupby("claim_id", sort=False):
        testable = part[part["verdict"] != UNTESTABLE]
        latest = testable.sort_values("period").iloc[-1] if len(testable) else part.iloc[-1]
        # the crude and standardised MHA rows share a year: the standardised one decides
        if len(testable) and (testable["period"] == latest["period"]).sum() > 1:
            same = testable[testable["period"] == latest["period"]]
            latest = (
                same[same["measure"].str.contains("standardised")].iloc[0]
                if same["measure"].str.contains("standardised").any()
                else same.iloc[-1]
            )
        years = "; ".join(f"{r.period}: {r.verdict}" for r in part.itertuples())
        rows.append(
            {
                "claim_id": claim_id,
                "claim": part["claim"].iloc[0],
                "verdict": latest["verdict"],
                "period": latest["period"],
                "years": years,
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(table: pd.DataFrame | None = None) -> pd.Series:
    """Number of claims with each verdict (:func:`claim_verdicts`; every verdict listed, 0 if none)."""
    verdicts = claim_verdicts(table)
    return verdicts["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0).rename("claims")


def verdicts_display(verdicts: pd.DataFrame) -> pd.DataFrame:
    """``claim_verdicts`` for the page: the quotation, today's verdict, the years beneath."""
    return pd.DataFrame(
        {
            "the Commission's words (2020)": verdicts["claim"],
            "verdict today": verdicts["verdict"],
            "year it rests on": verdicts["period"],
            "every year checked": verdicts["years"],
        }
    )


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """``claims_table`` with reader-facing column names for the page."""
    return table[["claim", "measure", "period", "result", "verdict", "source"]].rename(
        columns={
            "claim": "the Commission's words (2020)",
            "period": "period checked",
            "result": "what the data show (95% limits)",
            "source": "dataset",
        }
    )


def gradient_table(gradients: pd.DataFrame) -> pd.DataFrame:
    """``deprivation_gradients`` for the page: one row per year and part of the claim."""
    return pd.DataFrame(
        {
            "year": gradients["period"],
            "measure": gradients["label"],
            "most deprived decile": gradients["most_deprived"].round(1),
            "least deprived decile": gradients["least_deprived"].round(1),
            "ratio per decile step": gradients["value"].map(lambda v: "not tested" if pd.isna(v) else f"{v:.3f}"),
            "95% limits": _range(gradients["lower_cl"], gradients["upper_cl"], 3).where(gradients["value"].notna()),
            "claimed direction": gradients["direction"],
            "shown": gradients["shown"],
        }
    )


def orientation_table(rec: pd.DataFrame) -> pd.DataFrame:
    """``recovery_by_sexual_orientation`` for the page: one row per year and group."""
    return pd.DataFrame(
        {
            "year": rec["period"],
            "sexual orientation": rec["label"],
            "recovered": rec["recovered"],
            "at caseness": rec["at_caseness"],
            "recovery (%)": rec["value"].round(1),
            "95% limits": _range(rec["lower_cl"], rec["upper_cl"], 1),
            "published by NHS (%)": rec["published_pct"],
            "claimed (%)": rec["claimed"],
            "claim within limits": rec["matched"],
        }
    )


def older_table(share: pd.DataFrame) -> pd.DataFrame:
    """``older_adult_share`` for the page: one row per year, naming the bands summed."""
    return pd.DataFrame(
        {
            "year": share["period"],
            "age bands summed": share["bands"],
            "referrals aged 65+": share["older"],
            "all referrals": share["referrals"],
            "share aged 65+ (%)": share["value"].map("{:.2f}".format),
            "95% limits": _range(share["lower_cl"], share["upper_cl"], 2),
        }
    )


def headline_numbers(
    table: pd.DataFrame,
    gradients: pd.DataFrame,
    orientation: pd.DataFrame,
    older: pd.DataFrame,
    detention: pd.DataFrame,
    period: str,
    latest_period: str,
) -> dict:
    """Numbers glued into the chapter's prose."""
    counts = verdict_counts(table)
    cto = detention_ratio(MHA_MEASURES["cto"]).set_index("rate_type")
    rec = gradients.set_index(["period", "part"])
    so_first, so_last = orientation["period"].iloc[0], orientation["period"].iloc[-1]
    so = orientation.set_index(["period", "group"])
    old = older.set_index("period")
    det = detention.set_index("rate_type")
    values = {
        "period": period,
        "latest_period": latest_period,
        "n_rows": len(table),
        "n_still": counts[STILL],
        "n_partly": counts[PARTLY],
        "n_no_longer": counts[NO_LONGER],
        "n_untestable": counts[UNTESTABLE],
        "rec_d1": rec.loc[(period, "recovery"), "most_deprived"],
        "rec_d10": rec.loc[(period, "recovery"), "least_deprived"],
        "rec_d1_latest": rec.loc[(latest_period, "recovery"), "most_deprived"],
        "rec_d10_latest": rec.loc[(latest_period, "recovery"), "least_deprived"],
        "ref_d1": rec.loc[(period, "referrals"), "most_deprived"],
        "ref_d10": rec.loc[(period, "referrals"), "least_deprived"],
        "so_first_period": so_first,
        "so_last_period": so_last,
        "older_share": old.loc[period, "value"],
        "older_share_latest": old.loc[latest_period, "value"],
        "older_bands_latest": old.loc[latest_period, "bands"],
        "older_bands_first": old["bands"].iloc[0],
        "older_change_period": old.index[old["bands"] != old["bands"].iloc[0]][0],
        "so_max_gap": (orientation["value"] - orientation["published_pct"]).abs().max(),
        "so_held": held_years(orientation["period"].unique().tolist()),
        "mha_period": det.loc["crude", "period"],
        "mha_crude": det.loc["crude", "value"],
        "mha_std": det.loc["standardised", "value"],
        "mha_std_lower": det.loc["standardised", "lower_cl"],
        "mha_std_upper": det.loc["standardised", "upper_cl"],
        "cto_std": cto.loc["standardised", "value"],
        "cto_std_lower": cto.loc["standardised", "lower_cl"],
        "cto_std_upper": cto.loc["standardised", "upper_cl"],
        "n_claims": int(counts.sum()),
        "report": REPORT,
    }
    for group, key in (("Bi-sexual", "bi"), ("Gay/Lesbian", "gay"), ("Heterosexual", "het")):
        values[f"so_{key}_first"] = so.loc[(so_first, group), "value"]
        values[f"so_{key}_latest"] = so.loc[(so_last, group), "value"]
    return values
