"""SYNTHETIC Counties & UAs boundaries (``bnd-ctyua-2023`` layout): a grid of squares.

The 153 synthetic areas of ``geography.py`` are cells of a 17 x 9 grid of 0.2 by 0.3
degree rectangles from 3 W, 51 N (inside England's lon/lat box), in the order of
``geography.utlas()``, row by row. The last one, ``E10900003``, is published as a
"bow tie" (its ring crosses itself), an invalid polygon the parser must repair, as ONS's
generalised files hold a few. One Welsh feature lies outside the grid, for the
``england_only`` option. Properties: ``CTYUA23CD``, ``CTYUA23NM`` as in the real file.
"""

from __future__ import annotations

import json

from . import geography

COLUMNS, ROWS = 17, 9
WIDTH, HEIGHT = 0.2, 0.3
BOW_TIE = "E10900003"


def cell(i: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the i-th area's rectangle."""
    x0, y0 = -3 + (i % COLUMNS) * WIDTH, 51 + (i // COLUMNS) * HEIGHT
    return round(x0, 6), round(y0, 6), round(x0 + WIDTH, 6), round(y0 + HEIGHT, 6)


def _feature(code: str, name: str, ring: list[list[float]]) -> dict:
    return {
        "type": "Feature",
        "properties": {"CTYUA23CD": code, "CTYUA23NM": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def ctyua_2023() -> str:
    features = []
    for i, utla in enumerate(geography.utlas()):
        w, s, e, n = cell(i)
        if utla.code == BOW_TIE:
            ring = [[w, s], [e, n], [e, s], [w, n], [w, s]]
        else:
            ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        features.append(_feature(utla.code, utla.name, ring))
    features.append(_feature(*geography.WALES, [[-4.0, 52.0], [-3.6, 52.0], [-3.6, 52.4], [-4.0, 52.4], [-4.0, 52.0]]))
    return json.dumps(
        {"type": "FeatureCollection", "name": "SYNTHETIC Counties and UAs (tests/synthetic)", "features": features}
    )
