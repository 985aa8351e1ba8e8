"""Refresh the datasets from their publishers: what ``mhbook data refresh`` runs.

For every dataset with a download URL (or those named): download it with fetch's own
downloader (``mhbook.fetch.download_to``, which retries) into a temporary folder and
hash it. A file whose sha256 differs from its pin is checked:

* as a file: not empty; readable as its kind (CSV, Parquet, workbook sheets); every
  column the catalogue lists is still there;
* through the source parsers: every ``@tidy_table`` loader that reads the dataset is
  run on the new file in a separate process (with a temporary cache and the new hash
  pinned), so the pandera schemas of ``mhbook.sources`` judge it as the book would.

What changed is described from the files themselves: rows, periods (the values of the
first period-like column: ``period``, ``reporting_period``, ``Year``, ...) and columns
added or removed. Only when every download and check succeeded are the new hashes
written, atomically, into the pins registry (``mhbook.project.pins_file()``: never the
installed package), the new files installed, verified, in the cache, and a record of
the changes kept beside the registry (``refresh.json``) for the build's "What changed"
page. Otherwise nothing is pinned and ``RefreshError`` lists every failure. The
temporary folder is removed in every case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mhbook import atomic, catalogue, fetch, project
from mhbook.catalogue import Dataset
from mhbook.errors import MhbookError, RefreshError, SchemaError

#: Column names that hold a dataset's period, in the order they are looked for.
PERIOD_COLUMNS = ("period", "reporting_period", "Year", "Timeperiod", "time_period", "year")
#: The record of the last refresh's changes, beside the pins registry.
RECORD = "refresh.json"


@dataclass(frozen=True)
class Summary:
    """What a file holds: data rows, columns and periods (empty where the kind has none)."""

    rows: int | None = None
    columns: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()


@dataclass
class Change:
    """One dataset whose published file changed: old and new hash, and what differs."""

    id: str
    old_sha256: str
    new_sha256: str
    old: Summary | None  # None when the pinned version is not at hand to compare
    new: Summary

    def lines(self) -> list[str]:
        """The change in words, one fact per line."""
        out = [f"sha256 {self.old_sha256[:12]} -> {self.new_sha256[:12]}"]
        old = self.old or Summary()
        if self.new.rows is not None:
            out.append(f"rows {old.rows if old.rows is not None else '?'} -> {self.new.rows}")
        added = sorted(set(self.new.periods) - set(old.periods))
        dropped = sorted(set(old.periods) - set(self.new.periods))
        if self.new.periods:
            before = _span(old.periods) if self.old else "? (the pinned version is not at hand)"
            out.append(
                f"periods {before} -> {_span(self.new.periods)}"
                + (f" (new: {', '.join(added)})" if added and self.old else "")
                + (f" (gone: {', '.join(dropped)})" if dropped else "")
            )
        if self.old:
            plus = [c for c in self.new.columns if c not in old.columns]
            minus = [c for c in old.columns if c not in self.new.columns]
            if plus:
                out.append(f"columns added: {', '.join(plus)}")
            if minus:
                out.append(f"columns removed: {', '.join(minus)}")
        return out


@dataclass
class Report:
    """A refresh's outcome: the datasets that changed (now pinned) and those unchanged."""

    changed: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pins: Path | None = None


def _span(periods: tuple[str, ...]) -> str:
    if not periods:
        return "none"
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]} ({len(periods)})"


def describe(ds: Dataset, path: Path) -> Summary:
    """Rows, columns and periods of the file at ``path`` read as ``ds``'s kind; ``SchemaError`` if unreadable."""
    import pandas as pd
    import pyarrow.parquet as pq

    name = ds.file.lower()
    try:
        if name.endswith(".parquet"):
            meta = pq.ParquetFile(path)
            columns = tuple(meta.schema_arrow.names)
            col = next((c for c in PERIOD_COLUMNS if c in columns), None)
            periods = () if col is None else _periods(pq.read_table(path, columns=[col]).column(col).to_pylist())
            return Summary(meta.metadata.num_rows, columns, periods)
        if name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, dtype=str, header=0 if ds.header else None, encoding_errors="replace")
            return _frame_summary(df)
        if name.endswith((".xlsx", ".xls")):
            sheets = list(ds.sheets) or [0]
            frames = [pd.read_excel(path, sheet_name=s, dtype=str) for s in sheets]
            first = _frame_summary(frames[0])
            return Summary(sum(len(f) for f in frames), first.columns, first.periods)
    except (ValueError, OSError, KeyError, ImportError) as exc:
        raise SchemaError(f"{ds.id}: the new {ds.file} cannot be read ({type(exc).__name__}: {exc})") from exc
    return Summary()


def _frame_summary(df) -> Summary:
    columns = tuple(str(c) for c in df.columns)
    col = next((c for c in PERIOD_COLUMNS if c in columns), None)
    return Summary(len(df), columns, () if col is None else _periods(df[col].tolist()))


def _periods(values) -> tuple[str, ...]:
    return tuple(sorted({str(v).replace("/", "-") for v in values if v is not None and str(v) not in ("", "nan")}))


def check_file(ds: Dataset, path: Path) -> Summary:
    """The file-level checks (see the module docstring); returns the file's summary."""
    if path.stat().st_size == 0:
        raise SchemaError(f"{ds.id}: the downloaded {ds.file} is empty")
    summary = describe(ds, path)
    if ds.columns and summary.columns:
        missing = [c for c in ds.columns if c not in summary.columns]
        if missing:
            raise SchemaError(
                f"{ds.id}: the new {ds.file} lacks the column(s) {missing} the catalogue lists; it has "
                f"{list(summary.columns)}. Its publisher changed its layout: update the parser and the "
                f"catalogue entry before pinning it."
            )
    return summary


def loaders(dataset_id: str) -> list[Callable]:
    """Every tidy-table loader in ``mhbook.sources`` that reads ``dataset_id`` and needs no arguments."""
    import mhbook.sources
    from mhbook.sources import mha

    found = []
    for info in pkgutil.iter_modules(mhbook.sources.__path__):
        module = importlib.import_module(f"mhbook.sources.{info.name}")
        for obj in vars(module).values():
            if dataset_id in getattr(obj, "dataset_ids", ()) and obj not in found and _no_arguments(obj):
                found.append(obj)
    if mha.DATASET_ID.match(dataset_id):  # one loader per yearly file, made on demand
        found.append(mha._loader(dataset_id))
    return found


def _no_arguments(func: Callable) -> bool:
    params = inspect.signature(getattr(func, "__wrapped__", func)).parameters.values()
    return all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params)


def _parse_in_child(dataset_ids: list[str]) -> None:
    """Run in a separate process: every loader of each dataset; prints ``{id: error or null}`` as JSON."""
    result = {}
    for dataset_id in dataset_ids:
        problems = []
        for loader in loaders(dataset_id):
            try:
                loader()
            except Exception as exc:  # any failure is the new file's: reported, never raised here
                problems.append(f"{loader.__name__}: {type(exc).__name__}: {exc}")
        result[dataset_id] = "; ".join(problems) or None
    sys.stdout.write(json.dumps(result))


def check_parsers(staged: dict[str, tuple[Dataset, Path]], work: Path) -> dict[str, str]:
    """Parse each staged file with the source parsers, in a child process; returns id -> problem."""
    if not staged:
        return {}
    deps = {d for ds, _ in staged.values() for loader in loaders(ds.id) for d in loader.dataset_ids} - set(staged)
    for dep in sorted(deps):  # the pinned versions of what the parsers read besides the new files
        fetch.fetch(dep)
    cache, home = work / "cache", work / "home"
    home.mkdir(parents=True)
    pins = catalogue.read_pins(project.pins_file()) | {ds.file: ds.sha256 for ds, _ in staged.values()}
    write_pins(home / "SHA256SUMS", pins)
    for ds, path in staged.values():
        target = cache / "data" / ds.file
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = fetch._temp_beside(target)
        copy.write_bytes(path.read_bytes())
        fetch._install(ds, copy, target)
    env = os.environ | {
        "MHBOOK_CACHE": str(cache),
        "MHBOOK_MIRROR": str(fetch.cache_dir() / "data"),
        "MHBOOK_HOME": str(home),
    }
    env.pop("MHBOOK_DOWNLOAD_BASE", None)
    code = "import sys; from mhbook.refresh import _parse_in_child; _parse_in_child(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, *staged], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RefreshError(f"the source parsers could not be run on the new files ({last}); nothing was pinned")
    return {i: why for i, why in json.loads(done.stdout).items() if why}


def write_pins(path: Path, pins: dict[str, str]) -> None:
    """Write a SHA256SUMS-style registry atomically (sorted by file)."""
    text = "".join(f"{sha}  {file}\n" for file, sha in sorted(pins.items()))
    atomic.write_text(path, text)


def _old_summary(ds: Dataset) -> Summary | None:
    """The pinned version's summary, when it is cached or in the mirror; None otherwise."""
    try:
        return describe(ds, fetch.fetch(ds))
    except MhbookError:
        return None


def refresh(ids: list[str] | None = None, *, on_dataset: Callable[[str], None] | None = None) -> Report:
    """Download, check and (only if all succeed) pin and cache new versions; see the module docstring."""
    selected = (
        [catalogue.get(i) for i in ids] if ids else [d for d in catalogue.datasets().values() if fetch.download_url(d)]
    )
    no_url = [d.id for d in selected if not fetch.download_url(d)]
    if no_url:
        raise RefreshError(
            f"{', '.join(no_url)}: no download URL in the catalogue, so it cannot be refreshed "
            f"(its file comes from the mirror only)"
        )
    report, failures = Report(), []
    staged: dict[str, tuple[Dataset, Path]] = {}
    with tempfile.TemporaryDirectory(prefix="mhbook-refresh-") as tmp:
        work = Path(tmp)
        for ds in selected:
            if on_dataset:
                on_dataset(ds.id)
            dest = work / "new" / ds.file
            try:
                fetch.download_to(ds, dest)
                got = fetch.sha256_of(dest)
                if got == ds.sha256:
                    report.unchanged.append(ds.id)
                    continue
                new = dataclasses.replace(ds, sha256=got)
                summary = check_file(new, dest)
            except MhbookError as exc:
                failures.append(str(exc))
                continue
            staged[ds.id] = (new, dest)
            report.changed.append(Change(ds.id, ds.sha256, got, None, summary))
        if not failures:
            for dataset_id, why in check_parsers(staged, work / "check").items():
                failures.append(f"{dataset_id}: the source parser rejects the new file: {why}")
        if failures:
            raise RefreshError(
                f"{len(failures)} of {len(selected)} dataset(s) failed, so nothing was pinned: " + "; ".join(failures)
            )
        for change in report.changed:
            change.old = _old_summary(catalogue.get(change.id))
        report.pins = project.pins_file()
        if staged:
            _pin(staged, report)
    return report


def _pin(staged: dict[str, tuple[Dataset, Path]], report: Report) -> None:
    """Record the new hashes, install the new files in the cache, keep the record of changes."""
    pins = catalogue.read_pins(report.pins) | {ds.file: ds.sha256 for ds, _ in staged.values()}
    try:
        write_pins(report.pins, pins)
    except OSError as exc:
        raise RefreshError(
            f"cannot write the pins registry {report.pins} ({exc.strerror or exc}); nothing was "
            f"pinned. Set MHBOOK_HOME to a writable folder."
        ) from exc
    catalogue.datasets.cache_clear()
    for ds, path in staged.values():
        target = fetch.cached_path(ds)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = fetch._temp_beside(target)
        try:
            copy.write_bytes(path.read_bytes())
            fetch._install(ds, copy, target)
        finally:
            copy.unlink(missing_ok=True)
    record = {
        "refreshed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "changed": [
            {
                "id": c.id,
                "old_sha256": c.old_sha256,
                "new_sha256": c.new_sha256,
                "old_periods": list(c.old.periods) if c.old else None,
                "new_periods": list(c.new.periods),
                "summary": c.lines(),
            }
            for c in report.changed
        ],
    }
    atomic.write_json(report.pins.parent / RECORD, record, indent=1)


def last_changes() -> dict[str, dict]:
    """The last refresh's record of changed datasets, by id (empty when there is none)."""
    try:
        record = json.loads((project.pins_file().parent / RECORD).read_text("utf-8"))
        return {c["id"]: c for c in record["changed"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
