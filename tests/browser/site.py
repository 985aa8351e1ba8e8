"""Shared by tests/test_browser.py and tests/test_export.py: one real area's built site
(with its Word and PDF exports and the national index), a local web server, and a
headless Chromium driven by Selenium.

The site is built once per test run even under pytest-xdist: the first worker builds it
under a file lock in the run's shared temporary folder, the others reuse it (or its
recorded failure).
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from mhbook.export.browser import HEADLESS_FLAGS

REPO = Path(__file__).resolve().parents[2]
AREA = "E08000004"  # Oldham: a metropolitan district with a full set of published data
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("MHBOOK_CHROMIUM", "chromium")
CHROMEDRIVER = os.environ.get("MHBOOK_CHROMEDRIVER", "chromedriver")
#: Screenshots and other files kept from a test run (under the gitignored _build).
ARTEFACTS = Path(os.environ.get("MHBOOK_TEST_ARTEFACTS", REPO / "_build" / "test-artefacts"))
#: The printer's headless switches, and no scroll bars (screenshots at the true width).
BROWSER_FLAGS = (*HEADLESS_FLAGS, "--hide-scrollbars")


def require_tools(*programs: str, axe: bool = False) -> None:
    """Skip (or, in CI, fail) when a browser tool is missing: `make browser` installs them."""
    missing = [p for p in programs if shutil.which(p) is None] + ([str(AXE)] if axe and not AXE.is_file() else [])
    if missing:
        message = f"missing {missing}: run `make browser` (apt chromium chromium-driver, npm ci)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def _locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(out: Path) -> None:
    from mhbook import areas, build, export

    area = areas.get(AREA)
    result = build.build_area(area, out)
    if result.failures or not (out / AREA / "index.html").is_file():
        rows = "\n".join(f"{f.area} {f.notebook}: {f.error}" for f in result.failures)
        raise RuntimeError(f"building {AREA} failed:\n{rows or 'no site was written'}")
    build.write_index(out)
    for fmt in export.FORMATS:
        export.export_area(area, out, fmt)


def built_site(tmp_path_factory) -> Path:
    """The folder holding ``index.html`` (national) and ``E08000004/`` (the area's site)."""
    require_tools(CHROMIUM)
    # One site per test session, shared by its xdist workers (each has a "popen-gwN" base
    # inside the session's folder); never a site left by an earlier session.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    out = shared / "mhbook-site"
    ready, failed = shared / "mhbook-site.ready", shared / "mhbook-site.failed"
    with _locked(shared / "mhbook-site.lock"):
        if not ready.exists() and not failed.exists():
            try:
                _build(out)
            except Exception as exc:  # recorded so the other workers report it, not rebuild
                failed.write_text(f"{type(exc).__name__}: {exc}", "utf-8")
            else:
                ready.touch()
    if failed.exists():
        pytest.fail(failed.read_text("utf-8"))
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium():
    """A headless Chromium (Debian's package) with a new empty profile, via chromedriver."""
    require_tools(CHROMIUM, CHROMEDRIVER)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mhbook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM)
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def site_pages(out: Path) -> list[str]:
    """Every HTML page of the area's site (paths relative to ``out``), except the
    redirect ``index.html``, plus the national index."""
    pages = sorted(f"{AREA}/{p.name}" for p in (out / AREA).glob("*.html") if p.name != "index.html")
    return ["index.html", *pages]
