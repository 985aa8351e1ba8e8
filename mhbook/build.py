"""Build one static Jupyter Book per County & UA.

For each area: the MyST-Markdown notebooks in ``notebooks/`` are converted with
jupytext and executed by papermill with the area's parameters in a staging folder;
Jupyter Book 1 then renders the executed notebooks (``execute_notebooks: off``) with
a strict Sphinx build. Only a complete site is moved into ``<out>/<area code>/``;
a failed area leaves the previous site, if any, untouched and its executed
notebooks under ``<out>/_reports/<area code>/`` for diagnosis.
"""

from __future__ import annotations

import html
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import papermill
import yaml

import mhbook
from mhbook.areas import Area

log = logging.getLogger(__name__)

#: Executed at most this long per notebook (seconds) before the cell is stopped.
CELL_TIMEOUT_S = 600


def project_root() -> Path:
    """The folder holding ``notebooks/``, ``book/``, ``_config.yml`` and ``_toc.yml``."""
    root = Path(os.environ.get("MHBOOK_PROJECT") or Path(mhbook.__file__).resolve().parents[1])
    for needed in ("notebooks", "book", "_config.yml", "_toc.yml"):
        if not (root / needed).exists():
            raise FileNotFoundError(
                f"{root / needed} is missing: mhbook build runs from a clone of the project "
                "(set MHBOOK_PROJECT to the clone's folder)."
            )
    return root


def notebook_names(root: Path | None = None, only: list[str] | None = None) -> list[str]:
    """Notebook stems in table-of-contents order; ``only`` keeps a subset (for
    working on a chapter), always with the landing page if it exists."""
    root = root or project_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    names = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"--only {unknown}: not in _toc.yml; chapters are {names}")
        names = [n for n in names if n in only]
    return [n for n in names if (root / "notebooks" / f"{n}.md").exists()]


@dataclass
class Failure:
    """One notebook (or the book step) that failed for one area."""

    area: str
    notebook: str
    error: str


@dataclass
class AreaResult:
    area: Area
    site: Path | None
    failures: list[Failure] = field(default_factory=list)


def _execute(src: Path, staged: Path, parameters: dict) -> None:
    """Convert a MyST notebook to ipynb and execute it in place with papermill."""
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    jupytext.write(nb, staged, fmt="ipynb")
    papermill.execute_notebook(
        str(staged),
        str(staged),
        parameters=parameters,
        cwd=str(staged.parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        execution_timeout=CELL_TIMEOUT_S,
    )


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, papermill.PapermillExecutionError):
        return f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".strip()[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _write_book_config(root: Path, staging: Path, area: Area, names: list[str]) -> None:
    config = yaml.safe_load((root / "_config.yml").read_text("utf-8"))
    config["title"] = f"Mental health inequalities: {area.name}"
    (staging / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    pages = set(names) | {p.stem for p in (root / "book").glob("*.md")}
    chapters = [c for c in toc.get("chapters", []) if c["file"] in pages]
    root_page = toc["root"] if toc["root"] in pages else chapters.pop(0)["file"]
    toc = {"format": toc["format"], "root": root_page, **({"chapters": chapters} if chapters else {})}
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), "utf-8")


def _jupyter_book(staging: Path) -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(staging), "-W", "-n", "--keep-going", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"jupyter-book build failed:\n{tail}")


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing any old site only once the new one is whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def build_area(area: Area, out: Path, on_step=None, only: list[str] | None = None) -> AreaResult:
    """Execute every notebook for ``area`` and build its site into ``out/<code>``.

    ``on_step(notebook_name)`` is called after each notebook, for progress display;
    ``only`` limits the build to some chapters (see ``notebook_names``).
    """
    root = project_root()
    out.mkdir(parents=True, exist_ok=True)
    result = AreaResult(area=area, site=None)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{area.code}-", dir=out))
    try:
        for page in (root / "book").iterdir():
            if page.is_file():
                shutil.copy(page, staging / page.name)
        names = notebook_names(root, only)
        for name in names:
            try:
                _execute(root / "notebooks" / f"{name}.md", staging / f"{name}.ipynb", {"area_code": area.code})
            except Exception as exc:  # collected into the failure table, build goes on
                result.failures.append(Failure(area.code, name, _error_text(exc)))
            if on_step:
                on_step(name)
        if result.failures:
            _keep_reports(staging, out / "_reports" / area.code)
            return result
        _write_book_config(root, staging, area, names)
        try:
            _jupyter_book(staging)
        except RuntimeError as exc:
            result.failures.append(Failure(area.code, "jupyter-book", str(exc)))
            _keep_reports(staging, out / "_reports" / area.code)
            return result
        site = out / area.code
        _replace_dir(staging / "_build" / "html", site)
        result.site = site
        if on_step:
            on_step("jupyter-book")
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep_reports(staging: Path, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for nb in staging.glob("*.ipynb"):
        shutil.copy(nb, dest / nb.name)


def write_index(out: Path) -> Path:
    """Write ``out/index.html`` linking every area site present in ``out``."""
    from mhbook import areas

    built = []
    for a in areas.all_areas():
        if (out / a.code / "index.html").exists():
            built.append(a)
    items = "\n".join(
        f'      <li><a href="{html.escape(a.code)}/index.html">{html.escape(a.name)}</a> '
        f"<span>({html.escape(a.code)}, {html.escape(a.region_name)})</span></li>"
        for a in built
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Mental health inequalities by County &amp; UA: mhbook</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 48rem; margin: 0 auto; padding: 1rem; line-height: 1.5; color: #1a1a1a; }}
    a {{ color: #0b4f8a; }}
    span {{ color: #4a4a4a; }}
  </style>
</head>
<body>
  <main>
    <h1>Mental health inequalities in England, by County &amp; UA</h1>
    <p>Each site rebuilds, for one area, the evidence of the Commission for Equality in Mental Health
    from published data: need, access and outcomes by deprivation and other characteristics.</p>
    <h2>Areas built ({len(built)})</h2>
    <ul>
{items}
    </ul>
  </main>
</body>
</html>
"""
    index = out / "index.html"
    tmp = index.with_suffix(".tmp")
    tmp.write_text(page, "utf-8")
    os.replace(tmp, index)
    return index


def build_areas(queries: list[str], out: Path, only: list[str] | None = None) -> list[AreaResult]:
    """Resolve every query first (an unknown area stops the build before anything is
    written), then build each area with a progress bar, then refresh the index.

    Returns one result per area; the caller reports failures and sets the exit code.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mhbook import areas

    resolved = [areas.get(q) for q in queries]
    steps = notebook_names(only=only) + ["jupyter-book"]
    results = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=False,
    ) as progress:
        for area in resolved:
            task = progress.add_task(f"{area.name} ({area.code})", total=len(steps))

            def step(name: str, task=task) -> None:
                progress.update(task, advance=1, description=f"{area.name}: {name}")

            result = build_area(area, out, on_step=step, only=only)
            progress.update(task, completed=len(steps),
                            description=f"{area.name}: {'failed' if result.failures else 'done'}")
            results.append(result)
    write_index(out)
    return results
