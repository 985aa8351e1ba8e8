"""The incremental, parallel build: what re-runs after a change, resumption, Dask.

The book here is synthetic: a throw-away project (``MHBOOK_PROJECT``) with two tiny
notebooks that only look up catalogue entries (``catalogue.get``), so what each one
"reads" is known: ``alpha`` reads ``mha-2023-24``, ``beta`` reads ``lkp-region-all-codes``.
The areas and catalogue are those of the synthetic mirror (``tests/synthetic``), so these
tests need no data; the notebook execution and Sphinx are real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mhbook import build, catalogue
from mhbook.build import executors
from mhbook.build import store as buildstore
from mhbook.build.reasons import Reason, Why

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
AREAS = ["E06900001", "E06900002"]  # synthetic areas
READS = {"alpha": "mha-2023-24", "beta": "lkp-region-all-codes"}

NOTEBOOK = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# {title}

```{{code-cell}} python
:tags: [parameters, remove-cell]
area_code = "E08000004"  # County & UA code (str)
```

```{{code-cell}} python
:tags: [remove-cell]
import os, time
from mhbook import catalogue
from mhbook.report import glue_all
entry = catalogue.get("{dataset}")
while os.path.exists("{pause}"):  # lets a test interrupt the build here
    time.sleep(0.2)
glue_all({{"code": area_code}})
```

Synthetic page for {{glue:md}}`code`, reading {dataset}.
"""


def _project(root: Path, pause: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "_config.yml").write_text((REPO / "_config.yml").read_text("utf-8"), "utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: alpha\nchapters:\n  - file: beta\n", "utf-8")
    for name, dataset in READS.items():
        text = NOTEBOOK.format(title=name.title(), dataset=dataset, pause=pause if name == "beta" else "/nonexistent")
        (root / "notebooks" / f"{name}.md").write_text(text, "utf-8")
    return root


@pytest.fixture
def project(synthetic_mirror, tmp_path, monkeypatch) -> Path:
    root = _project(tmp_path / "project", tmp_path / "pause")
    monkeypatch.setenv("MHBOOK_PROJECT", str(root))
    return root


def _build(out: Path, jobs: int = 1, **kw) -> build.BuildReport:
    report = build.build_areas(AREAS, out, jobs=jobs, **kw)
    assert not report.failures, report.failures
    return report


def _fake_catalogue(monkeypatch, dataset_id: str) -> None:
    """Give one catalogue entry a different (synthetic) sha256, as a refresh would.

    The change is made in this process; workers are forked rather than spawned so that
    they see it too, as they would see a changed catalogue file."""
    changed = dict(catalogue.datasets())
    changed[dataset_id] = replace(changed[dataset_id], sha256="f" * 64)
    monkeypatch.setattr(catalogue, "datasets", lambda: changed)
    monkeypatch.setattr(executors, "START_METHOD", "fork")


def test_records_name_exactly_the_datasets_each_notebook_read(project, tmp_path):
    out = tmp_path / "site"
    report = _build(out)
    assert set(report.reasons) == {(a, nb) for a in AREAS for nb in READS}
    store = buildstore.Store(out)
    for area in AREAS:
        for nb, dataset in READS.items():
            assert list(store.record(area, nb)["datasets"]) == [dataset]
        assert "Synthetic page for" in (out / area / "alpha.html").read_text("utf-8")
    assert all(f'href="{a}/index.html"' in (out / "index.html").read_text("utf-8") for a in AREAS)


def test_only_outputs_affected_by_a_change_rerun(project, tmp_path, monkeypatch):
    out = tmp_path / "site"
    _build(out)
    again = _build(out)
    assert again.reasons == {} and again.up_to_date == 2 and again.results == []

    _fake_catalogue(monkeypatch, READS["beta"])
    changed = _build(out)
    assert changed.reasons == {(a, "beta"): Reason(Why.DATASETS_CHANGED, (READS["beta"],)) for a in AREAS}
    assert changed.changed_datasets() == [READS["beta"]]
    written = json.loads(buildstore.Store(out).report_path().read_text("utf-8"))  # for a "what changed" page
    assert written["datasets_changed"] == [READS["beta"]]
    first = written["areas"][AREAS[0]]
    assert first["reasons"] == {
        "beta": {"why": "datasets_changed", "text": f"datasets changed: {READS['beta']}", "datasets": [READS["beta"]]}
    }
    assert first["executed"] == ["beta"] and not first["failures"]
    assert set(first["seconds"]) == set(build.PHASES) and first["seconds"]["execute"] > 0 < first["seconds"]["render"]
    assert sorted(r.area.code for r in changed.results) == AREAS  # both sites re-rendered

    source = project / "notebooks" / "alpha.md"
    source.write_text(source.read_text("utf-8") + "\nOne more sentence.\n", "utf-8")
    edited = _build(out)
    assert edited.reasons == {(a, "alpha"): Reason(Why.NOTEBOOK_CHANGED) for a in AREAS}
    assert "One more sentence." in (out / AREAS[0] / "alpha.html").read_text("utf-8")


def test_a_changed_parameter_makes_only_that_output_stale(project, tmp_path):
    out = tmp_path / "site"
    _build(out)
    store = buildstore.Store(out)
    path = project / "notebooks" / "alpha.md"
    same = buildstore.OutputKey.for_notebook(AREAS[0], "alpha", path, {"area_code": AREAS[0]})
    other = buildstore.OutputKey.for_notebook(AREAS[0], "alpha", path, {"area_code": AREAS[1]})
    assert store.stale_reason(same) is None
    assert store.stale_reason(other) == Reason(Why.PARAMETERS_CHANGED)


def test_an_interrupted_build_keeps_the_last_site_and_resumes(project, tmp_path):
    out = tmp_path / "site"
    _build(out)
    first_site = (out / AREAS[0] / "beta.html").read_text("utf-8")
    source = project / "notebooks" / "beta.md"
    source.write_text(source.read_text("utf-8") + "\nEdited.\n", "utf-8")
    (project / "notebooks" / "alpha.md").write_text(
        (project / "notebooks" / "alpha.md").read_text("utf-8") + "\nAlso edited.\n", "utf-8"
    )
    pause = tmp_path / "pause"
    pause.touch()  # beta now waits in its first cell until this file goes
    env = os.environ | {"MHBOOK_PROJECT": str(project)}
    mhbook = str(Path(sys.executable).with_name("mhbook"))
    proc = subprocess.Popen(
        [mhbook, "build", AREAS[0], "--out", str(out), "--jobs", "1"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        record = buildstore.Store(out).record_path(AREAS[0], "alpha")
        old = record.read_text("utf-8")
        deadline = time.monotonic() + 300
        while record.read_text("utf-8") == old:  # alpha re-executed and committed; beta now waits
            assert time.monotonic() < deadline and proc.poll() is None, "build did not reach beta"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    pause.unlink()
    assert (out / AREAS[0] / "beta.html").read_text("utf-8") == first_site  # last good site in place
    resumed = build.build_areas([AREAS[0]], out, jobs=1)
    assert not resumed.failures
    assert resumed.reasons == {(AREAS[0], "beta"): Reason(Why.NOTEBOOK_CHANGED)}  # alpha is not run again
    assert "Edited." in (out / AREAS[0] / "beta.html").read_text("utf-8")


def test_a_failing_notebook_is_reported_and_keeps_the_old_site(project, tmp_path):
    out = tmp_path / "site"
    _build(out)
    source = project / "notebooks" / "beta.md"
    source.write_text(
        source.read_text("utf-8").replace(
            f'entry = catalogue.get("{READS["beta"]}")', 'entry = catalogue.get("no-such-dataset")'
        ),
        "utf-8",
    )
    report = build.build_areas([AREAS[0]], out, jobs=1)
    [failure] = report.failures
    assert (failure.area, failure.notebook) == (AREAS[0], "beta") and "UnknownDatasetError" in failure.error
    assert (out / "_reports" / AREAS[0] / "beta.ipynb").exists()
    assert report.results[0].site is None
    assert (out / AREAS[0] / "beta.html").exists()  # the previous site stays


def _edit(project: Path, notebook: str, old: str, new: str) -> None:
    source = project / "notebooks" / f"{notebook}.md"
    text = source.read_text("utf-8")
    assert old in text
    source.write_text(text.replace(old, new), "utf-8")


def test_one_area_runs_its_notebooks_on_every_worker(project, tmp_path):
    # Each notebook writes the pid of the process it runs in; alpha waits (up to a minute)
    # for beta's, so the two must run at the same time, in two workers, to finish at once.
    pids = tmp_path / "pids"
    pids.mkdir()
    get = 'entry = catalogue.get("{}")'
    _edit(
        project,
        "beta",
        get.format(READS["beta"]),
        f"open('{pids}/beta', 'w').write(str(os.getpid()))\n" + get.format(READS["beta"]),
    )
    _edit(
        project,
        "alpha",
        get.format(READS["alpha"]),
        f"open('{pids}/alpha', 'w').write(str(os.getpid()))\n"
        f"waited = 0\nwhile not os.path.exists('{pids}/beta') and waited < 300:\n    time.sleep(0.2); waited += 1\n"
        + get.format(READS["alpha"]),
    )
    out = tmp_path / "site"
    report = build.build_areas([AREAS[0]], out, jobs=2)
    assert not report.failures, report.failures
    [result] = report.results
    assert result.executed == ["alpha", "beta"] and result.site == out / AREAS[0]
    assert (pids / "alpha").read_text() != (pids / "beta").read_text()  # two worker processes
    assert "Synthetic page for" in (out / AREAS[0] / "beta.html").read_text("utf-8")
    assert result.seconds["execute"] > 0 < result.seconds["render"]
    again = build.build_areas([AREAS[0]], out, jobs=2)
    assert again.reasons == {} and again.up_to_date == 1


def test_a_notebook_failing_ahead_of_its_area_fails_the_area(project, tmp_path):
    out = tmp_path / "site"
    _edit(project, "beta", f'entry = catalogue.get("{READS["beta"]}")', 'entry = catalogue.get("no-such-dataset")')
    report = build.build_areas([AREAS[0]], out, jobs=2)
    [failure] = report.failures
    assert (failure.area, failure.notebook) == (AREAS[0], "beta") and "UnknownDatasetError" in failure.error
    [result] = report.results
    assert result.site is None and result.executed == ["alpha"]
    assert not (out / AREAS[0]).exists()  # no half-made site
    assert build.build_areas([AREAS[0]], out, jobs=2).reasons == {(AREAS[0], "beta"): Reason(Why.NEW)}


def test_dask_local_cluster_builds_two_areas(project, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "site"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True, dashboard_address=None
    ) as cluster:
        report = build.build_areas(AREAS, out, scheduler=cluster.scheduler_address)
    assert not report.failures, report.failures
    assert sorted(r.area.code for r in report.results) == AREAS
    for area in AREAS:
        assert json.loads((out / ".mhbook-build" / "records" / area / "beta.json").read_text())["datasets"]
        assert (out / area / "beta.html").exists()


def test_a_relative_output_folder_works(project, tmp_path, monkeypatch):
    # Notebooks run in their own folders; the build must not resolve "site" against them.
    monkeypatch.chdir(tmp_path)
    report = _build(Path("site"), jobs=1)
    assert sorted(r.area.code for r in report.results) == AREAS
    assert (tmp_path / "site" / AREAS[0] / "alpha.html").exists()


def test_a_parallel_build_writes_documents_here_and_leaves_no_staging(project, tmp_path):
    from mhbook import export

    out = tmp_path / "site"
    _build(out, jobs=2)  # workers stage the sites; this process adds documents and moves them
    for area in AREAS:
        for fmt in build.document_formats():
            assert export.download_path(out / area, fmt).stat().st_size > 0
    assert not list(out.glob(".staging-*"))
    # Each area's phase seconds are in the build report for the benchmark: notebooks, Sphinx,
    # documents (the PDFs printed here included).
    report = json.loads(buildstore.Store(out).report_path().read_text("utf-8"))
    for area in AREAS:
        seconds = report["areas"][area]["seconds"]
        assert set(seconds) == set(build.PHASES), seconds
        assert all(s >= 0 for s in seconds.values()) and seconds["render"] > 0 < seconds["documents"], seconds


def test_a_failed_document_fails_the_area_and_keeps_its_old_site(project, tmp_path, monkeypatch):
    from browser.site import CHROMIUM, require_tools
    from mhbook import export
    from mhbook.export import pdf

    require_tools(CHROMIUM)  # the PDF is what this process prints
    out = tmp_path / "site"
    _build(out, jobs=2)
    before = (out / AREAS[0] / "alpha.html").read_text("utf-8")
    source = project / "notebooks" / "alpha.md"
    source.write_text(source.read_text("utf-8") + "\nA new sentence.\n", "utf-8")

    def broken(page, path, label):
        raise export.ConverterError("synthetic converter failure")

    monkeypatch.setattr(pdf, "print_page", broken)
    report = build.build_areas(AREAS, out, jobs=2)
    assert {(f.area, f.notebook) for f in report.failures} == {(a, "documents") for a in AREAS}
    assert all("synthetic converter failure" in f.error for f in report.failures)
    assert (out / AREAS[0] / "alpha.html").read_text("utf-8") == before  # the old site stays
    assert not list(out.glob(".staging-*"))
