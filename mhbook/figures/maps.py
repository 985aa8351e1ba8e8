"""England County & UA choropleths in the house style.

Values are binned (quantiles or equal intervals, or edges you give) and shaded with a
colour-blind-safe sequential palette (:func:`palette.sequential`); the legend gives each
bin's range with its unit. Areas without data are hatched and listed as "no data", never
shaded as zero. The book's area gets a thick dark outline, its value in a text box and, when
it is too small to see on a map of England (e.g. a London borough), a zoomed inset.
Boundaries are credited as their licence requires (ONS, OGL v3; OS data, Crown copyright).

Geometries are drawn as given; :func:`mhbook.geometry.simplify_for_map` makes a lighter
copy once per book, so each map draws in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from mhbook.errors import InsufficientDataError, SchemaError, UnknownAreaError
from mhbook.figures import alttext, palette, style
from mhbook.figures._common import new_figure, numeric, require_columns
from mhbook.figures.figure import Figure
from mhbook.geometry import BNG


def credit(year: int = 2023) -> str:
    """The attribution the ONS boundary licence asks for."""
    return (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.\n"
        f"Contains OS data © Crown copyright and database right {year}"
    )


def class_edges(values: pd.Series, scheme: str = "quantiles", k: int = 5) -> np.ndarray:
    """Bin edges (k + 1 increasing numbers, fewer if values tie) for non-missing ``values``.

    ``scheme`` is "quantiles" (about the same number of areas per bin) or "equal_interval".
    """
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        raise InsufficientDataError("class_edges: every value is missing; nothing to bin")
    if scheme == "quantiles":
        edges = np.quantile(v, np.linspace(0, 1, k + 1))
    elif scheme == "equal_interval":
        edges = np.linspace(v.min(), v.max(), k + 1)
    else:
        raise ValueError(f"class_edges: scheme={scheme!r}, expected 'quantiles' or 'equal_interval'")
    return np.unique(edges)


def _bin_labels(edges: np.ndarray, unit: str, decimals: int) -> list[str]:
    fmt = [alttext.format_value(e, "", decimals) for e in edges]
    suffix = unit if unit.startswith("%") else f" {unit}" if unit else ""
    return [f"{a} to {b}{suffix}" for a, b in zip(fmt[:-1], fmt[1:])]


def _draw(
    ax: Axes,
    geo: gpd.GeoDataFrame,
    colours: list[str],
    missing: np.ndarray,
    hi: np.ndarray,
    borrowed: np.ndarray | None = None,
) -> None:
    shown = ~missing
    if shown.any():
        geo[shown].plot(ax=ax, color=[c for c, s in zip(colours, shown) if s], edgecolor="white", linewidth=0.3)
    if borrowed is not None and (borrowed & shown).any():
        geo[borrowed & shown].plot(ax=ax, facecolor="none", edgecolor="#1A1A1A", hatch="...", linewidth=0.3)
    if missing.any():
        geo[missing].plot(ax=ax, facecolor=palette.NO_DATA, edgecolor="#8C8C8C", hatch="/////", linewidth=0.3)
    if hi.any():
        geo[hi].boundary.plot(ax=ax, color="#1A1A1A", linewidth=2.2)


def choropleth_ax(
    gdf: gpd.GeoDataFrame,
    column: str,
    ax: Axes,
    *,
    code: str = "area_code",
    name: str = "area_name",
    highlight_code: str | None = None,
    label: str = "value",
    unit: str = "",
    scheme: str = "quantiles",
    k: int = 5,
    edges: Sequence[float] | None = None,
    decimals: int = 1,
    boundary_year: int = 2023,
    zoom: bool = True,
    borrowed: str | None = None,
) -> tuple[Axes, pd.DataFrame]:
    """Draw the choropleth on ``ax``; return ``ax`` and the table of what was drawn.

    Columns of ``gdf``: ``code``, ``name``, ``column`` (numeric, NaN = no data) and a
    geometry (any CRS; geographic coordinates are projected to British National Grid).
    ``borrowed`` names an optional boolean column: areas whose value is that of a former
    area (not their own) are dotted and say so in the legend and the table.
    ``edges`` (increasing, covering every value) overrides ``scheme``/``k``. The returned
    table has area_code, area_name, the value (column named from ``label`` and ``unit``)
    and its bin.
    """
    chart = "choropleth"
    require_columns(gdf, [code, name, column], chart)
    if gdf.crs is None:
        raise SchemaError(f"{chart}: the boundaries have no CRS; expected one (e.g. EPSG:4326)")
    geo = gdf.to_crs(BNG) if gdf.crs.is_geographic else gdf
    geo = geo.reset_index(drop=True)
    values = numeric(geo, column, chart)
    codes = geo[code].astype(str)
    if highlight_code is not None and highlight_code not in set(codes):
        raise UnknownAreaError(f"{chart}: highlight_code {highlight_code!r} is not in column '{code}'")
    cuts = np.unique(np.asarray(edges, dtype=float)) if edges is not None else class_edges(values, scheme, k)
    if edges is not None and (values.min() < cuts[0] or values.max() > cuts[-1]):
        raise ValueError(f"{chart}: edges {list(cuts)} do not cover the values {values.min()} to {values.max()}")
    if len(cuts) < 2:  # every area has the same value: one bin
        cuts = np.array([cuts[0], cuts[0]])
    bins = pd.cut(values, cuts, labels=False, include_lowest=True, duplicates="drop")
    labels = _bin_labels(cuts, unit, decimals)
    colours_k = palette.sequential(max(2, len(labels)))
    missing = values.isna().to_numpy()
    colours = [colours_k[int(b)] if not np.isnan(b) else palette.NO_DATA for b in bins]
    hi = (codes == highlight_code).to_numpy()
    lent = geo[borrowed].fillna(False).astype(bool).to_numpy() if borrowed else None
    _draw(ax, geo, colours, missing, hi, lent)
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = [Patch(facecolor=c, edgecolor="#BDBDBD", label=lab) for c, lab in zip(colours_k, labels)]
    if missing.any():
        handles.append(Patch(facecolor=palette.NO_DATA, edgecolor="#8C8C8C", hatch="/////", label="no data"))
    if lent is not None and (lent & ~missing).any():
        handles.append(Patch(facecolor="white", edgecolor="#1A1A1A", hatch="...", label="value of a former area"))
    if hi.any():
        handles.append(Patch(facecolor="none", edgecolor="#1A1A1A", linewidth=2, label=str(geo.loc[hi, name].iloc[0])))
    ax.legend(
        handles=handles,
        title=alttext.axis_label(label, unit),
        loc="upper right",
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
    ax.text(1.0, 0.0, credit(boundary_year), transform=ax.transAxes, ha="right", va="top", fontsize=6, color="#555555")
    if hi.any():
        i = int(np.flatnonzero(hi)[0])
        value_text = alttext.format_value(values[i], unit, decimals) if not missing[i] else "no data"
        if lent is not None and lent[i] and not missing[i]:
            value_text += " (a former area's value)"
        ax.text(
            0.02,
            0.98,
            f"{geo.loc[i, name]}: {value_text}",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#1A1A1A"},
        )
        if zoom:
            _zoom_inset(ax, geo, colours, missing, hi, lent)
    table = pd.DataFrame(
        {
            "area_code": codes,
            "area_name": geo[name].astype(str),
            alttext.column_name(label, unit): values,
            "bin": [labels[int(b)] if not np.isnan(b) else "no data" for b in bins],
        }
    )
    if lent is not None:
        table["value of a former area"] = lent
    return ax, table


def _zoom_inset(
    ax: Axes,
    geo: gpd.GeoDataFrame,
    colours: list[str],
    missing: np.ndarray,
    hi: np.ndarray,
    borrowed: np.ndarray | None = None,
) -> None:
    """Zoomed inset when the area is under 4% of the map's width (otherwise it is visible)."""
    x0, y0, x1, y1 = geo[hi].total_bounds
    mx0, _, mx1, _ = geo.total_bounds
    if (x1 - x0) > 0.04 * (mx1 - mx0):
        return
    pad = max(x1 - x0, y1 - y0) * 1.5 + 5000
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    inset = ax.inset_axes([0.0, 0.45, 0.3, 0.3])
    # All areas are drawn (a few hundred polygons, cheap) and the view is cropped by limits.
    _draw(inset, geo, colours, missing, hi, borrowed)
    inset.set_xlim(cx - pad, cx + pad)
    inset.set_ylim(cy - pad, cy + pad)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")  # geopandas labels projected axes; the inset needs none
    inset.set_ylabel("")
    inset.set_aspect("equal")
    ax.indicate_inset_zoom(inset, edgecolor="#1A1A1A")


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    highlight_code: str | None = None,
    label: str = "value",
    scheme: str = "quantiles",
    k: int = 5,
    *,
    unit: str = "",
    code: str = "area_code",
    name: str = "area_name",
    edges: Sequence[float] | None = None,
    decimals: int = 1,
    what: str = "County & UA",
    context: str = "",
    caption: str | None = None,
    boundary_year: int = 2023,
    ax: Axes | None = None,
    borrowed: str | None = None,
) -> Figure:
    """Map of England's County & UAs shaded by ``column``, the area outlined.

    Takes the same columns as :func:`choropleth_ax` (``code``, ``name``, ``column``,
    geometry). Draws on ``ax`` when given (the Figure then wraps ``ax.figure``), otherwise
    on a new figure. The returned Figure's ``data`` is the table of values and bins.
    """
    with style.apply():
        if ax is None:
            fig, ax = new_figure((6.2, 7.0))
        else:
            fig = ax.figure
        ax, table = choropleth_ax(
            gdf,
            column,
            ax,
            code=code,
            name=name,
            highlight_code=highlight_code,
            label=label,
            unit=unit,
            scheme=scheme,
            k=k,
            edges=edges,
            decimals=decimals,
            boundary_year=boundary_year,
            borrowed=borrowed,
        )
    col = alttext.column_name(label, unit)
    v = table[col]
    n_missing = int(v.isna().sum())
    n_bins = table.loc[v.notna(), "bin"].nunique()
    how = "user-set" if edges is not None else {"quantiles": "quantile", "equal_interval": "equal-interval"}[scheme]
    where = f", {context}" if context else ""
    hi_text = ""
    if highlight_code is not None:
        row = table[table["area_code"] == highlight_code].iloc[0]
        if pd.isna(row[col]):
            hi_text = f"{row['area_name']}, outlined, has no data"
        else:
            own = v[~table["value of a former area"]] if "value of a former area" in table else v
            lent_here = bool(row.get("value of a former area", False))
            rank = int((own > row[col]).sum()) + 1
            hi_text = (
                f"{row['area_name']}, outlined, has {alttext.format_value(row[col], unit, decimals)} "
                f"(bin {row['bin']}), "
                + (
                    "the value of a former area, so not ranked"
                    if lent_here
                    else f"ranking {rank} of {int(own.notna().sum())} from the highest"
                    + (" among areas with a value of their own" if borrowed else "")
                )
            )
    missing_note = (
        f"{alttext.plural(n_missing, what)} {'has' if n_missing == 1 else 'have'} no data (hatched)"
        if n_missing
        else ""
    )
    alt = alttext.join(
        f"Map of {alttext.plural(len(table), what)}{where} shaded by {alttext.axis_label(label, unit)} in "
        f"{n_bins} {how} bins, {alttext.extremes(table['area_name'], v, unit, decimals)}",
        hi_text,
        missing_note,
    )
    cap = alttext.join(
        caption or f"{label[:1].upper() + label[1:]} by {what}{where}; darker means higher",
        missing_note,
        "Boundaries: ONS, OGL v3; contains OS data © Crown copyright and database right " + str(boundary_year),
    )
    return Figure(fig, alt, cap, table)
