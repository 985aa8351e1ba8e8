"""The national landing site: ``<out>/index.html`` with a clickable map and a search box.

The map is an SVG of the 153 Counties & Unitary Authorities (ONS, December 2023,
generalised boundaries ``bnd-ctyua-2023`` via ``mhbook.sources.boundaries``),
projected to the British National Grid and simplified to ``SIMPLIFY_METRES`` as
one coverage, so neighbours keep a shared edge. Each built area is a link to its
site, with its name as the link's accessible name and tooltip; areas not built
are drawn grey without a link. The SVG is made once per boundary file (cached
under ``.mhbook-build`` by the dataset's sha256), not per build.

London's boroughs are drawn again, enlarged, as an inset, and the areas too small to point
at on the map (``SMALL_AREA``) are listed under it, so any area can be found and clicked.

Search is a labelled text box that filters the list of areas by name, code,
region or district, in the browser; without JavaScript the full list is shown.
England-level pages, when the book has any, are linked from ``england/``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

from mhbook import atomic

log = logging.getLogger(__name__)

#: Simplification tolerance of the map (metres): below a pixel at 600 px across England.
SIMPLIFY_METRES = 400.0
#: Width of the SVG's coordinate system (the map scales to its container).
MAP_WIDTH = 600
_BNG = "EPSG:27700"


def _path_data(geom, x0: float, y1: float, scale: float) -> str:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    parts = []
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            pts = [f"{(x - x0) * scale:.1f},{(y1 - y) * scale:.1f}" for x, y in ring.coords[:-1]]
            if len(pts) >= 3:
                parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


def map_shapes() -> tuple[dict[str, str], tuple[int, int]]:
    """SVG path data of each County & UA by code, and the (width, height) of the map."""
    import shapely

    from mhbook import catalogue
    from mhbook.fetch import cache_dir
    from mhbook.sources import boundaries

    sha = catalogue.get(boundaries.LAYERS["ctyua-2023"].dataset_id).sha256
    cached = cache_dir() / "tables" / f"ctyua-2023-svg-{sha[:16]}-{int(SIMPLIFY_METRES)}.json"
    if cached.exists():
        data = json.loads(cached.read_text("utf-8"))
        return data["paths"], tuple(data["size"])
    gdf = boundaries.load("ctyua-2023").to_crs(_BNG)
    simple = shapely.coverage_simplify(gdf.geometry.values, SIMPLIFY_METRES)
    x0, y0, x1, y1 = shapely.total_bounds(simple)
    scale = MAP_WIDTH / (x1 - x0)
    size = (MAP_WIDTH, int((y1 - y0) * scale) + 1)
    paths = {code: _path_data(geom, x0, y1, scale) for code, geom in zip(gdf["code"], simple)}
    atomic.write_json(cached, {"paths": paths, "size": size})
    return paths, size


#: The London region, drawn again enlarged as an inset: its boroughs are a few pixels wide on the map.
LONDON = "E12000007"
#: Areas narrower than this on the whole map (in its units: 16 is about 13 CSS px at the 32rem map)
#: are also listed under the map as "small areas".
SMALL_AREA = 16.0
_POINT = re.compile(r"(-?[\d.]+),(-?[\d.]+)")


def _bbox(d: str) -> tuple[float, float, float, float]:
    """The bounding box of SVG path data ``d`` written by ``_path_data``."""
    xs, ys = zip(*((float(x), float(y)) for x, y in _POINT.findall(d)))
    return min(xs), min(ys), max(xs), max(ys)


def _shapes(paths: dict[str, str], built: set[str], names: dict[str, str], prefix: str = "") -> list[str]:
    shapes = []
    for code, d in sorted(paths.items()):
        name = html.escape(names.get(code, code))
        if code in built:
            shapes.append(
                f'<a href="{code}/index.html" aria-label="{name}"><path class="built" d="{d}" '
                f'data-code="{code}"><title>{name}</title></path></a>'
            )
        else:
            shapes.append(
                f'<path class="not-built" d="{d}" data-code="{code}" aria-hidden="true">'
                f"<title>{name} (not built)</title></path>"
            )
    return shapes


def _svg(built: set[str], names: dict[str, str], regions: dict[str, str] | None = None) -> str:
    """The map, a London inset and a list of the areas too small to point at on the map."""
    try:
        paths, (width, height) = map_shapes()
    except Exception as exc:  # the landing page must not fail for want of a map
        log.warning("national map not drawn: %s: %s", type(exc).__name__, exc)
        return "<p>The map could not be drawn; use the list below.</p>"
    regions = regions or {}
    main = (
        f'<svg id="map-england" viewBox="0 0 {width} {height}" role="group" aria-labelledby="map-title" '
        f'xmlns="http://www.w3.org/2000/svg">\n<title id="map-title">Map of England\'s Counties and '
        f"Unitary Authorities: choose an area to open its site</title>\n"
        + "\n".join(_shapes(paths, built, names))
        + "\n</svg>"
    )
    london = {c: d for c, d in paths.items() if regions.get(c) == LONDON}
    inset = ""
    if london:
        boxes = [_bbox(d) for d in london.values()]
        x0, y0 = min(b[0] for b in boxes) - 1, min(b[1] for b in boxes) - 1
        x1, y1 = max(b[2] for b in boxes) + 1, max(b[3] for b in boxes) + 1
        inset = (
            f'<h3 id="london-heading">London, enlarged</h3>\n'
            f'<svg id="map-london" viewBox="{x0:.1f} {y0:.1f} {x1 - x0:.1f} {y1 - y0:.1f}" role="group" '
            f'aria-labelledby="london-title" xmlns="http://www.w3.org/2000/svg" class="inset">\n'
            f'<title id="london-title">Map of the London boroughs, enlarged: choose one to open its site</title>\n'
            + "\n".join(_shapes(london, built, names))
            + "\n</svg>"
        )
    small = []
    for code, d in sorted(paths.items(), key=lambda kv: names.get(kv[0], kv[0])):
        bx0, by0, bx1, by1 = _bbox(d)
        if code in london or min(bx1 - bx0, by1 - by0) >= SMALL_AREA:
            continue
        name = html.escape(names.get(code, code))
        small.append(
            f'<li><a href="{code}/index.html">{name}</a></li>'
            if code in built
            else f'<li>{name} <span class="meta">(not built)</span></li>'
        )
    listing = ""
    if small:
        listing = (
            '<h3 id="small-heading">Small areas, hard to point at on the map</h3>\n'
            '<ul class="small-areas" aria-labelledby="small-heading">\n' + "\n".join(small) + "\n</ul>"
        )
    return "\n".join(part for part in (main, inset, listing) if part)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Mental health inequalities by County &amp; UA: mhbook</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 64rem; margin: 0 auto; padding: 1rem; line-height: 1.5; color: #1a1a1a; }}
    a {{ color: #0b4f8a; }}
    .cols {{ display: flex; flex-wrap: wrap; gap: 2rem; }}
    .map {{ flex: 1 1 24rem; max-width: 32rem; }}
    .map svg {{ width: 100%; height: auto; }}
    .map path {{ stroke: #ffffff; stroke-width: 0.5; }}
    .map path.built {{ fill: #5b8db8; }}
    .map a:hover path, .map a:focus path {{ fill: #0b4f8a; }}
    .map a:focus {{ outline: none; }}
    .map a:focus path {{ stroke: #000000; stroke-width: 2; }}
    .map path.not-built {{ fill: #d0d0d0; }}
    .map svg.inset {{ border: 1px solid #6c757d; }}
    .map svg.inset path {{ stroke-width: 0.08; }}
    .map svg.inset a:focus path {{ stroke-width: 0.3; }}
    .small-areas {{ columns: 2; padding-left: 1.2rem; }}
    .areas {{ flex: 1 1 20rem; }}
    .areas ul {{ padding-left: 1.2rem; }}
    .meta {{ color: #4a4a4a; }}
    label {{ display: block; font-weight: 600; }}
    input {{ font-size: 1rem; padding: 0.3rem; width: 100%; max-width: 24rem; }}
  </style>
</head>
<body>
  <main>
    <h1>Mental health inequalities in England, by County &amp; UA</h1>
    <p>Each site rebuilds, for one area, the evidence of the Commission for Equality in Mental Health
    from published data: need, access and outcomes by deprivation and other characteristics.</p>
{england}
    <div class="cols">
      <section class="map" aria-labelledby="map-heading">
        <h2 id="map-heading">Map</h2>
        {svg}
        <p class="meta">Contains OS data &copy; Crown copyright and database right. Source: Office for
        National Statistics, Counties and Unitary Authorities (December 2023) boundaries, licensed under
        the Open Government Licence v3.0.</p>
      </section>
      <section class="areas" aria-labelledby="list-heading">
        <h2 id="list-heading">Areas built ({n_built} of {n_all})</h2>
        <form role="search" onsubmit="return false;">
          <label for="area-filter">Search areas by name, code, region or district</label>
          <input id="area-filter" type="search" autocomplete="off" aria-controls="area-list">
        </form>
        <p id="area-count" class="meta" aria-live="polite"></p>
        <ul id="area-list">
{items}
        </ul>
      </section>
    </div>
  </main>
  <script>
    (function () {{
      var box = document.getElementById("area-filter");
      var items = document.querySelectorAll("#area-list li");
      var count = document.getElementById("area-count");
      box.addEventListener("input", function () {{
        var q = box.value.trim().toLowerCase(), shown = 0;
        items.forEach(function (li) {{
          var hit = li.getAttribute("data-search").indexOf(q) !== -1;
          li.hidden = !hit;
          if (hit) shown += 1;
        }});
        count.textContent = q ? shown + " area(s) match" : "";
      }});
    }})();
  </script>
</body>
</html>
"""


def write_landing(out: Path) -> Path:
    """Write ``out/index.html`` linking every area site present in ``out`` (and the
    England-level pages in ``out/england``, when built); returns its path."""
    from mhbook import areas

    out = Path(out)
    everything = areas.all_areas()
    built = [a for a in everything if (out / a.code / "index.html").exists()]
    items = "\n".join(
        f'          <li data-search="{html.escape(" ".join([a.name, a.code, a.region_name, *(n for _, n in a.districts)]).lower())}">'
        f'<a href="{html.escape(a.code)}/index.html">{html.escape(a.name)}</a> '
        f'<span class="meta">({html.escape(a.code)}, {html.escape(a.region_name)})</span></li>'
        for a in built
    )
    england = ""
    if (out / "england" / "index.html").exists():
        england = (
            '    <p><a href="england/index.html">England-level pages</a>: the national figures '
            "and methods that every area's site shares.</p>"
        )
    if (out / "changes.html").exists():
        england += (
            '\n    <p><a href="changes.html">What changed in the last build</a>: datasets refreshed, '
            "pages and areas re-run.</p>"
        )
    page = _PAGE.format(
        england=england,
        svg=_svg(
            {a.code for a in built}, {a.code: a.name for a in everything}, {a.code: a.region_code for a in everything}
        ),
        n_built=len(built),
        n_all=len(everything),
        items=items,
    )
    return atomic.write_text(out / "index.html", page)
