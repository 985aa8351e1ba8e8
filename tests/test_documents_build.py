"""Documents appear when they can: which documents a site has is part of its build key.

The book is the SYNTHETIC two-notebook project of ``test_build_cache`` (synthetic areas
and catalogue, so no data mirror is needed; real execution and Sphinx). Chromium's
absence is simulated by naming a browser that does not exist (``MHBOOK_CHROMIUM``, which
the spawned build workers inherit, and ``pdf.CHROMIUM`` here); its arrival by naming the
real one again.
"""

from __future__ import annotations

import pytest
from test_build_cache import AREAS, _build, project  # noqa: F401 - the fixture is used by name

from browser.site import CHROMIUM, require_tools
from mhbook import build, export
from mhbook.export import pdf
from mhbook.site import DATA_DOWNLOADS, DOWNLOADS

pytestmark = [pytest.mark.slow]


def _without_chromium(monkeypatch) -> None:
    missing = "mhbook-no-such-chromium"
    monkeypatch.setenv("MHBOOK_CHROMIUM", missing)
    monkeypatch.setattr(pdf, "CHROMIUM", missing)


def test_the_pdf_is_made_and_linked_by_the_first_build_after_chromium_arrives(project, tmp_path, monkeypatch):  # noqa: F811 - the fixture imported above
    require_tools(CHROMIUM)
    out = tmp_path / "site"
    with monkeypatch.context() as m:
        _without_chromium(m)
        assert build.document_formats() == ["docx"]
        _build(out)
        for area in AREAS:
            assert export.download_path(out / area, "docx").is_file()
            assert not export.download_path(out / area, "pdf").exists()
            page = (out / area / "alpha.html").read_text("utf-8")
            assert DOWNLOADS["docx"] in page and DOWNLOADS["pdf"] not in page
            assert DATA_DOWNLOADS["xlsx"] in page and (out / area / DATA_DOWNLOADS["xlsx"]).is_file()
        again = _build(out)  # nothing changed, Chromium still missing: nothing to do
        assert again.up_to_date == len(AREAS) and not again.results

    assert build.document_formats() == ["docx", "pdf"]  # Chromium is "installed"
    report = _build(out)
    assert sorted(r.area.code for r in report.results) == AREAS
    assert not report.reasons, "no notebook needs executing again for a document"
    for area in AREAS:
        assert export.download_path(out / area, "pdf").read_bytes().startswith(b"%PDF")
        assert DOWNLOADS["pdf"] in (out / area / "beta.html").read_text("utf-8")
    assert _build(out).up_to_date == len(AREAS)
