"""A headless Chromium kept open to print many PDFs, driven over its DevTools pipe.

Starting Chromium for every document (``--print-to-pdf``) costs about as much CPU as
laying out the document itself: a build of every area prints 153 of them. ``Browser``
starts Chromium once with ``--remote-debugging-pipe`` and sends Chrome DevTools Protocol
commands (JSON, each message ended by a NUL byte) on its file descriptor 3 and reads
replies from its descriptor 4; no network port is opened and no extra package is needed. Chromium
exits by itself when this process closes the pipe, so no browser outlives its owner.

``shared()`` gives each process one browser, started on first use and closed at exit.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import itertools
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from mhbook.errors import BrowserError

#: Chromium switches for any headless use (the printer here, the browser test suite):
#: headless, no sandbox (containers), no GPU, no network services.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: The printer's switches: ``HEADLESS_FLAGS``, and ``--single-process``, which runs the
#: renderer, the print compositor and the storage service as threads of the browser
#: instead of processes of their own (``--no-zygote``: nor zygotes to fork them), since
#: each of those maps much of Chromium again: printing, the six processes summed about
#: 1.25 GB resident, the one process stays near 600 MB (given the purge after every print,
#: see ``print_pdf``) and spends a little less CPU. ``--no-startup-window`` opens no tab
#: beside the printed ones, and the disabled features are the omnibox pop-up pages a
#: headless window still loads in the background (50 MB).
FLAGS = (
    *HEADLESS_FLAGS,
    "--single-process",
    "--no-zygote",
    "--no-startup-window",
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI",
)


#: A command may outlast its timeout while Chromium is still working (on a machine with
#: more work than cores a book's print took 60 s of wall time for 11 s of CPU): it has
#: stalled only when Chromium's processes used less than this many CPU seconds during a
#: whole timeout. However busy, a command waits at most ``MAX_PATIENCE`` timeouts.
STALL_CPU_S = 0.5
MAX_PATIENCE = 10


class _Patience:
    """How long a command may still wait: its timeout, renewed (up to ``MAX_PATIENCE``
    timeouts) each time it runs out while Chromium has used CPU (working, not stalled)."""

    def __init__(self, browser: Browser, timeout: float):
        self.browser, self.timeout = browser, timeout
        now = time.monotonic()
        self.end, self.limit = now + timeout, now + MAX_PATIENCE * timeout
        self.cpu = browser.cpu_seconds()

    def left(self) -> float:
        """Seconds left; 0 once Chromium has stalled or the longest wait is over."""
        now = time.monotonic()
        if now < self.end:
            return self.end - now
        used = self.browser.cpu_seconds()
        if used - self.cpu >= STALL_CPU_S and now < self.limit:
            self.cpu, self.end = used, min(self.limit, now + self.timeout)
            return self.end - now
        return 0.0


class Browser:
    """One Chromium process; ``print_pdf`` may be called many times (not concurrently)."""

    def __init__(self, executable: str, timeout: float = 60):
        path = shutil.which(executable)
        if path is None:
            raise BrowserError(
                f"'{executable}' not found: printing PDFs needs Chromium "
                "(Debian: apt-get install chromium; or set MHBOOK_CHROMIUM)"
            )
        self._profile = tempfile.mkdtemp(prefix="mhbook-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Chromium's ends above 9, so moving them to 3 and 4 cannot overwrite one another.
        to_child_r, from_child_w = (self._above_nine(fd) for fd in (to_child_r, from_child_w))
        # A tiny launcher moves the pipe ends to descriptors 3 and 4, where Chromium wants them.
        launcher = (
            "import os, sys; r, w = int(sys.argv[1]), int(sys.argv[2]); os.dup2(r, 3); os.dup2(w, 4); "
            "os.close(r); os.close(w); os.execv(sys.argv[3], sys.argv[3:])"
        )
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                launcher,
                str(to_child_r),
                str(from_child_w),
                path,
                *FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
            ],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._ids = itertools.count(1)
        self._buffer = b""
        self._events: list[dict] = []
        self._lock = threading.Lock()
        self.send("Browser.getVersion", timeout=timeout)  # fails fast if Chromium did not start

    @staticmethod
    def _above_nine(fd: int) -> int:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return "\n".join(lines[-5:])

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by Chromium: its processes still running and the helpers
        they have ended (renderers are ended by a zygote, not the browser); 0 when it is gone."""
        try:
            main = psutil.Process(self._proc.pid)
            procs = [main, *main.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
        return total

    def _message(self, patience: _Patience) -> dict:
        while b"\0" not in self._buffer:
            left = patience.left()
            if left <= 0:
                raise BrowserError(
                    f"Chromium did not answer in time (idle for {patience.timeout:g} s, or busy "
                    f"for over {MAX_PATIENCE * patience.timeout:g} s)"
                )
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(
                    f"Chromium closed its DevTools pipe (exit {self._proc.poll()}):\n{self._stderr_tail()}"
                )
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        """Send one DevTools command and return its result; events that arrive meanwhile
        are kept for ``wait_event``."""
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_child, data) :]
        except OSError as exc:
            raise BrowserError(f"Chromium is gone (exit {self._proc.poll()}): {exc}\n{self._stderr_tail()}") from exc
        patience = _Patience(self, timeout)
        while True:
            reply = self._message(patience)
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise BrowserError(f"Chromium refused {method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float) -> dict:
        patience = _Patience(self, timeout)
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._message(patience))

    def print_pdf(self, page: Path, timeout: float) -> bytes:
        """Open ``page`` (a local HTML file) in a new tab and print it with its CSS page size,
        tagged and with a document outline; the tab is closed afterwards."""
        with self._lock:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            try:
                session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
                self.send("Page.enable", session=session)
                self._events.clear()
                self.send("Page.navigate", {"url": Path(page).resolve().as_uri()}, session=session)
                self.wait_event("Page.loadEventFired", session, timeout)
                result = self.send(
                    "Page.printToPDF",
                    {
                        "preferCSSPageSize": True,
                        "displayHeaderFooter": False,
                        "printBackground": False,
                        "generateTaggedPDF": True,
                        "generateDocumentOutline": True,
                    },
                    session=session,
                    timeout=timeout,
                )
            finally:
                with contextlib.suppress(BrowserError):  # a dead browser must not hide why
                    self.send("Target.closeTarget", {"targetId": target})
                    # The one process keeps much of what the closed tab freed, growing by a few
                    # MB a print; a simulated memory shortage makes it give that back.
                    self.send("Memory.simulatePressureNotification", {"level": "critical"})
        return base64.b64decode(result["data"])

    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        """Stop Chromium (closing the pipe ends it) and remove its profile."""
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)


_shared: dict[str, Browser] = {}
_shared_lock = threading.Lock()


def shared(executable: str) -> Browser:
    """This process's browser for ``executable``, started if needed (or if it died)."""
    with _shared_lock:
        browser = _shared.get(executable)
        if browser is None or not browser.alive():
            if browser is not None:
                browser.close()
            browser = _shared[executable] = Browser(executable)
        return browser


def discard(executable: str) -> None:
    """Close this process's browser (after a failure: the next print starts a new one)."""
    with _shared_lock:
        browser = _shared.pop(executable, None)
    if browser is not None:
        browser.close()


@atexit.register
def _close_all() -> None:
    for name in list(_shared):
        discard(name)
