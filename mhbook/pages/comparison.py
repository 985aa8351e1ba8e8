"""The Compared with similar areas chapter: its sentences, display tables, captions and charts.

Numbers come from ``mhbook.measures.comparison`` (each indicator for the area, England, its
region and its DfE statistical neighbours, with Fingertips' comparisons and recent trends);
this module puts them into words, rounds them for display and draws them, computing
nothing new. ``notebooks/comparison.md`` holds the chapter's fixed text and calls one
function here per glued block, table or chart.

Display rules: a value and its limits share one precision (``decimals`` of the measures
module: one decimal), with the unit sign for percentages (``fmt``); a missing value is
written "no value", a suppressed neighbour "suppressed", never zero; comparisons with
England are Fingertips' words at 95% and 99.8% (``comparison_words``); "better" and
"worse" only where the indicator has a polarity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from mhbook import figures, stats
from mhbook.areas import Area
from mhbook.figures.spine import spine_chart
from mhbook.measures.comparison import (
    NO_LIMITS_OR_COUNTS,
    NO_VALUES,
    NOT_COMPARED,
    SPECS,
    Neighbours,
    comparison_table,
    decimals,
    footprint,
    neighbour_values,
    neighbours,
    series,
    spec,
    trend_table,
)
from mhbook.pages import coercion_notes
from mhbook.pages.footprint_notes import footprint_note


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    table: pd.DataFrame  # comparison_table(area): one row per indicator
    values: pd.DataFrame  # neighbour_values(area): every neighbour's value of every indicator
    trends: pd.DataFrame  # trend_table(area, table): indicators with three periods or more


def chapter_numbers(area: Area) -> ChapterNumbers:
    """The chapter's measures for ``area``."""
    table = comparison_table(area)
    values = neighbour_values(area)
    return ChapterNumbers(area, table, values, trend_table(area, table))


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return sentences(n.area, n.table, n.trends)


def fmt(value: float, unit: str = "") -> str:
    """A value at the shown precision, with its unit sign ("12.3%", "1,234.5")."""
    if value is None or pd.isna(value):
        return "no value"
    text = f"{value:,.{decimals(unit)}f}"
    return text + "%" if unit == "%" else text


def comparison_words(vs95: str, vs998: str) -> str:
    """Fingertips' comparison with England in words ("worse than England at 99.8%")."""
    if vs95 == NOT_COMPARED:
        return "not tested"
    if vs95 == "Similar":
        return "similar to England"
    level = "99.8%" if vs998 == vs95 else "95%"
    return f"{vs95.lower()} than England at {level}"


# ------------------------------------------------------------------ notes


def neighbours_note(nb: Neighbours, area_name: str) -> str:
    """Which DfE model the neighbours come from, and which of them could not be placed."""
    if nb.model is None:
        return f"{area_name} is in neither DfE model (2025 or 2021)."
    which = "May 2025" if nb.model == "2025" else "April 2021 (the area is not in the May 2025 model)"
    note = f"DfE's children's services statistical neighbours, {which} model."
    missing = nb.unplaced
    if missing:
        note += (
            f" {len(missing)} of the 10 could not be placed on a current County & UA: "
            f"{', '.join(missing)} (abolished in the 2019-2023 reorganisations)."
        )
    return note


def _text(x) -> str | None:
    return x if isinstance(x, str) else None


def value_note(row: Mapping, area_name: str, indicator: str) -> str:
    """A panel row's ``note`` code in words, from the row's facts ("" when there is nothing
    to say); a missing NHS value adds "Suppressed or not published."."""
    code = row["note"]
    if code == "remapped":
        return f"Caution: {row['publisher_note'].rstrip('.')}."
    if code == "not_published":
        why = _text(row["publisher_note"])
        return (why if why is not None else "Suppressed or not published").rstrip(".") + "."
    if code == "former_code":
        return f"Published as {row['from_name']} ({row['from_code']}), the former code for the same area."
    if code == "part_of_former":
        return (
            f"Not published for {area_name}; the former {row['from_name']} ({row['from_code']}), which also "
            f"covered other areas, had {row['from_value']:,.{decimals('')}f}."
        )
    if code == "no_value_or_former":
        return f"No value for {area_name} or a former area covering it."
    if code == "single_district":
        return f"Published for the district {row['from_code']}, the whole of {area_name}."
    if code == "districts_only":
        return (
            f"Published only for districts, without counts, so no value for {area_name} as a whole "
            f"can be made ({int(row['districts_with_value'])} of its {int(row['districts'])} districts have a "
            f"value in {row['period']})."
        )
    if code == "no_value_in_period":
        return f"No value for {area_name} in {row['period']}."
    if code == "england_mean":
        return "Population-weighted mean of all Counties & UAs."
    if code == "region_mean":
        return "Population-weighted mean of the region's Counties & UAs (MHCLG's method for England's average score)."
    if code == "footprint_unmapped":
        return footprint_note(row["footprint"])
    if code == "not_published_error":
        return f"Not published: {row['publisher_note']}"
    if code == "nhs_organisation":
        note = (
            f"Value for {row['describes']}, the NHS organisation serving most of the area; limits carry NHS "
            "England's rounding of counts to 5"
            + (" and of the percentage to a whole number." if indicator != "referrals" else ".")
        )
    elif code == "mha_footprint":
        fp = row["footprint"]
        note = (
            f"Value for {coercion_notes.footprint_label(fp)} ({coercion_notes.fit_text(fp)}). Crude rate, all "
            "ages; limits carry the rounding of counts to 5."
        )
    elif code == "":
        note = ""
    else:
        raise ValueError(f"Unknown comparison note code {code!r} for {indicator} in {area_name}")
    return (note + " Suppressed or not published.").strip() if row["suppressed"] else note


def table_note(row: Mapping) -> str:
    """The note on a ``comparison_table`` row: why the area's value is missing, estimated or
    from elsewhere, and what cannot be tested (no limits, no England value)."""
    own = value_note(row, row["area_name"], row["indicator"])
    notes = [own or f"No value for {row['area_name']}."] if pd.isna(row["value"]) else [own]
    if pd.notna(row["value"]) and pd.isna(row["lower_95"]):
        notes.append("No confidence limits are published, so it is not tested against England.")
    elif pd.notna(row["value"]) and pd.isna(row["lower_99_8"]):
        notes.append("Only 95% limits are published, so the 99.8% comparison is not made.")
    if pd.isna(row["england"]):
        notes.append("No England value in the extract.")
    return " ".join(n.strip() for n in notes if n)


#: ``region_source`` of ``comparison_table`` -> where the regional value comes from, in words
REGION_WORDS = {
    "published": "Published regional value.",
    "region_mean": value_note({"note": "region_mean", "suppressed": False}, "", "imd_score"),
    "nhs_regions": "Not shown: NHS figures are published for NHS England regions, which are not ONS regions.",
    "none": "No regional value in the extract, and no counts to aggregate from its areas.",
}


def value_is_for(row: Mapping) -> str | None:
    """What the area's value describes: the area, a former code of it, an NHS organisation,
    or the Mental Health Act footprint (named from its organisations); None without a row."""
    if row["note"] == "mha_footprint":
        return coercion_notes.footprint_label(row["footprint"])
    return _text(row["describes"])


# ------------------------------------------------------------------ sentences


def sentences(area: Area, table: pd.DataFrame, trends: pd.DataFrame) -> dict:
    """Glue-ready text and numbers for the chapter."""
    nb = neighbours(area.code)
    have = table[table["value"].notna()]
    out = {
        "cmp_area_name": area.name,
        "cmp_region_name": area.region_name,
        "cmp_neighbour_note": neighbours_note(nb, area.name),
        "cmp_neighbour_names": ", ".join(nb.table["neighbour_name"]),
        "cmp_n_indicators": int(len(table)),
        "cmp_n_with_value": int(len(have)),
        "cmp_n_tested": int((table["vs_england_95"] != NOT_COMPARED).sum()),
        "cmp_n_trends": int(len(trends)),
        "cmp_n_trend_tested": int((trends["trend"] != stats.trend.CANNOT).sum()) if len(trends) else 0,
        "cmp_n_flagged": int(trends["flag"].sum()) if len(trends) else 0,
    }
    missing = table[table["value"].isna()]
    out["cmp_missing_text"] = (
        "Every indicator has a value for the area."
        if missing.empty
        else "No value for the area: "
        + "; ".join(f"{r['label']} ({table_note(r).rstrip('.')})" for _, r in missing.iterrows())
        + "."
    )
    ranked = have[have["rank"].notna()]
    parts = []
    for r in ranked.itertuples():
        parts.append(
            f"{r.label}: {fmt(r.value, r.unit)}, rank {r.rank} of {r.rank_of} with a value "
            f"({r.vs_neighbours.lower()} than the neighbours' average of {fmt(r.neighbours_mean, r.unit)})"
        )
    out["cmp_neighbour_text"] = ("; ".join(parts) + ".") if parts else "No indicator has values for the neighbours."
    flagged = trends[trends["flag"]] if len(trends) else trends
    out["cmp_flag_text"] = (
        "No indicator is both worse than England and getting significantly worse"
        + (
            ", though for most the published extracts hold neither counts nor limits, so the trend cannot be tested."
            if out["cmp_n_trend_tested"] < out["cmp_n_trends"]
            else "."
        )
        if flagged.empty
        else "Worse than England and getting worse: " + ", ".join(flagged["label"]) + "."
    )
    out["cmp_n_missing"] = int(len(missing))
    return out


# ------------------------------------------------------------------ display tables


def neighbour_table(area: Area) -> pd.DataFrame:
    """The neighbours as shown on the page."""
    nb = neighbours(area.code)
    t = nb.table
    return pd.DataFrame(
        {
            "rank": t["rank"].astype(int),
            "neighbour": t["neighbour_name"],
            "code": [c if isinstance(c, str) else "could not be placed" for c in t["neighbour_code"]],
            "closeness (DfE)": t["closeness"],
        }
    )


def _limits_text(lo, hi, unit) -> str | None:
    if pd.isna(lo) or pd.isna(hi):
        return None
    return f"{fmt(lo, unit)} to {fmt(hi, unit)}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as shown on the page: values and limits at the same precision."""

    def v(x, u):
        return None if pd.isna(x) else fmt(x, u)

    return pd.DataFrame(
        {
            "barrier": table["barrier"],
            "indicator": table["label"],
            "period": table["period"],
            "value": [v(x, u) for x, u in zip(table["value"], table["unit"])],
            "95% limits": [
                _limits_text(lo, hi, u) for lo, hi, u in zip(table["lower_95"], table["upper_95"], table["unit"])
            ],
            "England": [v(x, u) for x, u in zip(table["england"], table["unit"])],
            "region": [v(x, u) for x, u in zip(table["region"], table["unit"])],
            "neighbours (range)": [
                None if pd.isna(lo) else f"{fmt(lo, u)} to {fmt(hi, u)}"
                for lo, hi, u in zip(table["neighbours_min"], table["neighbours_max"], table["unit"])
            ],
            "rank among neighbours (1 = highest)": [
                None if pd.isna(r) else f"{r} of {n} with a value" for r, n in zip(table["rank"], table["rank_of"])
            ],
            "vs neighbours' average": table["vs_neighbours"],
            "vs England (95% / 99.8%)": table["vs_england_95"] + " / " + table["vs_england_99_8"],
        }
    )


def notes_table(table: pd.DataFrame) -> pd.DataFrame:
    """What each value describes and why any is missing."""
    return pd.DataFrame(
        {
            "indicator": table["label"],
            "value is for": pd.Series(
                [value_is_for(r) for _, r in table.iterrows()], index=table.index, dtype=object
            ).fillna("no value"),
            "region": table["region_source"].map(REGION_WORDS),
            "note": pd.Series([table_note(r) for _, r in table.iterrows()], index=table.index, dtype=object).replace(
                "", None
            ),
            "source": table["source"],
        }
    )


def neighbour_display(area: Area, values: pd.DataFrame) -> pd.DataFrame:
    """Neighbours × indicators, each cell the value or "suppressed"/"no value", never zero."""
    units = {s.key: s.unit for s in SPECS}
    v = values.assign(
        cell=[
            fmt(x, units[k]) if st == "value" else st
            for x, k, st in zip(values["value"], values["indicator"], values["status"])
        ]
    )
    wide = v.pivot_table(index="neighbour", columns="label", values="cell", aggfunc="first", sort=False)
    order = list(dict.fromkeys(values["neighbour"]))
    wide = wide.reindex(index=order, columns=[s.label for s in SPECS])
    return wide.reset_index().rename(columns={"neighbour": "area"})


def trend_display(trends: pd.DataFrame, area_name: str) -> pd.DataFrame:
    """First and last value of each series and its recent trend, for the area and England."""

    def change(r):
        if pd.isna(r.area_first):
            return None
        return f"{fmt(r.area_first, r.unit)} ({r.first_period}) to {fmt(r.area_last, r.unit)} ({r.last_period})"

    return pd.DataFrame(
        {
            "indicator": trends["label"],
            "area, first to last value": [change(r) for r in trends.itertuples()],
            "recent trend (area)": [
                t if t != stats.trend.CANNOT else f"{t}: {trend_reason(why, area_name)}"
                for t, why in zip(trends["trend"], trends["trend_reason"])
            ],
            "recent trend (England)": [
                t if t != stats.trend.CANNOT else f"{t}: {trend_reason(why, 'England')}"
                for t, why in zip(trends["england_trend"], trends["england_trend_reason"])
            ],
            "worse than England and getting worse": trends["flag"].map({True: "yes", False: "no"}),
        }
    )


# ------------------------------------------------------------------ charts


def overview_figure(area: Area, table: pd.DataFrame, values: pd.DataFrame):
    """The spine chart of every indicator (see :func:`mhbook.figures.spine.spine_chart`)."""
    rows = pd.DataFrame(
        {
            "label": table["label"],
            "unit": table["unit"],
            "value": table["value"],
            "england": table["england"],
            "region": table["region"],
            "comparison": [comparison_words(a, b) for a, b in zip(table["vs_england_95"], table["vs_england_99_8"])],
        }
    )
    nb = values[~values["is_area"]][["label", "value"]]
    return spine_chart(rows, nb, area=area.name, region=area.region_name)


def area_series_name(area: Area, key: str) -> str:
    """How the area's own line is labelled: its name, or for NHS figures its footprint's."""
    if spec(key).kind in ("iapt", "mha"):
        fp = footprint(area.code)
        if fp.available:
            return f"{fp.org_name} (serving {area.name})"
    return area.name


def trend_reason(reason: str, where: str) -> str:
    """Why a recent trend cannot be judged, in words: ``trend_table``'s own codes, or the
    statistic's reason as it gives it. ``where``: the series' place ("England" or the area)."""
    if reason == NO_VALUES:
        return f"no {where} values" if where == "England" else f"no values for {where}"
    if reason == NO_LIMITS_OR_COUNTS:
        return "the extract publishes no confidence limits or counts"
    return reason


def trend_figure(area: Area, key: str):
    """The indicator over time: the area, its region and England; gaps where years are missing."""
    s = spec(key)
    data = series(area, key)
    data["series"] = data["series"].where(data["area_code"] != area.code, area_series_name(area, key))
    has_limits = data["lower_95"].notna().any()
    return figures.trend_chart(
        data,
        x="period",
        value="value",
        lower="lower_95" if has_limits else None,
        upper="upper_95" if has_limits else None,
        series="series",
        measure=s.label,
        unit=s.unit,
        context=area.name,
        area=area_series_name(area, key),
    )


# ------------------------------------------------------------------ as published, with captions


def publish_neighbour_table(area: Area) -> Markdown:
    """The statistical neighbours, nearest first."""
    return figures.publish_table(
        neighbour_table(area),
        "statistical-neighbours",
        caption="The area's ten statistical neighbours, nearest first (DfE).",
        missing_label="could not be placed",
    )


def publish_overview(n: ChapterNumbers) -> Markdown:
    """The spine chart of every indicator."""
    return figures.publish(overview_figure(n.area, n.table, n.values), "comparison-spine")


def publish_indicators(table: pd.DataFrame) -> Markdown:
    """Each indicator beside England, the region and the neighbours."""
    return figures.publish_table(
        display_table(table),
        "comparison-indicators",
        caption="Each indicator for the area beside England, its region and its statistical neighbours. "
        "Rank 1 is the highest value among the area and its neighbours with a value.",
        missing_label="not available",
    )


def publish_notes(table: pd.DataFrame) -> Markdown:
    """What each value describes, where the regional value comes from and why any is missing."""
    return figures.publish_table(
        notes_table(table),
        "comparison-notes",
        caption="What each value describes, where the regional value comes from, and why any is missing.",
        missing_label="–",
    )


def publish_neighbour_values(n: ChapterNumbers) -> Markdown:
    """Every neighbour's value of every indicator."""
    return figures.publish_table(
        neighbour_display(n.area, n.values),
        "neighbour-values",
        caption="Every neighbour's value. Suppressed or missing values are shown as such, never as zero.",
        missing_label="not in the extract",
    )


def publish_trend_table(area: Area, trends: pd.DataFrame) -> Markdown:
    """First and last value of each series and its recent trend."""
    return figures.publish_table(
        trend_display(trends, area.name),
        "comparison-trends",
        caption="First and last value of each series, and its recent trend for the area and for England.",
        missing_label="no value",
    )


def publish_trend_figures(area: Area, trends: pd.DataFrame) -> Markdown:
    """Publish one trend chart per indicator of ``trends``; the MyST of them all."""
    parts = [
        figures.publish(trend_figure(area, key), "trend-" + key.replace("_", "-")).data for key in trends["indicator"]
    ]
    return Markdown("\n".join(parts))
