"""``mhbook data refresh`` against a local HTTP server on 127.0.0.1.

The server serves SYNTHETIC files named in a test catalogue (``MHBOOK_CATALOGUE``):
one unchanged, one changed (a new year of rows), one broken (the server fails), one
whose layout changed (a column gone), one that fails once and then succeeds. Pins go
to a temporary ``MHBOOK_HOME``, the cache to a temporary ``MHBOOK_CACHE``.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mhbook import catalogue, fetch, project, refresh
from mhbook.errors import FetchError, RefreshError

OLD = b"area_code,period,value\nE1,2023-24,1\nE1,2024-25,2\n"
NEW = b"area_code,period,value\nE1,2023-24,1\nE1,2024-25,2\nE1,2025-26,3\n"
NO_VALUE = b"area_code,period\nE1,2023-24\nE1,2024-25\nE1,2025-26\n"


class _Server:
    """Serves ``routes`` (path -> list of (status, body), the last repeated) and counts requests."""

    def __init__(self):
        self.routes: dict[str, list[tuple[int, bytes]]] = {}
        self.hits: dict[str, int] = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                n = owner.hits.get(self.path, 0)
                owner.hits[self.path] = n + 1
                answers = owner.routes.get(self.path, [(404, b"not here")])
                status, body = answers[min(n, len(answers) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _entry(dataset_id: str, file: str, body: bytes, url: str) -> dict:
    return {
        "id": dataset_id,
        "file": file,
        "sha256": hashlib.sha256(body).hexdigest(),
        "title": f"SYNTHETIC test dataset {dataset_id}",
        "publisher": "tests",
        "page": url,
        "url": url,
        "licence": "none (synthetic)",
        "attribution": "synthetic",
        "period": "2023-24 to 2024-25",
        "geography": "none",
        "columns": ["area_code", "period", "value"],
    }


@pytest.fixture
def world(tmp_path, server, monkeypatch):
    """A synthetic catalogue, mirror (the pinned versions), cache and home; returns a helper to add datasets."""
    mirror, cat = tmp_path / "mirror", tmp_path / "catalogue.yaml"
    entries: list[dict] = []

    def add(dataset_id: str, pinned: bytes, *served: tuple[int, bytes]) -> None:
        file = f"synthetic/{dataset_id}.csv"
        (mirror / file).parent.mkdir(parents=True, exist_ok=True)
        (mirror / file).write_bytes(pinned)
        server.routes[f"/{file}"] = list(served)
        entries.append(_entry(dataset_id, file, pinned, f"{server.base}/{file}"))
        cat.write_text(yaml.safe_dump({"datasets": entries}), "utf-8")
        catalogue.datasets.cache_clear()

    monkeypatch.setenv("MHBOOK_CATALOGUE", str(cat))
    monkeypatch.setenv("MHBOOK_MIRROR", str(mirror))
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MHBOOK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MHBOOK_RETRIES", "2")
    monkeypatch.delenv("MHBOOK_DOWNLOAD_BASE", raising=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the refresh's temporary folder goes
    add.scratch = scratch
    add.home = tmp_path / "home"
    yield add
    catalogue.datasets.cache_clear()


def test_changed_and_unchanged_files_are_pinned_described_and_cached(world):
    world("syn-same", OLD, (200, OLD))
    world("syn-new-year", OLD, (200, NEW))
    report = refresh.refresh()
    assert report.unchanged == ["syn-same"]
    (change,) = report.changed
    assert change.id == "syn-new-year" and change.new_sha256 == hashlib.sha256(NEW).hexdigest()
    lines = change.lines()
    assert "rows 2 -> 3" in lines
    assert any(
        line.startswith("periods 2023-24 to 2024-25 (2) -> 2023-24 to 2025-26 (3) (new: 2025-26)") for line in lines
    ), lines
    pins = catalogue.read_pins(world.home / "SHA256SUMS")
    assert pins == {"synthetic/syn-new-year.csv": hashlib.sha256(NEW).hexdigest()}
    assert catalogue.get("syn-new-year").sha256 == hashlib.sha256(NEW).hexdigest()
    assert fetch.is_cached("syn-new-year") and fetch.fetch("syn-new-year").read_bytes() == NEW
    record = refresh.last_changes()["syn-new-year"]
    assert record["new_periods"][-1] == "2025-26" and record["old_sha256"] == hashlib.sha256(OLD).hexdigest()
    assert list(world.scratch.iterdir()) == [], "the refresh left its temporary folder"


@pytest.mark.parametrize("bad", ["broken", "schema"])
def test_one_failure_pins_nothing(world, bad):
    world("syn-new-year", OLD, (200, NEW))
    if bad == "broken":
        world("syn-broken", OLD, (500, b"server error"))
        expected = "syn-broken: downloading .* failed after 2 attempts"
    else:
        world("syn-schema", OLD, (200, NO_VALUE))
        expected = r"syn-schema: the new synthetic/syn-schema.csv lacks the column\(s\) \['value'\]"
    with pytest.raises(RefreshError, match=expected):
        refresh.refresh()
    assert not (world.home / "SHA256SUMS").exists()
    assert catalogue.get("syn-new-year").sha256 == hashlib.sha256(OLD).hexdigest()
    assert fetch.fetch("syn-new-year").read_bytes() == OLD  # the cache holds (or gets) only the pinned version
    assert list(world.scratch.iterdir()) == []


def test_a_transient_server_error_is_retried(world, server):
    world("syn-flaky", OLD, (503, b"busy"), (200, NEW))
    (change,) = refresh.refresh().changed
    assert change.id == "syn-flaky"
    assert server.hits["/synthetic/syn-flaky.csv"] == 2


def test_a_missing_file_is_not_retried(world, server):
    world("syn-gone", OLD, (404, b"gone"))
    with pytest.raises(RefreshError, match="syn-gone: downloading .*404"):
        refresh.refresh()
    assert server.hits["/synthetic/syn-gone.csv"] == 1


def test_the_pins_registry_is_never_in_the_package(monkeypatch):
    monkeypatch.delenv("MHBOOK_HOME", raising=False)
    assert project.pins_file() != Path(refresh.__file__).parent / "SHA256SUMS"
    assert "site-packages" not in str(project.pins_file())


def test_cli_reports_changes_and_fails_in_one_line(world, tmp_path):
    world("syn-new-year", OLD, (200, NEW))
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "mhbook", "data", "refresh"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "changed: syn-new-year" in done.stdout and "rows 2 -> 3" in done.stdout
    assert "1 dataset(s) changed, 0 unchanged; new hashes pinned in" in done.stdout
    world("syn-broken", OLD, (500, b"server error"))
    done = subprocess.run(
        [sys.executable, "-m", "mhbook", "data", "refresh"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("mhbook: error:")]
    assert len(errors) == 1 and errors[0].startswith(
        "mhbook: error: 1 of 2 dataset(s) failed, so nothing was pinned: syn-broken: downloading"
    ), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.mirror
def test_the_source_parsers_schema_rejects_a_bad_new_file(tmp_path, server, monkeypatch):
    """SYNTHETIC: the real MHA workbook with one negative count; only the pandera schema can tell."""
    ds = catalogue.get("mha-2023-24")
    raw = pd.read_excel(fetch.fetch(ds), sheet_name=ds.sheets[0], dtype={"OrgID": str, "measureSubcategory": str})
    raw.loc[raw.index[0], "Total_Count"] = -5
    bad = tmp_path / "bad.xlsx"
    raw.to_excel(bad, sheet_name=ds.sheets[0], index=False)
    server.routes["/mha.xlsx"] = [(200, bad.read_bytes())]
    entries = yaml.safe_load(Path(catalogue.source()).read_text("utf-8"))["datasets"]
    entry = next(e for e in entries if e["id"] == ds.id) | {"url": f"{server.base}/mha.xlsx"}
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump({"datasets": [entry]}), "utf-8")
    monkeypatch.setenv("MHBOOK_CATALOGUE", str(tmp_path / "catalogue.yaml"))
    monkeypatch.setenv("MHBOOK_HOME", str(tmp_path / "home"))
    catalogue.datasets.cache_clear()
    try:
        with pytest.raises(RefreshError, match="mha-2023-24: the source parser rejects the new file: .*count"):
            refresh.refresh()
        assert not (tmp_path / "home" / "SHA256SUMS").exists()
    finally:
        catalogue.datasets.cache_clear()


def test_download_to_names_the_url_when_nothing_answers(world, monkeypatch):
    world("syn-x", OLD, (200, OLD))
    monkeypatch.setenv("MHBOOK_RETRIES", "1")
    ds = catalogue.get("syn-x")
    broken = ds.__class__(**{**ds.__dict__, "url": "http://127.0.0.1:9/nothing.csv"})
    with pytest.raises(FetchError, match=r"syn-x: downloading http://127.0.0.1:9/nothing.csv failed"):
        fetch.download_to(broken, world.scratch / "x.csv")


def test_an_unwritable_pins_registry_pins_nothing_and_says_where(world, monkeypatch, tmp_path):
    world("syn-new-year", OLD, (200, NEW))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where MHBOOK_HOME's folder should be", "utf-8")
    monkeypatch.setenv("MHBOOK_HOME", str(blocker / "home"))
    catalogue.datasets.cache_clear()
    with pytest.raises(
        RefreshError, match=r"cannot write the pins registry .*not-a-folder/home/SHA256SUMS.*MHBOOK_HOME"
    ):
        refresh.refresh()
    assert catalogue.get("syn-new-year").sha256 == hashlib.sha256(OLD).hexdigest()
    assert fetch.fetch("syn-new-year").read_bytes() == OLD  # the cache holds (or gets) only the pinned version
    assert list(world.scratch.iterdir()) == []
