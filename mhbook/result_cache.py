"""England-wide results kept on disk, so that a new process does not compute them again.

A build worker keeps what ``@reads.cached`` functions return in memory for every area it
serves. A new process (the first build of one area, or each worker of a larger build)
would compute them all again: every area's Fingertips values for the comparison chapter,
the NHS Talking Therapies funnel of every provider, the footprints of every area, and so
on, most of the time a single area's build spends in its notebooks. A function marked
``@reads.cached(stored=True)`` also keeps its results under ``<cache>/results/``
(``fetch.cache_dir()``): one pickle per function and arguments, holding the value, the
ids of the datasets read while computing it and their sha256.

A stored result is used only if it was computed by the same mhbook code (the digest of
the package's code and data files, ``build.versions.code_version``) and every dataset it
read still has the same sha256 in the catalogue in use; otherwise the function runs
again and its new result replaces the old. So a refreshed dataset, or any change of
code, is never answered from an old result. An unreadable or damaged file is computed
again; a cache folder that cannot be written only costs time. Files are written whole or
not at all (``mhbook.atomic``); deleting the folder is always safe.

``MHBOOK_RESULT_CACHE=off`` turns it off (results are then kept in memory only): the test
suite does, as its tests replace data loaders in the process and expect them to be read.

Only functions whose arguments have a stable ``repr`` (strings, numbers, tuples of them)
and whose results depend on nothing but their arguments, the code and the datasets they
read may be stored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path

from mhbook import atomic, catalogue

log = logging.getLogger(__name__)

#: Bumped when the layout of a stored result changes.
FORMAT = 1
#: The folder under the cache.
FOLDER = "results"


def enabled() -> bool:
    """Whether results are kept on disk (not when ``MHBOOK_RESULT_CACHE`` is ``off``)."""
    return os.environ.get("MHBOOK_RESULT_CACHE", "on").strip().lower() != "off"


def _code() -> str:
    from mhbook.build.versions import code_version  # the package's digest (computed once per process)

    return code_version()


def _key(func: Callable, args: tuple, kwargs: dict) -> str | None:
    """The call as text, or None when an argument has no stable text (an object's address)."""
    text = repr((func.__module__, func.__qualname__, args, sorted(kwargs.items())))
    return None if " at 0x" in text else text


def _where(func: Callable, key: str) -> Path:
    """Where the result of the call ``key`` of ``func`` is kept."""
    from mhbook.fetch import cache_dir

    name = hashlib.sha256(key.encode()).hexdigest()[:32]
    return cache_dir() / FOLDER / f"{func.__module__}.{func.__qualname__}" / f"{name}.pickle"


def load(func: Callable, args: tuple, kwargs: dict):
    """``(value, dataset ids)`` kept for this call, if still valid; else None."""
    key = _key(func, args, kwargs)
    if key is None or not enabled():
        return None
    where = _where(func, key)
    if not where.is_file():
        return None
    try:
        with open(where, "rb") as fh:
            kept = pickle.load(fh)
        if kept["format"] != FORMAT or kept["key"] != key or kept["code"] != _code():
            return None
        current = catalogue.hashes(kept["datasets"])
        if current != kept["datasets"] or "" in current.values():  # changed, or no longer catalogued
            return None
        return kept["value"], frozenset(kept["datasets"])
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is computed again
        log.warning("discarding the kept result %s (%s: %s); computing it again", where, type(exc).__name__, exc)
        where.unlink(missing_ok=True)
        return None


def save(func: Callable, args: tuple, kwargs: dict, value, datasets: frozenset[str]) -> None:
    """Keep ``value`` for this call, with the sha256 of each dataset in ``datasets`` (best effort)."""
    key = _key(func, args, kwargs)
    if key is None or not enabled():
        return
    where = _where(func, key)
    kept = {
        "format": FORMAT,
        "key": key,
        "code": _code(),
        "datasets": catalogue.hashes(sorted(datasets)),
        "value": value,
    }
    try:
        data = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
        atomic.write_bytes(where, data)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:  # only costs time
        log.warning("could not keep the result of %s in %s: %s", func.__qualname__, where, exc)
