"""Charts by IMD decile and over time: the deprivation gradient, attrition panels, trends
and the area's LSOAs by national decile.

Each function takes a tidy DataFrame (columns documented in its docstring), draws with the
house style and returns a :class:`~mhbook.figures.figure.Figure` whose ``data`` holds the
numbers drawn. Missing values are drawn as gaps (NaN, never zero) and counted in the caption
and the alt text. IMD deciles are 1 = most deprived to 10 = least deprived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from mhbook.errors import SchemaError
from mhbook.figures import alttext, palette, style
from mhbook.figures._common import (
    check_deciles,
    check_interval,
    decile_axis,
    new_figure,
    numeric,
    require_columns,
    yerr,
)
from mhbook.figures.figure import Figure

DEFAULT_CI = "95% confidence intervals"


def _tidy_series(
    df: pd.DataFrame, x: str, value: str, lower: str | None, upper: str | None, series: str | None, chart: str
) -> pd.DataFrame:
    """Standardise to columns x, series, value, lower, upper (floats, NaN = missing)."""
    require_columns(df, [x, value, lower, upper, series], chart)
    out = pd.DataFrame(
        {
            "x": df[x].to_numpy(),
            "series": df[series].astype(str).to_numpy() if series else "",
            "value": numeric(df, value, chart).to_numpy(),
            "lower": numeric(df, lower, chart).to_numpy() if lower else np.nan,
            "upper": numeric(df, upper, chart).to_numpy() if upper else np.nan,
        }
    )
    if lower and upper:
        check_interval(out["value"], out["lower"], out["upper"], chart, (value, lower, upper))
    if out.duplicated(["x", "series"]).any():
        dup = out[out.duplicated(["x", "series"], keep=False)].iloc[0]
        raise SchemaError(
            f"{chart}: more than one row for {x}={dup['x']!r}, series={dup['series']!r}; expected one per point"
        )
    return out


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _draw_deciles(ax: Axes, tidy: pd.DataFrame, styles: Mapping[str, tuple[str, str]]) -> None:
    labels = list(dict.fromkeys(tidy["series"]))
    offsets = np.linspace(-0.18, 0.18, len(labels)) if len(labels) > 1 else [0.0]
    for off, lab in zip(offsets, labels):
        part = tidy[tidy["series"] == lab].set_index("x").reindex(range(1, 11))
        color, marker = styles[lab]
        err = yerr(part["value"], part["lower"], part["upper"])
        ax.errorbar(
            np.arange(1, 11) + off,
            part["value"].to_numpy(),
            yerr=err,
            color=color,
            marker=marker,
            linestyle="-",
            linewidth=0.8,
            elinewidth=1.2,
            label=lab or None,
        )
    decile_axis(ax)


def _decile_data(tidy: pd.DataFrame, col: str, has_series: bool) -> pd.DataFrame:
    data = pd.DataFrame({"imd_decile": tidy["x"].astype(int)})
    if has_series:
        data["series"] = tidy["series"]
    data[col] = tidy["value"]
    data[f"{col}_lower_cl"] = tidy["lower"]
    data[f"{col}_upper_cl"] = tidy["upper"]
    return data.sort_values([*(["series"] if has_series else []), "imd_decile"]).reset_index(drop=True)


def _gap_comparison(tidy: pd.DataFrame, area: str | None, unit: str) -> str:
    """'Area is above England in 7 of 9 deciles with values for both.'"""
    names = list(dict.fromkeys(tidy["series"]))
    england = next((n for n in names if n.lower() == "england"), None)
    other = area if area in names else next((n for n in names if n != england), None)
    if england is None or other is None or other == england:
        return ""
    wide = tidy.pivot(index="x", columns="series", values="value")[[other, england]].dropna()
    if wide.empty:
        return ""
    above = int((wide[other] > wide[england]).sum())
    return f"{other} is above England in {above} of {alttext.plural(len(wide), 'decile')} with values for both"


def decile_chart(
    df: pd.DataFrame,
    value: str = "value",
    lower: str | None = "lower_cl",
    upper: str | None = "upper_cl",
    series: str | None = None,
    *,
    decile: str = "imd_decile",
    measure: str = "value",
    unit: str = "",
    context: str = "",
    area: str | None = None,
    caption: str | None = None,
    ci: str = DEFAULT_CI,
    decimals: int = 1,
) -> Figure:
    """Dot chart of a measure by IMD decile with confidence intervals as error bars.

    Columns of ``df``: ``decile`` (int 1 = most deprived .. 10 = least deprived), ``value``,
    ``lower``/``upper`` (interval limits, same unit; pass None for none) and, optionally,
    ``series`` (e.g. "England", the area's ICB). One row per decile and series; missing
    values (NaN) are drawn as gaps. Series are told apart by colour and marker
    (:func:`palette.series_styles`; ``area`` names the series to draw in the area colour).
    ``measure``/``unit`` label the axis ("recovery rate", "%"); ``context`` (e.g.
    "England, 2018-19") goes into the alt text and the default caption.
    """
    chart = "decile_chart"
    tidy = _tidy_series(df, decile, value, lower, upper, series, chart)
    tidy["x"] = check_deciles(tidy["x"], chart, decile)
    labels = list(dict.fromkeys(tidy["series"]))
    styles = palette.series_styles(labels, area)
    with style.apply():
        fig, ax = new_figure()
        _draw_deciles(ax, tidy, styles)
        ax.set_ylabel(alttext.axis_label(measure, unit))
        if series:
            ax.legend(loc="best")
    full = (
        tidy.set_index(["series", "x"])
        .reindex(pd.MultiIndex.from_product([labels, range(1, 11)], names=["series", "x"]))
        .reset_index()
    )
    n_missing = alttext.count_missing(full["value"])
    what = "decile value" if series else "decile"
    label = alttext.axis_label(measure, unit)
    where = f", {context}" if context else ""
    gradients = "; ".join(
        f"{lab + ' ' if lab else ''}{alttext.decile_gradient(part['x'], part['value'], unit, decimals)}"
        for lab, part in full.groupby("series", sort=False)
    )
    alt = alttext.join(
        f"Dot chart of {label} by IMD decile{where}: {gradients}",
        _gap_comparison(tidy, area, unit) if series else "",
        alttext.caption_for_suppression(n_missing, what),
    )
    cap = alttext.join(
        caption or f"{_sentence_case(measure)} by IMD decile{where}. Error bars show {ci}",
        alttext.caption_for_suppression(n_missing, what),
    )
    return Figure(fig, alt, cap, _decile_data(full, alttext.column_name(measure, unit), bool(series)))


#: Default units of the Commission's four attrition measures, keyed by measure name.
ATTRITION_UNITS = {
    "referrals": "per 100,000 population",
    "finished treatment": "% of referrals",
    "recovery": "%",
    "reliable improvement": "%",
}


def attrition_panels(
    df: pd.DataFrame,
    *,
    panel: str = "measure",
    decile: str = "imd_decile",
    value: str = "value",
    lower: str | None = "lower_cl",
    upper: str | None = "upper_cl",
    series: str | None = None,
    units: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
    ncols: int = 4,
    context: str = "",
    area: str | None = None,
    caption: str | None = None,
    ci: str = DEFAULT_CI,
    decimals: int = 1,
) -> Figure:
    """Small multiples by IMD decile, one panel per measure (the "goes into reverse" graph).

    Columns of ``df``: ``panel`` (measure name, e.g. "referrals", "finished treatment",
    "recovery", "reliable improvement"), ``decile`` (1..10), ``value``, ``lower``, ``upper``
    and optionally ``series``. ``units`` maps a measure name to its unit (defaults:
    :data:`ATTRITION_UNITS`); ``order`` fixes the panel order (default: first appearance).
    ``ncols=4`` gives one row of panels, ``ncols=2`` a 2x2 grid for narrow pages.
    """
    chart = "attrition_panels"
    require_columns(df, [panel], chart)
    units = {**ATTRITION_UNITS, **(units or {})}
    names = list(order) if order is not None else list(dict.fromkeys(df[panel].astype(str)))
    unknown = sorted(set(df[panel].astype(str)) - set(names))
    if unknown:
        raise SchemaError(f"{chart}: measures {unknown} in column '{panel}' are not in order={names}")
    nrows = -(-len(names) // ncols)
    labels = list(dict.fromkeys(df[series].astype(str))) if series else [""]
    styles = palette.series_styles(labels, area)
    parts, sentences, n_missing = [], [], 0
    with style.apply():
        fig, axes = new_figure(
            (2.1 * min(ncols, len(names)) + 0.6, 3.4 * nrows), nrows, min(ncols, len(names)), squeeze=False, sharex=True
        )
        flat = axes.ravel()
        for ax, name in zip(flat, names):
            sub = df[df[panel].astype(str) == name]
            tidy = _tidy_series(sub, decile, value, lower, upper, series, chart)
            tidy["x"] = check_deciles(tidy["x"], chart, decile)
            _draw_deciles(ax, tidy, styles)
            unit = units.get(name, "")
            ax.set_ylabel(alttext.axis_label(name, unit))
            full = (
                tidy.set_index(["series", "x"])
                .reindex(pd.MultiIndex.from_product([labels, range(1, 11)], names=["series", "x"]))
                .reset_index()
            )
            n_missing += alttext.count_missing(full["value"])
            first = full[full["series"] == (area if area in labels else labels[0])]
            sentences.append(
                f"{alttext.axis_label(name, unit)} {alttext.decile_gradient(first['x'], first['value'], unit, decimals)}"
            )
            data = _decile_data(full, "value", bool(series))
            data.insert(0, "unit", unit)
            data.insert(0, "measure", name)
            parts.append(data)
        for ax in flat[len(names) :]:
            ax.set_visible(False)
        if series:
            handles, texts = flat[0].get_legend_handles_labels()
            fig.legend(handles, texts, loc="outside upper center", ncols=len(labels))
    where = f", {context}" if context else ""
    shown = f" for {area if area in labels else labels[0]}" if series else ""
    what = "decile value"
    alt = alttext.join(
        f"{len(names)} small charts side by side of {', '.join(names)} by IMD decile{where}{shown}: "
        + "; ".join(sentences),
        alttext.caption_for_suppression(n_missing, what),
    )
    cap = alttext.join(
        caption or f"{_sentence_case(', '.join(names))} by IMD decile{where}. Error bars show {ci}",
        alttext.caption_for_suppression(n_missing, what),
    )
    data = pd.concat(parts, ignore_index=True).rename(
        columns={"value_lower_cl": "lower_cl", "value_upper_cl": "upper_cl"}
    )
    return Figure(fig, alt, cap, data)


def time_axis(periods: list) -> tuple[list, dict]:
    """Every period from the first to the last, with its x position in years.

    Periods that start with a year ("2015", "2018-19", "2017/18", "2015 - 17") are placed
    by that year, and the years missing between them are inserted (labelled like their
    neighbours), so a missing period leaves a visible gap on a true time axis. Other
    labels keep their sorted order, evenly spaced."""
    years = [re.match(r"\s*(\d{4})", str(p)) for p in periods]
    if not periods or not all(years):
        return list(periods), {p: i for i, p in enumerate(periods)}
    start = {int(m.group(1)): p for m, p in zip(years, periods)}
    if len(start) != len(periods):  # two labels for one year: no gaps can be placed
        return list(periods), {p: i for i, p in enumerate(periods)}
    first, last = min(start), max(start)
    sample = str(periods[-1])
    out = []
    for year in range(first, last + 1):
        if year in start:
            out.append(start[year])
        elif isinstance(periods[-1], (int, np.integer)):
            out.append(year)
        elif re.fullmatch(r"\d{4}[-/]\d{2}", sample):  # financial years: "2019-20"
            out.append(f"{year}{sample[4]}{(year + 1) % 100:02d}")
        elif re.fullmatch(r"\d{4}", sample):
            out.append(str(year))
        else:  # rolling or unusual labels: keep the held ones, evenly spaced
            return list(periods), {p: i for i, p in enumerate(periods)}
    return out, {p: i for i, p in enumerate(out)}


def trend_chart(
    df: pd.DataFrame,
    x: str = "period",
    value: str = "value",
    lower: str | None = "lower_cl",
    upper: str | None = "upper_cl",
    series: str | None = None,
    *,
    measure: str = "value",
    unit: str = "",
    context: str = "",
    area: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    caption: str | None = None,
    ci: str = DEFAULT_CI,
    decimals: int = 1,
) -> Figure:
    """Lines over time with confidence intervals as shaded bands.

    Columns of ``df``: ``x`` (period: a year or a label such as "2018-19"; drawn in sorted
    order), ``value``, ``lower``, ``upper`` and optionally ``series`` (e.g. the area and
    "England"). Missing values break the line and the band. ``reference`` draws a
    horizontal line (e.g. 0 for a slope index of inequality) labelled ``reference_label``.
    """
    chart = "trend_chart"
    tidy = _tidy_series(df, x, value, lower, upper, series, chart)
    held = sorted(tidy["x"].unique())
    periods, pos = time_axis(held)
    absent = [p for p in periods if p not in set(held)]
    labels = list(dict.fromkeys(tidy["series"]))
    styles = palette.series_styles(labels, area)
    full = (
        tidy.set_index(["series", "x"])
        .reindex(pd.MultiIndex.from_product([labels, periods], names=["series", "x"]))
        .reset_index()
    )
    with style.apply():
        fig, ax = new_figure()
        for lab, part in full.groupby("series", sort=False):
            color, marker = styles[lab]
            xs = part["x"].map(pos).to_numpy()
            ax.plot(xs, part["value"], color=color, marker=marker, label=lab or None)
            if lower and upper:
                ax.fill_between(xs, part["lower"], part["upper"], color=color, alpha=0.18, linewidth=0)
        if reference is not None:
            ax.axhline(reference, color=palette.ENGLAND, linewidth=0.8, linestyle="--", label=reference_label)
        step = max(1, len(periods) // 8)
        ax.set_xticks([pos[p] for p in periods[::step]])
        ax.set_xticklabels([str(p) for p in periods[::step]])
        ax.set_xlabel("period")
        ax.set_ylabel(alttext.axis_label(measure, unit))
        if series or reference_label:
            ax.legend(loc="best")
    n_missing = alttext.count_missing(full.loc[~full["x"].isin(absent), "value"])
    label = alttext.axis_label(measure, unit)
    where = f", {context}" if context else ""
    gap_note = f"No data for {', '.join(map(str, absent))}: the line is broken there." if absent else ""

    def change(part: pd.DataFrame) -> str:
        ok = part.dropna(subset=["value"])
        if ok.empty:
            return "all values suppressed"
        a, b = ok.iloc[0], ok.iloc[-1]
        return (
            f"from {alttext.format_value(a['value'], unit, decimals)} in {a['x']} "
            f"to {alttext.format_value(b['value'], unit, decimals)} in {b['x']}"
        )

    changes = "; ".join(f"{lab + ' ' if lab else ''}{change(p)}" for lab, p in full.groupby("series", sort=False))
    alt = alttext.join(
        f"Line chart of {label}{where}, {periods[0]} to {periods[-1]}: {changes}",
        f"Dashed line at {alttext.format_value(reference, unit, decimals)}"
        + (f" ({reference_label})" if reference_label else "")
        if reference is not None
        else "",
        alttext.caption_for_suppression(n_missing, "value"),
        gap_note,
    )
    cap = alttext.join(
        caption
        or f"{_sentence_case(measure)}{where}, {periods[0]} to {periods[-1]}."
        + (f" Shaded bands show {ci}" if lower and upper else ""),
        alttext.caption_for_suppression(n_missing, "value"),
        gap_note,
    )
    col = alttext.column_name(measure, unit)
    data = pd.DataFrame({"period": full["x"]})
    if series:
        data["series"] = full["series"]
    data[col] = full["value"]
    if lower and upper:
        data[f"{col}_lower_cl"] = full["lower"]
        data[f"{col}_upper_cl"] = full["upper"]
    return Figure(fig, alt, cap, data)


def lsoa_decile_chart(
    counts_df: pd.DataFrame,
    *,
    decile: str = "imd_decile",
    count: str = "lsoas",
    area_name: str,
    what: str = "LSOAs",
    index_name: str = "IMD",
    caption: str | None = None,
) -> Figure:
    """Bars: share of the area's LSOAs (or residents) in each national IMD decile.

    Columns of ``counts_df``: ``decile`` (1..10, national deciles, 1 = most deprived) and
    ``count`` (non-negative number of the area's LSOAs, or of residents, in that decile).
    A decile without a row holds none of the area's LSOAs (a true zero). The dashed line at
    10% is England's share in every decile by construction. ``what`` names what is counted.
    """
    chart = "lsoa_decile_chart"
    require_columns(counts_df, [decile, count], chart)
    d = check_deciles(counts_df[decile], chart, decile)
    n = numeric(counts_df, count, chart)
    if n.isna().any() or (n < 0).any():
        raise SchemaError(f"{chart}: column '{count}' must hold non-negative counts with none missing")
    if d.duplicated().any():
        raise SchemaError(f"{chart}: decile {int(d[d.duplicated()].iloc[0])} appears twice")
    counts = pd.Series(n.to_numpy(), index=d.to_numpy()).reindex(range(1, 11), fill_value=0.0)
    total = counts.sum()
    if total <= 0:
        raise SchemaError(f"{chart}: column '{count}' sums to 0")
    share = counts / total * 100
    with style.apply():
        fig, ax = new_figure()
        ax.bar(range(1, 11), share.to_numpy(), color=palette.DECILES, edgecolor="#333333", linewidth=0.5)
        ax.axhline(10, color=palette.ENGLAND, linestyle="--", linewidth=1)
        ax.annotate(
            "England: 10% in each decile",
            xy=(10.45, 10),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
        )
        decile_axis(ax)
        ax.set_xlabel(f"national {index_name} decile")
        ax.set_ylabel(f"share of {area_name}'s {what} (%)")
    worst = share.loc[1:3].sum()
    alt = alttext.join(
        f"Bar chart of the share of {area_name}'s {total:,.0f} {what} in each national {index_name} decile, "
        f"{alttext.format_value(share[1], '%')} in decile 1 (most deprived) and "
        f"{alttext.format_value(share[10], '%')} in decile 10 (least deprived), against 10% in each decile for England",
        f"The three most deprived deciles hold {alttext.format_value(worst, '%')} (England: 30%)",
        f"Largest share in decile {int(share.idxmax())} ({alttext.format_value(share.max(), '%')})",
    )
    cap = caption or alttext.join(
        f"{area_name}'s {what} by national {index_name} decile (1 = most deprived). "
        "The dashed line marks 10%, England's share in every decile"
    )
    data = pd.DataFrame(
        {
            "imd_decile": range(1, 11),
            alttext.column_name(what): counts.to_numpy() if (counts % 1).any() else counts.astype(int).to_numpy(),
            "share_pct": share.round(6).to_numpy(),
        }
    )
    return Figure(fig, alt, cap, data)
