"""The output folder: one build at a time (its lock), writable, and tidied after a killed build.

A build writes sites into ``<out>/<area code>`` and its state into ``<out>/.mhbook-build``.
Staging folders (``.staging-<area>-<pid>-*``) and half-replaced sites (``.old-<area>-<pid>``)
carry the pid of the process that made them, so the next build can tell a running
build's folders from a dead one's (``clean_leftovers``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from mhbook.build.store import Store
from mhbook.errors import BuildLockedError, OutputError

log = logging.getLogger(__name__)


#: The lock file of an output folder: one build at a time writes into it.
LOCK_NAME = ".mhbook-build.lock"


@contextlib.contextmanager
def output_lock(out: Path):
    """Hold ``<out>/.mhbook-build.lock`` (``fcntl.flock``, exclusive, not waiting) while building.

    The file holds the holder's pid and start time; a second build stops at once with
    ``BuildLockedError`` naming them. The kernel releases a flock when its holder dies, so
    a lock file left by a killed build is simply taken over.
    """
    import fcntl
    import time

    path = Path(out) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").split()
            pid = holder[0] if holder else "unknown"
            since = " ".join(holder[1:]) or "an unknown time"
            raise BuildLockedError(
                f"--out {out} is in use by another mhbook build (pid {pid}, started {since}): wait for it to "
                f"finish, or choose another --out; the lock is {path}"
            ) from None
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {started}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def writable_output(out: Path) -> None:
    """Make ``out`` and prove it writable, or stop with a message naming it (before any work)."""
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"--out {out} is a file, not a folder: name a folder for the sites (it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".mhbook-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        hint = {
            errno.EROFS: "it is on a read-only file system",
            errno.ENOSPC: "its disk is full",
            errno.ENOTDIR: "part of the path is a file",
            errno.EEXIST: "part of the path is a file",
        }
        why = hint.get(exc.errno, exc.strerror or str(exc))
        raise OutputError(f"--out {out}: cannot write there ({why}); choose a folder you can write to") from exc


_LEFTOVER = re.compile(r"^\.(staging|old)-(.+?)-(\d+)(?:-[a-z0-9_]+)?$")
_WORKDIR = re.compile(r"-(\d+)-[a-z0-9_]+$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    try:  # a zombie has ended (an init that does not reap, in a container, keeps it listed)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def clean_leftovers(out: Path, *, workers: bool = True) -> list[Path]:
    """Remove what a killed build left in ``out``: staging folders and half-replaced sites
    of coordinating processes that are no longer running, and (``workers``) the notebook
    working folders of dead local workers. A site caught between its old and new folder is
    restored from the old one. Returns what was removed or restored."""
    cleaned = []
    for path in sorted(out.glob(".staging-*")) + sorted(out.glob(".old-*")):
        m = _LEFTOVER.match(path.name)
        if m and _alive(int(m.group(3))):
            continue  # another build, still running
        if m and m.group(1) == "old" and not (out / m.group(2)).exists():
            os.replace(path, out / m.group(2))  # killed between the two renames of replace_dir
        else:
            shutil.rmtree(path, ignore_errors=True)
        cleaned.append(path)
    tmp = Store(out).root / "tmp"
    if workers and tmp.is_dir():
        for path in tmp.iterdir():
            m = _WORKDIR.search(path.name)
            if not m or not _alive(int(m.group(1))):
                shutil.rmtree(path, ignore_errors=True)
                cleaned.append(path)
    if cleaned:
        log.info("removed %d folder(s) left by an earlier, stopped build in %s", len(cleaned), out)
    return cleaned


def remove_own_staging(out: Path) -> None:
    for path in out.glob(f".staging-*-{os.getpid()}-*"):
        shutil.rmtree(path, ignore_errors=True)
