"""The catalogue: every entry complete, and its hashes, columns and rows true of the real files."""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pyogrio
import pytest
import xlrd

import synthetic
from mhbook import catalogue
from mhbook.catalogue import Dataset
from mhbook.errors import MhbookError, UnknownDatasetError
from mhbook.fetch import fetch

ALL = catalogue.datasets()
TEXT_FIELDS = ("title", "publisher", "page", "licence", "attribution", "citation", "period", "geography", "caveats")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def test_catalogue_has_every_mirrored_file_once():
    assert len(ALL) == 83  # 79 + the four LSOA -> CCG lookups (April 2017-2020)
    files = [ds.file for ds in ALL.values()]
    assert len(set(files)) == len(files)


@pytest.mark.parametrize("ds", ALL.values(), ids=list(ALL))
def test_entry_is_complete(ds: Dataset):
    assert not ds.extra, f"{ds.id}: unknown fields {sorted(ds.extra)}"
    for name in TEXT_FIELDS:
        assert getattr(ds, name).strip(), f"{ds.id}: {name} is empty"
    every = [s for name in ds.__dataclass_fields__ for s in _strings(getattr(ds, name))]
    assert not [s for s in every if "TODO" in s], f"{ds.id}: a field still says TODO"
    assert re.fullmatch(r"[0-9a-f]{64}", ds.sha256)
    assert ds.page.startswith("https://")
    if ds.url is None:
        assert ds.url_note, f"{ds.id}: url is null, so url_note must say why"
    else:
        assert ds.url.startswith("https://")
    if ds.sheets:  # workbooks: sheets named, no single table shape
        assert ds.filename.endswith((".xlsx", ".xls")) and ds.rows is None and not ds.columns
    elif not ds.header:
        assert not ds.columns and ds.rows > 0
    else:
        assert ds.columns and ds.rows > 0, f"{ds.id}: columns and rows are expected for a table"


def test_raw_github_urls_pin_a_full_commit():
    pattern = re.compile(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/\S+")
    for ds in ALL.values():
        if ds.url and "githubusercontent" in ds.url:
            assert pattern.fullmatch(ds.url), ds.id


def test_unknown_id_suggests_close_ids():
    with pytest.raises(UnknownDatasetError, match="iapt-annual"):
        catalogue.get("iapt-anual")


SYNTHETIC_ENTRY = """\
datasets:
- id: synthetic-a
  file: synthetic/a.csv
  sha256: {sha}
  title: synthetic test entry
  publisher: nobody
  page: https://example.invalid/
  url: null
  url_note: synthetic
  licence: none
  attribution: none
  period: none
  geography: none
"""


def test_load_reads_a_test_catalogue(tmp_path):
    path = tmp_path / "catalogue.yaml"
    path.write_text(SYNTHETIC_ENTRY.format(sha="0" * 64) + "  extra_field: kept\n")
    entries = catalogue.load(path)
    assert list(entries) == ["synthetic-a"]
    assert entries["synthetic-a"].extra == {"extra_field": "kept"}
    assert entries["synthetic-a"].header is True and entries["synthetic-a"].columns == ()


def test_load_names_a_missing_field(tmp_path):
    path = tmp_path / "catalogue.yaml"
    path.write_text(SYNTHETIC_ENTRY.format(sha="0" * 64).replace("  licence: none\n", ""))
    with pytest.raises(MhbookError, match=r"synthetic-a.*licence"):
        catalogue.load(path)


def test_load_rejects_a_duplicate_id(tmp_path):
    path = tmp_path / "catalogue.yaml"
    entry = SYNTHETIC_ENTRY.format(sha="0" * 64)
    path.write_text(entry + entry.split("\n", 1)[1])
    with pytest.raises(MhbookError, match="appears twice"):
        catalogue.load(path)


# --- against the real mirror ------------------------------------------------------------


@pytest.mark.mirror
def test_sha256_agrees_with_the_mirror_sha256sums(mirror: Path):
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    assert sorted(sums) == sorted(ds.file for ds in ALL.values())
    wrong = {ds.id: (ds.sha256, sums[ds.file]) for ds in ALL.values() if sums[ds.file] != ds.sha256}
    assert not wrong


@pytest.mark.mirror
@pytest.mark.parametrize("ds", ALL.values(), ids=list(ALL))
def test_file_is_in_the_mirror(mirror: Path, ds: Dataset):
    assert (mirror / ds.file).is_file()


def _csv_shape(path: Path, header: bool) -> tuple[list[str], int]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        records = [r for r in csv.reader(fh) if r]  # csv.reader honours quoted newlines
    return (records[0], len(records) - 1) if header else ([], len(records))


def _shape(ds: Dataset, path: Path) -> tuple[list[str], int]:
    name = ds.filename
    if name.endswith((".csv", ".csv.gz")):
        return _csv_shape(path, ds.header)
    if name.endswith(".parquet"):
        pf = pq.ParquetFile(path)
        return pf.schema_arrow.names, pf.metadata.num_rows
    if name.endswith((".geo.json", ".gpkg", ".gpkg.zip")):
        info = pyogrio.read_info(f"/vsizip/{path}" if name.endswith(".zip") else path)
        return list(info["fields"]), info["features"]
    raise AssertionError(f"{ds.id}: no reader for {name}")


TABLES = [ds for ds in ALL.values() if not ds.sheets]
WORKBOOKS = [ds for ds in ALL.values() if ds.sheets]


@pytest.mark.mirror
@pytest.mark.parametrize("ds", TABLES, ids=[ds.id for ds in TABLES])
def test_columns_and_rows_match_the_file(ds: Dataset):
    columns, rows = _shape(ds, fetch(ds.id))
    assert columns == list(ds.columns)
    assert rows == ds.rows


@pytest.mark.mirror
@pytest.mark.parametrize("ds", WORKBOOKS, ids=[ds.id for ds in WORKBOOKS])
def test_workbook_has_the_catalogued_sheets(ds: Dataset):
    path = fetch(ds.id)
    if ds.filename.endswith(".xls"):
        names = xlrd.open_workbook(path, on_demand=True).sheet_names()
    else:
        names = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True).sheetnames
    assert set(ds.sheets) <= set(names)


# The SYNTHETIC catalogue of tests/synthetic keeps the same rules, and its shapes are true of
# its files as read by this module's readers (it was written with other ones).

SYNTHETIC_IDS = list(synthetic.FILES)


@pytest.mark.parametrize("dataset_id", SYNTHETIC_IDS)
def test_synthetic_entry_is_complete_and_true_of_its_file(synthetic_mirror, dataset_id):
    ds = catalogue.get(dataset_id)
    assert ds.title.startswith("SYNTHETIC") and "SYNTHETIC" in ds.licence and "SYNTHETIC" in ds.filename
    assert ds.id in ALL and ds.sha256 != ALL[ds.id].sha256  # a real id, never the real bytes
    test_entry_is_complete(ds)
    path = fetch(ds.id)
    assert path.read_bytes() == (synthetic_mirror / "data" / ds.file).read_bytes()
    if ds.sheets:
        assert set(ds.sheets) <= set(openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True).sheetnames)
    else:
        assert _shape(ds, path) == (list(ds.columns), ds.rows)


def test_an_unreadable_catalogue_named_by_the_environment_is_one_clear_error(tmp_path, monkeypatch, capsys):
    from mhbook import cli

    missing = tmp_path / "no-such-catalogue.yaml"
    monkeypatch.setenv("MHBOOK_CATALOGUE", str(missing))
    with pytest.raises(MhbookError, match=r"MHBOOK_CATALOGUE=.*no-such-catalogue\.yaml cannot be read"):
        catalogue.get("iapt-annual")
    with pytest.raises(SystemExit) as done:
        cli.main(["data", "list"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith("mhbook: error: MHBOOK_CATALOGUE=") and "Traceback" not in err
    monkeypatch.delenv("MHBOOK_CATALOGUE")
    assert catalogue.get("iapt-annual") == ALL["iapt-annual"]  # the packaged catalogue again
