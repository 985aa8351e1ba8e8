"""Turn a dataset id into a verified local file.

Order: the cache, then the mirror folder named by ``MHBOOK_MIRROR`` (laid out as
``SHA256SUMS``, i.e. each dataset's ``file``), then the source: a download for a plain
dataset, its recipe (``mhbook.sources.recipes``) for a derived one. ``from_source=True``
skips the cache and the mirror, remaking each dataset from its source, so a connected
machine proves the whole chain. Whatever enters the
cache is first written to a temporary file beside its target, hashed (sha256) and
compared with the catalogue, and only then renamed into place, so a failed,
interrupted or tampered fetch never leaves a file that is later trusted.

A verified file gets a marker (``<file>.verified``: sha256, size, mtime, inode and
ctime). A later ``fetch`` trusts a cached file without re-hashing only while the marker
still matches the file and the catalogue's sha256; ``verify`` always re-hashes. The
ctime (which users cannot set, and which any write, ``touch -m``, chmod or rename
updates) and the inode catch a file changed in place with its size and mtime kept. A
cached file that fails is discarded, with every tidy table parsed from it
(``mhbook.tables.invalidate``), and fetched again.

Environment:
  ``MHBOOK_CACHE``          cache folder (default: the OS user cache, via platformdirs)
  ``MHBOOK_MIRROR``         a local folder holding the files (e.g. ``../shared/data``)
  ``MHBOOK_DOWNLOAD_BASE``  an HTTP(S) URL laid out like a mirror: when set, dataset
                            ``file`` is downloaded from ``<base>/<file>`` instead of the
                            catalogue ``url`` (a team's hosted mirror, or a test server)
  ``MHBOOK_UPSTREAM_BASE``  an HTTP(S) URL from which recipes download their upstream files
                            (see ``mhbook.sources.recipes.upstream_url``)
  ``MHBOOK_TIMEOUT``        seconds a download may wait for the server (default 60)
  ``MHBOOK_RETRIES``        attempts per download (default 3): a connection failure, a
                            timeout or a server error (5xx, 429) is retried after a pause
                            of 1, 2, 4 ... seconds; other HTTP errors are not
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import platformdirs
import pooch
import requests

from mhbook import atomic, catalogue, reads
from mhbook.catalogue import Dataset
from mhbook.errors import DataIntegrityError, FetchError, MhbookError
from mhbook.sources import recipes

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
_MARKER = ".verified"


def settle_locations() -> None:
    """Make ``MHBOOK_MIRROR`` and ``MHBOOK_CACHE`` absolute, once, before any work starts.

    A relative path is resolved against the caller's working directory and written back
    to the environment, so build workers and notebooks (which run in other folders)
    inherit the absolute path. A mirror folder that does not exist stops here, with one
    message, instead of failing every dataset later. Idempotent.
    """
    for name in ("MHBOOK_MIRROR", "MHBOOK_CACHE"):
        raw = os.environ.get(name)
        if raw:
            os.environ[name] = os.path.abspath(Path(raw).expanduser())  # also drops "..": a readable path
    mirror = os.environ.get("MHBOOK_MIRROR")
    if mirror and not Path(mirror).is_dir():
        raise FetchError(
            f"MHBOOK_MIRROR={mirror} does not exist or is not a folder. Point it at a folder laid out like the "
            f"catalogue's file paths (for example ../shared/data), or unset it to download from the publishers."
        )


def cache_dir() -> Path:
    """``$MHBOOK_CACHE`` or the OS user cache folder for mhbook."""
    return Path(os.environ.get("MHBOOK_CACHE") or platformdirs.user_cache_dir("mhbook"))


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_path(dataset: str | Dataset) -> Path:
    """Where ``dataset`` lives in the cache (whether or not it is there yet)."""
    ds = _dataset(dataset)
    return cache_dir() / "data" / ds.file


def is_cached(dataset: str | Dataset) -> bool:
    """True if a verified copy is in the cache (cheap: reads the marker, no hashing)."""
    ds = _dataset(dataset)
    return _marker_matches(ds, cached_path(ds))


def download_url(dataset: str | Dataset) -> str | None:
    """The URL a download would use: ``$MHBOOK_DOWNLOAD_BASE/<file>`` or the catalogue ``url``."""
    ds = _dataset(dataset)
    base = os.environ.get("MHBOOK_DOWNLOAD_BASE")
    if base:
        return f"{base.rstrip('/')}/{urllib.parse.quote(ds.file)}"
    return ds.url


def fetch(dataset: str | Dataset, *, progressbar: bool | Any = False, from_source: bool = False) -> Path:
    """The verified local path of ``dataset`` (an id, or a ``Dataset`` from any catalogue).

    ``progressbar`` is passed to pooch's ``HTTPDownloader`` for downloads: True for
    tqdm, or an object with ``total``, ``update``, ``reset`` and ``close``.
    ``from_source`` ignores the cache and the mirror: the dataset is downloaded or remade by
    its recipe, and replaces the cached copy only once verified (an input a recipe reads is
    itself remade once per process).
    Raises ``UnknownDatasetError``, ``DataIntegrityError`` (bytes differ from the
    pinned sha256) or ``FetchError`` (neither the mirror nor the source could supply it).
    """
    return _obtain(_dataset(dataset), rehash=False, progressbar=progressbar, from_source=from_source)


def verify(dataset: str | Dataset, *, progressbar: bool | Any = False, from_source: bool = False) -> Path:
    """Like ``fetch``, but a cached copy is always re-hashed rather than trusted by its marker."""
    return _obtain(_dataset(dataset), rehash=True, progressbar=progressbar, from_source=from_source)


# Datasets remade from their source in this process (``from_source``): a recipe's input is remade once.
_REMADE: set[tuple[str, str]] = set()


def _dataset(dataset: str | Dataset) -> Dataset:
    """The catalogue entry of ``dataset``, its read recorded (``mhbook.reads``)."""
    ds = dataset if isinstance(dataset, Dataset) else catalogue.get(dataset)
    reads.record(ds.id)
    return ds


def _obtain(ds: Dataset, *, rehash: bool, progressbar: bool | Any, from_source: bool = False) -> Path:
    try:
        return _obtain_in(ds, rehash=rehash, progressbar=progressbar, from_source=from_source)
    except OSError as exc:  # the cache cannot be written: full, read-only, not a folder
        where = exc.filename or cache_dir()
        raise FetchError(
            f"{ds.id}: cannot write the cache at {where} ({exc.strerror or exc}); free some space, fix its "
            f"permissions, or point MHBOOK_CACHE at a writable folder"
        ) from exc


def _obtain_in(ds: Dataset, *, rehash: bool, progressbar: bool | Any, from_source: bool) -> Path:
    target = cached_path(ds)
    remade = (str(cache_dir()), ds.id) in _REMADE
    if (not from_source or remade) and _cache_ok(ds, target, rehash=rehash):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if from_source:
        mirror_note = "the mirror is ignored (from source)"
    else:
        mirror_note = _from_mirror(ds, target)
        if mirror_note is None:
            return target
    if ds.recipe is not None:
        _derive(ds, target, from_source=from_source)
    else:
        _download(ds, target, progressbar=progressbar, mirror_note=mirror_note)
    if from_source:
        _REMADE.add((str(cache_dir()), ds.id))
    return target


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + _MARKER)


def _marker_matches(ds: Dataset, target: Path) -> bool:
    try:
        marker = json.loads(_marker_path(target).read_text("utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return marker == _identity(ds, st)


def _identity(ds: Dataset, st: os.stat_result) -> dict:
    """What a marker records of a verified file: any change to it means re-hashing."""
    return {
        "sha256": ds.sha256,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ino": st.st_ino,
        "ctime_ns": st.st_ctime_ns,
    }


def _cache_ok(ds: Dataset, target: Path, *, rehash: bool) -> bool:
    if not target.exists():
        return False
    if not rehash and _marker_matches(ds, target):
        return True
    try:
        got = sha256_of(target)
    except OSError as exc:
        got = f"unreadable ({exc.strerror or exc})"
    if got == ds.sha256 or (ds.recipe is not None and recipes.is_content_equal(ds, target)):
        _write_marker(ds, target)
        return True
    # Our own cache holds wrong bytes (damaged, edited, or an older version of the
    # dataset): never use them, nor any table parsed from them; fetch a verified copy instead.
    log.warning("%s: cached %s has sha256 %s, expected %s; discarding it", ds.id, target, got, ds.sha256)
    _marker_path(target).unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    from mhbook import tables  # tables imports this module

    tables.invalidate(ds.id)
    return False


def _write_marker(ds: Dataset, target: Path) -> None:
    atomic.write_json(_marker_path(target), _identity(ds, target.stat()))


def _install(ds: Dataset, tmp: Path, target: Path) -> None:
    """Move a verified temporary file into place, then mark it verified."""
    _marker_path(target).unlink(missing_ok=True)  # an old marker must not vouch for new bytes
    os.replace(tmp, target)
    _write_marker(ds, target)


def _temp_beside(target: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    return Path(tmp)


def _from_mirror(ds: Dataset, target: Path) -> str | None:
    """Copy ``ds`` from the mirror, verified. None on success, else why the mirror could not help."""
    mirror = os.environ.get("MHBOOK_MIRROR")
    if not mirror:
        return "MHBOOK_MIRROR is not set"
    src = Path(mirror) / ds.file
    if not src.is_file():
        return f"{ds.file} is not in the mirror {mirror}"
    try:
        fin = open(src, "rb")
    except OSError as exc:
        raise FetchError(
            f"{src}: the mirror copy of {ds.id} cannot be read ({exc.strerror or exc}); fix its permissions "
            f"(e.g. chmod a+r), or unset MHBOOK_MIRROR to download it"
        ) from exc
    tmp = _temp_beside(target)
    try:
        h = hashlib.sha256()
        with fin, open(tmp, "wb") as fout:
            for block in iter(lambda: fin.read(1 << 20), b""):
                h.update(block)
                fout.write(block)
        got = h.hexdigest()
        if got != ds.sha256:
            raise DataIntegrityError(
                f"{src}: sha256 is {got}, but the catalogue pins {ds.sha256} for {ds.id}. The mirror copy is "
                f"damaged or a different version: restore it from the mirror's SHA256SUMS source, or unset "
                f"MHBOOK_MIRROR to download it."
            )
        _install(ds, tmp, target)
        log.info("%s: copied from the mirror %s", ds.id, src)
        return None
    finally:
        tmp.unlink(missing_ok=True)


def _derive(ds: Dataset, target: Path, *, from_source: bool) -> None:
    """Make ``ds`` by its recipe in a staging folder beside ``target``; move it in only once checked."""
    staging = recipes.staging_beside(target)
    try:
        made = recipes.make(ds, staging, fetch_input=lambda i: fetch(i, from_source=from_source))
        _install(ds, made, target)
        log.info("%s: made by its recipe (%s)", ds.id, ds.recipe.make)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download(ds: Dataset, target: Path, *, progressbar: bool | Any, mirror_note: str) -> None:
    url = download_url(ds)
    if url is None:
        why = f" ({ds.url_note})" if ds.url_note else ""
        raise FetchError(
            f"{ds.id}: no public URL yields these bytes{why}, and {mirror_note}. "
            f"Set MHBOOK_MIRROR to a folder holding {ds.file}."
        )
    tmp = _temp_beside(target)
    try:
        try:
            download_to(ds, tmp, progressbar=progressbar)
        except FetchError as err:
            raise FetchError(
                f"{err}, and {mirror_note}. Set MHBOOK_MIRROR to a folder holding {ds.file} (e.g. ../shared/data), "
                f"or retry when the network is reachable."
            ) from err
        got = sha256_of(tmp)
        if got != ds.sha256:
            raise DataIntegrityError(
                f"{url}: downloaded file {ds.file} has sha256 {got}, but the catalogue pins {ds.sha256} for "
                f"{ds.id}. The server sent different bytes (a changed or corrupted file); nothing was cached. "
                f"Use a mirror (MHBOOK_MIRROR) holding the pinned version."
            )
        _install(ds, tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def download_to(dataset: str | Dataset, dest: Path, *, progressbar: bool | Any = False) -> Path:
    """Download ``dataset``'s file (``download_url``) to ``dest`` as it is, unverified, retrying.

    For callers that check the bytes themselves (``fetch`` against the pin, the data
    refresh against the schemas). Raises ``FetchError`` naming the URL when every attempt failed.
    """
    ds = _dataset(dataset)
    url = download_url(ds)
    if url is None:
        raise FetchError(f"{ds.id}: the catalogue has no download URL for it")
    return download_url_to(url, dest, progressbar=progressbar, label=ds.id)


def download_url_to(url: str, dest: Path, *, progressbar: bool | Any = False, label: str = "") -> Path:
    """Download ``url`` to ``dest`` as it is, unverified (the caller checks it), retrying
    ``MHBOOK_RETRIES`` times on network errors and 5xx/429 answers, waiting 1, 2, 4 ... s.
    Raises ``FetchError`` naming the URL (and ``label``, what it was for) when every attempt failed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(timeout=_timeout(), progressbar=progressbar)
    attempts = _retries()
    attempt = 1
    prefix = f"{label}: " if label else ""
    while True:
        log.info("%sdownloading %s (attempt %d of %d)", prefix, url, attempt, attempts)
        try:
            downloader(url, str(dest), None)
            return dest
        except requests.RequestException as err:
            status = getattr(getattr(err, "response", None), "status_code", None)
            transient = status is None or status >= 500 or status == 429
            if not transient or attempt == attempts:
                tried = f" after {attempt} attempts" if attempt > 1 else ""
                raise FetchError(f"{prefix}downloading {url} failed{tried} ({type(err).__name__}: {err})") from err
            log.warning("%sdownloading %s failed (%s); retrying", prefix, url, err)
            time.sleep(2 ** (attempt - 1))
            attempt += 1


def _retries() -> int:
    raw = os.environ.get("MHBOOK_RETRIES")
    if not raw:
        return DEFAULT_RETRIES
    if not raw.isdigit() or int(raw) < 1:
        raise MhbookError(f"MHBOOK_RETRIES must be a whole number of attempts, 1 or more, not {raw!r}.")
    return int(raw)


def _timeout() -> float:
    raw = os.environ.get("MHBOOK_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise MhbookError(f"MHBOOK_TIMEOUT must be a positive number of seconds, not {raw!r}.")
    return value
