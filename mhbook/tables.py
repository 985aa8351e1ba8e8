"""A disk cache for tidy tables derived from pinned datasets.

Parsing a publisher's file (for example 4.5 million IAPT rows held as text) takes
seconds; every notebook of every area needs the same tidy table. ``@tidy_table``
stores a loader's result as Parquet under ``<cache>/tables/``, keyed by the sha256
of each dataset it reads, the loader's source code and the mhbook version, so a
refreshed dataset or a changed loader is re-parsed and nothing stale is reused.
Writes are atomic (temporary file, then rename). Loaders must be pure functions of
their datasets and keyword arguments, and keep their helpers in the same module.

The cache heals: a table file that cannot be read (truncated, damaged) is discarded
with a warning naming it and parsed again, and a failed write only costs the next
process a re-parse. Beside each table a ``<table>.deps.json`` names the datasets it was
parsed from, so when ``mhbook.fetch`` finds a cached dataset's bytes wrong (and
replaces them) every table built from it is discarded too (``invalidate``); a table
without that record counts as built from every dataset. ``verify_cache`` (run by
``mhbook data verify``) reads every table and removes those that cannot be read.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import mhbook
from mhbook import atomic, catalogue, reads
from mhbook.fetch import cache_dir

log = logging.getLogger(__name__)

_DEPS = ".deps.json"
#: Temporary files older than this (seconds) are leftovers of a killed process.
STALE_TMP_S = 3600


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


def tables_dir() -> Path:
    return cache_dir() / "tables"


def _deps_path(path: Path) -> Path:
    return path.with_name(path.name + _DEPS)


def _write_atomic(df: pd.DataFrame, path: Path, dataset_ids: tuple[str, ...] = ()) -> None:
    atomic.write_json(_deps_path(path), {"datasets": sorted(dataset_ids)})
    atomic.write_file(path, df.to_parquet)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    _deps_path(path).unlink(missing_ok=True)


def _depends_on(path: Path) -> set[str] | None:
    """The dataset ids the table at ``path`` was parsed from; None if unknown."""
    try:
        return set(json.loads(_deps_path(path).read_text("utf-8"))["datasets"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def invalidate(dataset_id: str) -> list[Path]:
    """Discard every cached table parsed from ``dataset_id`` (or from unknown datasets).

    Called by ``mhbook.fetch`` when a cached copy of the dataset turns out to hold the
    wrong bytes: a table parsed from them must not outlive them. Returns what was removed.
    """
    removed = []
    folder = tables_dir()
    if not folder.is_dir():
        return removed
    for path in sorted(folder.glob("*.parquet")):
        deps = _depends_on(path)
        if deps is None or dataset_id in deps:
            _discard(path)
            removed.append(path)
    if removed:
        log.warning(
            "%s: discarded %d tidy table(s) parsed from it: %s",
            dataset_id,
            len(removed),
            ", ".join(p.name for p in removed),
        )
    return removed


def verify_cache() -> tuple[int, list[str]]:
    """Read every cached table in full; remove those that cannot be read and stale temporary files.

    Returns (tables that read correctly, descriptions of what was removed).
    """
    import pyarrow.parquet as pq

    folder = tables_dir()
    ok, removed = 0, []
    if not folder.is_dir():
        return ok, removed
    for path in sorted(folder.glob("*.parquet")):
        try:
            pq.read_table(path)
        except Exception as exc:  # any failure to read means the file is damaged
            _discard(path)
            removed.append(f"{path.name} (unreadable: {type(exc).__name__}; it is parsed again when next needed)")
        else:
            ok += 1
    now = time.time()
    for path in folder.glob("*.tmp"):
        try:
            if now - path.stat().st_mtime > STALE_TMP_S:
                path.unlink()
                removed.append(f"{path.name} (a temporary file left by a stopped process)")
        except OSError:
            continue
    for deps in folder.glob(f"*.parquet{_DEPS}"):
        if not deps.with_name(deps.name.removesuffix(_DEPS)).exists():
            deps.unlink(missing_ok=True)
    return ok, removed


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
            path = tables_dir() / f"{func.__name__}-{_key(func, dataset_ids, kwargs)}.parquet"
            if path.exists():
                try:
                    return _read(path)
                except Exception as exc:  # truncated or damaged: a cache miss, never a failure
                    log.warning(
                        "tidy-table cache: %s cannot be read (%s: %s); discarding it and parsing %s again",
                        path,
                        type(exc).__name__,
                        exc,
                        ", ".join(dataset_ids),
                    )
                    _discard(path)
            df = func(**kwargs)
            try:
                _write_atomic(df, path, dataset_ids)
            except OSError as exc:  # a full or read-only cache: the table is still good for this process
                log.warning(
                    "tidy-table cache: could not write %s (%s); it will be parsed again next time",
                    path,
                    exc.strerror or exc,
                )
            return df

        @functools.wraps(func)
        def wrapper(**kwargs) -> pd.DataFrame:
            # A shallow copy: pandas' copy-on-write (the default since pandas 3) copies
            # data only when the caller writes, so the 3-million-row IAPT table is not
            # duplicated for every filter while the memoised frame stays untouched.
            reads.record(*dataset_ids)  # on every call: a frame from memory was read from these too
            return cached(tuple(sorted(kwargs.items()))).copy(deep=False)

        wrapper.dataset_ids = dataset_ids
        wrapper.cache_clear = cached.cache_clear
        return wrapper

    return decorate
