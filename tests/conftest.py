"""Shared test fixtures.

Tests that read real data use the mirror named by ``MHBOOK_MIRROR`` (CI sets it to
``../shared/data``). Without it they are skipped with that reason, never silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MIRROR = os.environ.get("MHBOOK_MIRROR")


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
