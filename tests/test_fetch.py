"""The fetch layer against a real HTTP server on 127.0.0.1 and a temporary mirror.

Every file served here is SYNTHETIC (bytes made by the test), described by a temporary
catalogue read with ``catalogue.load``. Each failure case also checks that the cache
holds no partial or temporary file and nothing that would later be trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import os
import threading
from collections import Counter
from pathlib import Path

import platformdirs
import pytest

from mhbook import catalogue
from mhbook import fetch as fetch_mod
from mhbook.errors import DataIntegrityError, FetchError, MhbookError, UnknownDatasetError
from mhbook.fetch import cache_dir, cached_path, fetch, is_cached, sha256_of, verify

GOOD = b"area_code,value\n" + b"E99999999,1.5  # synthetic test row, not real data\n" * 8000  # ~400 kB
OTHER = b"synthetic bytes that the catalogue does not pin\n" * 100
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
OTHER_SHA = hashlib.sha256(OTHER).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /files/<p> serves GOOD; /truncated/ promises more bytes than it sends;
    /cut/ ends a chunked body without its last chunk; /slow/ waits before answering;
    anything else is 404."""

    protocol_version = "HTTP/1.1"
    hits: Counter
    release: threading.Event

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.hits[self.path] += 1
        self.close_connection = True
        route = self.path.split("/")[1]
        if route == "files":
            self._head(200, {"Content-Length": str(len(GOOD))})
            self.wfile.write(GOOD)
        elif route == "truncated":
            self._head(200, {"Content-Length": str(len(GOOD))})
            self.wfile.write(GOOD[: len(GOOD) // 3])
        elif route == "cut":
            self._head(200, {"Transfer-Encoding": "chunked"})
            part = GOOD[:50_000]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        elif route == "slow":
            self.release.wait(10)  # bounded: the fixture releases it at teardown
            try:
                self._head(200, {"Content-Length": str(len(GOOD))})
                self.wfile.write(GOOD)
            except OSError:  # the client gave up long ago, as the test intends
                pass
        else:
            self._head(404, {"Content-Length": "0"})

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in {**headers, "Connection": "close"}.items():
            self.send_header(key, value)
        self.end_headers()


@pytest.fixture
def server():
    handler = type("Handler", (_Handler,), {"hits": Counter(), "release": threading.Event()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    finally:
        handler.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache, and no mirror or download base inherited from the test run's environment."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MHBOOK_CACHE", str(folder))
    for name in ("MHBOOK_MIRROR", "MHBOOK_DOWNLOAD_BASE", "MHBOOK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _catalogue(tmp_path: Path, base: str | None) -> dict[str, catalogue.Dataset]:
    """A temporary catalogue of synthetic entries, one per server route."""
    entries = {
        "synthetic-good": ("files", GOOD_SHA),
        "synthetic-wrong-hash": ("files", OTHER_SHA),
        "synthetic-truncated": ("truncated", GOOD_SHA),
        "synthetic-cut": ("cut", GOOD_SHA),
        "synthetic-slow": ("slow", GOOD_SHA),
        "synthetic-404": ("missing", GOOD_SHA),
        "synthetic-no-url": (None, GOOD_SHA),
    }
    lines = ["datasets:"]
    for id_, (route, sha) in entries.items():
        url = f"{base}/{route}/{id_}.csv" if route and base else None
        lines += [
            f"- id: {id_}",
            f"  file: synthetic/{id_}.csv",
            f"  sha256: {sha}",
            "  title: synthetic",
            "  publisher: test",
            "  page: https://example.invalid/",
            f"  url: {url or 'null'}",
            "  url_note: only in a mirror (synthetic)",
            "  licence: none",
            "  attribution: none",
            "  period: none",
            "  geography: none",
        ]
    path = tmp_path / "catalogue.yaml"
    path.write_text("\n".join(lines) + "\n")
    return catalogue.load(path)


def _leftovers(folder: Path) -> list[Path]:
    """Temporary or partial files anywhere in the cache."""
    return [p for p in folder.rglob("*") if p.name.endswith((".part", ".tmp"))] if folder.exists() else []


def _assert_nothing_cached(ds: catalogue.Dataset, folder: Path) -> None:
    target = cached_path(ds)
    assert not target.exists() and not target.with_name(target.name + ".verified").exists()
    assert not _leftovers(folder)
    assert not is_cached(ds)


# --- downloads --------------------------------------------------------------------------


def test_download_is_verified_cached_and_reused(server, cache, tmp_path):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    path = fetch(ds)
    assert path == cache / "data" / "synthetic" / "synthetic-good.csv"
    assert path.read_bytes() == GOOD and is_cached(ds)
    assert fetch(ds) == path
    assert hits["/files/synthetic-good.csv"] == 1  # the second fetch used the cache
    assert not _leftovers(cache)


def test_wrong_hash_names_both_hashes_and_the_file_and_caches_nothing(server, cache, tmp_path):
    base, _ = server
    ds = _catalogue(tmp_path, base)["synthetic-wrong-hash"]
    with pytest.raises(DataIntegrityError) as info:
        fetch(ds)
    message = str(info.value)
    assert GOOD_SHA in message and OTHER_SHA in message and "synthetic-wrong-hash.csv" in message
    _assert_nothing_cached(ds, cache)


@pytest.mark.parametrize("id_", ["synthetic-truncated", "synthetic-cut", "synthetic-404"])
def test_broken_transfer_is_a_fetch_error_and_caches_nothing(server, cache, tmp_path, id_):
    base, _ = server
    ds = _catalogue(tmp_path, base)[id_]
    with pytest.raises(FetchError, match="MHBOOK_MIRROR") as info:
        fetch(ds)
    assert ds.id in str(info.value)
    if id_ == "synthetic-404":
        assert "404" in str(info.value)
    _assert_nothing_cached(ds, cache)


def test_slow_server_times_out_with_advice(server, cache, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setenv("MHBOOK_TIMEOUT", "0.3")
    ds = _catalogue(tmp_path, base)["synthetic-slow"]
    with pytest.raises(FetchError, match="MHBOOK_MIRROR") as info:
        fetch(ds)
    assert "Timeout" in str(info.value)
    _assert_nothing_cached(ds, cache)


def test_interrupted_download_leaves_nothing_and_the_next_fetch_works(server, cache, tmp_path):
    base, _ = server

    class Interrupt:  # a progress bar whose first update is the user pressing Ctrl-C
        total = 0

        def update(self, n):
            raise KeyboardInterrupt

    ds = _catalogue(tmp_path, base)["synthetic-good"]
    with pytest.raises(KeyboardInterrupt):
        fetch(ds, progressbar=Interrupt())
    _assert_nothing_cached(ds, cache)
    assert fetch(ds).read_bytes() == GOOD


def test_invalid_timeout_is_reported(server, cache, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setenv("MHBOOK_TIMEOUT", "soon")
    with pytest.raises(MhbookError, match="MHBOOK_TIMEOUT"):
        fetch(_catalogue(tmp_path, base)["synthetic-good"])


def test_download_base_replaces_the_catalogue_url(server, cache, tmp_path, monkeypatch):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-no-url"]  # url: null, as for converted files
    monkeypatch.setenv("MHBOOK_DOWNLOAD_BASE", f"{base}/files/")
    assert fetch_mod.download_url(ds) == f"{base}/files/synthetic/synthetic-no-url.csv"
    assert fetch(ds).read_bytes() == GOOD
    assert hits["/files/synthetic/synthetic-no-url.csv"] == 1


def test_no_url_and_no_mirror_says_to_set_the_mirror(cache, tmp_path):
    ds = _catalogue(tmp_path, None)["synthetic-no-url"]
    with pytest.raises(FetchError, match=r"MHBOOK_MIRROR.*synthetic/synthetic-no-url\.csv"):
        fetch(ds)
    _assert_nothing_cached(ds, cache)


# --- the mirror -------------------------------------------------------------------------


def _mirror(tmp_path: Path, monkeypatch, content: bytes) -> Path:
    folder = tmp_path / "mirror"
    (folder / "synthetic").mkdir(parents=True)
    (folder / "synthetic" / "synthetic-good.csv").write_bytes(content)
    monkeypatch.setenv("MHBOOK_MIRROR", str(folder))
    return folder


def test_mirror_copy_is_verified_and_needs_no_network(server, cache, tmp_path, monkeypatch):
    base, hits = server
    mirror = _mirror(tmp_path, monkeypatch, GOOD)
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    path = fetch(ds)
    assert path.read_bytes() == GOOD and path.parent != mirror / "synthetic" and is_cached(ds)
    assert not hits


def test_tampered_mirror_file_is_an_integrity_error(server, cache, tmp_path, monkeypatch):
    base, hits = server
    mirror = _mirror(tmp_path, monkeypatch, GOOD[:-1] + b"!")
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    with pytest.raises(DataIntegrityError) as info:
        fetch(ds)
    message = str(info.value)
    assert str(mirror / "synthetic" / "synthetic-good.csv") in message and GOOD_SHA in message
    assert hashlib.sha256(GOOD[:-1] + b"!").hexdigest() in message
    _assert_nothing_cached(ds, cache)
    assert not hits  # a damaged mirror is reported, not silently bypassed


def test_file_missing_from_the_mirror_is_downloaded(server, cache, tmp_path, monkeypatch):
    base, _ = server
    _mirror(tmp_path, monkeypatch, GOOD)
    entries = _catalogue(tmp_path, base)
    elsewhere = dataclasses.replace(entries["synthetic-wrong-hash"], sha256=GOOD_SHA)  # served, not mirrored
    assert fetch(elsewhere).read_bytes() == GOOD
    with pytest.raises(FetchError, match="not in the mirror"):
        fetch(entries["synthetic-404"])


# --- trusting the cache -----------------------------------------------------------------


def test_damaged_cache_file_is_discarded_and_fetched_again(server, cache, tmp_path):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    path = fetch(ds)
    path.write_bytes(OTHER)  # size and mtime change, so the marker no longer vouches for it
    assert not is_cached(ds)
    assert fetch(ds).read_bytes() == GOOD
    assert hits["/files/synthetic-good.csv"] == 2


def test_a_same_size_same_mtime_change_is_caught_by_fetch(server, cache, tmp_path):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    path = fetch(ds)
    st = path.stat()
    path.write_bytes(GOOD.replace(b"1.5", b"9.9", 1))  # same size; restore the mtime too
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not is_cached(ds)  # the ctime moved: the marker no longer vouches for the file
    assert fetch(ds).read_bytes() == GOOD  # re-hashed, discarded and fetched again
    assert hits["/files/synthetic-good.csv"] == 2 and sha256_of(path) == GOOD_SHA


def test_verify_rehashes_what_the_marker_would_trust(server, cache, tmp_path, monkeypatch):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    path = fetch(ds)
    marker = fetch_mod._identity(ds, path.stat())
    path.write_bytes(GOOD.replace(b"1.5", b"9.9", 1))
    # Only a forged marker (matching the changed file) is trusted by fetch; verify re-hashes anyway.
    monkeypatch.setattr(fetch_mod, "_identity", lambda ds, st: marker)
    assert fetch(ds) == path and path.read_bytes() != GOOD
    assert verify(ds).read_bytes() == GOOD  # verify re-hashes, discards and re-fetches
    assert hits["/files/synthetic-good.csv"] == 2 and sha256_of(path) == GOOD_SHA


def test_unmarked_cache_file_is_hashed_before_it_is_trusted(server, cache, tmp_path):
    base, hits = server
    ds = _catalogue(tmp_path, base)["synthetic-good"]
    target = cached_path(ds)
    target.parent.mkdir(parents=True)
    target.write_bytes(GOOD)  # e.g. left by an older mhbook: right bytes, no marker
    assert not is_cached(ds)
    assert fetch(ds) == target and is_cached(ds)
    assert not hits


# --- ids and folders --------------------------------------------------------------------


def test_unknown_id_suggests_close_ids(cache):
    with pytest.raises(UnknownDatasetError, match="Did you mean: .*bnd-ctyua-2023"):
        fetch("bnd-ctyua-2032")


def test_cache_dir_defaults_to_the_user_cache(monkeypatch):
    monkeypatch.delenv("MHBOOK_CACHE", raising=False)
    assert cache_dir() == Path(platformdirs.user_cache_dir("mhbook"))
