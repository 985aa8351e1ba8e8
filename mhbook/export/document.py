"""Read an area's built site into one document: title page facts and cleaned chapters.

The exported Word and PDF files are made from the site's own HTML pages, so every number,
figure, caption, alt text and table is the one the site shows (both come from the same
executed notebooks). Chapters are taken in the site's order: the root page (where
``index.html`` redirects) and then the chapters of its navigation. From each page's
``article`` the parts that only make sense on the web are removed: heading anchors,
code cells (the injected parameters), and links into the site, which become plain text,
except links to another chapter, which point to it inside the document.
Each figure gains a visible "Text description" paragraph holding its alt text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, SoupStrainer, Tag

import mhbook
from mhbook import catalogue
from mhbook.areas import Area
from mhbook.errors import SiteError


@dataclass
class Chapter:
    """One page of the site: its title, file name and cleaned ``<article>`` content
    (images given by ``file:`` URIs)."""

    title: str
    page: str
    body: Tag


@dataclass
class ExportDocument:
    """Everything the Word and PDF writers need, in reading order."""

    title: str
    area: Area
    data_period: str
    built: dt.date
    site: Path
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def subtitle(self) -> str:
        return f"{self.area.name} ({self.area.code}), {self.area.region_name}: County or Unitary Authority"

    @property
    def credit(self) -> str:
        return (
            f"Made by mhbook {mhbook.__version__} on {self.built:%d %B %Y} from the area's web site; "
            "every number is computed from the published data listed under Sources."
        )


_YEAR = re.compile(r"(?<!\d)(20\d\d)(?:[-/](\d\d))?(?!\d)")


def data_period(ids: list[str]) -> str:
    """The span of years covered by the datasets ``ids`` (catalogue ``period`` fields),
    e.g. "2013 to 2025"; financial years such as "2024-25" count by their first year."""
    years = sorted({int(m.group(1)) for i in ids for m in _YEAR.finditer(catalogue.get(i).period)})
    if not years:
        raise SiteError(f"no year in the catalogue periods of datasets {ids}: cannot state the data period")
    return str(years[0]) if years[0] == years[-1] else f"{years[0]} to {years[-1]}"


#: The part of a chapter page that the documents are made from; the rest is the site's frame.
_ARTICLE = SoupStrainer("article", class_="bd-article")


def _soup(path: Path, only: SoupStrainer | None = None) -> BeautifulSoup:
    """The page at ``path``, parsed; if ``only`` is given, just the elements it matches."""
    if not path.is_file():
        raise SiteError(f"{path} is missing: build the area's site first (mhbook build AREA)")
    return BeautifulSoup(path.read_text("utf-8"), "html.parser", parse_only=only)


def _root_page(site: Path) -> str:
    """The book's first page: where the site's ``index.html`` redirects."""
    index = _soup(site / "index.html")
    refresh = index.find("meta", attrs={"http-equiv": re.compile("refresh", re.IGNORECASE)})
    match = re.search(r"url=([^;\s]+)", refresh.get("content", "")) if refresh else None
    if not match:
        raise SiteError(f"{site / 'index.html'}: expected a redirect to the book's first page")
    return match.group(1)


def _reading_order(root: str, root_soup: BeautifulSoup) -> list[str]:
    """The first page ``root`` and then the chapters of its navigation (``root_soup``)."""
    nav = root_soup.select("nav.bd-docs-nav a.reference.internal")
    pages = [root] + [urlsplit(a["href"]).path for a in nav]
    return list(dict.fromkeys(p for p in pages if p))


def page_order(site: Path) -> list[str]:
    """The site's chapter pages in reading order (file names relative to ``site``)."""
    root = _root_page(site)
    return _reading_order(root, _soup(site / root))


def _is_site_link(href: str) -> bool:
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and not href.startswith("#")


_WEB_ONLY_TAGS = frozenset({"script", "style", "button"})
_WEB_ONLY_CLASSES = frozenset({"cell_input", "tag_injected-parameters"})


def _is_web_only(tag: Tag) -> bool:
    """Whether ``tag`` is a script, style, button, code cell (the injected parameters among
    them), heading anchor (``a.headerlink``) or the links to the documents themselves
    (``nav.mhbook-downloads``)."""
    classes = tag.get("class") or ()
    return (
        tag.name in _WEB_ONLY_TAGS
        or not _WEB_ONLY_CLASSES.isdisjoint(classes)
        or (tag.name == "a" and "headerlink" in classes)
        or (tag.name == "nav" and "mhbook-downloads" in classes)
    )


def clean_article(article: Tag, site: Path, chapters: dict[str, int] | None = None) -> Tag:
    """Strip web-only parts from a page's ``article`` and point its images at their files
    with absolute ``file:`` URIs. A link to another chapter (``chapters``: page -> its
    number, from 1) becomes a link to ``#chapter-<number>``, which the documents resolve."""
    for junk in article.find_all(_is_web_only):
        junk.decompose()
    for img in article.find_all("img"):
        img["src"] = (site / unquote(img["src"])).resolve().as_uri()
        figure = img.find_parent("figure")
        if figure is not None and img.get("alt"):
            # On paper nobody can reach the alt text: print it under the caption.
            note = BeautifulSoup("", "html.parser").new_tag("p", attrs={"class": "figure-description"})
            note.string = f"Text description: {img['alt']}"
            figure.append(note)
    for a in article.find_all("a", href=True):
        target = urlsplit(a["href"]).path
        if _is_site_link(a["href"]) and chapters and target in chapters and "download" not in a.get("class", []):
            a.attrs = {"href": f"#chapter-{chapters[target]}"}
            continue
        if _is_site_link(a["href"]):
            # A link into the site (a CSV, another chapter) would be dead in a file.
            name = Path(urlsplit(a["href"]).path).name if "download" in a.get("class", []) else ""
            a.replace_with(
                f"{a.get_text(' ', strip=True)} ({name}, on the area's site)" if name else a.get_text(" ", strip=True)
            )
    return article


def _chapter(site: Path, page: str, soup: BeautifulSoup, chapters: dict[str, int] | None = None) -> Chapter:
    """The chapter of ``page`` of ``site``, parsed as ``soup`` (``chapters``: see ``clean_article``)."""
    article = soup.select_one("article.bd-article")
    if article is None or article.find("h1") is None:
        raise SiteError(f"{site / page}: expected an <article class='bd-article'> with an <h1> title")
    title = article.find("h1").get_text(" ", strip=True).rstrip("#").strip()
    return Chapter(title=title, page=page, body=clean_article(article, site, chapters))


def _dataset_ids(chapters: list[Chapter]) -> list[str]:
    """Dataset ids listed in the site's sources table (column ``id``); all catalogued
    datasets if the site has no such table."""
    known = set(catalogue.datasets())
    for ch in chapters:
        for table in ch.body.find_all("table"):
            head = [th.get_text(strip=True) for thead in table.find_all("thead") for th in thead.find_all("th")]
            if "id" in head:
                col = head.index("id")
                ids = [row.find_all("td")[col].get_text(strip=True) for row in table.select("tbody tr")]
                ids = [i for i in ids if i in known]
                if ids:
                    return ids
    return sorted(known)


def read_site(site: Path, area: Area, built: dt.date | None = None) -> ExportDocument:
    """Read ``site`` (one area's built book, ``<out>/<area code>``) into an ExportDocument."""
    root = _root_page(site)
    root_soup = _soup(site / root)  # whole: its navigation and title are read too
    pages = _reading_order(root, root_soup)
    numbers = {page: i for i, page in enumerate(pages, 1)}
    chapters = [
        _chapter(site, page, root_soup if page == root else _soup(site / page, _ARTICLE), numbers) for page in pages
    ]
    title = root_soup.find("title")
    book_title = f"Mental health inequalities: {area.name}"
    if title is None or area.name not in title.get_text():
        raise SiteError(
            f"{site}: its pages are not titled for {area.name} ({area.code}); is this the site of another area?"
        )
    return ExportDocument(
        title=book_title,
        area=area,
        data_period=data_period(_dataset_ids(chapters)),
        built=built or dt.date.today(),
        site=site,
        chapters=chapters,
    )
