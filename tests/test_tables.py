"""The tidy-table cache: memoised, on disk, keyed by dataset hashes, safe to modify.

The loaders here are synthetic: they build a small frame and count their calls; the
dataset ids are real catalogue entries (only their pinned sha256 is read, nothing is
fetched).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from mhbook import catalogue
from mhbook.tables import tidy_table

DATASET = "iapt-annual"


@pytest.fixture
def loader(tmp_path, monkeypatch):
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    calls = []

    @tidy_table(DATASET)
    def synthetic(scale: int = 1) -> pd.DataFrame:
        calls.append(scale)
        return pd.DataFrame({"group": ["a", "b", "c"], "count": [1.0 * scale, 2.0 * scale, 3.0 * scale]})

    synthetic.calls = calls
    return synthetic


def test_a_table_is_built_once_then_read_from_memory_and_disk(loader, tmp_path):
    first = loader(scale=2)
    assert loader(scale=2).equals(first) and loader.calls == [2]
    assert len(list((tmp_path / "cache" / "tables").glob("synthetic-*.parquet"))) == 1
    loader.cache_clear()  # a new process: the Parquet file is read, the loader not run
    assert loader(scale=2).equals(first) and loader.calls == [2]
    loader(scale=3)
    assert loader.calls == [2, 3]


def test_changing_a_returned_table_never_changes_the_cached_one(loader):
    table = loader()
    table.loc[0, "count"] = -1.0  # in place
    table["count"] *= 10  # a whole column
    del table["group"]
    fresh = loader()
    assert fresh["count"].tolist() == [1.0, 2.0, 3.0] and fresh["group"].tolist() == ["a", "b", "c"]


def test_a_changed_dataset_hash_rebuilds_the_table(loader, monkeypatch):
    loader()
    changed = dict(catalogue.datasets())
    changed[DATASET] = replace(changed[DATASET], sha256="e" * 64)  # synthetic: as after a refresh
    monkeypatch.setattr(catalogue, "datasets", lambda: changed)
    loader.cache_clear()
    loader()
    assert loader.calls == [1, 1]
