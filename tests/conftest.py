"""Shared test fixtures.

Tests that read real data use the mirror named by ``MHBOOK_MIRROR`` (CI sets it to
``../shared/data``). Without it they are skipped with that reason, never silently.

Tests that need data files but no real figures use the SYNTHETIC mirror instead
(``tests/synthetic``: made-up areas and numbers in the real file formats, with a
catalogue of their own), written once per test session; they run everywhere. Ask for
the ``synthetic_mirror`` fixture (one test) or wrap a module-scoped fixture in
``synthetic.using(synthetic_files)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import synthetic

MIRROR = os.environ.get("MHBOOK_MIRROR")

# Results are kept in memory only (mhbook.result_cache): tests replace data loaders in this
# process and must not be answered from results kept on disk by another test or build.
# tests/test_result_cache.py turns it on for its own tests.
os.environ["MHBOOK_RESULT_CACHE"] = "off"


def pytest_collection_modifyitems(config, items):
    if MIRROR and Path(MIRROR).is_dir():
        return
    skip = pytest.mark.skip(reason="needs the data mirror: set MHBOOK_MIRROR=../shared/data")
    for item in items:
        if "mirror" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mirror() -> Path:
    return Path(MIRROR)


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory) -> Path:
    """The folder holding the synthetic mirror (``data/``), its ``catalogue.yaml`` and its cache."""
    return synthetic.write_mirror(tmp_path_factory.mktemp("synthetic-mirror"))


@pytest.fixture
def synthetic_mirror(synthetic_files) -> Path:
    """mhbook reads the synthetic mirror and catalogue for the length of one test."""
    with synthetic.using(synthetic_files) as folder:
        yield folder
