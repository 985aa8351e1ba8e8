"""Record which datasets a notebook reads, inside the process that executes it.

The incremental build (``mhbook.buildcache``) keys each executed notebook by the
sha256 of every dataset it read. This module runs where the notebook runs (a build worker) and
watches the three ways a dataset is reached:

- ``catalogue.get(id)`` and ``fetch``'s dataset lookup: any direct read;
- every ``@tidy_table`` loader: its declared ``dataset_ids`` are recorded on each
  call, including calls answered from its in-process or Parquet cache;
- every ``functools`` cache in ``mhbook`` modules (e.g. the area registry): the
  datasets read while a result was first computed are remembered with it and
  recorded again whenever the cached result is returned.

So a process that is reused for many areas and notebooks (the fast path) records
the same set as a fresh one would. Wrappers are installed by replacing module
globals, which is how functions find each other at call time. A module imported
during a notebook is wrapped before the next one; its ``functools`` caches are then
emptied once, so that what fills them is seen (while it was unwrapped, the lookups
it made were recorded directly, for the notebook that made them).

Usage: ``install()`` once, then ``start()`` before and ``reads()`` after each notebook.
"""

from __future__ import annotations

import functools
import sys

# One set per active frame: the notebook, then each cached call being computed.
_frames: list[set[str]] = [set()]
# Datasets behind each cached result: (id of the cache, call key) -> ids.
_behind: dict[tuple[int, object], frozenset[str]] = {}
_installed = False


def _record(ids) -> None:
    for frame in _frames:
        frame.update(ids)


class _Tracked:
    """Stands in for a cached function; forwards attributes such as ``cache_clear``."""

    def __init__(self, func):
        self.__wrapped__ = func
        functools.update_wrapper(self, func)

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


class _TrackedTable(_Tracked):
    def __call__(self, *args, **kwargs):
        _record(self.__wrapped__.dataset_ids)
        return self.__wrapped__(*args, **kwargs)


class _TrackedCache(_Tracked):
    def __call__(self, *args, **kwargs):
        typed = self.__wrapped__.cache_parameters().get("typed", False)
        key = (id(self.__wrapped__), functools._make_key(args, kwargs, typed))
        _frames.append(set())
        try:
            return self.__wrapped__(*args, **kwargs)
        finally:
            fresh = _frames.pop()
            _behind[key] = _behind.get(key, frozenset()) | fresh
            _record(_behind[key])


def _wrap_module(module) -> None:
    for name, value in list(vars(module).items()):
        if isinstance(value, _Tracked):
            continue
        if callable(value) and hasattr(value, "dataset_ids") and hasattr(value, "cache_clear"):
            setattr(module, name, _TrackedTable(value))
        elif isinstance(value, functools._lru_cache_wrapper) and getattr(value, "__module__", "").startswith("mhbook"):
            value.cache_clear()  # filled unobserved: what it read is unknown
            setattr(module, name, _TrackedCache(value))


def _wrap_all() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("mhbook") and module is not None and name != __name__:
            _wrap_module(module)


def install() -> None:
    """Wrap dataset lookups, tidy-table loaders and caches in every mhbook module."""
    global _installed
    if _installed:
        return
    from mhbook import catalogue, fetch

    original_get = catalogue.get

    def get(dataset_id):
        ds = original_get(dataset_id)
        _record([ds.id])
        return ds

    original_dataset = fetch._dataset

    def dataset(value):
        ds = original_dataset(value)
        _record([ds.id])
        return ds

    catalogue.get = get
    fetch._dataset = dataset
    _installed = True


def start() -> None:
    """Begin a notebook: wrap newly imported modules, forget the previous notebook's reads."""
    _wrap_all()
    _frames[:] = [set()]


def reads() -> list[str]:
    """Dataset ids read since ``start()``, sorted."""
    return sorted(_frames[0])

