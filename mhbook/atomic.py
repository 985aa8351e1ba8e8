"""Writing files whole or not at all: every file the package writes goes through here.

A file is written to a temporary name beside its target (``.<name>.<random>.tmp``, in the
same folder, so on the same file system) and renamed over the target only once complete.
A reader, or a build killed part-way, sees either the old file or the new one, never a
part; a failed write removes its temporary file and leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_file(
    path: str | os.PathLike, write: Callable[[Path], object], *, sync: bool = False, suffix: str = ".tmp"
) -> Path:
    """Call ``write(tmp)`` with a temporary path beside ``path``, then rename it to ``path``.

    Creates the parent folders. The file is readable by everyone (mode 644), as a file
    written in place would be with the usual umask. ``sync``: flush the file to disk
    before the rename (documents handed to people). ``suffix`` ends the temporary name
    (a writer that goes by the file's extension needs it there). Any exception removes
    the temporary file and is raised again. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    return write_file(path, lambda tmp: tmp.write_text(text, "utf-8"))


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all."""
    return write_file(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: str | os.PathLike, data, **dumps) -> Path:
    """Write ``data`` as JSON (``json.dumps(data, **dumps)``) to ``path`` whole or not at all."""
    return write_text(path, json.dumps(data, **dumps))
