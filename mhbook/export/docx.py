"""Write an ExportDocument as a Word file with python-docx.

Structure: an A4 page with a header (the book's title) and a footer ("Page N of M", Word
fields), a title page (book title, area, data period, credit, and a contents list whose
entries link to the chapters), then each chapter from a new page. Site headings become Word headings (chapter titles ``Heading 1``),
so the navigation pane and screen readers see the same outline as the site. Figures are
pictures whose Word alt text (``descr``) is the site's alt text, followed by the caption
and the same description as visible text; tables are real Word tables with a repeating
header row and their caption above; their columns fit their contents (Word's autofit), so
words are not broken inside a cell. Links to the web are real hyperlinks. Pictures are scaled
to the text column and to at most ``MAX_FIGURE_HEIGHT_IN``, and kept on one page with their
caption.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from bs4 import NavigableString, Tag
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Inches, Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from mhbook.export.document import ExportDocument

log = logging.getLogger(__name__)

#: A4, in millimetres, and the margins of every page.
PAGE_MM = (210, 297)
MARGIN_MM = 20
#: Widest a figure is placed, in inches (the A4 text column: 170 mm).
MAX_FIGURE_WIDTH_IN = 6.6
#: Tallest a figure is placed, in inches, leaving room on its page for the caption.
MAX_FIGURE_HEIGHT_IN = 7.8
#: Type size of table cells.
TABLE_FONT_PT = 8
#: Tables of more columns than this go on landscape pages.
WIDE_TABLE_COLUMNS = 9
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}
_SPACES = re.compile(r"\s+")


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


@functools.cache
def _run_format(bold: bool, italic: bool, mono: bool) -> CT_RPr:
    """The run properties (``<w:rPr>``) of text in this format, made once with python-docx."""
    run = Run(OxmlElement("w:r"), None)
    run.bold, run.italic = bold or None, italic or None
    if mono:
        run.font.name = "Courier New"
    return run._r.get_or_add_rPr()


def _add_text(paragraph: Paragraph, text: str, bold: bool, italic: bool, mono: bool) -> None:
    """Append a run holding ``text`` (no tabs or line breaks) to ``paragraph``.

    The same XML as ``Paragraph.add_run(text)`` followed by setting the format, made
    faster: the run properties are a copy of ready-made ones, and the text goes into the
    run's one ``<w:t>`` without being examined a character at a time.
    """
    r = paragraph._p.add_r()
    r.append(copy.deepcopy(_run_format(bold, italic, mono)))
    r.add_t(text)


def _runs(paragraph: Paragraph, node, bold=False, italic=False, mono=False) -> None:
    """Append ``node``'s inline content to ``paragraph`` keeping bold, italic and code."""
    if isinstance(node, NavigableString):
        text = _SPACES.sub(" ", str(node))
        if text:
            _add_text(paragraph, text, bold, italic, mono)
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
    if href and href.startswith(("http://", "https://", "mailto:")):
        _hyperlink(paragraph, href, node.get_text(" ", strip=True) or href)
        return
    if href and href.startswith("#chapter-"):  # another chapter: its bookmark (see write_docx)
        _hyperlink(paragraph, href[1:].replace("-", "_"), node.get_text(" ", strip=True), anchor=True)
        return
    for child in node.children:
        _runs(paragraph, child, bold, italic, mono)


def _hyperlink(paragraph: Paragraph, href: str, text: str, anchor: bool = False) -> None:
    """Append a working link: to ``href`` on the web, or (``anchor``) to a bookmark."""
    link = OxmlElement("w:hyperlink")
    if anchor:
        link.set(qn("w:anchor"), href)
    else:
        link.set(qn("r:id"), paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    r = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0B4F8A")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.extend([style, colour, underline])
    r.append(rpr)
    t = OxmlElement("w:t")
    t.text = " ".join(text.split())
    t.set(qn("xml:space"), "preserve")
    r.append(t)
    link.append(r)
    paragraph._p.append(link)


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    """Make ``paragraph`` the target of internal links to ``name``."""
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _field(paragraph: Paragraph, instruction: str, placeholder: str = "1") -> None:
    """Append a Word field (e.g. PAGE, NUMPAGES) showing ``placeholder`` until updated."""

    def run_with(child):
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    t = OxmlElement("w:t")
    t.text = placeholder
    run_with(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _keep_with_next(paragraph: Paragraph) -> None:
    paragraph.paragraph_format.keep_with_next = True


def setup_pages(doc, header_text: str) -> None:
    """Every section A4 portrait with ``MARGIN_MM`` margins, ``header_text`` in the header
    and "Page N of M" in the footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(MARGIN_MM))
        section.header_distance = section.footer_distance = Mm(9)
        head = section.header.paragraphs[0]
        head.text = header_text
        head.runs[0].font.size = Pt(8)
        foot = section.footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        foot.add_run("Page ")
        _field(foot, "PAGE")
        foot.add_run(" of ")
        _field(foot, "NUMPAGES")
        for run in foot.runs:
            run.font.size = Pt(8)


def _trim(paragraph: Paragraph) -> None:
    """Drop the white space at the start of the first run and the end of the last
    (rewriting only a run that has some: python-docx rewrites text a character at a time)."""
    runs = paragraph.runs
    if not runs:
        return
    for run, strip in ((runs[0], str.lstrip), (runs[-1], str.rstrip)):
        text = run.text
        if strip(text) != text:
            run.text = strip(text)


def _image_path(src: str) -> str:
    """The local file named by an image's ``file:`` URI."""
    return url2pathname(urlsplit(src).path)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


class _Writer:
    """Writes paragraphs, headings and the HTML of chapters into one python-docx Document.

    Style names are resolved to style ids once per document: python-docx would scan all
    of the document's styles again for every styled paragraph.
    """

    def __init__(self, doc) -> None:
        self.doc = doc
        self._style_ids: dict[tuple[str, WD_STYLE_TYPE], str | None] = {}
        self.headings: list[Paragraph] = []  # the level-1 headings, in order
        self.max_figure_height_in = MAX_FIGURE_HEIGHT_IN

    def _style_id(self, name: str, kind: WD_STYLE_TYPE) -> str | None:
        """The id of the style called ``name`` of type ``kind`` (None for the default style)."""
        if (name, kind) not in self._style_ids:
            self._style_ids[name, kind] = self.doc.part.get_style_id(name, kind)
        return self._style_ids[name, kind]

    def paragraph(self, style: str | None = None, text: str = "") -> Paragraph:
        """A new paragraph at the end of the document in paragraph style ``style``
        (a style name; None for the default), holding ``text`` if given."""
        para = self.doc.add_paragraph(text)
        if style is not None:
            para._p.style = self._style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        return para

    def heading(self, text: str, level: int) -> Paragraph:
        """A heading paragraph: style ``Title`` for level 0, else ``Heading <level>``."""
        para = self.paragraph("Title" if level == 0 else f"Heading {level}", text)
        _keep_with_next(para)
        if level == 1:
            self.headings.append(para)
        return para

    def text_paragraph(self, tag: Tag, style: str | None = None) -> None:
        """A paragraph of ``tag``'s inline content."""
        para = self.paragraph(style)
        for child in tag.children:
            _runs(para, child)
        _trim(para)  # the line breaks around HTML tags are not text

    def figure(self, figure: Tag) -> None:
        """A ``<figure>``: its picture with the alt text, caption and text description."""
        for child in figure.find_all(["img", "figcaption", "p"], recursive=True):
            if child.name == "img":
                shape = self.doc.add_picture(_image_path(child["src"]))
                _keep_with_next(self.doc.paragraphs[-1])  # the picture stays with its caption
                ratio = min(
                    1.0, Inches(MAX_FIGURE_WIDTH_IN) / shape.width, Inches(self.max_figure_height_in) / shape.height
                )
                if ratio < 1:
                    shape.width, shape.height = int(shape.width * ratio), int(shape.height * ratio)
                # Word's "alt text" is the picture's docPr descr attribute.
                shape._inline.docPr.set("descr", child.get("alt", ""))
                shape._inline.docPr.set("title", figure.get("id", "figure"))
            elif child.name == "figcaption":
                self.text_paragraph(child, "Caption")
                _keep_with_next(self.doc.paragraphs[-1])
            elif child.name == "p" and "figure-description" in child.get("class", []):
                self.text_paragraph(child)

    def _orient(self, landscape: bool) -> None:
        """Start a new page in a section of that orientation (A4, same margins, header, footer)."""
        from docx.enum.section import WD_SECTION

        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        short, long = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (long, short) if landscape else (short, long)

    def table(self, table: Tag) -> None:
        """A ``<table>`` as a Word table, its caption above and its header rows repeated;
        one of more than ``WIDE_TABLE_COLUMNS`` columns on landscape pages of its own."""
        first = table.find("tr")
        wide = first is not None and len(first.find_all(["th", "td"])) > WIDE_TABLE_COLUMNS
        if wide:
            self._orient(landscape=True)
        self._table(table)
        if wide:
            self._orient(landscape=False)

    def _table(self, table: Tag) -> None:
        caption = table.find("caption")
        if caption is not None:
            self.text_paragraph(caption, "Caption")
            _keep_with_next(self.doc.paragraphs[-1])
        rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
        cells = [[c for c in tr.children if isinstance(c, Tag) and c.name in ("th", "td")] for tr in rows]
        grid = self.doc.add_table(rows=len(rows), cols=max(map(len, cells)))
        grid._tbl.tblStyle_val = self._style_id("Table Grid", WD_STYLE_TYPE.TABLE)
        grid.autofit = True  # columns as wide as their words need: no word broken mid-word
        for col in grid._tbl.tblGrid.gridCol_lst:
            col.w = None
        # Straight to each row's <w:tc> elements, each holding the one empty paragraph of a
        # new cell: Table.cell(r, c) rescans the whole table on every call (quadratic), and
        # _Row.cells with _Cell.paragraphs takes about as long as writing the cell's text.
        for tr, row_cells, row in zip(rows, cells, grid.rows):
            for cell, tc in zip(row_cells, row._tr.tc_lst):
                para = Paragraph(tc.p_lst[0], grid)
                for child in cell.children:
                    _runs(para, child, bold=cell.name == "th")
                for r in para._p.r_lst:
                    r.get_or_add_rPr().sz_val = Pt(TABLE_FONT_PT)
            if tr.find_parent("thead") is not None:
                _repeat_header(row)
        self.doc.add_paragraph()

    def html_list(self, tag: Tag, depth: int = 1) -> None:
        """A ``<ul>`` or ``<ol>`` as list paragraphs, nested lists ``depth`` levels deeper."""
        base = "List Number" if tag.name == "ol" else "List Bullet"
        style = base if depth == 1 else f"{base} {min(depth, 3)}"
        for li in tag.find_all("li", recursive=False):
            para = self.paragraph(style)
            for child in li.children:
                if isinstance(child, Tag) and child.name in ("ul", "ol"):
                    continue
                if isinstance(child, Tag) and child.name == "p":
                    for grandchild in child.children:
                        _runs(para, grandchild)
                else:
                    _runs(para, child)
            for sub in li.find_all(["ul", "ol"], recursive=False):
                self.html_list(sub, depth + 1)

    def blocks(self, node: Tag) -> None:
        """Write ``node``'s block children in order."""
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.strip():
                    self.paragraph(text=" ".join(child.split()))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                self.heading(_text(child), _HEADINGS[name])
            elif name == "p":
                style = "Intense Quote" if "admonition-title" in child.get("class", []) else None
                self.text_paragraph(child, style)
            elif name == "figure":
                self.figure(child)
            elif name == "table":
                self.table(child)
            elif name in ("ul", "ol"):
                self.html_list(child)
            elif name == "dl":
                for item in child.find_all(["dt", "dd"], recursive=False):
                    _runs(self.paragraph(), item, bold=item.name == "dt")
            elif name == "pre":
                run = self.paragraph().add_run(child.get_text())
                run.font.name, run.font.size = "Courier New", Pt(9)
            elif name not in ("img", "hr"):  # sections, cells, admonitions: their contents
                self.blocks(child)


def write_docx(document: ExportDocument, path: Path) -> Path:
    """Write ``document`` to ``path`` (.docx) and return ``path``."""
    doc = Document()
    props = doc.core_properties
    props.title, props.subject = document.title, document.subtitle
    props.author, props.language = "mhbook", "en-GB"
    setup_pages(doc, f"{document.title} ({document.area.code})")
    writer = _Writer(doc)
    writer.heading(document.title, 0)
    writer.paragraph("Subtitle", document.subtitle)
    writer.paragraph(text=f"Data period: {document.data_period} (each dataset's period is listed under Sources).")
    writer.paragraph(text=document.credit)
    writer.paragraph().add_run("Contents").bold = True
    for i, chapter in enumerate(document.chapters, 1):
        _hyperlink(writer.paragraph("List Number"), f"chapter_{i}", chapter.title, anchor=True)
    for i, chapter in enumerate(document.chapters, 1):
        writer.paragraph().add_run().add_break(WD_BREAK.PAGE)
        seen = len(writer.headings)
        writer.blocks(chapter.body)
        if len(writer.headings) > seen:
            _bookmark(writer.headings[seen], f"chapter_{i}", i)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    log.info("wrote %s (%d chapters)", path, len(document.chapters))
    return path


#: Tallest a chart is placed in a board brief, in inches (about a third of the page).
BRIEF_FIGURE_HEIGHT_IN = 3.1
#: Type size of a brief's text (Word's default is 11 pt).
BRIEF_FONT_PT = 10


def write_brief_docx(document: ExportDocument, path: Path) -> Path:
    """Write a board brief (``mhbook.export.brief.read_brief``) to ``path`` (.docx): A4,
    the title and period at the top, no title page, charts a third of a page high."""
    doc = Document()
    props = doc.core_properties
    props.title, props.subject = document.title, document.subtitle
    props.author, props.language = "mhbook", "en-GB"
    setup_pages(doc, f"{document.title} ({document.area.code})")
    doc.styles["Normal"].font.size = Pt(BRIEF_FONT_PT)  # four pages at most, as the PDF
    writer = _Writer(doc)
    writer.max_figure_height_in = BRIEF_FIGURE_HEIGHT_IN
    writer.heading(document.title, 0)
    writer.paragraph(
        "Subtitle", f"{document.area.name} ({document.area.code}): mental health data for {document.data_period}"
    )
    writer.paragraph(text=document.credit)
    for chapter in document.chapters:
        writer.blocks(chapter.body)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    log.info("wrote %s (board brief)", path)
    return path
