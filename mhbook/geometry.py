"""Boundary geometry prepared once for every map of a book: projected and simplified.

Shared by the measures that hold England-wide boundaries (``measures.prevalence``) and the
map drawing in ``mhbook.figures.maps``, so that a measures module needs no display code.
Lengths are in metres: outlines are projected to the British National Grid first.
"""

from __future__ import annotations

import geopandas as gpd

from mhbook.errors import SchemaError

#: British National Grid: metres, so shapes keep their proportions and tolerances are in m.
BNG = "EPSG:27700"


def simplify_for_map(gdf: gpd.GeoDataFrame, tolerance_m: float = 250.0) -> gpd.GeoDataFrame:
    """Project to British National Grid and simplify outlines to ``tolerance_m`` metres
    (Douglas-Peucker, keeping each shape's topology); a lighter copy, so each map draws in
    well under a second."""
    if gdf.crs is None:
        raise SchemaError("simplify_for_map: the boundaries have no CRS; expected one (e.g. EPSG:4326)")
    out = gdf.to_crs(BNG)
    out["geometry"] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out
