"""The ``mhbook`` command line.

    mhbook data list              every pinned dataset, and whether it is cached
    mhbook data fetch [ID ...]    fetch datasets into the cache (all when none given)
    mhbook data verify [ID ...]   re-hash datasets (fetching what is missing); exit 1 on any failure
    mhbook data refresh [ID ...]  download new versions, check them, re-pin changed hashes (mhbook.refresh)
    mhbook areas [QUERY]          list the 153 Counties & UAs, or resolve a code or name
    mhbook build AREA [AREA ...]  build each area's site (see mhbook.build); --all: every area
    mhbook export AREA --format docx|pdf   the area's book as a Word or PDF document

Structure: ``app`` is the top-level Typer app; ``data_app`` is its ``data`` group. New
commands (e.g. ``build``, ``export``) are added with ``@app.command(...)``. ``main`` runs
``app`` and turns every ``MhbookError`` into a one-line message on stderr and exit 1,
so expected failures never show a traceback. Tables go to stdout; progress, log
messages and errors go to stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from mhbook import catalogue, fetch
from mhbook.errors import MhbookError, UnknownAreaError, UsageError

app = typer.Typer(
    name="mhbook",
    help="Mental-health inequalities in England, area by area, from public data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The pinned datasets: list, fetch, verify and refresh them.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)
_verbose = False  # --verbose: errors also show their traceback


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each copy and download.")] = False,
) -> None:
    global _verbose
    _verbose = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_time=False, show_path=False)],
        force=True,
    )
    fetch.settle_locations()


def _selected(ids: list[str] | None) -> list[catalogue.Dataset]:
    """The datasets named by ``ids`` (all when empty); an unknown id raises before any work."""
    if not ids:
        return list(catalogue.datasets().values())
    return [catalogue.get(i) for i in ids]


@data_app.command("list")
def data_list() -> None:
    """Show every dataset: id, title, period, licence, and whether a verified copy is cached."""
    table = Table(title=f"mhbook datasets (cache: {fetch.cache_dir()})", show_lines=False)
    table.add_column("id", no_wrap=True)  # ids are typed back into commands: never split them
    for name in ("title", "period", "licence", "cached"):
        table.add_column(name, overflow="fold")
    for ds in catalogue.datasets().values():
        table.add_row(ds.id, ds.title, ds.period, ds.licence, "yes" if fetch.is_cached(ds) else "no")
    out.print(table)


class _SizeColumn(DownloadColumn):
    """Bytes for a dataset's task; a plain count for the overall task (field ``count=True``)."""

    def render(self, task) -> Text:
        if task.fields.get("count"):
            return Text(f"{int(task.completed)}/{int(task.total or 0)}")
        return super().render(task)


class _RichBar:
    """Adapts a rich progress task to the progress-bar protocol of pooch's HTTPDownloader."""

    def __init__(self, progress: Progress, task: TaskID):
        self._progress, self._task = progress, task
        self._total: int | None = None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value or None  # 0: the server sent no Content-Length
        self._progress.update(self._task, total=self._total)

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def reset(self) -> None:
        self._progress.reset(self._task)

    def close(self) -> None:
        pass  # the task stays visible until the whole Progress ends


_FROM_SOURCE_HELP = (
    "Ignore the cache and MHBOOK_MIRROR: download each dataset from its publisher, or remake it "
    "by its recipe from the public upstream files, and replace the cached copy once verified."
)


@data_app.command("fetch")
def data_fetch(
    ids: Annotated[list[str] | None, typer.Argument(help="Dataset ids (default: every dataset).")] = None,
    from_source: Annotated[bool, typer.Option("--from-source", help=_FROM_SOURCE_HELP)] = False,
) -> None:
    """Fetch datasets into the cache, verified (from the mirror if MHBOOK_MIRROR is set, else from the source:
    a download, or the dataset's recipe)."""
    selected = _selected(ids)
    failures: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), _SizeColumn())
    with Progress(*columns, console=err) as progress:
        overall = progress.add_task("datasets", total=len(selected), count=True)
        for ds in selected:
            task = progress.add_task(ds.id, total=None)
            try:
                path = fetch.fetch(ds, progressbar=_RichBar(progress, task), from_source=from_source)
            except MhbookError as exc:
                failures.append(str(exc))
                progress.remove_task(task)
            else:
                size = path.stat().st_size
                progress.update(task, total=size, completed=size)
            progress.advance(overall)
    for message in failures:
        err.print(f"mhbook: error: {message}", markup=False, highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(1)
    out.print(f"{len(selected)} dataset(s) in {fetch.cache_dir() / 'data'}", markup=False, highlight=False)


@data_app.command("verify")
def data_verify(
    ids: Annotated[list[str] | None, typer.Argument(help="Dataset ids (default: every dataset).")] = None,
    from_source: Annotated[bool, typer.Option("--from-source", help=_FROM_SOURCE_HELP)] = False,
) -> None:
    """Re-hash every dataset (fetching what is missing); print OK/FAILED and exit 1 if any failed.
    Also reads every cached tidy table and removes those that cannot be read (they are parsed again)."""
    selected = _selected(ids)
    table = Table(title="sha256 verification")
    table.add_column("id", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold")
    failed = 0
    with err.status("hashing...") as status:
        for ds in selected:
            status.update(f"hashing {ds.id}")
            try:
                fetch.verify(ds, from_source=from_source)
            except MhbookError as exc:
                failed += 1
                table.add_row(ds.id, "[red]FAILED[/red]", str(exc))
            else:
                table.add_row(ds.id, "[green]OK[/green]", ds.sha256[:16])
    out.print(table)
    from mhbook import tables  # imports pandas: only here

    with err.status("reading the tidy-table cache..."):
        readable, removed = tables.verify_cache()
    out.print(
        f"tidy-table cache {tables.tables_dir()}: {readable} table(s) read in full"
        + (f"; repaired by removing {len(removed)}: {'; '.join(removed)}" if removed else ""),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if failed:
        err.print(f"mhbook: error: {failed} of {len(selected)} dataset(s) failed verification", highlight=False)
        raise typer.Exit(1)
    out.print(f"all {len(selected)} dataset(s) OK", highlight=False)


@data_app.command("refresh")
def data_refresh(
    ids: Annotated[list[str] | None, typer.Argument(help="Dataset ids (default: every dataset with a URL).")] = None,
) -> None:
    """Download every dataset that has a URL, check changed files against their schemas, show what
    changed (rows, periods, columns) and, only if all succeeded, re-pin their hashes. Then
    `mhbook build --all` re-runs only the pages that read a changed dataset."""
    from mhbook import refresh

    with err.status("refreshing...") as status:
        report = refresh.refresh(ids or None, on_dataset=lambda i: status.update(f"downloading and checking {i}"))
    for change in report.changed:
        out.print(f"changed: {change.id}", markup=False, highlight=False)
        for line in change.lines():
            out.print(f"  {line}", markup=False, highlight=False)
    out.print(
        f"{len(report.changed)} dataset(s) changed, {len(report.unchanged)} unchanged"
        + (f"; new hashes pinned in {report.pins}" if report.changed else ""),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command("areas")
def areas_cmd(
    query: Annotated[str | None, typer.Argument(help="An area code (old or current) or name.")] = None,
) -> None:
    """List the Counties & Unitary Authorities, or show the area(s) a code or name resolves to."""
    from mhbook import areas  # lazily: the CLI must work without loading the area registry

    if query is None:
        table = Table(title="Counties & Unitary Authorities (England)")
        for name in ("code", "name", "region"):
            table.add_column(name)
        everything = areas.all_areas()
        for area in everything:
            table.add_row(area.code, area.name, area.region_name)
        out.print(table)
        out.print(f"{len(everything)} areas", highlight=False)
        return
    match = areas.find(query)
    for area in match.areas:
        out.print(f"{area.name} ({area.code}), {area.region_name}", markup=False, highlight=False, soft_wrap=True)
        if area.districts and [area.code] != [code for code, _ in area.districts]:
            names = ", ".join(f"{name} ({code})" for code, name in area.districts)
            out.print(f"  districts: {names}", markup=False, highlight=False, soft_wrap=True)
    if match.note:
        out.print(match.note, markup=False, highlight=False, soft_wrap=True)


@app.command("build")
def build_cmd(
    areas: Annotated[list[str] | None, typer.Argument(help="County & UA codes or names.")] = None,
    all_areas: Annotated[
        bool, typer.Option("--all", help="Every current County & UA, and the national landing site.")
    ] = False,
    out_dir: Annotated[str, typer.Option("--out", help="Folder for the sites.")] = "_build/site",
    only: Annotated[list[str] | None, typer.Option("--only", help="Build only these chapters.")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes (default: the machine's cores).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run area jobs on this Dask scheduler (e.g. tcp://10.0.0.5:8786); the output folder must be shared with its workers.",
        ),
    ] = None,
    local: Annotated[
        str | None,
        typer.Option(
            "--local",
            help="Folder of the authors' own words, <area code>/<chapter>.md, boxed into each chapter (default: $MHBOOK_LOCAL).",
        ),
    ] = None,
) -> None:
    """Execute the notebooks for each area and build its Jupyter Book site, incrementally.

    Outputs whose notebook, parameters, code and datasets are unchanged are reused; the
    summary says which datasets changed and which pages and areas were rebuilt.
    """
    from pathlib import Path

    from mhbook import build

    if not areas and not all_areas:
        err.print("mhbook: error: name one or more areas, or use --all", highlight=False)
        raise typer.Exit(2)
    if jobs is not None and jobs < 1:
        raise UsageError(
            f"--jobs {jobs}: give the number of worker processes, 1 or more (or leave --jobs out to use every core)"
        )
    try:
        report = _build_with_progress(build, areas, Path(out_dir), only, all_areas, jobs, scheduler, local)
    except build.BuildInterrupted as exc:  # SIGTERM or SIGINT: workers and staging are already gone
        err.print(f"mhbook: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_status) from None
    _print_changes(report)
    for r in report.results:
        if r.site and not r.failures:
            out.print(
                f"{r.area.name} ({r.area.code}): {r.site / 'index.html'}", markup=False, highlight=False, soft_wrap=True
            )
    out.print(f"Landing page: {report.landing}", markup=False, highlight=False, soft_wrap=True)
    failures = report.failures
    if failures:
        _print_failures(failures, Path(out_dir))
        raise typer.Exit(1)


def _prepare_data(progress) -> None:
    """First use: copy (or download) and verify every dataset not yet cached, shown on
    ``progress``, before any notebook runs; later builds find them cached and skip this."""
    missing = [ds for ds in catalogue.datasets().values() if not fetch.is_cached(ds)]
    if not missing:
        return
    task = progress.add_task(f"first use: preparing {len(missing)} datasets", total=len(missing))
    for ds in missing:
        progress.update(task, description=f"first use: {ds.id}")
        fetch.fetch(ds)
        progress.advance(task)
    progress.update(task, description=f"first use: {len(missing)} datasets ready")


def _build_with_progress(build, areas, out_dir, only, all_areas, jobs, scheduler, local=None):
    """Run ``build.build_areas`` with a progress bar on stderr; return its report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("planning", total=None)

        def done(result, i: int, total: int) -> None:
            state = "failed" if result.failures else "done"
            progress.update(task, total=total, completed=i, description=f"{result.area.name}: {state}")

        report = build.build_areas(
            areas or [],
            out_dir,
            only=only,
            everything=all_areas,
            jobs=jobs,
            scheduler=scheduler,
            on_area=done,
            prepare=lambda: _prepare_data(progress),
            on_note=lambda note: err.print(f"mhbook: {note}", markup=False, highlight=False, soft_wrap=True),
            local=local,
        )
        failed_areas = sorted({f.area for f in report.failures})
        progress.update(
            task, description=f"built {len(report.results) - len(failed_areas)}, failed {len(failed_areas)}"
        )
    return report


def _print_failures(failures, out_dir) -> None:
    """The failure table (whole messages, wrapped at word boundaries), then the first one in full."""
    table = Table(title=f"Build failures ({len(failures)})", show_lines=True)
    table.add_column("area", no_wrap=True)
    table.add_column("notebook", no_wrap=True)
    table.add_column("error", overflow="fold", ratio=1)
    for f in failures:
        table.add_row(f.area, f.notebook, f.error)
    err.print(table)
    first = failures[0]
    err.print(
        f"First failure, in full: area {first.area}, notebook {first.notebook}.md:", markup=False, highlight=False
    )
    err.print(first.error, markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"Executed notebooks of failed areas (open them to see the failing cell): {out_dir / '_reports'}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _print_changes(report) -> None:
    """What this build re-ran and why: datasets changed, pages executed, areas rebuilt."""
    rebuilt = [r for r in report.results if r.site]
    if not report.reasons and not rebuilt:
        out.print(f"Nothing changed: {report.up_to_date} area(s) up to date.", highlight=False)
        return
    datasets = report.changed_datasets()
    if datasets:
        out.print(f"Datasets changed: {', '.join(datasets)}", markup=False, highlight=False)
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(report.why_counts().items()))
    if why:
        out.print(f"Outputs executed: {len(report.reasons)} ({why})", markup=False, highlight=False)
    for nb, n in sorted(report.changed_pages().items()):
        out.print(f"  page {nb}: {n} area(s)", markup=False, highlight=False)
    areas_hit = sorted({a for a, _ in report.reasons})
    if areas_hit:
        shown = ", ".join(areas_hit[:20]) + (" ..." if len(areas_hit) > 20 else "")
        out.print(f"Areas re-executed: {len(areas_hit)} ({shown})", markup=False, highlight=False)
    out.print(f"Sites rendered: {len(rebuilt)}; up to date: {report.up_to_date}", highlight=False)


@app.command("export")
def export_cmd(
    area: Annotated[str, typer.Argument(help="A County & UA code or name.")],
    fmt: Annotated[list[str], typer.Option("--format", "-f", help="docx or pdf (repeat for both).")],
    out_dir: Annotated[str, typer.Option("--out", help="Folder holding the built sites.")] = "_build/site",
    dest: Annotated[
        str | None, typer.Option("--to", help="File to write (one format only); default: the site's downloads/ folder.")
    ] = None,
) -> None:
    """Write an area's book as Word and/or PDF from its built site (run `mhbook build AREA` first)."""
    from pathlib import Path

    from mhbook import areas as registry
    from mhbook import export

    unknown = sorted(set(fmt) - set(export.FORMATS))
    if unknown or (dest and len(fmt) > 1):
        err.print(
            f"mhbook: error: --format must be one of {list(export.FORMATS)}"
            + (", and --to takes a single format" if dest else ""),
            highlight=False,
        )
        raise typer.Exit(2)
    resolved = registry.get(area)
    for f in fmt:
        path = export.export_area(resolved, Path(out_dir), f, Path(dest) if dest else None)
        out.print(f"{resolved.name} ({resolved.code}) {f}: {path}", markup=False, highlight=False, soft_wrap=True)


def _message(exc: MhbookError) -> str:
    text = str(exc)
    if isinstance(exc, UnknownAreaError) and exc.suggestions:
        missing = [s for s in exc.suggestions if s not in text]
        if missing:
            text += f" Did you mean: {', '.join(missing)}?"
    return text


def _os_message(exc: OSError) -> str:
    """An OS error as one sentence naming the file, and what to do."""
    import errno

    where = exc.filename if exc.filename is not None else "a file"
    what = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "free some space on that device (or use another folder) and run the command again",
        errno.EROFS: "that file system is read-only: choose a writable folder",
        errno.EACCES: "check its permissions, or choose a folder you can write to",
        errno.EPERM: "check its permissions, or choose a folder you can write to",
        errno.ENOENT: "check the path",
        errno.EEXIST: "it is in the way: move it, or choose another path",
        errno.ENOTDIR: "a file is where a folder is expected: choose another path",
        errno.EISDIR: "a folder is where a file is expected: name a file",
    }
    hint = hints.get(exc.errno, "check the path and run the command again")
    return f"{where}: {what}; {hint}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mhbook`` script: run ``app``; any MhbookError becomes one line on stderr, exit 1
    (exit 2 for a ``UsageError``), as does an OS error (a full disk, a read-only or missing folder).

    Typer's standalone mode handles success, ``--help`` and usage errors (exit 2) itself.
    ``--verbose`` also prints the traceback.
    """
    try:
        app(args=argv, prog_name="mhbook")
    except MhbookError as exc:
        _fail(_message(exc), 2 if isinstance(exc, UsageError) else 1)
    except OSError as exc:
        _fail(_os_message(exc), 1)


def _fail(message: str, status: int) -> None:
    if _verbose:
        import traceback

        traceback.print_exc()
    err.print(f"mhbook: error: {message}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(status)
