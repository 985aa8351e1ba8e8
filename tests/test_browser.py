"""The built site as readers see it, in headless Chromium: WCAG 2.2 A/AA with axe-core,
alt text, the data behind every chart, colour never alone, reflow at 320 CSS px, the
download links, and screenshots of each chapter (kept in ``_build/test-artefacts``).

The site is one real area's full book (Oldham, E08000004) plus the national index, built
from the data mirror by ``tests/browser/site.py``.
"""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest

from browser.site import AREA, ARTEFACTS, AXE, CHROMIUM, built_site, chromium, require_tools, serve, site_pages
from mhbook.export.document import page_order
from mhbook.figures import palette
from mhbook.site import BRIEF_DOWNLOADS, DATA_DOWNLOADS, DOWNLOADS

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

#: axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP, PHONE = (1280, 900), (320, 800)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return built_site(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(site):
    with serve(site) as base, chromium() as driver:
        yield driver, base


def _open(browser, page: str, size=DESKTOP):
    driver, base = browser
    driver.set_window_size(*size)
    driver.get(f"{base}/{page}")
    return driver


def _open_loaded(browser, page: str):
    """``_open``, then wait (up to a minute) for the page to finish loading with its article
    drawn. A page whose renderer was lost on a loaded machine (Chromium then shows an empty
    error page, and ``get`` does not say so) is loaded once more; a page that still lacks
    its article is returned as it is, for the test to report."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _open(browser, page)
    for attempt in (1, 2):
        try:
            WebDriverWait(driver, 60).until(
                lambda d: d.execute_script(
                    "return document.readyState === 'complete' && !!document.querySelector('article');"
                )
            )
            return driver
        except TimeoutException:
            if attempt == 1:
                driver.refresh()
    return driver


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return response.read()


def test_every_page_passes_axe_at_wcag22_aa(browser, site):
    require_tools(CHROMIUM, axe=True)
    axe = AXE.read_text("utf-8")
    problems = []
    for page in site_pages(site):
        driver = _open(browser, page)
        driver.execute_script(axe)
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done({violations: r.violations, passes: r.passes.length}))"
            ".catch(e => done({error: String(e)}));",
            WCAG_TAGS,
        )
        assert "error" not in result, f"axe-core failed on {page}: {result.get('error')}"
        assert result["passes"] > 0, f"axe-core checked nothing on {page}"
        for v in result["violations"]:
            for node in v["nodes"]:
                problems.append(
                    f"{page}: {v['id']} ({v['impact']}): {v['help']}\n    at {node['target']}: {node['html'][:200]}"
                )
    assert not problems, f"{len(problems)} WCAG 2.2 A/AA violation(s):\n" + "\n".join(problems)


def _figures(driver) -> list[dict]:
    """Each figure in the article: its image's alt text, caption, and the CSV links that
    follow it in the same notebook output."""
    return driver.execute_script("""
        return [...document.querySelectorAll('article figure')].map(f => {
          const img = f.querySelector('img');
          const scope = f.closest('.cell_output') || f.parentElement;
          return {id: f.id, alt: img ? img.getAttribute('alt') : null,
                  caption: (f.querySelector('figcaption') || {}).textContent || '',
                  csv: [...scope.querySelectorAll('a[href$=".csv"]')].map(a => a.href)};
        });""")


def test_every_figure_has_alt_text_and_reachable_data(browser, site):
    problems, seen = [], 0
    for page in site_pages(site)[1:]:
        driver = _open(browser, page)
        images = driver.execute_script(
            "return [...document.querySelectorAll('article img')].map(i => [i.src, i.getAttribute('alt')]);"
        )
        problems += [f"{page}: image {src} has no alt text" for src, alt in images if not (alt or "").strip()]
        for fig in _figures(driver):
            seen += 1
            if not fig["csv"]:
                problems.append(f"{page}: figure {fig['id']} has no CSV link to its data")
            for url in fig["csv"]:
                rows = list(csv.reader(io.StringIO(_get(url).decode("utf-8"))))
                if len(rows) < 2:
                    problems.append(f"{page}: figure {fig['id']}: {url} has no data rows")
        tables = driver.execute_script("""
            return [...document.querySelectorAll('article table')].map(t => {
              const scope = t.closest('.cell_output') || t.parentElement;
              return [t.id, scope.querySelectorAll('a[href$=".csv"]').length];
            });""")
        problems += [f"{page}: table {tid} has no CSV link" for tid, n in tables if tid.startswith("tbl-") and not n]
    assert seen > 0, "the site has no figures: the build did not publish any chart"
    assert not problems, "\n".join(problems)


def test_significance_is_never_shown_by_colour_alone(browser, site):
    """Charts of significance categories (CSV column ``significance`` or ``comparison``,
    as ``figures.comparisons`` writes it): the CSV names each category in words, every
    category drawn has its own marker shape, and the text alternative says so."""
    shapes = {marker for _, marker in palette.SIGNIFICANCE.values()}
    assert len(shapes) >= 3, "significance categories need distinct marker shapes"
    checked, problems = 0, []
    for page in site_pages(site)[1:]:
        for fig in _figures(_open(browser, page)):
            for url in fig["csv"]:
                table = list(csv.DictReader(io.StringIO(_get(url).decode("utf-8"))))
                column = next((c for c in ("significance", "comparison") if table and c in table[0]), None)
                if column is None:
                    continue
                checked += 1
                words = {row[column] for row in table if row[column]}
                # "suppressed" groups have no marker: the chart writes the word in their row.
                unknown = words - set(palette.SIGNIFICANCE) - {"suppressed"}
                if unknown:
                    problems.append(f"{page}: {fig['id']}: categories {sorted(unknown)} have no word label and shape")
                markers = [palette.SIGNIFICANCE[w][1] for w in words & set(palette.SIGNIFICANCE)]
                if len(set(markers)) < len(markers):
                    problems.append(f"{page}: {fig['id']}: categories {sorted(words)} share a marker shape")
                if "marker" not in (fig["alt"] + fig["caption"]).lower() and not all(w in fig["alt"] for w in words):
                    problems.append(f"{page}: {fig['id']}: neither the alt text nor the caption names the categories")
    if not checked:
        pytest.skip("no chart on this site shows significance categories")
    assert not problems, "\n".join(problems)


def test_pages_reflow_at_320_px(browser, site):
    """At 320 CSS px the page never scrolls sideways and no text block is wider than the
    screen (data tables may scroll inside their own box: WCAG 1.4.10 allows it)."""
    problems = []
    for page in site_pages(site):
        driver = _open(browser, page, PHONE)
        width, overflowing = driver.execute_script("""
            const de = document.documentElement, out = [];
            const root = document.querySelector('main') || document.body;
            for (const el of root.querySelectorAll('p, li, h1, h2, h3, h4, figcaption, dt, dd, caption, a')) {
              if (!el.checkVisibility() || el.closest('table, pre, .pst-scrollable-table-container')) continue;
              const r = el.getBoundingClientRect();
              if (r.width === 0 || r.left >= de.clientWidth) continue;  // closed drawers sit off-screen
              if (r.right > de.clientWidth + 1 || el.scrollWidth > el.clientWidth + 1)
                out.push(`${el.tagName} "${el.textContent.trim().slice(0, 60)}" reaches ${Math.round(r.right)} px`);
            }
            return [de.scrollWidth - de.clientWidth, out];""")
        if width > 0:
            problems.append(f"{page}: the page scrolls sideways by {width} px at 320 px")
        problems += [f"{page}: {o}" for o in overflowing]
    assert not problems, "\n".join(problems)


def test_every_chapter_links_the_area_documents(browser, site):
    signatures = {
        "docx": b"PK",
        "pdf": b"%PDF",
        "brief-docx": b"PK",
        "brief-pdf": b"%PDF",
        "xlsx": b"PK",
        "csv": b"indicator,",
    }
    problems = []
    for page in page_order(site / AREA):
        driver = _open_loaded(browser, f"{AREA}/{page}")
        links = driver.execute_script(
            "return [...document.querySelectorAll('nav.mhbook-downloads a')].map(a => a.href);"
        )
        for fmt, rel in {**DOWNLOADS, **BRIEF_DOWNLOADS, **DATA_DOWNLOADS}.items():
            found = [u for u in links if u.endswith(rel)]
            if not found:
                problems.append(f"{page}: no link to the {fmt} document")
            elif not _get(found[0]).startswith(signatures[fmt]):
                problems.append(f"{page}: {found[0]} is not a {fmt} file")
    assert not problems, "\n".join(problems)


def test_screenshots_of_each_chapter(browser, site):
    folder = ARTEFACTS / "screenshots" / AREA
    folder.mkdir(parents=True, exist_ok=True)
    chapters = page_order(site / AREA)
    for page in chapters:
        for label, (width, height) in {"desktop": DESKTOP, "phone": PHONE}.items():
            driver = _open(browser, f"{AREA}/{page}", (width, height))
            full = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(max(full, height), 12000))
            shot = folder / f"{page.removesuffix('.html')}-{label}.png"
            assert driver.save_screenshot(str(shot)), f"no screenshot of {page} at {label} width"
            assert shot.read_bytes().startswith(b"\x89PNG"), shot
    assert len(list(folder.glob("*.png"))) >= 2 * len(chapters)
