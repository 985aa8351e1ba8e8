"""Keys and records of the incremental build: what is up to date, and why not.

Every executed notebook (an *output*: one area x one notebook) is keyed by

- the sha256 of the notebook's MyST source,
- its papermill parameters (``{"area_code": ...}``; none for England-level notebooks),
- the code version: ``mhbook.__version__`` plus a sha256 of the mhbook modules the
  notebook imports, directly or through other modules (found by reading their
  ``import`` statements), and of the package's data files (``*.yaml``,
  ``*.mplstyle``; the dataset hashes in ``catalogue.yaml`` excluded), so a changed
  measure re-runs the notebooks that use it and no others,
- the sha256 of every dataset the notebook read (recorded in the executing process by
  ``mhbook.buildtrack``, taken from the catalogue when it finished).

Records live in ``<out>/.mhbook-build/records/<area>/<notebook>.json`` next to the
executed notebook and its published files (``outputs/<area>/<notebook>/``). An
output is written to a temporary folder, renamed into place, and only then is its
record written, so a build killed at any moment leaves either a complete output
with a record or nothing that is trusted; the next build resumes from there.

Each site also has a record (``sites/<area>.json``) holding a key over its
outputs' records, the book configuration and pages, and the Jupyter Book version:
a site whose key is unchanged and whose ``index.html`` exists is not rebuilt.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

import mhbook
from mhbook import catalogue

#: Folder under the output folder holding records, outputs and temporary work.
STATE_DIR = ".mhbook-build"
#: Modules that drive the build but do not shape any page.
_MACHINERY = {"build.py", "buildcache.py", "buildtrack.py", "cli.py", "parallel.py", "national.py"}
_HASH_LINE = re.compile(r"^\s*sha256:.*$", re.MULTILINE)


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _package() -> Path:
    return Path(mhbook.__file__).parent


def _module_file(name: str) -> Path | None:
    """The file of module ``mhbook.x.y`` (a package's ``__init__.py``), if it exists."""
    base = _package().parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(code: str, module: str = "", is_package: bool = False) -> set[str]:
    """mhbook modules named by the import statements in ``code`` (``module`` resolves
    relative imports). ``from a import b`` yields ``a`` and, if it is a module, ``a.b``."""
    found: set[str] = set()
    try:
        tree = ast.parse(code)
    except SyntaxError:  # a notebook cell with magics: read what parses line by line
        return set().union(*(_imports(line) for line in code.splitlines() if "import" in line and line[:1] != "%"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {n for n in found if n.split(".")[0] == "mhbook" and _module_file(n)}


def code_files(code: str) -> list[Path]:
    """Files of every mhbook module ``code`` imports, directly or through other modules."""
    todo, seen = _imports(code) | {"mhbook"}, set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo |= {".".join(parts[:i]) for i in range(1, len(parts))}  # parents run first
        path = _module_file(name)
        todo |= _imports(path.read_text("utf-8"), name, path.name == "__init__.py") - seen
    return sorted({_module_file(n) for n in seen} - {None})


def _data_files() -> list[Path]:
    return sorted(p for p in _package().rglob("*") if p.suffix in {".yaml", ".mplstyle"} and p.is_file())


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in files:
        text = path.read_text("utf-8")
        if path.name == "catalogue.yaml":
            text = _HASH_LINE.sub("", text)
        h.update(path.relative_to(_package()).as_posix().encode() + b"\0" + text.encode() + b"\0")
    return f"{mhbook.__version__}+{h.hexdigest()[:16]}"


def notebook_code_version(notebook: Path) -> str:
    """``<version>+<sha256 prefix>`` of the mhbook code and data files a notebook can run.

    ``catalogue.yaml`` enters without its ``sha256:`` lines: a dataset's new hash
    re-runs only the notebooks that read it (see ``Store.stale_reason``), while any
    other catalogue change (titles, licences) re-runs them all, as any page may show it.
    """
    import jupytext

    code = "\n".join(c.source for c in jupytext.read(notebook).cells if c.cell_type == "code")
    return _digest(code_files(code) + _data_files())


@functools.cache
def code_version() -> str:
    """``<version>+<sha256 prefix>`` of the whole package (a worker must not run another)."""
    files = [p for p in _package().rglob("*.py") if p.name not in _MACHINERY]
    return _digest(sorted(files) + _data_files())


@functools.cache
def catalogue_digest() -> str:
    """sha256 of the dataset hashes in the catalogue (a worker must not run another)."""
    return _sha(json.dumps({i: d.sha256 for i, d in catalogue.datasets().items()}, sort_keys=True))


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
        return cls(area, notebook, _sha(path.read_bytes()), tuple(sorted(params.items())),
                   _notebook_code(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=64)
def _notebook_code(path: Path, mtime_ns: int) -> str:
    return notebook_code_version(path)


def dataset_hashes(ids: list[str]) -> dict[str, str]:
    """The catalogue's sha256 of each dataset id (an id no longer catalogued maps to "")."""
    known = catalogue.datasets()
    return {i: known[i].sha256 if i in known else "" for i in ids}


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

    def tmp_dir(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record(self, area: str, notebook: str) -> dict | None:
        try:
            return json.loads(self.record_path(area, notebook).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def stale_reason(self, key: OutputKey) -> str | None:
        """None if the output of ``key`` is up to date, else why it must be executed."""
        rec = self.record(key.area, key.notebook)
        if rec is None:
            return "new"
        if not (self.output_dir(key.area, key.notebook) / f"{key.notebook}.ipynb").exists():
            return "output missing"
        if rec["source"] != key.source:
            return "notebook changed"
        if [list(p) for p in key.params] != rec["params"]:
            return "parameters changed"
        if rec["code"] != key.code:
            return "mhbook code changed"
        current = dataset_hashes(list(rec["datasets"]))
        changed = sorted(i for i, h in rec["datasets"].items() if current[i] != h)
        if changed:
            return "datasets changed: " + ", ".join(changed)
        return None

    def commit(self, key: OutputKey, workdir: Path, reads: list[str]) -> None:
        """Move an executed notebook's folder into place, then write its record."""
        target = self.output_dir(key.area, key.notebook)
        replace_dir(workdir, target)
        rec = asdict(key) | {"datasets": dataset_hashes(reads)}
        write_json(self.record_path(key.area, key.notebook), rec)

    def forget(self, area: str, notebook: str) -> None:
        """Drop a record (a failed execution must run again next time)."""
        self.record_path(area, notebook).unlink(missing_ok=True)

    def site_key(self, outputs: list[tuple[str, str]], book_files: list[Path]) -> str:
        """Key of a site made of ``outputs`` ((area folder, notebook) pairs) and ``book_files``."""
        parts = {
            "records": [self.record(area, nb) for area, nb in outputs],
            "book": {p.name: _sha(p.read_bytes()) for p in book_files},
            "jupyter-book": dist_version("jupyter-book"),
            "version": mhbook.__version__,
        }
        return _sha(json.dumps(parts, sort_keys=True))

    def site_current(self, area: str, key: str, site: Path) -> bool:
        try:
            rec = json.loads(self.site_path(area).read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return rec.get("key") == key and (site / "index.html").exists()

    def mark_site(self, area: str, key: str) -> None:
        write_json(self.site_path(area), {"key": key})


def write_json(path: Path, data) -> None:
    """Write JSON atomically (temporary file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, path)


def replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing any old folder only once the new one is whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
