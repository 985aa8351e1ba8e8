"""Write an ExportDocument as PDF: one print-styled HTML file, printed by headless Chromium.

The HTML holds a title page with a contents list linking the chapters, then each chapter
from a new page (CSS ``break-before``), with the site's figures (alt text kept, and printed
as a text description; scaled to the page and never split), captions and tables (words
wrap whole). Pages are A4 with the title in the header and "Page N of M" in the footer
(CSS page-margin boxes).
Chromium lays it out on A4 and writes a tagged PDF with an outline; it is Debian's
``chromium`` package (``CHROMIUM`` or ``$MHBOOK_CHROMIUM``), with an empty profile and no
network services, kept open between documents (``mhbook.export.browser``).
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

from mhbook import atomic
from mhbook.errors import ConverterError
from mhbook.export import browser
from mhbook.export.document import ExportDocument

log = logging.getLogger(__name__)

#: The browser that prints the PDF (Debian package ``chromium``).
CHROMIUM = os.environ.get("MHBOOK_CHROMIUM", "chromium")
#: Seconds Chromium may go without answering while using no CPU (a print takes about
#: 3 s normally; see ``browser.STALL_CPU_S``) before it is taken to have stalled: it is
#: then restarted and the book printed once more.
PRINT_TIMEOUT_S = 60


PRINT_CSS = """
@page { size: A4; margin: 20mm 16mm 18mm;
  @top-left { content: var(--running-title); font: 8pt "DejaVu Sans", Arial, sans-serif; color: #444; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; }
}
@page :first { @top-left { content: none; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; color: #1a1a1a; }
h1 { font-size: 20pt; } h2 { font-size: 14pt; } h3 { font-size: 12pt; }
h1, h2, h3, h4 { break-after: avoid; }
.title-page { break-after: page; padding-top: 30mm; }
.title-page h1 { font-size: 28pt; }
.subtitle { font-size: 14pt; }
.chapter { break-before: page; }
figure { margin: 1em 0; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; max-height: 215mm; width: auto; height: auto; object-fit: contain; }
figcaption, caption { font-style: italic; text-align: left; margin: 0.3em 0; }
.figure-description { font-size: 8.5pt; color: #333; }
table { border-collapse: collapse; width: 100%; table-layout: auto; font-size: 7.5pt; margin: 0.5em 0 1.2em; }
table.wide { font-size: 6.5pt; }
/* Tables too wide for a portrait page get landscape pages of their own. */
@page landscape { size: A4 landscape; }
.landscape { page: landscape; }
/* A SHA-256, file path or URL is not a word: it may wrap anywhere. */
td .nowords { word-break: break-all; }
/* Words wrap between words only: never broken mid-word, never hyphenated. */
th, td { border: 0.5pt solid #777; padding: 2pt 2.5pt; vertical-align: top;
         overflow-wrap: normal; word-break: normal; hyphens: manual; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th p, td p { margin: 0; }
.text-right { text-align: right; } .text-left { text-align: left; }
a { color: #0b4f8a; }
.contents a { text-decoration: none; }
"""
#: Wider tables than this many columns print in a smaller type (``table.wide``).
WIDE_TABLE_COLUMNS = 9


BRIEF_CSS = """
body { font-size: 9.5pt; line-height: 1.35; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 12.5pt; margin: 4mm 0 1.5mm; }
.subtitle { font-size: 11pt; margin: 0 0 2mm; }
figure { margin: 2mm 0; }
figure img { max-height: 78mm; margin: 0 auto; }
figcaption { font-size: 8pt; }
table { font-size: 7pt; }
.figure-description { font-size: 7.5pt; }
ul, ol { margin: 1mm 0; padding-left: 6mm; } li { margin: 0.5mm 0; }
"""


def brief_html(document: ExportDocument) -> str:
    """A board brief (``mhbook.export.brief``) as one HTML page for printing: title and
    period at the top of the first page, no contents, charts a third of a page high."""
    esc = html.escape
    running = document.title + " (" + document.area.code + ")"
    css = PRINT_CSS.replace("var(--running-title)", '"' + running.replace("\\", "").replace('"', "'") + '"')
    css = css.replace("@page :first { @top-left { content: none; } }", "")
    body = "\n".join(ch.body.decode_contents() for ch in document.chapters)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(document.title)}</title>
<style>{css}{BRIEF_CSS}</style>
</head>
<body>
<h1>{esc(document.title)}</h1>
<p class="subtitle">{esc(document.area.name)} ({esc(document.area.code)}): mental health data for {esc(document.data_period)}</p>
<p>{esc(document.credit)}</p>
{body}
</body>
</html>
"""


def _print_html(html_text: str, path: Path, label: str) -> Path:
    """Print the page ``html_text`` (written to a temporary file) to ``path`` (.pdf)."""
    with tempfile.TemporaryDirectory(prefix="mhbook-pdf-") as tmp:
        page = Path(tmp) / "print.html"
        page.write_text(html_text, "utf-8")
        return print_page(page, path, label)


def write_brief_pdf(document: ExportDocument, path: Path) -> Path:
    """Print a board brief to ``path`` (.pdf) with headless Chromium and return ``path``."""
    _print_html(brief_html(document), path, document.area.code)
    log.info("wrote %s (board brief)", path)
    return path


#: A token of cell text that is not a word (a SHA-256, a file path, a URL): it may wrap anywhere.
_NOT_WORD = re.compile(r"(\S{26,})")
_WORDLIKE = re.compile(r"^[A-Za-z'’()-]+[,.;:]?$")


def _mark_tokens(cell, soup: BeautifulSoup) -> None:
    """Wrap each long token of ``cell`` that is not a word in ``span.nowords``."""
    from bs4 import NavigableString

    for text in list(cell.find_all(string=True)):
        if not isinstance(text, NavigableString) or not _NOT_WORD.search(text):
            continue
        parts = _NOT_WORD.split(str(text))
        if all(_WORDLIKE.match(p) for p in parts[1::2]):
            continue
        new = []
        for i, part in enumerate(parts):
            if i % 2 and not _WORDLIKE.match(part):
                span = soup.new_tag("span", attrs={"class": "nowords"})
                span.string = part
                new.append(span)
            elif part:
                new.append(NavigableString(part))
        text.replace_with(*new)


def fit_tables(body) -> None:
    """Mark tables of more than ``WIDE_TABLE_COLUMNS`` columns to print small on a
    landscape page of their own, and long tokens that are not words (hashes, paths, URLs)
    as breakable anywhere."""
    soup = BeautifulSoup("", "html.parser")
    for table in body.find_all("table"):
        first = table.find("tr")
        if first is not None and len(first.find_all(["th", "td"])) > WIDE_TABLE_COLUMNS:
            table["class"] = [*table.get("class", []), "wide"]
            table.wrap(soup.new_tag("div", attrs={"class": "landscape"}))
        for cell in table.find_all("td"):
            _mark_tokens(cell, soup)


def to_html(document: ExportDocument) -> str:
    """The whole document as one HTML page for printing (images as ``file:`` URIs)."""
    esc = html.escape
    contents = "\n".join(
        f'<li><a href="#chapter-{i}">{esc(ch.title)}</a></li>' for i, ch in enumerate(document.chapters, 1)
    )
    chapters = []
    for i, ch in enumerate(document.chapters, 1):
        fit_tables(ch.body)
        chapters.append(f'<section class="chapter" id="chapter-{i}">\n{ch.body.decode_contents()}\n</section>')
    running = document.title + " (" + document.area.code + ")"
    css = PRINT_CSS.replace("var(--running-title)", '"' + running.replace("\\", "").replace('"', "'") + '"')
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(document.title)}</title>
<style>{css}</style>
</head>
<body>
<section class="title-page">
<h1>{esc(document.title)}</h1>
<p class="subtitle">{esc(document.subtitle)}</p>
<p>Data period: {esc(document.data_period)} (each dataset's period is listed under Sources).</p>
<p>{esc(document.credit)}</p>
<p><strong>Contents</strong></p>
<ol class="contents">
{contents}
</ol>
</section>
{chr(10).join(chapters)}
</body>
</html>
"""


def write_pdf(document: ExportDocument, path: Path) -> Path:
    """Print ``document`` to ``path`` (.pdf) with headless Chromium and return ``path``."""
    _print_html(to_html(document), path, document.area.code)
    log.info("wrote %s (%d chapters)", path, len(document.chapters))
    return path


def print_page(page: Path, path: Path, label: str) -> Path:
    """Print the page written by ``to_html`` (``page``, a local file) to ``path`` (.pdf).

    The build splits the two steps: workers write the page, and the coordinating process,
    which holds the one browser, prints it. ``label`` (the area code) names the document
    in errors.
    """
    if shutil.which(CHROMIUM) is None:
        raise ConverterError(
            f"'{CHROMIUM}' not found: the PDF export needs Chromium "
            "(Debian: apt-get install chromium; or set MHBOOK_CHROMIUM)"
        )
    for attempt in (1, 2):
        try:
            data = browser.shared(CHROMIUM).print_pdf(page, PRINT_TIMEOUT_S)
            break
        except browser.BrowserError as exc:
            browser.discard(CHROMIUM)  # the next attempt, or document, gets a fresh browser
            if attempt == 2:
                raise ConverterError(f"Chromium failed to print {label} to PDF twice: {exc}") from exc
            # A browser kept open for many documents occasionally stops answering.
            log.warning("Chromium failed to print %s (%s); printing it again with a new browser", label, exc)
    if not data.startswith(b"%PDF"):
        raise ConverterError(f"Chromium printed {label} but did not return a PDF")
    return atomic.write_bytes(path, data)
