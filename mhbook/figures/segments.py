"""A trend chart whose area series changes what it measures: one line per footprint.

NHS Talking Therapies figures describe Clinical Commissioning Groups until 2021-22 and
Integrated Care Boards from 2022-23, and CCGs merged in between. A line joining a CCG
year to an ICB year would suggest one continuous series; this chart draws each run of
years with the same footprint as its own line segment, marks every change of footprint
with a vertical line between the two years, and labels the change from CCGs to ICBs.
Missing years (no footprint, or suppressed) leave gaps. Built with the house style;
publish the returned :class:`Figure` with :func:`mhbook.figures.publish`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mhbook.errors import SchemaError
from mhbook.figures import alttext, palette, style
from mhbook.figures._common import check_interval, new_figure, numeric, require_columns
from mhbook.figures.figure import Figure

CCG_TO_ICB = "CCG to ICB (July 2022)"


def _runs(segments: Sequence[object]) -> list[tuple[int, int, object]]:
    """(start, stop, label) of each run of equal, non-missing segment labels."""
    runs, start = [], None
    for i, seg in enumerate(list(segments) + [None]):
        if start is not None and (seg is None or pd.isna(seg) or seg != segments[start]):
            runs.append((start, i, segments[start]))
            start = None
        if start is None and seg is not None and not pd.isna(seg) and i < len(segments):
            start = i
    return runs


def segmented_trend_chart(
    df: pd.DataFrame,
    periods: Sequence[str],
    *,
    series: str = "series",
    segment: str = "segment",
    kind: str = "kind",
    value: str = "value",
    lower: str = "lower_cl",
    upper: str = "upper_cl",
    measure: str = "value",
    unit: str = "",
    context: str = "",
    area: str | None = None,
    caption: str | None = None,
    decimals: int = 1,
) -> Figure:
    """Lines over ``periods`` (all drawn on the axis, in order), broken where the footprint
    changes.

    Columns of ``df``: ``period``, ``series`` (e.g. "Blackpool's footprint", "England"),
    ``segment`` (what the value describes that year, e.g. "NHS Blackpool CCG (00R)";
    missing where there is no footprint), ``kind`` ("CCG", "ICB" or "England"),
    ``value``, ``lower``, ``upper``. A new line segment starts whenever ``segment``
    changes; a dashed vertical line labelled :data:`CCG_TO_ICB` marks the first year of
    kind "ICB" after one of kind "CCG", and dotted ones other footprint changes.
    """
    chart = "segmented_trend_chart"
    require_columns(df, ["period", series, segment, kind, value, lower, upper], chart)
    periods = list(periods)
    extra = sorted(set(df["period"]) - set(periods))
    if extra:
        raise SchemaError(f"{chart}: periods {extra} are not among {periods}")
    tidy = pd.DataFrame(
        {
            "period": df["period"].astype(str).to_numpy(),
            "series": df[series].astype(str).to_numpy(),
            "segment": df[segment].to_numpy(),
            "kind": df[kind].to_numpy(),
            "value": numeric(df, value, chart).to_numpy(),
            "lower": numeric(df, lower, chart).to_numpy(),
            "upper": numeric(df, upper, chart).to_numpy(),
        }
    )
    check_interval(tidy["value"], tidy["lower"], tidy["upper"], chart, (value, lower, upper))
    if tidy.duplicated(["period", "series"]).any():
        raise SchemaError(f"{chart}: more than one row per period and series")
    labels = list(dict.fromkeys(tidy["series"]))
    styles = palette.series_styles(labels, area)
    full = (
        tidy.set_index(["series", "period"])
        .reindex(pd.MultiIndex.from_product([labels, periods], names=["series", "period"]))
        .reset_index()
    )
    changes: list[tuple[float, str]] = []  # x of a vertical line, its label
    with style.apply():
        fig, ax = new_figure((7.0, 4.0))
        for lab in labels:
            part = full[full["series"] == lab].reset_index(drop=True)
            color, marker = styles[lab]
            segs = [s if not pd.isna(s) else None for s in part["segment"]]
            first = True
            for start, stop, _ in _runs(segs):
                xs = np.arange(start, stop)
                ax.plot(xs, part["value"].iloc[start:stop], color=color, marker=marker, label=lab if first else None)
                ax.fill_between(
                    xs,
                    part["lower"].iloc[start:stop],
                    part["upper"].iloc[start:stop],
                    color=color,
                    alpha=0.18,
                    linewidth=0,
                )
                first = False
            kinds = part["kind"].tolist()
            last = None
            for i, seg in enumerate(segs):
                if seg is None:
                    continue
                if last is not None and seg != segs[last]:
                    text = CCG_TO_ICB if kinds[last] == "CCG" and kinds[i] == "ICB" else "footprint changed"
                    changes.append(((last + i) / 2, text))
                last = i
        seen = set()
        for x, text in changes:
            if (x, text) in seen:
                continue
            seen.add((x, text))
            icb = text == CCG_TO_ICB
            ax.axvline(x, color=palette.CONTEXT, linewidth=1.0, linestyle="--" if icb else ":")
            ax.annotate(
                text,
                xy=(x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7,
                color="#444444",
                rotation=90 if not icb else 0,
            )
        ax.set_xticks(range(len(periods)))
        ax.set_xticklabels(periods, rotation=45, ha="right")
        ax.set_xlim(-0.5, len(periods) - 0.5)
        ax.set_xlabel("NHS financial year")
        ax.set_ylabel(alttext.axis_label(measure, unit))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=len(labels), fontsize=8, frameon=False)
    n_missing = alttext.count_missing(full["value"])
    label = alttext.axis_label(measure, unit)
    where = f", {context}" if context else ""

    def change(part: pd.DataFrame) -> str:
        ok = part.dropna(subset=["value"])
        if ok.empty:
            return "no values"
        a, b = ok.iloc[0], ok.iloc[-1]
        return (
            f"from {alttext.format_value(a['value'], unit, decimals)} in {a['period']} "
            f"to {alttext.format_value(b['value'], unit, decimals)} in {b['period']}"
        )

    moves = "; ".join(f"{lab} {change(full[full['series'] == lab])}" for lab in labels)
    unique_changes = list(dict.fromkeys(changes))
    breaks = (
        (
            "The area's line is broken where its NHS footprint changes ("
            + ", ".join(
                f"{t} between {periods[int(np.floor(x))]} and {periods[int(np.ceil(x))]}" for x, t in unique_changes
            )
            + ")"
        )
        if unique_changes
        else "The footprint does not change over these years"
    )
    alt = alttext.join(
        f"Line chart of {label}{where}, {periods[0]} to {periods[-1]}: {moves}",
        breaks,
        alttext.caption_for_suppression(n_missing, "year"),
    )
    cap = alttext.join(
        caption or f"{label}{where}, {periods[0]} to {periods[-1]}. Shaded bands show 95% limits",
        breaks,
        alttext.caption_for_suppression(n_missing, "year"),
    )
    col = alttext.column_name(measure, unit)
    data = pd.DataFrame(
        {
            "period": full["period"],
            "series": full["series"],
            "footprint": full["segment"],
            "organisation_type": full["kind"],
            col: full["value"],
            f"{col}_lower_cl": full["lower"],
            f"{col}_upper_cl": full["upper"],
        }
    )
    return Figure(fig, alt, cap, data)
