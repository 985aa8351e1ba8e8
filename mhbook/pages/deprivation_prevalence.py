"""The Deprivation and prevalence chapter: its sentences, display tables, captions and charts.

Numbers come from ``mhbook.measures.prevalence`` (four indicators for every County & UA,
their fits against IMD 2019 average score, the area's neighbourhoods by IMD decile and
GP-recorded depression over time); this module puts them into words, rounds them for
display and draws the maps and charts, computing nothing new.
``notebooks/deprivation_prevalence.md`` holds the chapter's fixed text and calls one
function here per glued block, table or chart.

Display rules: values to one decimal place in the indicator's unit ("no value" when
missing), Pearson's r and its limits to two decimals, fit slopes per 10 IMD points to one
decimal (two when under 1 point).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from mhbook import figures, stats
from mhbook.areas import Area
from mhbook.measures._quiet import quietly
from mhbook.measures.prevalence import (
    AREA,
    DISTRICTS,
    FIT_MATCHES,
    INDICATORS,
    PREVALENCES,
    area_match,
    area_values,
    county_ua_indicators,
    depression_kind,
    depression_trend,
    figure5_numbers,
    figure5_table,
    fit,
    indicator,
    lsoa_deciles,
)

#: The sentence giving the area's value of each indicator ({period}, {value}, {place}).
PHRASES = {
    "emotional_disorders": "In {period}, an estimated {value} of children aged 5 to 16 in {place} had an emotional disorder",
    "children_low_income": "In {period}, {value} of children under 16 in {place} lived in low-income families",
    "cmd_prevalence": "In {period}, an estimated {value} of people aged 16 and over in {place} had a common mental disorder",
    "imd_score": "The IMD {period} average score of {place} was {value}",
}
#: How the fit sentence names each prevalence.
SUBJECTS = {
    "emotional_disorders": "the estimated share of children aged 5-16 with an emotional disorder",
    "children_low_income": "the share of children under 16 in low-income families",
    "cmd_prevalence": "the estimated share of people aged 16+ with a common mental disorder",
}
#: File names of each indicator's map and scatter plot.
_SLUGS = {key: key.replace("_", "-") for key in INDICATORS}


@dataclass(frozen=True)
class ChapterNumbers:
    """The area-specific measures the chapter shows, computed once per notebook run (the
    maps and fits across all County & UAs are cached by the measures module)."""

    area: Area
    deciles: pd.DataFrame  # lsoa_deciles(area)
    imd2015: dict  # figure5_numbers(area)


def chapter_numbers(area: Area) -> ChapterNumbers:
    """The chapter's measures for ``area``. The depression trend and the chart of deciles
    read their data when they are published (``publish_depression_trend``,
    ``publish_lsoa_deciles``), so that each chart's CSV names the datasets it was made
    from: ``figures.publish`` records those read since the previous publish."""
    return ChapterNumbers(area, lsoa_deciles(area), figure5_numbers(area))


def glued_values(n: ChapterNumbers) -> dict:
    """Every number and sentence the chapter's text glues in, by name."""
    return headline_numbers(n.area) | n.imd2015


def _fmt(value: float, unit: str, decimals: int = 1) -> str:
    return figures.alttext.format_value(value, unit, decimals) if pd.notna(value) else "no value"


# --- where a value comes from ----------------------------------------------------------------


def value_note(area_name: str, key: str, row) -> str:
    """Where the area's value of indicator ``key`` comes from, in plain English; empty when
    it is published for the area itself. ``row``: the area's row of ``indicator_table(key)``
    or ``area_values(area)`` (a mapping with ``match``, ``period``, ``value_from``,
    ``value_from_name`` and the ``SOURCE_COLUMNS``)."""
    unit = INDICATORS[key].unit
    match = row["match"]
    if match == "published":
        return ""
    if match == "re-mapped":
        text = str(row["value_note"])
        return f"Caution: in the extract this is the {text[:1].lower() + text[1:]}."
    date = row["changed_on"] if isinstance(row["changed_on"], str) else "a later date"
    former = f"{row['value_from_name']} ({row['value_from']})"
    if match == "former code":
        return f"Published as {former}, the code used for the same area until {date}."
    if match == "predecessor":
        return (
            f"Not published for {area_name}, which was created on {date}. The value shown is for the former "
            f"{former}, which also covered {', '.join(row['also_covered'])}."
        )
    if match == "predecessors":
        listed = "; ".join(f"{name} ({code}) {_fmt(value, unit)}" for name, code, value in row["former"])
        return (
            f"Not published for {area_name}, which was formed from several former areas, some only in part; "
            f"their {row['period']} values are: {listed}. None is used on the map or in the fit."
        )
    if match == "districts only":
        n, low_name, low, high_name, high = row["district_range"]
        return (
            f"Published in {row['period']} only for districts, without counts, so no figure for {area_name} as a "
            f"whole can be made from them. Its {n} districts range from {_fmt(low, unit)} ({low_name}) to "
            f"{_fmt(high, unit)} ({high_name})."
        )
    why = (
        row["value_note"]
        if isinstance(row["value_note"], str)
        else (
            f"No value for {area_name} or a former area covering it is in the data this book was built from (the "
            "publisher may hold one: see its source)"
        )
    )
    return why.rstrip(".") + "."


def england_note(key: str, middle: float) -> str:
    """Where England's value of ``key`` comes from, when that needs saying: the IMD score's
    method, or (``middle`` not NaN) that the extract has none and what the middle County & UA has."""
    if key == "imd_score":
        return "population-weighted mean of all Counties & UAs"
    if pd.isna(middle):
        return ""
    return (
        "England's value is not in the data this book was built from (OHID publishes one on Fingertips); "
        f"the middle County & UA has {figures.alttext.format_value(middle, INDICATORS[key].unit)}"
    )


# --- tables and charts as published ----------------------------------------------------------


def publish_values_table(n: ChapterNumbers) -> Markdown:
    """The area's value of each indicator beside England's, with its caption."""
    return figures.publish_table(
        values_table(n.area),
        "area-values",
        caption="The area's value of each indicator beside England's, with its rank among County "
        "& UAs (1 = highest) and the geography the value was published for. England's IMD score is "
        "the population-weighted mean of all County & UAs.",
        missing_label="not in the data used",
    )


def publish_map(n: ChapterNumbers, key: str) -> Markdown:
    """The map of one indicator, the area outlined."""
    return figures.publish(map_figure(key, n.area), f"map-{_SLUGS[key]}")


def publish_scatter(n: ChapterNumbers, key: str) -> Markdown:
    """One prevalence against IMD 2019 average score."""
    return figures.publish(scatter_figure(key, n.area), f"scatter-{_SLUGS[key]}")


def publish_figure5_map(n: ChapterNumbers) -> Markdown:
    """The Commission's Figure 5 as near as the data allow."""
    return figures.publish(figure5_map(n.area), "map-imd-2015-most-deprived")


def publish_lsoa_deciles(n: ChapterNumbers) -> Markdown:
    """The area's neighbourhoods by IMD 2019 decile, as a chart (read here: see ``chapter_numbers``)."""
    return figures.publish(lsoa_decile_figure(n.area, lsoa_deciles(n.area)), "lsoa-deciles")


def publish_lsoa_decile_table(n: ChapterNumbers) -> Markdown:
    """The area's neighbourhoods by IMD 2019 and 2025 decile, as a table."""
    return figures.publish_table(
        lsoa_decile_table(n.deciles),
        "lsoa-deciles-2019-2025",
        caption="The area's neighbourhoods by national IMD decile (1 = most deprived): LSOAs of 2011 "
        "in the IMD 2019 and LSOAs of 2021 in the IMD 2025. Source: MHCLG English Indices of Deprivation.",
    )


def publish_depression_trend(n: ChapterNumbers) -> Markdown:
    """Depression recorded by GPs over time, the area (or its districts) and England (read
    here: see ``chapter_numbers``)."""
    return figures.publish(depression_figure(n.area, depression_trend(n.area)), "depression-trend")


# --- display tables, charts and sentences ---------------------------------------------------


#: What the table says where an area has no value, by ``match``.
_NO_VALUE = {
    "districts only": "districts only (see text)",
    "predecessors": "former areas (see text)",
    "not available": "not in the data this book was built from",
}


def values_table(area: Area) -> pd.DataFrame:
    """A readable version of :func:`area_values` for the page."""
    v = area_values(area)
    return pd.DataFrame(
        {
            "indicator": v["label"] + v["unit"].map(lambda u: f" ({u})" if u else ""),
            "period": v["period"],
            area.name: v["value"].round(1),
            "England": v["england"].round(1),
            "rank (1 = highest)": [
                f"{r} of {n}" if pd.notna(r) else ("not ranked: borrowed value" if pd.notna(x) else "")
                for r, n, x in zip(v["rank"], v["ranked"], v["value"])
            ],
            "value for": [
                f"{n} ({c})" if isinstance(c, str) else _NO_VALUE.get(m, "")
                for n, c, m in zip(v["value_from_name"], v["value_from"], v["match"])
            ],
        }
    )


def r_text(estimate: stats.Estimate) -> str:
    """Pearson's r with its 95% limits, as shown on the chart and in the prose."""
    return f"r = {estimate.value:.2f} (95% CI {estimate.lower_cl:.2f} to {estimate.upper_cl:.2f})"


def map_figure(key: str, area: Area) -> figures.Figure:
    """Choropleth of one indicator across England's County & UAs, the area outlined."""
    ind = indicator(key)
    df = county_ua_indicators()
    period = df[f"{key}_period"].iloc[0]
    note = value_note(area.name, key, area_match(key, area))
    caption = (
        f"{ind.label[:1].upper() + ind.label[1:]} by County & UA, {period}; darker means higher. "
        f"Source: {ind.source}, published for {ind.geography}. {area.name} is outlined. {note}"
    )
    df = df.assign(borrowed=df[f"{key}_match"].eq("predecessor"))
    if df["borrowed"].any():
        caption += (
            " Dotted areas show the value of a former area that also covered other places; they are "
            "not ranked and not used in the fit."
        )
    return figures.choropleth(
        df,
        key,
        highlight_code=area.code,
        label=ind.short,
        unit=ind.unit,
        context=f"England, {period}",
        caption=caption.strip(),
        borrowed="borrowed",
    )


def figure5_map(area: Area) -> figures.Figure:
    """The Commission's Figure 5 as near as the data allow: IMD 2015 by County & UA.

    The Commission mapped the IMD 2015 *average score* on pre-2019 County & UAs. The
    data hold IMD 2015 for districts only as the *rank* of the average score, and ranks
    cannot be averaged into a County & UA score. What can be aggregated exactly is the
    share of neighbourhoods in England's most deprived 10% (``imd.utla_most_deprived_share_2015``),
    mapped here on today's County & UAs (``figure5_table``)."""
    df = figure5_table()
    caption = (
        "Share of neighbourhoods (LSOAs 2011) in England's most deprived 10% in the IMD 2015, by County & "
        "UA (2023 boundaries); darker means more deprived. The Commission's Figure 5 showed the IMD 2015 "
        "average score; the data hold only the rank of that score for districts, which cannot be added up "
        "into a County & UA score, so this exact aggregate of the same index is shown instead. Source: "
        f"MHCLG English Indices of Deprivation 2015, File 10. {area.name} is outlined."
    )
    return figures.choropleth(
        df,
        "share",
        highlight_code=area.code,
        label="neighbourhoods in the most deprived 10%",
        unit="%",
        context="England, IMD 2015",
        caption=caption,
    )


def scatter_figure(key: str, area: Area) -> figures.Figure:
    """The indicator against IMD 2019 average score, with the fitted line and r."""
    ind = indicator(key)
    line, r = fit(key)
    df = county_ua_indicators()
    # The area is always passed (even without a value) so the chart can say it is missing.
    shown = df[df[f"{key}_in_fit"] | (df["area_code"] == area.code)]
    period = df[f"{key}_period"].iloc[0]
    row = area_match(key, area)
    match, note = row["match"], value_note(area.name, key, row)
    if match in FIT_MATCHES:
        where = f" {note}" if note else ""
    elif pd.notna(shown.loc[shown["area_code"] == area.code, key]).any():
        where = f" {area.name} is drawn but left out of the line: its value comes from another geography. {note}"
    else:
        where = f" {area.name} has no value and is not drawn. {note}"
    caption = (
        f"{ind.label[:1].upper() + ind.label[1:]} ({period}) against IMD 2019 average score, one dot per "
        f"County & UA with its own published value ({line.n} areas). The line is a least-squares fit with its "
        f"95% confidence band; {r_text(r)}.{where}"
    )
    # Rows without a value are said in the caption, not warned about.
    return quietly(
        figures.scatter_fit,
        shown,
        x="imd_score",
        y=key,
        highlight_code=area.code,
        fit=line.band,
        r_text=r_text(r),
        x_measure="IMD 2019 average score",
        y_measure=ind.short,
        y_unit=ind.unit,
        context=f"England, {period}",
        caption=caption,
    )


def lsoa_decile_figure(area: Area, deciles: pd.DataFrame) -> figures.Figure:
    """Bars of the share of the area's LSOAs (2011) in each IoD2019 decile."""
    n = int(deciles["lsoas_2019"].sum())
    return figures.lsoa_decile_chart(
        deciles,
        count="lsoas_2019",
        area_name=area.name,
        what="LSOAs",
        index_name="IMD 2019",
        caption=(
            f"{area.name}'s {n:,} neighbourhoods (LSOAs, 2011 boundaries) by national IMD 2019 decile "
            "(1 = most deprived). The dashed line marks 10%, England's share in every decile. "
            "Source: MHCLG English Indices of Deprivation 2019."
        ),
    )


def lsoa_decile_table(deciles: pd.DataFrame) -> pd.DataFrame:
    """IoD2019 and IoD2025 decile counts side by side, for the page."""
    return pd.DataFrame(
        {
            "IMD decile (1 = most deprived)": deciles["imd_decile"],
            "LSOAs 2011, IMD 2019": deciles["lsoas_2019"],
            "share, IMD 2019 (%)": deciles["share_2019"].round(1),
            "LSOAs 2021, IMD 2025": deciles["lsoas_2025"],
            "share, IMD 2025 (%)": deciles["share_2025"].round(1),
        }
    )


def districts_label(area: Area) -> str:
    """The name the depression chart gives a county's districts' line and band."""
    return f"{area.name} districts: middle (band: lowest to highest)"


def depression_series(area: Area, trend: pd.DataFrame) -> pd.DataFrame:
    """``depression_trend`` with each series named as the chart and its CSV show it: the
    area's name, :func:`districts_label` or "England"; rows by series name, then period."""
    names = {AREA: area.name, DISTRICTS: districts_label(area)}
    named = trend.assign(series=trend["series"].map(lambda s: names.get(s, s)))
    return named.sort_values(["series", "period"], ignore_index=True)


def depression_figure(area: Area, trend: pd.DataFrame) -> figures.Figure:
    """Depression QOF prevalence 18+ by year, the area (or its districts) against England
    (``trend``: ``depression_trend(area)``)."""
    periods = sorted(trend["period"].unique())
    kind = depression_kind(trend)
    trend = depression_series(area, trend)
    span = f"{periods[0]} to {periods[-1]}"
    if kind == "districts":
        label = districts_label(area)
        extra = (
            f"The extract has no figure for {area.name} as a whole, only for its districts: the line is the "
            "middle district each year and the shaded band runs from the lowest to the highest district."
        )
        return figures.trend_chart(
            trend,
            series="series",
            lower="lower",
            upper="upper",
            measure="depression, QOF recorded prevalence 18+",
            unit="%",
            area=label,
            context=f"{area.name}'s districts and England, {span}",
            caption=f"Depression: QOF recorded prevalence, aged 18+, {span}. {extra} Source: OHID Fingertips "
            "indicator 848 (District & UA, 2023 boundaries; earlier years re-mapped by Trafford Data Lab).",
        )
    missing = "" if kind == "area" else f" The extract has no figure for {area.name} or its districts."
    return figures.trend_chart(
        trend,
        series="series",
        lower=None,
        upper=None,
        measure="depression, QOF recorded prevalence 18+",
        unit="%",
        area=area.name if kind == "area" else None,
        context=f"{area.name} and England, {span}",
        caption=f"Depression: QOF recorded prevalence, aged 18+, {area.name} and England, {span}. Values are "
        "rounded to one decimal place; the extract has no confidence limits. Source: OHID Fingertips "
        "indicator 848 (District & UA, 2023 boundaries; earlier years re-mapped by Trafford Data Lab)." + missing,
    )


def _missing_years(periods: list[str]) -> list[str]:
    """Financial years ("2023/24") between the first and last that the extract lacks."""
    starts = [int(p[:4]) for p in periods]
    have = set(starts)
    return [f"{y}/{(y + 1) % 100:02d}" for y in range(min(starts), max(starts) + 1) if y not in have]


def _sentence(key: str, area: Area, values: pd.DataFrame) -> str:
    """Plain English: the area's value, England's, its rank (or why it has none: a value
    borrowed from a former area or re-mapped in the extract is not ranked) and any note."""
    ind = INDICATORS[key]
    row = values.set_index("indicator").loc[key]
    note = value_note(area.name, key, row)
    eng = (
        f"England: {_fmt(row['england'], ind.unit)}"
        if pd.notna(row["england"])
        else england_note(key, row["england_middle"])
    )
    if pd.isna(row["value"]):
        return f"There is no {row['period']} value for {area.name}. {note} ({eng}.)"
    own = row["match"] in ("published", "re-mapped", "former code")
    whose = area.name if own else f"the former {row['value_from_name']}"
    order = "most deprived" if key == "imd_score" else "highest"
    rank = (
        f"That ranks {row['rank']} of the {row['ranked']} County & UAs with a value, from the {order}."
        if pd.notna(row["rank"])
        else f"It is not ranked among the {row['ranked']} County & UAs with a value of their own, as this one "
        f"does not stand for {area.name} alone."
    )
    text = PHRASES[key].format(period=row["period"], value=_fmt(row["value"], ind.unit), place=whose)
    return f"{text} ({eng}). {rank} {note}".strip()


def _fit_sentence(key: str) -> str:
    line, r = fit(key)
    strength = "strongly" if abs(r.value) >= 0.7 else "moderately" if abs(r.value) >= 0.4 else "weakly"
    direction = "higher" if r.value > 0 else "lower"
    step = 10 * line.slope.value
    d = 2 if abs(step) < 1 else 1  # small slopes (5-16 prevalence) need two decimals to be seen
    return (
        f"Across the {line.n} County & UAs with their own published value, {SUBJECTS[key]} is {strength} "
        f"{direction} where deprivation is higher ({r_text(r)}). Each 10 more points of IMD score go with "
        f"{abs(step):.{d}f} percentage points {'more' if step > 0 else 'less'} on average "
        f"(95% CI {10 * line.slope.lower_cl:.{d}f} to {10 * line.slope.upper_cl:.{d}f})."
    )


def headline_numbers(area: Area) -> dict:
    """Numbers and sentences glued into the chapter's prose (keys used by the notebook),
    without the IMD 2015 ones (``figure5_numbers``): see :func:`glued_values`."""
    values = area_values(area)
    out: dict[str, object] = {"area_name": area.name}
    for key in INDICATORS:
        out[f"{key}_sentence"] = _sentence(key, area, values)
        out[f"{key}_period"] = str(values.set_index("indicator").loc[key, "period"])
    for key in PREVALENCES:
        out[f"{key}_fit_sentence"] = _fit_sentence(key)
    deciles = lsoa_deciles(area)
    out["lsoas_2019"] = int(deciles["lsoas_2019"].sum())
    out["lsoas_2025"] = int(deciles["lsoas_2025"].sum())
    out["most_deprived_share_2019"] = float(deciles.loc[deciles["imd_decile"] == 1, "share_2019"].iloc[0])
    out["most_deprived_share_2025"] = float(deciles.loc[deciles["imd_decile"] == 1, "share_2025"].iloc[0])
    out["worst_three_share_2019"] = float(deciles.loc[deciles["imd_decile"] <= 3, "share_2019"].sum())
    out["depression_sentence"] = _depression_sentence(area, depression_trend(area))
    return out


def _depression_sentence(area: Area, trend: pd.DataFrame) -> str:
    periods = sorted(trend["period"].unique())
    eng = trend[trend["series"] == "England"].set_index("period")["value"]
    first, last = periods[0], periods[-1]
    gaps = _missing_years(periods)
    gap = f" The extract has no figures for {', '.join(gaps)}." if gaps else ""
    kind = depression_kind(trend)
    england = (
        f"England's recorded prevalence rose from {_fmt(eng.get(first), '%')} in {first} "
        f"to {_fmt(eng.get(last), '%')} in {last}."
    )
    if kind == "none":
        return f"{england} The extract has no figures for {area.name} or its districts.{gap}"
    mine = trend[trend["series"] == kind].set_index("period")
    lo, hi = mine["value"].first_valid_index(), mine["value"].last_valid_index()
    if kind == "area":
        local = (
            f"In {area.name} it went from {_fmt(mine.loc[lo, 'value'], '%')} in {lo} to "
            f"{_fmt(mine.loc[hi, 'value'], '%')} in {hi}."
        )
    else:
        local = (
            f"The extract has no figure for {area.name} as a whole, only for its districts: in {hi} they ranged "
            f"from {_fmt(mine.loc[hi, 'lower'], '%')} to {_fmt(mine.loc[hi, 'upper'], '%')}, with the middle "
            f"district at {_fmt(mine.loc[hi, 'value'], '%')}."
        )
    return f"{england} {local}{gap}"
