"""Key findings for the top of an area's book: 5 to 8 plain-English sentences, each
computed from a chapter's tables and linked to the page that holds its evidence.

:func:`key_findings` returns a list of :class:`Finding`. Every number in a finding's
text is also in ``numbers`` (as shown, at the precision of the evidence table) and
``cells`` says which CSV of which page holds it (file, row, column, shown text), so a
test can check the sentence against the published table. :func:`glue_values` turns
the findings into values for :func:`mhbook.report.glue_all`.

Findings, in order (each always present, saying so when the data cannot tell):

1. where the area stands among its statistical neighbours (comparison chapter);
2. indicators worse than England at 99.8% (comparison);
3. indicators better than England at 99.8%, or similar (comparison);
4. indicators worse than England and getting worse (Fingertips' recent-trend test);
5. the widest gap between groups in Talking Therapies outcomes that passes the 99.8%
   test (``inequality.widest_gaps`` / ``summary.outcome_gaps``; exploring inequality);
6. whether the local recovery gap by deprivation narrowed (SII by year;
   Talking therapies by deprivation);
7. need: deprivation and modelled common mental disorders against England.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mhbook import periods
from mhbook.areas import Area
from mhbook.measures import comparison
from mhbook.pages.footprint_notes import footprint_note  # the sentence: moves with this chapter's page


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


def _neighbours(area: Area, table: pd.DataFrame) -> Finding:
    ranked = table[table["rank"].notna()]
    nb = comparison.neighbours(area.code)
    if ranked.empty:
        return Finding(
            "kf1", f"No indicator has values for both {area.name} and its statistical neighbours.", CMP, CMP_TITLE
        )
    highest = ranked[ranked["rank"] == 1]
    lowest = ranked[(ranked["rank"] == ranked["rank_of"])]
    numbers, cells, parts = {}, {}, []
    for word, rows in (("highest", highest), ("lowest", lowest)):
        for i, r in enumerate(rows.head(2).itertuples()):
            k = f"kf1_{word}{i + 1}"
            shown = comparison.fmt(r.value, r.unit)
            numbers[k] = _shown(r.value, r.unit)
            cells[k] = (CMP_CSV, "indicator", r.label, "value", shown)
            parts.append(f"the {word} value for {r.label} ({shown}, rank {r.rank} of {r.rank_of})")
    above = int((ranked["vs_neighbours"] == "Higher").sum())
    numbers["kf1_above"], numbers["kf1_ranked"] = above, int(len(ranked))
    lead = f"Among {area.name} and its statistical neighbours, " + (
        f"{area.name} has " + "; ".join(parts) + "." if parts else f"{area.name} is never the highest or lowest."
    )
    text = (
        f"{lead} It is above the neighbours' average on {above} of the {len(ranked)} indicators with values for both."
    )
    if nb.unplaced:
        text += f" {len(nb.unplaced)} neighbour(s) could not be placed on a current area."
    return Finding("kf1", text, CMP, CMP_TITLE, numbers, cells)


def _against_england(area: Area, table: pd.DataFrame, word: str, key: str) -> Finding:
    rows = table[table["vs_england_99_8"] == word]
    tested = int((table["vs_england_95"] != comparison.NOT_COMPARED).sum())
    numbers, cells = {f"{key}_n": int(len(rows)), f"{key}_tested": tested}, {}
    if rows.empty:
        sim = int((table["vs_england_99_8"].isin(["Similar"])).sum())
        numbers[f"{key}_similar"] = sim
        text = (
            f"None of the {tested} indicators that can be tested is {word.lower()} than England at the "
            f"strict 99.8% level."
        )
        return Finding(key, text, CMP, CMP_TITLE, numbers, cells)
    parts = []
    for i, r in enumerate(rows.head(3).itertuples()):
        k = f"{key}_{i + 1}"
        shown, eng = comparison.fmt(r.value, r.unit), comparison.fmt(r.england, r.unit)
        numbers[k], numbers[k + "_england"] = _shown(r.value, r.unit), _shown(r.england, r.unit)
        cells[k] = (CMP_CSV, "indicator", r.label, "value", shown)
        cells[k + "_england"] = (CMP_CSV, "indicator", r.label, "England", eng)
        where = "" if r.describes == area.name else f" for {r.describes}"
        parts.append(f"{r.label}{where} ({shown} against {eng})")
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    text = (
        f"{word} than England at the strict 99.8% level ({len(rows)} of {tested} tested indicators): "
        + "; ".join(parts)
        + more
        + "."
    )
    return Finding(key, text, CMP, CMP_TITLE, numbers, cells)


def _trends(area: Area, trends: pd.DataFrame) -> Finding:
    n = int(len(trends))
    tested = int((trends["trend"] != "Cannot be calculated").sum()) if n else 0
    flagged = trends[trends["flag"]] if n else trends
    numbers = {"kf4_series": n, "kf4_tested": tested, "kf4_flagged": int(len(flagged))}
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
    return Finding("kf4", text, CMP, CMP_TITLE, numbers, {})


def _gap(area: Area, period: str) -> Finding:
    from mhbook.measures import inequality, summary

    gaps = summary.outcome_gaps(inequality.widest_gaps(area, period))
    title, doc = "Exploring inequality", "exploring_inequality"
    if gaps.empty:
        return Finding(
            "kf5",
            f"In {period} no group's Talking Therapies recovery or reliable improvement in the "
            "area's NHS footprint fell below the footprint's overall value at the strict 99.8% "
            "level.",
            doc,
            title,
        )
    r = gaps.iloc[0]
    fp = comparison.footprint(area.code, period)
    numbers = {
        "kf5_group_value": float(r["group value"]),
        "kf5_overall": float(r["overall value"]),
        "kf5_gap": float(r["gap (percentage points)"]),
        "kf5_people": int(r["people"]),
    }
    cells = {
        "kf5_group_value": (
            "widest-outcome-shortfalls.csv",
            "group",
            r["group"],
            "group value",
            f"{r['group value']:.1f}",
        ),
        "kf5_overall": (
            "widest-outcome-shortfalls.csv",
            "group",
            r["group"],
            "overall value",
            f"{r['overall value']:.1f}",
        ),
        "kf5_gap": (
            "widest-outcome-shortfalls.csv",
            "group",
            r["group"],
            "gap (percentage points)",
            f"{r['gap (percentage points)']:.1f}",
        ),
    }
    measure = str(r["measure"]).replace(" (%)", "")
    text = (
        f"The widest gap between groups that passes the strict 99.8% test: in {fp.org_name}, {measure} "
        f"for {r['group']} ({str(r['characteristic']).lower()}) was {r['group value']:.1f}% against "
        f"{r['overall value']:.1f}% for everyone treated ({period}), "
        f"{abs(r['gap (percentage points)']):.1f} percentage points lower."
    )
    return Finding("kf5", text, doc, title, numbers, cells)


def _deprivation_gap(area: Area, period: str) -> Finding:
    from mhbook.measures import iapt_deprivation

    doc, title = "iapt_deprivation", "Talking therapies by deprivation"
    fp = comparison.footprint(area.code, period)
    if not fp.available:
        return Finding("kf6", f"The recovery gap by deprivation cannot be shown: {footprint_note(fp)}", doc, title)
    g = iapt_deprivation.gradient_by_year(fp.org_type, fp.org_code)
    g = g[g["period"] >= "2022-23"].dropna(subset=["sii"])  # ICB years only
    if len(g) < 2:
        return Finding(
            "kf6", f"Fewer than two years of recovery by deprivation are published for {fp.org_name}.", doc, title
        )
    a, b = g.iloc[0], g.iloc[-1]
    numbers = {"kf6_first": round(float(a["sii"]), 1), "kf6_last": round(float(b["sii"]), 1)}
    overlap = not (b["sii_upper"] < a["sii_lower"] or b["sii_lower"] > a["sii_upper"])
    if overlap:
        verdict = "their 95% limits overlap, so it has not clearly narrowed or widened"
    else:
        verdict = "it has narrowed" if abs(b["sii"]) < abs(a["sii"]) else "it has widened"
    text = (
        f"In {fp.org_name}, recovery was {numbers['kf6_first']:.1f} percentage points higher at the least "
        f"than at the most deprived end (slope index of inequality) in {a['period']} and "
        f"{numbers['kf6_last']:.1f} in {b['period']}: {verdict}."
    )
    return Finding("kf6", text, doc, title, numbers, {})


def _need(area: Area, table: pd.DataFrame) -> Finding:
    t = table.set_index("indicator")
    parts, numbers, cells = [], {}, {}
    for key, word_hi, word_lo in (
        ("imd_score", "more deprived", "less deprived"),
        ("cmd_prevalence", "higher", "lower"),
    ):
        r = t.loc[key]
        if pd.isna(r["value"]):
            continue
        shown = comparison.fmt(r["value"], r["unit"])
        numbers[f"kf7_{key}"] = _shown(r["value"], r["unit"])
        cells[f"kf7_{key}"] = (CMP_CSV, "indicator", r["label"], "value", shown)
        if key == "imd_score":
            eng = comparison.fmt(r["england"], r["unit"])
            numbers["kf7_imd_england"] = _shown(r["england"], r["unit"])
            cells["kf7_imd_england"] = (CMP_CSV, "indicator", r["label"], "England", eng)
            word = word_hi if r["value"] > r["england"] else word_lo
            parts.append(f"{area.name} is {word} than England on average (IMD 2019 score {shown} against {eng})")
        else:
            mean = comparison.fmt(r["neighbours_mean"], r["unit"])
            numbers["kf7_cmd_neighbours"] = _shown(r["neighbours_mean"], r["unit"])
            parts.append(
                f"an estimated {shown} of people aged 16+ have a common mental disorder "
                f"(2017 model; neighbours' average {mean})"
            )
    text = ("; ".join(parts) + ".") if parts else f"No deprivation or prevalence value is available for {area.name}."
    return Finding("kf7", text[:1].upper() + text[1:], CMP, CMP_TITLE, numbers, cells)


def key_findings(
    area: Area, period: str | None = None, table: pd.DataFrame | None = None, trends: pd.DataFrame | None = None
) -> list[Finding]:
    """Seven findings for ``area`` (see the module docstring), computed from the chapters'
    tables; ``table`` and ``trends`` default to ``comparison.comparison_table`` and
    ``comparison.trend_table``."""
    period = period or periods.latest("iapt")
    table = comparison.comparison_table(area) if table is None else table
    trends = comparison.trend_table(area, table) if trends is None else trends
    return [
        _neighbours(area, table),
        _against_england(area, table, "Worse", "kf2"),
        _against_england(area, table, "Better", "kf3"),
        _trends(area, trends),
        _gap(area, period),
        _deprivation_gap(area, period),
        _need(area, table),
    ]


def glue_values(findings: list[Finding]) -> dict:
    """Values for ``glue_all``: ``<key>_text`` (sentence with its evidence link),
    ``key_findings_md`` (all of them as a Markdown list) and every number."""
    out = {}
    for f in findings:
        out[f"{f.key}_text"] = f.markdown
        out.update(f.numbers)
    out["key_findings_md"] = "\n".join(f"- {f.markdown}" for f in findings)
    return out
