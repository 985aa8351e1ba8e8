"""The board brief: A4, at most four pages, page numbers, header, the area and the period.

The first tests make the brief from a SYNTHETIC summary (sentences, the barrier, gaps and
ratio tables, a chart) written by the tests; the last reads a real area's built site
(``tests/browser/site.py``, needs the mirror). PDF tests need Chromium.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from browser.site import CHROMIUM, require_tools
from mhbook.areas import Area
from mhbook.export import brief
from mhbook.export.document import Chapter, ExportDocument

SYNTHETIC_AREA = Area("E06999999", "Synthetica", "E12999999", "Nowhere", (), ())
A4_MM = (210, 297)


def _table(name: str, head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f"<table id='tbl-{name}'><caption><span class='caption-number'>Table 9 </span>"
        f"<span class='caption-text'>Synthetic {name}</span></caption>"
        f"<thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    )


def synthetic_site_document(tmp_path: Path) -> ExportDocument:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.bar(["a", "b"], [1, 2])
    png = tmp_path / "chart.png"
    fig.savefig(png, dpi=100)
    plt.close(fig)
    barriers = _table(
        "barriers-against-england",
        ["barrier", "measure", "period", "value", "95% limits", "England", "against England"],
        [
            ["need", "synthetic prevalence", "2017", "20.5", "", "19.0", "Not compared"],
            ["access", "synthetic referrals", "2024-25", "4,276", "4,241 to 4,311", "4,091", "Higher"],
            ["coercion", "synthetic detentions", "2023-24", "95", "91 to 100", "91", "Similar"],
        ],
    )
    gaps = _table(
        "outcome-gaps",
        ["characteristic", "group", "measure", "people", "group value", "overall value", "gap (percentage points)"],
        [["Age", "Synthetic group A", "recovery (%)", "260", "40.4", "50.5", "-10.1"]],
    )
    ratios = _table(
        "widest-gaps",
        ["where", "group", "barrier", "ratio to whole population"],
        [["England", "Synthetic decile 1", "access", "1.49"]] * 8,
    )
    body = BeautifulSoup(
        "<article><h1>Summary</h1><dl><dt>Need</dt><dd><p>Synthetic need sentence.</p></dd>"
        "<dt>Access</dt><dd><p>Synthetic access sentence.</p></dd></dl>"
        f"{barriers}{gaps}{ratios}"
        f"<figure id='fig-triple-barrier-local'><img src='{png.resolve().as_uri()}' alt='Synthetic chart'>"
        "<figcaption><p><span class='caption-number'>Fig. 3 </span>Synthetic chart caption.</p></figcaption>"
        "<p class='figure-description'>Text description: Synthetic chart</p></figure></article>",
        "html.parser",
    ).article
    return ExportDocument(
        title="Mental health inequalities: Synthetica",
        area=SYNTHETIC_AREA,
        data_period="2013 to 2025",
        built=dt.date(2026, 12, 1),
        site=tmp_path,
        chapters=[Chapter("Summary", "summary.html", body)],
    )


@pytest.fixture
def synthetic_brief(tmp_path) -> ExportDocument:
    return brief.read_brief(tmp_path, SYNTHETIC_AREA, full=synthetic_site_document(tmp_path))


def test_brief_names_the_area_and_its_mental_health_period(synthetic_brief, monkeypatch):
    assert "Synthetica" in synthetic_brief.title
    assert synthetic_brief.data_period == "2024-25 and 2023-24 (need estimates 2017)"
    text = synthetic_brief.chapters[0].body.get_text(" ", strip=True)
    for part in (
        "Key findings",
        "Synthetic access sentence",
        "The triple barrier",
        "Advancing Mental Health Equalities",
        "Synthetic group A",
        "The full site",
    ):
        assert part in text
    assert "Table 9" not in text and "Fig. 3" not in text  # the site's numbering is not the brief's
    monkeypatch.setenv(brief.SITE_URL_ENV, "https://example.org/mhbook")
    assert brief.site_address(SYNTHETIC_AREA) == "https://example.org/mhbook/E06999999/"


def test_brief_word_document_is_a4_with_page_numbers_and_header(synthetic_brief, tmp_path):
    import docx

    path = brief.WRITERS["docx"](synthetic_brief, tmp_path / "brief.docx")
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == A4_MM
    assert "PAGE" in section.footer._element.xml and "NUMPAGES" in section.footer._element.xml
    assert "Synthetica" in section.header.paragraphs[0].text
    assert "Synthetica" in doc.paragraphs[0].text and "2024-25" in doc.paragraphs[1].text
    assert len(doc.inline_shapes) == 1 and len(doc.tables) == 2  # barriers and ratios


def _check_pdf(path: Path, area_name: str) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = reader.pages
    assert 1 <= len(pages) <= 4, f"the brief has {len(pages)} pages"
    for number, page in enumerate(pages, 1):
        width_mm, height_mm = (float(v) * 25.4 / 72 for v in (page.mediabox.width, page.mediabox.height))
        assert (round(width_mm), round(height_mm)) == A4_MM
        text = " ".join(page.extract_text().split())
        assert f"Page {number} of {len(pages)}" in text
        assert f"Mental health inequalities in {area_name}: board brief" in text  # header on every page


def test_brief_pdf_is_a4_numbered_and_short(synthetic_brief, tmp_path):
    require_tools(CHROMIUM)
    _check_pdf(brief.WRITERS["pdf"](synthetic_brief, tmp_path / "brief.pdf"), "Synthetica")


@pytest.mark.mirror
@pytest.mark.slow
def test_real_area_brief_is_linked_a4_and_at_most_four_pages(tmp_path_factory):
    import docx

    from browser.site import AREA, built_site
    from mhbook import areas
    from mhbook.site import BRIEF_DOWNLOADS

    site = built_site(tmp_path_factory) / AREA
    area = areas.get(AREA)
    _check_pdf(site / BRIEF_DOWNLOADS["brief-pdf"], area.name)
    doc = docx.Document(str(site / BRIEF_DOWNLOADS["brief-docx"]))
    assert (round(doc.sections[0].page_width.mm), round(doc.sections[0].page_height.mm)) == A4_MM
    assert area.name in doc.paragraphs[0].text
    page = (site / "summary.html").read_text("utf-8")
    assert BRIEF_DOWNLOADS["brief-pdf"] in page and BRIEF_DOWNLOADS["brief-docx"] in page
