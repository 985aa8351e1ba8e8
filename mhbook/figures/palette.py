"""Colour-blind-safe colours and marker shapes shared by every figure.

Colours come from the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008),
which stays distinguishable under the common colour-vision deficiencies; the sequential
palettes come from Matplotlib's viridis family and ColorBrewer's YlGnBu, both designed to be
readable without full colour vision. Colour is never the only cue: each role also has its
own marker shape, and significance categories carry a text label.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import to_hex

#: The area the book is about (Okabe-Ito blue).
AREA = "#0072B2"
#: England as a whole (black: the reference everything is read against).
ENGLAND = "#000000"
#: Comparators such as the area's ICB, CCG or statistical neighbours (Okabe-Ito orange).
COMPARATOR = "#E69F00"
#: Further series after area, England and comparator (remaining Okabe-Ito colours).
OTHERS = ("#009E73", "#CC79A7", "#56B4E9", "#D55E00")
#: Neutral grey for context (other areas in a scatter, gridlines of maps).
CONTEXT = "#9E9E9E"
#: Fill of map areas without data; they are also hatched so grey is not the only cue.
NO_DATA = "#FFFFFF"

#: Marker shapes for the roles, so series differ in shape as well as colour.
MARKERS = {"area": "o", "england": "s", "comparator": "D"}
OTHER_MARKERS = ("^", "v", "P", "X")


def _sample(cmap_name: str, n: int, start: float, stop: float) -> tuple[str, ...]:
    cmap = mpl.colormaps[cmap_name]
    return tuple(to_hex(cmap(x)) for x in np.linspace(start, stop, n))


#: Ten colours for IMD deciles, index 0 = decile 1 (most deprived, darkest) to index 9 =
#: decile 10 (least deprived, lightest). Viridis without its palest yellow end, so every
#: bar stays visible on white.
DECILES = _sample("viridis", 10, 0.0, 0.9)

#: Sequential colormap for choropleths (light = low, dark = high).
SEQUENTIAL_CMAP = "YlGnBu"

#: Significance categories: (colour, marker). "better/worse" are used where a direction is
#: judged good or bad, "higher/lower" where it is not; "similar" means the interval
#: overlaps the benchmark. Shapes differ so the category reads without colour.
SIGNIFICANCE = {
    "better": ("#0072B2", "^"),
    "similar": ("#6E6E6E", "o"),
    "worse": ("#D55E00", "v"),
    "higher": ("#CC79A7", "^"),
    "lower": ("#009E73", "v"),
    "not compared": ("#9E9E9E", "s"),
}

#: The barriers of the triple-barrier chart, in drawing order, with colour and marker.
BARRIERS = {
    "need": ("#0072B2", "o"),
    "access": ("#E69F00", "s"),
    "outcome": ("#009E73", "D"),
    "coercion": ("#CC79A7", "^"),
}


def sequential(k: int) -> tuple[str, ...]:
    """``k`` colours from light to dark for binned choropleths (k from 2 to 9)."""
    if not 2 <= k <= 9:
        raise ValueError(f"sequential palette: k={k}, expected 2 to 9 bins")
    return _sample(SEQUENTIAL_CMAP, k, 0.15, 0.95)


def series_styles(labels: list[str], area: str | None = None) -> dict[str, tuple[str, str]]:
    """Colour and marker for each series label.

    A label equal to "England" (any case) gets :data:`ENGLAND`; the label equal to ``area``
    (or, when ``area`` is None, the first other label) gets :data:`AREA`; the next gets
    :data:`COMPARATOR`, and any further ones :data:`OTHERS` in turn.
    """
    styles: dict[str, tuple[str, str]] = {}
    rest = [lab for lab in labels if str(lab).lower() != "england"]
    if area is None and rest:
        area = rest[0]
    extra = iter(zip(OTHERS, OTHER_MARKERS))
    comparator_used = False
    for lab in labels:
        if str(lab).lower() == "england":
            styles[lab] = (ENGLAND, MARKERS["england"])
        elif lab == area:
            styles[lab] = (AREA, MARKERS["area"])
        elif not comparator_used:
            styles[lab] = (COMPARATOR, MARKERS["comparator"])
            comparator_used = True
        else:
            try:
                styles[lab] = next(extra)
            except StopIteration:
                raise ValueError(
                    f"series_styles: {len(labels)} series, at most {3 + len(OTHERS)} can be told apart"
                ) from None
    return styles
