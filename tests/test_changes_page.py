"""The national "What changed" page (``mhbook.changes``), from SYNTHETIC builds' reasons.

The test catalogue is the packaged one plus a SYNTHETIC dataset ``syn-a``; area names
come from the real registry, hence the mirror.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from bs4 import BeautifulSoup

from mhbook import catalogue, changes, refresh
from mhbook.build.reasons import Reason, Why

pytestmark = pytest.mark.mirror

OLD, NEW = hashlib.sha256(b"old").hexdigest(), hashlib.sha256(b"new").hexdigest()

NEW_OUTPUT = Reason(Why.NEW)
SYN_A_CHANGED = Reason(Why.DATASETS_CHANGED, ("syn-a",))


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """A one-dataset SYNTHETIC catalogue; returns a function that re-pins it."""
    entry = {
        "id": "syn-a",
        "file": "synthetic/a.csv",
        "sha256": OLD,
        "title": "SYNTHETIC dataset A",
        "publisher": "tests",
        "page": "-",
        "url": None,
        "licence": "-",
        "attribution": "-",
        "period": "2023-24 to 2024-25",
        "geography": "-",
    }
    cat = tmp_path / "catalogue.yaml"
    entries = yaml.safe_load(open(catalogue.source(), encoding="utf-8"))["datasets"]
    cat.write_text(yaml.safe_dump({"datasets": entries + [entry]}), "utf-8")
    monkeypatch.setenv("MHBOOK_CATALOGUE", str(cat))
    monkeypatch.setenv("MHBOOK_HOME", str(tmp_path / "home"))
    catalogue.datasets.cache_clear()

    def repin(sha: str, periods: list[str] | None = None) -> None:
        refresh.write_pins(tmp_path / "home" / "SHA256SUMS", {"synthetic/a.csv": sha})
        if periods:
            record = {
                "changed": [
                    {
                        "id": "syn-a",
                        "old_sha256": OLD,
                        "new_sha256": sha,
                        "old_periods": periods[:-1],
                        "new_periods": periods,
                        "summary": ["rows 2 -> 3"],
                    }
                ]
            }
            (tmp_path / "home" / refresh.RECORD).write_text(json.dumps(record), "utf-8")
        catalogue.datasets.cache_clear()

    yield repin
    catalogue.datasets.cache_clear()


def _text(path) -> str:
    return " ".join(BeautifulSoup(path.read_text("utf-8"), "html.parser").get_text(" ").split())


def test_a_refreshed_dataset_and_the_pages_it_re_ran_are_listed(tmp_path, synthetic):
    out = tmp_path / "site"
    first = changes.write_page(
        out, {("E08000004", "summary"): NEW_OUTPUT, ("E08000004", "claims"): NEW_OUTPUT}, ["E08000004"]
    )
    text = _text(first)
    assert "No dataset changed." in text and "summary : 1 area(s) (1 new)" in text
    assert "Oldham (E08000004)" in text

    synthetic(NEW, ["2023-24", "2024-25", "2025-26"])
    page = changes.write_page(
        out,
        {("E08000004", "summary"): SYN_A_CHANGED, ("E06000001", "summary"): SYN_A_CHANGED},
        ["E08000004", "E06000001"],
    )
    text = _text(page)
    assert (
        f"syn-a SYNTHETIC dataset A {OLD[:16]} {NEW[:16]} 2023-24, 2024-25, 2025-26 (before: 2023-24, 2024-25)" in text
    )
    assert "rows 2 -> 3" in text
    assert "summary : 2 area(s) (2 datasets changed)" in text
    assert "Areas re-run (2)" in text and "Hartlepool (E06000001)" in text
    soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
    assert soup.find("a", href="E08000004/index.html") is not None
    assert json.loads((out / changes.RECORD).read_text("utf-8"))["datasets"][0]["new_sha256"] == NEW


def test_a_build_that_re_ran_nothing_keeps_the_last_page(tmp_path, synthetic):
    out = tmp_path / "site"
    changes.write_page(out, {("E08000004", "summary"): NEW_OUTPUT}, ["E08000004"])
    before = (out / changes.PAGE).read_text("utf-8")
    assert changes.write_page(out, {}, []) is None
    assert (out / changes.PAGE).read_text("utf-8") == before


def test_a_re_pin_without_a_refresh_record_shows_the_catalogue_period(tmp_path, synthetic):
    out = tmp_path / "site"
    changes.write_page(out, {}, [])  # the first build sees the old hash
    synthetic(NEW)
    text = _text(changes.write_page(out, {("E08000004", "summary"): SYN_A_CHANGED}, ["E08000004"]))
    assert f"{OLD[:16]} {NEW[:16]} 2023-24 to 2024-25" in text


def test_the_landing_page_links_the_changes_page(tmp_path):
    from mhbook import national

    out = tmp_path / "site"
    out.mkdir()
    assert "changes.html" not in national.write_landing(out).read_text("utf-8")
    (out / changes.PAGE).write_text("<html></html>", "utf-8")
    assert 'href="changes.html"' in national.write_landing(out).read_text("utf-8")
