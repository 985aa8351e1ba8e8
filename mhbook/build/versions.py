"""Which code a page is made with: digests that decide when outputs and sites are stale.

An executed notebook depends on the mhbook modules it imports, directly or through other
modules (found by reading their ``import`` statements), and on the package's data files
(``*.yaml``, ``*.mplstyle``; the dataset hashes in ``catalogue.yaml`` excluded: a new hash
re-runs only the notebooks that read that dataset). A site also depends on the code
that renders it and writes its documents (``rendering_code``). The build's own modules
(``mhbook/build/``), the command line and the national page shape no area page and are left out.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
from pathlib import Path

import mhbook
from mhbook import atomic, catalogue

#: Files of the package that drive the build but do not shape any page.
_MACHINERY = {"cli.py", "national.py"}
#: The package folder holding the build itself (left out with ``_MACHINERY``).
_BUILD_PACKAGE = "build"
_HASH_LINE = re.compile(r"^\s*sha256:.*$", re.MULTILINE)


def sha256_hex(data: bytes | str) -> str:
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


@functools.lru_cache(maxsize=1024)
def _file_imports(path: Path, mtime_ns: int, size: int, name: str) -> frozenset[str]:
    """``_imports`` of the module file ``path`` (module ``name``), read once per version of
    the file: planning a build asks for every notebook's modules, which share most files."""
    return frozenset(_imports(path.read_text("utf-8"), name, path.name == "__init__.py"))


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
        stat = path.stat()
        todo |= _file_imports(path, stat.st_mtime_ns, stat.st_size, name) - seen
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
    return _digest(notebook_files(notebook))


def notebook_files(notebook: Path) -> list[Path]:
    """The mhbook code and data files a notebook can run: the modules its cells import,
    directly or through others, less the build's machinery (``_MACHINERY``, ``build/``),
    which one module reaches only to name the code's version (``result_cache``)."""
    import jupytext

    code = "\n".join(c.source for c in jupytext.read(notebook).cells if c.cell_type == "code")
    return [p for p in code_files(code) if not _is_machinery(p)] + _data_files()


def _is_machinery(path: Path) -> bool:
    relative = path.relative_to(_package())
    return relative.parts[0] == _BUILD_PACKAGE or relative.as_posix() in _MACHINERY


@functools.cache
def code_version() -> str:
    """``<version>+<sha256 prefix>`` of the whole package (a worker must not run another)."""
    files = [p for p in _package().rglob("*.py") if not _is_machinery(p)]
    return _digest(sorted(files) + _data_files())


@functools.cache
def catalogue_digest() -> str:
    """sha256 of the dataset hashes in the catalogue (a worker must not run another)."""
    return sha256_hex(json.dumps({i: d.sha256 for i, d in catalogue.datasets().items()}, sort_keys=True))


@functools.cache
def rendering_code() -> str:
    """Digest of the code and files that render a site and write its documents (the Sphinx
    extension with its CSS and templates, the exporters): a change there renders the sites
    again, without executing any notebook."""
    files = code_files("import mhbook.site, mhbook.export.brief, mhbook.export.datapack")
    assets = [p for p in (_package() / "site").rglob("*") if p.is_file() and p.suffix in {".css", ".html", ".js"}]
    return _digest(sorted(set(files) | set(assets)))


#: Where the last digest of each notebook is kept between processes, under the cache.
MEMO = "code-versions.json"


def _stat(path: Path) -> list:
    stat = path.stat()
    return [str(path), stat.st_mtime_ns, stat.st_size]


def _memo_path() -> Path:
    from mhbook.fetch import cache_dir

    return cache_dir() / MEMO


@functools.lru_cache(maxsize=64)
def notebook_code(path: Path, mtime_ns: int) -> str:
    """``notebook_code_version(path)``, computed once per version of the file.

    Working it out reads every module the notebook reaches (seconds for a whole build),
    so the digest is also kept on disk (``MEMO``) with the size and modification time of
    the notebook and of each file it was made from, and of the package's data files: it
    is used again while every one of them is unchanged (an edit that adds an import
    changes a file already listed). A missing or unreadable memo is only worked out again.
    """
    memo_path, key = _memo_path(), str(path)
    try:
        memo = json.loads(memo_path.read_text("utf-8"))
    except (OSError, ValueError):
        memo = {}
    data = [str(p) for p in _data_files()]
    try:
        kept = memo[key]
        if kept["data"] == data and all(_stat(Path(f)) == [f, m, n] for f, m, n in kept["files"]):
            return kept["digest"]
    except (OSError, KeyError, TypeError, ValueError):  # not kept, or a file gone
        pass
    files = [path, *notebook_files(path)]
    digest = _digest(files[1:])
    memo[key] = {"digest": digest, "files": [_stat(f) for f in files], "data": data}
    try:
        atomic.write_json(memo_path, memo)
    except OSError:  # a read-only cache only costs time
        pass
    return digest
