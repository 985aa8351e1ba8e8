"""Put figures and tables into the book: image and CSV files plus MyST markdown.

A notebook cell ends with ``publish(figure, "recovery-by-decile")``. That writes
``_figures/recovery-by-decile.png`` (and ``.svg`` on request) and the numbers drawn as
``_figures/recovery-by-decile.csv`` next to the executing notebook, closes the Matplotlib
figure, and returns a ``text/markdown`` output holding a MyST ``{figure}`` directive (alt
text, ``fig-<name>`` label, caption) and a ``{download}`` link to the CSV. The book renders
markdown outputs as MyST (``nb_render_markdown_format: myst``), so the figure gets a real
caption, alt text and a cross-reference target. Text is escaped so that captions with
``*``, ``_``, ``$``, braces or backticks come out literally.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import string
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from mhbook.fetch import cache_dir
from mhbook.figures import style
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
        raise ValueError(f"publish: name {name!r} must be lowercase letters, digits and hyphens (e.g. 'recovery-by-decile')")


def _link(path: Path) -> str:
    """Path as the page refers to it: relative to the notebook (the working directory),
    because Sphinx reads a leading '/' as the book's root, not the file system's."""
    return Path(os.path.relpath(path)).as_posix()


def _download_line(csv: Path, text: str) -> str:
    # Role content is not markdown: the fixed link texts hold no backticks or angle brackets.
    return f"{{download}}`{text} <{_link(csv)}>`"


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


def _rendered(figure: Figure, csv: Path, dpi: int) -> Path:
    """Where a rendering of exactly this chart is kept: keyed by its data, text, size,
    resolution and the figures code. Rendering is the slow part of a page, and England's
    charts are the same in every area's book."""
    h = hashlib.sha256()
    for part in (_figures_code_hash(), figure.alt, figure.caption, str(dpi),
                 repr(tuple(figure.fig.get_size_inches())), csv.read_bytes()):
        h.update(part.encode() if isinstance(part, str) else part)
    return cache_dir() / "figures" / f"{h.hexdigest()[:32]}.png"


def _keep(png: Path, rendered: Path) -> None:
    """Copy a fresh rendering into the shared store (atomically; best effort)."""
    try:
        rendered.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=rendered.parent, suffix=".tmp")
        os.close(fd)
        shutil.copyfile(png, tmp)
        os.replace(tmp, rendered)
    except OSError as exc:  # a read-only cache only costs speed
        log.warning("could not keep rendered figure %s: %s", rendered, exc)


def publish(figure: Figure, name: str, *, outdir: Path | str = FIGURE_DIR, svg: bool = False,
            dpi: int = 150) -> Markdown:
    """Save ``figure`` as PNG (and SVG) plus its data as CSV; return the MyST to show it.

    Files go to ``outdir/<name>.png|.svg|.csv`` (``outdir`` relative to the working
    directory, which papermill sets to the notebook's folder). ``name`` is lowercase with
    hyphens and becomes the label ``fig-<name>`` for ``{numref}`` references. The
    Matplotlib figure is closed afterwards, so it is not displayed a second time.
    """
    _check_name(name)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    png, csv = outdir / f"{name}.png", outdir / f"{name}.csv"
    figure.data.to_csv(csv, index=False)
    rendered = _rendered(figure, csv, dpi)
    if rendered.exists():  # the same chart (e.g. an England figure) drawn for another area
        shutil.copyfile(rendered, png)
    else:
        with style.apply():
            # zlib level 3 instead of 6: a quarter less time to write, files about 6% larger
            figure.fig.savefig(png, dpi=dpi, bbox_inches="tight", pil_kwargs={"compress_level": 3})
        _keep(png, rendered)
    if svg:
        with style.apply():
            figure.fig.savefig(outdir / f"{name}.svg", bbox_inches="tight")
    plt.close(figure.fig)
    log.info("published figure %s (%d data rows)", png, len(figure.data))
    fence = "````"
    text = "\n".join([
        f"{fence}{{figure}} {_link(png)}",
        f":alt: {_option_value(figure.alt)}",
        f":name: fig-{name}",
        "",
        escape_markdown(figure.caption),
        fence,
        "",
        _download_line(csv, DOWNLOAD_TEXT),
        "",
    ])
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


def publish_table(df: pd.DataFrame, name: str, caption: str, index: bool = False,
                  formats: Mapping[str, str | Callable] | None = None, *, missing_label: str = "suppressed",
                  outdir: Path | str = FIGURE_DIR) -> Markdown:
    """Write ``df`` as ``outdir/<name>.csv`` and return it as a captioned MyST table.

    The table is a ``{table}`` directive around a pipe table (a real HTML table that the
    book theme lets readers scroll sideways on phones), labelled ``tbl-<name>``, followed by
    a CSV download link. ``formats`` maps a column to a format string (``"{:.1f}"``) or a
    function; numbers are otherwise shown with thousands separators (floats to one decimal).
    Missing values show as ``missing_label`` (e.g. "suppressed" or "–"), never "nan"; in the
    CSV they are empty.
    """
    _check_name(name)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    csv = outdir / f"{name}.csv"
    df.to_csv(csv, index=index)
    table = df.reset_index() if index else df
    formats = dict(formats or {})
    header = [str(c) for c in table.columns]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]) for c in table.columns]
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "| " + " | ".join("---:" if n else ":---" for n in numeric) + " |",
    ]
    for row in table.itertuples(index=False):
        cells = [_format_cell(v, formats.get(c), missing_label) for c, v in zip(table.columns, row)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    fence = "````"
    text = "\n".join([
        f"{fence}{{table}} {escape_markdown(caption)}",
        f":name: tbl-{name}",
        "",
        *lines,
        fence,
        "",
        _download_line(csv, TABLE_DOWNLOAD_TEXT),
        "",
    ])
    log.info("published table %s (%d rows)", csv, len(df))
    return Markdown(text)
