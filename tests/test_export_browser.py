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


def _running(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_one_browser_prints_many_pdfs_and_leaves_nothing_running(page):
    one = browser.Browser(CHROMIUM)
    try:
        first, second = one.print_pdf(page, timeout=60), one.print_pdf(page, timeout=60)
        assert first.startswith(b"%PDF") and second.startswith(b"%PDF")
        main = psutil.Process(one._proc.pid)
        processes = [main, *main.children(recursive=True)]  # this browser's, not other tests'
        assert one.alive() and "chrom" in main.name()
    finally:
        one.close()
    assert not one.alive()
    psutil.wait_procs(processes, timeout=10)
    assert not _running(processes)


def test_printing_runs_in_one_process_and_closes_its_tab(page):
    one = browser.Browser(CHROMIUM)
    try:
        one.print_pdf(page, timeout=60)
        # no renderer, print compositor or zygote of its own: each would map Chromium again
        assert psutil.Process(one._proc.pid).children(recursive=True) == []
        assert [t for t in one.send("Target.getTargets")["targetInfos"] if t["type"] == "page"] == []
    finally:
        one.close()


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
