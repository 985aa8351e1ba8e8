"""The Word and PDF documents of a real area, opened and compared with its site.

The site and both documents are built from the data mirror by ``tests/browser/site.py``
(shared with the browser tests). The documents are read back with python-docx and pypdf
and checked against the site's own HTML: chapter headings, number of figures and tables,
alt text, table cells, and every glued number.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from browser.site import AREA, built_site
from mhbook import areas, export
from mhbook.cli import main
from mhbook.export.document import SiteError, clean_article, page_order, read_site
from mhbook.export.docx import _image_path


def _squash(text: str) -> str:
    """Whitespace-insensitive text (PDF extraction breaks lines where the layout does)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_site(tmp_path_factory)


@pytest.fixture(scope="module")
def pages(site) -> dict[str, BeautifulSoup]:
    """Each chapter page of the site, as the reader's browser receives it."""
    folder = site / AREA
    return {p: BeautifulSoup((folder / p).read_text("utf-8"), "html.parser") for p in page_order(folder)}


def _chapter_titles(pages) -> list[str]:
    return [_text(s.select_one("article h1")) for s in pages.values()]


def _glued(soup: BeautifulSoup) -> list[str]:
    return [g.get_text(strip=True) for g in soup.select("article .pasted-text")]


def _text(tag) -> str:
    """A tag's text as the reader sees it: without the '#' of its permalink, spaces collapsed."""
    for link in tag.select("a.headerlink"):
        link.extract()
    return " ".join(tag.get_text(" ", strip=True).split())


@pytest.fixture(scope="module")
def doc(site):
    import docx

    return docx.Document(str(export.download_path(site / AREA, "docx")))


@pytest.fixture(scope="module")
def pdf(site):
    from pypdf import PdfReader

    return PdfReader(str(export.download_path(site / AREA, "pdf")))


@pytest.mark.mirror
@pytest.mark.slow
class TestWord:
    def test_title_page_names_the_area_and_data_period(self, doc):
        first = [p.text for p in doc.paragraphs[:4]]
        assert doc.paragraphs[0].style.name == "Title"
        assert "Oldham" in first[0]
        assert "Oldham (E08000004)" in first[1]
        assert re.match(r"Data period: 20\d\d( to 20\d\d)? ", first[2]), first[2]

    def test_headings_are_the_site_chapters(self, doc, pages):
        heading1 = [" ".join(p.text.split()) for p in doc.paragraphs if p.style.name == "Heading 1"]
        assert heading1 == _chapter_titles(pages)
        site_h2 = [
            _text(h)
            for s in pages.values()
            for h in s.select("article h2")
            if not h.find_parent("nav", class_="mhbook-downloads")
        ]  # links to the documents themselves
        doc_h2 = [" ".join(p.text.split()) for p in doc.paragraphs if p.style.name == "Heading 2"]
        assert doc_h2 == site_h2

    def test_every_figure_with_its_alt_text_and_caption(self, doc, pages):
        site_alts = [img["alt"] for s in pages.values() for img in s.select("article figure img")]
        doc_alts = [shape._inline.docPr.get("descr") for shape in doc.inline_shapes]
        assert len(site_alts) > 0
        assert doc_alts == site_alts
        captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
        for s in pages.values():
            for cap in s.select("article figcaption"):
                assert any(_text(cap) in " ".join(c.split()) for c in captions), _text(cap)

    def test_tables_are_real_tables_with_the_site_cells(self, doc, pages):
        site_tables = [t for s in pages.values() for t in s.select("article table")]
        assert len(doc.tables) == len(site_tables) > 0
        for ours, theirs in zip(doc.tables, site_tables):
            cells = [[_text(c) for c in tr.find_all(["th", "td"])] for tr in theirs.find_all("tr")]
            assert [[" ".join(c.text.split()) for c in row.cells] for row in ours.rows] == cells
        # The sources, with their licences, are among them.
        assert any("licence" in [c.text for c in t.rows[0].cells] for t in doc.tables)

    def test_glued_numbers_match_the_site(self, doc, pages):
        text = _squash("\n".join(p.text for p in doc.paragraphs))
        glued = [g for s in pages.values() for g in _glued(s)]
        assert glued, "the site has no glued values"
        missing = [g for g in glued if _squash(g) not in text]
        assert not missing, f"glued values on the site but not in the Word file: {missing}"


@pytest.mark.mirror
@pytest.mark.slow
class TestPdf:
    def test_one_page_or_more_per_chapter(self, pdf, pages):
        header = _squash(f"Mental health inequalities: Oldham ({AREA})")
        # Each page's text without its running header and "Page N of M" footer.
        texts = [re.sub(r"Page\d+of\d+", "", _squash(p.extract_text()).replace(header, "", 1)) for p in pdf.pages]
        starts = []
        for title in _chapter_titles(pages):
            found = [i for i, t in enumerate(texts) if t.startswith(_squash(title))]
            assert found, f"no page of the PDF starts with the chapter '{title}'"
            starts.append(found[0])
        assert starts == sorted(set(starts)) and starts[0] >= 1  # after the title page, in order
        assert len(pdf.pages) >= len(starts) + 1

    def test_pages_are_a4_and_numbered(self, pdf):
        for number, page in enumerate(pdf.pages, 1):
            size_mm = sorted(round(float(v) * 25.4 / 72) for v in (page.mediabox.width, page.mediabox.height))
            assert size_mm == [210, 297], f"page {number} is {size_mm} mm"
            assert f"Page{number}of{len(pdf.pages)}" in _squash(page.extract_text())

    def test_text_has_the_area_and_the_glued_numbers(self, pdf, pages):
        """Every number glued into any chapter (the summary's among them) is in the PDF."""
        text = _squash("\n".join(p.extract_text() for p in pdf.pages))
        assert _squash("Mental health inequalities: Oldham") in text
        numbers = [(page, n) for page, s in pages.items() for n in _glued(s)]
        assert numbers, "the site glues no numbers"
        missing = [f"{page}: {n}" for page, n in numbers if _squash(n) not in text]
        assert not missing, f"glued numbers missing from the PDF: {missing}"


@pytest.mark.mirror
@pytest.mark.slow
def test_cli_exports_to_a_chosen_file(site, tmp_path):
    target = tmp_path / "oldham.docx"
    with pytest.raises(SystemExit) as done:
        main(["export", AREA, "--format", "docx", "--out", str(site), "--to", str(target)])
    assert done.value.code in (0, None)
    assert target.read_bytes()[:2] == b"PK"


def test_images_are_file_uris_that_lead_back_to_their_files(tmp_path):
    """The print page loads each image from its file: URI; the Word writer reads the same file."""
    name = "fig 1 #2 100% ü.png"
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / name).write_bytes(b"")
    article = BeautifulSoup(f'<article><img src="_images/{quote(name)}"></article>', "html.parser").article
    src = clean_article(article, tmp_path).img["src"]
    assert src.startswith("file:///")
    assert Path(_image_path(src)) == (tmp_path / "_images" / name).resolve()


def test_missing_site_is_a_clear_error(synthetic_mirror, tmp_path):
    area = areas.get("E06900001")  # a synthetic area: no data needed
    with pytest.raises(SiteError, match=r"E06900001.*index\.html is missing: build the area's site first"):
        read_site(tmp_path / area.code, area)


def test_unknown_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["export", AREA, "--format", "odt", "--out", str(tmp_path)])
    assert done.value.code == 2
    assert "--format must be one of ['docx', 'pdf']" in capsys.readouterr().err
