"""Which code a page depends on (``mhbook.build.versions``): the build's machinery is not part of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mhbook.build import versions

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("*.md"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_a_chapter_depends_on_its_modules_not_on_the_build(notebook):
    """A change to the build (its scheduling, its stores) must not execute every page of
    every area again: ``result_cache`` reaches ``mhbook.build`` only to name the code's
    version, and that once made every chapter depend on the whole build package."""
    package = Path(versions.__file__).parents[1]
    files = {p.relative_to(package).as_posix() for p in versions.notebook_files(notebook)}
    assert not {f for f in files if f.startswith("build/") or f in ("cli.py", "national.py")}
    assert {"result_cache.py", "figures/mhbook.mplstyle", f"pages/{notebook.stem}.py"} <= files


def test_module_imports_are_read_once_per_version_of_a_file(tmp_path, monkeypatch):
    """Planning asks for every chapter's modules; each file is parsed once while unchanged."""
    versions._file_imports.cache_clear()
    calls = []
    real = versions._imports
    monkeypatch.setattr(versions, "_imports", lambda *a, **k: calls.append(a[1:2]) or real(*a, **k))
    first = [versions.notebook_files(nb) for nb in CHAPTERS]
    parsed = len(calls)
    assert [versions.notebook_files(nb) for nb in CHAPTERS] == first
    assert len(calls) - parsed == len(CHAPTERS)  # only the notebooks' own cells again


def test_a_notebooks_digest_is_kept_while_its_files_are_unchanged(tmp_path, monkeypatch):
    """A new process reuses the digest kept under the cache; a changed notebook, or any
    file it was made from, is worked out again. SYNTHETIC notebook."""
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    notebook = tmp_path / "synthetic.md"
    notebook.write_text("# Synthetic\n\n```{code-cell} python\nfrom mhbook.pages import claims\n```\n", "utf-8")
    first = versions.notebook_code(notebook, notebook.stat().st_mtime_ns)
    assert first == versions.notebook_code_version(notebook)

    versions.notebook_code.cache_clear()  # as a new process
    monkeypatch.setattr(versions, "notebook_files", lambda nb: pytest.fail("the kept digest was not used"))
    assert versions.notebook_code(notebook, notebook.stat().st_mtime_ns) == first

    monkeypatch.undo()
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    worked_out = []
    real = versions.notebook_files
    monkeypatch.setattr(versions, "notebook_files", lambda nb: worked_out.append(nb) or real(nb))
    memo = json.loads((tmp_path / "cache" / versions.MEMO).read_text("utf-8"))
    memo[str(notebook)]["files"][-1][2] += 1  # as if a module it imports had been edited
    (tmp_path / "cache" / versions.MEMO).write_text(json.dumps(memo), "utf-8")
    versions.notebook_code.cache_clear()
    assert versions.notebook_code(notebook, notebook.stat().st_mtime_ns) == first  # same code...
    assert worked_out == [notebook]  # ...but worked out again

    notebook.write_text(
        notebook.read_text("utf-8") + "\n```{code-cell} python\nfrom mhbook.pages import summary\n```\n"
    )
    versions.notebook_code.cache_clear()
    assert versions.notebook_code(notebook, notebook.stat().st_mtime_ns) != first  # it now reaches more modules
    assert worked_out == [notebook, notebook]


def test_the_digests_of_several_notebooks_are_kept_side_by_side(tmp_path, monkeypatch):
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    versions.notebook_code.cache_clear()
    digests = {nb: versions.notebook_code(nb, nb.stat().st_mtime_ns) for nb in CHAPTERS[:3]}
    versions.notebook_code.cache_clear()
    monkeypatch.setattr(versions, "notebook_files", lambda nb: pytest.fail(f"{nb.name}: the kept digest was not used"))
    assert {nb: versions.notebook_code(nb, nb.stat().st_mtime_ns) for nb in CHAPTERS[:3]} == digests
