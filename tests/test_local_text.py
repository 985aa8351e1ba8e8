"""The author's own words: ``mhbook build AREA --local DIR`` (issue 14, item 9).

Everything here is synthetic: the local texts are written by the tests, and the book is a
throw-away project (``MHBOOK_PROJECT``) of two tiny notebooks that only look up catalogue
entries (as in ``test_build_cache``): ``alpha`` reads ``mha-2023-24``, ``beta`` reads
``lkp-region-all-codes``. The tests that build read the area registry and catalogue of the
synthetic mirror (``tests/synthetic``), so they need no data.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from mhbook import build, catalogue
from mhbook.build import executors
from mhbook.errors import UsageError

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

Synthetic opening of {title}.

```{{code-cell}} python
:tags: [parameters, remove-cell]
area_code = "E08000004"  # County & UA code (str)
```

```{{code-cell}} python
:tags: [remove-cell]
from mhbook import catalogue
from mhbook.report import glue_all
entry = catalogue.get("{dataset}")
glue_all({{"code": area_code}})
```

## First section of {title}

Synthetic page for {{glue:md}}`code`, reading {dataset}.
"""

SYNTHETIC_LOCAL = """---
author: a synthetic JSNA author
---
Synthetic local context for {glue:md}`code`: the borough's own **crisis café** opened in 2025.

## A heading the author wrote

- synthetic point one
"""


def _project(root: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "_config.yml").write_text((REPO / "_config.yml").read_text("utf-8"), "utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: alpha\nchapters:\n  - file: beta\n", "utf-8")
    for name, dataset in READS.items():
        (root / "notebooks" / f"{name}.md").write_text(NOTEBOOK.format(title=name.title(), dataset=dataset), "utf-8")
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = _project(tmp_path / "project")
    monkeypatch.setenv("MHBOOK_PROJECT", str(root))
    monkeypatch.delenv("MHBOOK_LOCAL", raising=False)
    return root


def _local(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "local"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, "utf-8")
    return folder


# --- placing the text (no data needed) ---------------------------------------------------


def test_local_block_is_marked_as_the_authors_and_headings_become_rubrics():
    block = build.local_block("Synthetic text.\n\n## A heading\n\n```python\n# not a heading\n```")
    assert block.startswith("````{admonition} " + build.LOCAL_TITLE)
    assert f":class: {build.LOCAL_CLASS}" in block
    assert "```{rubric} A heading\n```" in block
    assert "# not a heading" in block  # code is left alone
    assert block.rstrip().endswith("````")


def test_insert_local_goes_before_the_first_section_and_never_writes_through_a_link(tmp_path):
    """A synthetic executed notebook: the title and opening share a cell with the first ``##``."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\nOpening.\n\n(a-label)=\n## First\n\nBody."),
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_markdown_cell("## Second"),
        ]
    )
    stored = tmp_path / "stored.ipynb"
    nbformat.write(nb, stored)
    staged = tmp_path / "page.ipynb"
    os.link(stored, staged)  # as stage_site links the stored output
    build.insert_local(staged, "Synthetic local words.")
    cells = nbformat.read(staged, as_version=4).cells
    assert [c.source.splitlines()[0] for c in cells if c.cell_type == "markdown"] == [
        "# Title",
        "```{admonition} " + build.LOCAL_TITLE,
        "(a-label)=",
        "## Second",
    ]
    assert "Synthetic local words." in cells[1].source and build.LOCAL_CLASS in cells[1].metadata["tags"]
    assert "Synthetic local words." not in stored.read_text("utf-8")  # the stored output is untouched
    nbformat.validate(nbformat.read(staged, as_version=4))


def test_a_relative_local_folder_is_taken_from_the_callers_folder(tmp_path, monkeypatch):
    (tmp_path / "local").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MHBOOK_LOCAL", raising=False)
    assert build.local_folder("local") == tmp_path / "local"
    assert build.local_folder(None) is None
    monkeypatch.setenv("MHBOOK_LOCAL", "local")
    assert build.local_folder(None) == tmp_path / "local"
    with pytest.raises(UsageError, match="--local .*missing does not exist"):
        build.local_folder("missing")


def test_readme_documents_the_option():
    readme = (REPO / "README.md").read_text("utf-8")
    assert "--local" in readme and "MHBOOK_LOCAL" in readme and build.LOCAL_TITLE in readme


# --- building with local text (on the synthetic mirror) ----------------------------------


def test_an_unknown_chapter_or_area_folder_stops_with_the_file_and_the_chapters(synthetic_mirror, project, tmp_path):
    folder = _local(tmp_path, {f"{AREAS[0]}/sumary.md": "Synthetic typo."})
    out = tmp_path / "site"
    with pytest.raises(UsageError) as info:
        build.build_areas([AREAS[0]], out, local=folder)
    message = str(info.value)
    assert str(folder / AREAS[0] / "sumary.md") in message and "alpha.md, beta.md" in message
    assert not out.exists()  # stopped before anything was written

    (folder / AREAS[0] / "sumary.md").unlink()
    (folder / "Synthetic Unitary Aa").mkdir()
    (folder / "Synthetic Unitary Aa" / "alpha.md").write_text("Synthetic.", "utf-8")
    with pytest.raises(UsageError, match=rf"Synthetic Unitary Aa.*rename the folder to {AREAS[0]}"):
        build.read_local(folder)


@pytest.mark.slow
def test_local_text_is_placed_marked_rebuilt_alone_and_kept_after_a_data_change(
    synthetic_mirror, project, tmp_path, monkeypatch
):
    folder = _local(tmp_path, {f"{AREAS[0]}/alpha.md": SYNTHETIC_LOCAL})
    out = tmp_path / "site"
    first = build.build_areas(AREAS, out, jobs=1, local=folder)
    assert not first.failures, first.failures

    page = (out / AREAS[0] / "alpha.html").read_text("utf-8")
    assert build.LOCAL_TITLE in page and build.LOCAL_CLASS in page
    assert f"Synthetic local context for {AREAS[0]}" in page  # glue from the chapter's own notebook works
    article = page[page.index('<h1>Alpha<a class="headerlink"') :]  # the page itself, not its navigation
    assert (
        article.index("Synthetic opening of Alpha")
        < article.index(build.LOCAL_TITLE)
        < article.index("First section of Alpha")
    )
    assert f'<div class="{build.LOCAL_CLASS} admonition">' in article
    assert build.LOCAL_TITLE not in (out / AREAS[0] / "beta.html").read_text("utf-8")
    assert build.LOCAL_TITLE not in (out / AREAS[1] / "alpha.html").read_text("utf-8")
    from docx import Document

    from mhbook import export

    words = "\n".join(p.text for p in Document(export.download_path(out / AREAS[0], "docx")).paragraphs)
    assert build.LOCAL_TITLE in words and "crisis café" in words

    # Editing the text renders that area's site again, executing nothing; the other is up to date.
    (folder / AREAS[0] / "alpha.md").write_text(SYNTHETIC_LOCAL.replace("2025", "2026"), "utf-8")
    edited = build.build_areas(AREAS, out, jobs=1, local=folder)
    assert not edited.failures, edited.failures
    assert edited.reasons == {} and edited.up_to_date == 1
    assert [(r.area.code, r.executed) for r in edited.results] == [(AREAS[0], [])]
    assert "opened in 2026" in (out / AREAS[0] / "alpha.html").read_text("utf-8")
    again = build.build_areas(AREAS, out, jobs=1, local=folder)
    assert again.results == [] and again.up_to_date == 2

    # A (synthetic) new version of the dataset alpha reads: alpha runs again, the words stay.
    changed = dict(catalogue.datasets())
    changed[READS["alpha"]] = replace(changed[READS["alpha"]], sha256="f" * 64)
    monkeypatch.setattr(catalogue, "datasets", lambda: changed)
    monkeypatch.setattr(executors, "START_METHOD", "fork")  # workers see the changed catalogue
    refreshed = build.build_areas(AREAS, out, jobs=1, local=folder)
    assert not refreshed.failures, refreshed.failures
    assert refreshed.reasons == {
        (a, "alpha"): build.Reason(build.Why.DATASETS_CHANGED, (READS["alpha"],)) for a in AREAS
    }
    assert "opened in 2026" in (out / AREAS[0] / "alpha.html").read_text("utf-8")

    # Without --local the box goes (the site's key changes back).
    plain = build.build_areas([AREAS[0]], out, jobs=1)
    assert not plain.failures and plain.reasons == {}
    assert build.LOCAL_TITLE not in (out / AREAS[0] / "alpha.html").read_text("utf-8")


# --- the board brief ---------------------------------------------------------------------


def _summary_with_local(tmp_path: Path, words: int):
    """A SYNTHETIC summary chapter holding a local-text box of ``words`` words."""
    import datetime as dt

    from bs4 import BeautifulSoup

    from mhbook.areas import Area
    from mhbook.export.document import Chapter, ExportDocument

    area = Area("E06999999", "Synthetica", "E12999999", "Nowhere", (), ())
    text = " ".join(["synthetic"] * (words - 1) + ["end."])
    body = BeautifulSoup(
        f"<article><h1>Summary</h1><dl><dt>Need</dt><dd><p>Synthetic need.</p></dd></dl>"
        "<table id='tbl-barriers-against-england'><thead><tr><th>barrier</th><th>period</th></tr></thead>"
        "<tbody><tr><td>access</td><td>2024-25</td></tr></tbody></table>"
        f"<div class='{build.LOCAL_CLASS} admonition'><p class='admonition-title'>{build.LOCAL_TITLE}</p>"
        f"<p>{text}</p></div></article>",
        "html.parser",
    ).article
    full = ExportDocument(
        title="Mental health inequalities: Synthetica",
        area=area,
        data_period="2024-25",
        built=dt.date(2026, 12, 1),
        site=tmp_path,
        chapters=[Chapter("Summary", "summary.html", body)],
    )
    return area, full


@pytest.mark.parametrize("words, whole", [(40, True), (400, False)])
def test_the_brief_carries_the_summarys_local_text_when_it_fits(tmp_path, words, whole):
    from mhbook.export import brief

    assert brief.LOCAL_BOX == f"div.{build.LOCAL_CLASS}"
    area, full = _summary_with_local(tmp_path, words)
    body = brief.read_brief(tmp_path, area, full=full).chapters[0].body
    [box] = body.select(brief.LOCAL_BOX)
    assert box.select_one(".admonition-title").get_text() == build.LOCAL_TITLE
    assert ("synthetic end." in box.get_text()) is whole
    assert ("summary page of the full site" in box.get_text()) is not whole
