"""Notebooks executed in-process (``mhbook.build.execute``) come out as a kernel would write them.

The notebooks are synthetic. They run in a separate worker process (as in a build), so
that the IPython shell the executor creates never lives in the test process.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest


def _run(sources: list[str], workdir: str, timeout: float = 60, tags: dict[int, list[str]] | None = None):
    """In the worker: execute a notebook of these code cells; return it, the error and the folder after."""
    from mhbook.build import execute

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Synthetic")]
        + [nbformat.v4.new_code_cell(src, metadata={"tags": (tags or {}).get(i, [])}) for i, src in enumerate(sources)]
    )
    error = None
    try:
        execute.execute(nb, Path(workdir), timeout)
    except execute.CellError as exc:
        error = (exc.count, exc.ename, str(exc))
    return nbformat.writes(nb), error, os.getcwd()


@pytest.fixture(scope="module")
def worker():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _execute(worker, tmp_path, sources, **kw):
    text, error, cwd = worker.submit(_run, sources, str(tmp_path), **kw).result()
    cells = [c for c in nbformat.reads(text, 4).cells if c.cell_type == "code"]
    nbformat.validate(nbformat.reads(text, 4))
    return cells, error, cwd


def test_outputs_are_recorded_in_order_with_counts(worker, tmp_path):
    cells, error, cwd = _execute(
        worker,
        tmp_path,
        [
            "import os, sys\nprint('one')\nprint('two')\nprint('warn', file=sys.stderr)\nos.getcwd()",
            "from IPython.display import Markdown, display\ndisplay(Markdown('**shown**'))\nx = 41",
            "x + 1;",
            "from myst_nb import glue\nglue('answer', x + 1, display=False)\nx + 1",
        ],
    )
    assert error is None
    assert cwd != str(tmp_path)  # the worker's folder is restored afterwards
    assert [c.execution_count for c in cells] == [1, 2, 3, 4]
    first = cells[0].outputs
    assert [(o.output_type, o.get("name")) for o in first] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
        ("execute_result", None),
    ]
    assert first[0].text == "one\ntwo\n" and first[1].text == "warn\n"
    assert first[2].data["text/plain"] == repr(str(tmp_path)) and first[2].execution_count == 1
    [shown] = cells[1].outputs
    assert shown.output_type == "display_data" and shown.data["text/markdown"] == "**shown**"
    assert cells[2].outputs == []  # a trailing semicolon hides the value
    glued, result = cells[3].outputs
    assert glued.metadata["scrapbook"]["name"] == "answer"
    assert glued.data["application/papermill.record/text/plain"] == "42"
    assert result.output_type == "execute_result" and result.data["text/plain"] == "42"


def test_an_open_pyplot_figure_is_drawn_inline(worker, tmp_path):
    cells, error, _ = _execute(worker, tmp_path, ["import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4]);"])
    assert error is None
    [image] = cells[0].outputs
    assert image.output_type == "display_data" and image.data["image/png"].startswith("iVBORw0KGgo")


def test_a_failing_cell_stops_the_notebook_with_its_error(worker, tmp_path):
    cells, error, _ = _execute(worker, tmp_path, ["a = 1", "raise ValueError('bad value in column x')", "b = 2"])
    assert error == (2, "ValueError", "cell 2: ValueError: bad value in column x")
    [out] = cells[1].outputs
    assert out.output_type == "error" and out.ename == "ValueError" and out.evalue == "bad value in column x"
    assert any("bad value" in line for line in out.traceback)
    assert cells[2].outputs == [] and cells[2].execution_count is None


def test_a_syntax_error_is_a_cell_error(worker, tmp_path):
    _, error, _ = _execute(worker, tmp_path, ["def broken(:"])
    assert error[:2] == (1, "SyntaxError")


def test_a_cell_tagged_raises_exception_may_fail(worker, tmp_path):
    cells, error, _ = _execute(worker, tmp_path, ["1 / 0", "'after'"], tags={0: ["raises-exception"]})
    assert error is None
    assert cells[0].outputs[0].ename == "ZeroDivisionError"
    assert cells[1].outputs[0].data["text/plain"] == "'after'"


def test_a_cell_that_runs_too_long_is_stopped(worker, tmp_path):
    cells, error, _ = _execute(worker, tmp_path, ["import time\ntime.sleep(30)"], timeout=0.5)
    assert error[:2] == (1, "CellTimeout") and "0.5 s" in error[2]
