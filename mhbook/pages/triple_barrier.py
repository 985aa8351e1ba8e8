"""The Triple barrier chapter: its sentences, display tables, captions and charts.

Numbers come from ``mhbook.measures.triple_barrier`` (need, access, outcome and
coercion by group as ratios to the whole population, with 95% limits and a ``note``
for every empty cell) and the area's NHS footprint from ``mhbook.measures.footprints``;
this module puts them into words and draws them, computing nothing new.
``notebooks/triple_barrier.md`` holds the chapter's fixed text and calls one function
here per glued block, table or chart.

Display rules: ratios to two decimals ("1.23 times"), values to one decimal in the
table (``TABLE_FORMATS``); a cell without data is blank, never zero, and the chart's
caption says which cells it leaves out and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from mhbook import figures, periods
from mhbook.areas import Area
from mhbook.errors import InsufficientDataError, SchemaError
from mhbook.measures import triple_barrier as tb
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.measures.triple_barrier import (
    BARRIERS,
    DIMENSIONS,
    NEED_PERIOD,
    barriers,
    decile_label,
    headline,
    local_table,
)
from mhbook.pages.footprint_notes import footprint_note

#: The chapter's two charts per place: the dimensions with a population count, then the rest.
MAIN = ("deprivation", "ethnicity", "age", "gender")
OTHER = ("sexual orientation", "disability")
#: Each ``note`` code of ``barriers`` in words: the reason (before any colon) names a group of
#: cells the chart leaves out.
NOTES = {
    tb.NOTE_NO_NEED: "no prevalence by this group in the data",
    tb.NOTE_NEED_ENGLAND: "prevalence by deprivation is published for England only",
    tb.NOTE_NO_DENOMINATOR: "no population denominator in the data: share of referrals only, no ratio",
    tb.NOTE_NO_DENOMINATOR_MULTIPLE: "no population denominator in the data: share of referrals only, no ratio; "
    "a referral can carry more than one disability code",
    tb.NOTE_NO_SEX_POP: "no population by sex for NHS footprints: ONS LSOA estimates are persons only",
    tb.NOTE_NO_AGE_POP: "no population band matches this age group",
    tb.NOTE_SUPPRESSED: "suppressed or missing in the published file: small numbers",
    tb.NOTE_NO_COERCION: "no Mental Health Act figures for this group",
    tb.NOTE_NO_RESIDENTS: "no residents of the footprint live in this decile",
    tb.NOTE_NO_GROUP_POP: "no population estimate for this group",
    tb.NOTE_MHA_AGE: "Mental Health Act age bands do not match the Talking Therapies bands",
    tb.NOTE_MHA_NONE: "the Mental Health Act statistics have no such breakdown",
    tb.NOTE_NO_MHA_ORG: "no Mental Health Act breakdowns for this organisation type",
    tb.NOTE_NOT_PUBLISHED: "breakdown not published for this organisation and year",
    tb.NOTE_NO_GROUP: "group not published for this organisation and year",
    tb.NOTE_INCONSISTENT: "rounded counts inconsistent (numerator above denominator)",
    tb.NOTE_MODELLED: "modelled estimate (House of Commons Library), no sampling interval; England only",
    tb.NOTE_COHORTS: "referrals received and treatment finished in the same year are different cohorts",
    tb.NOTE_WHOLE_KNOWN_DECILE: "whole population: referrals with a known decile over the population aged 16+",
    tb.NOTE_WHOLE_AGE: "whole population: referrals in the age bands with a population count over the "
    "population of those bands",
    tb.NOTE_WHOLE_SEX: "whole population: referrals of females and males over the population aged 16+",
    tb.NOTE_MHA_KNOWN_ETHNICITY: "relative to the total of the ethnic groups shown (ethnicity known), built the "
    "same way for England and ICBs; populations implied by count and rate",
    tb.NOTE_MHA_ENGLAND_TOTAL: "relative to the England total for this breakdown; populations implied by count "
    "and rate",
    tb.NOTE_MHA_ICB_TOTAL: "relative to the ICB's total; populations implied by count and rate",
    "": "",
}
#: Number formats for ``wide_table`` in the page: values to one decimal, ratios to two.
TABLE_FORMATS = {f"{b}: {k}": ("{:,.1f}" if k == "value" else "{:.2f}") for b in BARRIERS for k in ("value", "ratio")}


@dataclass(frozen=True)
class ChapterNumbers:
    """Every measure the chapter shows for one area, computed once per notebook run."""

    area: Area
    period: str  # NHS Talking Therapies year
    footprint: Footprint  # the area's NHS footprint that year
    england: pd.DataFrame  # barriers("England", "All", period)
    local: pd.DataFrame | None  # barriers of the footprint (None without one)


def chapter_numbers(area: Area, period: str) -> ChapterNumbers:
    """The chapter's measures for ``area``, NHS Talking Therapies year ``period``."""
    footprint = iapt_footprint(area, period)
    return ChapterNumbers(area, period, footprint, barriers("England", "All", period), local_table(footprint))


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return headline_numbers(n.england, n.local, n.footprint, n.area, n.period)


# --- charts and tables as published ----------------------------------------------------------


def publish_england_chart(n: ChapterNumbers, dimensions: tuple[str, ...]) -> Markdown:
    """England's chart of ``dimensions`` (``MAIN`` or ``OTHER``)."""
    suffix = "" if dimensions == MAIN else "-other"
    return figures.publish(figure(n.england, "England", dimensions), f"triple-barrier-england{suffix}")


def publish_local_chart(n: ChapterNumbers, dimensions: tuple[str, ...]) -> Markdown:
    """The footprint's chart of ``dimensions`` (``MAIN`` or ``OTHER``)."""
    suffix = "" if dimensions == MAIN else "-other"
    return figures.publish(figure(n.local, n.footprint.org_name, dimensions), f"triple-barrier-local{suffix}")


def publish_england_table(n: ChapterNumbers) -> Markdown:
    """England's groups, each barrier's value and ratio, with its caption."""
    return figures.publish_table(
        wide_table(n.england),
        "triple-barrier-england-table",
        caption="Each group's headline value and its ratio to everyone, England. Units: need %, "
        "access referrals per 100,000 (or % of referrals where no ratio), outcome % recovered, "
        "coercion detentions per 100,000. Blank cells have no data.",
        missing_label="no data",
        formats=TABLE_FORMATS,
    )


def publish_local_table(n: ChapterNumbers) -> Markdown:
    """The footprint's groups, each barrier's value and ratio, with its caption."""
    return figures.publish_table(
        wide_table(n.local),
        "triple-barrier-local-table",
        caption="Each group's headline value and its ratio to everyone in the footprint. Units as "
        "in the England table. Blank cells have no data or were suppressed.",
        missing_label="no data",
        formats=TABLE_FORMATS,
    )


# --- chart, table and words -----------------------------------------------------------------


def note_text(code: str) -> str:
    """A ``note`` code of ``barriers`` in words (see :data:`NOTES`)."""
    if code not in NOTES:
        raise SchemaError(f"triple_barrier: unknown note code {code!r}; expected one of {sorted(NOTES)}")
    return NOTES[code]


def left_out(table: pd.DataFrame, dimensions=DIMENSIONS) -> str:
    """Sentence(s) saying which cells the chart leaves out and why."""
    cells = headline(table)
    cells = cells[cells["dimension"].isin(dimensions) & cells["ratio"].isna()]
    if cells.empty:
        return "Every group has all four barriers."
    parts = []
    for note, rows in cells.groupby(cells["note"].map(note_text), sort=False):
        what = []
        for barrier, by_barrier in rows.groupby("barrier", sort=False):
            whole, some = [], []
            for dim, sub in by_barrier.groupby("dimension", sort=False):
                if len(sub) == table.loc[table["dimension"] == dim, "group"].nunique():
                    whole.append(dim)
                else:
                    some += list(sub["group"])
            what += [f"{barrier} by {', '.join(whole)}"] if whole else []
            what += [f"{barrier} for {', '.join(some)}"] if some else []
        parts.append(f"{'; '.join(what)} ({note.split(':')[0]})")
    return "Not shown: " + "; ".join(parts) + "."


def figure(table: pd.DataFrame, place: str, dimensions=DIMENSIONS) -> figures.Figure:
    """The triple-barrier chart of ``table`` for some dimensions; cells without a ratio
    are left out and the caption says which and why."""
    cells = headline(table)
    cells = cells[cells["dimension"].isin(dimensions) & cells["ratio"].notna()]
    if cells.empty:
        raise InsufficientDataError(f"triple_barrier: no ratios to draw for {place} ({', '.join(dimensions)})")
    periods = "; ".join(
        f"{b} {' and '.join(dict.fromkeys(rows['period']))}" for b, rows in cells.groupby("barrier", sort=False)
    )
    caption = (
        f"Need, access, outcome and coercion relative to the whole population, {place}, by "
        f"{', '.join(dimensions)} (1 = same as everyone; log scale). Need: modelled depression "
        f"prevalence; access: referrals per head; outcome: recovery; coercion: Mental Health Act "
        f"detentions. Periods: {periods}. Whiskers are 95% confidence intervals (conservative; "
        f"none for modelled prevalence). " + left_out(table, dimensions)
    )
    return figures.triple_barrier_chart(
        cells, ratio="ratio", lower="ratio_lower", upper="ratio_upper", context=place, caption=caption
    )


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """A readable table: per group, each barrier's headline value and ratio (missing
    where there is no data; ``note`` in ``barriers`` says why)."""
    cells = headline(table)
    out = cells[["dimension", "group"]].drop_duplicates().reset_index(drop=True)
    for barrier in BARRIERS:
        part = cells[cells["barrier"] == barrier].set_index(["dimension", "group"])
        key = pd.MultiIndex.from_frame(out[["dimension", "group"]])
        out[f"{barrier}: value"] = part["value"].reindex(key).to_numpy()
        out[f"{barrier}: ratio"] = part["ratio"].reindex(key).to_numpy()
    return out


def _times(x: float) -> str:
    return f"{x:.2f} times"


def _cells(table: pd.DataFrame, dimension: str, barrier: str) -> pd.DataFrame:
    cells = headline(table)
    return cells[(cells["dimension"] == dimension) & (cells["barrier"] == barrier)].dropna(subset=["ratio"])


def _year(period: str) -> str:
    return period.split(" (")[0]


def group_sentence(table: pd.DataFrame, dimension: str, group: str, whole: str) -> str:
    """One sentence giving a group's headline ratios, barrier by barrier."""
    cells = headline(table)
    cells = cells[(cells["dimension"] == dimension) & (cells["group"] == group)].set_index("barrier")
    words = {
        "need": "modelled depression prevalence ({p}) is {r} {w}'s",
        "access": "referrals per head ({p}) are {r} {w}'s rate",
        "outcome": "recovery ({p}) is {r} {w}'s",
        "coercion": "Mental Health Act detentions ({p}) are {r} {w}'s rate",
    }
    said = [
        text.format(p=_year(cells.at[b, "period"]), r=_times(cells.at[b, "ratio"]), w=whole)
        for b, text in words.items()
        if b in cells.index and pd.notna(cells.at[b, "ratio"])
    ]
    if not said:
        return f'There are no figures to compare for "{group}".'
    body = ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
    return f"In {group}, {body}." if dimension == "deprivation" else f'For "{group}", {body}.'


def _extreme(table: pd.DataFrame, dimension: str, barrier: str, lowest: bool) -> pd.Series | None:
    rows = _cells(table, dimension, barrier)
    if rows.empty:
        return None
    return rows.loc[rows["ratio"].idxmin() if lowest else rows["ratio"].idxmax()]


def dimension_sentence(table: pd.DataFrame, dimension: str, whole: str) -> str:
    """Plain-English summary of one dimension: for deprivation the two ends; otherwise
    the group with the lowest recovery, the lowest referral rate and the highest
    detention rate (each only where the data have it)."""
    if dimension == "deprivation":
        return " ".join(group_sentence(table, dimension, decile_label(d), whole) for d in (1, 10))
    said = []
    rec = _extreme(table, dimension, "outcome", lowest=True)
    if rec is not None:
        said.append(
            f'Recovery is lowest for "{rec["group"]}": {_times(rec["ratio"])} {whole}\'s ({_year(rec["period"])}).'
        )
    acc = _extreme(table, dimension, "access", lowest=True)
    if acc is not None:
        said.append(
            f'Referrals per head are lowest for "{acc["group"]}": {_times(acc["ratio"])} the rate for '
            f"everyone ({_year(acc['period'])})."
        )
    elif not _cells(headline(table).assign(ratio=headline(table)["value"]), dimension, "access").empty:
        said.append(
            "There is no population figure by " + dimension + " in the data, so access is shown only "
            "as each group's share of referrals, not as a rate."
        )
    det = _extreme(table, dimension, "coercion", lowest=False)
    if det is not None:
        said.append(
            f'Mental Health Act detentions are highest for "{det["group"]}": {_times(det["ratio"])} '
            f"{whole}'s rate ({_year(det['period'])})."
        )
    return " ".join(said) if said else f"No figures by {dimension} are published for {whole}."


def dimension_sentences(table: pd.DataFrame, whole: str) -> dict[str, str]:
    """``dimension_sentence`` for every dimension, keyed with underscores for spaces."""
    return {d.replace(" ", "_"): dimension_sentence(table, d, whole) for d in DIMENSIONS}


def headline_numbers(
    england: pd.DataFrame, local: pd.DataFrame | None, footprint: Footprint, area: Area, period: str
) -> dict:
    """Values glued into the chapter's prose."""
    values = {
        "area_name": area.name,
        "period": period,
        "need_period": NEED_PERIOD,
        "mha_period": periods.latest("mha"),
        "local_note": footprint_note(footprint),
        "local_name": footprint.org_name or "no NHS footprint",
    }
    values |= {f"eng_{k}": v for k, v in dimension_sentences(england, "England").items()}
    if local is not None:
        values |= {f"local_{k}": v for k, v in dimension_sentences(local, "the footprint").items()}
    else:
        values |= {f"local_{d.replace(' ', '_')}": "No footprint figures." for d in DIMENSIONS}
    return values
