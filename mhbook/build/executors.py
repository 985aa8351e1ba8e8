"""Where area jobs run: a local pool of worker processes, or a Dask cluster.

Both offer ``submit``, ``as_completed``, ``close`` (wait for running jobs) and ``abort``
(stop now: an interrupted build). Local workers are started with ``spawn`` (a clean
interpreter each) and end with the coordinating process (``workers.worker_init``).
"""

from __future__ import annotations

import contextlib
import os
import re
from concurrent.futures import Future

from mhbook.build.workers import worker_init
from mhbook.errors import MhbookError, UsageError

#: How worker processes start: "spawn" gives each a clean interpreter (no threads or
#: state inherited from the coordinating process).
START_METHOD = "spawn"


class Local:
    """A pool of worker processes, each keeping its shell and loaded tables between jobs
    (started on first use: a build with nothing to do starts none)."""

    def __init__(self, jobs: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Workers end when this process dies, however it dies (see workers.worker_init).
        self.pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context(START_METHOD),
            initializer=worker_init,
            initargs=(os.getpid(),),
        )

    def submit(self, func, *args) -> Future:
        return self.pool.submit(func, *args)

    def as_completed(self, futures):
        from concurrent.futures import as_completed

        return as_completed(futures)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop now: cancel what has not started and end the workers (an interrupted build)."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        for proc in processes:
            with _quiet():
                proc.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with _quiet():
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
        self._forget_manager()

    def _forget_manager(self) -> None:
        """Wait for the pool's manager thread to end and take it off the list that
        ``concurrent.futures`` wakes at interpreter exit: waking it there, through a pipe
        the stopped pool has closed, printed a traceback after an interrupted build's
        last line ("Bad file descriptor")."""
        from concurrent.futures import process

        manager = getattr(self.pool, "_executor_manager_thread", None)
        if manager is None:
            return
        with _quiet():
            manager.join(5)
        if not manager.is_alive():
            getattr(process, "_threads_wakeups", {}).pop(manager, None)


def _quiet():
    return contextlib.suppress(Exception)


#: Seconds to wait for a Dask scheduler to answer.
SCHEDULER_TIMEOUT_S = 20


def check_scheduler_address(address: str) -> None:
    """``[protocol://]host[:port]``, or stop with a message (a usage error)."""
    host = r"(?:[^\s/:\[\]]+|\[[0-9a-fA-F:.]+\])"
    if not re.fullmatch(rf"(?:[a-z]+://)?{host}(?::\d{{1,5}})?/?", address):
        raise UsageError(f"--scheduler {address!r} is not a scheduler address: give one such as tcp://10.0.0.5:8786")


class Dask:
    """Area jobs submitted to a Dask distributed scheduler (workers need the shared ``out``)."""

    def __init__(self, address: str):
        from distributed import Client

        check_scheduler_address(address)
        try:
            self.client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, ValueError, TypeError) as exc:  # refused, timed out, unknown host or protocol
            raise MhbookError(
                f"--scheduler {address}: no Dask scheduler answered within {SCHEDULER_TIMEOUT_S} s "
                f"({type(exc).__name__}: {exc}). Start one (dask scheduler) or check the address; without "
                "--scheduler the build runs on this machine"
            ) from exc

    def submit(self, func, *args) -> Future:
        return self.client.submit(func, *args, pure=False)

    def as_completed(self, futures):
        from distributed import as_completed

        return as_completed(futures)

    def close(self) -> None:
        self.client.close()

    def abort(self) -> None:
        with _quiet():
            self.client.close(timeout=5)


def executor(jobs: int, scheduler: str | None, n: int):
    if scheduler:
        return Dask(scheduler)
    return Local(max(1, min(jobs, n)))
