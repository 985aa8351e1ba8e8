"""mhbook installed from a wheel (not editable) builds a book from a folder outside the checkout.

The wheel is built from a copy of the checkout (``pip wheel --no-deps
--no-build-isolation``, offline) and installed with ``--no-deps --no-index`` into a
fresh virtual environment. Offline, that environment reaches mhbook's dependencies
through a ``.pth`` file naming the site-packages of the environment running the tests
(the installed mhbook comes first on its path, so the checkout is never imported);
with internet access ``pip install mhbook-*.whl`` would install them instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
AREA = "E08000004"
_ANYWHERE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "_build",
    "node_modules",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "*.ipynb",
)
#: setuptools' and pip's own output folders, at the top of the checkout only (the package's
#: ``mhbook/build/`` is source).
_AT_TOP = {"build", "dist"}


def _skip(folder: str, names: list[str]) -> set[str]:
    """What the copy of the checkout leaves out (``shutil.copytree``'s ``ignore``)."""
    skipped = set(_ANYWHERE(folder, names))
    if Path(folder) == ROOT:
        skipped |= _AT_TOP & set(names)
    return skipped


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with mhbook installed from a wheel; returns its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_skip, symlinks=True)
    wheels = tmp / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            str(source),
        ],
        timeout=600,
    )
    (wheel,) = wheels.glob("mhbook-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(purelib, "_mhbook_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", "utf-8")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        timeout=600,
    )
    return env_dir / "bin"


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MHBOOK_PROJECT", "MHBOOK_CATALOGUE")}
    return env | extra


def test_the_wheel_carries_the_book_sources(installed, tmp_path):
    out = _run(
        [
            str(installed / "python"),
            "-c",
            "import mhbook, mhbook.project as p; print(mhbook.__file__); print(p.root()); print(p.checkout())",
        ],
        cwd=tmp_path,
        env=_clean_env(),
    ).stdout.split("\n")
    package, root, checkout = out[0], Path(out[1]), out[2]
    assert str(installed.parent) in package, "mhbook must be imported from the new environment, not the checkout"
    assert checkout == "None"
    assert root.name == "_project" and str(installed.parent) in str(root)
    for name in ("_config.yml", "_toc.yml", "book/accessibility.md", "notebooks/summary.md"):
        assert (root / name).read_bytes() == (ROOT / name).read_bytes(), name
    # Every module of the package travels too (the build/ subpackage included).
    modules = {p.relative_to(ROOT / "mhbook") for p in (ROOT / "mhbook").rglob("*.py") if "_project" not in p.parts}
    assert modules <= {p.relative_to(Path(package).parent) for p in Path(package).parent.rglob("*.py")}


def test_refreshed_pins_never_go_into_site_packages(installed, tmp_path):
    out = _run(
        [str(installed / "python"), "-c", "import mhbook.project as p; print(p.pins_file())"],
        cwd=tmp_path,
        env=_clean_env(MHBOOK_HOME=str(tmp_path / "home")),
    ).stdout.strip()
    assert out == str(tmp_path / "home" / "SHA256SUMS")
    env = _clean_env()
    env.pop("MHBOOK_HOME", None)
    out = _run(
        [str(installed / "python"), "-c", "import mhbook.project as p; print(p.pins_file())"], cwd=tmp_path, env=env
    ).stdout.strip()
    assert "site-packages" not in out and str(installed.parent) not in out


@pytest.mark.mirror
@pytest.mark.slow
def test_an_installed_mhbook_builds_an_area_outside_the_checkout(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _run(
        [str(installed / "mhbook"), "build", AREA, "--only", "summary", "--out", "site", "--jobs", "1"],
        cwd=elsewhere,
        env=_clean_env(MHBOOK_HOME=str(tmp_path / "home")),
        timeout=1800,
    )
    page = elsewhere / "site" / AREA / "summary.html"
    assert page.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    assert "Key findings for" in page.read_text("utf-8")
