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


# Twins on the SYNTHETIC grid of tests/synthetic/boundaries.py (153 rectangles, one a bow tie).


def test_synthetic_layer_shape_codes_and_repair(synthetic_mirror):
    from synthetic import boundaries as grid

    gdf = boundaries.load("ctyua-2023")
    assert len(gdf) == 153 and list(gdf.columns[:2]) == ["code", "name"]
    assert set(gdf["code"]) == set(lookups.utla23()["utla_code"])
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.is_valid.all()
    bow_tie = gdf.set_index("code").geometry[grid.BOW_TIE]
    assert bow_tie.geom_type == "MultiPolygon" and len(bow_tie.geoms) == 2  # two triangles, once repaired
    assert bow_tie.area == pytest.approx(grid.WIDTH * grid.HEIGHT / 2)
    square = gdf.set_index("code").geometry["E06900001"]
    assert square.bounds == pytest.approx(grid.cell(0)) and square.area == pytest.approx(grid.WIDTH * grid.HEIGHT)
    assert tuple(gdf.total_bounds) == pytest.approx((-3, 51, -3 + 17 * grid.WIDTH, 51 + 9 * grid.HEIGHT))


def test_synthetic_uk_option_keeps_wales(synthetic_mirror):
    uk = boundaries.load("ctyua-2023", england_only=False)
    assert len(uk) == 154 and uk["code"].str.startswith("W").sum() == 1


def test_synthetic_national_map_has_a_shape_per_area(synthetic_mirror):
    from mhbook import national

    paths, (width, height) = national.map_shapes()
    assert len(paths) == 153 and all(d.startswith("M") and d.endswith("Z") for d in paths.values())
    assert width == national.MAP_WIDTH and height > 0
