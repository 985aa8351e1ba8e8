"""Boundary layers: counts, shared columns, CRS and valid geometry (real ONS files)."""

from __future__ import annotations

import pytest

from mhbook.sources import boundaries, imd, lookups

SMALL = [k for k in boundaries.LAYERS if not k.startswith("lsoa")]


@pytest.mark.mirror
@pytest.mark.parametrize("layer", SMALL)
def test_layer_shape(layer):
    gdf = boundaries.load(layer)
    spec = boundaries.LAYERS[layer]
    assert len(gdf) == spec.england
    assert list(gdf.columns[:2]) == ["code", "name"]
    assert (gdf["code"] == gdf[spec.code]).all()
    assert gdf["code"].str.startswith("E").all()
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.is_valid.all()
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    # lon/lat of England
    minx, miny, maxx, maxy = gdf.total_bounds
    assert -7 < minx and maxx < 2 and 49 < miny and maxy < 56


@pytest.mark.mirror
def test_ctyua_2023_matches_lookups_and_uk_option():
    gdf = boundaries.load("ctyua-2023")
    assert set(gdf["code"]) == set(lookups.utla23()["utla_code"])
    assert len(boundaries.load("ctyua-2023", england_only=False)) == 218


@pytest.mark.mirror
def test_lad_2024_invalid_geometries_are_repaired():
    import geopandas as gpd

    from mhbook.fetch import fetch

    raw = gpd.read_file(fetch("bnd-lad-2024"))
    assert (~raw.geometry.is_valid).any()  # as published: some invalid polygons
    assert boundaries.load("lad-2024", england_only=False).geometry.is_valid.all()


@pytest.mark.mirror
@pytest.mark.parametrize("layer,key", [("lsoa-2011", "lsoa11_code"), ("lsoa-2021", "lsoa21_code")])
def test_lsoa_layers(layer, key):
    gdf = boundaries.load(layer)
    iod = imd.lsoa_2019() if layer == "lsoa-2011" else imd.lsoa_2025()
    assert set(gdf["code"]) == set(iod[key])
    assert gdf.geometry.is_valid.all() and gdf.crs.to_epsg() == 4326
    light = boundaries.load(layer, simplified=True)
    assert light["code"].tolist() == gdf["code"].tolist()
    assert light.geometry.is_valid.all()
    assert light.geometry.count_coordinates().sum() < gdf.geometry.count_coordinates().sum()


def test_unknown_layer_and_bad_option():
    with pytest.raises(KeyError, match="ctyua-2023"):
        boundaries.load("counties")
    with pytest.raises(ValueError, match="LSOA"):
        boundaries.load("icb-2023", simplified=True)
