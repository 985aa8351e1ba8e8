"""The order in which one area's notebooks are executed ahead of its site (``mhbook.build.run``)."""

from __future__ import annotations

from mhbook.build import run
from mhbook.build.jobs import AreaJob, AreaOutcome
from mhbook.build.reasons import Reason, Why

NOTEBOOKS = ["summary", "comparison", "exploring_inequality", "claims"]


def _job(code: str = "E06000001") -> AreaJob:
    new = Reason(Why.NEW)
    return AreaJob(code, "Synthetic", "out", "root", list(NOTEBOOKS), dict.fromkeys(NOTEBOOKS, new), "c", "k")


def test_the_longest_notebook_goes_first_and_an_untimed_one_before_it():
    seconds = {"summary": 6.0, "comparison": 8.0, "exploring_inequality": 18.0}  # claims: not timed yet
    ahead = run.notebooks_ahead([_job()], workers=2, seconds=seconds)
    assert [job.notebooks[0] for job in ahead] == ["claims", "exploring_inequality", "comparison", "summary"]
    assert all(not job.build_site and list(job.execute) == job.notebooks for job in ahead)
    assert [job.notebooks[0] for job in run.notebooks_ahead([_job()], workers=2)] == NOTEBOOKS  # none timed
    assert run.notebooks_ahead([_job(), _job("E06000002")], workers=2, seconds=seconds) == []  # an area each


def test_the_seconds_of_notebooks_run_ahead_are_kept_under_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path))
    assert run.notebook_seconds() == {}
    done = []
    for notebook, took in (("summary", 6.04), ("comparison", 8.0)):
        outcome = AreaOutcome("E06000001", executed=[notebook])
        outcome.seconds["execute"] = took
        done.append(outcome)
    run._remember_seconds(done)
    later = AreaOutcome("E06000001", executed=["summary"])
    later.seconds["execute"] = 5.0
    run._remember_seconds(
        [later, AreaOutcome("E06000001", executed=["claims", "summary"])]
    )  # an area job: not one notebook
    assert run.notebook_seconds() == {"summary": 5.0, "comparison": 8.0}
    (tmp_path / run.SECONDS_FILE).write_text("not json", "utf-8")
    assert run.notebook_seconds() == {}  # unreadable: only the order is lost
