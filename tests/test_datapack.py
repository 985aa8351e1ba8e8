"""The data pack and the CSVs behind figures and tables: numbers as numbers, with area
and period, gathered into one workbook and one tidy long CSV that agree with the pages.

The unit tests use SYNTHETIC tables and a SYNTHETIC two-page site written by the tests;
the last tests read a real area's built site (``tests/browser/site.py``, needs the mirror).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mhbook.areas import Area
from mhbook.export import datapack
from mhbook.figures.publish import _limit_names, numeric_frame, publish_table

SYNTHETIC_AREA = Area("E06999999", "Synthetica", "E12999999", "Nowhere", (), ())


def test_numbers_shown_as_text_become_numeric_columns():
    shown = pd.DataFrame(
        {  # SYNTHETIC
            "group": ["A", "B", "C"],
            "referrals": ["4,601", "12", "suppressed"],
            "recovery 95% limits": ["4,601 to 4,670", "1.2 to 3.4", "–"],
            "p for trend": ["<0.001", "0.2", "0.3"],
        }
    )
    out = numeric_frame(shown)
    assert list(out.columns) == [
        "group",
        "referrals",
        "recovery 95% lower limit",
        "recovery 95% upper limit",
        "p for trend",
    ]
    assert out["referrals"].tolist()[:2] == [4601, 12] and pd.isna(out["referrals"].iloc[2])
    assert out["recovery 95% lower limit"].tolist()[:2] == [4601, 1.2]
    assert out["recovery 95% upper limit"].tolist()[:2] == [4670, 3.4]
    assert out["p for trend"].tolist() == ["<0.001", "0.2", "0.3"]  # mixed text stays text


def test_published_table_csv_has_numbers_area_and_period(tmp_path):
    df = pd.DataFrame(
        {
            "group": ["A", "B"],
            "recovery (%)": [50.0, np.nan],  # SYNTHETIC
            "recovery 95% limits": ["48.1 to 51.9", None],
        }
    )
    publish_table(
        df,
        "synthetic-table",
        "A synthetic table",
        outdir=tmp_path,
        area_code="E06999999",
        period="2024-25",
        datasets=["iapt-annual"],
    )
    csv = pd.read_csv(tmp_path / "synthetic-table.csv")
    assert list(csv.columns[:2]) == ["area_code", "period"]
    assert set(csv["area_code"]) == {"E06999999"} and set(csv["period"]) == {"2024-25"}
    assert csv["recovery 95% lower limit"].dtype.kind == "f" and csv["recovery 95% lower limit"].iloc[0] == 48.1
    meta = json.loads((tmp_path / "synthetic-table.json").read_text())
    assert meta["kind"] == "table" and meta["datasets"] == ["iapt-annual"] and meta["caption"] == "A synthetic table"


def _synthetic_site(tmp_path: Path) -> tuple[Path, Path]:
    """A SYNTHETIC built site: an index redirecting to page one, which links one table CSV."""
    html, figures = tmp_path / "html", tmp_path / "_figures"
    (html / "_downloads" / "abc").mkdir(parents=True)
    figures.mkdir()
    df = pd.DataFrame(
        {
            "organisation": ["Synthetic ICB", "Synthetic ICB"],
            "group": ["A", "B"],
            "at caseness": [1000, 200],
            "recovered": [500, 50],
            "recovery (%)": [50.0, 25.0],
            "recovery 95% limits": ["46.9 to 53.1", "19.5 to 31.4"],
            "recovery vs overall": ["similar", "worse at 99.8%"],
        }
    )
    publish_table(
        df,
        "synthetic-recovery",
        "Recovery by group (synthetic)",
        outdir=figures,
        area_code=SYNTHETIC_AREA.code,
        period="2024-25",
        datasets=["iapt-annual"],
    )
    (html / "_downloads" / "abc" / "synthetic-recovery.csv").write_bytes(
        (figures / "synthetic-recovery.csv").read_bytes()
    )
    (html / "index.html").write_text('<html><head><meta http-equiv="refresh" content="0; url=one.html"></head></html>')
    (html / "one.html").write_text(
        "<html><head><title>Synthetic</title></head><body><nav class='bd-docs-nav'></nav>"
        "<article class='bd-article'><h1>Synthetic chapter</h1>"
        "<a class='reference download internal' href='_downloads/abc/synthetic-recovery.csv'>CSV</a>"
        "</article></body></html>"
    )
    return html, figures


def test_pack_from_a_synthetic_site(tmp_path):
    from openpyxl import load_workbook

    html, figures = _synthetic_site(tmp_path)
    xlsx, csv = datapack.write_datapack(html, figures, SYNTHETIC_AREA, tmp_path / "downloads")
    wb = load_workbook(xlsx)
    assert wb.sheetnames[0] == "About" and len(wb.sheetnames) == 2
    about = [[c for c in row if c is not None] for row in wb["About"].iter_rows(values_only=True)]
    flat = " ".join(str(c) for row in about for c in row)
    assert "Synthetica" in flat and "Sources" in flat and "iapt-annual" in flat and "Open Government" in flat
    sheet = wb[wb.sheetnames[1]]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["area_code", "period"] and "recovery 95% lower limit" in header
    assert isinstance(sheet.cell(2, header.index("recovery (%)") + 1).value, (int, float))

    long = pd.read_csv(csv)
    assert list(long.columns) == datapack.LONG_COLUMNS
    for col in ("value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "count", "denominator"):
        assert long[col].dtype.kind == "f", col
    rec = long[long["indicator"] == "recovery (%)"].set_index("group")
    assert rec.loc["Synthetic ICB | A", "value"] == 50.0
    assert rec.loc["Synthetic ICB | A", ["lower_95", "upper_95"]].tolist() == [46.9, 53.1]
    assert rec.loc["Synthetic ICB | A", ["count", "denominator"]].tolist() == [500, 1000]
    # 99.8% limits are wider than the 95% ones
    assert rec.loc["Synthetic ICB | A", "lower_99_8"] < 46.9 and rec.loc["Synthetic ICB | A", "upper_99_8"] > 53.1
    assert rec.loc["Synthetic ICB | B", "comparison"] == "worse at 99.8%"
    assert rec.loc["Synthetic ICB | B", "comparison_benchmark"] == "overall"
    assert set(long["area_code"]) == {SYNTHETIC_AREA.code} and set(long["period"]) == {"2024-25"}
    assert set(long["source_datasets"]) == {"iapt-annual"} and long["source_sha256"].str.len().min() == 64


# ----------------------------------------------------------- a real area (mirror)
_NUM = re.compile(r"^[-\u2212]?[\d,]*\.?\d+%?$")


def _decimals(text: str) -> int:
    return len(text.split(".")[1].rstrip("%")) if "." in text else 0


def _close(shown: str, value: float) -> bool:
    number = float(shown.replace(",", "").replace("%", "").replace("\u2212", "-"))
    return abs(number - value) <= 0.5 * 10 ** -_decimals(shown) + 1e-9


@pytest.fixture(scope="module")
def real_pack(tmp_path_factory):
    from browser.site import AREA, built_site
    from mhbook.site import DATA_DOWNLOADS

    site = built_site(tmp_path_factory) / AREA
    return site, site / DATA_DOWNLOADS["xlsx"], site / DATA_DOWNLOADS["csv"]


@pytest.mark.mirror
@pytest.mark.slow
def test_real_pack_is_numeric_and_linked(real_pack):
    site, xlsx, csv = real_pack
    long = pd.read_csv(csv)
    assert list(long.columns) == datapack.LONG_COLUMNS and len(long) > 1000
    for col in ("value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "count", "denominator"):
        assert long[col].dtype.kind == "f", col
    assert long["value"].notna().mean() > 0.8
    wide = long[long["lower_99_8"].notna() & long["lower_95"].notna()]
    # The pack recomputes 99.8% limits only where plain Wilson limits from the row's count
    # and denominator reproduce the page's 95% ones; below England level the page's limits
    # also carry NHS England's rounding of counts, so those rows keep their 95% limits only
    # and mostly England's rows (exact counts) get 99.8% limits here.
    assert len(wide) > 50, "99.8% limits where count and denominator give them"
    assert (wide["lower_99_8"] <= wide["lower_95"] + 0.06).all() and (
        wide["upper_99_8"] >= wide["upper_95"] - 0.06
    ).all()
    assert long["source_sha256"].str.len().min() >= 64
    summary = (site / "summary.html").read_text("utf-8")
    assert "mental-health-inequalities-data.xlsx" in summary and "mental-health-inequalities-data.csv" in summary


@pytest.mark.mirror
@pytest.mark.slow
def test_real_pack_agrees_with_the_page_tables(real_pack):
    """Every number shown in every page table is the workbook's number, to the shown decimals."""
    from bs4 import BeautifulSoup
    from openpyxl import load_workbook

    site, xlsx, _ = real_pack
    wb = load_workbook(xlsx, read_only=True)
    sheets = {name.split(" ", 1)[1][:28]: wb[name] for name in wb.sheetnames[1:]}
    checked = 0
    for page in site.glob("*.html"):
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        for table in soup.select("article table[id^=tbl-]"):
            name = table["id"].removeprefix("tbl-")
            sheet = sheets.get(name[:28])
            assert sheet is not None, f"{page.name}: table {name} is not in the data pack"
            rows = list(sheet.iter_rows(values_only=True))
            header, data = list(rows[0]), rows[1:]
            shown_head = [th.get_text(" ", strip=True) for th in table.select("thead th")]
            shown_rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]
            assert len(shown_rows) == len(data), f"{name}: rows differ"
            for shown, row in zip(shown_rows, data):
                for col, text in zip(shown_head, shown):
                    m = re.match(r"^(\S+) to (\S+)$", text)
                    if col in header:
                        at = header.index(col)
                        value = row[at] if at < len(row) else None  # read-only rows drop trailing blanks
                        if isinstance(value, (int, float)) and not isinstance(value, bool) and _NUM.match(text):
                            assert _close(text, value), (name, col, text, value)
                            checked += 1
                    elif m and _NUM.match(m.group(1)) and _NUM.match(m.group(2)):
                        lo, up = (header.index(name) for name in _limit_names(col))
                        assert up < len(row), (name, col, text)
                        assert _close(m.group(1), row[lo]) and _close(m.group(2), row[up]), (name, col, text)
                        checked += 2
    assert checked > 200
