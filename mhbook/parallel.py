"""Workers of the fast build: notebooks and Sphinx in one long-lived process each.

The slow parts of building a site the plain way are start-up costs: a new Jupyter
kernel per notebook (importing pandas, geopandas, matplotlib and mhbook, then
re-reading tidy tables) and a new Sphinx per area. Here each worker process executes
every notebook it is given in its own IPython shell (``mhbook.execute``) and renders
books with Sphinx itself, so imports and in-memory tables (England-level results cached
by ``functools`` in the measures) are paid once per worker, and no second process per
worker holds another copy of them.

The unit of work is one area (``AreaJob`` -> ``AreaOutcome``): execute its stale
notebooks, then, if all succeeded, stage its site (Sphinx, the Word document and the
PDF's print page); the coordinating process prints the PDF (one browser for the whole
build) and moves the site into place. Jobs run in a local process pool (``--jobs N``)
or on a Dask cluster (``--scheduler``); both need the output folder on a file system
every worker can reach.

Between notebooks the shell's user namespace is cleared (``clear_namespace``), the
working directory moved to the notebook's output folder, and open figures closed;
modules and their caches stay. ``mhbook.buildtrack`` records the datasets each notebook read.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mhbook.errors import MhbookError

log = logging.getLogger(__name__)

#: Executed at most this long per cell (seconds) before the cell is stopped.
CELL_TIMEOUT_S = 600


@dataclass
class Failure:
    """One notebook (or the book step) that failed for one area."""

    area: str
    notebook: str
    error: str


@dataclass
class AreaJob:
    """Everything a worker needs to bring one area's site up to date (picklable)."""

    area_code: str
    area_name: str
    out: str
    root: str
    notebooks: list[str]
    execute: dict[str, str]  # notebook -> why it runs
    shared: dict[str, str]  # England-level notebook -> the "area" folder its output is in
    code: str
    catalogue: str
    build_site: bool = True
    build_pid: int = 0  # the coordinating process: names its staging folders, so a dead build's are known
    local: dict[str, str] = field(default_factory=dict)  # chapter -> the author's MyST text (--local)


@dataclass
class AreaOutcome:
    area_code: str
    executed: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    site: str | None = None
    staged: object | None = None  # a ``build.StagedSite`` for the coordinating process to finish
    seconds: float = 0.0
    #: Seconds per phase: ``execute_s`` (notebooks), ``render_s`` (Sphinx), ``documents_s``
    #: (Word, data pack, brief, print pages), ``pdf_s`` (printing and moving into place).
    phases: dict[str, float] = field(default_factory=dict)


#: How often (seconds) a worker checks that the process that started it is still alive.
WATCHDOG_INTERVAL_S = 1.0
_PR_SET_PDEATHSIG = 1


def worker_init(parent_pid: int) -> None:
    """Initializer of every local build worker: end with the coordinating process.

    A worker whose parent is killed (SIGKILL, or SIGTERM in CI) must not finish its area,
    write into the output folder and then wait forever. On Linux the kernel sends it
    SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon
    thread checks the parent's pid every ``WATCHDOG_INTERVAL_S`` and ends the process.
    SIGINT is ignored: a Ctrl-C reaches the whole process group, and the coordinating
    process stops its workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: the watchdog still ends the worker
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_INTERVAL_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="mhbook-parent-watchdog", daemon=True).start()


def clear_namespace() -> None:
    """Forget the previous notebook's variables and outputs in this process's shell.

    What ``%reset -f`` does for a notebook's names, without its full garbage collection,
    which cost a quarter of a second per notebook. Dunder names and IPython's own
    (``user_ns_hidden``) stay; the output history is emptied so nothing is kept alive.
    """
    from IPython import get_ipython

    shell = get_ipython()
    hidden = shell.user_ns_hidden
    for name in [n for n in shell.user_ns if n not in hidden and not (n.startswith("__") and n.endswith("__"))]:
        del shell.user_ns[name]
    shell.history_manager.output_hist.clear()
    shell.user_ns.update({"_": "", "__": "", "___": ""})


class WorkerMismatchError(MhbookError):
    """A long-lived worker (Dask) has imported another mhbook or catalogue than the build's."""


# The code and catalogue versions this process executes notebooks with (set on first use).
_versions: tuple[str, str] | None = None


def _ready_to_execute(job: AreaJob) -> None:
    """Start recording dataset reads (once per process); refuse a job for other code.

    Modules imported in a process cannot be reloaded safely, so a worker that outlives a
    change of code or catalogue (a Dask worker) stops with a message instead of
    building pages from stale modules and caches. Pool workers start afresh each build.
    """
    global _versions
    from mhbook import buildcache, buildtrack

    if _versions is None:
        _versions = (buildcache.code_version(), buildcache.catalogue_digest())
        buildtrack.install()
    if _versions != (job.code, job.catalogue):
        raise WorkerMismatchError(
            f"this worker (pid {os.getpid()}) has mhbook {_versions[0]} with catalogue {_versions[1][:12]} loaded, "
            f"but the build is for {job.code} with catalogue {job.catalogue[:12]}: restart the workers "
            "(e.g. Client.restart() in Dask) so that they import the current code"
        )


def run_notebook(job: AreaJob, nb, workdir: Path) -> list[str]:
    """Execute ``nb`` in this process with ``workdir`` as working directory.

    Returns the ids of the datasets it read (``mhbook.buildtrack``). The previous
    notebook's names and figures are cleared first; modules and their caches stay.
    """
    import matplotlib.pyplot as plt

    from mhbook import buildtrack, execute

    _ready_to_execute(job)
    with execute.lock:
        execute.shell()
        clear_namespace()
        plt.close("all")
        buildtrack.start()
        execute.execute(nb, workdir, CELL_TIMEOUT_S)
        return buildtrack.reads()


def prepare_notebook(src: Path, parameters: dict):
    """The MyST notebook at ``src`` as an nbformat notebook with papermill's parameters cell."""
    import jupytext
    from papermill.parameterize import parameterize_notebook

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:  # papermill looks for the parameters tag on every cell
        cell.metadata.setdefault("tags", [])
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name="python3", language="python")
    for cell in nb.cells:  # the injected values are code, not content: keep them off the page
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.metadata["tags"].append("remove-cell")
    return nb


def execute_output(job: AreaJob, area: str, notebook: str, params: dict) -> list[Failure]:
    """Execute one notebook for ``area`` and commit it to the store; failures are returned."""
    import nbformat

    from mhbook.buildcache import OutputKey, Store
    from mhbook.execute import CellError

    root, out = Path(job.root), Path(job.out)
    store = Store(out)
    src = root / "notebooks" / f"{notebook}.md"
    key = OutputKey.for_notebook(area, notebook, src, params)
    # The worker's pid in the name: a folder left by a killed worker is known (build.clean_leftovers).
    workdir = Path(tempfile.mkdtemp(prefix=f"{area}-{notebook}-{os.getpid()}-", dir=store.tmp_dir()))
    nb = prepare_notebook(src, params)
    try:
        reads = run_notebook(job, nb, workdir)
    except Exception as exc:  # collected into the failure table; the build goes on
        store.forget(area, notebook)
        reports = out / "_reports" / job.area_code
        reports.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, reports / f"{notebook}.ipynb")
        shutil.rmtree(workdir, ignore_errors=True)
        error = str(exc) if isinstance(exc, CellError) else f"{type(exc).__name__}: {exc}"
        return [Failure(job.area_code, notebook, error)]
    try:
        nbformat.write(nb, workdir / f"{notebook}.ipynb")
        store.commit(key, workdir, reads)
    except BaseException:  # e.g. a full disk: leave no half-written folder behind
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return []


def _damaged_outputs(job: AreaJob) -> set[str]:
    """The area's stored notebooks, not due to run, that cannot be read (truncated or damaged).

    They are executed again, with a warning, rather than failing the site in Sphinx on
    every build. A damaged England-level output is forgotten, so the next build runs it.
    """
    import json

    from mhbook.buildcache import Store

    store = Store(Path(job.out))
    damaged = set()
    for notebook in job.notebooks:
        if notebook in job.execute:
            continue
        owner = job.shared.get(notebook, job.area_code)
        path = store.output_dir(owner, notebook) / f"{notebook}.ipynb"
        try:
            with open(path, encoding="utf-8") as fh:
                json.load(fh)
            continue
        except (OSError, ValueError) as exc:
            why = f"{type(exc).__name__}: {exc}"
        if owner == job.area_code:
            log.warning("%s: the stored notebook %s cannot be read (%s); executing it again", job.area_code, path, why)
            damaged.add(notebook)
        else:
            store.forget(owner, notebook)
            raise OSError(errno.EIO, f"the stored England-level notebook cannot be read ({why}); it is executed "
                          "again by the next build: run the same command again", str(path))
    return damaged


def run_area_job(job: AreaJob) -> AreaOutcome:
    """Bring one area up to date: execute stale notebooks, then stage its site (Sphinx,
    Word document, the PDF's print page) for the coordinating process to finish."""
    from mhbook import build

    started = time.perf_counter()
    outcome = AreaOutcome(job.area_code)
    step = "notebooks"
    try:
        damaged = _damaged_outputs(job)
        executing = time.perf_counter()
        for notebook in job.notebooks:
            if notebook in job.execute or notebook in damaged:
                step = notebook
                failures = execute_output(job, job.area_code, notebook, {"area_code": job.area_code})
                outcome.failures += failures
                if not failures:
                    outcome.executed.append(notebook)
        outcome.phases["execute_s"] = time.perf_counter() - executing
        if not outcome.failures and job.build_site:
            step = "jupyter-book"
            try:
                outcome.staged = build.stage_site(job)
                if outcome.staged is None:  # unchanged: the site in place is current
                    outcome.site = str(Path(job.out) / job.area_code)
                else:
                    outcome.phases.update(outcome.staged.phases)
            except build.BookError as exc:
                outcome.failures.append(Failure(job.area_code, "jupyter-book", str(exc)))
    except OSError as exc:  # e.g. a full disk: this area fails, the build goes on
        outcome.failures.append(Failure(job.area_code, step, os_failure(exc)))
    _settle_heap()
    outcome.seconds = time.perf_counter() - started
    return outcome


#: Allocations between the garbage collector's youngest-generation passes (Python's default: 700).
GC_THRESHOLD = 10_000


def _settle_heap() -> None:
    """Collect an area's garbage once it is done, and keep the collector off what lasts.

    A worker holds millions of long-lived objects (modules, tables, their caches) that
    Python's cyclic garbage collector would otherwise re-scan again and again while an
    area's charts and Sphinx objects churn: about a fifth of a worker's CPU. So after the
    first area that survives is frozen (``gc.freeze``: never scanned again), automatic
    passes run less often, and a full pass after every area returns what the area left
    in reference cycles (e.g. Sphinx's application), so memory stays flat.
    """
    gc.collect()
    if not gc.get_freeze_count():
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def run_shared_job(job: AreaJob, notebook: str) -> list[Failure]:
    """Execute an England-level notebook once (no parameters), for every site to share."""
    try:
        return execute_output(job, job.area_code, notebook, {})
    except OSError as exc:
        return [Failure(job.area_code, notebook, os_failure(exc))]


def os_failure(exc: OSError) -> str:
    """An OS error met while building an area, as a line of the failure table."""
    where = exc.filename or "the output folder"
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return (f"{where}: {what}: the disk is full; the area's previous site is unchanged. Free some space "
                "and run the same command again to resume")
    return f"{where}: {what} ({type(exc).__name__}); the area's previous site is unchanged"


def sphinx_build(source: Path, html: Path) -> None:
    """A strict Jupyter Book 1 HTML build (``-W -n --keep-going``) in this process.

    Raises ``RuntimeError`` with the last warnings when the build fails.
    """
    from jupyter_book.sphinx import build_sphinx

    log_text = io.StringIO()
    with contextlib.redirect_stderr(log_text), contextlib.redirect_stdout(io.StringIO()):
        # Extensions set up again in a process that has already run Sphinx (a worker's next
        # area, or a test process) re-register their directives and roles: harmless, so
        # that one kind of warning is not an error.
        status = build_sphinx(source, html, noconfig=True, path_config=str(source / "_config.yml"),
                              confoverrides={"nitpicky": True, "latex_individualpages": False,
                                             "suppress_warnings": ["app.add_directive", "app.add_role",
                                                                   "app.add_node"]},
                              warningiserror=True, keep_going=True,
                              quiet=True, doctreedir=source / "_build" / ".doctrees")
    if status:
        tail = "\n".join(log_text.getvalue().strip().splitlines()[-15:])
        raise RuntimeError(f"jupyter-book build failed:\n{tail or status}")
