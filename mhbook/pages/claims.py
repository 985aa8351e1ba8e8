"""The claims chapter: the Commission's claims re-checked, in words, tables and glued values.

Numbers and verdicts come from ``mhbook.measures.claims`` (``claim_checks``: one verdict per
claim and year checked, by the rule ``decide``; ``deprivation_gradients``,
``recovery_by_sexual_orientation``, ``older_adult_share``, ``detention_ratio``: what each
verdict rests on). This module writes each check's measure and result as text (values with
95% limits), lays out the tables and publishes them with their captions, computing nothing
new. ``notebooks/claims.md`` holds the chapter's fixed text and calls one function here per
glued block or table. The page is about England, the same for every area.

Display rules: ratios per decile step and limits to 3 decimals; recovery by sexual
orientation to 1 decimal; the 65+ share to 2; Mental Health Act rate ratios to 2 and rates
per 100,000 to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from mhbook import figures, periods
from mhbook.measures.claims import (
    CHECKED,
    CLAIMS,
    MHA_MEASURES,
    NO_LONGER,
    NOT_PUBLISHED,
    PARTLY,
    REPORT,
    STILL,
    UNTESTABLE,
    claim_checks,
    dataset_ids,
    deprivation_gradients,
    detention_ratio,
    latest_verdicts,
    older_adult_share,
    older_population_share,
    recovery_by_sexual_orientation,
    verdict_counts,
)


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows, computed once per notebook run."""

    period: str  # the NHS Talking Therapies year the Commission drew on
    latest_period: str  # the latest year in the data
    table: pd.DataFrame  # claims_table(period, latest_period): every check, in words
    gradients: pd.DataFrame  # deprivation_gradients([period, latest_period])
    orientation: pd.DataFrame  # recovery_by_sexual_orientation()
    older: pd.DataFrame  # older_adult_share()
    detention: pd.DataFrame  # detention_ratio(): all detentions, crude and standardised


def chapter_numbers(period: str, latest_period: str) -> ChapterNumbers:
    """The chapter's measures for the Commission's year ``period`` and the latest year."""
    return ChapterNumbers(
        period,
        latest_period,
        claims_table(period, latest_period),
        deprivation_gradients([period, latest_period]),
        recovery_by_sexual_orientation(),
        older_adult_share(),
        detention_ratio(),
    )


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return headline_numbers(n.table, n.gradients, n.orientation, n.older, n.detention, n.period, n.latest_period)


# --- every check, in words ---------------------------------------------------------------------


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


_DEPRIVATION_MEASURE = (
    "Ratio per IMD decile step towards less deprived areas (95% limits): referrals per person "
    "aged 16+ (Poisson; claim: below 1) and recovery (binomial odds ratio; claim: above 1); finished "
    "treatment per referral shown without a test, as referrals and finished treatments are different "
    "cohorts"
)
_ORIENTATION_MEASURE = "Recovery, % of those at caseness who finished treatment (95% Wilson limits)"
_OLDER_MEASURE = (
    "Referrals received aged 65+, % of all referrals (95% Wilson limits), beside the 65+ share of "
    "England's population aged 16+ (claim's substance: below it)"
)
_MHA_WHAT = {"detention": "detentions", "cto": "uses of Community Treatment Orders"}


def _deprivation_words(check: pd.Series, grads: pd.DataFrame) -> tuple[str, str]:
    parts = grads[grads["period"] == check["period"]]
    result = "; ".join(
        f"{r.part} {_ci(r.value, r.lower_cl, r.upper_cl, 3)}"
        if pd.notna(r.value)
        else f"{r.part} {r.most_deprived:.1f}% most deprived against {r.least_deprived:.1f}% least "
        "deprived (not tested: different cohorts)"
        for r in parts.itertuples()
    )
    return _DEPRIVATION_MEASURE, result


def _orientation_words(check: pd.Series, rec: pd.DataFrame) -> tuple[str, str]:
    p = check["period"]
    if check["status"] == NOT_PUBLISHED:
        held = held_years(rec["period"].unique().tolist())
        return _ORIENTATION_MEASURE, f"Not published by sexual orientation in these files for {p} (held: {held})"
    if check["status"] != CHECKED:
        return _ORIENTATION_MEASURE, "not in these files"
    year = rec[rec["period"] == p]
    return _ORIENTATION_MEASURE, "; ".join(
        f"{r.label} {_ci(r.value, r.lower_cl, r.upper_cl, unit='%')}" for r in year.itertuples()
    )


def _older_words(check: pd.Series, share: pd.DataFrame) -> tuple[str, str]:
    if check["status"] != CHECKED:
        return _OLDER_MEASURE, "not in these files"
    p = check["period"]
    s, pop = share.set_index("period").loc[p], older_population_share(p)
    return _OLDER_MEASURE, (
        f"{_ci(s['value'], s['lower_cl'], s['upper_cl'], 2, '%')} of referrals (bands summed: "
        f"{s['bands']}); 65+ are {pop['value']:.1f}% of people aged 16+ ({pop['year']})"
    )


def _mha_words(check: pd.Series, ratio: pd.DataFrame) -> tuple[str, str]:
    what = _MHA_WHAT[check["claim_id"]]
    if check["status"] != CHECKED:
        return (
            f"Black / White rate ratio of {what}",
            f"Mental Health Act statistics for {check['period']} are not in these files "
            f"(held: {', '.join(sorted(set(ratio['period'])))})",
        )
    r = ratio.set_index("rate_type").loc[check["rate_type"]]
    return (
        f"Black / White rate ratio of {what}, {check['rate_type']} rates (95% limits; {r['method']})",
        f"{_ci(r['value'], r['lower_cl'], r['upper_cl'], 2)} times ({r['black_rate']:.1f} against "
        f"{r['white_rate']:.1f} per 100,000)",
    )


def _child_poverty_words() -> tuple[str, str]:
    return (
        "Serious mental health difficulties by household income at age 11",
        "A claim about households followed from birth (Millennium Cohort Study); area data cannot test "
        "it. The chapter on deprivation and prevalence shows the area-level association only.",
    )


def claims_table(period: str = "2018-19", latest_period: str | None = None) -> pd.DataFrame:
    """``claim_checks`` with each check in words, one row per claim × period checked.

    Columns: ``claim_id``, ``claim`` (the report's words, in quotation marks), ``measure``
    (what is computed, with the method), ``period``, ``result`` (values with 95% limits, as
    text), ``verdict``, ``source`` (dataset ids), and the checks' ``rate_type`` and
    ``status``.
    """
    latest_period = latest_period or periods.latest("iapt")
    checks = claim_checks(period, latest_period)
    tables = {
        "deprivation": deprivation_gradients([period, latest_period]),
        "sexual_orientation": recovery_by_sexual_orientation(),
        "older_adults": older_adult_share(),
        "detention": detention_ratio(MHA_MEASURES["detention"]),
        "cto": detention_ratio(MHA_MEASURES["cto"]),
    }
    words = {
        "deprivation": _deprivation_words,
        "sexual_orientation": _orientation_words,
        "older_adults": _older_words,
        "detention": _mha_words,
        "cto": _mha_words,
    }
    rows = []
    for _, check in checks.iterrows():
        claim = check["claim_id"]
        measure, result = _child_poverty_words() if claim == "child_poverty" else words[claim](check, tables[claim])
        rows.append(
            {
                "claim_id": claim,
                "claim": f"“{CLAIMS[claim]}”",
                "measure": measure,
                "period": check["period"],
                "result": result,
                "verdict": check["verdict"],
                "source": dataset_ids(claim),
                "rate_type": check["rate_type"],
                "status": check["status"],
            }
        )
    return pd.DataFrame(rows)


def claim_verdicts(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One verdict per claim (``latest_verdicts``), with the claim's words and every year
    checked. Columns ``claim_id``, ``claim``, ``verdict``, ``period`` (the year the verdict
    rests on), ``years`` (every year checked, with its verdict, as text)."""
    table = claims_table() if table is None else table
    verdicts = latest_verdicts(table)
    groups = table.groupby("claim_id", sort=False)
    return verdicts.assign(
        claim=verdicts["claim_id"].map(groups["claim"].first()),
        years=verdicts["claim_id"].map(
            {c: "; ".join(f"{r.period}: {r.verdict}" for r in part.itertuples()) for c, part in groups}
        ),
    )[["claim_id", "claim", "verdict", "period", "years"]]


# --- display tables -----------------------------------------------------------------------------


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


# --- published tables, with their captions -----------------------------------------------------


def publish_verdicts(table: pd.DataFrame) -> Markdown:
    """One verdict per claim, as published."""
    return figures.publish_table(
        verdicts_display(claim_verdicts(table)),
        "claims-verdicts",
        caption="The Commission's quantitative claims (quoted from the report), one verdict each: the "
        "most recent year the data can test, with every year checked beneath.",
        missing_label="–",
    )


def publish_checks(table: pd.DataFrame) -> Markdown:
    """Every check, as published."""
    return figures.publish_table(
        display_table(table),
        "claims",
        caption="Every check, England: the claim in the report's words, the measure computed, the "
        "period checked, the value with 95% limits and the verdict given by the rule below.",
        missing_label="–",
    )


def publish_gradients(gradients: pd.DataFrame) -> Markdown:
    """The deprivation gradients, as published."""
    return figures.publish_table(
        gradient_table(gradients),
        "claims-deprivation",
        caption="Gradients across deprivation deciles as published, England, per decile step towards less deprived "
        "areas, with 95% limits (quasi-likelihood GLM). Referrals: rate ratio; finished treatment "
        "and recovery: odds ratios.",
    )


def publish_orientation(rec: pd.DataFrame) -> Markdown:
    """Recovery by sexual orientation, as published."""
    return figures.publish_table(
        orientation_table(rec),
        "claims-sexual-orientation",
        caption="Recovery by sexual orientation, England, every year published, with 95% Wilson "
        "limits, NHS's published percentage and the Commission's figure.",
    )


def publish_older(share: pd.DataFrame) -> Markdown:
    """The share of referrals aged 65 and over, as published."""
    return figures.publish_table(
        older_table(share),
        "claims-older-adults",
        caption="Referrals received aged 65 and over as a share of all referrals, England, each "
        "year, with 95% Wilson limits and the age bands summed.",
    )


# --- glued values -------------------------------------------------------------------------------


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
