"""The README's offline quick start, exactly as written, in a fresh clone.

The clone sits beside a ``shared/data`` folder (a link to the real mirror), as the README
assumes, and ``MHBOOK_MIRROR=../shared/data make book AREA=...`` is run in it with a
*relative* mirror path: notebooks run in other folders, so the path must be resolved
before any work starts. The clone reuses this environment's ``.venv`` (linked, with
``pyproject.toml`` dated back so that ``make`` sees the setup done) to avoid a second
install; everything else is the clone's own. Slow: one area, about a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
AREA = "E06000009"  # Blackpool


def test_readme_quick_start_with_a_relative_mirror(tmp_path, mirror):
    readme = (ROOT / "README.md").read_text("utf-8")
    command = f"MHBOOK_MIRROR=../shared/data make book AREA={AREA}"
    assert "MHBOOK_MIRROR=../shared/data make book" in readme, "the README no longer gives the offline quick start"
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.fail("the quick-start test needs git and make")
    clone = tmp_path / "main"
    subprocess.run(["git", "clone", "--quiet", "--local", str(ROOT), str(clone)], check=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(Path(mirror).resolve())
    (clone / ".venv").symlink_to(Path(sys.prefix))
    os.utime(clone / "pyproject.toml", (0, 0))  # the linked .venv is set up already
    env = {k: v for k, v in os.environ.items() if k != "MHBOOK_MIRROR"}
    env.setdefault("MHBOOK_CACHE", str(tmp_path / "cache"))
    env["MHBOOK_CACHE"] = str(Path(env["MHBOOK_CACHE"]).absolute())
    proc = subprocess.run(command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{command} failed:\n{output[-4000:]}"
    assert "FetchError" not in output and "Traceback" not in output
    index = clone / "_build" / "site" / AREA / "index.html"
    assert index.is_file(), f"no site at {index}:\n{output[-2000:]}"
    assert f"{index}" in proc.stdout, "the build does not print where the site is"
    assert "Blackpool" in (index.parent / "summary.html").read_text("utf-8")
