"""Sphinx extension for every area's site: accessibility fixes and the downloads links.

Jupyter Book loads it through ``sphinx.extra_extensions`` in ``_config.yml``. It

- adds ``static/mhbook.css`` (text that wraps at 320 CSS px, visible focus, print rules);
- puts ``templates/`` first on the template path, to replace theme components that fail
  WCAG 2.2 AA (see the comment in each template);
- makes every table's scrolling box a labelled, keyboard-focusable region (``table_regions``);
- shows phones the rendering of each figure laid out for narrow screens, which
  ``mhbook.figures.publish`` saves beside it, through a ``<picture>`` media query, and
  marks each image with its smallest text in image pixels (``figure_pictures``);
- ends every chapter page with links to the area's Word and PDF documents, which the
  build (or ``mhbook export``) writes to ``downloads/`` inside the site (``DOWNLOADS``),
  to its board brief (``BRIEF_DOWNLOADS``) and to its data pack (``DATA_DOWNLOADS``); only the formats named in the
  ``mhbook_documents`` setting are linked;
- turns links to chapters left out of this build (``mhbook build --only``; the
  ``mhbook_absent_pages`` setting) into their plain text (``absent_links``), so a
  partial book renders, strict, without broken links.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Files of the area's documents, relative to the site's root, by format.
DOWNLOADS = {"docx": "downloads/mental-health-inequalities.docx", "pdf": "downloads/mental-health-inequalities.pdf"}
#: The area's board brief (``mhbook.export.brief``), by format of its document.
BRIEF_DOWNLOADS = {"brief-docx": "downloads/board-brief.docx", "brief-pdf": "downloads/board-brief.pdf"}
#: The area's data pack (``mhbook.export.datapack``), by format.
DATA_DOWNLOADS = {
    "xlsx": "downloads/mental-health-inequalities-data.xlsx",
    "csv": "downloads/mental-health-inequalities-data.csv",
}
_LABELS = {
    "docx": "Word document (.docx)",
    "pdf": "PDF document (.pdf)",
    "brief-docx": "Board brief, 4 pages at most (Word, .docx)",
    "brief-pdf": "Board brief, 4 pages at most (PDF)",
    "xlsx": "Data pack: every table in one workbook, with sources and definitions (.xlsx)",
    "csv": "Data pack: every number in one tidy long table (.csv)",
}


def _add_paths(app, config) -> None:
    # Absolute paths: Sphinx joins them to the book folder unchanged.
    config.templates_path.insert(0, str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))


def _links(pathto, files: dict[str, str], formats) -> str:
    return "\n".join(
        f'    <li><a href="{html.escape(pathto(files[fmt], 1))}">{html.escape(_LABELS[fmt])}</a></li>'
        for fmt in formats
    )


def _downloads_html(pathto, formats) -> str:
    documents = [f for f in formats if f in DOWNLOADS]
    briefs = [f for f in formats if f in BRIEF_DOWNLOADS]
    data = [f for f in formats if f in DATA_DOWNLOADS]
    parts = [
        '\n<nav class="mhbook-downloads" aria-labelledby="mhbook-downloads-title">\n'
        '  <h2 id="mhbook-downloads-title">This area\'s book as a document</h2>\n'
    ]
    if documents:
        parts.append(
            "  <p>Every chapter, figure (with its text description) and table of this site in one file:</p>\n"
            f"  <ul>\n{_links(pathto, DOWNLOADS, documents)}\n  </ul>\n"
        )
    if briefs:
        parts.append(
            "  <p>The key findings, the triple barrier, two charts and next steps, for a board:</p>\n"
            f"  <ul>\n{_links(pathto, BRIEF_DOWNLOADS, briefs)}\n  </ul>\n"
        )
    if data:
        parts.append(
            "  <p>The numbers of every figure and table, with their sources:</p>\n"
            f"  <ul>\n{_links(pathto, DATA_DOWNLOADS, data)}\n  </ul>\n"
        )
    parts.append("</nav>\n")
    return "".join(parts)


_CAPTIONED = re.compile(
    r'<div class="pst-scrollable-table-container"><table class="([^"]*)" id="([^"]+)">(\s*)<caption>'
)
_PLAIN = re.compile(r'<div class="pst-scrollable-table-container">(?=\s*<table)')


def table_regions(body: str) -> str:
    """Make each table's scrolling box a labelled region that the keyboard can reach and
    scroll (WCAG 2.1.1, 1.3.1): ``role="region"``, ``tabindex="0"`` and the table's caption
    as its name (``aria-labelledby``), or "Data table" when it has none."""
    body = _CAPTIONED.sub(
        lambda m: (
            f'<div class="pst-scrollable-table-container mhbook-table-region" role="region" tabindex="0" '
            f'aria-labelledby="{m.group(2)}-caption"><table class="{m.group(1)}" id="{m.group(2)}">'
            f'{m.group(3)}<caption id="{m.group(2)}-caption">'
        ),
        body,
    )
    return _PLAIN.sub(
        '<div class="pst-scrollable-table-container mhbook-table-region" role="region" tabindex="0" '
        'aria-label="Data table">',
        body,
    )


#: An image Sphinx wrote into a page: its other attributes, and its path in ``_images``.
_IMAGE = re.compile(r'<img ((?:[a-z-]+="[^"]*" )*?)src="((?:\.\./)*_images/([^"/]+))"((?: [a-z-]+="[^"]*")*) ?/?>')


def _measures(r: dict) -> str:
    return (
        f'width="{int(r["width_px"])}" height="{int(r["height_px"])}" '
        f'data-mhbook-text-px="{float(r["smallest_text_px"]):g}" '
        f'data-mhbook-overlapping-ticks="{len(r.get("overlapping_tick_labels") or [])}"'
    )


def figure_pictures(body: str, renderings: dict[str, tuple[dict, dict, str]]) -> str:
    """Wrap each image that has a phone rendering in a ``<picture>`` whose ``<source>``
    (the phone's image, for ``media``) a narrow screen picks; the ``<img>``, its alt text
    and its desktop image stay as they were for every other screen, print and the Word
    document. ``renderings`` maps an image's file name in ``_images`` to what ``publish``
    measured of its wide and phone renderings (``width_px``, ``height_px``,
    ``smallest_text_px``, ``overlapping_tick_labels``, ``media``) and the phone image's
    file name in ``_images``. Both images carry their size and smallest text in image
    pixels (``data-mhbook-text-px``) so that the browser suite can measure text on screen."""

    def picture(m: re.Match) -> str:
        found = renderings.get(m.group(3))
        if found is None:
            return m.group(0)
        wide, narrow, phone_file = found
        folder = m.group(2)[: -len(m.group(3))]
        return (
            f'<picture><source media="{html.escape(narrow["media"])}" srcset="{folder}{phone_file}" '
            f'{_measures(narrow)}><img {m.group(1)}src="{m.group(2)}"{m.group(4)} {_measures(wide)} /></picture>'
        )

    return _IMAGE.sub(picture, body)


def _phone_renderings(app) -> dict[str, tuple[dict, dict, str]]:
    """The figures of the pages written so far that have a phone rendering (the ``.json``
    that ``publish`` wrote beside the image says so), each phone image copied into the
    site's ``_images`` folder; see ``figure_pictures``."""
    known = app.builder.__dict__.setdefault("_mhbook_phones", {})
    done = app.builder.__dict__.setdefault("_mhbook_phones_seen", set())
    for src, dest in list(app.builder.images.items()):
        if src in done:
            continue
        done.add(src)
        image = Path(app.srcdir) / src
        meta = image.with_suffix(".json")
        if not meta.is_file():
            continue
        renderings = json.loads(meta.read_text("utf-8")).get("renderings") or []
        wide = next((r for r in renderings if not r.get("media")), None)
        narrow = next((r for r in renderings if r.get("media")), None)
        if wide is None or narrow is None or not (image.parent / narrow["file"]).is_file():
            continue
        phone_file = f"{Path(dest).stem}.phone{Path(narrow['file']).suffix}"
        target = Path(app.builder.outdir) / app.builder.imagedir / phone_file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image.parent / narrow["file"], target)
        known[dest] = (wide, narrow, phone_file)
    return known


def _page_context(app, pagename, templatename, context, doctree) -> None:
    if doctree is not None and "body" in context:
        context["body"] = table_regions(context["body"])
        if "<img " in context["body"] and hasattr(app.builder, "images"):
            context["body"] = figure_pictures(context["body"], _phone_renderings(app))
    # Only pages made from the book's sources (not search or the index of terms).
    formats = [f for f in (*DOWNLOADS, *BRIEF_DOWNLOADS, *DATA_DOWNLOADS) if f in app.config.mhbook_documents]
    if doctree is not None and "body" in context and formats:
        context["body"] += _downloads_html(context["pathto"], formats)


def _absent(app) -> set[str]:
    return set(app.config.mhbook_absent_pages or ())


def _missing_reference(app, env, node, contnode):
    """A ``{doc}`` role naming a chapter this build left out: its text, not a warning."""
    if node.get("reftype") == "doc" and node.get("reftarget", "").strip("/").removesuffix(".md") in _absent(app):
        return contnode
    return None


_PAGE_LINK = re.compile(r"^(?:\./)?([\w-]+)\.(?:html|md|ipynb)(?:#.*)?$")


def absent_links(doctree, absent: set[str]) -> int:
    """Replace each link (``reference`` node) to a page in ``absent`` (``chapter.html``,
    ``chapter.md``, with or without an anchor) by its text; returns how many."""
    from docutils import nodes

    replaced = 0
    for ref in list(doctree.findall(nodes.reference)):
        m = _PAGE_LINK.match(ref.get("refuri", "") or "")
        if m and m.group(1) in absent:
            ref.replace_self(nodes.inline("", "", *ref.children))
            replaced += 1
    return replaced


def _doctree_resolved(app, doctree, docname) -> None:
    absent = _absent(app)
    if absent:
        absent_links(doctree, absent)


def setup(app) -> dict:
    app.add_config_value("mhbook_documents", [], "html")
    app.add_config_value("mhbook_absent_pages", [], "env")
    app.connect("missing-reference", _missing_reference)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("config-inited", _add_paths)
    app.connect("html-page-context", _page_context)
    app.add_css_file("mhbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
