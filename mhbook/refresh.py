"""Refresh datasets from their publishers (for CI): ``python -m mhbook.refresh [ID ...]``.

For each dataset with a download URL: download it to a temporary file, hash it
(sha256) and compare with the catalogue. A changed file is checked against the
catalogue's expectations (for CSVs with a header: the same ``columns``; every
file: not empty). Only when every download and check succeeded are the new
hashes written into ``mhbook/catalogue.yaml`` (its ``sha256:`` lines, nothing else)
and the new files installed, verified, in the cache; otherwise nothing changes and
the exit status is 1. The pandera schemas of the source parsers then run when the
book is rebuilt (``make refresh`` runs ``mhbook build --all``), which re-executes
only the pages that read a changed dataset and prints which ones.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import re
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import requests

from mhbook import catalogue, fetch
from mhbook.errors import MhbookError, SchemaError

log = logging.getLogger(__name__)


def _download(ds: catalogue.Dataset, dest: Path) -> None:
    with requests.get(fetch.download_url(ds), stream=True, timeout=fetch._timeout()) as resp:
        resp.raise_for_status()
        with open(dest, "wb") as fh:
            for block in resp.iter_content(1 << 20):
                fh.write(block)


def check(ds: catalogue.Dataset, path: Path) -> None:
    """Raise ``SchemaError`` if the new file at ``path`` does not match ``ds``'s expectations."""
    if path.stat().st_size == 0:
        raise SchemaError(f"{ds.id}: the downloaded file {ds.file} is empty")
    if ds.file.lower().endswith(".csv") and ds.header and ds.columns:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            header = next(csv.reader(io.StringIO(fh.readline())), [])
        if tuple(header) != tuple(ds.columns):
            raise SchemaError(f"{ds.id}: {ds.file} columns are {header}, the catalogue expects {list(ds.columns)}")


def _rewrite_hashes(text: str, new: dict[str, str]) -> str:
    """``catalogue.yaml`` text with the ``sha256:`` line of each id in ``new`` replaced."""
    out, current = [], None
    for line in text.splitlines(keepends=True):
        m = re.match(r"^- id: (\S+)", line)
        if m:
            current = m.group(1)
        if current in new and re.match(r"^\s+sha256:", line):
            line = re.sub(r"sha256:\s*\S+", f"sha256: {new[current]}", line)
        out.append(line)
    return "".join(out)


def refresh(ids: list[str] | None = None) -> dict[str, tuple[str, str]]:
    """Download, check and (all succeeding) pin new versions; returns id -> (old, new sha256)."""
    selected = [catalogue.get(i) for i in ids] if ids else [d for d in catalogue.datasets().values() if d.url]
    changed: dict[str, tuple[str, str]] = {}
    staged: dict[str, Path] = {}
    work = Path(tempfile.mkdtemp(prefix="mhbook-refresh-"))
    for ds in selected:
        tmp = work / ds.id
        _download(ds, tmp)
        got = fetch.sha256_of(tmp)
        if got != ds.sha256:
            check(ds, tmp)
            changed[ds.id], staged[ds.id] = (ds.sha256, got), tmp
    if changed:
        cat = Path(str(files("mhbook").joinpath("catalogue.yaml")))
        text = _rewrite_hashes(cat.read_text("utf-8"), {i: new for i, (_, new) in changed.items()})
        tmp = cat.with_suffix(".yaml.tmp")
        tmp.write_text(text, "utf-8")
        os.replace(tmp, cat)
        catalogue.datasets.cache_clear()
        for dataset_id, path in staged.items():
            ds = catalogue.get(dataset_id)
            target = fetch.cached_path(ds)
            target.parent.mkdir(parents=True, exist_ok=True)
            fetch._install(ds, path, target)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh datasets from their sources and pin new hashes.")
    parser.add_argument("ids", nargs="*", help="dataset ids (default: every dataset with a URL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        changed = refresh(args.ids or None)
    except (MhbookError, requests.RequestException, OSError) as exc:
        sys.stderr.write(f"mhbook refresh: error: {exc}\nThe catalogue was not changed.\n")
        return 1
    for dataset_id, (old, new) in changed.items():
        sys.stdout.write(f"changed: {dataset_id}: {old[:16]} -> {new[:16]}\n")
    sys.stdout.write(f"{len(changed)} dataset(s) changed\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
