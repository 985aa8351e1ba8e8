"""Charts that compare groups or areas: forest (dot-and-whisker) charts against a benchmark,
the triple-barrier chart of ratios, and the County & UA scatter with its fitted line.

Significance is never shown by colour alone: each category has its own marker shape and is
written out as text next to the point and in the legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke
from matplotlib.transforms import blended_transform_factory

from mhbook.errors import SchemaError, UnknownAreaError
from mhbook.figures import alttext, palette, phone, style
from mhbook.figures._common import check_interval, log_ratio_axis, new_figure, numeric, require_columns
from mhbook.figures.figure import Figure


def _limits(df: pd.DataFrame, value: str, lower: str | None, upper: str | None, chart: str, positive: bool):
    v = numeric(df, value, chart).reset_index(drop=True)
    lo = numeric(df, lower, chart).reset_index(drop=True) if lower else pd.Series(np.nan, index=v.index)
    hi = numeric(df, upper, chart).reset_index(drop=True) if upper else pd.Series(np.nan, index=v.index)
    if lower and upper:
        check_interval(v, lo, hi, chart, (value, lower, upper))
    if positive and ((v <= 0) | (lo <= 0)).any():
        raise SchemaError(f"{chart}: a log scale needs positive values; column '{value}' or '{lower}' has values <= 0")
    return v, lo, hi


def _xerr(v: pd.Series, lo: pd.Series, hi: pd.Series) -> np.ndarray:
    return np.vstack([(v - lo).to_numpy(), (hi - v).to_numpy()])


def forest_chart(
    df: pd.DataFrame,
    label: str = "group",
    value: str = "value",
    lower: str | None = "lower_cl",
    upper: str | None = "upper_cl",
    benchmark: float = 1.0,
    significance: str | None = "significance",
    *,
    measure: str = "value",
    unit: str = "",
    benchmark_label: str = "benchmark",
    log: bool = False,
    context: str = "",
    caption: str | None = None,
    ci: str = "95% confidence intervals",
    decimals: int = 1,
) -> Figure:
    """Horizontal dot-and-whisker chart of groups against a benchmark line.

    Columns of ``df`` (one row per group, drawn top to bottom in row order): ``label``
    (group name), ``value``, ``lower``/``upper`` (interval limits) and ``significance``
    (one of "better", "similar", "worse", "higher", "lower", "not compared"; missing means
    "not compared"). ``benchmark`` is the reference value in the same unit (e.g. the
    footprint's overall recovery rate, or 1 for rate ratios); with ``log=True`` the x axis is
    logarithmic (for ratios). Each group's category is shown by marker shape and written to
    the right of the chart; a missing value is written "suppressed" and not drawn.
    """
    chart = "forest_chart"
    require_columns(df, [label, value, lower, upper, significance], chart)
    names = df[label].astype(str).reset_index(drop=True)
    v, lo, hi = _limits(df, value, lower, upper, chart, positive=log)
    sig = df[significance].reset_index(drop=True) if significance else pd.Series([None] * len(df))
    sig = sig.fillna("not compared").astype(str).str.lower()
    unknown = sorted(set(sig) - set(palette.SIGNIFICANCE))
    if unknown:
        raise SchemaError(f"{chart}: column '{significance}' has {unknown}; expected {list(palette.SIGNIFICANCE)}")
    sig = sig.where(v.notna(), "suppressed")
    ys = np.arange(len(df))[::-1]
    with style.apply():
        fig, ax = new_figure((7.0, 0.9 + 0.38 * len(df)))
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.axvline(benchmark, color=palette.ENGLAND, linewidth=1, linestyle="--", zorder=1)
        text_at = blended_transform_factory(ax.transAxes, ax.transData)
        for cat, (color, marker) in palette.SIGNIFICANCE.items():
            rows = (sig == cat).to_numpy()
            if rows.any():
                ax.errorbar(
                    v[rows],
                    ys[rows],
                    xerr=_xerr(v[rows], lo[rows], hi[rows]) if lower and upper else None,
                    fmt=marker,
                    color=color,
                    markersize=7,
                    elinewidth=1.3,
                    label=cat,
                )
        words = []
        for y, cat in zip(ys, sig):
            word = ax.text(
                1.02,
                y,
                cat,
                transform=text_at,
                va="center",
                fontsize=9,
                color=palette.SIGNIFICANCE.get(cat, (palette.CONTEXT,))[0] if cat != "suppressed" else "#555555",
            )
            words.append(word)
        ax.set_yticks(ys)
        ax.set_yticklabels(names)
        ax.set_ylim(-0.7, len(df) - 0.3)
        if log:
            log_ratio_axis(ax)
        ax.set_xlabel(alttext.axis_label(measure, unit))
        handles, texts = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color=palette.ENGLAND, linestyle="--", linewidth=1))
        texts.append(f"{benchmark_label} ({alttext.format_value(benchmark, unit, decimals)})")
        fig.legend(handles, texts, loc="outside lower center", ncols=min(4, len(texts)))
    where = f", {context}" if context else ""
    groups_by = "; ".join(
        f"{cat} for {', '.join(names[sig == cat])}" for cat in dict.fromkeys(sig) if cat != "suppressed"
    )
    n_missing = int((sig == "suppressed").sum())
    alt = alttext.join(
        f"Forest chart of {alttext.axis_label(measure, unit)} for {alttext.plural(len(df), 'group')}{where}, "
        f"against {benchmark_label} ({alttext.format_value(benchmark, unit, decimals)}): {groups_by}",
        f"Values: {alttext.extremes(names, v, unit, decimals)}" if v.notna().any() else "",
        alttext.caption_for_suppression(n_missing, "group"),
    )
    cap = alttext.join(
        caption
        or f"{alttext.axis_label(measure, unit)[:1].upper() + alttext.axis_label(measure, unit)[1:]}"
        f" by group{where}, compared with {benchmark_label}. Whiskers show {ci}; marker shape and the words on "
        "the right give the comparison",
        alttext.caption_for_suppression(n_missing, "group"),
    )
    col = alttext.column_name(measure, unit)
    data = pd.DataFrame(
        {
            "group": names,
            col: v,
            f"{col}_lower_cl": lo,
            f"{col}_upper_cl": hi,
            "comparison": sig,
            f"benchmark_{col}": benchmark,
        }
    )
    return Figure(fig, alt, cap, data, phone=partial(_forest_for_phone, ax, ys, list(names), words))


#: Inches from one group to the next in a forest chart's phone layout (its name above it).
PHONE_ROW_IN = 0.62


def _forest_for_phone(ax, ys, names: list[str], words: list, fig, width_in: float) -> None:
    """A phone is too narrow for the group names on the left and the comparison words on
    the right: each group's name and comparison are written above its row instead, so the
    whiskers can use the phone's width (marker shapes still tell the comparison)."""
    headers = [f"{name} ({word.get_text()})" for name, word in zip(names, words)]
    phone.names_above_rows(ax, ys, headers, words, offset=0.22)
    ax.set_ylim(-0.6, len(ys) - 0.1)
    fig.set_size_inches(width_in, 1.4 + PHONE_ROW_IN * (len(ys) + 0.5))


def _not_drawn(n_missing: int) -> str:
    """Cells of the group x barrier grid without a ratio: suppressed, or never published."""
    if n_missing == 0:
        return ""
    verb = "is" if n_missing == 1 else "are"
    return (
        f"{alttext.plural(n_missing, 'ratio')} {verb} not available (suppressed or not published) "
        "and left blank, not drawn as zero."
    )


def triple_barrier_chart(
    df: pd.DataFrame,
    group: str = "group",
    barrier: str = "barrier",
    ratio: str = "value",
    lower: str | None = "lower_cl",
    upper: str | None = "upper_cl",
    dimension: str | None = "dimension",
    *,
    barriers: Sequence[str] = tuple(palette.BARRIERS),
    context: str = "",
    caption: str | None = None,
    ci: str = "95% confidence intervals",
) -> Figure:
    """Need, access and outcome (and coercion) ratios per group, on a log scale around 1.

    Columns of ``df`` (one row per group and barrier): ``group`` (e.g. "Black"),
    ``barrier`` (one of ``barriers``: "need", "access", "outcome", "coercion"), ``ratio``
    (the group's rate divided by the whole population's; 1 = same), ``lower``/``upper``
    (interval of the ratio) and optionally ``dimension`` (e.g. "ethnicity", "age"), which
    groups the rows under a heading. Barriers are told apart by colour and marker.
    """
    chart = "triple_barrier_chart"
    require_columns(df, [group, barrier, ratio, lower, upper, dimension], chart)
    unknown = sorted(set(df[barrier].astype(str)) - set(barriers))
    if unknown:
        raise SchemaError(f"{chart}: column '{barrier}' has {unknown}; expected {list(barriers)}")
    v, lo, hi = _limits(df, ratio, lower, upper, chart, positive=True)
    tidy = pd.DataFrame(
        {
            "dimension": df[dimension].astype(str).to_numpy() if dimension else "",
            "group": df[group].astype(str).to_numpy(),
            "barrier": df[barrier].astype(str).to_numpy(),
            "ratio": v,
            "lower": lo,
            "upper": hi,
        }
    )
    if tidy.duplicated(["dimension", "group", "barrier"]).any():
        raise SchemaError(f"{chart}: a group has two rows for the same barrier; expected one")
    present = [b for b in barriers if b in set(tidy["barrier"])]
    rows = list(dict.fromkeys(zip(tidy["dimension"], tidy["group"])))
    # One y slot per group, plus a heading slot before each new dimension.
    slots, y, headings = {}, 0, []
    for dim, grp in rows:
        if dimension and (not headings or headings[-1][0] != dim):
            headings.append((dim, y))
            y += 1
        slots[(dim, grp)] = y
        y += 1
    full = (
        tidy.set_index(["dimension", "group", "barrier"])
        .reindex(
            pd.MultiIndex.from_tuples(
                [(d, g, b) for d, g in rows for b in present], names=["dimension", "group", "barrier"]
            )
        )
        .reset_index()
    )
    offsets = dict(zip(present, np.linspace(-0.27, 0.27, len(present)) if len(present) > 1 else [0.0]))
    with style.apply():
        fig, ax = new_figure((7.0, 1.0 + 0.42 * y))
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.axvline(1, color=palette.ENGLAND, linewidth=1, linestyle="--", zorder=1)
        for b in present:
            part = full[full["barrier"] == b]
            ys = np.array([slots[(d, g)] for d, g in zip(part["dimension"], part["group"])]) + offsets[b]
            color, marker = palette.BARRIERS.get(b, (palette.CONTEXT, "X"))
            ax.errorbar(
                part["ratio"],
                ys,
                xerr=_xerr(part["ratio"], part["lower"], part["upper"]) if lower and upper else None,
                fmt=marker,
                color=color,
                markersize=6,
                elinewidth=1.1,
                label=b,
            )
        log_ratio_axis(ax)
        ax.set_yticks([slots[r] for r in rows], labels=[g for _, g in rows])
        for dim, hy in headings:
            ax.text(
                0,
                hy,
                dim,
                transform=blended_transform_factory(ax.transAxes, ax.transData),
                ha="right",
                va="center",
                fontweight="bold",
                fontsize=9,
            )
        ax.set_ylim(y - 0.5, -0.7)
        ax.set_xlabel("ratio to the whole population (1 = same, log scale)")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=len(present))
    n_missing = alttext.count_missing(full["ratio"])
    labels = full["group"] + ", " + full["barrier"]
    above = "; ".join(
        f"{b} above 1 for {int((full.loc[full['barrier'] == b, 'ratio'] > 1).sum())} of {len(rows)}" for b in present
    )
    dims = sorted(set(tidy["dimension"])) if dimension else []
    where = f", {context}" if context else ""
    alt = alttext.join(
        f"Chart of {', '.join(present)} ratios relative to the whole population (log scale, 1 = same) for "
        f"{alttext.plural(len(rows), 'group')}" + (f" by {', '.join(dims)}" if dims else "") + f"{where}: {above}",
        f"Ratios: {alttext.extremes(labels, full['ratio'], '', 2)}",
        _not_drawn(n_missing),
    )
    cap = alttext.join(
        caption
        or f"{_sentence(', '.join(present))} ratios by group relative to the whole population{where} "
        f"(1 = same as everyone; log scale). Whiskers show {ci}",
        _not_drawn(n_missing),
    )
    data = full.rename(columns={"ratio": "ratio_to_population", "lower": "ratio_lower_cl", "upper": "ratio_upper_cl"})
    if not dimension:
        data = data.drop(columns="dimension")
    return Figure(fig, alt, cap, data)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def scatter_fit(
    df: pd.DataFrame,
    x: str = "imd_score",
    y: str = "value",
    label: str = "area_name",
    highlight_code: str | None = None,
    fit: pd.DataFrame | None = None,
    r_text: str | None = None,
    *,
    code: str = "area_code",
    x_measure: str = "IMD average score",
    x_unit: str = "",
    y_measure: str = "value",
    y_unit: str = "",
    what: str = "County & UA",
    context: str = "",
    caption: str | None = None,
    decimals: int = 1,
) -> Figure:
    """Scatter of areas with a fitted line and its confidence band; one area highlighted.

    Columns of ``df`` (one row per area): ``code`` (e.g. "E08000003"), ``label`` (area
    name), ``x`` and ``y`` (numeric; rows with either missing are left out and counted).
    ``fit`` (optional, computed elsewhere) has columns ``x``, ``fit``, ``lower``, ``upper``
    on a grid of x values; ``r_text`` (e.g. "r = 0.62 (0.51 to 0.71)") is shown in the
    legend with the line. ``highlight_code`` is drawn in the area colour and labelled.
    """
    chart = "scatter_fit"
    require_columns(df, [code, label, x, y], chart)
    pts = pd.DataFrame(
        {
            "area_code": df[code].astype(str).to_numpy(),
            "area_name": df[label].astype(str).to_numpy(),
            "x": numeric(df, x, chart).to_numpy(),
            "y": numeric(df, y, chart).to_numpy(),
        }
    )
    if highlight_code is not None and highlight_code not in set(pts["area_code"]):
        raise UnknownAreaError(f"{chart}: highlight_code {highlight_code!r} is not in column '{code}'")
    if fit is not None:
        require_columns(fit, ["x", "fit", "lower", "upper"], f"{chart} (fit)")
        fit = fit.sort_values("x")
    shown = pts.dropna(subset=["x", "y"])
    n_missing = len(pts) - len(shown)
    is_hi = (shown["area_code"] == highlight_code).to_numpy()
    with style.apply():
        fig, ax = new_figure()
        ax.grid(axis="x", visible=True)
        ax.scatter(
            shown["x"][~is_hi],
            shown["y"][~is_hi],
            s=18,
            color=palette.CONTEXT,
            alpha=0.8,
            edgecolor="none",
            label=f"{what}s",
        )
        if fit is not None:
            ax.fill_between(
                fit["x"],
                fit["lower"],
                fit["upper"],
                color=palette.ENGLAND,
                alpha=0.12,
                linewidth=0,
                label="95% confidence band",
            )
            ax.plot(
                fit["x"],
                fit["fit"],
                color=palette.ENGLAND,
                linewidth=1.5,
                label="fitted line" + (f", {r_text}" if r_text else ""),
            )
        if is_hi.any():
            hx, hy, hname = shown["x"][is_hi].iloc[0], shown["y"][is_hi].iloc[0], shown["area_name"][is_hi].iloc[0]
            ax.scatter([hx], [hy], s=70, color=palette.AREA, edgecolor="black", linewidth=0.8, zorder=5, label=hname)
            ax.annotate(
                hname,
                (hx, hy),
                xytext=(8, 8),
                textcoords="offset points",
                fontsize=9,
                fontweight="bold",
                color=palette.AREA,
                arrowprops={"arrowstyle": "-", "color": palette.AREA, "linewidth": 0.8},
                path_effects=[withStroke(linewidth=3, foreground="white")],
            )  # legible over the line
        ax.set_xlabel(alttext.axis_label(x_measure, x_unit))
        ax.set_ylabel(alttext.axis_label(y_measure, y_unit))
        ax.legend(loc="best", fontsize=8)
    ylab, xlab = alttext.axis_label(y_measure, y_unit), alttext.axis_label(x_measure, x_unit)
    trend = ""
    if fit is not None and len(fit) > 1:
        rises = fit["fit"].iloc[-1] > fit["fit"].iloc[0]
        trend = f"The fitted line {'rises' if rises else 'falls'} with {x_measure}" + (f" ({r_text})" if r_text else "")
    hi_text = ""
    if is_hi.any():
        rank = int((shown["y"] > hy).sum()) + 1
        hi_text = (
            f"{hname}, highlighted, has {x_measure} {alttext.format_value(hx, x_unit, decimals)} and {y_measure} "
            f"{alttext.format_value(hy, y_unit, decimals)}, ranking {rank} of {len(shown)} from the highest"
        )
    elif highlight_code is not None:
        hi_text = f"The highlighted area ({highlight_code}) has no value and is not shown"
    where = f", {context}" if context else ""
    missing_note = (
        f"{alttext.plural(n_missing, what)} without data {'is' if n_missing == 1 else 'are'} not shown"
        if n_missing
        else ""
    )
    alt = alttext.join(
        f"Scatter plot of {ylab} against {xlab} for {alttext.plural(len(shown), what)}{where}, "
        f"{y_measure} {alttext.extremes(shown['area_name'], shown['y'], y_unit, decimals)}",
        trend,
        hi_text,
        missing_note,
    )
    cap = alttext.join(
        caption
        or f"{_sentence(ylab)} against {xlab}, one dot per {what}{where}"
        + (". The line is a fitted regression with its 95% confidence band" if fit is not None else ""),
        missing_note,
    )
    data = pts.rename(
        columns={"x": alttext.column_name(x_measure, x_unit), "y": alttext.column_name(y_measure, y_unit)}
    )
    data["highlighted"] = data["area_code"] == highlight_code
    return Figure(fig, alt, cap, data)
