"""Boundaries of England's administrative and NHS areas as GeoDataFrames.

Source: ONS Open Geography Portal (via DHSC FingertipsNext, humaniverse/geographr
and drkane/geo-lookups; see ``shared/data/geo/PROVENANCE.md``). Attribution for any
map: "Source: Office for National Statistics licensed under the Open Government
Licence v.3.0. Contains OS data © Crown copyright and database right [year]".

Every layer comes back with the same shape: ``code`` and ``name`` first, then the
original columns, CRS EPSG:4326 (longitude/latitude), geometries made valid
(ONS's LAD May 2024 BSC file has self-intersecting polygons as published).
``england_only=True`` (the default) keeps codes starting with "E".

Generalisation: BSC = 200 m, BUC = 500 m, BGC = 20 m, all clipped to the coast.
LSOA layers are large (about 100 MB of coordinates); they are parsed once and
cached as GeoParquet. ``simplified=True`` gives a lighter version for maps,
simplified as a coverage so neighbouring polygons still share their edges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import shapely

from mhbook import catalogue
from mhbook.errors import SchemaError
from mhbook.fetch import fetch
from mhbook.tables import tidy_table

log = logging.getLogger(__name__)

CRS = "EPSG:4326"
_BRITISH_NATIONAL_GRID = "EPSG:27700"
# Tolerance (metres) of the map version of LSOA layers: well below the width of a
# line on a county map, yet it shrinks the 20 m BGC outlines several-fold.
SIMPLIFY_METRES = 50.0


@dataclass(frozen=True)
class Layer:
    dataset_id: str
    code: str
    name: str
    england: int  # features expected once restricted to England
    description: str


LAYERS: dict[str, Layer] = {
    "ctyua-2019": Layer(
        "bnd-ctyua-2019", "utla19_code", "utla19_name", 151, "Counties and Unitary Authorities, Dec 2019, BUC"
    ),
    "ctyua-2023": Layer(
        "bnd-ctyua-2023", "CTYUA23CD", "CTYUA23NM", 153, "Counties and Unitary Authorities, Dec 2023, BSC"
    ),
    "lad-2024": Layer("bnd-lad-2024", "LAD24CD", "LAD24NM", 296, "Local Authority Districts, May 2024, BSC"),
    "icb-2023": Layer("bnd-icb-2023", "ICB23CD", "ICB23NM", 42, "Integrated Care Boards, Apr 2023, BSC"),
    "subicb-2023": Layer("bnd-subicb-2023", "SICBL23CD", "SICBL23NM", 106, "Sub-ICB Locations, Apr 2023, BSC"),
    "nhser-2024": Layer("bnd-nhser-2024", "NHSER24CD", "NHSER24NM", 7, "NHS England Regions, Jan 2024, BSC"),
    "region-2023": Layer("bnd-region-2023", "RGN23CD", "RGN23NM", 9, "Regions, Dec 2023, BUC"),
    "cauth-2023": Layer("bnd-cauth-2023", "CAUTH23CD", "CAUTH23NM", 10, "Combined Authorities, Dec 2023, BUC"),
    "lsoa-2011": Layer("bnd-lsoa-2011", "LSOA11CD", "LSOA11NM", 32_844, "LSOAs, Dec 2011, BGC, England"),
    "lsoa-2021": Layer("bnd-lsoa-2021", "LSOA21CD", "LSOA21NM", 33_755, "LSOAs, Dec 2021, BGC, England"),
}


def _layer(name: str) -> Layer:
    try:
        return LAYERS[name]
    except KeyError:
        raise KeyError(f"Unknown boundary layer {name!r}; choose one of {sorted(LAYERS)}") from None


def _path(dataset_id: str) -> str:
    path = str(fetch(dataset_id))
    # GeoPackages shipped zipped are read in place through GDAL's /vsizip/.
    return f"zip://{path}" if path.endswith(".zip") else path


def _polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Valid (multi)polygons: ``make_valid`` keeping only polygonal parts, since a
    self-intersection repaired by GEOS can leave stray lines or points."""
    bad = ~geoms.is_valid
    if bad.any():
        log.info("repairing %d invalid geometries", int(bad.sum()))
        geoms = geoms.copy()
        geoms[bad] = geoms[bad].make_valid(method="structure", keep_collapsed=False)
    return geoms


def _check(gdf: gpd.GeoDataFrame, layer: Layer, england_only: bool) -> gpd.GeoDataFrame:
    where = f"{layer.dataset_id} ({catalogue.get(layer.dataset_id).filename})"
    for col in (layer.code, layer.name):
        if col not in gdf.columns:
            raise SchemaError(f"{where}: column {col!r} missing; found {list(gdf.columns)}")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise SchemaError(f"{where}: CRS {gdf.crs}, expected {CRS}")
    if gdf["code"].duplicated().any() or gdf["code"].isna().any():
        raise SchemaError(f"{where}: column 'code' ({layer.code}) must be unique and present")
    if not gdf.geometry.is_valid.all() or gdf.geometry.is_empty.any():
        raise SchemaError(f"{where}: geometry still invalid or empty after make_valid")
    if england_only and len(gdf) != layer.england:
        raise SchemaError(f"{where}: expected {layer.england} English features, got {len(gdf)}")
    return gdf


def _read(name: str, england_only: bool) -> gpd.GeoDataFrame:
    layer = _layer(name)
    gdf = gpd.read_file(_path(layer.dataset_id), engine="pyogrio")
    if gdf.crs is None:
        raise SchemaError(f"{layer.dataset_id}: no CRS declared")
    # CRS84 and EPSG:4326 differ only in axis order; GeoJSON/GeoPackage store lon/lat.
    gdf = gdf.to_crs(CRS) if gdf.crs.to_epsg() != 4326 else gdf.set_crs(CRS, allow_override=True)
    if layer.code in gdf.columns and layer.name in gdf.columns:
        gdf.insert(0, "code", gdf[layer.code].astype(str))
        gdf.insert(1, "name", gdf[layer.name].astype(str))
    if england_only and "code" in gdf.columns:
        gdf = gdf[gdf["code"].str.startswith("E")].reset_index(drop=True)
    gdf = gdf.set_geometry(_polygonal(gdf.geometry))
    return _check(gdf, layer, england_only)


@tidy_table("bnd-lsoa-2011", "bnd-lsoa-2021")
def _lsoa(name: str, simplified: bool) -> gpd.GeoDataFrame:
    gdf = _read(name, england_only=True)
    if simplified:
        # Simplify in metres, as one coverage, so neighbours keep a shared edge.
        bng = gdf.geometry.to_crs(_BRITISH_NATIONAL_GRID)
        simple = shapely.coverage_simplify(bng.values, SIMPLIFY_METRES)
        gdf = gdf.set_geometry(gpd.GeoSeries(simple, index=gdf.index, crs=_BRITISH_NATIONAL_GRID).to_crs(CRS))
        gdf = gdf.set_geometry(_polygonal(gdf.geometry))
    return gdf


def load(layer: str, england_only: bool = True, simplified: bool = False) -> gpd.GeoDataFrame:
    """The boundaries of ``layer`` (a key of :data:`LAYERS`) as a GeoDataFrame.

    Columns: ``code``, ``name`` (the layer's ONS code and name), then the original
    columns and ``geometry`` (EPSG:4326, valid). ``england_only`` drops Welsh,
    Scottish and Northern Irish features (LSOA layers are England only already).
    ``simplified`` (LSOA layers only) returns the map version, simplified to
    :data:`SIMPLIFY_METRES`; both versions are cached as GeoParquet.
    """
    spec = _layer(layer)
    if spec.dataset_id in ("bnd-lsoa-2011", "bnd-lsoa-2021"):
        return _lsoa(name=layer, simplified=simplified)
    if simplified:
        raise ValueError(f"simplified=True is for LSOA layers; {layer!r} is already generalised ({spec.description})")
    return _read(layer, england_only)
