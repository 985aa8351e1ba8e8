"""A new year of data reaches the book with no code change (issue 16, item 1).

The test makes a SYNTHETIC mirror: the real mirror's files, except that
* NHS Talking Therapies (``iapt-annual``) gains a year "2025-26", a copy of the
  2024-25 rows relabelled (dates moved on a year), and
* a Mental Health Act file ``mha-2024-25`` is added: the 2023-24 sheet with its
  ``Year`` relabelled "2024/25".
These are not real figures. The mirror is served over HTTP on 127.0.0.1 as the
publishers' stand-in (``MHBOOK_DOWNLOAD_BASE``). A test-side catalogue
(``MHBOOK_CATALOGUE``) adds the new MHA year's entry (a new year of MHA is a new
catalogue entry); the NHS Talking Therapies pin is left as it is, so
``mhbook data refresh`` must find and re-pin the changed file. Then
``mhbook build`` of one area's summary page must show 2025-26 and 2024-25 as the latest
years, with no change to mhbook's code or notebooks.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from mhbook import catalogue, fetch

ROOT = Path(__file__).parents[1]
AREA = "E08000004"
NEW_IAPT, NEW_MHA = "2025-26", "2024-25"
SYNTHETIC = "SYNTHETIC (a test's relabelled copy, not real figures): "

pytestmark = [pytest.mark.mirror, pytest.mark.slow]


def _link_mirror(real: Path, fake: Path, replaced: set[str]) -> None:
    """``fake`` mirrors ``real`` file by file (symbolic links), leaving out ``replaced``."""
    for path in real.rglob("*"):
        rel = path.relative_to(real).as_posix()
        if path.is_file() and rel not in replaced:
            target = fake / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)


def _next_year(d):
    return d + pd.DateOffset(years=1) if pd.notna(d) else d


def make_synthetic_mirror(tmp: Path) -> tuple[Path, Path]:
    """A synthetic mirror and a catalogue pinning it; returns (mirror, catalogue file)."""
    real = Path(os.environ["MHBOOK_MIRROR"])
    iapt_ds, mha_ds = catalogue.get("iapt-annual"), catalogue.get("mha-2023-24")
    mirror = tmp / "mirror"
    _link_mirror(real, mirror, {iapt_ds.file})

    table = pq.read_table(fetch.fetch(iapt_ds))
    df = table.to_pandas()
    latest = df[df["reporting_period"] == "2024-25"].copy()
    assert len(latest), "the real file has no 2024-25 rows to copy"
    latest["reporting_period"] = NEW_IAPT
    for col in ("start_date", "end_date"):
        latest[col] = latest[col].map(lambda d: d.replace(year=d.year + 1) if isinstance(d, dt.date) else d)
    out = pa.Table.from_pandas(pd.concat([df, latest], ignore_index=True), schema=table.schema, preserve_index=False)
    (mirror / iapt_ds.file).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(out, mirror / iapt_ds.file)

    mha_file = "mha/synthetic_mha_annual_2024_25.xlsx"
    sheet = "mha_annual_suppressed_2024_25"
    raw = pd.read_excel(
        fetch.fetch(mha_ds), sheet_name=mha_ds.sheets[0], dtype={"OrgID": str, "measureSubcategory": str}
    )
    assert set(raw["Year"]) == {"2023/24"}
    raw["Year"] = "2024/25"
    raw.to_excel(mirror / mha_file, sheet_name=sheet, index=False)

    entries = yaml.safe_load(Path(catalogue.source()).read_text("utf-8"))["datasets"]
    mha_entry = next(e for e in entries if e["id"] == "mha-2023-24") | {
        "id": f"mha-{NEW_MHA}",
        "file": mha_file,
        "sha256": fetch.sha256_of(mirror / mha_file),
        "title": SYNTHETIC + f"Mental Health Act Statistics, Annual Figures {NEW_MHA}",
        "url": None,
        "url_note": "made by tests/test_new_year.py",
        "period": f"financial year {NEW_MHA}",
        "sheets": [sheet],
    }
    entries.append(mha_entry)
    cat = tmp / "catalogue.yaml"
    cat.write_text(
        "# SYNTHETIC catalogue made by tests/test_new_year.py\n"
        + yaml.safe_dump({"datasets": entries}, sort_keys=False, allow_unicode=True),
        "utf-8",
    )
    return mirror, cat


def _text(html: Path) -> str:
    from bs4 import BeautifulSoup

    main = BeautifulSoup(html.read_text("utf-8"), "html.parser").find("main") or ""
    return re.sub(r"\s+", " ", main.get_text(" ") if main else "")


def _serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` on 127.0.0.1 (a free port), quietly, in a thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_a_new_year_reaches_the_book_with_refresh_and_build_alone(tmp_path):
    mirror, cat = make_synthetic_mirror(tmp_path)
    httpd = _serve(mirror)
    cache = tmp_path / "cache"
    tables = fetch.cache_dir() / "tables"
    if tables.is_dir():  # parsed tables are keyed by dataset hashes: the unchanged ones stay valid
        shutil.copytree(tables, cache / "tables")
    old = cache / "data" / catalogue.get("iapt-annual").file  # the pinned version, cached as after earlier builds
    old.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fetch.fetch("iapt-annual"), old)
    env = {k: v for k, v in os.environ.items() if k not in ("MHBOOK_HOME",)}
    env |= {
        "MHBOOK_MIRROR": str(mirror),
        "MHBOOK_CATALOGUE": str(cat),
        "MHBOOK_CACHE": str(cache),
        "MHBOOK_HOME": str(tmp_path / "home"),
        "MHBOOK_PROJECT": str(ROOT),
        "MHBOOK_DOWNLOAD_BASE": f"http://127.0.0.1:{httpd.server_port}",
    }
    try:
        refreshed = subprocess.run(
            [sys.executable, "-m", "mhbook", "data", "refresh"], env=env, capture_output=True, text=True, timeout=1200
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    print(refreshed.stdout)
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert "changed: iapt-annual" in refreshed.stdout
    assert f"(new: {NEW_IAPT})" in refreshed.stdout
    assert "1 dataset(s) changed" in refreshed.stdout
    periods = subprocess.run(
        [sys.executable, "-c", "from mhbook import periods; print(periods.latest('iapt'), periods.latest('mha'))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert periods.stdout.split() == [NEW_IAPT, NEW_MHA], periods.stderr
    out = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mhbook", "build", AREA, "--only", "summary", "--out", str(out), "--jobs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = _text(out / AREA / "summary.html")
    print("summary page, first lines:", page[:1500])
    for m in re.finditer(r"[^.]{0,160}(2025-26|2024-25|2023-24)[^.]{0,80}", page):
        print("summary page, a sentence naming a year:", m.group(0).strip())
    # Access and outcomes are stated for the new NHS Talking Therapies year ...
    assert re.search(rf"Referrals per 100,000 aged 16\+ in [^.]*, {NEW_IAPT}: ", page), "no access sentence for 2025-26"
    assert re.search(rf"Recovery \(% of those finished at caseness\) in [^.]*, {NEW_IAPT}: ", page)
    assert f"2017-18 to {NEW_IAPT}" in page  # the area's own series runs to the new year
    # ... and detentions for the new Mental Health Act year, the old one no longer shown as latest.
    assert re.search(rf"[Dd]etentions[^.]*, {NEW_MHA}: ", page), "no detention sentence for 2024-25"
    assert not re.search(r"[Dd]etentions[^.]*, 2023-24: ", page)
