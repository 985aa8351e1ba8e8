"""The summary chapter (the area's landing page): its key findings, the triple barrier
against England in words and tables, and the chapters' headline tables.

Numbers come from ``mhbook.measures.summary`` (``barrier_table``: need, access, outcomes
and coercion against England), ``mhbook.measures.key_findings`` (the rows each finding
rests on), ``mhbook.measures.claims`` (verdict counts), ``mhbook.measures.triple_barrier``
(headline ratios, read where their table is published) and ``mhbook.measures.inequality``
(the widest gaps); this module puts
them into words, rounds them for display and publishes them, computing nothing new.
``notebooks/summary.md`` holds the chapter's fixed text and calls one function here per
glued block, table or chart.

Display rules: values and limits at one precision per row, limits rounded outwards (a
value never outside its limits), NHS England's whole-number percentages shown as whole
numbers (``figures.numbers``); ratios to 2 decimals; comparisons in Fingertips' words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from IPython.display import Markdown

from mhbook import figures, stats
from mhbook.areas import Area
from mhbook.figures import numbers
from mhbook.measures import claims, comparison, footprints, inequality, summary, triple_barrier
from mhbook.measures import key_findings as kf_measures
from mhbook.measures.footprints import Footprint
from mhbook.measures.key_findings import FindingNumbers
from mhbook.pages import coercion_notes, local_series
from mhbook.pages import comparison as comparison_page
from mhbook.pages.deprivation_prevalence import england_note, value_note
from mhbook.pages.footprint_notes import footprint_note

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
#: The population each referral rate is over, by its year.
_POPULATION_SOURCE = {"mid-2020": "ONS mid-2020 LSOA estimates", "mid-2015": "IoD2019 denominators, mid-2015"}


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    period: str  # NHS Talking Therapies year of access and outcomes
    footprint: Footprint  # the area's NHS Talking Therapies footprint
    table: pd.DataFrame  # summary.barrier_table(area, footprint)
    verdicts: pd.Series  # claims.verdict_counts(): the Commission's claims by verdict
    findings: FindingNumbers  # kf_measures.finding_numbers(area, period)


def chapter_numbers(area: Area, period: str) -> ChapterNumbers:
    """The chapter's measures for ``area``, NHS Talking Therapies year ``period``."""
    footprint = footprints.iapt_footprint(area, period)
    return ChapterNumbers(
        area,
        period,
        footprint,
        summary.barrier_table(area, footprint),
        claims.verdict_counts(),
        kf_measures.finding_numbers(area, period),
    )


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return (
        sentences(n.area, n.footprint, n.table)
        | claim_numbers(n.verdicts)
        | glue_values(findings_from(n.findings))
        # the local series chapter's sentences, as that chapter words them
        | local_series.summary_sentences(n.area)
    )


# --- the triple barrier against England --------------------------------------------------------


def place(row: pd.Series) -> str:
    """What a row of ``summary.barrier_table`` describes: the area or NHS organisation, or for
    coercion the footprint (the ICB beside it "for context")."""
    if row["barrier"] != "coercion":
        return row["geography"]
    return coercion_notes.footprint_label(row["footprint"]) + (", for context" if row["for_context"] else "")


def barrier_note(row: pd.Series) -> str:
    """What a row of ``summary.barrier_table`` rests on, in words: source, benchmark,
    rounding and (for rates) why there is no better or worse."""
    if row["barrier"] == "need":
        test = (
            "Compared with England as Fingertips publishes it (95%); the extract holds no limits, so there "
            "is no 99.8% test."
            if row["published_comparison"]
            else "Modelled estimate published without confidence limits, so it is not tested against England."
        )
        notes = [
            value_note(row["geography"], row["indicator"], row["value_source"]),
            england_note(row["indicator"], row["england_middle"]),
            test,
        ]
        return " ".join(n.rstrip(".") + "." for n in notes if isinstance(n, str) and n)
    if row["barrier"] == "access":
        year = row["population_year"]
        return (
            f"Referrals received in {row['period']} over the {year} population aged 16+ of the footprint's "
            f"neighbourhoods ({_POPULATION_SOURCE[year]}); England over England's {year} population. "
            "Limits carry the rounding of the footprint's count to 5. A referral rate has no polarity: "
            "higher or lower, not better or worse."
        )
    if row["barrier"] == "outcome":
        return (
            f"NHS England's published percentage ({row['value_source']}); limits carry the rounding of "
            "counts to 5 and of the percentage to a whole number."
        )
    note = (
        f"Crude rate, all ages, {row['period']}; {coercion_notes.fit_text(row['footprint'])}. England: {row['england']:.1f} per 100,000, the "
        f"publisher's total over all {row['org_type']}s (MHSDS), like for like; England's all-source rate "
        f"({row['england_all_sources']:.1f}) includes detentions assigned to no organisation. Limits "
        "carry the rounding of counts to 5. A detention rate has no polarity: higher or lower, not better "
        "or worse."
    )
    if pd.isna(row["value"]):
        note = (
            f"Not available for {coercion_notes.footprint_label(row['footprint'])}: "
            f"{coercion_notes.status_text(row['status'])}. " + note
        )
    return note


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
            "where": pd.Series([place(r) for _, r in table.iterrows()], index=table.index, dtype=object),
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
        for _, r in rows.iterrows():
            if pd.isna(r["value"]):
                parts.append(_sentence(f"{r['measure']}: no value for {place(r)} ({r['period']}): {barrier_note(r)}"))
                continue
            word = r["vs_england_99_8"].lower() if r["vs_england_99_8"] != "Not compared" else "not compared"
            word95 = r["vs_england_95"].lower() + (" to" if r["vs_england_95"] == "Similar" else " than")
            unit = "" if r["unit"] == "per 100,000" else "%"
            dec = int(r["decimals"]) if pd.notna(r["decimals"]) else numbers.decimals_for(r["unit"], r["value"])
            shown = numbers.with_limits(r["value"], r["lower_95"], r["upper_95"], dec)
            eng = numbers.number(r["england"], numbers.decimals_for(r["unit"], r["value"]))
            fit = f" ({r['fit']} fit to the area)" if isinstance(r.get("fit"), str) else ""
            parts.append(
                _sentence(
                    f"{r['measure']} in {place(r)}{fit}, {r['period']}: {shown}{unit} against "
                    f"{eng}{unit} in England ({word95} England at 95% confidence, {word} at "
                    f"99.8%)."
                )
            )
        out[f"{barrier}_text"] = (
            " ".join(parts) if parts else (f"No NHS footprint could be mapped for {area.name} in {footprint.period}.")
        )
    need = table[table["barrier"] == "need"]
    need_parts = []
    for _, r in need.iterrows():
        if pd.isna(r["value"]):
            need_parts.append(f"{r['measure']}: no value for {area.name} ({barrier_note(r)})")
        else:
            tested = (
                f", {r['vs_england_95'].lower()}{' to' if r['vs_england_95'] == 'Similar' else ' than'} England "
                "by Fingertips' published comparison"
                if r["vs_england_95"] != stats.benchmark.NOT_COMPARED
                else ""
            )
            need_parts.append(
                f"{r['measure']} {r['value']:.1f}% ({r['period']}; England {r['england']:.1f}%{tested})"
                if pd.notna(r["england"])
                else f"{r['measure']} {r['value']:.1f}% ({r['period']}; England's value is not in the data this "
                "book was built from)"
            )
    out["need_text"] = _sentence("; ".join(need_parts) + ".")
    return out


def _sentence(text: str) -> str:
    """Capitalise the first letter (measure labels are lower case, as in the charts)."""
    return text[:1].upper() + text[1:]


def publish_barrier_table(table: pd.DataFrame) -> Markdown:
    """``display_table`` as published, with its caption."""
    return figures.publish_table(
        display_table(table),
        "barriers-against-england",
        caption="The area's need, access, outcomes and coercion against England, with 95% limits and "
        "Fingertips' comparison at 95% and 99.8%.",
        missing_label="not available",
    )


# --- the chapters' headline tables -------------------------------------------------------------


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


def publish_outcome_gaps(area: Area, period: str) -> Markdown:
    """``outcome_gaps`` of ``inequality.widest_gaps``, as published. Like the ratios below,
    the gaps are read where their table is published, so that the table lists the
    datasets they come from (a published table lists those read since the one before it)."""
    return figures.publish_table(
        outcome_gaps(inequality.widest_gaps(area, period)),
        "widest-outcome-shortfalls",
        caption="Groups with the widest significant shortfall in outcomes against the footprint's "
        "overall value (99.8% limits), NHS Talking Therapies.",
        missing_label="not available",
    )


def publish_gap_table(area: Area, period: str) -> Markdown:
    """``gap_table`` of ``triple_barrier.summary_rows``, as published. The ratios are read
    here, not in ``chapter_numbers``: a published table lists the datasets read since the
    one before it, so the ratios' datasets belong to this table and to no earlier one."""
    return figures.publish_table(
        gap_table(triple_barrier.summary_rows(area, period)),
        "group-ratios",
        caption="Headline ratios from the triple barrier chapter: the most deprived tenth of "
        "neighbourhoods and Black or Black British people against the whole population.",
        missing_label="not available",
    )


def publish_amhe_table() -> Markdown:
    """``amhe_table``, as published."""
    return figures.publish_table(amhe_table(), "amhe-steps", caption="Chapters and the step they serve.")


def publish_local_trend(area: Area) -> Markdown:
    """The area's recovery series against England, drawn by the local series chapter."""
    return figures.publish(local_series.trend_figure(area, "recovery_pct"), "summary-local-recovery-trend")


# --- key findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One finding.

    ``key``: glue-key prefix ("kf1"...); ``text``: the sentence (Markdown, no link);
    ``evidence``: the page (document name, e.g. "comparison") and ``evidence_title`` its
    title; ``numbers``: every number in ``text``, as shown; ``cells``: for each number
    key, ``(csv file name, row column, row value, column, shown text)`` of the table
    cell it equals.
    """

    key: str
    text: str
    evidence: str
    evidence_title: str
    numbers: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)

    @property
    def markdown(self) -> str:
        """The sentence with a link to its evidence page. A plain link to the page's HTML:
        glued Markdown is not run through Sphinx's roles, so a ``{doc}`` role would show
        as text."""
        return f"{self.text} ([evidence: {self.evidence_title}]({self.evidence}.html))"


CMP, CMP_TITLE, CMP_CSV = "comparison", "Compared with similar areas", "comparison-indicators.csv"


def _shown(value: float, unit: str) -> float:
    return round(float(value), comparison.decimals(unit))


def _neighbours(n: FindingNumbers) -> Finding:
    area, ranked = n.area, kf_measures.ranked_rows(n.table)
    if ranked.empty:
        return Finding(
            "kf1", f"No indicator has values for both {area.name} and its statistical neighbours.", CMP, CMP_TITLE
        )
    highest, lowest = kf_measures.extremes(n.table)
    values, cells, parts = {}, {}, []
    for word, rows in (("highest", highest), ("lowest", lowest)):
        for i, r in enumerate(rows.head(2).itertuples()):
            k = f"kf1_{word}{i + 1}"
            shown = comparison_page.fmt(r.value, r.unit)
            values[k] = _shown(r.value, r.unit)
            cells[k] = (CMP_CSV, "indicator", r.label, "value", shown)
            parts.append(f"the {word} value for {r.label} ({shown}, rank {r.rank} of {r.rank_of})")
    above = int((ranked["vs_neighbours"] == "Higher").sum())
    values["kf1_above"], values["kf1_ranked"] = above, int(len(ranked))
    lead = f"Among {area.name} and its statistical neighbours, " + (
        f"{area.name} has " + "; ".join(parts) + "." if parts else f"{area.name} is never the highest or lowest."
    )
    text = (
        f"{lead} It is above the neighbours' average on {above} of the {len(ranked)} indicators with values for both."
    )
    if n.unplaced:
        text += f" {n.unplaced} neighbour(s) could not be placed on a current area."
    return Finding("kf1", text, CMP, CMP_TITLE, values, cells)


def _against_england(n: FindingNumbers, word: str, key: str) -> Finding:
    area, table = n.area, n.table
    rows = kf_measures.against_england(table, word)
    tested = kf_measures.tested(table)
    values, cells = {f"{key}_n": int(len(rows)), f"{key}_tested": tested}, {}
    if rows.empty:
        values[f"{key}_similar"] = int((table["vs_england_99_8"].isin(["Similar"])).sum())
        text = (
            f"None of the {tested} indicators that can be tested is {word.lower()} than England at the "
            f"strict 99.8% level."
        )
        return Finding(key, text, CMP, CMP_TITLE, values, cells)
    parts = []
    for i, r in enumerate(rows.head(3).itertuples()):
        k = f"{key}_{i + 1}"
        shown, eng = comparison_page.fmt(r.value, r.unit), comparison_page.fmt(r.england, r.unit)
        values[k], values[k + "_england"] = _shown(r.value, r.unit), _shown(r.england, r.unit)
        cells[k] = (CMP_CSV, "indicator", r.label, "value", shown)
        cells[k + "_england"] = (CMP_CSV, "indicator", r.label, "England", eng)
        describes = comparison_page.value_is_for(r._asdict())
        where = "" if describes == area.name else f" for {describes}"
        parts.append(f"{r.label}{where} ({shown} against {eng})")
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    text = (
        f"{word} than England at the strict 99.8% level ({len(rows)} of {tested} tested indicators): "
        + "; ".join(parts)
        + more
        + "."
    )
    return Finding(key, text, CMP, CMP_TITLE, values, cells)


def _trends(trends: pd.DataFrame) -> Finding:
    n = int(len(trends))
    tested = int((trends["trend"] != "Cannot be calculated").sum()) if n else 0
    flagged = trends[trends["flag"]] if n else trends
    values = {"kf4_series": n, "kf4_tested": tested, "kf4_flagged": int(len(flagged))}
    if len(flagged):
        text = (
            "Worse than England and getting significantly worse (Fingertips' recent-trend test): "
            + ", ".join(flagged["label"])
            + "."
        )
    else:
        text = (
            f"No indicator can be shown to be both worse than England and getting worse: of {n} series with "
            f"at least three periods, {tested} could be tested for a recent trend; the others lack five "
            "recent points, counts or confidence limits."
        )
    return Finding("kf4", text, CMP, CMP_TITLE, values, {})


def _gap(n: FindingNumbers) -> Finding:
    gaps = outcome_gaps(n.gaps)
    title, doc = "Exploring inequality", "exploring_inequality"
    if gaps.empty:
        return Finding(
            "kf5",
            f"In {n.period} no group's Talking Therapies recovery or reliable improvement in the "
            "area's NHS footprint fell below the footprint's overall value at the strict 99.8% "
            "level.",
            doc,
            title,
        )
    r = gaps.iloc[0]
    values = {
        "kf5_group_value": float(r["group value"]),
        "kf5_overall": float(r["overall value"]),
        "kf5_gap": float(r["gap (percentage points)"]),
        "kf5_people": int(r["people"]),
    }
    csv = "widest-outcome-shortfalls.csv"
    cells = {
        "kf5_group_value": (csv, "group", r["group"], "group value", f"{r['group value']:.1f}"),
        "kf5_overall": (csv, "group", r["group"], "overall value", f"{r['overall value']:.1f}"),
        "kf5_gap": (
            csv,
            "group",
            r["group"],
            "gap (percentage points)",
            f"{r['gap (percentage points)']:.1f}",
        ),
    }
    measure = str(r["measure"]).replace(" (%)", "")
    text = (
        f"The widest gap between groups that passes the strict 99.8% test: in {n.footprint.org_name}, {measure} "
        f"for {r['group']} ({str(r['characteristic']).lower()}) was {r['group value']:.1f}% against "
        f"{r['overall value']:.1f}% for everyone treated ({n.period}), "
        f"{abs(r['gap (percentage points)']):.1f} percentage points lower."
    )
    return Finding("kf5", text, doc, title, values, cells)


_SII_VERDICT = {
    kf_measures.OVERLAP: "their 95% limits overlap, so it has not clearly narrowed or widened",
    kf_measures.NARROWED: "it has narrowed",
    kf_measures.WIDENED: "it has widened",
}


def _deprivation_gap(n: FindingNumbers) -> Finding:
    doc, title = "iapt_deprivation", "Talking therapies by deprivation"
    fp = n.footprint
    if not fp.available:
        return Finding("kf6", f"The recovery gap by deprivation cannot be shown: {footprint_note(fp)}", doc, title)
    if len(n.sii) < 2:
        return Finding(
            "kf6", f"Fewer than two years of recovery by deprivation are published for {fp.org_name}.", doc, title
        )
    a, b = n.sii.iloc[0], n.sii.iloc[-1]
    values = {"kf6_first": round(float(a["sii"]), 1), "kf6_last": round(float(b["sii"]), 1)}
    text = (
        f"In {fp.org_name}, recovery was {values['kf6_first']:.1f} percentage points higher at the least "
        f"than at the most deprived end (slope index of inequality) in {a['period']} and "
        f"{values['kf6_last']:.1f} in {b['period']}: {_SII_VERDICT[kf_measures.sii_change(a, b)]}."
    )
    return Finding("kf6", text, doc, title, values, {})


def _need(n: FindingNumbers) -> Finding:
    area, t = n.area, n.table.set_index("indicator")
    parts, values, cells = [], {}, {}
    for key, word_hi, word_lo in (
        ("imd_score", "more deprived", "less deprived"),
        ("cmd_prevalence", "higher", "lower"),
    ):
        r = t.loc[key]
        if pd.isna(r["value"]):
            continue
        shown = comparison_page.fmt(r["value"], r["unit"])
        values[f"kf7_{key}"] = _shown(r["value"], r["unit"])
        cells[f"kf7_{key}"] = (CMP_CSV, "indicator", r["label"], "value", shown)
        if key == "imd_score":
            eng = comparison_page.fmt(r["england"], r["unit"])
            values["kf7_imd_england"] = _shown(r["england"], r["unit"])
            cells["kf7_imd_england"] = (CMP_CSV, "indicator", r["label"], "England", eng)
            word = word_hi if r["value"] > r["england"] else word_lo
            parts.append(f"{area.name} is {word} than England on average (IMD 2019 score {shown} against {eng})")
        else:
            mean = comparison_page.fmt(r["neighbours_mean"], r["unit"])
            values["kf7_cmd_neighbours"] = _shown(r["neighbours_mean"], r["unit"])
            parts.append(
                f"an estimated {shown} of people aged 16+ have a common mental disorder "
                f"(2017 model; neighbours' average {mean})"
            )
    text = ("; ".join(parts) + ".") if parts else f"No deprivation or prevalence value is available for {area.name}."
    return Finding("kf7", text[:1].upper() + text[1:], CMP, CMP_TITLE, values, cells)


def findings_from(n: FindingNumbers) -> list[Finding]:
    """The seven findings, in order (see ``mhbook.measures.key_findings``), worded."""
    return [
        _neighbours(n),
        _against_england(n, "Worse", "kf2"),
        _against_england(n, "Better", "kf3"),
        _trends(n.trends),
        _gap(n),
        _deprivation_gap(n),
        _need(n),
    ]


def key_findings(
    area: Area, period: str | None = None, table: pd.DataFrame | None = None, trends: pd.DataFrame | None = None
) -> list[Finding]:
    """Seven findings for ``area``, from ``key_findings.finding_numbers`` (same arguments)."""
    return findings_from(kf_measures.finding_numbers(area, period, table, trends))


def glue_values(findings: list[Finding]) -> dict:
    """Values for ``glue_all``: ``<key>_text`` (sentence with its evidence link),
    ``key_findings_md`` (all of them as a Markdown list) and every number."""
    out = {}
    for f in findings:
        out[f"{f.key}_text"] = f.markdown
        out.update(f.numbers)
    out["key_findings_md"] = "\n".join(f"- {f.markdown}" for f in findings)
    return out
