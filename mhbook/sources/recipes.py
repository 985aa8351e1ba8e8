"""Recipes: how a derived dataset is remade from public upstream files.

Sixteen catalogue entries are not the bytes any public URL serves: conversions of R data
objects, two LSOA boundary layers merged from per-district GeoJSON files, two lookup
tables taken from those layers, and a filtered FingertipsNext sample. Each carries a
``recipe`` in ``catalogue.yaml``: its upstream files (URLs at a pinned commit and their
sha256), the name of one deterministic transformation below and its options, and how the
result is checked:

``verify: sha256``   the derived file must have the dataset's pinned sha256 (byte for byte).
``verify: content``  GeoPackages cannot be remade byte for byte (GDAL writes a timestamp and
                     lays out SQLite pages by version; zip stores a date), so the result must
                     match ``content_sha256``: the hash of its canonical content
                     (``content_sha256()``: layer names, CRS, columns, every attribute as CSV
                     text and every geometry as little-endian WKB, in row order).

Transformations (``make``):

``rda-to-csv``       one data frame from an ``.rda`` file (read with the ``rdata`` package),
                     written with pandas ``to_csv(index=False)``; optionally whole-number float
                     columns as integers, and gzip with a fixed header name and time.
``rda-to-gpkg``      an R ``sf`` object of MULTIPOLYGONs (lists of polygons, each a list of
                     rings as n x 2 longitude/latitude matrices) rebuilt 1:1 in shapely and
                     written as one GeoPackage layer.
``merge-geojson``    per-district GeoJSON files concatenated, ordered by a key column
                     (stable sort), a column renamed, written as one GeoPackage layer in a zip.
``layer-attributes`` the attribute table of another dataset's layer (geometry dropped) as CSV.
``filter-rows``      the rows of a CSV whose column holds one of the listed values, header kept,
                     re-written with Python's csv module.

Upstream files are downloaded into a staging folder beside the cache file and checked on
arrival (sha256; for a file whose sha256 was never recorded, its git blob id where known).
Nothing reaches the cache until the derived file passes its check; the staging folder is
always removed.

``MHBOOK_UPSTREAM_BASE`` (an HTTP(S) URL) fetches upstream files from a copy laid out as
``<owner>/<repo>/<first 12 characters of the commit>/<path>`` (the layout of
``../shared/data/upstream``) instead of GitHub: a team's copy, or a test server.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import struct
import subprocess
import tempfile
import urllib.parse
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mhbook.errors import DataIntegrityError, FetchError, MhbookError

if TYPE_CHECKING:
    from mhbook.catalogue import Dataset

log = logging.getLogger(__name__)

_RAW_GITHUB = "raw.githubusercontent.com"
VERIFY_MODES = ("sha256", "content")


@dataclass(frozen=True)
class Upstream:
    """One public file a recipe reads. ``sha256`` is None where it was never recorded; then
    ``git_blob`` (a prefix of the file's git blob id) is checked if known, and otherwise only the
    derived file's own check vouches for it."""

    url: str
    sha256: str | None = None
    git_blob: str | None = None


@dataclass(frozen=True)
class Recipe:
    """How a dataset is made: ``make`` applied to ``upstream`` files (and ``inputs``: other dataset
    ids, fetched first), checked by ``verify`` (``content_sha256`` when ``verify`` is ``content``)."""

    make: str
    upstream: tuple[Upstream, ...] = ()
    inputs: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    verify: str = "sha256"
    content_sha256: str | None = None
    why: str = ""
    upstream_unpinned: str = ""


def parse(raw: Any, where: str) -> Recipe:
    """A ``Recipe`` from a catalogue entry's ``recipe`` mapping; ``where`` names the entry in errors.

    Upstream files are listed under ``upstream`` (url, sha256, git_blob), or as ``upstream_template``
    (a URL with ``{part}``) with ``parts`` (the values, in the order they are merged) and
    ``upstream_sha256: unknown`` plus ``upstream_unpinned`` (why no per-file hash exists).
    """
    if not isinstance(raw, dict):
        raise MhbookError(f"{where}: recipe must be a mapping with at least 'make'.")
    make = raw.get("make")
    if make not in TRANSFORMATIONS:
        raise MhbookError(f"{where}: recipe make {make!r} is not one of {', '.join(sorted(TRANSFORMATIONS))}.")
    verify = raw.get("verify", "sha256")
    if verify not in VERIFY_MODES:
        raise MhbookError(f"{where}: recipe verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}.")
    if verify == "content" and not (raw.get("content_sha256") and raw.get("why")):
        raise MhbookError(f"{where}: a recipe verified by content needs content_sha256 and why (why not bytes).")
    listed = raw.get("upstream") or []
    if not isinstance(listed, list) or not all(isinstance(u, dict) and u.get("url") for u in listed):
        raise MhbookError(f"{where}: recipe upstream must be a list of mappings, each with a url.")
    ups = [Upstream(u["url"], u.get("sha256"), u.get("git_blob")) for u in listed]
    if raw.get("upstream_template"):
        if raw.get("upstream_sha256") != "unknown" or not raw.get("upstream_unpinned"):
            raise MhbookError(
                f"{where}: upstream_template needs upstream_sha256: unknown and upstream_unpinned "
                f"(why the files' hashes are not recorded)."
            )
        ups += [Upstream(raw["upstream_template"].format(part=p)) for p in raw.get("parts") or ()]
    if not ups and not raw.get("inputs"):
        raise MhbookError(f"{where}: recipe lists no upstream files and no input datasets.")
    for up in ups:
        if up.sha256 is None and up.git_blob is None and not raw.get("upstream_unpinned"):
            raise MhbookError(
                f"{where}: upstream {up.url} has no sha256 (or git_blob), and upstream_unpinned does not say why."
            )
    return Recipe(
        make=make,
        upstream=tuple(ups),
        inputs=tuple(raw.get("inputs") or ()),
        options=dict(raw.get("options") or {}),
        verify=verify,
        content_sha256=raw.get("content_sha256"),
        why=raw.get("why", ""),
        upstream_unpinned=raw.get("upstream_unpinned", ""),
    )


# --- fetching upstream files --------------------------------------------------------------


def upstream_url(url: str, base: str | None = None) -> str:
    """Where an upstream file is downloaded from: ``url``, or its place under ``base`` (default
    ``$MHBOOK_UPSTREAM_BASE``).

    Under the base, a raw GitHub URL ``https://raw.githubusercontent.com/O/R/COMMIT/PATH`` becomes
    ``<base>/O/R/<COMMIT[:12]>/PATH``; any other URL becomes ``<base>/<host>/<path>``.
    """
    base = base or os.environ.get("MHBOOK_UPSTREAM_BASE")
    if not base:
        return url
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.lstrip("/").split("/")
    if parts.netloc == _RAW_GITHUB and len(segments) >= 4:
        owner, repo, commit, *rest = segments
        path = "/".join([owner, repo, commit[:12], *rest])
    else:
        path = "/".join([parts.netloc, *segments])
    return f"{base.rstrip('/')}/{path}"


def _git_blob_id(path: Path) -> str:
    size = path.stat().st_size
    h = hashlib.sha1(f"blob {size}\0".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _get_upstream(ds_id: str, up: Upstream, dest: Path) -> Path:
    """Download one upstream file to ``dest`` and check it; raise naming its URL and hash if it fails."""
    from mhbook import fetch  # fetch imports this module lazily too

    url = upstream_url(up.url)
    pinned = up.sha256 or (f"git blob {up.git_blob}" if up.git_blob else "no recorded hash")
    try:
        fetch.download_url_to(url, dest)
    except FetchError as exc:
        why = exc.__cause__ or exc  # the network's own error (the URL is named here, once)
        raise FetchError(
            f"{ds_id}: upstream file {url} (pinned {pinned}) could not be downloaded "
            f"({type(why).__name__}: {why}). "
            f"Nothing was cached; retry when the network is reachable, or set MHBOOK_MIRROR."
        ) from exc
    if up.sha256:
        got = fetch.sha256_of(dest)
        if got != up.sha256:
            raise DataIntegrityError(
                f"{ds_id}: upstream file {url} has sha256 {got}, but the recipe pins "
                f"{up.sha256}. The server sent different bytes; nothing was cached."
            )
    elif up.git_blob:
        got = _git_blob_id(dest)
        if not got.startswith(up.git_blob):
            raise DataIntegrityError(
                f"{ds_id}: upstream file {url} has git blob id {got}, but the recipe pins "
                f"{up.git_blob}. The server sent different bytes; nothing was cached."
            )
    return dest


class _BadUpstream(Exception):
    """Raised inside a transformation for an upstream file it cannot read; ``make`` names its URL."""

    def __init__(self, path: Path, reason: str):
        super().__init__(reason)
        self.path = path


def make(ds: Dataset, staging: Path, *, fetch_input: Callable[[str], Path]) -> Path:
    """Run ``ds``'s recipe in ``staging`` (an empty folder) and return the derived file, checked.

    ``fetch_input(id)`` returns the verified path of an input dataset. Raises ``FetchError`` or
    ``DataIntegrityError`` naming the upstream URL and hash, or the derived file and its pin.
    """
    recipe = ds.recipe
    if recipe is None:
        raise MhbookError(f"{ds.id} has no recipe.")
    sources: dict[Path, Upstream] = {}
    for i, up in enumerate(recipe.upstream):
        name = urllib.parse.urlsplit(up.url).path.rsplit("/", 1)[-1] or "upstream"
        sources[_get_upstream(ds.id, up, staging / f"{i:04d}-{name}")] = up
    inputs = {}
    for i in recipe.inputs:
        try:
            inputs[i] = fetch_input(i)
        except MhbookError as exc:
            raise type(exc)(f"{ds.id} is made from {i}, which could not be had: {exc}") from exc
    out = staging / ds.filename
    log.info("%s: %s from %d upstream file(s)", ds.id, recipe.make, len(sources))
    try:
        TRANSFORMATIONS[recipe.make](list(sources), inputs, out, recipe.options)
    except _BadUpstream as exc:
        up = sources[exc.path]
        pinned = up.sha256 or (
            f"git blob {up.git_blob}" if up.git_blob else f"no recorded hash: {recipe.upstream_unpinned}"
        )
        raise DataIntegrityError(
            f"{ds.id}: upstream file {upstream_url(up.url)} (pinned {pinned}) is damaged: {exc}. Nothing was cached."
        ) from exc
    check(ds, out)
    return out


def check(ds: Dataset, path: Path) -> None:
    """Raise ``DataIntegrityError`` unless ``path`` passes ``ds``'s check (bytes, or canonical content)."""
    from mhbook import fetch

    got = fetch.sha256_of(path)
    if got == ds.sha256:
        return
    recipe = ds.recipe
    unpinned = (
        f" Its upstream files have no recorded hash ({recipe.upstream_unpinned}), so this check is the "
        f"only one: one of them differs from the pinned commit's."
        if recipe and recipe.upstream_unpinned
        else ""
    )
    if recipe is not None and recipe.verify == "content":
        content = content_sha256(path)
        if content == recipe.content_sha256:
            return
        raise DataIntegrityError(
            f"{ds.id}: the layer made by its recipe ({recipe.make}) has content hash "
            f"{content}, but the catalogue pins {recipe.content_sha256}.{unpinned} "
            f"Nothing was cached; set MHBOOK_MIRROR to a folder holding {ds.file}."
        )
    raise DataIntegrityError(
        f"{ds.id}: the file made by its recipe has sha256 {got}, but the catalogue pins "
        f"{ds.sha256}.{unpinned} Nothing was cached; set MHBOOK_MIRROR to a folder holding "
        f"{ds.file}."
    )


def is_content_equal(ds: Dataset, path: Path) -> bool:
    """True if ``ds`` is checked by content and ``path`` has its pinned canonical content."""
    recipe = ds.recipe
    return bool(recipe and recipe.verify == "content" and content_sha256(path) == recipe.content_sha256)


# --- canonical content of a vector file ---------------------------------------------------


def _vector_path(path: Path) -> str:
    return f"/vsizip/{path}" if path.suffix == ".zip" else str(path)


def content_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a vector file's content, independent of how its container was written.

    Covers, for each layer in order: its name, CRS (authority code), column names, every
    attribute value as pandas CSV text, and every geometry as 2-D little-endian WKB, in row order.
    A ``.zip`` is read through GDAL's zip reader. Unreadable files hash as their error text.
    """
    import pandas as pd
    import pyogrio
    import shapely

    src = _vector_path(Path(path))
    h = hashlib.sha256()
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(src)]
        for layer in layers:
            gdf = pyogrio.read_dataframe(src, layer=layer)
            crs = gdf.crs.to_string() if gdf.crs is not None else None
            h.update(json.dumps({"layer": layer, "crs": crs, "columns": list(gdf.columns)}).encode())
            h.update(pd.DataFrame(gdf.drop(columns="geometry")).to_csv(index=False).encode())
            for wkb in shapely.to_wkb(gdf.geometry.values, byte_order=1, output_dimension=2):
                h.update(struct.pack("<Q", len(wkb)))
                h.update(wkb)
    except Exception as exc:  # noqa: BLE001  any reader failure means "not the pinned content"
        return f"unreadable: {type(exc).__name__}: {exc}"
    return h.hexdigest()


# --- writing ------------------------------------------------------------------------------


def _gzip(data: bytes, out: Path, options: dict) -> None:
    """Write ``data`` gzipped to ``out`` with the header the pinned file has (name, time, -9).

    ``deflate: zlib`` compresses with zlib (level 9, memLevel 9); ``deflate: gnu-gzip`` runs the
    ``gzip -9`` program, whose deflate differs from zlib's (the pinned attribute tables used it).
    """
    name = options["gzip_name"].encode("latin-1")
    mtime = int(options["gzip_mtime"])
    if options.get("deflate", "zlib") == "gnu-gzip":
        exe = shutil.which("gzip")
        if exe is None:
            raise FetchError(
                f"making {out.name} needs the gzip program (GNU gzip), which is not on PATH; install "
                f"it (e.g. apt-get install gzip) or set MHBOOK_MIRROR."
            )
        stream = subprocess.run([exe, "-9", "-n", "-c"], input=data, capture_output=True, check=True).stdout
        body = stream[10:]  # -n: a bare 10-byte header, then deflate data, CRC32 and size
    else:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        body = comp.compress(data) + comp.flush() + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    header = b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + b"\x02\x03" + name + b"\0"
    out.write_bytes(header + body)


def _write_csv(text: str, out: Path, options: dict) -> None:
    data = text.encode("utf-8")
    if "gzip_name" in options:
        _gzip(data, out, options)
    else:
        out.write_bytes(data)


def _read_rda_frame(path: Path):
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "missing constructor for tbl_df": read as a data.frame
        try:
            objects = rdata.read_rda(str(path))
        except Exception as exc:  # noqa: BLE001  rdata raises many kinds for a file that is not R data
            raise _BadUpstream(path, f"not a readable R data file ({type(exc).__name__}: {exc})") from exc
    if len(objects) != 1:
        raise _BadUpstream(path, f"it holds {len(objects)} R objects ({', '.join(objects)}), not one")
    return next(iter(objects.values()))


# --- the transformations ------------------------------------------------------------------


def _rda_to_csv(sources: list[Path], inputs: dict, out: Path, options: dict) -> None:
    (src,) = sources
    df = _read_rda_frame(src)
    if options.get("whole_numbers_as_integers"):
        for col in df.columns:
            s = df[col]
            if s.dtype.kind == "f" and s.notna().all() and (s % 1 == 0).all():
                df[col] = s.astype("int64")
    _write_csv(df.to_csv(index=False), out, options)


def _rda_to_gpkg(sources: list[Path], inputs: dict, out: Path, options: dict) -> None:
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import MultiPolygon, Polygon

    (src,) = sources
    df = _read_rda_frame(src)

    def polygon(rings) -> Polygon:
        shell, *holes = (np.asarray(r, dtype=float) for r in rings)
        return Polygon(shell, holes)

    geoms = [MultiPolygon([polygon(p) for p in g]) for g in df["geometry"]]
    gdf = gpd.GeoDataFrame(df[list(options["columns"])], geometry=geoms, crs=options["crs"])
    gdf.to_file(out, layer=options["layer"], driver="GPKG", engine="pyogrio")


def _merge_geojson(sources: list[Path], inputs: dict, out: Path, options: dict) -> None:
    import pandas as pd
    import pyogrio

    parts = []
    for src in sources:
        try:
            parts.append(pyogrio.read_dataframe(src))
        except Exception as exc:  # noqa: BLE001  GDAL's errors for a damaged file vary
            raise _BadUpstream(src, f"not a readable GeoJSON layer ({exc})") from exc
    merged = pd.concat(parts, ignore_index=True)
    merged = merged.sort_values(options["order_by"], kind="stable", ignore_index=True)
    merged = merged.rename(columns=dict(options.get("rename") or {}))
    merged = merged.set_crs(options["crs"], allow_override=True)
    layer = options["layer"]
    gpkg = out.parent / f"{layer}.gpkg"
    merged.to_file(gpkg, layer=layer, driver="GPKG", engine="pyogrio")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        info = zipfile.ZipInfo(gpkg.name, date_time=tuple(options.get("zip_date", (1980, 1, 1, 0, 0, 0))))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(gpkg, "rb") as fin, zf.open(info, "w") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    gpkg.unlink()


def _layer_attributes(sources: list[Path], inputs: dict, out: Path, options: dict) -> None:
    import pyogrio

    (path,) = inputs.values()
    df = pyogrio.read_dataframe(_vector_path(path), read_geometry=False)
    _write_csv(df.to_csv(index=False), out, options)


def _filter_rows(sources: list[Path], inputs: dict, out: Path, options: dict) -> None:
    (src,) = sources
    keep = {str(v) for v in options["keep"]}
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    with open(src, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if options["column"] not in header:
            raise _BadUpstream(src, f"its header has no column {options['column']!r}")
        col = header.index(options["column"])
        writer.writerow(header)
        writer.writerows(row for row in reader if len(row) > col and row[col] in keep)
    out.write_bytes(buf.getvalue().encode("utf-8"))


TRANSFORMATIONS: dict[str, Callable[[list[Path], dict, Path, dict], None]] = {
    "rda-to-csv": _rda_to_csv,
    "rda-to-gpkg": _rda_to_gpkg,
    "merge-geojson": _merge_geojson,
    "layer-attributes": _layer_attributes,
    "filter-rows": _filter_rows,
}


def staging_beside(target: Path) -> Path:
    """An empty staging folder beside ``target`` (same file system, so the result moves atomically)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".recipe"))
