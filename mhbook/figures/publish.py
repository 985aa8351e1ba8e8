"""Put figures and tables into the book: image and CSV files plus MyST markdown.

A notebook cell ends with ``publish(figure, "recovery-by-decile")``. That writes
``_figures/recovery-by-decile.png`` (and ``.svg`` on request), the same chart laid out
for phones as ``recovery-by-decile.phone.png`` (``mhbook.figures.phone``), and the numbers drawn as
``_figures/recovery-by-decile.csv`` next to the executing notebook, closes the Matplotlib
figure, and returns a ``text/markdown`` output holding a MyST ``{figure}`` directive (alt
text, ``fig-<name>`` label, caption) and a ``{download}`` link to the CSV. The book renders
markdown outputs as MyST (``nb_render_markdown_format: myst``), so the figure gets a real
caption, alt text and a cross-reference target. Text is escaped so that captions with
``*``, ``_``, ``$``, braces or backticks come out literally.

The CSVs are for analysis, not display: numbers are numbers (a displayed interval such as
"4,601 to 4,670" becomes two numeric columns, "... lower limit" and "... upper limit"),
and every file starts with ``area_code`` (the area the page is about; England's code on
England-level pages) and ``period`` (the table's own period column; else the years its
caption names; else the notebook's ``period`` parameter; else the catalogue periods of
the datasets read to make it). Beside each CSV a small
``<name>.json`` records its kind, caption, area, period and source dataset ids, from
which ``mhbook.export.datapack`` assembles the area's data pack.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import string
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from mhbook import atomic
from mhbook.constants import ENGLAND_CODE, REFERENCE_DATASET_PREFIXES
from mhbook.errors import UsageError
from mhbook.fetch import cache_dir
from mhbook.figures import phone, style
from mhbook.figures.figure import Figure

log = logging.getLogger(__name__)

#: Folder, relative to the executing notebook, that holds the published files.
FIGURE_DIR = Path("_figures")
DOWNLOAD_TEXT = "Download the data behind this figure (CSV)"
TABLE_DOWNLOAD_TEXT = "Download this table (CSV)"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# ASCII punctuation that is safe unescaped inside a paragraph of MyST: everything else is
# backslash-escaped (CommonMark allows escaping any ASCII punctuation).
_SAFE = set(",.;?'\"()/-")


def escape_markdown(text: str) -> str:
    """Make ``text`` a literal one-line MyST paragraph (no markup, roles, maths or lists)."""
    text = " ".join(str(text).split())
    out = "".join("\\" + ch if ch in string.punctuation and ch not in _SAFE else ch for ch in text)
    # A line starting "-" or "1." would become a list item.
    out = re.sub(r"^(\d+)([.)])(?=\s|$)", r"\1\\\2", out)
    return "\\" + out if out.startswith("-") else out


def _option_value(text: str) -> str:
    """A directive option value as a double-quoted string (so ':' or '#' are not syntax)."""
    text = " ".join(str(text).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            f"publish: name {name!r} must be lowercase letters, digits and hyphens (e.g. 'recovery-by-decile')"
        )


def _link(path: Path) -> str:
    """Path as the page refers to it: relative to the notebook (the working directory),
    because Sphinx reads a leading '/' as the book's root, not the file system's."""
    return Path(os.path.relpath(path)).as_posix()


def _download_line(csv: Path, text: str) -> str:
    # Role content is not markdown: the fixed link texts hold no backticks or angle brackets.
    return f"{{download}}`{text} <{_link(csv)}>`"


#: A number as a page shows it: optional sign, thousands separators, decimals, and a
#: trailing per cent sign.
_NUMBER = r"[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_INTERVAL_RE = re.compile(rf"^({_NUMBER})\s+to\s+({_NUMBER})$")
#: Text that stands for a missing value in a displayed table.
_MISSING_TEXT = frozenset({"", "–", "-", "—", "suppressed", "no data", "n/a", "na", "not available"})
#: Column names that already give a row's period.
_PERIOD_COLUMNS = ("period", "year", "period checked", "time period")


def _as_number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").replace("\u2212", "-"))


def _text_values(series: pd.Series) -> list[str] | None:
    """The non-missing values of a text column, stripped; None if it is not text."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return None
    values = [str(v).strip() for v in series if v is not None and not (not isinstance(v, str) and pd.isna(v))]
    if any(not isinstance(v, str) for v in series.dropna()):
        return None
    return [v for v in values if v.lower() not in _MISSING_TEXT]


def _limit_names(column: str) -> tuple[str, str]:
    """Names of the two columns an interval column splits into."""
    base = re.sub(r",?\s*limits?$", "", column.strip()).strip()
    if base != column.strip():
        return f"{base} lower limit".strip(), f"{base} upper limit".strip()
    return f"{column} (lower)", f"{column} (upper)"


def numeric_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with numbers held as text made numeric: a column whose every value is a
    displayed number ("4,601", "12.5%") becomes a number column, and one whose every value
    is an interval ("4,601 to 4,670") becomes two ("... lower limit", "... upper limit")
    in its place. Words standing for a missing value ("suppressed", "–") become missing;
    a column with any other text is kept as it is."""
    out = {}
    for column in df.columns:
        series = df[column]
        values = _text_values(series)
        if not values or str(column).strip().lower() in _PERIOD_COLUMNS:  # "2015" is a period, not a number
            out[column] = series
            continue

        def parse(pattern, v):
            v = str(v).strip() if isinstance(v, str) else v
            if not isinstance(v, str) or v.lower() in _MISSING_TEXT:
                return None
            return pattern.match(v)

        if all(_NUMBER_RE.match(v) for v in values):
            out[column] = pd.to_numeric(
                series.map(lambda v: _as_number(m.group(0)) if (m := parse(_NUMBER_RE, v)) else None), errors="coerce"
            )
        elif all(_INTERVAL_RE.match(v) for v in values):
            lower, upper = _limit_names(str(column))
            matches = series.map(lambda v: parse(_INTERVAL_RE, v))
            out[lower] = pd.to_numeric(matches.map(lambda m: _as_number(m.group(1)) if m else None), errors="coerce")
            out[upper] = pd.to_numeric(matches.map(lambda m: _as_number(m.group(2)) if m else None), errors="coerce")
        else:
            out[column] = series
    return pd.DataFrame(out, index=df.index)


def _notebook_area() -> str:
    """The ``area_code`` parameter of the executing notebook (England's code when it has none)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    code = shell.user_ns.get("area_code") if shell is not None else None
    return str(code) if isinstance(code, str) and code else ENGLAND_CODE


def _notebook_datasets() -> list[str]:
    """Ids of the datasets read to make this figure or table: those the build recorded
    (``mhbook.reads``) since the previous ``publish`` of the notebook (all the notebook's
    reads for its first); empty outside a build."""
    from mhbook import reads

    return reads.since_mark()


_YEAR = r"(?:19|20)\d\d(?:[-/]\d\d(?:\d\d)?)?"
# A year or a span of years in a caption; not one naming an edition (IMD 2019, IoD2025).
_PERIOD_IN_TEXT = re.compile(rf"(?<![\d-])(?<!IMD )(?<!IoD)(?<!IoD )({_YEAR}(?:\s+to\s+{_YEAR})?)(?![\d])")


def _caption_period(caption: str) -> str:
    """The years a caption names ("2024-25", "2015/16 to 2024/25"), in order, as "A and B"."""
    found = list(dict.fromkeys(" ".join(m.split()) for m in _PERIOD_IN_TEXT.findall(str(caption))))
    return " and ".join(found) if len(found) <= 3 else f"{found[0]} to {found[-1]}"


def _notebook_period() -> str:
    """The executing notebook's ``period`` parameter, if it has one."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover
        return ""
    value = shell.user_ns.get("period") if shell is not None else None
    return value if isinstance(value, str) else ""


#: Datasets that place or name areas rather than measure them: not part of a table's period.


def _catalogue_period(ids: list[str]) -> str:
    from mhbook import catalogue

    periods = []
    for i in ids:
        if i.startswith(REFERENCE_DATASET_PREFIXES):
            continue
        try:
            period = " ".join(str(catalogue.get(i).period).split())
        except Exception:  # noqa: BLE001 - an unknown id only loses its period
            continue
        if period not in periods:
            periods.append(period)
    return "; ".join(periods)


def _with_context(data: pd.DataFrame, area_code: str | None, period: str) -> pd.DataFrame:
    """``data`` (numbers as numbers) with ``area_code`` and ``period`` columns in front,
    unless it has its own."""
    data = numeric_frame(data.reset_index(drop=True))
    lower = {str(c).strip().lower(): c for c in data.columns}
    front = {}
    if "area_code" not in lower:
        front["area_code"] = area_code or _notebook_area()
    if not any(name in lower for name in _PERIOD_COLUMNS):
        front["period"] = period
    for i, (name, value) in enumerate(front.items()):
        data.insert(i, name, value)
    return data


def _write_json(path: Path, meta: dict) -> None:
    atomic.write_json(path, meta, indent=1)


def _write_csv(
    data: pd.DataFrame,
    csv: Path,
    kind: str,
    caption: str,
    area_code: str | None,
    period: str | None,
    datasets: list[str] | None,
) -> dict:
    """Write the CSV of a figure or table, with its context, and its ``.json`` beside it;
    returns what the ``.json`` holds."""
    ids = list(datasets) if datasets is not None else _notebook_datasets()
    if period is None:
        period = _caption_period(caption) or _notebook_period() or _catalogue_period(ids)
    framed = _with_context(data, area_code, period)
    atomic.write_file(csv, lambda tmp: framed.to_csv(tmp, index=False))
    meta = {
        "kind": kind,
        "name": csv.stem,
        "caption": " ".join(str(caption).split()),
        "area_code": area_code or _notebook_area(),
        "period": period,
        "datasets": ids,
    }
    _write_json(csv.with_suffix(".json"), meta)
    return meta


def _figures_code_hash() -> str:
    """Hash of the figures package's source, so a changed chart is never served stale."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")) + sorted(Path(__file__).parent.glob("*.mplstyle")):
            h.update(path.read_bytes())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


_CODE_HASH: str | None = None


def _rendered(figure: Figure, data: bytes, dpi: int) -> Path:
    """Where the renderings of exactly this chart are kept (``<key>.png``, the phone's
    ``<key>.phone.png`` and what was measured in ``<key>.json``): keyed by its data, text,
    size, resolution and the figures code. Rendering is the slow part of a page, and
    England's charts are the same in every area's book."""
    h = hashlib.sha256()
    for part in (
        _figures_code_hash(),
        figure.alt,
        figure.caption,
        str(dpi),
        repr(tuple(figure.fig.get_size_inches())),
        data,
    ):
        h.update(part.encode() if isinstance(part, str) else part)
    return cache_dir() / "figures" / f"{h.hexdigest()[:32]}.png"


def _phone_path(png: Path) -> Path:
    return png.with_name(png.stem + phone.PHONE_SUFFIX + ".png")


def _keep(files: list[tuple[Path, Path]]) -> None:
    """Copy fresh renderings into the shared store (each atomically; best effort). The
    ``.json`` goes last: a rendering counts as kept only when its ``.json`` is there."""
    try:
        for made, kept in files:
            atomic.write_file(kept, lambda tmp, made=made: shutil.copyfile(made, tmp))
    except OSError as exc:  # a read-only cache only costs speed
        log.warning("could not keep rendered figure %s: %s", files[0][1], exc)


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _save(fig, path: Path, dpi: int, media: str | None) -> dict:
    """Save ``fig`` as PNG at ``dpi`` and measure what was drawn: the image's size, its
    smallest text (points, and pixels of the image) and any overlapping tick labels."""
    # zlib level 3 instead of 6: a quarter less time to write, files about 6% larger
    fig.savefig(path, dpi=dpi, bbox_inches="tight", pil_kwargs={"compress_level": 3})
    width, height = _png_size(path)
    smallest = phone.smallest_text_pt(fig, drawn=True)
    return {
        "file": path.name,
        "media": media,
        "width_px": width,
        "height_px": height,
        "dpi": dpi,
        "smallest_text_pt": round(smallest, 2),
        "smallest_text_px": round(smallest * dpi / 72, 2),
        "overlapping_tick_labels": [list(p) for p in phone.overlapping_tick_labels(fig, drawn=True)],
    }


def _render(figure: Figure, png: Path, dpi: int, svg: Path | None) -> list[dict]:
    """Draw the figure as laid out (made clear where tick labels overlap) and again laid
    out for phones (``mhbook.figures.phone``); returns what each rendering measured."""
    fig = figure.fig
    with style.apply(), warnings.catch_warnings():
        # A narrow phone layout can leave constrained layout no room for a panel's
        # decorations; Matplotlib then warns and keeps the layout as it was. What was drawn
        # is measured below, and a warning must not reach the reader's page.
        warnings.filterwarnings("ignore", message="constrained_layout not applied", category=UserWarning)
        phone.agg_canvas(fig)
        wide = _save(fig, png, dpi, None)
        if wide["overlapping_tick_labels"] and phone.fit_tick_labels(fig, drawn=True):
            wide = _save(fig, png, dpi, None)
        if svg is not None:
            fig.savefig(svg, bbox_inches="tight")
        phone.phone_layout(fig, chart=figure.phone)
        narrow = _save(fig, _phone_path(png), phone.PHONE_DPI, phone.PHONE_MEDIA)
    for r in (wide, narrow):
        if r["overlapping_tick_labels"]:
            log.warning(
                "figure %s: tick labels still overlap in %s: %s", png.stem, r["file"], r["overlapping_tick_labels"]
            )
    return [wide, narrow]


def publish(
    figure: Figure,
    name: str,
    *,
    outdir: Path | str = FIGURE_DIR,
    svg: bool = False,
    dpi: int = 150,
    area_code: str | None = None,
    period: str | None = None,
    datasets: list[str] | None = None,
) -> Markdown:
    """Save ``figure`` as PNG (and SVG) plus its data as CSV; return the MyST to show it.

    Files go to ``outdir/<name>.png|.svg|.csv`` (``outdir`` relative to the working
    directory, which papermill sets to the notebook's folder), with ``<name>.phone.png``,
    the figure re-laid out for phones, which the site shows on narrow screens
    (``mhbook.site``); ``<name>.json`` records, under ``renderings``, each image's pixel
    size and smallest text in image pixels and any overlapping tick labels. ``name`` is
    lowercase with hyphens and becomes the label ``fig-<name>`` for ``{numref}``
    references. The Matplotlib figure is closed afterwards, so it is not displayed a
    second time (it has been re-laid out for the phone rendering).
    ``area_code``, ``period`` and ``datasets`` describe the CSV's numbers; by default they
    come from the executing notebook (its ``area_code`` and the datasets it has read).
    """
    _check_name(name)
    if getattr(figure.fig, "_mhbook_published", False):  # re-laid out for phones and closed
        raise UsageError(
            f"figure {name!r}: this chart object was published before (and then re-laid out for phones); "
            "draw it again for each publication, e.g. not from a cache of Figure objects."
        )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png, csv = outdir / f"{name}.png", outdir / f"{name}.csv"
    meta = _write_csv(figure.data, csv, "figure", figure.caption, area_code, period, datasets)
    rendered = _rendered(figure, figure.data.to_csv(index=False).encode(), dpi)
    measured = rendered.with_suffix(".json")
    kept = [(png, rendered), (_phone_path(png), _phone_path(rendered))]
    if measured.exists() and all(k.exists() for _, k in kept) and not svg:
        # the same chart (e.g. an England figure) drawn for another area
        for made, k in kept:
            shutil.copyfile(k, made)
        renderings = [{**r, "file": made.name} for r, (made, _) in zip(json.loads(measured.read_text("utf-8")), kept)]
    else:
        renderings = _render(figure, png, dpi, outdir / f"{name}.svg" if svg else None)
        scratch = outdir / f".{name}.measured.json"
        _write_json(scratch, renderings)
        try:
            _keep([*kept, (scratch, measured)])
        finally:
            scratch.unlink(missing_ok=True)
    _write_json(csv.with_suffix(".json"), {**meta, "renderings": renderings})
    plt.close(figure.fig)
    figure.fig._mhbook_published = True
    log.info("published figure %s (%d data rows)", png, len(figure.data))
    fence = "````"
    text = "\n".join(
        [
            f"{fence}{{figure}} {_link(png)}",
            f":alt: {_option_value(figure.alt)}",
            f":name: fig-{name}",
            "",
            escape_markdown(figure.caption),
            fence,
            "",
            _download_line(csv, DOWNLOAD_TEXT),
            "",
        ]
    )
    return Markdown(text)


def _format_cell(value, fmt: str | Callable | None, missing_label: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return missing_label
    if callable(fmt):
        return str(fmt(value))
    if fmt is not None:
        return fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _cell(text: str) -> str:
    return escape_markdown(text) if text else " "


def publish_table(
    df: pd.DataFrame,
    name: str,
    caption: str,
    index: bool = False,
    formats: Mapping[str, str | Callable] | None = None,
    *,
    missing_label: str = "suppressed",
    outdir: Path | str = FIGURE_DIR,
    area_code: str | None = None,
    period: str | None = None,
    datasets: list[str] | None = None,
) -> Markdown:
    """Write ``df`` as ``outdir/<name>.csv`` and return it as a captioned MyST table.

    The table is a ``{table}`` directive around a pipe table (a real HTML table that the
    book theme lets readers scroll sideways on phones), labelled ``tbl-<name>``, followed by
    a CSV download link. ``formats`` maps a column to a format string (``"{:.1f}"``) or a
    function; numbers are otherwise shown with thousands separators (floats to one decimal).
    Missing values show as ``missing_label`` (e.g. "suppressed" or "–"), never "nan"; in the
    CSV they are empty. The CSV holds numbers as numbers, with ``area_code`` and ``period``
    (see ``publish``).
    """
    _check_name(name)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    csv = outdir / f"{name}.csv"
    table = df.reset_index() if index else df
    _write_csv(table, csv, "table", caption, area_code, period, datasets)
    formats = dict(formats or {})
    header = [str(c) for c in table.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]) for c in table.columns
    ]
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "| " + " | ".join("---:" if n else ":---" for n in numeric) + " |",
    ]
    for row in table.itertuples(index=False):
        cells = [_format_cell(v, formats.get(c), missing_label) for c, v in zip(table.columns, row)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    fence = "````"
    text = "\n".join(
        [
            f"{fence}{{table}} {escape_markdown(caption)}",
            f":name: tbl-{name}",
            "",
            *lines,
            fence,
            "",
            _download_line(csv, TABLE_DOWNLOAD_TEXT),
            "",
        ]
    )
    log.info("published table %s (%d rows)", csv, len(df))
    return Markdown(text)
