"""Recipes: every derived dataset is remade from public upstream files, checked against its pin.

The upstream R data objects are the real ones (``$MHBOOK_MIRROR/upstream``, byte-identical to
GitHub at the pinned commits), served from 127.0.0.1. The per-district LSOA GeoJSON files of
drkane/geo-lookups and FingertipsNext's ``healthdata.csv`` are not on this machine: the tests
cut the district files out of the mirror's merged layers, and make a synthetic
``healthdata.csv`` (the mirror's sample rows among made-up rows of other indicators); both are
stand-ins, said so where they are used.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import os
import threading
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from typer.testing import CliRunner

from mhbook import catalogue, cli, fetch
from mhbook.errors import DataIntegrityError, FetchError, MhbookError
from mhbook.sources import recipes

ALL = catalogue.datasets()
DERIVED = [ds for ds in ALL.values() if ds.recipe is not None]
RDA = [ds.id for ds in DERIVED if ds.recipe.make in ("rda-to-csv", "rda-to-gpkg")]
DISTRICTS = ["E09000001", "E08000004", "E06000001"]  # City of London, Oldham, Hartlepool


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server:
    """A static file server on 127.0.0.1 for ``root``; stopped by ``close``."""

    def __init__(self, root: Path):
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A served folder (``tmp_path/served``) as MHBOOK_UPSTREAM_BASE; a fresh cache; no mirror."""
    root = tmp_path / "served"
    root.mkdir()
    server = _Server(root)
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MHBOOK_UPSTREAM_BASE", server.url)
    monkeypatch.delenv("MHBOOK_MIRROR", raising=False)
    monkeypatch.delenv("MHBOOK_DOWNLOAD_BASE", raising=False)
    yield root
    server.close()


def _served_path(url: str) -> str:
    """Where ``url`` lies in a folder served as MHBOOK_UPSTREAM_BASE."""
    return recipes.upstream_url(url, base="http://127.0.0.1:1")[len("http://127.0.0.1:1/") :]


def _cache_files(tmp_path: Path) -> list[Path]:
    cache = tmp_path / "cache"
    return sorted(p for p in cache.rglob("*") if p.is_file() or p.name.endswith(".recipe")) if cache.exists() else []


def _upstream_copy(mirror: Path, served: Path) -> None:
    (served / "humaniverse").symlink_to(mirror / "upstream" / "humaniverse", target_is_directory=True)


# --- the catalogue ------------------------------------------------------------------------


def test_every_entry_has_a_url_or_a_recipe():
    nothing = [ds.id for ds in ALL.values() if ds.url is None and ds.recipe is None]
    assert nothing == []
    assert len(DERIVED) == 16


def test_every_upstream_file_is_pinned_or_says_why_not():
    for ds in DERIVED:
        r = ds.recipe
        assert r.upstream or r.inputs, ds.id
        for up in r.upstream:
            assert up.url.startswith("https://raw.githubusercontent.com/"), up.url
            commit = up.url.split("/")[5]
            assert len(commit) == 40 and int(commit, 16) >= 0, f"{ds.id}: {up.url} is not at a pinned commit"
            assert up.sha256 or up.git_blob or r.upstream_unpinned, f"{ds.id}: {up.url} is unverifiable"
        if r.verify == "content":
            assert len(r.content_sha256) == 64 and r.why, ds.id


def test_merged_layers_list_the_296_current_districts_without_the_stale_codes():
    for dataset_id in ("bnd-lsoa-2011", "bnd-lsoa-2021"):
        urls = [up.url for up in ALL[dataset_id].recipe.upstream]
        codes = [u.rsplit("/", 1)[-1].removesuffix(".geojson") for u in urls]
        assert len(codes) == len(set(codes)) == 296
        assert not {"E07000246", "E08000038", "E08000039"} & set(codes)
        assert all("/e20a072d5fc0918437abaa3622be63f40b71d9dd/" in u for u in urls)


@pytest.mark.mirror
def test_merged_layers_parts_are_the_districts_of_the_mirror_layer(mirror):
    for dataset_id in ("bnd-lsoa-2011", "bnd-lsoa-2021"):
        ds = ALL[dataset_id]
        layer = pyogrio.read_dataframe(f"/vsizip/{mirror / ds.file}", read_geometry=False, columns=["LADCD_ACTIVE"])
        codes = {up.url.rsplit("/", 1)[-1].removesuffix(".geojson") for up in ds.recipe.upstream}
        assert codes == set(layer["LADCD_ACTIVE"])


@pytest.mark.mirror
def test_content_pins_are_the_mirror_files_content(mirror):
    for ds in DERIVED:
        if ds.recipe.verify == "content":
            assert recipes.content_sha256(mirror / ds.file) == ds.recipe.content_sha256, ds.id


def test_a_recipe_without_a_reason_for_unpinned_files_is_refused():
    with pytest.raises(MhbookError, match="no sha256"):
        recipes.parse({"make": "rda-to-csv", "upstream": [{"url": "https://example.org/x.rda"}]}, "test entry")
    with pytest.raises(MhbookError, match="content_sha256 and why"):
        recipes.parse(
            {
                "make": "rda-to-gpkg",
                "verify": "content",
                "upstream": [{"url": "https://example.org/x.rda", "sha256": "0" * 64}],
            },
            "test entry",
        )
    with pytest.raises(MhbookError, match="each with a url"):
        recipes.parse({"make": "rda-to-csv", "upstream": [{"sha256": "0" * 64}]}, "test entry")
    with pytest.raises(MhbookError, match="not one of"):
        recipes.parse({"make": "guess", "upstream": []}, "test entry")


def test_upstream_base_maps_github_urls_to_the_upstream_layout(monkeypatch):
    url = (
        "https://raw.githubusercontent.com/humaniverse/IMD/2f6c9050afee99a40041eb63b02b6b0c58850704/data/"
        "imd2019_england_ltla19.rda"
    )
    monkeypatch.delenv("MHBOOK_UPSTREAM_BASE", raising=False)
    assert recipes.upstream_url(url) == url
    monkeypatch.setenv("MHBOOK_UPSTREAM_BASE", "http://127.0.0.1:9/up/")
    assert (
        recipes.upstream_url(url)
        == "http://127.0.0.1:9/up/humaniverse/IMD/2f6c9050afee/data/imd2019_england_ltla19.rda"
    )


# --- R data recipes -----------------------------------------------------------------------


@pytest.mark.mirror
@pytest.mark.parametrize("dataset_id", RDA)
def test_rda_recipe_produces_the_pinned_file(dataset_id, served, mirror, tmp_path):
    _upstream_copy(mirror, served)
    ds = ALL[dataset_id]
    path = fetch.fetch(ds, from_source=True)
    if ds.recipe.verify == "sha256":
        assert fetch.sha256_of(path) == ds.sha256
    else:  # GeoPackage: the same content as the mirror's file, whose bytes cannot be remade
        assert recipes.content_sha256(path) == ds.recipe.content_sha256
        made = gpd.read_file(path, layer=ds.recipe.options["layer"])
        assert_geodataframe_equal(made, gpd.read_file(mirror / ds.file, layer=ds.recipe.options["layer"]))
    assert [p.name for p in _cache_files(tmp_path) if not p.name.endswith(".verified")] == [path.name]
    # A remade content-pinned file stays trusted when re-hashed (verify), and is not re-made.
    assert fetch.verify(ds) == path


@pytest.mark.mirror
def test_damaged_or_missing_rda_stops_naming_url_and_hash(served, mirror, tmp_path):
    ds = ALL["lkp-lad19-utla19"]
    up = ds.recipe.upstream[0]
    relative = _served_path(up.url)
    with pytest.raises(FetchError) as info:  # not served at all
        fetch.fetch(ds, from_source=True)
    assert recipes.upstream_url(up.url) in str(info.value) and up.sha256 in str(info.value)
    assert _cache_files(tmp_path) == []

    damaged = served / relative
    damaged.parent.mkdir(parents=True)
    data = bytearray((mirror / "upstream" / relative).read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataIntegrityError) as info:
        fetch.fetch(ds, from_source=True)
    message = str(info.value)
    assert recipes.upstream_url(up.url) in message and up.sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert _cache_files(tmp_path) == []


# --- the merge recipe ---------------------------------------------------------------------


def _district_files(mirror: Path, ds: catalogue.Dataset, served: Path, codes: list[str]) -> gpd.GeoDataFrame:
    """Cut ``codes``' LSOAs from the mirror's merged layer into per-district GeoJSON files laid out as
    drkane/geo-lookups serves them (``FID`` as in the originals); return the mirror's matching part."""
    layer = gpd.read_file(f"zip://{mirror / ds.file}")
    part = layer[layer["LADCD_ACTIVE"].isin(codes)].reset_index(drop=True)
    for code in codes:
        url = next(up.url for up in ds.recipe.upstream if up.url.endswith(f"/{code}.geojson"))
        dest = served / _served_path(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        one = part[part["LADCD_ACTIVE"] == code].rename(columns={"FID_ONS": "FID"})
        one.to_file(dest, driver="GeoJSON", engine="pyogrio")
    return part


def _only(ds: catalogue.Dataset, codes: list[str], content_sha256: str) -> catalogue.Dataset:
    """``ds`` with its recipe cut down to ``codes`` (in this order) and pinned to ``content_sha256``."""
    ups = tuple(next(up for up in ds.recipe.upstream if up.url.endswith(f"/{c}.geojson")) for c in codes)
    return dataclasses.replace(
        ds, sha256="0" * 64, recipe=dataclasses.replace(ds.recipe, upstream=ups, content_sha256=content_sha256)
    )


@pytest.mark.mirror
@pytest.mark.parametrize("dataset_id", ["bnd-lsoa-2011", "bnd-lsoa-2021"])
def test_merge_recipe_equals_the_matching_part_of_the_mirror_layer(dataset_id, served, mirror, tmp_path):
    ds = ALL[dataset_id]
    part = _district_files(mirror, ds, served, DISTRICTS)
    layer_name = ds.recipe.options["layer"]
    expected = tmp_path / "expected.gpkg"
    part.to_file(expected, layer=layer_name, driver="GPKG", engine="pyogrio")
    # Merged in reverse list order: the recipe's fixed order (by FID) must still give the mirror's rows.
    small = _only(ds, DISTRICTS[::-1], recipes.content_sha256(expected))
    path = fetch.fetch(small, from_source=True)
    made = gpd.read_file(f"zip://{path}", layer=layer_name)
    assert_geodataframe_equal(made, part)
    assert len(made) == len(part) > 100 and made["FID_ONS"].is_monotonic_increasing


@pytest.mark.mirror
def test_merge_recipe_stops_on_a_missing_or_damaged_district_leaving_nothing(served, mirror, tmp_path):
    ds = ALL["bnd-lsoa-2011"]
    _district_files(mirror, ds, served, DISTRICTS)
    small = _only(ds, DISTRICTS, "0" * 64)
    gone = next(up.url for up in small.recipe.upstream if up.url.endswith(f"/{DISTRICTS[1]}.geojson"))
    gone_path = served / _served_path(gone)
    content = gone_path.read_bytes()

    gone_path.unlink()
    with pytest.raises(FetchError) as info:
        fetch.fetch(small, from_source=True)
    assert recipes.upstream_url(gone) in str(info.value) and "no recorded hash" in str(info.value)
    assert _cache_files(tmp_path) == []

    gone_path.write_bytes(content[: len(content) // 2])  # cut short: not GeoJSON any more
    with pytest.raises(DataIntegrityError) as info:
        fetch.fetch(small, from_source=True)
    assert recipes.upstream_url(gone) in str(info.value) and "damaged" in str(info.value)
    assert _cache_files(tmp_path) == []

    # Readable but changed (one LSOA's name): only the pinned content hash can catch it, and does.
    gone_path.write_bytes(content.replace(b"Oldham 001A", b"Oldham 999Z", 1))
    with pytest.raises(DataIntegrityError) as info:
        fetch.fetch(small, from_source=True)
    assert "content hash" in str(info.value) and small.recipe.upstream_unpinned in str(info.value)
    assert _cache_files(tmp_path) == []


# --- the filter recipe --------------------------------------------------------------------


def _healthdata(mirror: Path, ds: catalogue.Dataset) -> bytes:
    """A SYNTHETIC stand-in for FingertipsNext's healthdata.csv: the mirror's sample rows, in order, with
    made-up rows of other indicators between them (the real file is not on this machine)."""
    lines = (mirror / ds.file).read_bytes().split(b"\r\n")
    header, rows = lines[0], [r for r in lines[1:] if r]
    out = [header]
    for i, row in enumerate(rows):
        out.append(b"90000,,,All ages,Persons,,,,,1.5," + str(i).encode() + b",E92000001,4,1,2019,,")
        out.append(row)
    out.append(b'90001,"Quoted, with comma",,All ages,Persons,,,,,2,3,E92000001,4,1,2020,,')
    return b"\r\n".join(out) + b"\r\n"


def _with_healthdata(mirror: Path, served: Path) -> catalogue.Dataset:
    """Serve the synthetic healthdata.csv; the dataset with its upstream blob pin moved to that file."""
    ds = ALL["ft-next-sample-imd-lowincome-perinatal"]
    (up,) = ds.recipe.upstream
    dest = served / _served_path(up.url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(_healthdata(mirror, ds))
    blob = hashlib.sha1(f"blob {dest.stat().st_size}\0".encode() + dest.read_bytes()).hexdigest()[:12]
    return dataclasses.replace(
        ds, recipe=dataclasses.replace(ds.recipe, upstream=(dataclasses.replace(up, git_blob=blob),))
    )


@pytest.mark.mirror
def test_filter_recipe_keeps_the_three_indicators_and_reproduces_the_pinned_bytes(served, mirror):
    ds = _with_healthdata(mirror, served)
    path = fetch.fetch(ds, from_source=True)
    assert fetch.sha256_of(path) == ds.sha256  # the real pin, reached from the synthetic upstream


@pytest.mark.mirror
def test_filter_recipe_refuses_an_upstream_whose_git_blob_differs(served, mirror, tmp_path):
    ds = _with_healthdata(mirror, served)
    wrong = dataclasses.replace(
        ds,
        recipe=dataclasses.replace(
            ds.recipe, upstream=(dataclasses.replace(ds.recipe.upstream[0], git_blob="6ea09e8f6bb7"),)
        ),
    )
    with pytest.raises(DataIntegrityError, match="git blob id"):
        fetch.fetch(wrong, from_source=True)
    assert _cache_files(tmp_path) == []


# --- gzip headers -------------------------------------------------------------------------


@pytest.mark.parametrize("deflate", ["zlib", "gnu-gzip"])
def test_gzip_writes_the_header_it_is_given(tmp_path, deflate):
    data = b"synthetic,csv\n1,2\n" * 1000
    out = tmp_path / "x.csv.gz"
    recipes._gzip(data, out, {"gzip_name": "x.csv", "gzip_mtime": 1795314900, "deflate": deflate})
    raw = out.read_bytes()
    assert gzip.decompress(raw) == data
    assert raw[:10] == b"\x1f\x8b\x08\x08" + (1795314900).to_bytes(4, "little") + b"\x02\x03"
    assert raw[10:16] == b"x.csv\0"


# --- the whole chain, from sources only ---------------------------------------------------


@pytest.fixture(scope="module")
def every_source(tmp_path_factory, mirror):
    """One server for the whole chain: ``files/`` is the mirror served as publishers' downloads
    (MHBOOK_DOWNLOAD_BASE), ``upstream/`` the real R objects plus every district file cut from
    the mirror's layers and the synthetic healthdata.csv."""
    root = tmp_path_factory.mktemp("sources")
    (root / "files").symlink_to(mirror, target_is_directory=True)
    up = root / "upstream"
    up.mkdir()
    _upstream_copy(mirror, up)
    for dataset_id in ("bnd-lsoa-2011", "bnd-lsoa-2021"):
        ds = ALL[dataset_id]
        codes = [u.url.rsplit("/", 1)[-1].removesuffix(".geojson") for u in ds.recipe.upstream]
        _district_files(mirror, ds, up, codes)
    server = _Server(root)
    yield server.url, up
    server.close()


@pytest.mark.mirror
@pytest.mark.slow
def test_data_fetch_from_source_succeeds_for_every_dataset_without_a_mirror(
    every_source, mirror, tmp_path, monkeypatch
):
    url, up = every_source
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MHBOOK_MIRROR", raising=False)
    monkeypatch.setenv("MHBOOK_DOWNLOAD_BASE", f"{url}/files")
    monkeypatch.setenv("MHBOOK_UPSTREAM_BASE", f"{url}/upstream")
    # The real healthdata.csv is not here: its synthetic stand-in's blob id replaces the pinned one.
    ft = _with_healthdata(mirror, up)
    monkeypatch.setitem(catalogue.datasets(), ft.id, ft)

    result = CliRunner().invoke(cli.app, ["data", "fetch", "--from-source"])
    assert result.exit_code == 0, result.output
    for ds in catalogue.datasets().values():
        path = fetch.cached_path(ds)
        if ds.recipe is not None and ds.recipe.verify == "content":
            assert recipes.content_sha256(path) == ds.recipe.content_sha256, ds.id
        else:
            assert fetch.sha256_of(path) == ds.sha256, ds.id
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith((".recipe", ".part"))]
    assert os.environ.get("MHBOOK_MIRROR") is None


@pytest.mark.mirror
def test_cli_from_source_error_is_one_line_naming_the_upstream_url(served, mirror, tmp_path, capsys):
    ds = ALL["lkp-lad19-utla19"]
    with pytest.raises(SystemExit) as info:
        cli.main(["data", "fetch", "--from-source", ds.id])  # nothing served: the upstream file is missing
    err = capsys.readouterr().err
    assert info.value.code == 1
    lines = [line for line in err.splitlines() if line.startswith("mhbook: error:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert _served_path(ds.recipe.upstream[0].url) in lines[0] and ds.recipe.upstream[0].sha256 in lines[0]
    assert _cache_files(tmp_path) == []
