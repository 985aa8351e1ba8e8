"""Checks and building blocks shared by the chart modules (not part of the public API)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter, NullFormatter

from mhbook.errors import InsufficientDataError, SchemaError


def require_columns(df: pd.DataFrame, columns: Iterable[str | None], chart: str) -> None:
    """Raise SchemaError naming the chart and every missing column."""
    wanted = [c for c in columns if c is not None]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{chart}: column(s) {missing} missing from the data; expected {wanted}, got {list(df.columns)}"
        )
    if df.empty:
        raise InsufficientDataError(f"{chart}: the data frame has no rows; nothing to draw")


def numeric(df: pd.DataFrame, column: str, chart: str) -> pd.Series:
    """Column as float with missing values as NaN; SchemaError if it is not numeric."""
    try:
        return pd.to_numeric(df[column], errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{chart}: column '{column}' must be numeric ({exc})") from exc


def check_interval(
    value: pd.Series, lower: pd.Series, upper: pd.Series, chart: str, names: tuple[str, str, str]
) -> None:
    """Raise SchemaError where a confidence interval does not contain its value."""
    bad = (lower > value + 1e-9) | (upper < value - 1e-9)
    if bad.any():
        i = bad[bad].index[0]
        raise SchemaError(
            f"{chart}: row {i} has {names[1]}={lower[i]}, {names[0]}={value[i]}, {names[2]}={upper[i]}; "
            f"expected {names[1]} <= {names[0]} <= {names[2]}"
        )


def check_deciles(deciles: pd.Series, chart: str, column: str) -> pd.Series:
    """IMD deciles as integers 1 (most deprived) to 10 (least deprived)."""
    d = pd.to_numeric(deciles, errors="coerce")
    if d.isna().any() or not d.between(1, 10).all() or (d % 1 != 0).any():
        raise SchemaError(f"{chart}: column '{column}' must hold IMD deciles 1 to 10, got {sorted(set(deciles))}")
    return d.astype(int)


def new_figure(
    figsize: tuple[float, float] | None = None, nrows: int = 1, ncols: int = 1, **kw
) -> tuple[MplFigure, np.ndarray | Axes]:
    """A figure made outside pyplot (so notebooks never display it by themselves)."""
    fig = MplFigure(figsize=figsize)
    kw.setdefault("squeeze", True)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def yerr(value: pd.Series, lower: pd.Series | None, upper: pd.Series | None) -> np.ndarray | None:
    """Asymmetric error-bar lengths; NaN where a limit is missing (Matplotlib skips those)."""
    if lower is None or upper is None:
        return None
    return np.vstack([(value - lower).to_numpy(), (upper - value).to_numpy()])


def decile_axis(ax: Axes) -> None:
    """Ticks 1..10 with the direction of deprivation spelt out."""
    ax.set_xticks(range(1, 11))
    ax.set_xticklabels(["1\nmost\ndeprived", *map(str, range(2, 10)), "10\nleast\ndeprived"])
    ax.set_xlim(0.5, 10.5)
    ax.set_xlabel("IMD decile")


def log_ratio_axis(ax: Axes) -> None:
    """Log x axis for ratios with plain tick labels (0.5, 1, 2), not powers of ten."""
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ticks = [t for t in (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50) if lo <= t <= hi]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
