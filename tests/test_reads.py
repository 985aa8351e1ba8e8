"""Which datasets a piece of work read (``mhbook.reads``): the incremental build's dependencies.

Every test here is synthetic (no data mirror): loaders return made-up frames, and
"re-pinning" a dataset means giving its catalogue entry another sha256 in this process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from mhbook import catalogue, fetch, reads
from mhbook.build.reasons import Reason, Why
from mhbook.build.store import OutputKey, Store
from mhbook.pages import sources_methods
from mhbook.tables import tidy_table

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))  # the tidy-table cache of these tests


def test_reads_are_collected_only_inside_a_block_and_blocks_nest():
    catalogue.get("iapt-annual")  # nobody collects: nothing to note, nothing kept
    with reads.collecting() as outer:
        catalogue.get("iapt-annual")
        with reads.collecting() as inner:
            fetch.cached_path("qof-ccg-1920")
    assert inner == {"qof-ccg-1920"}
    assert outer == {"iapt-annual", "qof-ccg-1920"}
    with reads.collecting() as later:
        pass
    assert later == set()


def test_a_tidy_table_records_its_datasets_on_every_call_also_from_memory():
    runs = []

    @tidy_table("iapt-annual")
    def synthetic_table() -> pd.DataFrame:
        runs.append(1)
        return pd.DataFrame({"value": [1.0, 2.0]})  # synthetic

    for _ in range(2):
        with reads.collecting() as seen:
            synthetic_table()
        assert seen == {"iapt-annual"}
    assert runs == [1]  # the second call was answered from memory


def test_a_measure_cached_across_areas_in_one_worker_reports_its_datasets_for_every_area():
    """As in a long-lived build worker: an England-level result computed for the first area
    is reused for the next, and each area's notebook still records what it depends on."""

    @tidy_table("iapt-annual")
    def england_table() -> pd.DataFrame:
        return pd.DataFrame({"value": [3.0, 4.0]})  # synthetic

    @reads.cached
    def england_mean() -> float:
        return float(england_table()["value"].mean())

    def area_page(code: str) -> float:
        catalogue.get("qof-ccg-1920")  # the area's own read
        return england_mean() + len(code)

    recorded = {}
    for code in ("E06000001", "E06000002"):
        with reads.collecting() as seen:
            area_page(code)
        recorded[code] = set(seen)
    assert recorded["E06000001"] == recorded["E06000002"] == {"iapt-annual", "qof-ccg-1920"}
    assert england_mean.cache_info().hits == 1 and england_mean.cache_info().misses == 1


def test_a_cached_result_keeps_only_the_datasets_its_own_arguments_read():
    @reads.cached(maxsize=4)
    def lookup(dataset_id: str) -> str:
        return catalogue.get(dataset_id).title

    with reads.collecting() as first:
        lookup("iapt-annual")
    with reads.collecting() as second:
        lookup("qof-ccg-1920")
        lookup("iapt-annual")  # from memory
    assert first == {"iapt-annual"} and second == {"iapt-annual", "qof-ccg-1920"}
    lookup.cache_clear()
    assert lookup.cache_info().currsize == 0


def test_a_failed_computation_is_not_kept():
    calls = []

    @reads.cached
    def flaky() -> int:
        calls.append(1)
        catalogue.get("iapt-annual")
        if len(calls) == 1:
            raise ValueError("synthetic failure")
        return 1

    with pytest.raises(ValueError), reads.collecting():
        flaky()
    with reads.collecting() as seen:
        assert flaky() == 1
    assert seen == {"iapt-annual"} and len(calls) == 2


def test_since_mark_names_what_was_read_since_the_previous_figure():
    assert reads.since_mark() == []  # outside a build
    with reads.collecting():
        catalogue.get("iapt-annual")
        assert reads.since_mark() == ["iapt-annual"]  # the first figure: everything so far
        catalogue.get("qof-ccg-1920")
        assert reads.since_mark() == ["qof-ccg-1920"]
        assert reads.since_mark() == ["iapt-annual", "qof-ccg-1920"]  # nothing new: the notebook's reads


def test_the_catalogue_listing_records_every_dataset_and_get_only_its_own():
    with reads.collecting() as seen:
        catalogue.get("iapt-annual")
    assert seen == {"iapt-annual"}
    with reads.collecting() as seen:
        catalogue.listing()
    assert seen == set(catalogue.datasets())


def _commit(store: Store, key: OutputKey, tmp_path: Path, read: list[str]) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), workdir / f"{key.notebook}.ipynb")  # synthetic output
    store.commit(key, workdir, read)


def test_the_sources_page_runs_again_after_a_dataset_is_re_pinned(tmp_path, monkeypatch):
    """Sources and methods lists every dataset's sha256: its recorded reads name them all, so a
    re-pinned hash makes the page stale and the page shows the new hash."""
    notebook = REPO / "notebooks" / "sources_methods.md"
    assert "page.dataset_table()" in notebook.read_text("utf-8")  # what the page calls, below
    with reads.collecting() as seen:
        before = sources_methods.dataset_table()
    store = Store(tmp_path / "site")
    key = OutputKey.for_notebook("E06000001", "sources_methods", notebook, {"area_code": "E06000001"})
    _commit(store, key, tmp_path, sorted(seen))
    assert store.stale_reason(key) is None

    repinned = dict(catalogue.datasets())
    repinned["qof-ccg-1920"] = replace(repinned["qof-ccg-1920"], sha256="d" * 64)  # synthetic: as a refresh would
    monkeypatch.setattr(catalogue, "datasets", lambda: repinned)
    assert store.stale_reason(key) == Reason(Why.DATASETS_CHANGED, ("qof-ccg-1920",))
    after = sources_methods.dataset_table().set_index("id")["sha256"]
    assert after["qof-ccg-1920"] == "d" * 64 != before.set_index("id")["sha256"]["qof-ccg-1920"]


def test_a_page_that_did_not_read_a_re_pinned_dataset_stays_current(tmp_path, monkeypatch):
    notebook = REPO / "notebooks" / "sources_methods.md"
    store = Store(tmp_path / "site")
    key = OutputKey.for_notebook("E06000001", "sources_methods", notebook, {"area_code": "E06000001"})
    _commit(store, key, tmp_path, ["iapt-annual"])  # synthetic record: this page read one dataset
    repinned = dict(catalogue.datasets())
    repinned["qof-ccg-1920"] = replace(repinned["qof-ccg-1920"], sha256="d" * 64)
    monkeypatch.setattr(catalogue, "datasets", lambda: repinned)
    assert store.stale_reason(key) is None


def test_reasons_are_data_and_read_as_before():
    reason = Reason(Why.DATASETS_CHANGED, ("a", "b"))
    assert str(reason) == "datasets changed: a, b" and str(Reason(Why.NEW)) == "new"
    assert reason.to_json() == {"why": "datasets_changed", "text": "datasets changed: a, b", "datasets": ["a", "b"]}
