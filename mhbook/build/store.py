"""The build's store: executed notebooks, their records, and the records of sites.

Every executed notebook (an *output*: one area x one notebook) is keyed by

- the sha256 of the notebook's MyST source,
- its papermill parameters (``{"area_code": ...}``),
- the code version of what it imports (``mhbook.build.versions``),
- the sha256 of every dataset the notebook read (recorded in the executing process
  through ``mhbook.reads``, taken from the catalogue when it finished).

Records live in ``<out>/.mhbook-build/records/<area>/<notebook>.json`` next to the
executed notebook and its published files (``outputs/<area>/<notebook>/``). An
output is written to a temporary folder, renamed into place, and only then is its
record written, so a build killed at any moment leaves either a complete output
with a record or nothing that is trusted; the next build resumes from there.

Each site also has a record (``sites/<area>.json``) holding a key over its
outputs' records, the book configuration and pages, and the Jupyter Book version:
a site whose key is unchanged and whose ``index.html`` exists is not rebuilt.
The last build's report is ``report.json`` (``mhbook.build.run.BuildReport.to_json``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from dataclasses import asdict, dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

import mhbook
from mhbook import atomic, catalogue
from mhbook.build.reasons import Reason, Why
from mhbook.build.versions import notebook_code, sha256_hex

#: Folder under the output folder holding records, outputs and temporary work.
STATE_DIR = ".mhbook-build"


@functools.lru_cache(maxsize=256)
def _file_sha(path: Path, mtime_ns: int, size: int) -> str:
    """sha256 of a file, read once per version of it (each area's key names the same
    notebooks and book pages)."""
    return sha256_hex(path.read_bytes())


def file_sha(path: Path) -> str:
    """sha256 of the file at ``path`` as it is now."""
    stat = path.stat()
    return _file_sha(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _jupyter_book() -> str:
    return dist_version("jupyter-book")


@dataclass(frozen=True)
class OutputKey:
    """What an output depends on, apart from the datasets it turns out to read."""

    area: str
    notebook: str
    source: str
    params: tuple[tuple[str, str], ...]
    code: str

    @classmethod
    def for_notebook(cls, area: str, notebook: str, path: Path, params: dict[str, str]) -> OutputKey:
        return cls(
            area,
            notebook,
            file_sha(path),
            tuple(sorted(params.items())),
            notebook_code(path, path.stat().st_mtime_ns),
        )


class Store:
    """The build state under ``<out>/.mhbook-build``."""

    def __init__(self, out: Path):
        self.root = Path(out) / STATE_DIR

    def output_dir(self, area: str, notebook: str) -> Path:
        return self.root / "outputs" / area / notebook

    def record_path(self, area: str, notebook: str) -> Path:
        return self.root / "records" / area / f"{notebook}.json"

    def site_path(self, area: str) -> Path:
        return self.root / "sites" / f"{area}.json"

    def report_path(self) -> Path:
        """The last build's report (``BuildReport.to_json``)."""
        return self.root / "report.json"

    def tmp_dir(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record(self, area: str, notebook: str) -> dict | None:
        try:
            return json.loads(self.record_path(area, notebook).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def stale_reason(self, key: OutputKey) -> Reason | None:
        """None if the output of ``key`` is up to date, else why it must be executed."""
        rec = self.record(key.area, key.notebook)
        if rec is None:
            return Reason(Why.NEW)
        if not (self.output_dir(key.area, key.notebook) / f"{key.notebook}.ipynb").exists():
            return Reason(Why.OUTPUT_MISSING)
        if rec["source"] != key.source:
            return Reason(Why.NOTEBOOK_CHANGED)
        if [list(p) for p in key.params] != rec["params"]:
            return Reason(Why.PARAMETERS_CHANGED)
        if rec["code"] != key.code:
            return Reason(Why.CODE_CHANGED)
        current = catalogue.hashes(rec["datasets"])
        changed = sorted(i for i, h in rec["datasets"].items() if current[i] != h)
        if changed:
            return Reason(Why.DATASETS_CHANGED, tuple(changed))
        return None

    def commit(self, key: OutputKey, workdir: Path, reads: list[str]) -> None:
        """Move an executed notebook's folder into place, then write its record."""
        target = self.output_dir(key.area, key.notebook)
        replace_dir(workdir, target)
        rec = asdict(key) | {"datasets": catalogue.hashes(reads)}
        write_json(self.record_path(key.area, key.notebook), rec)

    def forget(self, area: str, notebook: str) -> None:
        """Drop a record (a failed execution must run again next time)."""
        self.record_path(area, notebook).unlink(missing_ok=True)

    def site_key(self, outputs: list[tuple[str, str]], book_files: list[Path]) -> str:
        """Key of a site made of ``outputs`` ((area folder, notebook) pairs) and ``book_files``."""
        parts = {
            "records": [self.record(area, nb) for area, nb in outputs],
            "book": {p.name: file_sha(p) for p in book_files},
            "jupyter-book": _jupyter_book(),
            "version": mhbook.__version__,
        }
        return sha256_hex(json.dumps(parts, sort_keys=True))

    def site_current(self, area: str, key: str, site: Path) -> bool:
        try:
            rec = json.loads(self.site_path(area).read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return rec.get("key") == key and (site / "index.html").exists()

    def mark_site(self, area: str, key: str) -> None:
        write_json(self.site_path(area), {"key": key})


def write_json(path: Path, data) -> None:
    """Write JSON whole or not at all (``mhbook.atomic``), indented, keys sorted."""
    atomic.write_json(path, data, indent=1, sort_keys=True)


def replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing any old folder only once the new one is whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
