"""Word and PDF documents of an area's book, made from its built site.

    export_area(area, out, "docx")   ->  <out>/<code>/downloads/mental-health-inequalities.docx

The site (``<out>/<area code>``, from ``mhbook build``) is read by
``mhbook.export.document.read_site``; ``docx.write_docx`` (python-docx) and
``pdf.write_pdf`` (headless Chromium) write the files. Documents go inside the site, in
the ``downloads/`` folder that every page links to (``mhbook.site.DOWNLOADS``), unless
another destination is given.
"""

from __future__ import annotations

import errno
import glob
import time
from pathlib import Path

from mhbook import atomic
from mhbook.areas import Area
from mhbook.errors import ConverterError, OutputError, SiteError
from mhbook.export.document import ExportDocument, read_site
from mhbook.export.docx import write_docx
from mhbook.export.pdf import write_pdf
from mhbook.site import DOWNLOADS

FORMATS = tuple(DOWNLOADS)
WRITERS = {"docx": write_docx, "pdf": write_pdf}

__all__ = [
    "FORMATS",
    "WRITERS",
    "ConverterError",
    "ExportDocument",
    "SiteError",
    "download_path",
    "export_area",
    "read_site",
]


def download_path(site: Path, fmt: str) -> Path:
    """Where the site's pages expect the ``fmt`` document of their area."""
    return site / DOWNLOADS[fmt]


def export_area(area: Area, out: Path, fmt: str, dest: Path | None = None) -> Path:
    """Write ``area``'s book as ``fmt`` ("docx" or "pdf") from its site in ``out/<code>``.

    Returns the file written: ``dest`` if given, else the site's download path. The
    document is written to a temporary file beside it and renamed into place, so an
    interrupted or failed export leaves the previous document whole.
    Raises SiteError when the site is missing or incomplete, ConverterError when
    Chromium cannot print the PDF, OutputError when the destination cannot be written.
    """
    if fmt not in WRITERS:
        raise ValueError(f"export format {fmt!r}: expected one of {list(WRITERS)}")
    site = Path(out) / area.code
    target = Path(dest) if dest else download_path(site, fmt)
    if target.is_dir():
        raise OutputError(
            f"--to {target} is a folder: name the file to write, for example {target / Path(DOWNLOADS[fmt]).name}"
        )
    document = read_site(site, area)
    return write_atomic(target, lambda tmp: WRITERS[fmt](document, tmp))


def write_atomic(target: Path, write) -> Path:
    """Call ``write(tmp)`` with a temporary path beside ``target`` (``.<name>.<random>.part<ext>``),
    then rename it to ``target`` (``mhbook.atomic.write_file``, flushed to disk first). The
    old ``target`` stays whole until the new file is complete; on any failure the temporary
    file is removed. An OS error becomes an ``OutputError`` naming ``target``.
    """
    target = Path(target)
    try:
        _remove_stale_parts(target)
        return atomic.write_file(target, write, sync=True, suffix=".part" + target.suffix)
    except OSError as exc:
        raise OutputError(_os_message(target, exc)) from exc


#: A temporary document older than this (seconds) was left by a killed export.
STALE_PART_S = 3600


def _remove_stale_parts(target: Path) -> None:
    """Remove temporary files of ``target`` left by exports that were killed mid-write."""
    now = time.time()
    for part in target.parent.glob(f".{glob.escape(target.name)}.*.part*"):
        try:
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
        except OSError:
            continue


def _os_message(target: Path, exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        hint = "free some space on that device or write elsewhere (--to)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose a writable location (--to)"
    else:
        hint = "check the path and try again"
    return f"cannot write {target}: {what}; the previous file (if any) is unchanged: {hint}"
