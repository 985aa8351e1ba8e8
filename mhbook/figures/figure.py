"""The object every chart returns: a Matplotlib figure with what the page needs about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure as MplFigure


@dataclass
class Figure:
    """A drawn chart or map with its accessible description and its data.

    Attributes:
        fig: the Matplotlib figure (created outside pyplot, so it is never shown twice).
        alt: alt text generated from the data: chart type, measure, range, key comparison.
        caption: the caption shown under the figure in the page (plain text).
        data: the numbers drawn, one row per point, units in the column names; this is what
            ``publish`` offers as the CSV download.
        phone: how the chart re-lays itself out for a phone, called with the figure and the
            phone's width in inches before the general rules of ``mhbook.figures.phone``
            (None: those rules alone).
    """

    fig: MplFigure
    alt: str
    caption: str
    data: pd.DataFrame
    phone: Callable[[MplFigure, float], None] | None = None

    def __post_init__(self) -> None:
        if not self.alt.strip():
            raise ValueError("Figure: alt text is empty; every figure needs a description")
