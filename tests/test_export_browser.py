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
    path.write_text(
        "<!DOCTYPE html><html lang='en'><head><title>Synthetic</title></head>"
        "<body><h1>Synthetic page</h1><p>Printed by a test.</p></body></html>",
        "utf-8",
    )
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


def test_a_stalled_print_is_retried_once_with_a_new_browser(page, tmp_path, monkeypatch):
    from mhbook.export import pdf

    real, calls = browser.Browser.print_pdf, []

    def stalls_once(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 1:
            raise browser.BrowserError("Chromium did not answer in time")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(browser.Browser, "print_pdf", stalls_once)
    out = pdf.print_page(page, tmp_path / "out.pdf", "E06000001")
    assert out.read_bytes().startswith(b"%PDF")
    assert len(calls) == 2 and calls[0] is not calls[1] and not calls[0].alive()


def test_a_print_that_stalls_twice_fails_naming_the_area(page, tmp_path, monkeypatch):
    from mhbook.export import ConverterError, pdf

    def stalls(self, *args, **kwargs):
        raise browser.BrowserError("Chromium did not answer in time")

    monkeypatch.setattr(browser.Browser, "print_pdf", stalls)
    with pytest.raises(ConverterError, match="E06000001 to PDF twice: Chromium did not answer"):
        pdf.print_page(page, tmp_path / "out.pdf", "E06000001")
    assert not (tmp_path / "out.pdf").exists()
