"""Build the static Jupyter Book of each County & UA, incrementally and in parallel.

For each area the MyST-Markdown notebooks in ``notebooks/`` are executed with the
area's parameters (papermill's parameter injection), then Jupyter Book 1 renders
them (``execute_notebooks: off``) with a strict Sphinx build (``-W -n
--keep-going``). Only a complete site is moved into ``<out>/<area code>/``; a failed
area keeps its previous site and gets its executed notebooks under
``<out>/_reports/<area code>/`` for diagnosis, and the failure table lists area x
notebook x cell.

This module coordinates (``build_areas``): it resolves the areas, holds the output
folder's lock, plans (``plan``), runs area jobs on the executors (``executors``, whose
``workers`` execute notebooks and stage sites), finishes each staged site in one thread
(``render.finish_site``: PDFs printed with one browser, the site moved into place), and
writes the national landing page and the build's report.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from mhbook.areas import Area
from mhbook.build.executors import Local, check_scheduler_address, executor
from mhbook.build.jobs import AreaJob, AreaOutcome, Failure, StagedSite, os_failure
from mhbook.build.local import local_folder, read_local
from mhbook.build.output import clean_leftovers, output_lock, remove_own_staging, writable_output
from mhbook.build.plan import Plan, make_plan
from mhbook.build.project import notebook_names, project_root
from mhbook.build.reasons import Reason, Why
from mhbook.build.render import finish_site
from mhbook.build.store import Store, write_json
from mhbook.build.workers import run_area_job
from mhbook.errors import BookError, BuildInterrupted, WorkerLostError

#: Bumped when the layout of ``report.json`` changes.
REPORT_FORMAT = 1


@dataclass
class AreaResult:
    area: Area
    site: Path | None
    failures: list[Failure] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall-clock seconds (jobs.PHASES)


@dataclass
class BuildReport:
    """What a build did: per-area results and what changed since the last build."""

    results: list[AreaResult]
    reasons: dict[tuple[str, str], Reason]  # (area, notebook) -> why it was executed
    up_to_date: int  # areas skipped: nothing changed
    landing: Path | None = None

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.results for f in r.failures]

    def changed_datasets(self) -> list[str]:
        """Ids of the datasets whose change made some output run, sorted."""
        return sorted({i for reason in self.reasons.values() for i in reason.datasets})

    def changed_pages(self) -> dict[str, int]:
        """Notebook -> how many areas execute it in this build."""
        return dict(Counter(nb for _, nb in self.reasons))

    def why_counts(self) -> dict[str, int]:
        """What made outputs run (``Why`` as written) -> how many outputs."""
        return dict(Counter(reason.why.value for reason in self.reasons.values()))

    def to_json(self) -> dict:
        """The report as JSON data (written to ``<out>/.mhbook-build/report.json``): per area
        built, its site, why each notebook was due to run (``Reason.to_json``), which ran,
        what failed, and the wall-clock seconds of each phase (``jobs.PHASES``)."""
        areas = {}
        for r in self.results:
            areas[r.area.code] = {
                "name": r.area.name,
                "site": str(r.site) if r.site else None,
                "reasons": {nb: reason.to_json() for (code, nb), reason in self.reasons.items() if code == r.area.code},
                "executed": r.executed,
                "failures": [{"notebook": f.notebook, "error": f.error} for f in r.failures],
                "seconds": {phase: round(s, 3) for phase, s in r.seconds.items()},
            }
        return {
            "format": REPORT_FORMAT,
            "up_to_date": self.up_to_date,
            "landing": str(self.landing) if self.landing else None,
            "datasets_changed": self.changed_datasets(),
            "areas": areas,
        }


def build_areas(
    queries: list[str],
    out: Path,
    only: list[str] | None = None,
    *,
    everything: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    on_area: Callable[[AreaResult, int, int], None] | None = None,
    prepare: Callable[[], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    local: str | os.PathLike | None = None,
) -> BuildReport:
    """Bring the sites of ``queries`` (or of every County & UA, with ``everything``) up to date.

    Every query is resolved first (an unknown area stops the build before anything is
    written). ``prepare`` is called once the plan has work to do, before any worker
    starts (the command line uses it to fetch, with progress, the datasets a first build
    needs). ``jobs`` worker processes (default: the machine's cores) or the Dask
    scheduler at ``scheduler`` execute the area jobs; ``on_area(result, done, total)``
    is called as each area finishes. The national landing page is refreshed at the end,
    and the report is written to ``<out>/.mhbook-build/report.json`` (``BuildReport.to_json``).
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
        check_scheduler_address(scheduler)
    resolved = registry.all_areas() if everything else list(dict.fromkeys(_resolve(queries, on_note)))
    folder = local_folder(local)  # --local, else $MHBOOK_LOCAL; checked before anything is written
    texts = read_local(folder) if folder else {}
    out = Path(out).resolve()  # notebooks run in other folders: relative paths would break
    writable_output(out)
    with output_lock(out):
        clean_leftovers(out, workers=scheduler is None)
        plan = make_plan(resolved, out, only, texts)
        if prepare and plan.jobs:
            prepare()
        by_code = {a.code: a for a in resolved}
        workers = jobs or os.cpu_count() or 1
        ahead = [] if scheduler else notebooks_ahead(plan.jobs, workers, notebook_seconds())
        with _stop_on_signals():
            pool = executor(workers, scheduler, max(len(plan.jobs), len(ahead)))
            report = _build(pool, out, plan, by_code, on_area, ahead)
        write_json(Store(out).report_path(), report.to_json())
        return report


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


def notebooks_ahead(area_jobs: list[AreaJob], workers: int, seconds: dict[str, float] | None = None) -> list[AreaJob]:
    """Jobs of one notebook each, executed before their areas' jobs when there are fewer
    areas than workers (a JSNA author building their own area): the notebooks of one
    area then run on every worker at once instead of one after another on one, and the
    area's job only renders the site. Empty when every worker has an area of its own.

    The longest go first, so that the last to finish is a short one: ``seconds`` gives
    what each notebook took last time (``notebook_seconds``); one not yet timed goes
    first, in the book's order."""
    if len(area_jobs) >= workers:
        return []
    jobs = [
        replace(job, notebooks=[nb], execute={nb: why}, build_site=False)
        for job in area_jobs
        if len(job.execute) > 1
        for nb, why in job.execute.items()
    ]
    took = seconds or {}
    return sorted(jobs, key=lambda job: -took.get(job.notebooks[0], float("inf")))


#: What each notebook took to execute for one area, last time it ran on its own (seconds),
#: kept under the cache for ``notebooks_ahead``.
SECONDS_FILE = "notebook-seconds.json"


def notebook_seconds() -> dict[str, float]:
    """The seconds each notebook took last time it ran ahead (empty if not known)."""
    from mhbook.fetch import cache_dir

    try:
        known = json.loads((cache_dir() / SECONDS_FILE).read_text("utf-8"))
        return {str(k): float(v) for k, v in known.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _remember_seconds(outcomes: list[AreaOutcome]) -> None:
    """Keep the seconds of each notebook executed ahead (best effort: it only orders work)."""
    from mhbook.fetch import cache_dir

    took = {o.executed[0]: round(o.seconds["execute"], 2) for o in outcomes if len(o.executed) == 1}
    if took:
        try:
            write_json(cache_dir() / SECONDS_FILE, notebook_seconds() | took)
        except OSError:
            pass


def _build(
    pool,
    out: Path,
    plan: Plan,
    by_code: dict[str, Area],
    on_area: Callable[[AreaResult, int, int], None] | None,
    ahead: list[AreaJob] = (),
) -> BuildReport:
    # Workers leave each site staged; one thread here prints the PDFs (one browser for
    # the build, not one per worker) and moves the sites into place.
    finisher = _Finisher(out)
    results: list[AreaResult] = []
    reasons = dict(plan.reasons)
    recording = threading.Lock()  # the finisher's thread records areas too

    def record(outcome: AreaOutcome) -> None:
        result = AreaResult(
            by_code[outcome.area_code],
            Path(outcome.site) if outcome.site else None,
            outcome.failures,
            outcome.executed,
            outcome.seconds,
        )
        with recording:
            for nb in outcome.damaged:
                reasons.setdefault((outcome.area_code, nb), Reason(Why.OUTPUT_DAMAGED))
            results.append(result)
            if on_area:
                on_area(result, len(results), len(plan.jobs))

    try:
        _run(pool, finisher, plan.jobs, record, ahead)
    except BrokenProcessPool as exc:
        done = {r.area.code for r in results}
        left = [job.area_code for job in plan.jobs if job.area_code not in done]
        raise WorkerLostError(
            f"a worker process stopped unexpectedly (killed, out of memory, or a crash in native code) with "
            f"{len(left)} area(s) unfinished ({', '.join(left[:5])}{', ...' if len(left) > 5 else ''}); the sites "
            "finished so far are in place: run the same command again to resume"
        ) from exc
    except BaseException:  # interrupted (or an unexpected error): stop the workers now, not after their areas
        pool.abort()
        if isinstance(pool, Local):
            clean_leftovers(out)  # the stopped workers' notebook folders
        raise
    finally:
        finisher.close()
        pool.close()
        remove_own_staging(out)
    from mhbook import changes  # the national "What changed" page (it reads this package's store)

    changes.write_page(out, reasons, [r.area.code for r in results if r.site])  # linked from the landing page
    return BuildReport(results, reasons, plan.up_to_date, write_index(out))


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


def _run(
    pool,
    finisher: _Finisher,
    area_jobs: list[AreaJob],
    record: Callable[[AreaOutcome], None],
    ahead: list[AreaJob] = (),
) -> None:
    """Every area job; a staged site goes to the finisher, an area without one is recorded now.

    The notebook jobs ``ahead`` (``notebooks_ahead``) run first, on all workers; then each
    area's job executes what they did not (nothing, unless the stored output is unreadable)
    and renders the site. An area whose notebook failed ahead gets no site, as when its
    own job executes a failing notebook. Its outcome sums the workers' seconds."""
    early: dict[str, list[AreaOutcome]] = {}
    order = {job.area_code: job.notebooks for job in area_jobs}
    for fut in pool.as_completed([pool.submit(run_area_job, job) for job in ahead]):
        outcome: AreaOutcome = fut.result()
        early.setdefault(outcome.area_code, []).append(outcome)
    _remember_seconds([o for done in early.values() for o in done if not o.failures])
    futures = []
    for job in area_jobs:
        done = early.get(job.area_code, [])
        if any(o.failures for o in done):
            record(_merged(AreaOutcome(job.area_code), done))
            continue
        executed = {nb for o in done for nb in o.executed}
        futures.append(
            pool.submit(run_area_job, replace(job, execute={k: v for k, v in job.execute.items() if k not in executed}))
        )
    for fut in pool.as_completed(futures):
        outcome = fut.result()
        if outcome.area_code in early:
            outcome = _merged(outcome, early[outcome.area_code])
            outcome.executed.sort(key=order[outcome.area_code].index)
        if outcome.staged is not None:
            finisher.submit(outcome, record)
        else:
            record(outcome)
    # Every worker is done: end them before the last prints, so that Chromium does not
    # hold its memory beside theirs (a one-area build prints only now).
    pool.close()
    finisher.wait()


def _merged(outcome: AreaOutcome, ahead: list[AreaOutcome]) -> AreaOutcome:
    """``outcome`` with what the area's notebook jobs run ahead did: executed notebooks,
    failures and seconds (summed over workers)."""
    for o in ahead:
        outcome.executed += o.executed
        outcome.damaged += o.damaged
        outcome.failures += o.failures
        for phase, s in o.seconds.items():
            outcome.seconds[phase] = outcome.seconds.get(phase, 0.0) + s
    return outcome


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
                outcome.site = str(finish_site(self.out, staged, outcome.seconds))
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


def write_index(out: Path) -> Path:
    """Write the national landing page ``out/index.html`` (see ``mhbook.national``)."""
    from mhbook import national

    return national.write_landing(Path(out))


def build_area(area: Area, out: Path, only: list[str] | None = None) -> AreaResult:
    """Build one area's site (incrementally), with one worker process."""
    report = build_areas([area.code], out, only, jobs=1)
    return next((r for r in report.results if r.area.code == area.code), AreaResult(area, Path(out) / area.code))
