"""Three real areas built end to end from the mirror, read as a reader would read them.

Oldham (a metropolitan borough, E08000004), Hampshire (a county, E10000014) and Barking
and Dagenham (a London borough, E09000002) are built
with the command a JSNA author types, ``mhbook build``; the HTML, figures and CSV
downloads are then checked. Slow: a few minutes on two cores.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from mhbook.build import notebook_names

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

AREAS = {"E08000004": "Oldham", "E10000014": "Hampshire", "E09000002": "Barking and Dagenham"}
MHBOOK = [str(Path(sys.executable).with_name("mhbook"))]
#: NHS Digital's published recovery percentages, England 2018-19, IMD decile 1 (most
#: deprived) to 10 (iapt/PROVENANCE.md, identical to the Health Foundation's Figure 3).
PUBLISHED_RECOVERY_2018_19 = [43.2, 47.1, 49.7, 51.2, 52.9, 54.3, 55.2, 56.2, 57.7, 58.1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "site"
    proc = subprocess.run([*MHBOOK, "build", *AREAS, "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, f"mhbook build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def _csv(site: Path, code: str, name: str) -> pd.DataFrame:
    found = list((site / code / "_downloads").rglob(f"{name}.csv"))
    assert len(found) == 1, f"{code}: expected one {name}.csv download, found {found}"
    return pd.read_csv(found[0])


@pytest.mark.parametrize("code", AREAS)
def test_every_chapter_page_is_there(site, code):
    for name in notebook_names():
        page = site / code / f"{name}.html"
        assert page.exists(), f"{code}: {name}.html missing"
        assert AREAS[code] in page.read_text("utf-8"), f"{code}: {name}.html never names {AREAS[code]}"


@pytest.mark.parametrize("code", AREAS)
def test_every_figure_has_alt_text_and_its_data(site, code):
    n = 0
    for page in (site / code).glob("*.html"):
        for fig in _soup(page).select("article figure"):
            img = fig.find("img")
            if img is None:
                continue
            n += 1
            assert img.get("alt", "").strip(), f"{page.name}: figure {img.get('src')} has no alt text"
            assert fig.find("figcaption"), f"{page.name}: figure {img.get('src')} has no caption"
    assert n >= 10, f"{code}: only {n} figures across the book"


@pytest.mark.parametrize("code", AREAS)
def test_no_code_or_parameters_on_the_page(site, code):
    for page in (site / code).glob("*.html"):
        soup = _soup(page)
        assert not soup.select(".tag_injected-parameters"), f"{page.name} shows papermill's parameters"
        assert "Traceback" not in soup.get_text(), f"{page.name} shows a traceback"


def test_england_2018_19_decile_csv_matches_published_recovery(site):
    table = _csv(site, "E08000004", "england-deciles-commission-year")
    assert table["IMD decile (1 = most deprived)"].tolist() == list(range(1, 11))
    assert table["recovery (%, as published)"].tolist() == PUBLISHED_RECOVERY_2018_19
    assert table["referrals"].iloc[0] == 219_236 and table["recovered"].iloc[0] == 26_623


@pytest.mark.parametrize("code", AREAS)
def test_summary_numbers_match_the_csv(site, code):
    table = _csv(site, code, "barriers-against-england")
    text = " ".join(_soup(site / code / "summary.html").get_text().split())
    for row in table.itertuples():
        if row.barrier not in ("access", "outcome", "coercion") or pd.isna(row.value):
            continue
        # The CSV holds numbers (rounded as the page shows them); the sentence, text.
        sentence = re.search(
            re.escape(row.measure)
            + " in "
            + re.escape(str(row.where))
            + r"[^:]*, "
            + re.escape(str(row.period))
            + r": ([\d,.]+)(?: \([^)]*\))?%? against ([\d,.]+)",
            text,
            flags=re.IGNORECASE,
        )
        assert sentence, f"{code}: no sentence for {row.measure} in the summary"
        said = [float(g.replace(",", "")) for g in sentence.groups()]
        assert said == pytest.approx([row.value, row.England], abs=0.05), (
            f"{code}: summary says {sentence.group(1)} vs {sentence.group(2)}, CSV {row.value} vs {row.England}"
        )


_NUMBER = r"-?[\d,]*\.?\d+"


@pytest.mark.parametrize("code", AREAS)
def test_no_displayed_value_lies_outside_its_displayed_limits(site, code):
    """Every table of every page: "v (lo to hi)" cells, and a value beside a limits column."""
    bad = []
    for page in (site / code).glob("*.html"):
        for table in _soup(page).select("article table"):
            rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
            head = rows[0] if rows else []
            for r in rows[1:]:
                for i, cell in enumerate(r):
                    m = re.fullmatch(rf"({_NUMBER})\s*\(({_NUMBER}) to ({_NUMBER})\)", cell)
                    if m:
                        v, lo, hi = (float(x.replace(",", "")) for x in m.groups())
                    else:
                        m = re.fullmatch(rf"({_NUMBER}) to ({_NUMBER})", cell)
                        if not (m and 0 < i < len(head) and "limit" in head[i].lower()):
                            continue
                        try:
                            v = float(r[i - 1].replace(",", ""))
                        except ValueError:
                            continue
                        lo, hi = (float(x.replace(",", "")) for x in m.groups())
                    if not min(lo, hi) <= v <= max(lo, hi):
                        bad.append(f"{page.name}: {r[i - 1]} | {cell}")
    assert not bad, bad[:10]


@pytest.mark.parametrize("code", AREAS)
def test_counts_are_whole_numbers_on_every_page(site, code):
    bad = []
    for page in (site / code).glob("*.html"):
        for table in _soup(page).select("article table"):
            rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
            head = [h.lower() for h in (rows[0] if rows else [])]
            counts = [
                i
                for i, h in enumerate(head)
                if h
                in {
                    "referrals",
                    "recovered",
                    "improved",
                    "detentions",
                    "people",
                    "finished",
                    "finished treatment",
                    "finished at caseness",
                    "referrals aged 65+",
                    "all referrals",
                }
            ]
            for r in rows[1:]:
                bad += [
                    f"{page.name}: {head[i]} = {r[i]}"
                    for i in counts
                    if i < len(r) and re.fullmatch(r"-?[\d,]+\.\d+", r[i])
                ]
    assert not bad, bad[:10]


def test_index_links_the_areas(site):
    index = (site / "index.html").read_text("utf-8")
    for code, name in AREAS.items():
        assert f"{code}/index.html" in index or f"{code}/" in index, f"index does not link {name}"


def test_unknown_area_exits_non_zero_and_writes_nothing(tmp_path):
    out = tmp_path / "site"
    proc = subprocess.run([*MHBOOK, "build", "Oldhamm", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Oldham" in proc.stderr, f"no suggestion in: {proc.stderr}"
    assert not out.exists() or not any(out.iterdir()), f"wrote {list(out.iterdir())}"
