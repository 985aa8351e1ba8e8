"""Figures that can be read on a phone: a narrow re-layout of a chart, and checks of its text.

A chart drawn for the text column (7 inches wide, saved at 150 dpi, about 1,050 px) is
shown about 360 CSS px wide on a 390 px phone, which shrinks 9 pt text to about 6 CSS px.
``publish`` therefore saves each figure twice: as drawn, and re-laid out by
:func:`phone_layout` for narrow screens, which the page offers through a ``<picture>``
media query (:data:`PHONE_MEDIA`). The phone rendering is :data:`PHONE_WIDTH_IN` inches
wide with no text under :data:`MIN_TEXT_PT`, so that at 360 CSS px its smallest text is
about ``MIN_TEXT_PT * 360 / (72 * PHONE_WIDTH_IN)`` = 10 CSS px (WCAG has no minimum; 9
CSS px is the floor the browser suite checks).

Tick labels that would collide on the narrower axes are never shrunk: a chart whose
group names (y tick labels) collide is made taller, and colliding x tick labels (deciles,
years) are thinned to every second or third, the first and last kept.
:func:`overlapping_tick_labels` finds the colliding pairs and :func:`fit_tick_labels`
clears them. Both renderings are
checked, and what was measured (pixel width, smallest text in image pixels, any overlap
left) is recorded by ``publish`` for the browser suite.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable

from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.gridspec import GridSpec
from matplotlib.offsetbox import VPacker
from matplotlib.text import Text
from matplotlib.ticker import Formatter
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

#: Width of the phone rendering, in inches (before text outside the axes is added).
PHONE_WIDTH_IN = 4.0
#: Resolution of the phone rendering: 800 px for 4 inches, sharp on 2x screens at 400 CSS px.
PHONE_DPI = 200
#: No text in the phone rendering is smaller than this, in points.
MIN_TEXT_PT = 8.0
#: Height of each panel, in inches, when side-by-side panels are stacked for a phone.
PANEL_HEIGHT_IN = 2.6
#: Tick labels longer than this many characters are written on more lines for a phone.
WRAP_CHARS = 18
#: Legend entries longer than this many characters are written on more lines for a phone.
LEGEND_CHARS = 28
#: When the page shows the phone rendering (a CSS media query; never in print).
PHONE_MEDIA = "screen and (max-width: 40em)"
#: Suffix of the phone rendering's file name: ``<name>.phone.png`` (publish's names have no dots).
PHONE_SUFFIX = ".phone"


def agg_canvas(fig: MplFigure) -> None:
    """Give a figure made outside pyplot an Agg canvas, the one ``savefig`` uses for PNG,
    so that it can be measured as ``savefig`` last drew it."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)


def _renderer(fig: MplFigure, draw: bool = True):
    """The renderer to measure ``fig``'s text with, after laying it out and drawing it
    without making pixels (``draw=False``: as last drawn, e.g. by ``savefig``)."""
    if not hasattr(fig.canvas, "get_renderer"):
        agg_canvas(fig)
        draw = True
    if draw:
        fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def _legend_texts(legend) -> list[Text]:
    return [*legend.get_texts(), legend.get_title()] if legend is not None and legend.get_visible() else []


def visible_texts(fig: MplFigure) -> list[Text]:
    """Every text a laid-out ``fig`` draws: the figure's and the axes' texts, titles,
    legends, axis labels and tick labels (not those of a hidden axis or axes)."""
    out = [*fig.texts]
    for legend in fig.legends:
        out += _legend_texts(legend)
    for ax in _axes_of(fig):
        out += [*ax.texts, ax.title, ax._left_title, ax._right_title, *_legend_texts(ax.get_legend())]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_visible():
                    out += [axis.label, axis.offsetText, *(t for _, t in _tick_labels(axis))]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def smallest_text_pt(fig: MplFigure, *, drawn: bool = False) -> float:
    """The font size, in points, of the smallest text drawn in ``fig`` (nan if none).
    ``drawn``: measure the figure as last drawn (by ``savefig``) instead of drawing it."""
    _renderer(fig, draw=not drawn)  # ticks and their labels exist only once the figure is laid out
    sizes = [t.get_fontsize() for t in visible_texts(fig)]
    return min(sizes) if sizes else float("nan")


def _tick_labels(axis: Axis) -> list[tuple[float, Text]]:
    """(tick value, label) of the labels an axis draws, in the order of the values."""
    labels = []
    for tick in axis.get_major_ticks():
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                labels.append((float(tick.get_loc()), label))
    lo, hi = sorted(axis.get_view_interval())
    return sorted(((v, t) for v, t in labels if lo - 1e-9 <= v <= hi + 1e-9), key=lambda pair: pair[0])


def _collide(a: Text, b: Text, renderer, gap_px: float) -> bool:
    """Whether two labels of one axis are drawn on top of each other (or closer than ``gap_px``).

    Level or upright labels are compared by their drawn boxes. Labels at another angle are
    parallel strips: they collide when their anchors are closer, measured across the
    writing, than the height of their text."""
    angle = a.get_rotation() % 180
    if angle in (0.0, 90.0) or not math.isclose(angle, b.get_rotation() % 180):
        ea, eb = a.get_window_extent(renderer), b.get_window_extent(renderer)
        return ea.x0 < eb.x1 + gap_px and eb.x0 < ea.x1 + gap_px and ea.y0 < eb.y1 + gap_px and eb.y0 < ea.y1 + gap_px
    (ax_, ay), (bx, by) = (t.get_transform().transform(t.get_unitless_position()) for t in (a, b))
    theta = math.radians(angle)
    across = abs(-(bx - ax_) * math.sin(theta) + (by - ay) * math.cos(theta))
    lines = 1 + max(a.get_text().count("\n"), b.get_text().count("\n"))
    height = max(a.get_fontsize(), b.get_fontsize()) * a.get_figure(root=True).dpi / 72 * (1 + 1.2 * (lines - 1))
    return across < height + gap_px


def _axes_of(fig: MplFigure) -> list:
    return [ax for ax in fig.get_axes() if ax.get_visible()]


def overlapping_tick_labels(fig: MplFigure, gap_px: float = 0.0, *, drawn: bool = False) -> list[tuple[str, str]]:
    """Pairs of neighbouring tick labels of one axis of ``fig`` that touch or overlap when
    drawn (closer than ``gap_px`` pixels at the figure's dpi), as their texts; empty when
    all are clear. ``drawn``: measure the figure as last drawn instead of drawing it."""
    renderer = _renderer(fig, draw=not drawn)
    pairs = []
    for ax in _axes_of(fig):
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for _, t in _tick_labels(axis)]
            pairs += [
                (a.get_text(), b.get_text()) for a, b in zip(labels, labels[1:]) if _collide(a, b, renderer, gap_px)
            ]
    return pairs


class _Only(Formatter):
    """Another formatter's labels at the kept tick values, and nothing at the others."""

    def __init__(self, base: Formatter, keep: list[float]) -> None:
        self.base, self.keep = base, keep

    def _kept(self, value: float) -> bool:
        return any(math.isclose(value, k, rel_tol=1e-9, abs_tol=1e-12) for k in self.keep)

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def set_locs(self, locs) -> None:
        self.base.set_locs(locs)

    def format_ticks(self, values):
        return [label if self._kept(v) else "" for v, label in zip(values, self.base.format_ticks(values))]

    def __call__(self, x, pos=None):
        return self.base(x, pos) if self._kept(x) else ""

    def get_offset(self):
        return self.base.get_offset()


class _Wrapped(Formatter):
    """Another formatter's labels, those longer than ``width`` characters on more lines."""

    def __init__(self, base: Formatter, width: int) -> None:
        self.base, self.width = base, width

    def _wrap(self, label: str) -> str:
        if len(label) <= self.width or "$" in label or "\n" in label:  # maths, or lines already set
            return label
        return textwrap.fill(label, self.width, break_long_words=False, break_on_hyphens=False)

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def set_locs(self, locs) -> None:
        self.base.set_locs(locs)

    def format_ticks(self, values):
        return [self._wrap(label) for label in self.base.format_ticks(values)]

    def __call__(self, x, pos=None):
        return self._wrap(self.base(x, pos))

    def get_offset(self):
        return self.base.get_offset()


def _clear(labels: list[Text], keep: list[int], renderer, gap_px: float) -> bool:
    return not any(_collide(labels[i], labels[j], renderer, gap_px) for i, j in zip(keep, keep[1:]))


def _thin_axis(axis: Axis, renderer, gap_px: float) -> bool:
    """Keep every k-th label of ``axis`` (the smallest k that clears it), with the last; True if changed."""
    found = _tick_labels(axis)
    values, labels = [v for v, _ in found], [t for _, t in found]
    if len(labels) < 2 or _clear(labels, list(range(len(labels))), renderer, gap_px):
        return False
    last = len(labels) - 1
    keep = [0]
    for step in range(2, len(labels)):
        keep = list(range(0, len(labels), step))
        if keep[-1] != last:  # the last label (e.g. "10 least deprived") is kept in place of its neighbour
            with_last = [*keep, last] if _clear(labels, [keep[-1], last], renderer, gap_px) else [*keep[:-1], last]
            keep = with_last if len(with_last) > 1 else keep
        if _clear(labels, keep, renderer, gap_px):
            break
    else:
        keep = [0]
    major = axis.get_major_formatter()
    base = major.base if isinstance(major, _Only) else major
    axis.set_major_formatter(_Only(base, [values[i] for i in keep]))
    return True


def _taller_for_labels(fig: MplFigure, renderer, gap_px: float) -> float:
    """Inches of height ``fig`` needs for its y tick labels (group names, say) not to
    overlap, with the rows spread out; 0 if they are clear."""
    need = 0.0
    for ax in _axes_of(fig):
        labels = [t for _, t in _tick_labels(ax.yaxis)]
        for a, b in zip(labels, labels[1:]):
            if not _collide(a, b, renderer, gap_px):
                continue
            ea, eb = a.get_window_extent(renderer), b.get_window_extent(renderer)
            apart = abs((ea.y0 + ea.y1) - (eb.y0 + eb.y1)) / 2
            wanted = (ea.height + eb.height) / 2 + gap_px + 2
            if apart > 0:  # the axes grow by as much as the figure
                need = max(need, ax.get_window_extent(renderer).height * (wanted / apart - 1) / fig.dpi)
    return need


def fit_tick_labels(fig: MplFigure, gap_px: float = 0.0, *, drawn: bool = False) -> bool:
    """Make ``fig``'s tick labels clear of each other: a figure whose y tick labels (group
    names, say) overlap is made taller, as much as they need; x tick labels that overlap
    (deciles, years) are thinned to every second or third, the first and last kept.
    Returns whether anything changed (the figure is then redrawn by its next ``savefig``).
    ``drawn``: measure the figure as last drawn instead of drawing it."""
    renderer = _renderer(fig, draw=not drawn)
    changed = False
    for _ in range(3):
        need = _taller_for_labels(fig, renderer, gap_px)
        if need <= 0:
            break
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + need * 1.05)
        renderer, changed = _renderer(fig), True
    for ax in _axes_of(fig):
        changed |= _thin_axis(ax.xaxis, renderer, gap_px)
    return changed


def _stack_panels(fig: MplFigure) -> int:
    """Put side-by-side panels of one grid (three or more columns) one above another;
    returns the number of rows of panels afterwards."""
    axes = _axes_of(fig)
    specs = [ax.get_subplotspec() for ax in axes]
    if len(axes) < 2 or any(s is None for s in specs):
        return 0
    grid = specs[0].get_gridspec()
    if any(s.get_gridspec() is not grid for s in specs) or grid.ncols < 3:
        return 0
    stacked = GridSpec(len(axes), 1, figure=fig)
    order = sorted(range(len(axes)), key=lambda i: (specs[i].rowspan.start, specs[i].colspan.start))
    for row, i in enumerate(order):
        axes[i].set_subplotspec(stacked[row])
    return len(axes)


def _set_legend_columns(legend, ncols: int) -> None:
    """Re-pack a drawn legend's entries, in their order, into ``ncols`` columns.
    (``Legend.set_ncols`` only takes effect in a legend made afterwards.)"""
    box = legend._legend_handle_box
    columns = box.get_children()
    items = [item for column in columns for item in column.get_children()]
    ncols = max(1, min(ncols, len(items)))
    sizes = [len(items) // ncols + (i < len(items) % ncols) for i in range(ncols)]
    starts = [sum(sizes[:i]) for i in range(ncols)]
    packed = [
        VPacker(pad=0, sep=columns[0].sep, align=columns[0].align, children=items[a : a + n])
        for a, n in zip(starts, sizes)
    ]
    for column in packed:
        column.set_figure(legend.get_figure(root=False))
        column.axes = legend.axes
    box._children = packed
    legend.set_ncols(ncols)


def _narrow_legends(fig: MplFigure, width_px: float, renderer):
    """Give legends wider than ``width_px`` fewer columns, until they fit or have one;
    returns the renderer of the figure as last drawn."""
    legends = list(fig.legends) + [ax.get_legend() for ax in _axes_of(fig) if ax.get_legend() is not None]
    for _ in range(4):
        wide = [(leg, leg.get_window_extent(renderer).width) for leg in legends if leg._ncols > 1]
        wide = [(leg, w) for leg, w in wide if w > width_px]
        if not wide:
            break
        for legend, width in wide:  # columns of about equal width: as many as fit, fewer than now
            _set_legend_columns(legend, max(1, min(legend._ncols - 1, int(legend._ncols * width_px / width))))
        renderer = _renderer(fig)
    return renderer


def _rewrap(text: Text, chars: int) -> bool:
    """Write ``text`` on lines of at most ``chars`` characters (words kept whole); True if changed."""
    old = text.get_text()
    if "$" in old:  # maths is left as it is
        return False
    new = "\n".join(
        textwrap.fill(line, chars, break_long_words=False, break_on_hyphens=False) or line for line in old.split("\n")
    )
    if new != old:
        text.set_text(new)
    return new != old


def _wrap_wide_texts(fig: MplFigure, width_px: float, renderer) -> bool:
    """Put legend entries longer than :data:`LEGEND_CHARS` and any level text wider than
    ``width_px`` (a source line under a map, say) on more lines; True if any changed."""
    changed = False
    legends = list(fig.legends) + [ax.get_legend() for ax in _axes_of(fig) if ax.get_legend() is not None]
    for legend in legends:
        for text in legend.get_texts():
            changed |= _rewrap(text, LEGEND_CHARS)
    free = [*fig.texts, *(t for ax in _axes_of(fig) for t in ax.texts)]
    for text in free:
        if text.get_rotation() % 180 or not text.get_visible():
            continue
        width = text.get_window_extent(renderer).width
        if width > 0.95 * width_px:
            longest = max(len(line) for line in text.get_text().split("\n"))
            changed |= _rewrap(text, max(12, int(longest * 0.9 * width_px / width)))
    return changed


def names_above_rows(ax, ys, headers: list[str], beside: list[Text], offset: float) -> None:
    """Write each row's ``headers`` text above the row (``offset`` data units up, from the
    axes' left edge, on white so that lines pass behind it) in place of the y tick labels,
    and hide the texts written ``beside`` the rows: for charts whose names on the left and
    words on the right leave a phone's rows a sliver of its width (``Figure.phone``)."""
    ax.set_yticks(ys, labels=[""] * len(ys))
    ax.tick_params(axis="y", length=0)
    for text in beside:
        text.set_visible(False)
    at = blended_transform_factory(ax.transAxes, ax.transData)
    for y, header in zip(ys, headers):
        ax.text(
            0.0,
            y + offset,
            header,
            transform=at,
            ha="left",
            va="bottom",
            fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )


#: Inches between a map and the texts and legend placed around it for a phone.
MAP_GAP_IN = 0.08


def _is_map(ax) -> bool:
    """A map (``mhbook.figures.maps``): axes drawn without axis lines, at equal scale."""
    return not ax.axison and ax.get_aspect() == 1.0


def _maps_apart(fig: MplFigure, width_in: float, renderer) -> bool:
    """Lay a map figure (one map, ``mhbook.figures.maps``) out for a phone by hand: the map
    as wide as the figure, its boxed label above it, the source lines written under it,
    then its legend, which on a phone would otherwise cover the map. The figure is as tall
    as these need, and has no layout engine: its parts are placed here. True if laid out."""
    axes = _axes_of(fig)
    if len(axes) != 1 or not _is_map(axes[0]) or axes[0].get_legend() is None:
        return False
    ax, legend = axes[0], axes[0].get_legend()

    def inches(artists) -> float:
        return sum(a.get_window_extent(renderer).height for a in artists) / fig.dpi

    labels = [t for t in ax.texts if t.get_visible() and t.get_bbox_patch() is not None]
    under = [t for t in ax.texts if t.get_visible() and t.get_position()[1] <= 0 and t.get_va() == "top"]
    label_in = inches(labels) + (2 * MAP_GAP_IN if labels else 0)
    under_in = inches(under) + MAP_GAP_IN
    below_in = under_in + inches([legend]) + MAP_GAP_IN
    map_in = width_in * ax.get_data_ratio()
    height = label_in + map_in + below_in
    fig.set_layout_engine("none")
    fig.set_size_inches(width_in, height)
    ax.set_position([0.0, below_in / height, 1.0, map_in / height])
    for label in labels:
        label.set_position((0.0, 1.0))
        label.set_horizontalalignment("left")
        label.set_verticalalignment("bottom")
        label.set_transform(ax.transAxes + ScaledTranslation(0, MAP_GAP_IN, fig.dpi_scale_trans))
    legend.set_loc("upper center")
    legend.set_bbox_to_anchor((0.5, 0.0), transform=ax.transAxes + ScaledTranslation(0, -under_in, fig.dpi_scale_trans))
    return True


def phone_layout(
    fig: MplFigure, width_in: float = PHONE_WIDTH_IN, chart: Callable[[MplFigure, float], None] | None = None
) -> MplFigure:
    """Re-lay ``fig`` out, in place, for a phone: ``width_in`` wide, side-by-side panels
    stacked, no text under :data:`MIN_TEXT_PT`, long tick labels, legend entries and notes
    on more lines, legends in fewer columns, a map's legend and label moved off the map,
    and tick labels cleared where they would overlap. Text outside the axes (labels
    written beside a chart) is kept inside the width by narrowing the axes. ``chart``: the
    chart's own phone layout (``Figure.phone``), applied once the width and the smallest
    text are set. Returns ``fig``, ready to save (it is drawn once or twice here to
    measure it)."""
    rows = _stack_panels(fig)
    height = rows * PANEL_HEIGHT_IN if rows else fig.get_size_inches()[1]
    fig.set_size_inches(width_in, height)
    for text in visible_texts(fig):
        if text.get_fontsize() < MIN_TEXT_PT:
            text.set_fontsize(MIN_TEXT_PT)
    for ax in _axes_of(fig):
        for name in ("x", "y"):
            axis = getattr(ax, f"{name}axis")
            if not isinstance(axis.get_major_formatter(), _Wrapped):
                axis.set_major_formatter(_Wrapped(axis.get_major_formatter(), WRAP_CHARS))
            ticks = axis.get_major_ticks()
            if ticks and ticks[0].label1.get_fontsize() < MIN_TEXT_PT:
                ax.tick_params(axis=name, labelsize=MIN_TEXT_PT)
    if chart is not None:
        chart(fig, width_in)
    renderer = _renderer(fig)
    if _wrap_wide_texts(fig, width_in * fig.dpi, renderer):
        renderer = _renderer(fig)
    if _maps_apart(fig, width_in, renderer):
        renderer = _renderer(fig)
    renderer = _narrow_legends(fig, width_in * fig.dpi, renderer)
    # Text hanging outside the axes widens the saved (tight) image: narrow the figure by as much.
    current = width_in
    for _ in range(3):
        spill = fig.get_tightbbox(renderer).width - width_in
        if spill <= 0.02 * width_in or current - spill < 0.5 * width_in:
            break
        current -= spill
        fig.set_size_inches(current, fig.get_size_inches()[1])
        renderer = _renderer(fig)
    fit_tick_labels(fig, drawn=True)
    return fig
