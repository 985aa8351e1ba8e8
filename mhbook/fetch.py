"""Turn a dataset id into a verified local file.

PROVISIONAL minimal version (mirror -> cache, hash checked); the fetch-layer work
replaces it with the full cache -> mirror -> download chain. Public API:
``fetch(dataset_id) -> pathlib.Path``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import platformdirs

from mhbook import catalogue
from mhbook.errors import DataIntegrityError, FetchError


def cache_dir() -> Path:
    """``$MHBOOK_CACHE`` or the OS user cache folder for mhbook."""
    return Path(os.environ.get("MHBOOK_CACHE") or platformdirs.user_cache_dir("mhbook"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(dataset_id: str) -> Path:
    ds = catalogue.get(dataset_id)
    target = cache_dir() / ds.file
    if target.exists():
        return target
    mirror = os.environ.get("MHBOOK_MIRROR")
    if not mirror:
        raise FetchError(f"{ds.id}: not cached and MHBOOK_MIRROR is not set")
    src = Path(mirror) / ds.file
    if not src.exists():
        raise FetchError(f"{ds.id}: {src} is not in the mirror")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        shutil.copyfileobj(open(src, "rb"), tmp)
    got = sha256_of(Path(tmp.name))
    if got != ds.sha256:
        os.unlink(tmp.name)
        raise DataIntegrityError(f"{src}: sha256 {got}, expected {ds.sha256}")
    os.replace(tmp.name, target)
    return target
