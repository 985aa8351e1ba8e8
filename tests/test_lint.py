"""Lint and formatting: ruff, configured in pyproject.toml, over the whole project.

Runs in the README's test command, so a change that ruff rejects fails CI; fix with
``ruff check --fix . && ruff format .`` (the version is pinned in the test extras).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    beside = Path(sys.executable).with_name("ruff")  # the test environment's own ruff
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]' (make setup) installs it")
    return found


@pytest.mark.parametrize("args", [["check", "--no-fix"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_finds_nothing(args):
    done = subprocess.run([_ruff(), *args, "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"ruff {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
