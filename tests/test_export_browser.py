"""The long-lived Chromium that prints PDFs: reuse, recovery after a crash, clean exit.

The pages printed here are synthetic one-paragraph HTML files written by the tests.
"""

from __future__ import annotations

import signal

import psutil
import pytest

from browser.site import CHROMIUM, require_tools
from mhbook.export import browser


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<!DOCTYPE html><html lang='en'><head><title>Synthetic</title></head>"
                    "<body><h1>Synthetic page</h1><p>Printed by a test.</p></body></html>", "utf-8")
    return path


@pytest.fixture(autouse=True)
def _tools():
    require_tools(CHROMIUM)


def _chromium_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]


def test_one_browser_prints_many_pdfs_and_leaves_nothing_running(page):
    one = browser.Browser(CHROMIUM)
    try:
        first, second = one.print_pdf(page, timeout=60), one.print_pdf(page, timeout=60)
        assert first.startswith(b"%PDF") and second.startswith(b"%PDF")
        assert one.alive() and _chromium_children()
    finally:
        one.close()
    assert not one.alive()
    assert not [p for p in _chromium_children() if p.status() != psutil.STATUS_ZOMBIE]


def test_a_crashed_browser_is_reported_then_replaced(page):
    first = browser.shared(CHROMIUM)
    first._proc.send_signal(signal.SIGKILL)
    first._proc.wait()
    with pytest.raises(browser.BrowserError, match="Chromium"):
        first.print_pdf(page, timeout=30)
    second = browser.shared(CHROMIUM)  # a dead browser is not handed out again
    try:
        assert second is not first and second.print_pdf(page, timeout=60).startswith(b"%PDF")
    finally:
        browser.discard(CHROMIUM)


def test_a_missing_executable_is_named():
    with pytest.raises(browser.BrowserError, match="no-such-chromium"):
        browser.Browser("no-such-chromium")
