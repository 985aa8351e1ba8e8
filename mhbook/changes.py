"""The national site's "What changed" page: ``<out>/changes.html`` (and ``changes.json``).

After each build that re-ran anything it lists:

* the datasets whose pinned sha256 changed since the previous build into this output
  folder, each with the old and new hash and its periods (from the last
  ``mhbook data refresh`` record when it describes this very change, else the
  catalogue's ``period``);
* the pages (chapters) executed again and in how many areas, with the build's reasons
  (new, datasets changed, code changed ...), and the areas whose outputs re-ran.

The hashes every build saw are kept in ``<out>/.mhbook-build/dataset-hashes.json``, so
"old" is what the previous build used. A build that re-ran nothing leaves the page as
it was (it describes the last build that changed something). Writes are atomic.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from mhbook import atomic, catalogue, refresh
from mhbook.build.reasons import Reason
from mhbook.build.store import STATE_DIR

PAGE = "changes.html"
RECORD = "changes.json"
_SEEN = "dataset-hashes.json"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def summarise(out: Path, reasons: dict[tuple[str, str], Reason], rendered: list[str]) -> dict:
    """What this build changed: datasets (old/new hash, periods), pages and areas re-run."""
    from mhbook import areas

    out = Path(out)
    current = {i: d.sha256 for i, d in catalogue.datasets().items()}
    seen = _read_json(out / STATE_DIR / _SEEN)
    refreshed = refresh.last_changes()
    datasets = []
    for dataset_id in sorted(i for i, sha in current.items() if seen.get(i) not in (None, sha)):
        ds = catalogue.get(dataset_id)
        note = refreshed.get(dataset_id, {})
        described = note.get("new_sha256") == ds.sha256
        datasets.append(
            {
                "id": dataset_id,
                "title": ds.title,
                "old_sha256": seen[dataset_id],
                "new_sha256": ds.sha256,
                "periods": (note.get("new_periods") if described else None) or [ds.period],
                "old_periods": note.get("old_periods") if described else None,
                "summary": note.get("summary", []) if described else [],
            }
        )
    pages: dict[str, dict] = {}
    for (_area, notebook), why in sorted(reasons.items()):
        page = pages.setdefault(notebook, {"areas": 0, "reasons": {}})
        page["areas"] += 1
        kind = why.why.value
        page["reasons"][kind] = page["reasons"].get(kind, 0) + 1
    names = {a.code: a.name for a in areas.all_areas()}
    rerun = sorted({area for area, _ in reasons} | set(rendered))
    return {
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "datasets": datasets,
        "pages": pages,
        "areas": [{"code": c, "name": names.get(c, "England-level pages" if c == "E92000001" else c)} for c in rerun],
        "hashes": current,
    }


def write_page(out: Path, reasons: dict[tuple[str, str], Reason], rendered: list[str]) -> Path | None:
    """Write ``changes.html`` and ``changes.json`` when this build re-ran anything; remember the hashes seen."""
    out = Path(out)
    summary = summarise(out, reasons, rendered)
    page = None
    if summary["datasets"] or summary["pages"] or summary["areas"]:
        record = {k: v for k, v in summary.items() if k != "hashes"}
        atomic.write_json(out / RECORD, record, indent=1)
        page = out / PAGE
        atomic.write_text(page, render(record))
    atomic.write_json(out / STATE_DIR / _SEEN, summary["hashes"], indent=1, sort_keys=True)
    return page


def render(record: dict) -> str:
    """The page's HTML for a ``changes.json`` record."""
    e = html.escape
    rows = []
    for d in record["datasets"]:
        periods = ", ".join(d["periods"])
        before = f" (before: {', '.join(d['old_periods'])})" if d.get("old_periods") else ""
        detail = "".join(f"<li>{e(line)}</li>" for line in d.get("summary", []))
        rows.append(
            f'<tr><th scope="row"><code>{e(d["id"])}</code><br><span class="meta">{e(d["title"])}</span>'
            f"</th><td><code>{e(d['old_sha256'][:16])}</code></td><td><code>{e(d['new_sha256'][:16])}</code>"
            f"</td><td>{e(periods)}{e(before)}{f'<ul>{detail}</ul>' if detail else ''}</td></tr>"
        )
    datasets = (
        (
            "<table><caption>Datasets whose pinned version changed since the previous build (sha256, first "
            '16 characters)</caption><thead><tr><th scope="col">dataset</th><th scope="col">old sha256</th>'
            '<th scope="col">new sha256</th><th scope="col">periods</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table>"
        )
        if rows
        else "<p>No dataset changed.</p>"
    )
    pages = "".join(
        f"<li><strong>{e(nb)}</strong>: {p['areas']} area(s) ("
        + e(", ".join(f"{n} {why}" for why, n in sorted(p["reasons"].items())))
        + ")</li>"
        for nb, p in sorted(record["pages"].items())
    )
    area_items = "".join(
        f'<li><a href="{e(a["code"])}/index.html">{e(a["name"])}</a> <span class="meta">({e(a["code"])})</span></li>'
        if a["code"] != "E92000001"
        else f"<li>{e(a['name'])}</li>"
        for a in record["areas"]
    )
    return _TEMPLATE.format(
        built=e(record["built"]),
        datasets=datasets,
        pages=f"<ul>{pages}</ul>" if pages else "<p>No page was executed again.</p>",
        n_areas=len(record["areas"]),
        areas=f'<ul class="cols">{area_items}</ul>' if area_items else "<p>None.</p>",
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>What changed in the last build: mhbook</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 64rem; margin: 0 auto; padding: 1rem; line-height: 1.5; color: #1a1a1a; }}
    a {{ color: #0b4f8a; }}
    table {{ border-collapse: collapse; width: 100%; }}
    caption {{ text-align: left; font-weight: 600; padding: 0.3rem 0; }}
    th, td {{ border: 1px solid #6c757d; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }}
    .meta {{ color: #4a4a4a; font-weight: normal; }}
    .cols {{ columns: 3 14rem; }}
  </style>
</head>
<body>
  <main>
    <p><a href="index.html">All areas</a></p>
    <h1>What changed in the last build</h1>
    <p>Build finished at {built} (UTC). Only the pages that read a changed dataset, or whose
    notebook or code changed, were executed again; every other page was reused.</p>
    <h2>Datasets</h2>
    {datasets}
    <h2>Pages executed again</h2>
    {pages}
    <h2>Areas re-run ({n_areas})</h2>
    {areas}
  </main>
</body>
</html>
"""
