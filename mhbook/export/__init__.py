"""Word and PDF documents of an area's book, made from its built site.

    export_area(area, out, "docx")   ->  <out>/<code>/downloads/mental-health-inequalities.docx

The site (``<out>/<area code>``, from ``mhbook build``) is read by
``mhbook.export.document.read_site``; ``docx.write_docx`` (python-docx) and
``pdf.write_pdf`` (headless Chromium) write the files. Documents go inside the site, in
the ``downloads/`` folder that every page links to (``mhbook.site.DOWNLOADS``), unless
another destination is given.
"""

from __future__ import annotations

from pathlib import Path

from mhbook.areas import Area
from mhbook.export.document import ExportDocument, SiteError, read_site
from mhbook.export.docx import write_docx
from mhbook.export.pdf import ConverterError, write_pdf
from mhbook.site import DOWNLOADS

FORMATS = tuple(DOWNLOADS)
WRITERS = {"docx": write_docx, "pdf": write_pdf}

__all__ = ["FORMATS", "WRITERS", "ConverterError", "ExportDocument", "SiteError", "download_path", "export_area", "read_site"]


def download_path(site: Path, fmt: str) -> Path:
    """Where the site's pages expect the ``fmt`` document of their area."""
    return site / DOWNLOADS[fmt]


def export_area(area: Area, out: Path, fmt: str, dest: Path | None = None) -> Path:
    """Write ``area``'s book as ``fmt`` ("docx" or "pdf") from its site in ``out/<code>``.

    Returns the file written: ``dest`` if given, else the site's download path.
    Raises SiteError when the site is missing or incomplete, ConverterError when
    Chromium cannot print the PDF.
    """
    if fmt not in WRITERS:
        raise ValueError(f"export format {fmt!r}: expected one of {list(WRITERS)}")
    site = Path(out) / area.code
    document = read_site(site, area)
    return WRITERS[fmt](document, Path(dest) if dest else download_path(site, fmt))
