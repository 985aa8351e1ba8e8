"""Rendering an area's site: Sphinx, then its documents, then into place.

A worker stages the site (``stage_site``): the stored outputs are hard-linked into a
staging folder under ``<out>``, the authors' local texts boxed in, the book configured,
and a strict Sphinx build (``-W -n --keep-going``) renders it, in the worker's own process;
then the Word document, board brief and data pack are written and, for a PDF, its print
page. The coordinating process finishes it (``finish_site``): prints the PDFs with one
long-lived Chromium, stores each ``_static`` file once (hard links) and moves the site
into ``<out>/<area code>`` in one rename, so a failed area keeps its previous site.

A site is rendered again only when its key changes (``site_key``): its outputs' records,
the book's files, the documents it has, the rendering code and its local texts.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from mhbook.build.jobs import AreaJob, StagedSite
from mhbook.build.local import insert_local, with_local
from mhbook.build.project import BRIEF_SOURCE, book_files, document_formats, site_links, write_book_config
from mhbook.build.store import Store, replace_dir
from mhbook.build.versions import rendering_code
from mhbook.errors import BookError, ConverterError, SiteError


def site_key(store: Store, root: Path, area_code: str, notebooks: list[str], local: dict[str, str]) -> str:
    """The key of an area's site made of its stored outputs of ``notebooks``: their records,
    the book's files, the documents the site would have now (``document_formats``: a site
    made without a PDF, for want of Chromium, is made again once Chromium is there), the
    rendering code, and the area's local texts of those chapters."""
    key = store.site_key([(area_code, nb) for nb in notebooks], book_files(root))
    documents = site_links(document_formats(), notebooks)
    key = hashlib.sha256(f"{key}|documents={','.join(documents)}|code={rendering_code()}".encode()).hexdigest()
    return with_local(key, _local_pages(local, notebooks))


def _local_pages(local: dict[str, str], notebooks: list[str]) -> dict[str, str]:
    """The local texts of the chapters a site has."""
    return {nb: text for nb, text in local.items() if nb in notebooks}


def _link_tree(src: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) every file of ``src`` into ``dest``."""

    def link(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dest, dirs_exist_ok=True, copy_function=link)


def _share_static(html: Path, store: Path) -> None:
    """Store each ``_static`` file once (by sha256) and hard-link it into the site.

    Every site carries the same theme files (about 7 MB); linking keeps each site a
    complete folder that can be copied or served alone.
    """
    static = html / "_static"
    if not static.is_dir():
        return
    from mhbook.fetch import sha256_of

    store.mkdir(parents=True, exist_ok=True)
    for path in static.rglob("*"):
        if not path.is_file():
            continue
        shared = store / sha256_of(path)
        try:
            if not shared.exists():
                os.link(path, shared)
            else:
                tmp = path.with_name(f".{path.name}.lnk")
                os.link(shared, tmp)
                os.replace(tmp, path)
        except OSError:  # another file system: keep the plain copy
            continue


def stage_site(job: AreaJob, seconds: dict[str, float]) -> StagedSite | None:
    """Render ``job``'s site from its stored outputs into a staging folder under ``out``.

    Returns None when the site's key is unchanged (the existing site is current). Raises
    ``BookError`` when Sphinx fails; the executed notebooks then go to ``_reports``.
    Adds the seconds spent rendering and writing documents to ``seconds`` (``PHASES``).
    """
    root, out = Path(job.root), Path(job.out)
    store = Store(out)
    key = site_key(store, root, job.area_code, job.notebooks, job.local)
    if store.site_current(job.area_code, key, out / job.area_code):
        return None
    started = time.perf_counter()
    # The coordinating process's pid in the name: a dead build's staging is removed by the next.
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{job.area_code}-{job.build_pid or os.getpid()}-", dir=out))
    try:
        for page in book_files(root)[:-2]:
            shutil.copy(page, staging / page.name)
        for nb in job.notebooks:
            _link_tree(store.output_dir(job.area_code, nb), staging)
        for nb, text in _local_pages(job.local, job.notebooks).items():
            insert_local(staging / f"{nb}.ipynb", text)
        documents = document_formats()
        write_book_config(
            root,
            staging,
            f"Mental health inequalities: {job.area_name}",
            job.notebooks,
            site_links(documents, job.notebooks),
        )
        try:
            sphinx_build(staging, staging / "_build" / "html")
        except BookError:
            _keep_reports(staging, out / "_reports" / job.area_code)
            raise
        rendered = time.perf_counter()
        seconds["render"] += rendered - started
        page = staging / "print.html" if "pdf" in documents else None
        _write_documents(
            job.area_code, staging / "_build" / "html", documents, page, board_brief=BRIEF_SOURCE in job.notebooks
        )
        seconds["documents"] += time.perf_counter() - rendered
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StagedSite(job.area_code, str(staging), key, str(page) if page else None)


def finish_site(out: Path, staged: StagedSite, seconds: dict[str, float]) -> Path:
    """Print the staged site's PDF into it, then move the site into ``<out>/<code>``.
    On failure (``BookError``) the previous site stays. Adds the seconds spent printing to
    ``seconds["documents"]``."""
    out = Path(out)
    started = time.perf_counter()
    staging = Path(staged.staging)
    try:
        html = staging / "_build" / "html"
        if staged.print_page:
            from mhbook import export
            from mhbook.export import pdf
            from mhbook.site import BRIEF_DOWNLOADS

            try:
                pdf.print_page(Path(staged.print_page), export.download_path(html, "pdf"), staged.area_code)
                board = brief_page(Path(staged.print_page))
                if board.is_file():
                    pdf.print_page(board, html / BRIEF_DOWNLOADS["brief-pdf"], staged.area_code)
            except ConverterError as exc:
                raise BookError(f"{staged.area_code}: the pdf document could not be made: {exc}") from exc
            finally:
                seconds["documents"] += time.perf_counter() - started
        store = Store(out)
        _share_static(html, store.root / "static")
        replace_dir(html, out / staged.area_code)
        store.mark_site(staged.area_code, staged.key)
        shutil.rmtree(out / "_reports" / staged.area_code, ignore_errors=True)  # an earlier failure's, now stale
        return out / staged.area_code
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_documents(
    code: str, html: Path, formats: list[str], print_page: Path | None, board_brief: bool = True
) -> None:
    """Write the area's Word document and data pack into the staged site, and for a PDF
    its print page at ``print_page`` (``finish_site`` prints it), so every download link
    works once the site goes live; a failure fails the site (the old one stays)."""
    if not formats:
        return
    from mhbook import areas, export
    from mhbook.export import brief, datapack, pdf
    from mhbook.site import BRIEF_DOWNLOADS

    area = areas.get(code)
    document = export.read_site(html, area)
    try:
        datapack.write_datapack(
            html,
            html.parents[1] / "_figures",
            area,
            html / "downloads",
            pages=[(ch.page, ch.title) for ch in document.chapters],
        )
    except (SiteError, ValueError, KeyError) as exc:
        raise BookError(f"{code}: the data pack could not be made: {exc}") from exc
    try:
        board = brief.read_brief(html, area, full=document) if board_brief else None
    except SiteError as exc:
        raise BookError(f"{code}: the board brief could not be made: {exc}") from exc
    for fmt in formats:
        try:
            if fmt == "pdf":
                print_page.write_text(pdf.to_html(document), "utf-8")
                if board is not None:
                    brief_page(print_page).write_text(pdf.brief_html(board), "utf-8")
            else:
                export.WRITERS[fmt](document, export.download_path(html, fmt))
                if board is not None:
                    brief.WRITERS[fmt](board, html / BRIEF_DOWNLOADS[f"brief-{fmt}"])
        except ConverterError as exc:
            raise BookError(f"{code}: the {fmt} document could not be made: {exc}") from exc


def brief_page(print_page: Path) -> Path:
    """Where the board brief's print page is written, beside the full document's."""
    return print_page.with_name("print-brief.html")


def _keep_reports(staging: Path, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for nb in staging.glob("*.ipynb"):
        shutil.copy(nb, dest / nb.name)


def sphinx_build(source: Path, html: Path) -> None:
    """A strict Jupyter Book 1 HTML build (``-W -n --keep-going``) in this process.

    Raises ``BookError`` with the last warnings when the build fails.
    """
    from jupyter_book.sphinx import build_sphinx

    log_text = io.StringIO()
    with contextlib.redirect_stderr(log_text), contextlib.redirect_stdout(io.StringIO()):
        # Extensions set up again in a process that has already run Sphinx (a worker's next
        # area, or a test process) re-register their directives and roles: harmless, so
        # that one kind of warning is not an error.
        status = build_sphinx(
            source,
            html,
            noconfig=True,
            path_config=str(source / "_config.yml"),
            confoverrides={
                "nitpicky": True,
                "latex_individualpages": False,
                "suppress_warnings": ["app.add_directive", "app.add_role", "app.add_node"],
            },
            warningiserror=True,
            keep_going=True,
            quiet=True,
            doctreedir=source / "_build" / ".doctrees",
        )
    if status:
        tail = "\n".join(log_text.getvalue().strip().splitlines()[-15:])
        raise BookError(f"jupyter-book build failed:\n{tail or status}")
