"""The full chapter documents on paper: A4 in Word and PDF, page numbers, a contents list
whose entries link to the chapters, figures within the page and table words kept whole.

The documents here are made from a SYNTHETIC two-chapter ExportDocument built by the tests
(a picture drawn by Matplotlib, a wide table of long words); the PDF tests need Chromium.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browser.site import CHROMIUM, require_tools
from mhbook.areas import Area
from mhbook.export.document import Chapter, ExportDocument

SYNTHETIC_AREA = Area("E06999999", "Synthetica", "E12999999", "Nowhere", (), ())
A4_MM = (210, 297)


def _picture(path: Path, size=(4, 9)) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)  # a tall synthetic chart: must be scaled to the page
    ax.plot([1, 2, 3], [3, 1, 2])
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def synthetic_document(tmp_path: Path) -> ExportDocument:
    png = _picture(tmp_path / "tall.png")
    words = " ".join(["Integrated", "organisation", "improvement"])
    cells = "<th>Supercalifragilistic</th>" + "".join(f"<th>{words} {i}</th>" for i in range(11))
    row = "<tr><td>Supercalifragilistic</td>" + "".join(f"<td>{words}</td>" for _ in range(11)) + "</tr>"
    chapters = []
    for i, title in enumerate(["First synthetic chapter", "Second synthetic chapter"], 1):
        body = BeautifulSoup(
            f"<article class='bd-article'><section><h1>{title}</h1>"
            "<p>Synthetic text with a <a href='https://example.org/'>link to the web</a> and "
            "<a href='#chapter-2'>one to the second chapter</a>.</p>"
            f"<figure><img src='{png.resolve().as_uri()}' alt='A synthetic tall chart'>"
            "<figcaption><p>A synthetic caption.</p></figcaption></figure>"
            f"<table><thead><tr>{cells}</tr></thead><tbody>{row * 3}</tbody></table>"
            + "<p>More synthetic text.</p>" * 30
            + "</section></article>",
            "html.parser",
        ).article
        chapters.append(Chapter(title=title, page=f"page{i}.html", body=body))
    return ExportDocument(
        title="Mental health inequalities: Synthetica",
        area=SYNTHETIC_AREA,
        data_period="2013 to 2025",
        built=dt.date(2026, 12, 1),
        site=tmp_path,
        chapters=chapters,
    )


def test_word_document_is_a4_with_page_numbers_contents_links_and_fitted_figures(tmp_path):
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Inches

    from mhbook.export.docx import MAX_FIGURE_HEIGHT_IN, MAX_FIGURE_WIDTH_IN, write_docx

    path = write_docx(synthetic_document(tmp_path), tmp_path / "book.docx")
    doc = docx.Document(str(path))
    for section in doc.sections:
        assert sorted((round(section.page_width.mm), round(section.page_height.mm))) == sorted(A4_MM)
        footer = section.footer._element.xml
        assert "PAGE" in footer and "NUMPAGES" in footer, "no page number field in the footer"
        assert "Synthetica" in section.header.paragraphs[0].text
        text_width = section.page_width - section.left_margin - section.right_margin
        text_height = section.page_height - section.top_margin - section.bottom_margin
    body = doc.element.body
    anchors = {h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink")) if h.get(qn("w:anchor"))}
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert anchors == {"chapter_1", "chapter_2"} and anchors <= bookmarks, "contents entries must link to chapters"
    external = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert "https://example.org/" in external
    shapes = doc.inline_shapes
    assert len(shapes) == 2
    for shape in shapes:
        assert shape.width <= min(text_width, Inches(MAX_FIGURE_WIDTH_IN)) + 1
        assert shape.height <= min(text_height, Inches(MAX_FIGURE_HEIGHT_IN)) + 1
    for table in doc.tables:
        assert table.autofit, "table columns must fit their words"


@pytest.fixture
def pdf_reader(tmp_path):
    require_tools(CHROMIUM)
    from pypdf import PdfReader

    from mhbook.export.pdf import write_pdf

    return PdfReader(str(write_pdf(synthetic_document(tmp_path), tmp_path / "book.pdf")))


def test_pdf_is_a4_with_page_numbers_and_contents_links(pdf_reader):
    pages = pdf_reader.pages
    assert len(pages) >= 3
    for page in pages:
        width_mm, height_mm = (float(v) * 25.4 / 72 for v in (page.mediabox.width, page.mediabox.height))
        assert sorted((round(width_mm), round(height_mm))) == sorted(A4_MM)  # portrait, or landscape for wide tables
    texts = [" ".join(p.extract_text().split()) for p in pages]
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {len(pages)}" in text, f"page {number} has no page number"
    assert "Synthetica" in texts[1]  # the running header
    links = [a.get_object() for a in pages[0].get("/Annots", [])]
    internal = [
        a
        for a in links
        if a.get("/Subtype") == "/Link" and "/Dest" in a or ("/A" in a and a["/A"].get("/S") == "/GoTo")
    ]
    assert len(internal) >= 2, "the contents entries must link to the chapters"


def test_pdf_table_words_are_not_broken(pdf_reader):
    text = " ".join(p.extract_text() for p in pdf_reader.pages)
    assert "Supercalifragilistic" in re.sub(r"\s+", " ", text), "a long word was broken inside a table cell"
    assert not re.search(r"Supercalifrag\s*\n", text)


def test_word_puts_wide_tables_on_landscape_pages(tmp_path):
    import docx

    from mhbook.export.docx import write_docx

    doc = docx.Document(str(write_docx(synthetic_document(tmp_path), tmp_path / "book.docx")))
    shapes = [(round(s.page_width.mm), round(s.page_height.mm)) for s in doc.sections]
    assert (297, 210) in shapes and shapes[0] == A4_MM and shapes[-1] == A4_MM


def test_printed_tables_fit_the_page_without_breaking_words(tmp_path):
    """Measured in Chromium with print media: each table's narrowest layout (words whole,
    only hashes, paths and URLs breakable) fits its page: portrait, or landscape if wide."""
    from browser.site import chromium
    from mhbook.export.pdf import to_html

    document = synthetic_document(tmp_path)
    cell = "<td>https://example.org/a/very/long/synthetic/path/to/a/file.csv " + "0123456789abcdef" * 4 + "</td>"
    document.chapters[0].body.find("table").find("tbody").append(
        BeautifulSoup(f"<tr>{cell * 12}</tr>", "html.parser").tr
    )
    document.chapters[1].body.find("table").replace_with(
        BeautifulSoup(
            f"<table><tr><th>id</th><th>download</th></tr><tr><td>synthetic</td>{cell}</tr></table>", "html.parser"
        ).table
    )
    page = tmp_path / "print.html"
    page.write_text(to_html(document), "utf-8")
    with chromium() as driver:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        driver.set_window_size(int(178 / 25.4 * 96) + 16, 1000)  # the A4 portrait text column
        driver.get(page.as_uri())
        too_wide = driver.execute_script("""
            const column = document.body.clientWidth, out = [];
            for (const t of document.querySelectorAll('table')) {
              const room = t.closest('.landscape') ? column * 265 / 178 : column;
              t.style.width = 'min-content';
              if (t.getBoundingClientRect().width > room + 1) out.push(t.getBoundingClientRect().width);
            }
            return out;""")
    assert too_wide == []


def test_links_between_chapters_point_inside_the_document(tmp_path):
    from mhbook.export.document import clean_article

    article = BeautifulSoup(  # SYNTHETIC
        "<article><p><a class='reference internal' href='claims.html#verdicts'>the claims</a>, "
        "<a class='reference download internal' href='_downloads/x/data.csv'>CSV</a></p></article>",
        "html.parser",
    ).article
    cleaned = clean_article(article, tmp_path, {"summary.html": 1, "claims.html": 2})
    assert cleaned.find("a")["href"] == "#chapter-2"
    assert "data.csv, on the area's site" in cleaned.get_text()
