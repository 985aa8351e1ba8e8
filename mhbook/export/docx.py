"""Write an ExportDocument as a Word file with python-docx.

Structure: a title page (book title, area, data period, credit, contents), then each
chapter from a new page. Site headings become Word headings (chapter titles ``Heading 1``),
so the navigation pane and screen readers see the same outline as the site. Figures are
pictures whose Word alt text (``descr``) is the site's alt text, followed by the caption
and the same description as visible text; tables are real Word tables with a repeating
header row and their caption above.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from bs4 import NavigableString, Tag
from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from mhbook.export.document import ExportDocument

log = logging.getLogger(__name__)

#: Widest a figure is placed, in inches (A4 text column with the default margins).
MAX_FIGURE_WIDTH_IN = 6.0
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _runs(paragraph, node, bold=False, italic=False, mono=False) -> None:
    """Append ``node``'s inline content to ``paragraph`` keeping bold, italic and code."""
    if isinstance(node, NavigableString):
        text = re.sub(r"\s+", " ", str(node))
        if text:
            run = paragraph.add_run(text)
            run.bold, run.italic = bold or None, italic or None
            if mono:
                run.font.name = "Courier New"
        return
    if not isinstance(node, Tag):
        return
    if node.name == "br":
        paragraph.add_run().add_break()
        return
    bold = bold or node.name in ("strong", "b", "th")
    italic = italic or node.name in ("em", "i")
    mono = mono or node.name in ("code", "kbd", "samp")
    href = node.get("href") if node.name == "a" else None
    for child in node.children:
        _runs(paragraph, child, bold, italic, mono)
    if href and href.startswith(("http://", "https://")) and href not in node.get_text():
        paragraph.add_run(f" ({href})")


def _paragraph(doc, tag: Tag, style: str | None = None) -> None:
    para = doc.add_paragraph(style=style)
    for child in tag.children:
        _runs(para, child)
    if para.runs:  # the line breaks around HTML tags are not text
        para.runs[0].text = para.runs[0].text.lstrip()
        para.runs[-1].text = para.runs[-1].text.rstrip()


def _figure(doc, figure: Tag) -> None:
    for child in figure.find_all(["img", "figcaption", "p"], recursive=True):
        if child.name == "img":
            shape = doc.add_picture(child["src"])
            if shape.width > Inches(MAX_FIGURE_WIDTH_IN):
                ratio = Inches(MAX_FIGURE_WIDTH_IN) / shape.width
                shape.width, shape.height = Inches(MAX_FIGURE_WIDTH_IN), int(shape.height * ratio)
            # Word's "alt text" is the picture's docPr descr attribute.
            shape._inline.docPr.set("descr", child.get("alt", ""))
            shape._inline.docPr.set("title", figure.get("id", "figure"))
        elif child.name == "figcaption":
            _paragraph(doc, child, "Caption")
        elif child.name == "p" and "figure-description" in child.get("class", []):
            _paragraph(doc, child)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _table(doc, table: Tag) -> None:
    caption = table.find("caption")
    if caption is not None:
        _paragraph(doc, caption, "Caption")
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    width = max(len(tr.find_all(["th", "td"], recursive=False)) for tr in rows)
    grid = doc.add_table(rows=len(rows), cols=width)
    grid.style = "Table Grid"
    # Row by row: Table.cell(r, c) rescans the whole table on every call (quadratic).
    for tr, row in zip(rows, grid.rows):
        for cell, target in zip(tr.find_all(["th", "td"], recursive=False), row.cells):
            for child in cell.children:
                _runs(target.paragraphs[0], child, bold=cell.name == "th")
        if tr.find_parent("thead") is not None:
            _repeat_header(row)
    doc.add_paragraph()


def _list(doc, tag: Tag, depth: int = 1) -> None:
    base = "List Number" if tag.name == "ol" else "List Bullet"
    style = base if depth == 1 else f"{base} {min(depth, 3)}"
    for li in tag.find_all("li", recursive=False):
        para = doc.add_paragraph(style=style)
        for child in li.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                continue
            if isinstance(child, Tag) and child.name == "p":
                for grandchild in child.children:
                    _runs(para, grandchild)
            else:
                _runs(para, child)
        for sub in li.find_all(["ul", "ol"], recursive=False):
            _list(doc, sub, depth + 1)


def _blocks(doc, node: Tag) -> None:
    """Write ``node``'s block children in order."""
    for child in node.children:
        if isinstance(child, NavigableString):
            if child.strip():
                doc.add_paragraph(" ".join(child.split()))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _HEADINGS:
            doc.add_heading(_text(child), level=_HEADINGS[name])
        elif name == "p":
            style = "Intense Quote" if "admonition-title" in child.get("class", []) else None
            _paragraph(doc, child, style)
        elif name == "figure":
            _figure(doc, child)
        elif name == "table":
            _table(doc, child)
        elif name in ("ul", "ol"):
            _list(doc, child)
        elif name == "dl":
            for item in child.find_all(["dt", "dd"], recursive=False):
                para = doc.add_paragraph()
                _runs(para, item, bold=item.name == "dt")
        elif name == "pre":
            para = doc.add_paragraph()
            run = para.add_run(child.get_text())
            run.font.name, run.font.size = "Courier New", Pt(9)
        elif name not in ("img", "hr"):  # sections, cells, admonitions: their contents
            _blocks(doc, child)


def write_docx(document: ExportDocument, path: Path) -> Path:
    """Write ``document`` to ``path`` (.docx) and return ``path``."""
    doc = Document()
    props = doc.core_properties
    props.title, props.subject = document.title, document.subtitle
    props.author, props.language = "mhbook", "en-GB"
    doc.add_heading(document.title, level=0)
    doc.add_paragraph(document.subtitle, style="Subtitle")
    doc.add_paragraph(f"Data period: {document.data_period} (each dataset's period is listed under Sources).")
    doc.add_paragraph(document.credit)
    doc.add_paragraph().add_run("Contents").bold = True
    for chapter in document.chapters:
        doc.add_paragraph(chapter.title, style="List Number")
    for chapter in document.chapters:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _blocks(doc, chapter.body)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    log.info("wrote %s (%d chapters)", path, len(document.chapters))
    return path
