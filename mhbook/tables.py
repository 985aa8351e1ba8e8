"""A disk cache for tidy tables derived from pinned datasets.

Parsing a publisher's file (for example 4.5 million IAPT rows held as text) takes
seconds; every notebook of every area needs the same tidy table. ``@tidy_table``
stores a loader's result as Parquet under ``<cache>/tables/``, keyed by the sha256
of each dataset it reads, the loader's source code and the mhbook version, so a
refreshed dataset or a changed loader is re-parsed and nothing stale is reused.
Writes are atomic (temporary file, then rename). Loaders must be pure functions of
their datasets and keyword arguments, and keep their helpers in the same module.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

import mhbook
from mhbook import catalogue
from mhbook.fetch import cache_dir


def _key(func: Callable, dataset_ids: tuple[str, ...], kwargs: dict) -> str:
    parts = {
        "func": f"{func.__module__}.{func.__qualname__}",
        # The whole module, so a change to any helper the loader calls re-parses.
        "source": inspect.getsource(inspect.getmodule(func)),
        "version": mhbook.__version__,
        "datasets": {i: catalogue.get(i).sha256 for i in dataset_ids},
        "kwargs": kwargs,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path) -> pd.DataFrame:
    import pyarrow

    try:
        import geopandas as gpd

        return gpd.read_parquet(path)
    except (ValueError, ImportError):  # not a GeoParquet file: a plain table
        return pd.read_parquet(path)
    finally:
        # Arrow keeps freed read buffers for reuse; hand them back (~200 MB after IAPT).
        pyarrow.default_memory_pool().release_unused()


def tidy_table(*dataset_ids: str) -> Callable:
    """Decorate a loader that reads ``dataset_ids`` and returns a DataFrame.

    Results are memoised in the process and on disk; callers get a (copy-on-write)
    copy, so they may modify it freely. Only keyword arguments with JSON-able values are allowed.
    """

    def decorate(func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        @functools.lru_cache(maxsize=32)
        def cached(frozen_kwargs: tuple) -> pd.DataFrame:
            kwargs = dict(frozen_kwargs)
            path = cache_dir() / "tables" / f"{func.__name__}-{_key(func, dataset_ids, kwargs)}.parquet"
            if path.exists():
                return _read(path)
            df = func(**kwargs)
            _write_atomic(df, path)
            return df

        @functools.wraps(func)
        def wrapper(**kwargs) -> pd.DataFrame:
            # A shallow copy: pandas' copy-on-write (the default since pandas 3) copies
            # data only when the caller writes, so the 3-million-row IAPT table is not
            # duplicated for every filter while the memoised frame stays untouched.
            return cached(tuple(sorted(kwargs.items()))).copy(deep=False)

        wrapper.dataset_ids = dataset_ids  # read by the incremental build
        wrapper.cache_clear = cached.cache_clear
        return wrapper

    return decorate
