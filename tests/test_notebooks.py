"""The notebooks stay thin: one parameters cell of literals, short cells, no functions.

These read the MyST sources only (no execution), so they run everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.md"))
MAX_LINES = 12


def _code_cells(path):
    return [c for c in jupytext.read(path).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_of_commented_literals(path):
    cells = [c for c in _code_cells(path) if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters'"
    source = cells[0].source
    tree = ast.parse(source)
    assert "area_code" in {t.id for node in tree.body for t in getattr(node, "targets", [])}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), (
            f"{path.name}: parameters must be literal assignments, found {ast.unparse(node)!r}"
        )
    for line in source.splitlines():
        if line.strip():
            assert "#" in line, f"{path.name}: parameter without a comment: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_short_and_define_nothing(path):
    for i, cell in enumerate(_code_cells(path)):
        lines = [ln for ln in cell.source.splitlines() if ln.strip()]
        assert len(lines) <= MAX_LINES, f"{path.name} code cell {i}: {len(lines)} lines (max {MAX_LINES})"
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef, ast.Lambda)), (
                f"{path.name} code cell {i} defines {type(node).__name__}: logic belongs in mhbook"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_imports_only_in_the_first_code_cell(path):
    for i, cell in enumerate(_code_cells(path)[1:], start=1):
        imports = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports, f"{path.name} code cell {i} imports; imports go in the first code cell"


PAGES = Path(__file__).parents[1] / "mhbook" / "pages"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if (PAGES / f"{p.stem}.py").is_file()], ids=lambda p: p.stem)
def test_a_chapter_with_a_page_module_calls_only_it(path):
    """A chapter moved to the page layer reaches its numbers through its page module, never a
    measures module (so its words, tables and charts cannot drift back into the notebook)."""
    tree = ast.parse(_code_cells(path)[0].source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    assert f"mhbook.pages.{path.stem}" in imported
    assert not {m for m in imported if "measures" in m or m in ("mhbook.figures", "mhbook.stats")}, imported


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_what_a_cell_publishes_is_shown(path):
    """Only a cell's last bare expression is shown: a table or chart published inside an
    ``if`` or assigned to a name is written to disk but never appears on the page."""
    for i, cell in enumerate(_code_cells(path)):
        if "publish" in cell.source:
            last = ast.parse(cell.source).body[-1]
            assert isinstance(last, ast.Expr), f"{path.name} code cell {i}: ends in {type(last).__name__}"
