"""When a browser command has waited too long: slow while working is not a stall.

No Chromium runs here: a synthetic stand-in ``Browser`` reads from a pipe that the test
writes to (or never does), and reports CPU seconds the test chooses.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from mhbook.export import browser


class _Proc:
    pid = os.getpid()

    def poll(self):
        return None


def _stand_in(cpu_per_check: float) -> tuple[browser.Browser, int]:
    """A Browser whose pipe the test writes to (returned) and whose CPU grows by
    ``cpu_per_check`` seconds each time it is asked."""
    b = browser.Browser.__new__(browser.Browser)
    b._from_child, write_end = os.pipe()
    b._buffer, b._proc = b"", _Proc()
    used = [0.0]

    def cpu_seconds() -> float:
        used[0] += cpu_per_check
        return used[0]

    b.cpu_seconds = cpu_seconds
    return b, write_end


def test_a_browser_using_no_cpu_has_stalled_after_one_timeout():
    b, _ = _stand_in(cpu_per_check=0.0)
    started = time.monotonic()
    with pytest.raises(browser.BrowserError, match="did not answer in time"):
        b._message(browser._Patience(b, 0.3))
    assert 0.3 <= time.monotonic() - started < 1.5


def test_a_busy_browser_is_given_more_time_and_its_answer_is_read():
    b, write_end = _stand_in(cpu_per_check=browser.STALL_CPU_S)  # working: CPU grows between checks
    threading.Timer(0.8, lambda: os.write(write_end, b'{"id": 1, "result": {}}\0')).start()
    started = time.monotonic()
    assert b._message(browser._Patience(b, 0.3)) == {"id": 1, "result": {}}
    assert time.monotonic() - started >= 0.8  # beyond two timeouts, still waiting


def test_a_busy_browser_is_waited_for_at_most_max_patience_timeouts(monkeypatch):
    monkeypatch.setattr(browser, "MAX_PATIENCE", 3)
    b, _ = _stand_in(cpu_per_check=browser.STALL_CPU_S)
    started = time.monotonic()
    with pytest.raises(browser.BrowserError, match="did not answer in time"):
        b._message(browser._Patience(b, 0.2))
    assert 0.6 <= time.monotonic() - started < 2.0
