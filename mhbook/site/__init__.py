"""Sphinx extension for every area's site: accessibility fixes and the downloads links.

Jupyter Book loads it through ``sphinx.extra_extensions`` in ``_config.yml``. It

- adds ``static/mhbook.css`` (text that wraps at 320 CSS px, visible focus, print rules);
- puts ``templates/`` first on the template path, to replace theme components that fail
  WCAG 2.2 AA (see the comment in each template);
- ends every chapter page with links to the area's Word and PDF documents, which the
  build (or ``mhbook export``) writes to ``downloads/`` inside the site (``DOWNLOADS``);
  only the formats named in the ``mhbook_documents`` setting are linked.
"""

from __future__ import annotations

import html
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Files of the area's documents, relative to the site's root, by format.
DOWNLOADS = {"docx": "downloads/mental-health-inequalities.docx", "pdf": "downloads/mental-health-inequalities.pdf"}
_LABELS = {"docx": "Word document (.docx)", "pdf": "PDF document (.pdf)"}


def _add_paths(app, config) -> None:
    # Absolute paths: Sphinx joins them to the book folder unchanged.
    config.templates_path.insert(0, str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))


def _downloads_html(pathto, formats) -> str:
    links = "\n".join(
        f'    <li><a href="{html.escape(pathto(DOWNLOADS[fmt], 1))}">{html.escape(_LABELS[fmt])}</a></li>'
        for fmt in formats
    )
    return (
        '\n<nav class="mhbook-downloads" aria-labelledby="mhbook-downloads-title">\n'
        '  <h2 id="mhbook-downloads-title">This area\'s book as a document</h2>\n'
        "  <p>Every chapter, figure (with its text description) and table of this site in one file:</p>\n"
        f"  <ul>\n{links}\n  </ul>\n</nav>\n"
    )


def _page_context(app, pagename, templatename, context, doctree) -> None:
    # Only pages made from the book's sources (not search or the index of terms).
    formats = [f for f in DOWNLOADS if f in app.config.mhbook_documents]
    if doctree is not None and "body" in context and formats:
        context["body"] += _downloads_html(context["pathto"], formats)


def setup(app) -> dict:
    app.add_config_value("mhbook_documents", [], "html")
    app.connect("config-inited", _add_paths)
    app.connect("html-page-context", _page_context)
    app.add_css_file("mhbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
