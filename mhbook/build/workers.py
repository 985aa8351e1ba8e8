"""Build workers: notebooks and Sphinx in one long-lived process each.

The slow parts of building a site the plain way are start-up costs: a new Jupyter
kernel per notebook (importing pandas, geopandas, matplotlib and mhbook, then
re-reading tidy tables) and a new Sphinx per area. Here each worker process executes
every notebook it is given in its own IPython shell (``mhbook.build.execute``) and renders
books with Sphinx itself (``mhbook.build.render``), so imports and in-memory tables
(England-level results kept by ``mhbook.reads.cached`` in the measures) are paid once
per worker, and no second process per worker holds another copy of them.

The unit of work is one area (``AreaJob`` -> ``AreaOutcome``): execute its stale
notebooks, then, if all succeeded, stage its site (Sphinx, the Word document and the
PDF's print page); the coordinating process prints the PDF (one browser for the whole
build) and moves the site into place. Jobs run in a local process pool (``--jobs N``)
or on a Dask cluster (``--scheduler``; ``mhbook.build.executors``); both need the output
folder on a file system every worker can reach.

Between notebooks the shell's user namespace is cleared (``clear_namespace``), the
working directory moved to the notebook's output folder, and open figures closed;
modules and their caches stay. ``mhbook.reads`` collects the datasets each notebook reads.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from mhbook import reads
from mhbook.build import render
from mhbook.build.jobs import AreaJob, AreaOutcome, Failure, os_failure
from mhbook.build.store import OutputKey, Store
from mhbook.build.versions import catalogue_digest, code_version
from mhbook.errors import BookError, CellError, WorkerMismatchError

log = logging.getLogger(__name__)

#: Executed at most this long per cell (seconds) before the cell is stopped.
CELL_TIMEOUT_S = 600


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


# The code and catalogue versions this process executes notebooks with (set on first use).
_versions: tuple[str, str] | None = None


def _ready_to_execute(job: AreaJob) -> None:
    """Refuse a job for other code than this process has loaded.

    Modules imported in a process cannot be reloaded safely, so a worker that outlives a
    change of code or catalogue (a Dask worker) stops with a message instead of
    building pages from stale modules and caches. Pool workers start afresh each build.
    """
    global _versions
    if _versions is None:
        _versions = (code_version(), catalogue_digest())
    if _versions != (job.code, job.catalogue):
        raise WorkerMismatchError(
            f"this worker (pid {os.getpid()}) has mhbook {_versions[0]} with catalogue {_versions[1][:12]} loaded, "
            f"but the build is for {job.code} with catalogue {job.catalogue[:12]}: restart the workers "
            "(e.g. Client.restart() in Dask) so that they import the current code"
        )


def run_notebook(job: AreaJob, nb, workdir: Path) -> list[str]:
    """Execute ``nb`` in this process with ``workdir`` as working directory.

    Returns the ids of the datasets it read (``mhbook.reads``), sorted. The previous
    notebook's names and figures are cleared first; modules and their caches stay.
    """
    import matplotlib.pyplot as plt

    from mhbook.build import execute

    _ready_to_execute(job)
    with execute.lock:
        execute.shell()
        clear_namespace()
        plt.close("all")
        with reads.collecting() as seen:
            execute.execute(nb, workdir, CELL_TIMEOUT_S)
        return sorted(seen)


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

    root, out = Path(job.root), Path(job.out)
    store = Store(out)
    src = root / "notebooks" / f"{notebook}.md"
    key = OutputKey.for_notebook(area, notebook, src, params)
    # The worker's pid in the name: a folder left by a killed worker is known (output.clean_leftovers).
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
    every build.
    """
    store = Store(Path(job.out))
    damaged = set()
    for notebook in job.notebooks:
        if notebook in job.execute:
            continue
        path = store.output_dir(job.area_code, notebook) / f"{notebook}.ipynb"
        try:
            with open(path, encoding="utf-8") as fh:
                json.load(fh)
            continue
        except (OSError, ValueError) as exc:
            why = f"{type(exc).__name__}: {exc}"
        log.warning("%s: the stored notebook %s cannot be read (%s); executing it again", job.area_code, path, why)
        damaged.add(notebook)
    return damaged


def run_area_job(job: AreaJob) -> AreaOutcome:
    """Bring one area up to date: execute stale notebooks, then stage its site (Sphinx,
    Word document, the PDF's print page) for the coordinating process to finish.
    Notebooks whose stored output cannot be read are executed again too
    (``outcome.damaged``)."""
    outcome = AreaOutcome(job.area_code)
    step = "notebooks"
    try:
        started = time.perf_counter()
        outcome.damaged = sorted(_damaged_outputs(job))
        for notebook in job.notebooks:
            if notebook in job.execute or notebook in outcome.damaged:
                step = notebook
                failures = execute_output(job, job.area_code, notebook, {"area_code": job.area_code})
                outcome.failures += failures
                if not failures:
                    outcome.executed.append(notebook)
        outcome.seconds["execute"] += time.perf_counter() - started
        if not outcome.failures and job.build_site:
            step = "jupyter-book"
            try:
                outcome.staged = render.stage_site(job, outcome.seconds)
                if outcome.staged is None:  # unchanged: the site in place is current
                    outcome.site = str(Path(job.out) / job.area_code)
            except BookError as exc:
                outcome.failures.append(Failure(job.area_code, "jupyter-book", str(exc)))
    except OSError as exc:  # e.g. a full disk: this area fails, the build goes on
        outcome.failures.append(Failure(job.area_code, step, os_failure(exc)))
    _settle_heap()
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
