"""Workers of the fast build: long-lived kernels and an in-process Sphinx, per process.

The slow parts of building a site the plain way are start-up costs: a new Jupyter
kernel per notebook (importing pandas, geopandas, matplotlib and mhbook, then
re-reading tidy tables) and a new Sphinx per area. Here each worker process keeps
one kernel (``NotebookRunner``) for all the notebooks it executes, and renders
books with Sphinx in its own process, so imports and in-memory tables (England-level
results cached by ``functools`` in the measures) are paid once per worker.

The unit of work is one area (``AreaJob`` -> ``AreaOutcome``): execute its stale
notebooks, then, if all succeeded, render its site with Sphinx and write its Word
document. In a parallel build the worker leaves the site staged and the coordinating
process prints its PDF (one browser for the whole build) and moves it into place. Jobs
run in a local process pool (``--jobs N``) or on a Dask cluster (``--scheduler``);
both need the output folder on a file system every worker can reach.

Between notebooks the kernel's user namespace is cleared (``clear_namespace``), the working
directory moved to the notebook's output folder, and open figures closed; modules
and their caches stay. ``mhbook.buildtrack`` records the datasets each notebook read.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: Executed at most this long per cell (seconds) before the cell is stopped.
CELL_TIMEOUT_S = 600
#: Seconds to wait for a new kernel to answer.
KERNEL_START_S = 120


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
    # False: leave the site staged (Sphinx and Word done) for the coordinating process to
    # print the PDF with its one browser and move into place.
    finish_here: bool = True


@dataclass
class AreaOutcome:
    area_code: str
    executed: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    site: str | None = None
    staged: object | None = None  # a ``build.StagedSite`` when ``finish_here`` is False
    seconds: float = 0.0


def _error_text(exc: BaseException, nb=None) -> str:
    from nbclient.exceptions import CellExecutionError

    if isinstance(exc, CellExecutionError):
        count = next((c.get("execution_count") for c in (nb.cells if nb else [])
                      if any(o.get("output_type") == "error" for o in c.get("outputs", []))), "?")
        return f"cell {count}: {exc.ename}: {exc.evalue}".strip()[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def clear_namespace() -> None:
    """Forget the previous notebook's variables and outputs (run inside the kernel).

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


class NotebookRunner:
    """One Jupyter kernel that executes notebooks one after another."""

    def __init__(self, code: str, catalogue: str, kernel_name: str = "python3"):
        from jupyter_client.manager import KernelManager

        self.code, self.catalogue, self.kernel_name = code, catalogue, kernel_name
        self.km = KernelManager(kernel_name=kernel_name)
        # One thread per kernel: the workers already use every core.
        # Less memory held per kernel: Arrow allocates from malloc, and malloc keeps few arenas.
        env = os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                            "ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2"}
        self.km.start_kernel(env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=KERNEL_START_S)
        self._run("import mhbook.buildtrack as _mhbook_track\n_mhbook_track.install()")

    def _run(self, code: str) -> None:
        reply = self.kc.execute_interactive(code, timeout=CELL_TIMEOUT_S, output_hook=lambda msg: None)
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"kernel setup failed: {content.get('ename')}: {content.get('evalue')}")

    def execute(self, nb, workdir: Path, reads_file: Path) -> None:
        """Execute ``nb`` in place with ``workdir`` as working directory; write its reads."""
        from nbclient import NotebookClient

        # chdir first: the previous notebook's folder may be gone (a failed run is deleted).
        self._run(f"import os as _os\n_os.chdir({str(workdir)!r})")
        self._run(
            "import mhbook.parallel as _mhbook_parallel\n_mhbook_parallel.clear_namespace()\n"
            "import matplotlib.pyplot as _plt, mhbook.buildtrack as _mhbook_track\n"
            "_plt.close('all'); _mhbook_track.start()"
        )
        client = NotebookClient(nb, km=self.km, timeout=CELL_TIMEOUT_S, kernel_name=self.kernel_name,
                                resources={"metadata": {"path": str(workdir)}})
        client.kc = self.kc
        client.execute()
        self._run(f"_mhbook_track = __import__('mhbook.buildtrack').buildtrack\n"
                  f"_mhbook_track.finish({str(reads_file)!r})")

    def alive(self) -> bool:
        return self.km.is_alive()

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)


# The worker process's kernel, kept between jobs (one per process, or per Dask thread).
_runners: dict[int, NotebookRunner] = {}


def _runner(job: AreaJob) -> NotebookRunner:
    import threading

    key = threading.get_ident()
    runner = _runners.get(key)
    # A kernel that has seen other code or other dataset hashes holds stale caches.
    if runner is not None and (not runner.alive() or (runner.code, runner.catalogue) != (job.code, job.catalogue)):
        runner.shutdown()
        runner = None
    if runner is None:
        runner = _runners[key] = NotebookRunner(job.code, job.catalogue)
    return runner


def _drop_runner() -> None:
    import threading

    runner = _runners.pop(threading.get_ident(), None)
    if runner:
        runner.shutdown()


def shutdown_runners() -> None:
    """Stop every kernel of this process (called when a pool worker exits)."""
    for runner in list(_runners.values()):
        runner.shutdown()
    _runners.clear()


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

    root, out = Path(job.root), Path(job.out)
    store = Store(out)
    src = root / "notebooks" / f"{notebook}.md"
    key = OutputKey.for_notebook(area, notebook, src, params)
    workdir = Path(tempfile.mkdtemp(prefix=f"{area}-{notebook}-", dir=store.tmp_dir()))
    reads_file = workdir.with_suffix(".reads.json")
    nb = prepare_notebook(src, params)
    try:
        _runner(job).execute(nb, workdir, reads_file)
    except Exception as exc:  # collected into the failure table; the build goes on
        from nbclient.exceptions import CellExecutionError

        if not isinstance(exc, CellExecutionError):
            _drop_runner()  # a dead or confused kernel is replaced for the next notebook
        store.forget(area, notebook)
        reports = out / "_reports" / job.area_code
        reports.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, reports / f"{notebook}.ipynb")
        shutil.rmtree(workdir, ignore_errors=True)
        return [Failure(job.area_code, notebook, _error_text(exc, nb))]
    finally:
        reads = json.loads(reads_file.read_text("utf-8")) if reads_file.exists() else []
        reads_file.unlink(missing_ok=True)
    nbformat.write(nb, workdir / f"{notebook}.ipynb")
    store.commit(key, workdir, reads)
    return []


def run_area_job(job: AreaJob) -> AreaOutcome:
    """Bring one area up to date: execute stale notebooks, then render and place its site."""
    from mhbook import build

    started = time.perf_counter()
    outcome = AreaOutcome(job.area_code)
    for notebook in job.notebooks:
        if notebook in job.execute:
            failures = execute_output(job, job.area_code, notebook, {"area_code": job.area_code})
            outcome.failures += failures
            if not failures:
                outcome.executed.append(notebook)
    if not outcome.failures and job.build_site:
        try:
            if job.finish_here:
                outcome.site = str(build.render_site(job))
            else:
                outcome.staged = build.stage_site(job)
                if outcome.staged is None:  # unchanged: the site in place is current
                    outcome.site = str(Path(job.out) / job.area_code)
        except build.BookError as exc:
            outcome.failures.append(Failure(job.area_code, "jupyter-book", str(exc)))
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_shared_job(job: AreaJob, notebook: str) -> list[Failure]:
    """Execute an England-level notebook once (no parameters), for every site to share."""
    return execute_output(job, job.area_code, notebook, {})


def sphinx_build(source: Path, html: Path) -> None:
    """A strict Jupyter Book 1 HTML build (``-W -n --keep-going``) in this process.

    Raises ``RuntimeError`` with the last warnings when the build fails.
    """
    from jupyter_book.sphinx import build_sphinx

    log_text = io.StringIO()
    with contextlib.redirect_stderr(log_text), contextlib.redirect_stdout(io.StringIO()):
        status = build_sphinx(source, html, noconfig=True, path_config=str(source / "_config.yml"),
                              confoverrides={"nitpicky": True, "latex_individualpages": False},
                              warningiserror=True, keep_going=True,
                              quiet=True, doctreedir=source / "_build" / ".doctrees")
    if status:
        tail = "\n".join(log_text.getvalue().strip().splitlines()[-15:])
        raise RuntimeError(f"jupyter-book build failed:\n{tail or status}")
