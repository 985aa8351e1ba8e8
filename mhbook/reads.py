"""Which datasets a piece of work read: the dependency record of the incremental build.

The build keys every executed notebook by the sha256 of each dataset it read, so a
refreshed dataset re-runs exactly the pages that read it. The data layer says what it
reads through this module, explicitly:

- ``catalogue.get(id)`` and ``fetch`` record the dataset they were asked for, and
  ``catalogue.datasets()`` records every catalogued dataset (a page listing the
  catalogue, such as Sources and methods, shows every hash);
- every ``@tidy_table`` loader records its datasets on each call, including calls
  answered from its in-process or Parquet cache;
- functions whose results are kept in memory use ``@reads.cached`` instead of
  ``functools.cache``: a result remembers the datasets read while it was computed and
  records them again each time it is returned, so a long-lived build worker reused for
  many areas records the same datasets for a page as a fresh process would.

The build opens a ``collecting()`` block around each notebook. ``record`` is cheap and
does nothing when no block is open (an interactive session, a test).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator


class Reads(set):
    """The ids of the datasets read while a ``collecting()`` block was open."""

    def __init__(self):
        super().__init__()
        self.since_mark: set[str] | None = None  # see ``since_mark()``


# The open blocks, outermost first: a notebook's, then each cached computation under way.
_open: list[Reads] = []


def record(*dataset_ids: str) -> None:
    """Note that the datasets ``dataset_ids`` were read, in every open ``collecting()`` block."""
    for frame in _open:
        frame.update(dataset_ids)
        if frame.since_mark is not None:
            frame.since_mark.update(dataset_ids)


@contextlib.contextmanager
def collecting() -> Iterator[Reads]:
    """Collect the datasets read inside the block into the yielded set (blocks nest:
    an inner block's reads are also an outer block's)."""
    frame = Reads()
    _open.append(frame)
    try:
        yield frame
    finally:  # removed by identity: two blocks that read the same datasets are equal sets
        del _open[next(i for i in reversed(range(len(_open))) if _open[i] is frame)]


def since_mark() -> list[str]:
    """Datasets read in the outermost open block since the previous ``since_mark()`` call,
    sorted, and set the mark again; the first call returns everything the block has read,
    and so does a call that finds nothing new. Used to name the datasets behind each figure
    or table a notebook publishes. Inside a cached computation the mark is not moved and
    the whole block's reads are returned. Empty when no block is open."""
    if not _open:
        return []
    outer = _open[0]
    if len(_open) > 1:
        return sorted(outer)
    taken = set(outer.since_mark if outer.since_mark is not None else outer)
    outer.since_mark = set()
    return sorted(taken or outer)


#: The memories of every ``cached`` function, for ``forget``.
_MEMORIES: list = []


def forget() -> None:
    """Empty every ``cached`` function's memory (for a process that switches catalogue or
    mirror, as the tests do for their synthetic mirror)."""
    for memory in _MEMORIES:
        memory.cache_clear()


def cached(func: Callable | None = None, *, maxsize: int | None = None, stored: bool = False) -> Callable:
    """``functools.lru_cache`` (unbounded by default) that keeps the datasets behind each
    result and records them whenever the result is returned, first time or from memory.

    Use as ``@reads.cached`` or ``@reads.cached(maxsize=16)``. The wrapper has
    ``cache_clear()`` and ``cache_info()`` like ``functools``' caches. ``stored=True``
    also keeps each result on disk for other processes (``mhbook.result_cache``: used
    only while the code and the datasets it read are unchanged); for England-wide
    results that are costly to compute and depend on nothing but their arguments.
    """
    if func is None:
        return functools.partial(cached, maxsize=maxsize, stored=stored)

    @functools.lru_cache(maxsize=maxsize)
    def compute(*args, **kwargs):
        if stored:
            from mhbook import result_cache  # reads is imported by the data layer: kept light

            kept = result_cache.load(func, args, kwargs)
            if kept is not None:
                return kept
        with collecting() as seen:
            value = func(*args, **kwargs)
        if stored:
            result_cache.save(func, args, kwargs, value, frozenset(seen))
        return value, frozenset(seen)

    _MEMORIES.append(compute)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        value, seen = compute(*args, **kwargs)
        record(*seen)
        return value

    wrapper.cache_clear = compute.cache_clear
    wrapper.cache_info = compute.cache_info
    return wrapper
