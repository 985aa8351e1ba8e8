"""Packaging step that pyproject.toml cannot express: the book's sources travel in the wheel.

The chapter notebooks (``notebooks/``), the pages copied into every book (``book/``) and
Jupyter Book's ``_config.yml`` and ``_toc.yml`` stay at the top of the project, where
they are edited. Building the package copies them into ``mhbook/_project/`` of the
build, so ``pip install .`` and a wheel give an ``mhbook`` that finds them
(``mhbook.project``); ``MANIFEST.in`` puts them in the source distribution.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BOOK_SOURCES = ("notebooks", "book", "_config.yml", "_toc.yml")


class BuildWithBookSources(build_py):
    """``build_py`` that also copies the book's sources into ``mhbook/_project``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "mhbook" / "_project"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in BOOK_SOURCES:
            source = HERE / name
            if not source.exists():
                raise SystemExit(f"setup.py: {source} is missing; the package needs the book's sources.")
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("_build", "*.ipynb", ".*"))
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithBookSources})
