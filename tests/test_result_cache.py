"""Results kept on disk between processes (``@reads.cached(stored=True)``, ``mhbook.result_cache``).

The functions here are made for the tests and read the SYNTHETIC mirror's catalogue; a
"new process" is imitated by emptying the functions' memory (``cache_clear``), which is
all a new process lacks: the disk folder is the same.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pandas as pd
import pytest

from mhbook import catalogue, reads, result_cache

DATASET = "mha-2023-24"  # in the synthetic catalogue
calls: list[tuple] = []


@reads.cached(stored=True)
def england_table(period: str) -> pd.DataFrame:
    """Synthetic: a small table that 'reads' one dataset."""
    calls.append(("england_table", period))
    entry = catalogue.get(DATASET)
    return pd.DataFrame({"period": [period], "file": [entry.file], "value": [len(calls) * 1.5]})


class Unstable:  # repr names the object's address: its calls cannot be keyed
    pass


@reads.cached(stored=True)
def with_object(thing) -> int:
    calls.append(("with_object",))
    return 1


@pytest.fixture
def kept(synthetic_mirror, monkeypatch, tmp_path):
    monkeypatch.setenv("MHBOOK_RESULT_CACHE", "on")
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    calls.clear()
    for func in (england_table, with_object):
        func.cache_clear()
    yield tmp_path / "cache" / result_cache.FOLDER
    for func in (england_table, with_object):
        func.cache_clear()


def _new_process() -> None:
    england_table.cache_clear()
    with_object.cache_clear()


def test_a_new_process_reads_the_kept_result_and_records_its_datasets(kept):
    first = england_table("2023-24")
    [stored] = list(kept.rglob("*.pickle"))
    assert stored.parent.name == f"{__name__}.england_table"
    _new_process()
    with reads.collecting() as seen:
        again = england_table("2023-24")
    assert calls == [("england_table", "2023-24")]  # computed once
    pd.testing.assert_frame_equal(again, first)
    assert seen == {DATASET}  # the page that used it still depends on the dataset
    england_table("2022-23")  # other arguments: another result
    assert len(calls) == 2 and len(list(kept.rglob("*.pickle"))) == 2


def test_a_repinned_dataset_is_computed_again(kept, monkeypatch):
    england_table("2023-24")
    _new_process()
    changed = dict(catalogue.datasets())
    changed[DATASET] = replace(changed[DATASET], sha256="f" * 64)
    monkeypatch.setattr(catalogue, "datasets", lambda: changed)
    england_table("2023-24")
    assert len(calls) == 2
    _new_process()
    england_table("2023-24")  # the new result, kept with the new hash, is used again
    assert len(calls) == 2


def test_other_code_computes_again(kept, monkeypatch):
    england_table("2023-24")
    _new_process()
    monkeypatch.setattr(result_cache, "_code", lambda: "0.0+another")
    england_table("2023-24")
    assert len(calls) == 2


def test_a_damaged_file_is_discarded_and_computed_again(kept, caplog):
    england_table("2023-24")
    [stored] = list(kept.rglob("*.pickle"))
    stored.write_bytes(stored.read_bytes()[:40])  # truncated, as by a full disk
    _new_process()
    with caplog.at_level(logging.WARNING, logger="mhbook.result_cache"):
        value = england_table("2023-24")
    assert len(calls) == 2 and value["value"].iloc[0] == 3.0
    assert "discarding the kept result" in caplog.text and str(stored) in caplog.text
    _new_process()
    england_table("2023-24")  # replaced by a whole file
    assert len(calls) == 2


def test_a_cache_that_cannot_be_written_only_costs_time(kept, caplog):
    kept.parent.mkdir(parents=True)
    kept.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="mhbook.result_cache"):
        assert england_table("2023-24")["period"].iloc[0] == "2023-24"
    assert "could not keep the result" in caplog.text
    assert not list(kept.parent.glob(".*.tmp"))


def test_arguments_without_a_stable_text_are_not_kept(kept):
    with_object(Unstable())
    assert not kept.exists() or not list(kept.rglob("*.pickle"))


def test_switched_off_nothing_is_kept(kept, monkeypatch):
    monkeypatch.setenv("MHBOOK_RESULT_CACHE", "off")
    england_table("2023-24")
    _new_process()
    england_table("2023-24")
    assert len(calls) == 2 and not kept.exists()


@pytest.mark.mirror
def test_kept_england_results_equal_computed_ones(monkeypatch, tmp_path):
    """A real England-wide result read back from disk equals the one computed."""
    from mhbook import areas, periods

    monkeypatch.setenv("MHBOOK_RESULT_CACHE", "on")
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))  # datasets come from the mirror
    period = periods.latest("iapt")
    areas.footprint_lsoas.cache_clear()
    try:
        computed = areas.footprint_lsoas(period)
        areas.footprint_lsoas.cache_clear()
        with reads.collecting() as seen:
            kept = areas.footprint_lsoas(period)
        assert kept is not computed
        pd.testing.assert_frame_equal(kept, computed)
        assert seen and all(i in catalogue.datasets() for i in seen)
    finally:
        areas.footprint_lsoas.cache_clear()
