"""One data pack per area: every published table in one workbook, and one tidy long CSV.

    write_datapack(html, figures, area, dest_dir)
        -> <dest_dir>/mental-health-inequalities-data.xlsx
           <dest_dir>/mental-health-inequalities-data.csv

The pack is made from the very CSV files that the site's figures and tables link
(``mhbook.figures.publish`` writes them with numbers as numbers, an ``area_code`` and a
``period``), in the site's reading order, with the ``.json`` written beside each CSV
(caption, period, source dataset ids).

- The workbook's first sheet, "About", names the area, lists every sheet (chapter,
  caption, period, source datasets), defines the columns of the long CSV and lists the
  sources with their publisher, period, licence, attribution and sha256. Then one sheet
  per figure or table.
- The long CSV has one row per number, in columns close to the Fingertips download:
  ``indicator, table, area_code, area_name, area_type, period, group_type, group, value,
  lower_95, upper_95, lower_99_8, upper_99_8, count, denominator, value_note, comparison,
  comparison_benchmark, source_datasets, source_sha256``. Limits at 99.8% are given
  where the number is a proportion with its count and denominator and their Wilson
  limits at 95% reproduce the page's own 95% limits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd

from mhbook import atomic, catalogue
from mhbook.areas import Area
from mhbook.constants import ENGLAND_CODE, REFERENCE_DATASET_PREFIXES
from mhbook.export.document import page_order

log = logging.getLogger(__name__)

XLSX_NAME = "mental-health-inequalities-data.xlsx"
CSV_NAME = "mental-health-inequalities-data.csv"

LONG_COLUMNS = [
    "indicator",
    "table",
    "area_code",
    "area_name",
    "area_type",
    "period",
    "group_type",
    "group",
    "value",
    "lower_95",
    "upper_95",
    "lower_99_8",
    "upper_99_8",
    "count",
    "denominator",
    "value_note",
    "comparison",
    "comparison_benchmark",
    "source_datasets",
    "source_sha256",
]

DEFINITIONS = {
    "indicator": "What the number measures: the column of the published table or figure data it comes from.",
    "table": "The published figure or table (its CSV on the site has this name), listed on this sheet.",
    "area_code": "ONS code of the area the number is for when the table has one per row; else the area "
    "the page is about (E92000001 for England-level pages). Some numbers are for the "
    "area's NHS footprint (named under group) or for England.",
    "area_name": "Name of that area.",
    "area_type": "County & UA, England, or as named by the table.",
    "period": "The period of the number: the table's own period column, else the periods of the "
    "datasets the page read (from the catalogue).",
    "group_type": "The table columns that identify the row (e.g. organisation, group, IMD decile), joined by ' | '.",
    "group": "Their values for this row, joined by ' | '.",
    "value": "The number (percentages as 0-100, rates per the indicator's unit).",
    "lower_95, upper_95": "95% confidence limits, as computed on the page (Wilson for proportions, "
    "Byar or exact for rates, simulated for SII/RII).",
    "lower_99_8, upper_99_8": "99.8% Wilson limits, given for proportions whose count and denominator "
    "reproduce the page's 95% limits; otherwise empty.",
    "count, denominator": "The numerator and denominator of a proportion, where the table gives them "
    "(published counts are rounded to 5).",
    "value_note": "Why a value is missing (suppressed or not published); never shown as zero.",
    "comparison": "The page's comparison of this value, e.g. 'better at 99.8%', 'similar', 'worse'.",
    "comparison_benchmark": "What the value was compared with (England, the overall figure of the "
    "organisation, or 1 for ratios).",
    "source_datasets": "Catalogue ids of the datasets read to make the table, ' | '-separated; lookups and "
    "boundaries used only to place areas are listed for each sheet above, not here.",
    "source_sha256": "SHA-256 of each of those datasets' files, in the same order.",
}

# A proportion column -> (count column, denominator column), by the words that start its name.
_COUNTS = {
    "recovery": ("recovered", "at caseness"),
    "reliable improvement": ("improved", "finished"),
    "finished (% of referrals)": ("finished treatment", "referrals"),
    "share aged 65+": ("referrals aged 65+", "all referrals"),
}
_LIMIT = re.compile(
    r"(?:_lower_cl|_upper_cl|lower[ _]limit|upper[ _]limit|\((?:lower|upper)\)|^lower_cl$|^upper_cl$)", re.IGNORECASE
)
_COMPARISON = re.compile(r"(^comparison$|\bvs\b|^against |compared with|^verdict$)", re.IGNORECASE)
_CONTEXT = {"area_code", "area_name", "period", "highlighted"}


@dataclass
class Published:
    """One CSV of the site: where it is, which page links it and what ``publish`` recorded."""

    name: str
    path: Path
    chapter: str
    kind: str = "table"
    caption: str = ""
    period: str = ""
    datasets: list[str] = field(default_factory=list)
    sheet: str = ""
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    def frame(self) -> pd.DataFrame:
        """The CSV's table (read once; a copy each time)."""
        if self._frame is None:
            self._frame = pd.read_csv(self.path)
        return self._frame.copy()


_DOWNLOAD = re.compile(r"""<a\s[^>]*?class=["'][^"']*\bdownload\b[^"']*["'][^>]*?\shref=["']([^"']+\.csv)["']""")
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def published_files(
    html: Path, figures: Path | None = None, pages: list[tuple[str, str]] | None = None
) -> list[Published]:
    """Every CSV linked from the site ``html``, in reading order, with the metadata that
    ``publish`` wrote beside it in ``figures`` (the book's ``_figures`` folder), if given.
    ``pages``: the site's (page, chapter title) in reading order, when already known."""
    import html as htmllib

    if pages is None:
        pages = []
        for page in page_order(html):
            match = _H1.search((html / page).read_text("utf-8"))
            title = htmllib.unescape(_TAG.sub("", match.group(1))).strip().rstrip("#").strip() if match else page
            pages.append((page, title))
    found: dict[str, Published] = {}
    for page, title in pages:
        # The links as Sphinx writes them (a regular expression: parsing every page is slow).
        for href in _DOWNLOAD.findall((html / page).read_text("utf-8")):
            path = (html / page).parent / unquote(urlsplit(htmllib.unescape(href)).path)
            name = path.stem
            if name in found or not path.is_file():
                continue
            item = Published(name=name, path=path, chapter=title)
            meta = figures / f"{name}.json" if figures is not None else None
            if meta is not None and meta.is_file():
                data = json.loads(meta.read_text("utf-8"))
                item.kind, item.caption = data.get("kind", "table"), data.get("caption", "")
                item.period, item.datasets = data.get("period", ""), list(data.get("datasets", []))
            found[name] = item
    return list(found.values())  # a book without figures or tables gets an "About" sheet only


def _sheet_names(items: list[Published]) -> None:
    """Give each item a unique sheet name of at most 31 characters."""
    used = set()
    for i, item in enumerate(items, 1):
        base = f"{i:02d} {item.name}"[:31]
        name, n = base, 2
        while name.lower() in used:
            name = f"{base[:28]}~{n}"
            n += 1
        used.add(name.lower())
        item.sheet = name


def _is_group_column(name: str, series: pd.Series) -> bool:
    """Whether a numeric column identifies rows (an IMD decile, a year) rather than measuring."""
    lowered = name.lower()
    return (
        "decile" in lowered
        and not any(w in lowered for w in ("%", "rate", "per "))
        and series.dropna().between(1, 10).all()
    ) or lowered in {"year", "imd_decile"}


def _limit_pairs(columns: list[str]) -> list[tuple[str, str, str]]:
    """(prefix, lower column, upper column) for each pair of limit columns, in order."""
    pairs = []
    for col in columns:
        for low, up in (("_lower_cl", "_upper_cl"), ("lower limit", "upper limit"), ("(lower)", "(upper)")):
            if col.endswith(low) or col == low.strip("_"):
                partner = col[: len(col) - len(low)] + up if col.endswith(low) else up.strip("_")
                if partner in columns:
                    pairs.append((col[: len(col) - len(low)].strip(" ,_"), col, partner))
    return pairs


def _assign_limits(values: list[str], columns: list[str]) -> dict[str, tuple[str, str, bool]]:
    """Value column -> (lower, upper, at 99.8%) for the limit columns that belong to it:
    the nearest preceding value column whose name contains the limits' prefix (words
    before "95% lower limit", or before "_lower_cl")."""
    out: dict[str, tuple[str, str, bool]] = {}
    for prefix, low, up in _limit_pairs(columns):
        wide = "99.8" in low
        words = re.sub(r"\b(95|99\.8)%?", "", prefix).strip(" ,_").lower()
        before = [v for v in values if columns.index(v) < columns.index(low)]
        match = [v for v in before if words and (v.lower() == words or words in v.lower())] or (
            [before[-1]] if before and not words else []
        )
        if not match and words:
            match = [v for v in values if v.lower() == words]
        if match:
            out.setdefault(match[-1] + ("#99.8" if wide else ""), (low, up, wide))
    return out


def _comparison_for(
    value: str, comparisons: list[str], values: list[str], tested: set[str] | None = None
) -> tuple[str, str] | None:
    """The comparison column of ``value`` and what it compares with: a "<measure> vs <what>"
    column naming it, else the table's one comparison column if ``value`` is its only
    measure or the only one with limits (``tested``)."""
    stem = re.sub(r"\s*\(.*?\)", "", value).replace("_pct", "").replace("_", " ").lower().strip()
    for col in comparisons:
        lowered = col.lower()
        if " vs " in lowered and lowered.split(" vs ")[0].strip() in stem:
            return col, lowered.split(" vs ", 1)[1].strip()
    single = [c for c in comparisons if " vs " not in c.lower()]
    tested = tested or set()
    if single and (len(values) == 1 or (len(tested) == 1 and value in tested)):
        col = single[0]
        lowered = col.lower()
        benchmark = "England" if "england" in lowered else ("1" if "with 1" in lowered else "")
        return col, benchmark
    return None


def _benchmark_text(row: pd.Series, value: str, default: str, columns: list[str]) -> str:
    bench = [c for c in columns if c.startswith("benchmark_") and c.removeprefix("benchmark_") == value]
    if bench and pd.notna(row[bench[0]]):  # row: a dict of one table row
        return f"{default or 'benchmark'} value {row[bench[0]]:.4g}".strip()
    return default


def _number(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _wilson_998(count: float, denominator: float, lower: float | None, upper: float | None, value: float):
    """99.8% Wilson limits (as %) if the 95% ones reproduce the page's (to 0.06 points)."""
    from mhbook.stats.proportions import _wilson  # the checked formula, without re-validating one pair

    if not (count is not None and denominator and 0 <= count <= denominator) or lower is None or upper is None:
        return None, None
    if abs(100 * count / denominator - value) > 0.06:
        return None, None
    x, n = np.array([count], dtype=float), np.array([denominator], dtype=float)
    low95, up95 = _wilson(x, n, 0.95)
    if abs(100 * float(low95[0]) - lower) > 0.06 or abs(100 * float(up95[0]) - upper) > 0.06:
        return None, None
    low, up = _wilson(x, n, 0.998)
    return 100 * float(low[0]), 100 * float(up[0])


def _sha(ids: list[str]) -> str:
    out = []
    for i in ids:
        try:
            out.append(catalogue.get(i).sha256)
        except Exception:  # noqa: BLE001 - an id not in the catalogue has no hash to give
            out.append("")
    return " | ".join(out)


def long_rows(item: Published, frame: pd.DataFrame, area: Area) -> list[dict]:
    """The tidy long rows of one published CSV (see the module docstring)."""
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    numeric = [
        c for c in columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    groups_num = [c for c in numeric if _is_group_column(c, frame[c])]
    values = [
        c
        for c in numeric
        if c not in groups_num and not _LIMIT.search(c) and not c.startswith("benchmark_") and c not in _CONTEXT
    ]
    # A column of England's values beside the area's is the benchmark, not a measure.
    england = "England" if "England" in values and len(values) > 1 else None
    values = [c for c in values if c != england]
    measure = next((c for c in columns if c.lower() in ("indicator", "measure") and c not in numeric), None)
    comparisons = [c for c in columns if _COMPARISON.search(c) and c not in numeric]
    group_cols = [
        c
        for c in columns
        if c not in numeric
        and c not in comparisons
        and c not in _CONTEXT
        and not pd.api.types.is_bool_dtype(frame[c])
        and c not in ("bin", measure)
    ] + groups_num
    limits = _assign_limits(values, columns)
    tested = {k for k in limits if "#" not in k}
    measured = [d for d in item.datasets if not d.startswith(REFERENCE_DATASET_PREFIXES)] or item.datasets
    sources, shas = " | ".join(measured), _sha(measured)
    own_period = next((c for c in columns if c.lower() in ("period", "year", "period checked", "time period")), None)
    rows = []
    for row in frame.to_dict("records"):
        code = str(row["area_code"]) if "area_code" in columns and pd.notna(row["area_code"]) else area.code
        if "area_name" in columns and pd.notna(row.get("area_name")):
            name = str(row["area_name"])
        else:
            name = area.name if code == area.code else ("England" if code == ENGLAND_CODE else "")
        area_type = (
            "England"
            if code == ENGLAND_CODE
            else ("County & UA" if code == area.code or "area_name" in columns else "")
        )
        period = item.period
        if own_period and pd.notna(row[own_period]):
            own = row[own_period]
            period = f"{own:.0f}" if isinstance(own, float) and own.is_integer() else str(own)
        group_type = " | ".join(c for c in group_cols if c != own_period)
        group = " | ".join(
            "" if pd.isna(row[c]) else (f"{row[c]:g}" if isinstance(row[c], float) else str(row[c]))
            for c in group_cols
            if c != own_period
        )
        for v in values:
            value = _number(row[v])
            lo95 = up95 = lo998 = up998 = None
            if v in limits:
                lo95, up95 = _number(row[limits[v][0]]), _number(row[limits[v][1]])
            if v + "#99.8" in limits:
                lo998, up998 = _number(row[limits[v + "#99.8"][0]]), _number(row[limits[v + "#99.8"][1]])
            count = denominator = None
            for start, (num, den) in _COUNTS.items():
                if v.lower().startswith(start) and num in columns and den in columns:
                    count, denominator = _number(row[num]), _number(row[den])
                    break
            if lo998 is None and value is not None and count is not None and "%" in v:
                lo998, up998 = _wilson_998(count, denominator, lo95, up95, value)
            comparison = benchmark = ""
            found = _comparison_for(v, comparisons, values, tested)
            if found and pd.notna(row[found[0]]):
                comparison = str(row[found[0]])
                benchmark = _benchmark_text(row, v, found[1], columns)
            if england and pd.notna(row[england]):
                benchmark = f"England value {row[england]:.4g}"
            indicator = v
            if measure and pd.notna(row[measure]):
                indicator = str(row[measure]) if len(values) == 1 else f"{row[measure]}: {v}"
            rows.append(
                {
                    "indicator": indicator,
                    "table": item.name,
                    "area_code": code,
                    "area_name": name,
                    "area_type": area_type,
                    "period": period,
                    "group_type": group_type,
                    "group": group,
                    "value": value,
                    "lower_95": lo95,
                    "upper_95": up95,
                    "lower_99_8": lo998,
                    "upper_99_8": up998,
                    "count": count,
                    "denominator": denominator,
                    "value_note": "" if value is not None else "missing: suppressed, rounded away or not published",
                    "comparison": comparison,
                    "comparison_benchmark": benchmark,
                    "source_datasets": sources,
                    "source_sha256": shas,
                }
            )
    return rows


def long_frame(items: list[Published], area: Area) -> pd.DataFrame:
    """Every number of the pack as one tidy long table (``LONG_COLUMNS``)."""
    rows = [r for item in items for r in long_rows(item, item.frame(), area)]
    frame = pd.DataFrame(rows, columns=LONG_COLUMNS)
    for col in ("value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "count", "denominator"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def _about(items: list[Published], area: Area, built: dt.date) -> list[list]:
    """The rows of the "About" sheet."""
    rows: list[list] = [
        [f"Mental health inequalities: {area.name} ({area.code}), data pack"],
        [
            f"Made by mhbook on {built:%d %B %Y} from the area's site; every sheet is the CSV of one "
            "figure or table of the site, with numbers as numbers."
        ],
        [f"The same numbers, one row each, are in {CSV_NAME}."],
        [],
        ["Sheets"],
        ["sheet", "chapter", "figure or table", "caption", "period", "source datasets", "CSV on the site"],
    ]
    rows += [[i.sheet, i.chapter, i.kind, i.caption, i.period, " | ".join(i.datasets), f"{i.name}.csv"] for i in items]
    rows += [[], ["Columns of the long CSV"], ["column", "definition"]]
    rows += [[k, v] for k, v in DEFINITIONS.items()]
    ids = sorted({d for i in items for d in i.datasets}) or sorted(catalogue.datasets())
    rows += [[], ["Sources"], ["id", "title", "publisher", "period", "licence", "attribution", "sha256", "page"]]
    for i in ids:
        try:
            ds = catalogue.get(i)
        except Exception:  # noqa: BLE001 - listed as unknown rather than dropped
            rows.append([i, "(not in the catalogue)"])
            continue
        rows.append([ds.id, ds.title, ds.publisher, ds.period, ds.licence, ds.attribution, ds.sha256, ds.page])
    return rows


def write_xlsx(items: list[Published], area: Area, path: Path, built: dt.date | None = None) -> Path:
    """The workbook: "About" first, then one sheet per published CSV (written streaming)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    built = built or dt.date.today()
    wb = Workbook(write_only=True)
    about = wb.create_sheet("About")
    about.column_dimensions["A"].width = 34
    for col in "BCDEF":
        about.column_dimensions[col].width = 40
    bold = Font(bold=True)

    def strong(value):
        cell = WriteOnlyCell(about, value=value)
        cell.font = bold
        return cell

    for row in _about(items, area, built):
        about.append([strong(row[0])] if len(row) == 1 else row)
    for item in items:
        ws = wb.create_sheet(item.sheet)
        ws.freeze_panes = "A2"
        frame = item.frame()
        ws.append([WriteOnlyCell(ws, value=str(c)) for c in frame.columns])
        for values in frame.itertuples(index=False):
            ws.append(
                [
                    None if (isinstance(v, float) and math.isnan(v)) else (v.item() if isinstance(v, np.generic) else v)
                    for v in values
                ]
            )
    atomic.write_file(path, lambda tmp: wb.save(tmp))
    return path


def write_datapack(
    html: Path,
    figures: Path | None,
    area: Area,
    dest: Path,
    built: dt.date | None = None,
    pages: list[tuple[str, str]] | None = None,
) -> tuple[Path, Path]:
    """Write the area's workbook and long CSV into ``dest`` (the site's ``downloads``);
    ``pages`` as for ``published_files``."""
    items = published_files(html, figures, pages)
    _sheet_names(items)
    xlsx = write_xlsx(items, area, Path(dest) / XLSX_NAME, built)
    frame = long_frame(items, area)
    csv = Path(dest) / CSV_NAME
    atomic.write_file(csv, lambda tmp: frame.to_csv(tmp, index=False))
    log.info("wrote %s and %s (%d sheets, %d rows)", xlsx, csv, len(items), len(frame))
    return xlsx, csv
