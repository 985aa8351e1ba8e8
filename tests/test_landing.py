"""The national landing page (issue #14, item 8), in headless Chromium at 1280 CSS px: any
area can be found and clicked, London boroughs through the enlarged inset and the smallest
unitaries through the list under the map; a built area is found by search and opens.

The page is the one written for a real area's test build (``tests/browser/site.py``): one
area built, the other 152 drawn grey.
"""

from __future__ import annotations

import pytest

from browser.site import AREA, built_site, chromium, serve

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

#: Smallest shape a reader can reasonably point at, in CSS px (either side).
TARGET_PX = 12

_SHAPES = """
const out = {};
for (const path of document.querySelectorAll('svg path[data-code]')) {
  const r = path.getBoundingClientRect(), code = path.dataset.code;
  const size = Math.min(r.width, r.height);
  out[code] = Math.max(out[code] || 0, size);
}
const listed = Array.from(document.querySelectorAll('.small-areas li')).map(li => li.innerText);
const london = Array.from(document.querySelectorAll('#map-london path')).map(p => Math.min(p.getBoundingClientRect().width, p.getBoundingClientRect().height));
return [out, listed, london];
"""


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    site = built_site(tmp_path_factory)
    with serve(site) as base, chromium() as driver:
        driver.set_window_size(1280, 900)
        driver.get(f"{base}/index.html")
        yield driver, base


def test_every_area_can_be_pointed_at_on_the_map_or_the_list(landing):
    from mhbook import areas

    driver, _ = landing
    sizes, listed, london = driver.execute_script(_SHAPES)
    everything = areas.all_areas()
    assert set(sizes) == {a.code for a in everything}, "every County & UA is drawn"
    assert len(london) == sum(a.region_code == "E12000007" for a in everything)
    assert min(london) >= TARGET_PX, f"a London borough is {min(london):.1f} px in the inset"
    too_small = [
        a.name for a in everything if sizes[a.code] < TARGET_PX and not any(text.startswith(a.name) for text in listed)
    ]
    assert not too_small, f"too small on the map and not listed under it: {too_small}"


def test_a_built_area_is_found_by_search_and_opens(landing):
    from selenium.webdriver.common.by import By

    from mhbook import areas

    driver, base = landing
    name = areas.get(AREA).name
    box = driver.find_element(By.ID, "area-filter")
    box.clear()
    box.send_keys(name.lower())
    visible = [li for li in driver.find_elements(By.CSS_SELECTOR, "#area-list li") if li.is_displayed()]
    assert [li.text.split(" (")[0] for li in visible] == [name]
    visible[0].find_element(By.TAG_NAME, "a").click()
    assert f"/{AREA}/" in driver.current_url
    driver.get(f"{base}/index.html")
    link = driver.find_element(By.CSS_SELECTOR, f'#map-england a[href="{AREA}/index.html"]')
    link.click()
    assert f"/{AREA}/" in driver.current_url
