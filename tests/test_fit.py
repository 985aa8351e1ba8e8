"""Pages that fit (issue #14, item 6), measured in headless Chromium on a real area's site
(``tests/browser/site.py``): at 1280 CSS px no table caption is clipped and every table
either fits or scrolls inside its own region; at 390 px each wide table scrolls inside a
labelled region that the keyboard can reach (a table that fits needs no tab stop), and its
caption wraps within the screen.
"""

from __future__ import annotations

import pytest

from browser.site import built_site, chromium, serve, site_pages

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

DESKTOP, PHONE = (1280, 900), (390, 844)

_MEASURE = """
const out = [];
for (const table of document.querySelectorAll('article.bd-article table')) {
  const region = table.closest('[role=region]');
  const caption = table.querySelector('caption');
  const view = document.documentElement.clientWidth;
  const item = {id: table.id, region: !!region, caption: caption ? caption.innerText.slice(0, 40) : null};
  if (region) {
    item.tabindex = region.getAttribute('tabindex');
    const by = region.getAttribute('aria-labelledby');
    item.name = by ? (document.getElementById(by) || {}).innerText : region.getAttribute('aria-label');
    item.scrolls = getComputedStyle(region).overflowX;
    item.regionRight = region.getBoundingClientRect().right;
    item.overflows = region.scrollWidth > region.clientWidth + 1;
  }
  if (caption) {
    const r = caption.getBoundingClientRect();
    item.captionWidth = r.width; item.captionClipped = caption.scrollWidth > caption.clientWidth + 1;
  }
  item.view = view;
  out.push(item);
}
return out;
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    site = built_site(tmp_path_factory)
    with serve(site) as base, chromium() as driver:
        yield driver, base, site


def _measure(browser, size):
    driver, base, site = browser
    driver.set_window_size(*size)
    found = {}
    for page in site_pages(site)[1:]:  # the area's pages (not the national index)
        driver.get(f"{base}/{page}")
        found[page] = driver.execute_script(_MEASURE)
    return found


def test_tables_scroll_in_labelled_focusable_regions_on_a_phone(browser):
    problems = []
    for page, tables in _measure(browser, PHONE).items():
        for t in tables:
            if not t["region"] or not (t.get("name") or "").strip():
                problems.append((page, t["id"], "not in a labelled region"))
            elif t["overflows"] and t.get("tabindex") != "0":  # the theme drops the tab stop of one that fits
                problems.append((page, t["id"], "scrolls but the keyboard cannot reach it"))
            elif t["scrolls"] not in ("auto", "scroll"):
                problems.append((page, t["id"], f"region overflow-x {t['scrolls']}"))
            elif t["regionRight"] > t["view"] + 1:
                problems.append((page, t["id"], "region wider than the screen"))
            if t["caption"] and t["captionWidth"] > t["view"]:
                problems.append((page, t["id"], f"caption {t['captionWidth']:.0f} px wide on a {t['view']} px screen"))
    assert not problems, problems


def test_no_caption_is_clipped_on_a_desktop(browser):
    problems = [(page, t["id"]) for page, tables in _measure(browser, DESKTOP).items()
                for t in tables if t["caption"] and (t["captionClipped"] or t["captionWidth"] > t["view"])]
    assert not problems, problems
