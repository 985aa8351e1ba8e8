"""A spine chart: one row per indicator, the area against England, its region and its
statistical neighbours, in the spirit of Fingertips' area profiles.

Each row is scaled on its own: England sits on the centre line (or, where the data have
no England value, the neighbours' average, and the row says so), and the row's widest
distance from the centre among the points drawn reaches the edge. Positions are
therefore comparable within a row, not between rows; the actual values are written on
the right, and the CSV holds them all. Shapes as well as colours tell the roles apart
(area: circle; region: triangle; neighbours: short bars; England: the centre line).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from mhbook.errors import SchemaError
from mhbook.figures import alttext, palette, phone, style
from mhbook.figures._common import new_figure, require_columns
from mhbook.figures.figure import Figure

REQUIRED = ("label", "unit", "value", "england", "region", "comparison")


def _fmt(value: float, unit: str) -> str:
    if pd.isna(value):
        return "no value"
    text = f"{value:,.1f}"
    return text + "%" if unit == "%" else text


def spine_chart(
    rows: pd.DataFrame, neighbour_values: pd.DataFrame, *, area: str, region: str, caption: str | None = None
) -> Figure:
    """Draw the spine chart.

    ``rows``: one row per indicator, top to bottom, with ``label``, ``unit``, ``value``
    (the area's; NaN when it has none), ``england``, ``region`` (NaN when none) and
    ``comparison`` (the words written beside the value, e.g. "Worse than England").
    ``neighbour_values``: ``label`` and ``value`` of each neighbour (NaN when
    suppressed or absent: not drawn, never zero).
    """
    chart = "spine_chart"
    require_columns(rows, REQUIRED, chart)
    require_columns(neighbour_values, ("label", "value"), chart)
    if rows.empty:
        raise SchemaError(f"{chart}: no indicators to draw")
    rows = rows.reset_index(drop=True)
    nb = {
        lab: pd.to_numeric(part["value"], errors="coerce").dropna().to_numpy()
        for lab, part in neighbour_values.groupby("label", sort=False)
    }
    ys = np.arange(len(rows))[::-1]
    data = []
    written: list[list] = []  # per row, the texts written beside it (value, and a centre note)
    with style.apply():
        fig, ax = new_figure((8.0, 1.2 + 0.42 * len(rows)))
        ax.grid(False)
        ax.axvline(0, color=palette.ENGLAND, linewidth=1.2, zorder=1)
        for y, r in zip(ys, rows.itertuples(index=False)):
            neigh = nb.get(r.label, np.array([]))
            centre, centre_is = (
                (r.england, "England")
                if pd.notna(r.england)
                else ((float(np.mean(neigh)), "neighbours' average") if len(neigh) else (np.nan, "none"))
            )
            points = [v for v in (r.value, r.region, *neigh) if pd.notna(v)]
            spread = max((abs(v - centre) for v in points), default=0.0) if pd.notna(centre) else 0.0
            scale = spread if spread > 0 else 1.0
            ax.plot([-1, 1], [y, y], color="#DDDDDD", linewidth=6, solid_capstyle="butt", zorder=0)

            def pos(v, c=centre, s=scale):
                return (v - c) / s

            if pd.notna(centre):
                if len(neigh):
                    ax.plot([pos(neigh.min()), pos(neigh.max())], [y, y], color=palette.CONTEXT, linewidth=2, zorder=1)
                    ax.plot(
                        pos(neigh),
                        np.full(len(neigh), y),
                        linestyle="none",
                        marker="|",
                        markersize=11,
                        color="#555555",
                        zorder=2,
                    )
                if pd.notna(r.region):
                    ax.plot(
                        pos(r.region), y, marker="^", color=palette.OTHERS[0], markersize=8, linestyle="none", zorder=3
                    )
                if pd.notna(r.value):
                    ax.plot(
                        pos(r.value),
                        y,
                        marker=palette.MARKERS["area"],
                        color=palette.AREA,
                        markersize=9,
                        linestyle="none",
                        markeredgecolor="white",
                        zorder=4,
                    )
                if centre_is != "England":
                    note = ax.text(
                        0,
                        y + 0.3,
                        "centre: neighbours' average (no England value)",
                        ha="center",
                        fontsize=7,
                        color="#555555",
                    )
            text = _fmt(r.value, r.unit) + (f" ({r.comparison})" if pd.notna(r.value) and r.comparison else "")
            written.append([ax.text(1.06, y, text, va="center", fontsize=8.5)])
            if pd.notna(centre) and centre_is != "England":
                written[-1].append(note)
            data.append(
                {
                    "indicator": r.label,
                    "unit": r.unit,
                    "area_value": r.value,
                    "england": r.england,
                    "region": r.region,
                    "neighbours_with_value": len(neigh),
                    "neighbours_min": neigh.min() if len(neigh) else np.nan,
                    "neighbours_max": neigh.max() if len(neigh) else np.nan,
                    "centre": centre,
                    "centre_is": centre_is,
                    "half_width": scale,
                    "against England (written beside the value)": r.comparison,
                }
            )
        ax.set_yticks(ys)
        ax.set_yticklabels([str(lab) for lab in rows["label"]], fontsize=8.5)
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xticks([-1, 0, 1])
        ax.set_xticklabels(["below England", "England", "above England"], fontsize=8)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        handles = [
            Line2D([], [], marker="o", color=palette.AREA, linestyle="none", markersize=8, label=area),
            Line2D([], [], marker="^", color=palette.OTHERS[0], linestyle="none", markersize=8, label=region),
            Line2D(
                [], [], marker="|", color="#555555", linestyle="none", markersize=10, label="statistical neighbours"
            ),
            Line2D([], [], color=palette.ENGLAND, linewidth=1.2, label="England"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8)
    table = pd.DataFrame(data)
    have = table[table["area_value"].notna()]
    above = have[(have["england"].notna()) & (have["area_value"] > have["england"])]["indicator"].tolist()
    below = have[(have["england"].notna()) & (have["area_value"] < have["england"])]["indicator"].tolist()
    none = table[table["area_value"].isna()]["indicator"].tolist()
    alt = alttext.join(
        f"Spine chart of {alttext.plural(len(table), 'indicator')} for {area}, each row centred on England "
        f"and showing {region} and the statistical neighbours",
        f"Above England's value: {', '.join(above)}" if above else "",
        f"Below England's value: {', '.join(below)}" if below else "",
        f"No value for {area}: {', '.join(none)}" if none else "",
    )
    cap = caption or (
        f"{area} (circle) against England (centre line), {region} (triangle) and its statistical neighbours "
        "(short bars, with their range). Each row has its own scale; the area's value and its comparison with "
        "England are written on the right."
    )
    return Figure(fig, alt, cap, table, phone=partial(_for_phone, ax, ys, list(rows["label"]), written))


#: Inches from one row to the next in the phone layout: the row's name and value above it.
PHONE_ROW_IN = 0.85


def _for_phone(ax, ys, labels: list, written: list[list], fig, width_in: float) -> None:
    """A phone is too narrow for names on the left and values on the right of the rows:
    each row's name, value and note are written above it instead, so the rows can use
    the phone's width."""
    headers = ["\n".join([str(label), *(t.get_text() for t in texts)]) for label, texts in zip(labels, written)]
    phone.names_above_rows(ax, ys, headers, [t for texts in written for t in texts], offset=0.2)
    ax.set_ylim(-0.6, len(ys) - 0.15)
    fig.set_size_inches(width_in, 1.0 + PHONE_ROW_IN * (len(ys) + 0.45))
