"""Build the static Jupyter Book of each County & UA, incrementally and in parallel.

For each area the MyST-Markdown notebooks in ``notebooks/`` are executed with the
area's parameters (papermill's parameter injection), then Jupyter Book 1 renders
them (``execute_notebooks: off``) with a strict Sphinx build (``-W -n
--keep-going``). Only a complete site is moved into ``<out>/<area code>/``; a failed
area keeps its previous site and gets its executed notebooks under
``<out>/_reports/<area code>/`` for diagnosis, and the failure table lists area x
notebook x cell.

What makes it fast (see ``mhbook.parallel`` and ``mhbook.buildcache``):

- each executed notebook is stored with a key (notebook source, parameters, code
  version, hashes of the datasets it read); an output whose key is unchanged is
  not executed again, and a site whose outputs and book files are unchanged is
  not rendered again, so a build after one dataset changed re-runs only what reads it;
- notebooks run inside long-lived worker processes (no kernel per notebook), which
  also run Sphinx, so start-up costs and England-level results are paid once per worker;
- England-level notebooks (those whose ``parameters`` cell has no ``area_code``) are
  executed once and their page is shared by every site;
- ``_static`` files, identical in every site, are stored once and hard-linked;
- workers render each site and write its Word document and the PDF's print page; this
  process prints the PDFs with one long-lived Chromium and moves each site into place.

``build_areas`` with ``everything=True`` also writes the national landing site
(``mhbook.national``): an index with a clickable map and a search box.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
from collections import Counter
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from mhbook import buildcache, project
from mhbook.areas import Area
from mhbook.buildcache import OutputKey, Store, replace_dir
from mhbook.errors import BuildLockedError, MhbookError, OutputError, UsageError
from mhbook.parallel import (CELL_TIMEOUT_S, AreaJob, AreaOutcome, Failure, os_failure, run_area_job, run_shared_job,
                             sphinx_build, worker_init)

log = logging.getLogger(__name__)

__all__ = ["CELL_TIMEOUT_S", "AreaResult", "BookError", "BuildReport", "Failure", "build_area", "build_areas",
           "notebook_names", "project_root", "render_site", "write_index"]

#: The folder name under which England-level notebooks are stored.
ENGLAND = "england"
#: How worker processes start: "spawn" gives each a clean interpreter (no threads or
#: state inherited from the coordinating process).
START_METHOD = "spawn"


class BookError(RuntimeError):
    """Sphinx (Jupyter Book) failed to render an area's site."""


class WorkerLostError(MhbookError):
    """A worker process died mid-build (killed, out of memory, or a crash in native code)."""


class BuildInterrupted(BaseException):
    """SIGTERM or SIGINT stopped the build; workers and staging folders are gone, finished sites stay.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum  # 143 for SIGTERM, 130 for SIGINT, as a shell reports them

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return (f"interrupted ({name}): the sites finished so far are in place and nothing half-built was left; "
                "run the same command again to resume")


def project_root() -> Path:
    """The folder holding ``notebooks/``, ``book/``, ``_config.yml`` and ``_toc.yml`` (``mhbook.project``)."""
    return project.root()


def notebook_names(root: Path | None = None, only: list[str] | None = None) -> list[str]:
    """Notebook stems in table-of-contents order; ``only`` keeps a subset (for
    working on a chapter), always with the landing page if it exists."""
    root = root or project_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    names = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise UsageError(f"--only {', '.join(unknown)}: no such chapter in {root / '_toc.yml'}; "
                             f"the chapters are {', '.join(names)}")
        names = [n for n in names if n in only]
    return [n for n in names if (root / "notebooks" / f"{n}.md").exists()]


_AREA_PARAMETER = re.compile(r"^area_code\s*=", re.MULTILINE)


def takes_area(path: Path) -> bool:
    """True if the notebook's ``parameters`` cell sets ``area_code`` (else it is England-level)."""
    import jupytext

    for cell in jupytext.read(path).cells:
        if "parameters" in cell.metadata.get("tags", []):
            return bool(_AREA_PARAMETER.search(cell.source))
    return False


@dataclass
class AreaResult:
    area: Area
    site: Path | None
    failures: list[Failure] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    """What a build did: per-area results and what changed since the last build."""

    results: list[AreaResult]
    reasons: dict[tuple[str, str], str]  # (area, notebook) -> why it was executed
    up_to_date: int  # areas skipped: nothing changed
    landing: Path | None = None

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.results for f in r.failures]

    def changed_datasets(self) -> list[str]:
        ids = set()
        for why in self.reasons.values():
            if why.startswith("datasets changed: "):
                ids.update(why.removeprefix("datasets changed: ").split(", "))
        return sorted(ids)

    def changed_pages(self) -> dict[str, int]:
        """Notebook -> how many areas execute it in this build."""
        return dict(Counter(nb for _, nb in self.reasons))

    def why_counts(self) -> dict[str, int]:
        return dict(Counter(re.sub(r":.*", "", why) for why in self.reasons.values()))


def _book_files(root: Path) -> list[Path]:
    pages = sorted(p for p in (root / "book").iterdir() if p.is_file() and not p.name.startswith("."))
    return pages + [root / "_config.yml", root / "_toc.yml"]


def document_formats() -> list[str]:
    """The area documents a build makes: Word always; PDF where Chromium can print it."""
    from mhbook.export import pdf

    return ["docx", "pdf"] if shutil.which(pdf.CHROMIUM) else ["docx"]


def _write_book_config(root: Path, staging: Path, title: str, names: list[str],
                       documents: list[str] | None = None) -> None:
    config = yaml.safe_load((root / "_config.yml").read_text("utf-8"))
    config["title"] = title
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    pages = set(names) | {p.stem for p in (root / "book").glob("*.md")}
    every = [toc["root"], *(c["file"] for c in toc.get("chapters", []))]
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["mhbook_documents"] = documents or []
    # Chapters left out (--only): links to them become plain text (mhbook.site.absent_links).
    sphinx_config["mhbook_absent_pages"] = [page for page in every if page not in pages]
    (staging / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    chapters = [c for c in toc.get("chapters", []) if c["file"] in pages]
    root_page = toc["root"] if toc["root"] in pages else chapters.pop(0)["file"]
    toc = {"format": toc["format"], "root": root_page, **({"chapters": chapters} if chapters else {})}
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), "utf-8")


def _link_tree(src: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) every file of ``src`` into ``dest``."""

    def link(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dest, dirs_exist_ok=True, copy_function=link)


def _share_static(html: Path, store: Path) -> None:
    """Store each ``_static`` file once (by sha256) and hard-link it into the site.

    Every site carries the same theme files (about 7 MB); linking keeps each site a
    complete folder that can be copied or served alone.
    """
    static = html / "_static"
    if not static.is_dir():
        return
    from mhbook.fetch import sha256_of

    store.mkdir(parents=True, exist_ok=True)
    for path in static.rglob("*"):
        if not path.is_file():
            continue
        shared = store / sha256_of(path)
        try:
            if not shared.exists():
                os.link(path, shared)
            else:
                tmp = path.with_name(f".{path.name}.lnk")
                os.link(shared, tmp)
                os.replace(tmp, path)
        except OSError:  # another file system: keep the plain copy
            continue


@dataclass
class StagedSite:
    """An area's site rendered by Sphinx in a staging folder, waiting for its documents."""

    area_code: str
    staging: str  # removed once the site is in place (or has failed)
    key: str
    print_page: str | None  # the PDF's print page, when a PDF is still to be printed


@functools.cache
def _rendering_code() -> str:
    """Digest of the code and files that render a site and write its documents (the Sphinx
    extension with its CSS and templates, the exporters): a change there renders the sites
    again, without executing any notebook."""
    from mhbook.buildcache import _digest, _package, code_files

    files = code_files("import mhbook.site, mhbook.export.brief, mhbook.export.datapack")
    assets = [p for p in (_package() / "site").rglob("*") if p.is_file() and p.suffix in {".css", ".html", ".js"}]
    return _digest(sorted(set(files) | set(assets)))


def _with_documents(key: str, area_code: str, notebooks: list[str]) -> str:
    """``key`` extended with the documents the site would have now (``document_formats``),
    so a site made without a PDF (no Chromium then) is made again once Chromium is there,
    and with the rendering code (``_rendering_code``)."""
    documents = site_links(document_formats(), notebooks) if area_code != ENGLAND else []
    return hashlib.sha256(f"{key}|documents={','.join(documents)}|code={_rendering_code()}".encode()).hexdigest()


def _site_key(job: AreaJob) -> str:
    """The key of ``job``'s site: its stored outputs (own and shared), the book's files and
    the document formats it has."""
    owners = [(job.shared.get(nb, job.area_code), nb) for nb in job.notebooks]
    return _with_local(_with_documents(Store(Path(job.out)).site_key(owners, _book_files(Path(job.root))),
                                       job.area_code, job.notebooks), _local_pages(job))


def _local_pages(job: AreaJob) -> dict[str, str]:
    """The job's local texts for the chapters its site has."""
    return {nb: text for nb, text in job.local.items() if nb in job.notebooks}


def site_is_current(job: AreaJob) -> bool:
    """Whether ``job``'s site in place was rendered from exactly its current outputs."""
    out = Path(job.out)
    return Store(out).site_current(job.area_code, _site_key(job), out / job.area_code)


def stage_site(job: AreaJob) -> StagedSite | None:
    """Render ``job``'s site from its stored outputs into a staging folder under ``out``.

    Returns None when the site's key is unchanged (the existing site is current). Raises
    ``BookError`` when Sphinx fails; the executed notebooks then go to ``_reports``.
    """
    root, out = Path(job.root), Path(job.out)
    store = Store(out)
    owners = {nb: job.shared.get(nb, job.area_code) for nb in job.notebooks}
    key = _site_key(job)
    if store.site_current(job.area_code, key, out / job.area_code):
        return None
    # The coordinating process's pid in the name: a dead build's staging is removed by the next.
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{job.area_code}-{job.build_pid or os.getpid()}-", dir=out))
    try:
        for page in _book_files(root)[:-2]:
            shutil.copy(page, staging / page.name)
        for nb, owner in owners.items():
            _link_tree(store.output_dir(owner, nb), staging)
        for nb, text in _local_pages(job).items():
            insert_local(staging / f"{nb}.ipynb", text)
        documents = document_formats() if job.area_code != ENGLAND else []
        _write_book_config(root, staging, f"Mental health inequalities: {job.area_name}", job.notebooks,
                           site_links(documents, job.notebooks))
        try:
            sphinx_build(staging, staging / "_build" / "html")
        except RuntimeError as exc:
            _keep_reports(staging, out / "_reports" / job.area_code)
            raise BookError(str(exc)) from exc
        page = staging / "print.html" if "pdf" in documents else None
        _write_documents(job.area_code, staging / "_build" / "html", documents, page,
                         board_brief=BRIEF_SOURCE in job.notebooks)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StagedSite(job.area_code, str(staging), key, str(page) if page else None)


# --- The author's own words (``--local DIR``) -------------------------------------------

#: The title of the box that holds an author's local text, on the page and in the documents.
LOCAL_TITLE = "Local context (added by the area’s authors)"  # the typographic apostrophe Sphinx prints
#: The box's HTML class (``admonition mhbook-local-text``).
LOCAL_CLASS = "mhbook-local-text"
#: Bumped when the way local text is placed changes, so every site with local text is made again.
_LOCAL_FORMAT = "1"


class LocalTextWarning(UserWarning):
    """A file in the ``--local`` folder that is not read (not ``<area code>/<chapter>.md``)."""


def local_folder(local: str | os.PathLike | None = None) -> Path | None:
    """The ``--local`` folder (else ``$MHBOOK_LOCAL``), absolute: a relative path is taken
    from the caller's working directory. None when neither is given."""
    raw = os.fspath(local) if local else os.environ.get("MHBOOK_LOCAL")
    if not raw:
        return None
    folder = Path(os.path.abspath(Path(raw).expanduser()))
    if not folder.is_dir():
        raise UsageError(f"--local {folder} does not exist or is not a folder: give the folder holding "
                         "<area code>/<chapter>.md files (for example local/E08000004/summary.md)")
    return folder


def read_local(folder: Path, root: Path | None = None) -> dict[str, dict[str, str]]:
    """Area code -> chapter -> the author's MyST text, from ``folder/<area code>/<chapter>.md``.

    Every file is checked, whichever areas are built: a folder that is not a County & UA code
    or a file that names no chapter stops the build with a message naming it (and the valid
    chapter names), before anything is written. Other files (not ``.md``) are ignored with a
    ``LocalTextWarning``; hidden files and empty ones are ignored.
    """
    import warnings

    from mhbook import areas as registry

    chapters = notebook_names(root or project_root())
    valid = ", ".join(f"{c}.md" for c in chapters)
    codes = {a.code for a in registry.all_areas()}
    texts: dict[str, dict[str, str]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            raise UsageError(f"--local: {entry} is not in an area's folder: local text goes in "
                             f"{folder}/<area code>/<chapter>.md (chapters: {valid})")
        if entry.name not in codes:
            raise UsageError(f"--local: {entry} is not named by the code of a current County & UA"
                             f"{_code_hint(registry, entry.name)}; name each folder by the area's code "
                             "(`mhbook areas NAME` shows it)")
        for path in sorted(entry.iterdir()):
            if path.name.startswith("."):
                continue
            if path.suffix != ".md" or not path.is_file():
                warnings.warn(LocalTextWarning(f"--local: {path} is ignored: only <chapter>.md files are read "
                                               f"(chapters: {valid})"), stacklevel=2)
                continue
            if path.stem not in chapters:
                import difflib

                close = difflib.get_close_matches(path.stem, chapters, n=1)
                hint = f" (did you mean {close[0]}.md?)" if close else ""
                raise UsageError(f"--local: {path} names no chapter of the book ({path.stem!r}){hint}; "
                                 f"name each file by its chapter: {valid}")
            try:
                text = _without_front_matter(path.read_text("utf-8")).strip()
            except UnicodeDecodeError as exc:
                raise UsageError(f"--local: {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
            if text:
                texts.setdefault(entry.name, {})[path.stem] = text
    return texts


def _code_hint(registry, name: str) -> str:
    try:
        area = registry.get(name)
    except MhbookError:
        return ""
    return f" ({name!r} is {area.name}, {area.code}: rename the folder to {area.code})"


def _without_front_matter(text: str) -> str:
    m = re.match(r"\A---[ \t]*\n.*?\n---[ \t]*\n", text, re.DOTALL)
    return text[m.end():] if m else text


def _with_local(key: str, texts: dict[str, str]) -> str:
    """``key`` extended with the area's local texts (unchanged when it has none)."""
    if not texts:
        return key
    local = json.dumps(texts, sort_keys=True)
    return hashlib.sha256(f"{key}|local={_LOCAL_FORMAT}:{local}".encode()).hexdigest()


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_TARGET = re.compile(r"^\s*\([^()\s]+\)=\s*$")


def _outside_code(lines: list[str]):
    """(index, line) of the lines of MyST ``lines`` not inside a code block."""
    fence = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None:
            if m and not m.group(2).strip().startswith("{"):
                fence = m.group(1)
                continue
            yield i, line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = None


def local_block(text: str) -> str:
    """The author's MyST ``text`` in a box titled ``LOCAL_TITLE``. Headings become rubrics
    (a section cannot start inside a box)."""
    lines = text.splitlines()
    for i, line in list(_outside_code(lines)):
        m = _HEADING.match(line)
        if m:
            lines[i] = f"```{{rubric}} {m.group(2)}\n```"
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"^\s*(`{3,})", body, re.MULTILINE)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{admonition}} {LOCAL_TITLE}\n:class: {LOCAL_CLASS}\n\n{body}\n{fence}\n"


def insert_local(notebook: Path, text: str) -> None:
    """Put ``text`` (``local_block``) into the executed ``notebook`` just before its first
    ``##`` heading (after the chapter's opening section; at the end if it has none).

    The file is written anew and renamed over ``notebook``, never written through: in a
    staging folder it is a hard link to the stored output."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    where = len(nb.cells)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines(keepends=True)
        hit = next((j for j, line in _outside_code(lines) if line.startswith("## ")), None)
        if hit is None:
            continue
        while hit and _TARGET.match(lines[hit - 1]):  # a label stays with its heading
            hit -= 1
        where = i
        if hit:
            cell.source = "".join(lines[:hit])
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell("".join(lines[hit:])))
            where = i + 1
        break
    nb.cells.insert(where, nbformat.v4.new_markdown_cell(local_block(text), metadata={"tags": [LOCAL_CLASS]}))
    tmp = notebook.with_name(f".{notebook.name}.{os.getpid()}.local")
    try:
        nbformat.write(nb, tmp)
        os.replace(tmp, notebook)
    finally:
        tmp.unlink(missing_ok=True)


def finish_site(out: Path, staged: StagedSite) -> Path:
    """Print the staged site's PDF into it, then move the site into ``<out>/<code>``.
    On failure (``BookError``) the previous site stays."""
    out = Path(out)
    staging = Path(staged.staging)
    try:
        html = staging / "_build" / "html"
        if staged.print_page:
            from mhbook import export
            from mhbook.export import pdf

            from mhbook.site import BRIEF_DOWNLOADS

            try:
                pdf.print_page(Path(staged.print_page), export.download_path(html, "pdf"), staged.area_code)
                board = brief_page(Path(staged.print_page))
                if board.is_file():
                    pdf.print_page(board, html / BRIEF_DOWNLOADS["brief-pdf"], staged.area_code)
            except export.ConverterError as exc:
                raise BookError(f"{staged.area_code}: the pdf document could not be made: {exc}") from exc
        store = Store(out)
        _share_static(html, store.root / "static")
        replace_dir(html, out / staged.area_code)
        store.mark_site(staged.area_code, staged.key)
        shutil.rmtree(out / "_reports" / staged.area_code, ignore_errors=True)  # an earlier failure's, now stale
        return out / staged.area_code
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def render_site(job: AreaJob) -> Path:
    """Bring ``job``'s site up to date in this process: ``stage_site`` then ``finish_site``."""
    staged = stage_site(job)
    return Path(job.out) / job.area_code if staged is None else finish_site(Path(job.out), staged)


#: The page the board brief is made from: without it (``--only``) a site has no brief.
BRIEF_SOURCE = "summary"


def site_links(documents: list[str], notebooks: list[str]) -> list[str]:
    """What an area's pages link under downloads: its ``documents``, the board brief in
    the same formats (when the site has the summary page), and the data pack."""
    from mhbook.site import DATA_DOWNLOADS

    if not documents:
        return []
    briefs = [f"brief-{d}" for d in documents] if BRIEF_SOURCE in notebooks else []
    return [*documents, *briefs, *DATA_DOWNLOADS]


def _write_documents(code: str, html: Path, formats: list[str], print_page: Path | None,
                     board_brief: bool = True) -> None:
    """Write the area's Word document and data pack into the staged site, and for a PDF
    its print page at ``print_page`` (``finish_site`` prints it), so every download link
    works once the site goes live; a failure fails the site (the old one stays)."""
    if not formats:
        return
    from mhbook import areas, export
    from mhbook.export import brief, datapack, pdf
    from mhbook.site import BRIEF_DOWNLOADS

    area = areas.get(code)
    document = export.read_site(html, area)
    try:
        datapack.write_datapack(html, html.parents[1] / "_figures", area, html / "downloads",
                                pages=[(ch.page, ch.title) for ch in document.chapters])
    except (export.SiteError, ValueError, KeyError) as exc:
        raise BookError(f"{code}: the data pack could not be made: {exc}") from exc
    try:
        board = brief.read_brief(html, area, full=document) if board_brief else None
    except export.SiteError as exc:
        raise BookError(f"{code}: the board brief could not be made: {exc}") from exc
    for fmt in formats:
        try:
            if fmt == "pdf":
                print_page.write_text(pdf.to_html(document), "utf-8")
                if board is not None:
                    brief_page(print_page).write_text(pdf.brief_html(board), "utf-8")
            else:
                export.WRITERS[fmt](document, export.download_path(html, fmt))
                if board is not None:
                    brief.WRITERS[fmt](board, html / BRIEF_DOWNLOADS[f"brief-{fmt}"])
        except export.ConverterError as exc:
            raise BookError(f"{code}: the {fmt} document could not be made: {exc}") from exc


def brief_page(print_page: Path) -> Path:
    """Where the board brief's print page is written, beside the full document's."""
    return print_page.with_name("print-brief.html")


def _keep_reports(staging: Path, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for nb in staging.glob("*.ipynb"):
        shutil.copy(nb, dest / nb.name)


def write_index(out: Path) -> Path:
    """Write the national landing page ``out/index.html`` (see ``mhbook.national``)."""
    from mhbook import national

    return national.write_landing(Path(out))


def _plan(areas: list[Area], out: Path, only: list[str] | None, local: dict[str, dict[str, str]] | None = None):
    """The shared jobs and area jobs that bring ``areas`` up to date, and why each output runs."""
    root = project_root()
    store = Store(out)
    names = notebook_names(root, only)
    paths = {nb: root / "notebooks" / f"{nb}.md" for nb in names}
    shared_nbs = [nb for nb in names if not takes_area(paths[nb])]
    code, cat = buildcache.code_version(), buildcache.catalogue_digest()

    def job_for(code_: str, name: str, execute: dict[str, str]) -> AreaJob:
        return AreaJob(code_, name, str(out), str(root), names, execute, {nb: ENGLAND for nb in shared_nbs},
                       code, cat, build_pid=os.getpid(), local=(local or {}).get(code_, {}))

    reasons: dict[tuple[str, str], str] = {}
    shared_exec = {}
    for nb in shared_nbs:
        why = store.stale_reason(OutputKey.for_notebook(ENGLAND, nb, paths[nb], {}))
        if why:
            shared_exec[nb] = reasons[(ENGLAND, nb)] = why
    jobs, up_to_date = [], 0
    book_files = _book_files(root)
    for area in areas:
        execute = {}
        for nb in names:
            if nb in shared_nbs:
                continue
            why = store.stale_reason(OutputKey.for_notebook(area.code, nb, paths[nb], {"area_code": area.code}))
            if why:
                execute[nb] = reasons[(area.code, nb)] = why
        if not execute and not shared_exec:
            owners = [(ENGLAND if nb in shared_nbs else area.code, nb) for nb in names]
            key = _with_documents(store.site_key(owners, book_files), area.code, names)
            key = _with_local(key, {nb: t for nb, t in (local or {}).get(area.code, {}).items() if nb in names})
            if store.site_current(area.code, key, out / area.code):
                up_to_date += 1
                continue
        jobs.append(job_for(area.code, area.name, execute))
    england = job_for(ENGLAND, "England", shared_exec)
    england.notebooks = shared_nbs
    return england, jobs, reasons, up_to_date


class _Local:
    """A pool of worker processes, each keeping its shell and loaded tables between jobs
    (started on first use: a build with nothing to do starts none)."""

    def __init__(self, jobs: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Workers end when this process dies, however it dies (see parallel.worker_init).
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(START_METHOD),
                                        initializer=worker_init, initargs=(os.getpid(),))

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


def _quiet():
    import contextlib

    return contextlib.suppress(Exception)


#: Seconds to wait for a Dask scheduler to answer.
SCHEDULER_TIMEOUT_S = 20


def _check_scheduler_address(address: str) -> None:
    """``[protocol://]host[:port]``, or stop with a message (a usage error)."""
    host = r"(?:[^\s/:\[\]]+|\[[0-9a-fA-F:.]+\])"
    if not re.fullmatch(rf"(?:[a-z]+://)?{host}(?::\d{{1,5}})?/?", address):
        raise UsageError(f"--scheduler {address!r} is not a scheduler address: give one such as "
                         "tcp://10.0.0.5:8786")


class _Dask:
    """Area jobs submitted to a Dask distributed scheduler (workers need the shared ``out``)."""

    def __init__(self, address: str):
        from distributed import Client

        _check_scheduler_address(address)
        try:
            self.client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, ValueError, TypeError) as exc:  # refused, timed out, unknown host or protocol
            raise MhbookError(
                f"--scheduler {address}: no Dask scheduler answered within {SCHEDULER_TIMEOUT_S} s "
                f"({type(exc).__name__}: {exc}). Start one (dask scheduler) or check the address; without "
                "--scheduler the build runs on this machine") from exc

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


def _executor(jobs: int, scheduler: str | None, n: int):
    if scheduler:
        return _Dask(scheduler)
    return _Local(max(1, min(jobs, n)))


def build_areas(queries: list[str], out: Path, only: list[str] | None = None, *, everything: bool = False,
                jobs: int | None = None, scheduler: str | None = None,
                on_area: Callable[[AreaResult, int, int], None] | None = None,
                prepare: Callable[[], None] | None = None,
                on_note: Callable[[str], None] | None = None,
                local: str | os.PathLike | None = None) -> BuildReport:
    """Bring the sites of ``queries`` (or of every County & UA, with ``everything``) up to date.

    Every query is resolved first (an unknown area stops the build before anything is
    written). ``prepare`` is called once the plan has work to do, before any worker
    starts (the command line uses it to fetch, with progress, the datasets a first build
    needs). ``jobs`` worker processes (default: the machine's cores) or the Dask
    scheduler at ``scheduler`` execute the area jobs; ``on_area(result, done, total)``
    is called as each area finishes. The national landing page is refreshed at the end.
    ``on_note(text)`` is told, once per query, when a query was not a current County & UA
    (a district, a former code) and which County & UA it builds.
    ``local`` (else ``$MHBOOK_LOCAL``) names a folder of the authors' own words,
    ``<area code>/<chapter>.md``, boxed into each chapter before its first ``##`` heading
    (``read_local``, ``insert_local``); they enter the site's key, not the notebooks'.
    """
    from mhbook import areas as registry
    from mhbook.fetch import settle_locations

    settle_locations()  # workers and notebooks run elsewhere: relative data paths must be absolute
    notebook_names(project_root(), only)  # an unknown --only chapter stops here, before anything is written
    if scheduler:
        _check_scheduler_address(scheduler)
    resolved = registry.all_areas() if everything else list(dict.fromkeys(_resolve(queries, on_note)))
    folder = local_folder(local)  # --local, else $MHBOOK_LOCAL; checked before anything is written
    texts = read_local(folder) if folder else {}
    out = Path(out).resolve()  # notebooks run in other folders: relative paths would break
    _writable_output(out)
    with output_lock(out):
        clean_leftovers(out, workers=scheduler is None)
        england, area_jobs, reasons, up_to_date = _plan(resolved, out, only, texts)
        if prepare and area_jobs:
            prepare()
        by_code = {a.code: a for a in resolved}
        results: list[AreaResult] = []
        with _stop_on_signals():
            executor = _executor(jobs or os.cpu_count() or 1, scheduler, len(area_jobs))
            return _build(executor, out, england, area_jobs, reasons, up_to_date, by_code, results, everything,
                          on_area)


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
                f"finish, or choose another --out; the lock is {path}") from None
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


def _resolve(queries: list[str], on_note: Callable[[str], None] | None) -> list[Area]:
    """The County & UA of each query, telling ``on_note`` which one a district or former code builds."""
    from mhbook import areas as registry

    resolved = []
    for query in dict.fromkeys(queries):
        area = registry.get(query)
        if on_note and str(query).strip().upper() != area.code:
            note = registry.find(query).note
            if note:
                on_note(f"{note} Building {area.name} ({area.code}).")
        resolved.append(area)
    return resolved


def _build(executor, out: Path, england: AreaJob, area_jobs: list[AreaJob], reasons, up_to_date: int,
           by_code: dict[str, Area], results: list[AreaResult], everything: bool,
           on_area: Callable[[AreaResult, int, int], None] | None) -> BuildReport:
    # Workers leave each site staged; one thread here prints the PDFs (one browser for
    # the build, not one per worker) and moves the sites into place.
    finisher = _Finisher(out)

    recording = threading.Lock()  # the finisher's thread records areas too

    def record(outcome: AreaOutcome) -> None:
        result = AreaResult(by_code[outcome.area_code], Path(outcome.site) if outcome.site else None,
                            outcome.failures, outcome.executed)
        with recording:
            results.append(result)
            if on_area:
                on_area(result, len(results), len(area_jobs))

    try:
        _run(executor, finisher, england, area_jobs, results, record)
        if everything and england.notebooks and not any(r.failures for r in results) \
                and not site_is_current(england):
            executor.submit(render_site, england).result()
    except BrokenProcessPool as exc:
        done = {r.area.code for r in results}
        left = [job.area_code for job in area_jobs if job.area_code not in done]
        raise WorkerLostError(
            f"a worker process stopped unexpectedly (killed, out of memory, or a crash in native code) with "
            f"{len(left)} area(s) unfinished ({', '.join(left[:5])}{', ...' if len(left) > 5 else ''}); the sites "
            "finished so far are in place: run the same command again to resume") from exc
    except BaseException:  # interrupted (or an unexpected error): stop the workers now, not after their areas
        executor.abort()
        if isinstance(executor, _Local):
            clean_leftovers(out)  # the stopped workers' notebook folders
        raise
    finally:
        finisher.close()
        executor.close()
        _remove_own_staging(out)
    from mhbook import changes  # the national "What changed" page, linked from the landing page

    changes.write_page(out, reasons, [r.area.code for r in results if r.site])
    return BuildReport(results, reasons, up_to_date, write_index(out))


def _writable_output(out: Path) -> None:
    """Make ``out`` and prove it writable, or stop with a message naming it (before any work)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder: name a folder for the sites "
                          "(it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".mhbook-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        hint = {errno.EROFS: "it is on a read-only file system", errno.ENOSPC: "its disk is full",
                errno.ENOTDIR: "part of the path is a file", errno.EEXIST: "part of the path is a file"}
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


def _remove_own_staging(out: Path) -> None:
    for path in out.glob(f".staging-*-{os.getpid()}-*"):
        shutil.rmtree(path, ignore_errors=True)


class _stop_on_signals:
    """While building, SIGTERM and SIGINT raise ``BuildInterrupted`` in the main thread, so the
    build stops its workers and removes its staging folders before the process ends."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are delivered to the main thread only

        def handler(signum, frame):
            for sig in self.SIGNALS:  # the first signal wins; the cleanup is not interrupted again
                signal.signal(sig, signal.SIG_IGN)
            raise BuildInterrupted(signum)

        for sig in self.SIGNALS:
            self.previous[sig] = signal.signal(sig, handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)


def _run(executor, finisher: _Finisher, england: AreaJob, area_jobs: list[AreaJob], results: list[AreaResult],
         record: Callable[[AreaOutcome], None]) -> None:
    """England-level notebooks first (every site shares them), then every area job."""
    for nb in england.execute:
        failures = executor.submit(run_shared_job, england, nb).result()
        if failures:
            results.append(AreaResult(_england_area(), None, failures))
    if any(r.failures for r in results):
        return
    futures = [executor.submit(run_area_job, job) for job in area_jobs]
    for fut in executor.as_completed(futures):
        outcome: AreaOutcome = fut.result()
        if outcome.staged is not None:
            finisher.submit(outcome, record)
        else:
            record(outcome)
    finisher.wait()


class _Finisher:
    """One thread of the coordinating process that completes staged sites in turn."""

    def __init__(self, out: Path):
        from concurrent.futures import ThreadPoolExecutor

        self.out = out
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mhbook-finish")
        self.jobs: list[tuple[Future, StagedSite]] = []

    def submit(self, outcome: AreaOutcome, record: Callable[[AreaOutcome], None]) -> None:
        staged: StagedSite = outcome.staged

        def finish() -> None:
            try:
                outcome.site = str(finish_site(self.out, staged))
            except BookError as exc:
                outcome.failures.append(Failure(outcome.area_code, "documents", str(exc)))
            except OSError as exc:  # e.g. a full disk: this area fails, the others go on
                outcome.failures.append(Failure(outcome.area_code, "site", os_failure(exc)))
            outcome.staged = None
            record(outcome)

        self.jobs.append((self.pool.submit(finish), staged))

    def wait(self) -> None:
        for fut, _ in self.jobs:
            fut.result()  # an unexpected error surfaces here, after the other areas

    def close(self) -> None:
        """Stop; staged sites that were never finished (an interrupted build) are removed."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for fut, staged in self.jobs:
            if fut.cancelled():
                shutil.rmtree(staged.staging, ignore_errors=True)


def _england_area() -> Area:
    return Area("E92000001", "England", "E92000001", "England", (), ())


def build_area(area: Area, out: Path, only: list[str] | None = None) -> AreaResult:
    """Build one area's site (incrementally), with one worker process."""
    report = build_areas([area.code], out, only, jobs=1)
    return next((r for r in report.results if r.area.code == area.code),
                AreaResult(area, Path(out) / area.code))
