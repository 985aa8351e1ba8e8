"""A SYNTHETIC data mirror, written by the tests, so most of the suite runs without the real one.

``write_mirror(folder)`` writes small files in the real formats of a few catalogued
datasets (made-up areas and numbers, see each module) under ``folder/data`` and a
catalogue for them, ``folder/catalogue.yaml``, whose sha256 values are computed from
the files just written. Every entry's title, publisher and licence say SYNTHETIC, and
every file name carries ``SYNTHETIC``. ``using(folder)`` points mhbook at it (through
``MHBOOK_CATALOGUE``, ``MHBOOK_MIRROR`` and a cache of its own) and forgets every table
held in memory on the way in and out, so tests against the real mirror in the same
session never see synthetic tables, nor the other way round.

The dataset ids are the real ones (the parsers look them up by id), so a parser reads
a synthetic file exactly as it reads the published one.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path

import openpyxl
import yaml

from mhbook import catalogue

from . import boundaries, comparators, fingertips, geography, mha, population

#: dataset id -> (file under the mirror, writer: a CSV's text, or given the path, the file itself)
FILES: dict[str, tuple[str, Callable]] = {
    "lkp-la-all-codes": ("geo/drkane_la_all_codes_SYNTHETIC.csv", geography.la_all_codes),
    "lkp-lad23-utla23": ("geo/lookup_ltla23_utla23_SYNTHETIC.csv", geography.lad23_utla23),
    "lkp-lad19-utla19": ("geo/lookup_ltla19_utla19_SYNTHETIC.csv", geography.lad19_utla19),
    "lkp-region-all-codes": ("geo/drkane_rgn_all_codes_SYNTHETIC.csv", geography.region_all_codes),
    "bnd-ctyua-2023": ("geo/ctyua_2023_SYNTHETIC.geo.json", boundaries.ctyua_2023),
    "dfe-stat-neighbours-2021": ("comparators/dfe_sn_2021_SYNTHETIC.xlsx", comparators.write_2021),
    "dfe-stat-neighbours-2025": ("comparators/dfe_sn_2025_SYNTHETIC.xlsx", comparators.write_2025),
    "mha-2023-24": ("mha/mha_annual_2023_24_SYNTHETIC.xlsx", mha.write),
    "ft-suicide-north-east": ("fingertips/suicide_north_east_SYNTHETIC.csv", fingertips.suicide_export),
    "ft-self-harm-emergency": ("fingertips/self_harm_emergency_SYNTHETIC.csv", fingertips.self_harm_trafford),
    "ft-cmd-prevalence-16plus": ("fingertips/cmd_prevalence_SYNTHETIC.csv", fingertips.cmd_prevalence),
    "pop-mye-mid2019": ("population/mye2_mid2019_SYNTHETIC.xlsx", population.write_mye2),
    "pop-mye-mid2020": ("population/mye2_mid2020_SYNTHETIC.xlsx", population.write_mye2),
    "pop-lsoa11-mid2020": ("population/lsoa11_mid2020_SYNTHETIC.csv.gz", population.write_lsoa),
}

_SAYS = "SYNTHETIC test data written by tests/synthetic; not a publication"


def _entry(dataset_id: str, file: str, path: Path, writer: Callable, real: catalogue.Dataset) -> dict:
    entry = {
        "id": dataset_id,
        "file": file,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "title": f"SYNTHETIC stand-in for {dataset_id}",
        "publisher": _SAYS,
        "page": "https://example.invalid/",
        "url": None,
        "url_note": "synthetic: made by the tests, never downloaded",
        "licence": _SAYS,
        "attribution": _SAYS,
        "period": f"SYNTHETIC, laid out as {real.period}",
        "geography": "synthetic areas",
        "citation": _SAYS,
        "caveats": f"Made-up values, described in tests/{writer.__module__.replace('.', '/')}.py",
    }
    entry |= _shape(path)
    return entry


def _shape(path: Path) -> dict:
    """What the catalogue says of a file's shape: a table's columns and rows, a workbook's sheets."""
    if path.name.endswith((".csv", ".csv.gz")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        return {"columns": header, "rows": len(rows)}
    if path.suffix == ".xlsx":
        return {"sheets": openpyxl.load_workbook(path, read_only=True).sheetnames[:1], "rows": None}
    if path.name.endswith(".geo.json"):
        features = json.loads(path.read_text("utf-8"))["features"]
        return {"columns": list(features[0]["properties"]), "rows": len(features)}
    raise ValueError(f"no shape rule for {path.name}")


def write_mirror(folder: Path) -> Path:
    """Write the synthetic files and their catalogue under ``folder``; returns ``folder``."""
    data = folder / "data"
    entries = []
    packaged = catalogue.load(files("mhbook").joinpath("catalogue.yaml"))
    for dataset_id, (file, writer) in FILES.items():
        path = data / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".csv", ".json"):
            path.write_text(writer(), "utf-8")
        else:
            writer(path)
        entries.append(_entry(dataset_id, file, path, writer, packaged[dataset_id]))
    (data / "README.md").write_text(f"{_SAYS}.\n", "utf-8")
    text = f"# {_SAYS}.\n" + yaml.safe_dump({"datasets": entries}, sort_keys=False, allow_unicode=True)
    (folder / "catalogue.yaml").write_text(text, "utf-8")
    return folder


def forget_loaded_tables() -> None:
    """Clear every memoised function of the mhbook package loaded in this process (tidy
    tables, the area registry, measures' caches, the catalogue)."""
    from mhbook import reads

    reads.forget()  # every @reads.cached result (the area registry, measures)
    for name, module in list(sys.modules.items()):
        if not (name == "mhbook" or name.startswith("mhbook.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper) or (
                callable(value) and hasattr(value, "dataset_ids") and hasattr(value, "cache_clear")
            ):
                value.cache_clear()  # catalogue._datasets_in among them


@contextlib.contextmanager
def using(folder: Path) -> Iterator[Path]:
    """Point mhbook at the synthetic mirror written in ``folder`` while the block runs."""
    names = ("MHBOOK_CATALOGUE", "MHBOOK_MIRROR", "MHBOOK_CACHE", "MHBOOK_DOWNLOAD_BASE")
    before = {n: os.environ.get(n) for n in names}
    os.environ.update(
        MHBOOK_CATALOGUE=str(folder / "catalogue.yaml"),
        MHBOOK_MIRROR=str(folder / "data"),
        MHBOOK_CACHE=str(folder / "cache"),
    )
    os.environ.pop("MHBOOK_DOWNLOAD_BASE", None)
    forget_loaded_tables()
    try:
        yield folder
    finally:
        for n, v in before.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v
        forget_loaded_tables()
