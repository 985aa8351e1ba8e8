"""The project a build reads: its notebooks, book pages and Jupyter Book configuration.

Also what each site links to for downloading (its documents, board brief and data pack)
and the per-site ``_config.yml`` and ``_toc.yml`` written into a staging folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from mhbook import project
from mhbook.errors import UsageError

#: The page the board brief is made from: without it (``--only``) a site has no brief.
BRIEF_SOURCE = "summary"


def project_root() -> Path:
    """The folder holding ``notebooks/``, ``book/``, ``_config.yml`` and ``_toc.yml`` (a checkout,
    ``MHBOOK_PROJECT`` or the copy installed with the package: ``mhbook.project.root``)."""
    return project.root()


def notebook_names(root: Path | None = None, only: list[str] | None = None) -> list[str]:
    """Notebook stems in table-of-contents order; ``only`` keeps a subset (for
    working on a chapter), always with the landing page if it exists."""
    root = root or project_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    names = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise UsageError(
                f"--only {', '.join(unknown)}: no such chapter in {root / '_toc.yml'}; "
                f"the chapters are {', '.join(names)}"
            )
        names = [n for n in names if n in only]
    return [n for n in names if (root / "notebooks" / f"{n}.md").exists()]


def book_files(root: Path) -> list[Path]:
    """The book's own pages (``book/``), then ``_config.yml`` and ``_toc.yml``."""
    pages = sorted(p for p in (root / "book").iterdir() if p.is_file() and not p.name.startswith("."))
    return pages + [root / "_config.yml", root / "_toc.yml"]


def document_formats() -> list[str]:
    """The area documents a build makes: Word always; PDF where Chromium can print it."""
    from mhbook.export import pdf

    return ["docx", "pdf"] if shutil.which(pdf.CHROMIUM) else ["docx"]


def site_links(documents: list[str], notebooks: list[str]) -> list[str]:
    """What an area's pages link under downloads: its ``documents``, the board brief in
    the same formats (when the site has the summary page), and the data pack."""
    from mhbook.site import DATA_DOWNLOADS

    if not documents:
        return []
    briefs = [f"brief-{d}" for d in documents] if BRIEF_SOURCE in notebooks else []
    return [*documents, *briefs, *DATA_DOWNLOADS]


def write_book_config(
    root: Path, staging: Path, title: str, names: list[str], documents: list[str] | None = None
) -> None:
    """Write the site's ``_config.yml`` (its title, download links, chapters left out) and
    ``_toc.yml`` (the chapters ``names`` and the book's own pages) into ``staging``."""
    config = yaml.safe_load((root / "_config.yml").read_text("utf-8"))
    config["title"] = title
    toc = yaml.safe_load((root / "_toc.yml").read_text("utf-8"))
    pages = set(names) | {p.stem for p in (root / "book").glob("*.md")}
    every = [toc["root"], *(c["file"] for c in toc.get("chapters", []))]
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["mhbook_documents"] = documents or []
    # Chapters left out (--only): links to them become plain text (mhbook.site.absent_links).
    sphinx_config["mhbook_absent_pages"] = [page for page in every if page not in pages]
    (staging / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    chapters = [c for c in toc.get("chapters", []) if c["file"] in pages]
    root_page = toc["root"] if toc["root"] in pages else chapters.pop(0)["file"]
    toc = {"format": toc["format"], "root": root_page, **({"chapters": chapters} if chapters else {})}
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), "utf-8")
