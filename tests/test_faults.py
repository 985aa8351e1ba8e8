"""The fault suite: each fault is injected and must end in a clear message, not a traceback.

Every case asserts the exit status, one ``mhbook: error:`` line naming the file, option or
area at fault (and no traceback), and the state on disk afterwards: the previous site,
document or cache intact, no temporary or staging leftovers, no process left running.

The fixtures are synthetic (made here, and said to be): tiny documents, fake Parquet
files, a fake area, fake datasets in a throw-away catalogue. Faults the machine cannot
produce on demand (a full disk, a read-only file system) are injected by monkeypatching
the call that would fail with the ``OSError`` the kernel gives. The process-kill and
two-builds-at-once cases run a real build of a synthetic notebook, and one case builds a
real area's summary alone (``--only summary``, about a minute); they and the cases that
read the real area registry need the mirror and are marked ``mirror``.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from mhbook import cli, export
from mhbook.areas import Area

#: A synthetic area (the registry is not read): the export and CLI cases need only its code and name.
FAKE_AREA = Area("E06000001", "Synthetic Town", "E12000001", "Synthetic Region", (("E06000001", "Synthetic Town"),))


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``mhbook ARGS`` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    captured = capsys.readouterr()
    code = stopped.value.code
    return (0 if code is None else int(code)), captured.out, captured.err


def assert_clear_error(stderr: str, *names: str) -> None:
    """One ``mhbook: error:`` line, naming each of ``names``; no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("mhbook: error:")]
    assert lines, stderr
    for name in names:
        assert name in stderr, (name, stderr)


def leftovers(folder: Path) -> list[Path]:
    """Hidden temporary files and staging folders anywhere under ``folder``."""
    return [
        p
        for p in folder.rglob("*")
        if p.name.startswith((".staging-", ".old-")) or ".part" in p.name or p.name.endswith(".tmp")
    ]


# --- 1. documents are written atomically ------------------------------------------------


@pytest.fixture
def old_document(tmp_path, monkeypatch) -> Path:
    """A synthetic site with a synthetic (old) Word document; reading the site is faked."""
    site = tmp_path / "site" / FAKE_AREA.code
    path = export.download_path(site, "docx")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK synthetic old document")
    monkeypatch.setattr(export, "read_site", lambda site, area: object())
    from mhbook import areas

    monkeypatch.setattr(areas, "get", lambda query: FAKE_AREA)
    return path


def test_export_interrupted_mid_write_keeps_the_old_document(old_document, monkeypatch):
    def killed_half_way(document, path):
        Path(path).write_bytes(b"PK half")
        raise KeyboardInterrupt  # as a SIGINT or a killed writer would stop it

    monkeypatch.setitem(export.WRITERS, "docx", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        export.export_area(FAKE_AREA, old_document.parents[2], "docx")
    assert old_document.read_bytes() == b"PK synthetic old document"
    assert not leftovers(old_document.parents[2])


def test_export_writes_the_new_document_whole(old_document, monkeypatch):
    monkeypatch.setitem(export.WRITERS, "docx", lambda document, path: Path(path).write_bytes(b"PK new") and path)
    assert export.export_area(FAKE_AREA, old_document.parents[2], "docx") == old_document
    assert old_document.read_bytes() == b"PK new"
    assert not leftovers(old_document.parents[2])


def test_export_to_a_folder_is_a_message(old_document, tmp_path, capsys):
    folder = tmp_path / "papers"
    folder.mkdir()
    code, _, stderr = run_cli(
        ["export", FAKE_AREA.code, "--format", "docx", "--out", str(tmp_path / "site"), "--to", str(folder)], capsys
    )
    assert code in (1, 2)
    assert_clear_error(stderr, str(folder), "--to")
    assert list(folder.iterdir()) == []


def test_export_to_a_full_device_is_a_message_and_keeps_the_old_document(old_document, tmp_path, capsys, monkeypatch):
    def full(document, path):
        Path(path).write_bytes(b"PK part")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setitem(export.WRITERS, "docx", full)
    code, _, stderr = run_cli(["export", FAKE_AREA.code, "--format", "docx", "--out", str(tmp_path / "site")], capsys)
    assert code == 1
    assert_clear_error(stderr, str(old_document), "space")
    assert old_document.read_bytes() == b"PK synthetic old document"
    assert not leftovers(tmp_path)


# --- 2, 3. caches heal -------------------------------------------------------------------

#: Synthetic CSV bytes (not real data) served by a synthetic mirror.
GOOD = b"area_code,value\n" + b"E99999999,1.5\n" * 2000
BAD = GOOD.replace(b"1.5", b"9.9", 1)  # same size: an edit in place
DATASETS = ("synthetic-faults", "synthetic-unreadable")
CALLS: list[str] = []


@pytest.fixture
def synthetic_data(tmp_path, monkeypatch):
    """A synthetic catalogue (two entries) merged into the real one, a mirror holding their
    synthetic files, and an empty cache."""
    import dataclasses

    from mhbook import catalogue

    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    (mirror / "synthetic").mkdir(parents=True)
    real = catalogue.datasets()
    template = next(iter(real.values()))
    merged = dict(real)
    for id_ in DATASETS:
        (mirror / "synthetic" / f"{id_}.csv").write_bytes(GOOD)
        merged[id_] = dataclasses.replace(
            template, id=id_, file=f"synthetic/{id_}.csv", sha256=hashlib.sha256(GOOD).hexdigest(), url=None
        )
    monkeypatch.setattr(catalogue, "datasets", lambda: merged)
    monkeypatch.setenv("MHBOOK_MIRROR", str(mirror))
    monkeypatch.setenv("MHBOOK_CACHE", str(cache))
    monkeypatch.delenv("MHBOOK_DOWNLOAD_BASE", raising=False)
    CALLS.clear()
    synthetic_table.cache_clear()
    yield mirror
    synthetic_table.cache_clear()


def _synthetic_table():
    import pandas as pd

    from mhbook.fetch import fetch

    CALLS.append("parsed")
    return pd.read_csv(fetch("synthetic-faults"))


def _decorated():
    from mhbook.tables import tidy_table

    return tidy_table("synthetic-faults")(_synthetic_table)


synthetic_table = _decorated()


def _table_files(cache: Path) -> list[Path]:
    return sorted((cache / "tables").glob("*.parquet"))


def test_a_truncated_tidy_table_is_parsed_again_with_a_warning(synthetic_data, tmp_path, caplog):
    assert synthetic_table()["value"].iloc[0] == 1.5
    [path] = _table_files(tmp_path / "cache")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated, as by a full disk or a kill
    synthetic_table.cache_clear()
    with caplog.at_level("WARNING"):
        again = synthetic_table()
    assert again["value"].iloc[0] == 1.5 and CALLS == ["parsed", "parsed"]
    assert path.name in caplog.text and "cannot be read" in caplog.text
    synthetic_table.cache_clear()
    synthetic_table()  # the rewritten table is whole
    assert CALLS == ["parsed", "parsed"]


def test_data_verify_removes_unreadable_tidy_tables(synthetic_data, tmp_path, capsys):
    synthetic_table()
    [path] = _table_files(tmp_path / "cache")
    path.write_bytes(b"PAR1 synthetic garbage, not a Parquet file")
    code, stdout, stderr = run_cli(["data", "verify", "synthetic-faults"], capsys)
    assert code == 0, stderr
    assert "Traceback" not in stderr and path.name in stdout and "removing 1" in stdout
    assert not path.exists()
    synthetic_table.cache_clear()
    assert synthetic_table()["value"].iloc[0] == 1.5


def test_a_same_size_same_mtime_edit_of_a_cached_dataset_is_not_trusted(synthetic_data, tmp_path):
    from mhbook import fetch

    path = fetch.fetch("synthetic-faults")
    st = path.stat()
    path.write_bytes(BAD)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert not fetch.is_cached("synthetic-faults")
    assert synthetic_table()["value"].iloc[0] == 1.5  # parsed from the re-copied, verified bytes
    assert path.read_bytes() == GOOD


def test_a_table_parsed_from_bad_bytes_does_not_outlive_their_repair(synthetic_data, tmp_path, capsys):
    import pandas as pd

    from mhbook import fetch

    path = fetch.fetch("synthetic-faults")
    synthetic_table()
    [table] = _table_files(tmp_path / "cache")
    # As an older mhbook could leave it: bad bytes in the cache, and a table parsed from them.
    path.write_bytes(BAD)
    pd.read_csv(path).to_parquet(table)
    code, stdout, stderr = run_cli(["data", "verify", "synthetic-faults"], capsys)
    assert code == 0, stderr
    assert path.read_bytes() == GOOD and not table.exists()
    synthetic_table.cache_clear()
    assert synthetic_table()["value"].iloc[0] == 1.5


def test_an_unreadable_mirror_file_is_a_message_and_the_other_datasets_go_on(synthetic_data, capsys, monkeypatch):
    import builtins

    from mhbook import fetch

    unreadable = synthetic_data / "synthetic" / "synthetic-unreadable.csv"

    def guarded_open(file, *args, **kwargs):  # as chmod 000 would (the tests may run as root)
        if Path(file) == unreadable:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(fetch, "open", guarded_open, raising=False)
    code, _, stderr = run_cli(["data", "fetch", "synthetic-unreadable", "synthetic-faults"], capsys)
    assert code == 1
    assert_clear_error(stderr, str(unreadable), "permission")
    assert fetch.is_cached("synthetic-faults") and not fetch.is_cached("synthetic-unreadable")
    assert not leftovers(fetch.cache_dir())


# --- 5. build usage and OS errors are messages --------------------------------------------

#: Two synthetic areas (the registry is not read).
FAKE_AREAS = {
    a.code: a
    for a in (
        FAKE_AREA,
        Area("E06000002", "Synthetic City", "E12000001", "Synthetic Region", (("E06000002", "Synthetic City"),)),
    )
}


@pytest.fixture
def fake_registry(monkeypatch):
    from mhbook import areas

    monkeypatch.setattr(areas, "get", lambda query: FAKE_AREAS[query])


def test_build_out_naming_a_file_is_a_message(fake_registry, tmp_path, capsys):
    target = tmp_path / "site.html"
    target.write_text("synthetic: a file where the output folder should be")
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(target)], capsys)
    assert code == 1
    assert_clear_error(stderr, "--out", str(target), "not a folder")
    assert target.read_text() == "synthetic: a file where the output folder should be"


def test_build_out_on_a_read_only_file_system_is_a_message(fake_registry, tmp_path, capsys, monkeypatch):
    import tempfile

    out = tmp_path / "readonly"
    real = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):  # as a read-only mount answers (root ignores chmod)
        if dir is not None and Path(dir) == out:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(Path(dir) / "probe"))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out)], capsys)
    assert code == 1
    assert_clear_error(stderr, "--out", str(out), "read-only")


def test_build_only_an_unknown_chapter_is_a_message_and_writes_nothing(fake_registry, tmp_path, capsys):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out), "--only", "no_such_chapter"], capsys)
    assert code == 2
    assert_clear_error(stderr, "--only", "no_such_chapter", "summary")  # names the chapters there are
    assert not out.exists()


@pytest.mark.parametrize("address", ["tcp://:notaport", "not an address", "tcp://host:abc"])
def test_build_scheduler_malformed_is_a_message(fake_registry, tmp_path, capsys, address):
    code, _, stderr = run_cli(
        ["build", FAKE_AREA.code, "--out", str(tmp_path / "site"), "--scheduler", address], capsys
    )
    assert code == 2
    assert_clear_error(stderr, "--scheduler", address)
    assert not (tmp_path / "site").exists()


def test_build_scheduler_with_nothing_listening_is_a_message(
    synthetic_mirror, fake_registry, tmp_path, capsys, monkeypatch
):
    # The synthetic mirror: the command line first fetches every catalogued dataset.
    import socket

    from mhbook.build import executors

    with socket.socket() as sock:  # a port nothing listens on (bound, then closed)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 2)
    address = f"tcp://127.0.0.1:{port}"
    code, _, stderr = run_cli(
        ["build", FAKE_AREA.code, "--out", str(tmp_path / "site"), "--scheduler", address], capsys
    )
    assert code == 1
    assert_clear_error(stderr, "--scheduler", address, "no Dask scheduler answered")


class _Inline:
    """A synthetic executor: runs each job here, at once (the area jobs are faked)."""

    def submit(self, func, *args):
        from concurrent.futures import Future

        fut = Future()
        try:
            fut.set_result(func(*args))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut

    def as_completed(self, futures):
        return list(futures)

    def close(self):
        pass

    def abort(self):
        pass


def test_a_full_disk_fails_one_area_and_the_others_go_on(
    synthetic_mirror, fake_registry, tmp_path, capsys, monkeypatch
):
    # The synthetic mirror: the command line first fetches every catalogued dataset.
    from mhbook.build import render, run, workers

    out = tmp_path / "site"
    full = FAKE_AREA.code

    def execute_output(job, area, notebook, params):  # synthetic: no notebook runs
        if area == full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out / ".mhbook-build" / "outputs" / area))
        return []

    monkeypatch.setattr(workers, "execute_output", execute_output)
    monkeypatch.setattr(workers, "_settle_heap", lambda: None)  # the test process's collector stays as it is
    monkeypatch.setattr(render, "stage_site", lambda job, seconds: None)  # "the site in place is current"
    monkeypatch.setattr(run, "executor", lambda jobs, scheduler, n: _Inline())
    monkeypatch.setattr(run, "write_index", lambda out: out / "index.html")
    code, stdout, stderr = run_cli(["build", *FAKE_AREAS, "--out", str(out)], capsys)
    assert code == 1
    assert "Traceback" not in stderr
    assert "disk is full" in stderr and full in stderr
    assert "Synthetic City (E06000002)" in stdout  # the other area was built
    assert not leftovers(out)


# --- 4. processes end together; no staging left -------------------------------------------


def test_a_dead_builds_leftovers_are_removed_and_a_live_ones_kept(tmp_path):
    from mhbook import build

    out = tmp_path / "site"
    dead = _dead_pid()
    (out / FAKE_AREA.code).mkdir(parents=True)
    stale = [
        out / f".staging-{FAKE_AREA.code}-{dead}-abc_1234",
        out / f".staging-{FAKE_AREA.code}-k2j3h4g5",
        out / f".old-{FAKE_AREA.code}-{dead}",
    ]
    live = out / f".staging-E06000002-{os.getpid()}-zz9_8877"
    half_replaced = out / f".old-E06000002-{dead}"  # killed between replace_dir's two renames
    workdir = out / ".mhbook-build" / "tmp" / f"{FAKE_AREA.code}-summary-{dead}-q1w2e3r4"
    for path in [*stale, live, half_replaced, workdir]:
        path.mkdir(parents=True)
        (path / "index.html").write_text("synthetic")
    build.clean_leftovers(out)
    assert not any(p.exists() for p in stale) and not workdir.exists()
    assert live.exists()  # another build's, still running
    assert (out / "E06000002" / "index.html").read_text() == "synthetic" and not half_replaced.exists()
    assert (out / FAKE_AREA.code).is_dir()


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(proc.stdout)


#: A synthetic notebook: it says when it has started, then waits while the pause file exists.
PAUSING = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Synthetic

```{{code-cell}} python
:tags: [parameters, remove-cell]
area_code = "E08000004"  # County & UA code (str)
```

```{{code-cell}} python
:tags: [remove-cell]
import os, pathlib, time
pathlib.Path("{reached}").touch()
while os.path.exists("{pause}"):
    time.sleep(0.1)
```

Synthetic page, not real data.
"""


@pytest.fixture
def pausing_project(tmp_path, monkeypatch):
    """A synthetic one-notebook book whose notebook waits (in the worker) while ``pause`` exists."""
    import shutil

    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    shutil.copy(repo / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text("format: jb-book\nroot: alpha\n", "utf-8")
    reached, pause = tmp_path / "reached", tmp_path / "pause"
    (root / "notebooks" / "alpha.md").write_text(PAUSING.format(reached=reached, pause=pause), "utf-8")
    pause.touch()
    monkeypatch.setenv("MHBOOK_PROJECT", str(root))
    out = tmp_path / "site"
    old_site = out / FAKE_AREA.code
    old_site.mkdir(parents=True)
    (old_site / "index.html").write_text("synthetic previous site")
    yield out, reached, pause
    pause.unlink(missing_ok=True)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended (its new parent may never reap it)


def _start_build(out: Path, reached: Path):
    import subprocess
    import sys
    import time

    mhbook = str(Path(sys.executable).with_name("mhbook"))
    log = open(out.parent / "build.log", "w+")
    proc = subprocess.Popen(
        [mhbook, "build", FAKE_AREA.code, "--out", str(out), "--jobs", "1"],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not reached.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail(f"the build did not reach the notebook: {log.read()}")
        time.sleep(0.1)
    workers = _descendants(proc.pid)
    assert workers, "the notebook should run in a worker process"
    return proc, workers, log


def _wait_gone(pids: list[int], seconds: float = 20) -> list[int]:
    import time

    deadline = time.monotonic() + seconds
    while True:
        alive = [p for p in pids if _running(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


@pytest.mark.mirror
def test_killing_only_the_parent_ends_its_workers(pausing_project):
    import signal

    out, reached, pause = pausing_project
    proc, workers, log = _start_build(out, reached)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as kill -9 PID does
        proc.wait(10)
        alive = _wait_gone(workers)
    finally:
        pause.unlink()
        for pid in _wait_gone(workers, 0):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"worker(s) still running after the parent was killed: {alive}"
    assert (out / FAKE_AREA.code / "index.html").read_text() == "synthetic previous site"
    from mhbook import build

    build.clean_leftovers(out)  # as the next build starts
    assert not leftovers(out) and not list((out / ".mhbook-build" / "tmp").iterdir())


@pytest.mark.mirror
@pytest.mark.parametrize("signame, status_expected", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_stops_the_build_cleanly_with_a_resume_line(pausing_project, signame, status_expected):
    import signal

    out, reached, pause = pausing_project
    proc, workers, log = _start_build(out, reached)
    try:
        os.kill(proc.pid, getattr(signal, signame))  # the parent only, as a CI runner cancelling a job does
        status = proc.wait(30)
        alive = _wait_gone(workers)
    finally:
        pause.unlink()
        for pid in _wait_gone(workers, 0):
            os.kill(pid, signal.SIGKILL)
    log.seek(0)
    stderr = log.read()
    assert status == status_expected, stderr
    assert "Traceback" not in stderr and f"interrupted ({signame})" in stderr and "run the same command again" in stderr
    assert not alive, f"worker(s) still running after {signame}: {alive}"
    assert (out / FAKE_AREA.code / "index.html").read_text() == "synthetic previous site"
    assert not leftovers(out) and not list((out / ".mhbook-build" / "tmp").iterdir())


# --- more caches and OS errors ---------------------------------------------------------------


def test_a_full_tidy_table_cache_costs_a_reparse_not_a_failure(synthetic_data, tmp_path, monkeypatch, caplog):
    import pandas as pd

    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with caplog.at_level("WARNING"):
        assert synthetic_table()["value"].iloc[0] == 1.5
    assert "could not write" in caplog.text
    assert not _table_files(tmp_path / "cache") and not leftovers(tmp_path / "cache")


def test_a_full_dataset_cache_is_a_message_naming_it(synthetic_data, tmp_path, capsys, monkeypatch):
    from mhbook import fetch

    def full(target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target.parent))

    monkeypatch.setattr(fetch, "_temp_beside", full)
    code, _, stderr = run_cli(["data", "fetch", "synthetic-faults"], capsys)
    assert code == 1
    assert_clear_error(stderr, "synthetic-faults", str(tmp_path / "cache"), "MHBOOK_CACHE")
    assert not fetch.is_cached("synthetic-faults")


def test_an_os_error_anywhere_is_one_line_and_verbose_shows_the_traceback(capsys, monkeypatch):
    from mhbook import catalogue

    def broken():
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/synthetic/catalogue.yaml")

    monkeypatch.setattr(catalogue, "datasets", broken)
    code, _, stderr = run_cli(["data", "list"], capsys)
    assert code == 1
    assert_clear_error(stderr, "/synthetic/catalogue.yaml", "permission")
    code, _, stderr = run_cli(["--verbose", "data", "list"], capsys)
    assert code == 1 and "Traceback" in stderr and "mhbook: error: /synthetic/catalogue.yaml" in stderr


def test_an_export_killed_mid_write_keeps_the_old_document_and_the_next_export_clears_its_part(tmp_path):
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    from mhbook.export import STALE_PART_S

    site = tmp_path / "site"
    path = export.download_path(site / FAKE_AREA.code, "docx")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK synthetic old document")
    started = tmp_path / "started"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from mhbook import export
        from mhbook.areas import Area
        def slow(document, path):  # synthetic writer: half a file, then a long pause
            Path(path).write_bytes(b"PK half")
            Path({str(started)!r}).touch()
            time.sleep(60)
        export.read_site = lambda site, area: object()
        export.WRITERS["docx"] = slow
        area = Area({FAKE_AREA.code!r}, "Synthetic Town", "E12000001", "Synthetic Region", ())
        export.export_area(area, Path({str(site)!r}), "docx")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the export did not start"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert path.read_bytes() == b"PK synthetic old document"
    [part] = leftovers(site)  # a hidden temporary file, never the document itself
    old = time.time() - STALE_PART_S - 1
    os.utime(part, (old, old))
    export.write_atomic(path, lambda tmp: Path(tmp).write_bytes(b"PK new"))
    assert path.read_bytes() == b"PK new" and not leftovers(site)


def test_a_truncated_stored_notebook_is_executed_again_not_a_sphinx_failure(tmp_path, monkeypatch, caplog):
    import json

    from mhbook.build import render, workers
    from mhbook.build import store as build_store
    from mhbook.build.jobs import AreaJob

    out = tmp_path / "site"
    store = build_store.Store(out)
    for notebook, text in {"alpha": json.dumps({"cells": [], "synthetic": True}), "beta": '{"cells": [{"cell'}.items():
        folder = store.output_dir(FAKE_AREA.code, notebook)
        folder.mkdir(parents=True)
        (folder / f"{notebook}.ipynb").write_text(text)  # synthetic; beta is truncated
    ran = []
    monkeypatch.setattr(workers, "execute_output", lambda job, area, nb, params: ran.append(nb) or [])
    monkeypatch.setattr(workers, "_settle_heap", lambda: None)  # the test process's collector stays as it is
    monkeypatch.setattr(render, "stage_site", lambda job, seconds: None)
    job = AreaJob(FAKE_AREA.code, FAKE_AREA.name, str(out), str(tmp_path), ["alpha", "beta"], {}, "code", "catalogue")
    with caplog.at_level("WARNING"):
        outcome = workers.run_area_job(job)
    assert ran == ["beta"] and outcome.executed == ["beta"] and not outcome.failures
    assert outcome.damaged == ["beta"]
    assert "beta.ipynb cannot be read" in caplog.text


# --- 4. one build at a time per output folder ---------------------------------------------


def _hold_lock(out: Path):
    """A synthetic holder: another process that takes the output folder's lock and waits."""
    import subprocess
    import sys

    out.mkdir(parents=True, exist_ok=True)
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(out / '.mhbook-build.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.write(fd, f'{os.getpid()} 2026-12-01T22:00:00+0000\\n'.encode())\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_build_into_a_locked_folder_stops_at_once_naming_the_holder(fake_registry, tmp_path, capsys):
    out = tmp_path / "site"
    (out / FAKE_AREA.code).mkdir(parents=True)
    (out / FAKE_AREA.code / "index.html").write_text("synthetic previous site")
    holder = _hold_lock(out)
    try:
        code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out)], capsys)
    finally:
        holder.communicate("")
    assert code == 1
    assert_clear_error(stderr, "--out", str(out), f"pid {holder.pid}", "2026-12-01T22:00:00", "another mhbook build")
    assert (out / FAKE_AREA.code / "index.html").read_text() == "synthetic previous site"
    assert not (out / ".mhbook-build").exists()  # nothing planned, nothing written
    assert not leftovers(out)


def test_a_stale_lock_of_a_dead_build_is_taken_over(tmp_path):
    from mhbook import build

    out = tmp_path / "site"
    out.mkdir()
    lock = out / build.LOCK_NAME
    lock.write_text(f"{_dead_pid()} 2026-01-01T00:00:00+0000\n")  # synthetic: left by a killed build
    with build.output_lock(out):
        assert lock.read_text().split()[0] == str(os.getpid())
    assert lock.read_text() == ""  # released: the next build takes it


def test_the_lock_is_released_when_the_build_fails(fake_registry, tmp_path, capsys, monkeypatch):
    from mhbook import build
    from mhbook.build import run

    out = tmp_path / "site"

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(out / "synthetic"))

    monkeypatch.setattr(run, "make_plan", broken)
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out)], capsys)
    assert code == 1
    assert_clear_error(stderr, str(out / "synthetic"))
    with build.output_lock(out):  # free again
        pass


@pytest.mark.mirror
def test_two_real_builds_at_once_the_second_stops_and_the_first_finishes(pausing_project):
    import subprocess
    import sys

    out, reached, pause = pausing_project
    proc, workers, log = _start_build(out, reached)
    try:
        mhbook = str(Path(sys.executable).with_name("mhbook"))
        second = subprocess.run(
            [mhbook, "build", FAKE_AREA.code, "--out", str(out), "--jobs", "1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        pause.unlink()
    status = proc.wait(240)
    log.seek(0)
    assert second.returncode == 1, second.stderr
    assert_clear_error(second.stderr, f"pid {proc.pid}", "another mhbook build")
    assert status == 0, log.read()
    assert "synthetic previous site" not in (out / FAKE_AREA.code / "index.html").read_text()
    assert not leftovers(out) and not _wait_gone(workers)


# --- 6. input that is not an English County & UA ------------------------------------------


@pytest.mark.mirror
@pytest.mark.parametrize(
    "query, says",
    [
        ("W06000015", "Cardiff (W06000015) is in Wales"),
        ("Cardiff", "Cardiff (W06000015) is in Wales"),
        ("s12000049", "Glasgow City (S12000049) is in Scotland"),
        ("N09000003", "Belfast (N09000003) is in Northern Ireland"),
        ("W06999999", "W06999999 is a code in Wales"),  # not in the lookup: the code's prefix says where
    ],
)
def test_a_code_or_name_outside_england_says_mhbook_covers_england(tmp_path, capsys, query, says):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["build", query, "--out", str(out)], capsys)
    assert code == 1
    assert_clear_error(stderr, "mhbook covers England's Counties & Unitary Authorities", says)
    assert "Did you mean" not in stderr  # no English suggestions for a Welsh place
    assert not out.exists()


def _no_op_build(monkeypatch):
    """Synthetic build machinery: nothing executes or renders; the registry is the real one."""
    from mhbook.build import render, run, workers

    monkeypatch.setattr(workers, "execute_output", lambda job, area, notebook, params: [])
    monkeypatch.setattr(workers, "_settle_heap", lambda: None)
    monkeypatch.setattr(render, "stage_site", lambda job, seconds: None)
    monkeypatch.setattr(run, "executor", lambda jobs, scheduler, n: _Inline())
    monkeypatch.setattr(run, "write_index", lambda out: out / "index.html")


@pytest.mark.mirror
@pytest.mark.parametrize(
    "query, says, builds",
    [
        ("E07000084", "Basingstoke and Deane (E07000084) is a district in Hampshire (E10000014)", "E10000014"),
        ("basingstoke and deane", "is a district in Hampshire (E10000014)", "E10000014"),
        ("E10000002", "is a former County & UA code", "E06000060"),  # Buckinghamshire county -> the unitary
    ],
)
def test_a_district_or_former_code_builds_its_county_and_ua_and_says_which(
    tmp_path, capsys, monkeypatch, query, says, builds
):
    _no_op_build(monkeypatch)
    out = tmp_path / "site"
    code, stdout, stderr = run_cli(["build", query, "--out", str(out), "--only", "summary"], capsys)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    notes = [line for line in stderr.splitlines() if says in line]
    assert len(notes) == 1 and "Building " in notes[0] and builds in notes[0], stderr
    assert f"({builds})" in stdout
    assert not leftovers(out)


@pytest.mark.mirror
def test_a_current_county_and_ua_by_code_prints_no_note(tmp_path, capsys, monkeypatch):
    _no_op_build(monkeypatch)
    code, _, stderr = run_cli(["build", "E08000004", "--out", str(tmp_path / "site"), "--only", "summary"], capsys)
    assert code == 0, stderr
    assert "is a district" not in stderr and "former" not in stderr


# --- 8. --only leaves chapters out: links to them are plain text -------------------------


def test_links_to_absent_chapters_become_their_text():
    """Synthetic doctree: a link to a chapter left out keeps its words, other links stay."""
    from docutils import nodes

    from mhbook.site import absent_links

    para = nodes.paragraph(
        "",
        "",
        nodes.reference("", "evidence: Compared", refuri="comparison.html"),
        nodes.reference("", "its section", refuri="claims.html#verdicts"),
        nodes.reference("", "accessibility", refuri="accessibility.html"),
        nodes.reference("", "elsewhere", refuri="https://example.org/comparison.html"),
    )
    tree = nodes.section("", para)
    assert absent_links(tree, {"comparison", "claims"}) == 2
    uris = [r["refuri"] for r in tree.findall(nodes.reference)]
    assert uris == ["accessibility.html", "https://example.org/comparison.html"]
    assert "evidence: Compared" in tree.astext() and "its section" in tree.astext()


def test_the_book_config_names_the_chapters_left_out(tmp_path):
    import yaml

    from mhbook import build

    root = Path(__file__).resolve().parents[1]
    build.write_book_config(root, tmp_path, "Synthetic", ["summary"])
    absent = yaml.safe_load((tmp_path / "_config.yml").read_text())["sphinx"]["config"]["mhbook_absent_pages"]
    assert "comparison" in absent and "claims" in absent
    assert "summary" not in absent and "accessibility" not in absent  # built, and a book page always there
    build.write_book_config(root, tmp_path, "Synthetic", build.notebook_names(root))
    assert yaml.safe_load((tmp_path / "_config.yml").read_text())["sphinx"]["config"]["mhbook_absent_pages"] == []


@pytest.mark.mirror
def test_build_only_summary_makes_a_working_site_with_plain_text_for_absent_chapters(tmp_path):
    """A real build of one small area (Rutland), summary only (about a minute)."""
    import re
    import subprocess
    import sys

    out = tmp_path / "site"
    mhbook = str(Path(sys.executable).with_name("mhbook"))
    proc = subprocess.run(
        [mhbook, "build", "E06000017", "--out", str(out), "--only", "summary", "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    page = (out / "E06000017" / "summary.html").read_text("utf-8")
    linked = set(re.findall(r'href="([\w-]+)\.html', page))
    assert linked <= {"accessibility", "genindex", "search", "summary", "index"}, linked
    assert "Exploring inequality" in page and "evidence: " in page  # the links' words stay, as text
    assert (out / "E06000017" / "downloads" / "board-brief.docx").is_file()
    assert not leftovers(out)


# --- 5. more usage errors: one line each, nothing written ---------------------------------


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_build_jobs_below_one_is_a_message(fake_registry, tmp_path, capsys, jobs):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out), "--jobs", jobs], capsys)
    assert code == 2
    assert_clear_error(stderr, f"--jobs {jobs}", "1 or more")
    assert "╭" not in stderr  # one line, not a usage box
    assert not out.exists()


def test_build_with_no_area_is_a_message(tmp_path, capsys):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["build", "--out", str(out)], capsys)
    assert code == 2
    assert_clear_error(stderr, "--all")
    assert not out.exists()


def test_export_of_an_area_never_built_is_a_message_and_writes_nothing(fake_registry, tmp_path, capsys):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["export", FAKE_AREA.code, "--format", "docx", "--out", str(out)], capsys)
    assert code == 1
    assert_clear_error(stderr, str(out / FAKE_AREA.code / "index.html"), "mhbook build")
    assert not out.exists()


def test_export_an_unknown_format_is_a_message_and_writes_nothing(fake_registry, old_document, tmp_path, capsys):
    code, _, stderr = run_cli(["export", FAKE_AREA.code, "--format", "odt", "--out", str(tmp_path / "site")], capsys)
    assert code == 2
    assert_clear_error(stderr, "--format", "docx", "pdf")
    assert old_document.read_bytes() == b"PK synthetic old document"
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("command", ["fetch", "verify"])
def test_data_an_unknown_dataset_id_is_a_message(synthetic_data, capsys, command):
    from mhbook import fetch

    code, _, stderr = run_cli(["data", command, "synthetic-faults", "no-such-dataset"], capsys)
    assert code == 1
    assert_clear_error(stderr, "no-such-dataset", "mhbook data list")
    assert not fetch.is_cached("synthetic-faults")  # stopped before any work: the ids are checked first
    assert not (Path(os.environ["MHBOOK_CACHE"]) / "data").exists() or not leftovers(Path(os.environ["MHBOOK_CACHE"]))


def test_an_invalid_mhbook_timeout_is_a_message_naming_it(synthetic_data, capsys, monkeypatch):
    from mhbook import fetch

    (synthetic_data / "synthetic" / "synthetic-faults.csv").unlink()  # not in the mirror: it must be downloaded
    monkeypatch.setenv("MHBOOK_DOWNLOAD_BASE", "http://127.0.0.1:9")  # synthetic; never reached
    monkeypatch.setenv("MHBOOK_TIMEOUT", "soon")
    code, _, stderr = run_cli(["data", "fetch", "synthetic-faults"], capsys)
    assert code == 1
    assert_clear_error(stderr, "MHBOOK_TIMEOUT", "soon", "positive number")
    assert not fetch.is_cached("synthetic-faults")
    assert not leftovers(Path(os.environ["MHBOOK_CACHE"]))


@pytest.mark.parametrize("command", [["data", "fetch", "synthetic-faults"], ["build", FAKE_AREA.code]])
def test_mhbook_mirror_naming_a_file_is_a_message(
    synthetic_data, fake_registry, tmp_path, capsys, monkeypatch, command
):
    not_a_folder = tmp_path / "mirror.zip"
    not_a_folder.write_bytes(b"synthetic: a file, not the mirror folder")
    monkeypatch.setenv("MHBOOK_MIRROR", str(not_a_folder))
    out = tmp_path / "site"
    args = command + (["--out", str(out)] if command[0] == "build" else [])
    code, _, stderr = run_cli(args, capsys)
    assert code == 1
    assert_clear_error(stderr, f"MHBOOK_MIRROR={not_a_folder}", "not a folder")
    assert not out.exists()
    assert not_a_folder.read_bytes() == b"synthetic: a file, not the mirror folder"


@pytest.mark.parametrize("damage", [b"{not json", b"", b'{"sha256": "0", "size": 1}'])
def test_a_damaged_verified_marker_costs_a_rehash_not_a_failure(synthetic_data, capsys, damage):
    from mhbook import fetch

    path = fetch.fetch("synthetic-faults")
    marker = path.with_name(path.name + ".verified")
    marker.write_bytes(damage)  # synthetic damage
    assert not fetch.is_cached("synthetic-faults")
    code, _, stderr = run_cli(["data", "fetch", "synthetic-faults"], capsys)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert fetch.is_cached("synthetic-faults") and path.read_bytes() == GOOD  # re-hashed and marked again
    assert not leftovers(Path(os.environ["MHBOOK_CACHE"]))


def test_a_lock_path_that_is_a_folder_is_a_message(fake_registry, tmp_path, capsys):
    from mhbook import build

    out = tmp_path / "site"
    (out / build.LOCK_NAME).mkdir(parents=True)  # synthetic: something made a folder where the lock goes
    code, _, stderr = run_cli(["build", FAKE_AREA.code, "--out", str(out)], capsys)
    assert code == 1
    assert_clear_error(stderr, build.LOCK_NAME)
    assert not (out / ".mhbook-build").exists()


@pytest.mark.mirror
def test_a_former_county_split_in_two_names_both_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "site"
    code, _, stderr = run_cli(["build", "E10000021", "--out", str(out)], capsys)  # Northamptonshire
    assert code == 1
    assert_clear_error(stderr, "North Northamptonshire (E06000061)", "West Northamptonshire (E06000062)", "Choose one")
    assert not out.exists()


def test_a_damaged_catalogue_is_a_message_naming_it(tmp_path):
    # Synthetic: broken YAML and a YAML file without a datasets list.
    from mhbook import catalogue
    from mhbook.errors import MhbookError

    for text in ("datasets: [\n  - id: x\n    file: [unclosed", "just: a mapping\n"):
        with pytest.raises(MhbookError) as info:
            catalogue._parse(text, str(tmp_path / "catalogue.yaml"))
        assert str(tmp_path / "catalogue.yaml") in str(info.value) and "git checkout" in str(info.value)
