"""A board brief per area: at most four A4 pages, in Word and PDF, made from its built site.

    brief = read_brief(site, area)           # an ExportDocument of one section
    write_brief_docx(brief, path)            # python-docx, A4, header, "Page N of M" footer
    write_pdf(brief, path) / to_html(brief)  # Chromium, as the full documents

What it holds, all taken from the site's own pages so that every number is the site's:

- a title naming the area and the period of its mental health data (the periods of the
  summary's access, outcome and coercion measures, e.g. "2024-25 and 2023-24", and of the
  need estimates), not the date of a reference file;
- key findings: the summary's sentences on need, access, outcomes and coercion, the three
  widest significant gaps in outcomes, and the summary's table of barriers against England;
- the triple barrier table (the summary's headline ratios against the whole population);
- two charts (the area's triple barrier and its Talking Therapies attrition by
  deprivation; else England's), each at most a third of a page high;
- next steps in the terms of NHS England's Advancing Mental Health Equalities strategy;
- the address of the full site (``MHBOOK_SITE_URL``/<area code>/ when set).
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import logging
import os
import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from mhbook.areas import Area
from mhbook.export.document import Chapter, ExportDocument, SiteError, read_site

log = logging.getLogger(__name__)

#: The figures the brief shows, first found first (two or three of them).
CHARTS = ("fig-triple-barrier-local", "fig-attrition-local", "fig-recovery-sii-trend", "fig-triple-barrier-england")
MAX_CHARTS = 2
KEY_TABLE = "tbl-barriers-against-england"
#: The box holding the authors' own words on a page (``mhbook.build.LOCAL_CLASS``, ``--local``).
LOCAL_BOX = "div.mhbook-local-text"
#: The summary's local text goes into the brief up to this many words; a longer one is
#: pointed to instead, so that the brief keeps to four pages.
LOCAL_MAX_WORDS = 150
BARRIER_TABLE = "tbl-widest-gaps"
GAPS_TABLE = "tbl-outcome-gaps"
#: Environment variable holding the web address under which the area sites are published.
SITE_URL_ENV = "MHBOOK_SITE_URL"


def site_address(area: Area) -> str:
    """Where the full site is read: ``$MHBOOK_SITE_URL/<code>/`` if set, else its folder."""
    base = os.environ.get(SITE_URL_ENV, "").strip()
    if base:
        return f"{base.rstrip('/')}/{area.code}/"
    return f"the folder {area.code}/ of the published mhbook sites (open index.html)"


def _find(chapters: list[Chapter], selector: str) -> Tag | None:
    for ch in chapters:
        found = ch.body.select_one(selector)
        if found is not None:
            return found
    return None


def _cells(table: Tag) -> tuple[list[str], list[list[str]]]:
    head = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]
    return head, rows


def mental_health_period(key_table: Tag | None) -> str:
    """The period of the area's mental health data, from the summary's barrier table:
    the periods of access, outcome and coercion, then of the need estimates."""
    if key_table is None:
        raise SiteError("the summary page has no table of barriers against England: cannot state the period")
    head, rows = _cells(key_table)
    if "period" not in head or "barrier" not in head:
        raise SiteError(f"the barrier table has columns {head}: expected 'barrier' and 'period'")
    b, p = head.index("barrier"), head.index("period")
    services = list(dict.fromkeys(r[p] for r in rows if r[b] != "need" and r[p]))
    need = sorted({r[p] for r in rows if r[b] == "need" and r[p]})
    text = " and ".join(services) if services else ""
    if need:
        span = need[0] if len(need) == 1 else f"{need[0]} to {need[-1]}"
        text = f"{text} (need estimates {span})" if text else f"need estimates {span}"
    if not text:
        raise SiteError("the barrier table gives no period")
    return text


def _gap_findings(table: Tag | None, limit: int = 3) -> list[str]:
    if table is None:
        return []
    head, rows = _cells(table)
    want = ("group", "measure", "group value", "overall value", "gap (percentage points)")
    if not all(w in head for w in want):
        return []
    i = {w: head.index(w) for w in want}
    out = []
    for r in rows[:limit]:
        out.append(
            f"{r[i['measure']].capitalize()} for {r[i['group']]}: {r[i['group value']]} against "
            f"{r[i['overall value']]} for everyone treated ({r[i['gap (percentage points)']]} percentage points)."
        )
    return out


def _next_steps(area: Area, gaps: list[str], period: str) -> list[str]:
    groups = list(dict.fromkeys(re.sub(r"^.*? for (.*?):.*$", r"\1", g) for g in gaps))
    named = ", ".join(groups) if groups else "the groups with the widest gaps"
    return [
        "<strong>Understand local inequalities (Advancing Mental Health Equalities, step 1A: use existing "
        "data).</strong> Take this brief's findings into the JSNA and the place-based partnership's plans; the "
        "data pack on the site holds every number with its limits and sources.",
        f"<strong>Improve access and outcomes for the groups furthest behind.</strong> Agree with the NHS "
        f"Talking Therapies provider what will change for {htmllib.escape(named)}, and by when.",
        "<strong>Collect and benchmark data by protected characteristic (step 4A).</strong> Ask providers for "
        "complete ethnicity, disability, sexual orientation and deprivation recording: suppressed and unknown "
        "groups hide inequalities.",
        "<strong>Work with the communities most affected.</strong> Co-produce responses with people from the "
        "groups named above and with voluntary and community organisations that reach them.",
        f"<strong>Review progress with the next data.</strong> These findings describe {htmllib.escape(period)}; "
        "rebuild the brief when the sources are refreshed and report the change to the board.",
    ]


def _section(soup: BeautifulSoup, title: str) -> Tag:
    section = soup.new_tag("section")
    heading = soup.new_tag("h2")
    heading.string = title
    section.append(heading)
    return section


def read_brief(
    site: Path, area: Area, built: dt.date | None = None, full: ExportDocument | None = None
) -> ExportDocument:
    """The board brief of ``area`` from its built ``site``, as a one-section ExportDocument
    (``full``: the site already read by ``read_site``, to save reading it again)."""
    full = full or read_site(site, area, built)
    chapters = full.chapters
    key_table = _find(chapters, f"table#{KEY_TABLE}")
    period = mental_health_period(key_table)
    soup = BeautifulSoup("<article class='brief'></article>", "html.parser")
    article = soup.article

    intro = soup.new_tag("p")
    intro.string = (
        f"What published national data show about mental health inequalities in {area.name} "
        f"({area.region_name}): who needs support, who gets it and how well it works. "
        "NHS figures are for the NHS organisation that serves most of the area's residents."
    )
    article.append(intro)

    findings = _section(soup, "Key findings")
    bullets = soup.new_tag("ul")
    glance = _find(chapters, "dl")
    if glance is not None:
        for dt_tag in glance.find_all("dt"):
            dd = dt_tag.find_next_sibling("dd")
            li = soup.new_tag("li")
            strong = soup.new_tag("strong")
            strong.string = dt_tag.get_text(" ", strip=True) + ": "
            li.append(strong)
            li.append(" ".join(dd.get_text(" ", strip=True).split()) if dd else "")
            bullets.append(li)
    gaps = _gap_findings(_find(chapters, f"table#{GAPS_TABLE}"))
    for text in gaps:
        li = soup.new_tag("li")
        li.string = "Widest gap: " + text
        bullets.append(li)
    findings.append(bullets)
    if key_table is not None:
        findings.append(_copy(key_table))
    article.append(findings)
    local = _local_context(soup, chapters)
    if local is not None:
        article.append(local)

    barrier = _find(chapters, f"table#{BARRIER_TABLE}")
    if barrier is not None:
        section = _section(soup, "The triple barrier")
        note = soup.new_tag("p")
        note.string = (
            "Ratios against the whole population: above 1, the group has more of the measure "
            "(more need, more referrals, more detentions; for recovery, better outcomes)."
        )
        section.append(note)
        section.append(_copy(barrier))
        article.append(section)

    charts = [f for f in (_find(chapters, f"figure#{c}") for c in CHARTS) if f is not None][:MAX_CHARTS]
    if charts:
        section = _section(soup, "Charts")
        for figure in charts:
            figure = _copy(figure)
            # The alt text stays on the picture; the long printed description is the site's.
            for note in figure.select("p.figure-description"):
                note.decompose()
            section.append(figure)
        article.append(section)

    steps = _section(soup, "Next steps: Advancing Mental Health Equalities")
    listing = soup.new_tag("ol")
    for text in _next_steps(area, gaps, period):
        listing.append(BeautifulSoup(f"<li>{text}</li>", "html.parser").li)
    steps.append(listing)
    article.append(steps)

    more = _section(soup, "The full site")
    address = site_address(area)
    para = soup.new_tag("p")
    para.append("Every chapter, figure, table, method and source behind this brief, with the data pack: ")
    if address.startswith(("http://", "https://")):
        link = soup.new_tag("a", href=address)
        link.string = address
        para.append(link)
    else:
        para.append(address)
    para.append(".")
    more.append(para)
    article.append(more)

    title = f"Mental health inequalities in {area.name}: board brief"
    return ExportDocument(
        title=title,
        area=area,
        data_period=period,
        built=full.built,
        site=site,
        chapters=[Chapter(title=title, page="brief", body=article)],
    )


def _local_context(soup: BeautifulSoup, chapters: list[Chapter]) -> Tag | None:
    """The summary page's box of the authors' own words, whole if it is short
    (``LOCAL_MAX_WORDS``), else the same box saying where to read it."""
    summary = next((ch for ch in chapters if ch.page.split("#")[0] == "summary.html"), None)
    box = summary.body.select_one(LOCAL_BOX) if summary is not None else None
    if box is None:
        return None
    box = _copy(box)
    if len(box.get_text(" ", strip=True).split()) <= LOCAL_MAX_WORDS:
        return box
    title = box.select_one(".admonition-title")
    for child in [c for c in box.children if c is not title]:
        child.extract()
    note = soup.new_tag("p")
    note.string = "The area's authors add local context to these findings on the summary page of the full site."
    box.append(note)
    return box


def _copy(tag: Tag) -> Tag:
    """A copy of ``tag`` without the site's "Fig. 16"/"Table 3" numbers (the brief's differ)."""
    copy = BeautifulSoup(str(tag), "html.parser").find(tag.name)
    for number in copy.select("span.caption-number"):
        number.decompose()
    for link in copy.select('a[href^="#chapter-"]'):  # the brief has no chapters to link to
        link.unwrap()
    return copy


def _write_docx(document: ExportDocument, path: Path) -> Path:
    from mhbook.export.docx import write_brief_docx

    return write_brief_docx(document, path)


def _write_pdf(document: ExportDocument, path: Path) -> Path:
    from mhbook.export.pdf import write_brief_pdf

    return write_brief_pdf(document, path)


#: The brief's writers, by format (as ``mhbook.export.WRITERS``).
WRITERS = {"docx": _write_docx, "pdf": _write_pdf}
