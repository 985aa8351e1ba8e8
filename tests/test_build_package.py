"""The build package (``mhbook/build/``) has no import cycle, and the data layer does not import it.

Read from the source with ``ast`` (every ``import`` statement, including those inside
functions, which would hide a cycle from Python's import machinery); no data needed.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import mhbook

PACKAGE = Path(mhbook.__file__).parent / "build"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imported(path: Path) -> set[str]:
    """The ``mhbook`` modules (dotted) named by every import statement of ``path``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mhbook"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("mhbook")}


def _graph() -> dict[str, set[str]]:
    return {
        m: {
            n.split(".")[2]
            for n in _imported(PACKAGE / f"{m}.py")
            if n.startswith("mhbook.build.") and n.split(".")[2] in MODULES
        }
        for m in MODULES
    }


def test_the_package_has_the_modules_it_describes():
    doc = importlib.import_module("mhbook.build").__doc__
    for module in MODULES:
        assert f"``{module}``" in doc, f"mhbook/build/__init__.py does not describe {module}.py"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module):
    importlib.import_module(f"mhbook.build.{module}")


def _package_imports(path: Path) -> list[str]:
    """Imports in ``path`` of the package's ``__init__`` rather than of a module of it."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name == "mhbook.build"]
        elif isinstance(node, ast.ImportFrom) and node.module == "mhbook":
            bad += [f"from mhbook import {a.name}" for a in node.names if a.name == "build"]
        elif isinstance(node, ast.ImportFrom) and node.module == "mhbook.build":
            bad += [f"from mhbook.build import {a.name}" for a in node.names if a.name not in MODULES]
    return bad


def test_no_module_of_the_package_imports_the_package_itself():
    """Modules import each other (``from mhbook.build.store import Store``), never names that
    ``__init__`` gathers, which would run the whole package from inside it."""
    assert _package_imports(PACKAGE / "run.py") == []
    for module in MODULES:
        bad = _package_imports(PACKAGE / f"{module}.py")
        assert not bad, f"mhbook/build/{module}.py imports the package itself: {bad}"


def test_the_import_check_sees_an_import_of_the_package(tmp_path):
    synthetic = tmp_path / "synthetic.py"
    synthetic.write_text("def f():\n    from mhbook.build import build_areas\n    from mhbook import build\n")
    assert _package_imports(synthetic) == ["from mhbook.build import build_areas", "from mhbook import build"]


def test_the_import_graph_of_the_package_has_no_cycle():
    graph = _graph()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                cycle = path[path.index(dep) :] + [dep]
                pytest.fail(f"import cycle in mhbook/build: {' -> '.join(cycle)}")
            if dep not in state:
                visit(dep, [*path, dep])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    assert len(graph) >= 10 and any(graph.values())  # the graph was read, not empty


def test_the_data_layer_does_not_import_the_build():
    for name in ("reads.py", "catalogue.py", "fetch.py", "tables.py", "areas.py"):
        imported = _imported(Path(mhbook.__file__).parent / name)
        assert not {n for n in imported if n == "mhbook.build" or n.startswith("mhbook.build.")}, name
