"""Tests for mhbook.figures: house style, charts, maps, alt text and publishing.

Every data frame built here is SYNTHETIC (made-up numbers shaped like the real tables),
except the map test marked ``mirror``, which draws the real ONS County & UA boundaries.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from shapely.geometry import box

matplotlib.use("Agg")

from mhbook.errors import SchemaError, UnknownAreaError, UsageError  # noqa: E402
from mhbook.figures import (  # noqa: E402
    Figure,
    attrition_panels,
    caption_for_suppression,
    choropleth,
    decile_chart,
    forest_chart,
    lsoa_decile_chart,
    palette,
    phone,  # noqa: E402
    publish,
    publish_table,
    scatter_fit,
    style,
    trend_chart,
    triple_barrier_chart,
)
from mhbook.figures._common import new_figure  # noqa: E402
from mhbook.figures.publish import escape_markdown  # noqa: E402
from mhbook.figures.spine import spine_chart  # noqa: E402
from mhbook.site import figure_pictures  # noqa: E402


# ---------------------------------------------------------------- synthetic fixtures
def synthetic_deciles(series=("England", "Manchester ICB"), missing=()) -> pd.DataFrame:
    """SYNTHETIC recovery rates by decile; (series, decile) pairs in ``missing`` are NaN."""
    rows = []
    for k, s in enumerate(series):
        for d in range(1, 11):
            v = 40.0 + 1.5 * d + k
            rows.append({"series": s, "imd_decile": d, "value": v, "lower_cl": v - 2, "upper_cl": v + 2})
    df = pd.DataFrame(rows)
    for s, d in missing:
        df.loc[(df["series"] == s) & (df["imd_decile"] == d), ["value", "lower_cl", "upper_cl"]] = np.nan
    return df


def line_ydata(ax) -> list[np.ndarray]:
    return [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines if len(line.get_ydata()) > 1]


# ---------------------------------------------------------------- palette and style
def test_palette_roles_distinct_and_deciles_ten():
    roles = [to_rgb(c) for c in (palette.AREA, palette.ENGLAND, palette.COMPARATOR)]
    assert len(set(roles)) == 3
    assert len(palette.DECILES) == 10 and len(set(palette.DECILES)) == 10
    # decile 1 (most deprived) is the darkest colour, decile 10 the lightest
    lum = [sum(to_rgb(c)) for c in palette.DECILES]
    assert lum == sorted(lum)
    styles = palette.series_styles(["Manchester", "England", "Greater Manchester ICB"])
    assert styles["England"] == (palette.ENGLAND, "s")
    assert styles["Manchester"][0] == palette.AREA
    assert len({m for _, m in styles.values()}) == 3  # shapes differ, not only colours


def test_significance_categories_differ_by_shape_not_only_colour():
    markers = {cat: m for cat, (_, m) in palette.SIGNIFICANCE.items()}
    assert len({markers["better"], markers["similar"], markers["worse"]}) == 3
    assert len({markers["higher"], markers["similar"], markers["lower"]}) == 3


def test_style_applies_in_context_only():
    before = matplotlib.rcParams["axes.spines.top"]
    with style.apply():
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["savefig.dpi"] == 150
    assert matplotlib.rcParams["axes.spines.top"] == before

    @style.apply()
    def inside():
        return matplotlib.rcParams["savefig.dpi"]

    assert inside() == 150


# ---------------------------------------------------------------- charts
def test_decile_chart_gaps_not_zero_and_alt_text():
    df = synthetic_deciles(missing=[("Manchester ICB", 9), ("Manchester ICB", 10)])
    f = decile_chart(df, series="series", measure="recovery rate", unit="%", context="2018-19", area="Manchester ICB")
    assert isinstance(f, Figure)
    ax = f.fig.axes[0]
    ys = line_ydata(ax)
    area = next(y for y in ys if np.isnan(y).any())
    assert np.isnan(area[8:]).all() and not (area == 0).any()
    assert "recovery rate (%)" in f.alt and "decile 1 (most deprived)" in f.alt
    assert "England from 41.5% in decile 1" in f.alt  # synthetic 40 + 1.5 x decile
    assert "Manchester ICB is above England in 8 of 8 deciles" in f.alt
    assert "2 decile values are suppressed" in f.alt and "2 decile values are suppressed" in f.caption
    assert ax.get_title() == ""
    assert ax.get_ylabel() == "recovery rate (%)"
    assert f.data["recovery_rate_pct"].isna().sum() == 2
    assert {"imd_decile", "series", "recovery_rate_pct_lower_cl"} <= set(f.data.columns)
    # series differ in marker as well as colour
    markers = {line.get_marker() for line in ax.lines if len(line.get_ydata()) > 1}
    assert len(markers - {"_"}) == 2  # "_" are the error-bar caps


def test_decile_chart_rejects_bad_input():
    df = synthetic_deciles(series=("England",))
    with pytest.raises(SchemaError, match="upper_ci"):
        decile_chart(df, upper="upper_ci")
    bad = df.copy()
    bad.loc[0, "lower_cl"] = bad.loc[0, "value"] + 1
    with pytest.raises(SchemaError, match="lower_cl <= value"):
        decile_chart(bad)
    bad = df.copy()
    bad.loc[0, "imd_decile"] = 11
    with pytest.raises(SchemaError, match="deciles 1 to 10"):
        decile_chart(bad)


@pytest.mark.parametrize("ncols,shape", [(4, (1, 4)), (2, (2, 2))])
def test_attrition_panels_layout_and_alt(ncols, shape):
    rows = []
    for m, slope in [("referrals", -3), ("finished treatment", 1), ("recovery", 1), ("reliable improvement", 1)]:
        for d in range(1, 11):
            v = 50.0 + slope * d
            rows.append({"measure": m, "imd_decile": d, "value": v, "lower_cl": v - 1, "upper_cl": v + 1})
    df = pd.DataFrame(rows)  # SYNTHETIC
    df.loc[(df["measure"] == "recovery") & (df["imd_decile"] == 1), ["value", "lower_cl", "upper_cl"]] = np.nan
    f = attrition_panels(df, ncols=ncols, context="England, 2018-19")
    visible = [ax for ax in f.fig.axes if ax.get_visible()]
    assert len(visible) == 4
    grid = visible[0].get_subplotspec().get_gridspec()
    assert (grid.nrows, grid.ncols) == shape
    assert "referrals (per 100,000 population) from 47.0" in f.alt
    assert "1 decile value is suppressed" in f.alt
    recovery_ax = next(ax for ax in visible if ax.get_ylabel().startswith("recovery"))
    y = line_ydata(recovery_ax)[0]
    assert np.isnan(y[0]) and y[1] == 52.0
    assert set(f.data["measure"]) == {"referrals", "finished treatment", "recovery", "reliable improvement"}


def test_trend_chart_band_and_gap():
    periods = ["2015-16", "2016-17", "2017-18", "2018-19"]
    df = pd.DataFrame(
        {  # SYNTHETIC
            "area": ["England"] * 4 + ["Manchester"] * 4,
            "period": periods * 2,
            "value": [10, 10.5, 11, 11.5, 12, np.nan, 13, 14],
        }
    )
    df["lower_cl"], df["upper_cl"] = df["value"] - 0.4, df["value"] + 0.4
    f = trend_chart(df, series="area", measure="depression prevalence", unit="%", area="Manchester")
    ax = f.fig.axes[0]
    man = next(y for y in line_ydata(ax) if np.isnan(y).any())
    assert np.isnan(man[1]) and man[0] == 12
    assert len(ax.collections) == 2  # one band per series
    assert "Line chart of depression prevalence (%)" in f.alt
    assert "Manchester from 12.0% in 2015-16 to 14.0% in 2018-19" in f.alt
    assert "1 value is suppressed" in f.caption


def test_forest_chart_shapes_labels_and_log_scale():
    df = pd.DataFrame(
        {  # SYNTHETIC rate ratios against White
            "group": ["Asian", "Black", "Mixed", "Other"],
            "value": [1.1, 3.5, np.nan, 0.8],
            "lower_cl": [0.9, 3.0, np.nan, 0.6],
            "upper_cl": [1.3, 4.1, np.nan, 1.0],
            "significance": ["similar", "higher", "similar", "lower"],
        }
    )
    f = forest_chart(df, benchmark=1, measure="detention rate ratio", log=True, benchmark_label="White")
    ax = f.fig.axes[0]
    assert ax.get_xscale() == "log"
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["similar", "higher", "suppressed", "lower"]
    drawn = {
        line.get_marker(): line.get_xdata() for line in ax.lines if line.get_marker() not in ("None", None, "", "|")
    }
    assert set(drawn) == {"o", "^", "v"}
    assert np.allclose(drawn["^"], [3.5]) and not any(0 in x for x in drawn.values())
    assert "higher for Black" in f.alt and "lower for Other" in f.alt and "1 group is suppressed" in f.alt
    with pytest.raises(SchemaError, match="expected"):
        forest_chart(df.assign(significance="green"), benchmark=1)


def test_triple_barrier_chart():
    rows = []
    for dim, groups in [("ethnicity", ["Asian", "Black"]), ("sex", ["female"])]:
        for g in groups:
            for b, r in zip(["need", "access", "outcome", "coercion"], [1.5, 0.7, 0.9, 3.0]):
                rows.append(
                    {"dimension": dim, "group": g, "barrier": b, "value": r, "lower_cl": r * 0.8, "upper_cl": r * 1.2}
                )
    df = pd.DataFrame(rows)  # SYNTHETIC
    df.loc[(df["group"] == "female") & (df["barrier"] == "coercion"), ["value", "lower_cl", "upper_cl"]] = np.nan
    f = triple_barrier_chart(df)
    ax = f.fig.axes[0]
    assert ax.get_xscale() == "log"
    assert any(np.allclose(line.get_xdata(), [1, 1]) for line in ax.lines)  # reference line
    coercion = f.data[f.data["barrier"] == "coercion"]["ratio_to_population"]
    assert coercion.isna().sum() == 1 and (coercion.dropna() == 3.0).all()
    assert "need above 1 for 3 of 3" in f.alt and "1 ratio is not available" in f.alt
    assert {"ethnicity", "sex"} <= {t.get_text() for t in ax.texts}


def test_scatter_fit_highlight_and_fit():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {  # SYNTHETIC County & UAs
            "area_code": [f"E0600{i:04d}" for i in range(40)],
            "area_name": [f"Area {i}" for i in range(40)],
            "imd_score": rng.uniform(5, 45, 40),
        }
    )
    df["value"] = 8 + 0.1 * df["imd_score"]
    df.loc[3, "value"] = np.nan
    grid = np.linspace(5, 45, 10)
    fit = pd.DataFrame({"x": grid, "fit": 8 + 0.1 * grid, "lower": 7.8 + 0.1 * grid, "upper": 8.2 + 0.1 * grid})
    f = scatter_fit(
        df,
        highlight_code="E06000007",
        fit=fit,
        r_text="r = 0.62 (0.51 to 0.71)",
        y_measure="depression prevalence",
        y_unit="%",
    )
    ax = f.fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Area 7" in labels and any("r = 0.62" in t for t in labels)
    assert "Area 7, highlighted" in f.alt and "1 County & UA without data is not shown" in f.alt
    assert "rises" in f.alt
    with pytest.raises(UnknownAreaError, match="E09999999"):
        scatter_fit(df, highlight_code="E09999999")


def test_lsoa_decile_chart_shares():
    counts = pd.DataFrame({"imd_decile": [1, 2, 3, 5, 8], "lsoas": [120, 60, 40, 30, 10]})  # SYNTHETIC
    f = lsoa_decile_chart(counts, area_name="Manchester")
    heights = [p.get_height() for p in f.fig.axes[0].patches]
    assert len(heights) == 10 and heights[0] == pytest.approx(120 / 260 * 100)
    assert heights[3] == 0  # no LSOAs in decile 4 is a real zero here
    assert f.data["share_pct"].sum() == pytest.approx(100)
    assert "46.2% in decile 1 (most deprived)" in f.alt and "84.6%" in f.alt


def test_caption_for_suppression():
    assert caption_for_suppression(0, "decile") == ""
    assert caption_for_suppression(1, "decile").startswith("1 decile is suppressed")
    assert caption_for_suppression(3, "authority").startswith("3 authorities are suppressed")
    with pytest.raises(ValueError):
        caption_for_suppression(-1, "decile")


# ---------------------------------------------------------------- maps
def synthetic_map() -> gpd.GeoDataFrame:
    """SYNTHETIC 4x4 grid of square 'areas' in British National Grid metres."""
    cells = [(i, j) for i in range(4) for j in range(4)]
    return gpd.GeoDataFrame(
        {
            "area_code": [f"E0600{k:04d}" for k in range(16)],
            "area_name": [f"Area {k}" for k in range(16)],
            "value": [np.nan if k in (0, 5) else float(k) for k in range(16)],
        },
        geometry=[
            box(400000 + 20000 * i, 300000 + 20000 * j, 420000 + 20000 * i, 320000 + 20000 * j) for i, j in cells
        ],
        crs="EPSG:27700",
    )


def test_choropleth_bins_no_data_and_highlight():
    f = choropleth(synthetic_map(), "value", "E06000009", label="depression prevalence", unit="%", k=4)
    ax = f.fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no data" in legend and "Area 9" in legend and len(legend) == 6
    assert (f.data["bin"] == "no data").sum() == 2
    assert f.data.loc[f.data["area_code"] == "E06000000", "depression_prevalence_pct"].isna().all()
    assert any("Area 9: 9.0%" in t.get_text() for t in ax.texts)
    assert any("Crown copyright" in t.get_text() for t in ax.texts)
    assert "2 County & UAs have no data" in f.alt and "Area 9, outlined, has 9.0%" in f.alt
    assert not ax.axison


@pytest.mark.mirror
def test_choropleth_real_boundaries_highlights_area():
    from mhbook.fetch import fetch
    from mhbook.geometry import simplify_for_map

    gdf = gpd.read_file(fetch("bnd-ctyua-2023"))
    gdf = gdf[gdf["CTYUA23CD"].str.startswith("E")].rename(columns={"CTYUA23CD": "area_code", "CTYUA23NM": "area_name"})
    assert len(gdf) == 153  # England's County & UAs, December 2023
    gdf = simplify_for_map(gdf)
    gdf["value"] = np.arange(len(gdf), dtype=float)  # SYNTHETIC values on real boundaries
    f = choropleth(gdf, "value", "E08000003", label="synthetic score")
    ax = f.fig.axes[0]
    manchester = gdf.loc[gdf["area_code"] == "E08000003", "geometry"].iloc[0]
    outline = ax.collections[-1]  # the highlight outline is drawn last on the main map
    assert outline.get_linewidth()[0] == pytest.approx(2.2)
    xs = np.concatenate([p.vertices[:, 0] for p in outline.get_paths()])
    assert xs.min() == pytest.approx(manchester.bounds[0]) and xs.max() == pytest.approx(manchester.bounds[2])
    assert "Manchester, outlined" in f.alt and "153 County & UAs" in f.alt
    assert any(t.get_text().startswith("Manchester:") for t in ax.texts)


def test_choropleth_synthetic_grid_highlights_area(synthetic_mirror):
    """The same on the SYNTHETIC grid of tests/synthetic/boundaries.py (no mirror needed)."""
    from mhbook.fetch import fetch
    from mhbook.geometry import simplify_for_map

    gdf = gpd.read_file(fetch("bnd-ctyua-2023"))
    gdf = gdf[gdf["CTYUA23CD"].str.startswith("E")].rename(columns={"CTYUA23CD": "area_code", "CTYUA23NM": "area_name"})
    gdf = simplify_for_map(gdf[gdf.geometry.is_valid])  # the bow-tie cell is left out: 152 areas
    gdf["value"] = np.arange(len(gdf), dtype=float)
    f = choropleth(gdf, "value", "E06900007", label="synthetic score")
    ax = f.fig.axes[0]
    cell = gdf.loc[gdf["area_code"] == "E06900007", "geometry"].iloc[0]
    outline = ax.collections[-1]
    assert outline.get_linewidth()[0] == pytest.approx(2.2)
    xs = np.concatenate([p.vertices[:, 0] for p in outline.get_paths()])
    assert xs.min() == pytest.approx(cell.bounds[0]) and xs.max() == pytest.approx(cell.bounds[2])
    assert "Synthetic Unitary Ag, outlined" in f.alt and "152 County & UAs" in f.alt
    assert any(t.get_text().startswith("Synthetic Unitary Ag:") for t in ax.texts)


# ---------------------------------------------------------------- publishing
def test_escape_markdown():
    assert escape_markdown("a *b* {c}`d` $e$ [f](g) <h> 1_2 #3 | x") == (
        r"a \*b\* \{c\}\`d\` \$e\$ \[f\](g) \<h\> 1\_2 \#3 \| x"
    )
    assert escape_markdown("- not a list") == r"\- not a list"
    assert escape_markdown("1. not a list") == r"1\. not a list"


def tricky_figure() -> Figure:
    df = synthetic_deciles(series=("England",), missing=[("England", 2)])
    return decile_chart(
        df, measure="recovery rate", unit="%", caption='Recovery *rate*: 50% {x} `y` $z$ "q" # [a](b) <i> 1_2'
    )


def test_publish_writes_files_and_markdown(tmp_path):
    f = tricky_figure()
    md = publish(f, "recovery-by-decile", outdir=tmp_path / "_figures", svg=True).data
    for ext in ("png", "svg", "csv"):
        assert (tmp_path / "_figures" / f"recovery-by-decile.{ext}").stat().st_size > 0
    csv = pd.read_csv(tmp_path / "_figures" / "recovery-by-decile.csv")
    assert csv["recovery_rate_pct"].isna().sum() == 1  # missing stays missing, not 0
    lines = md.splitlines()
    assert re.match(r"^````\{figure\} .*recovery-by-decile\.png$", lines[0])
    assert lines[1].startswith(':alt: "Dot chart of recovery rate (%)')
    assert lines[2] == ":name: fig-recovery-by-decile"
    assert "\\*rate\\*" in md and "\\$z\\$" in md and "\\`y\\`" in md
    assert re.search(r"\{download\}`Download the data behind this figure \(CSV\) <.*recovery-by-decile\.csv>`", md)
    with pytest.raises(ValueError, match="lowercase"):
        publish(tricky_figure(), "Bad Name", outdir=tmp_path)


def test_a_chart_object_is_published_once(tmp_path, monkeypatch):
    # publish re-lays a chart out for phones: published again, its phone layout would become
    # the desktop rendering of the next area (as a cache of England's charts once did).
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    chart = tricky_figure()
    publish(chart, "once", outdir=tmp_path / "a")
    with pytest.raises(UsageError, match="published before"):
        publish(chart, "once", outdir=tmp_path / "b")
    assert not (tmp_path / "b" / "once.png").exists()


def test_publish_reuses_the_rendering_of_an_identical_chart(tmp_path, monkeypatch):
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    first = tricky_figure()
    publish(first, "same-chart", outdir=tmp_path / "a")
    second = tricky_figure()
    calls = []
    monkeypatch.setattr(second.fig, "savefig", lambda *a, **k: calls.append(a))
    publish(second, "same-chart", outdir=tmp_path / "b")
    assert calls == [], "an identical chart was rendered again"
    assert (tmp_path / "b" / "same-chart.png").read_bytes() == (tmp_path / "a" / "same-chart.png").read_bytes()
    third = tricky_figure()
    third.caption += " (another area)"
    real = third.fig.savefig
    monkeypatch.setattr(third.fig, "savefig", lambda *a, **k: (calls.append(a), real(*a, **k)))
    publish(third, "same-chart", outdir=tmp_path / "c")
    assert calls, "a different chart must be rendered afresh"
    assert (tmp_path / "b" / "same-chart.phone.png").read_bytes() == (
        tmp_path / "a" / "same-chart.phone.png"
    ).read_bytes()
    kept = json.loads((tmp_path / "b" / "same-chart.json").read_text())["renderings"]
    assert kept == json.loads((tmp_path / "a" / "same-chart.json").read_text())["renderings"]


def _crowded_panels() -> Figure:
    """SYNTHETIC: three side-by-side panels whose labels leave constrained layout no room
    once stacked for a phone (Matplotlib then warns "constrained_layout not applied")."""
    fig = matplotlib.figure.Figure(figsize=(12, 3), layout="constrained")
    for ax in fig.subplots(1, 3):
        ax.plot([1, 2], [1, 2])
        ax.set_ylabel("a very long label\n" * 12)
        ax.set_title("title " * 10)
    return Figure(fig, "Synthetic panels.", "Synthetic panels.", pd.DataFrame({"x": [1, 2]}))


def test_publish_keeps_layout_warnings_off_the_page(tmp_path, monkeypatch, recwarn):
    # Warnings printed while a notebook publishes a figure would show on the reader's page.
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    publish(_crowded_panels(), "crowded-panels", outdir=tmp_path)
    assert [str(w.message) for w in recwarn] == []
    assert (tmp_path / "crowded-panels.phone.png").stat().st_size > 0


def test_publish_table_missing_label(tmp_path):
    df = pd.DataFrame({"group": ["A|B", "C"], "referrals": [1200, np.nan], "rate": [1.234, 5.0]})  # SYNTHETIC
    md = publish_table(
        df, "referrals", "Referrals *by* group", outdir=tmp_path, missing_label="–", formats={"rate": "{:.2f}"}
    ).data
    assert "nan" not in md.lower()
    assert "| C | – | 5.00 |" in md and "A\\|B" in md and "1,200" in md
    assert md.startswith("````{table} Referrals \\*by\\* group\n:name: tbl-referrals")
    assert pd.read_csv(tmp_path / "referrals.csv")["referrals"].isna().sum() == 1


def test_published_markdown_builds_in_strict_sphinx(tmp_path, monkeypatch):
    """The markdown outputs, rendered by myst-nb as MyST, pass a -W -n Sphinx build."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    monkeypatch.chdir(src)  # papermill runs each notebook in its own folder
    fig_md = publish(tricky_figure(), "recovery-by-decile").data
    tab_md = publish_table(
        pd.DataFrame({"group": ["A", "B"], "n": [1.0, np.nan]}), "counts", "Counts: *all* groups"
    ).data
    cells = [
        {
            "id": "intro",
            "cell_type": "markdown",
            "metadata": {},
            "source": "# Test page\n\nSee {numref}`fig-recovery-by-decile`.",
        }
    ]
    for i, md in enumerate((fig_md, tab_md)):
        cells.append(
            {
                "id": f"out{i}",
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "source": "publish(...)",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/markdown": md, "text/plain": "<Markdown>"},
                    }
                ],
            }
        )
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (src / "index.ipynb").write_text(json.dumps(nb))
    (src / "conf.py").write_text(
        "extensions = ['myst_nb']\nnb_execution_mode = 'off'\nnb_render_markdown_format = 'myst'\n"
        "numfig = True\nexclude_patterns = ['_build']\nextensions.append('mhbook.site')\n"
    )
    app = Sphinx(
        str(src),
        str(src),
        str(tmp_path / "html"),
        str(tmp_path / "doctrees"),
        "html",
        warningiserror=True,
        freshenv=True,
        status=None,
        confoverrides={"nitpicky": True},
    )
    app.build()
    html = (tmp_path / "html" / "index.html").read_text()
    assert 'alt="Dot chart of recovery rate (%) by IMD decile' in html
    assert "Recovery *rate*: 50% {x} `y` $z$" in html.replace("&quot;", '"')
    assert "<table" in html and "suppressed" in html
    assert (tmp_path / "html" / "_images" / "recovery-by-decile.png").exists()
    # Phones get the figure laid out for them; every other screen and print the wide one.
    picture = re.search(r"<picture><source ([^>]*)><img ([^>]*)></picture>", html)
    assert picture, "the figure is not offered to phones"
    assert 'media="screen and (max-width: 40em)"' in picture.group(1)
    assert 'srcset="_images/recovery-by-decile.phone.png"' in picture.group(1)
    assert 'src="_images/recovery-by-decile.png"' in picture.group(2) and 'alt="Dot chart' in picture.group(2)
    assert (tmp_path / "html" / "_images" / "recovery-by-decile.phone.png").read_bytes().startswith(b"\x89PNG")
    assert list((tmp_path / "html" / "_downloads").rglob("recovery-by-decile.csv"))


def test_a_missing_period_leaves_a_gap_on_a_time_axis():
    # Synthetic series with 2017-18 missing: it is placed on the axis, not skipped.
    df = pd.DataFrame(
        {
            "period": ["2015-16", "2016-17", "2018-19"],
            "value": [1.0, 2.0, 3.0],
            "lower_cl": [0.5, 1.5, 2.5],
            "upper_cl": [1.5, 2.5, 3.5],
        }
    )
    fig = trend_chart(df, measure="synthetic", unit="%")
    line = fig.fig.axes[0].lines[0]
    assert list(line.get_xdata()) == [0, 1, 2, 3]
    assert np.isnan(line.get_ydata()[2])
    assert "No data for 2017-18" in fig.alt and "No data for 2017-18" in fig.caption


# ---------------------------------------------------------------- figures on phones
def crowded_axis(width_in: float, rotation: float = 0) -> Figure:
    """SYNTHETIC: ten long tick labels on one x axis ``width_in`` inches wide."""
    with style.apply():
        fig, ax = new_figure((width_in, 2.5))
        ax.plot(range(10), range(10))
        ax.set_xticks(
            range(10), [f"group number {i}" for i in range(10)], rotation=rotation, ha="right" if rotation else "center"
        )
    return fig


def test_overlapping_tick_labels_are_found_and_thinned():
    assert phone.overlapping_tick_labels(crowded_axis(40)) == []  # room for every label
    crowded = crowded_axis(4)
    pairs = phone.overlapping_tick_labels(crowded)
    assert ("group number 0", "group number 1") in pairs and len(pairs) == 9
    assert phone.fit_tick_labels(crowded)
    assert phone.overlapping_tick_labels(crowded) == []
    shown = [t.get_text() for t in crowded.axes[0].get_xticklabels() if t.get_text()]
    assert shown[0] == "group number 0" and shown[-1] == "group number 9", shown  # both ends kept
    assert 2 <= len(shown) < 10


def test_group_names_that_collide_make_the_chart_taller_not_fewer():
    with style.apply():
        fig, ax = new_figure((4, 1.2))
        ax.plot(range(8), range(8))
        ax.set_yticks(range(8), [f"a group name\nof two lines {i}" for i in range(8)])
    assert phone.overlapping_tick_labels(fig)
    height = fig.get_size_inches()[1]
    assert phone.fit_tick_labels(fig)
    assert phone.overlapping_tick_labels(fig) == []
    assert fig.get_size_inches()[1] > height
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) == 8  # every name still shown


def test_overlapping_labels_at_an_angle():
    # 45 degree labels collide when ticks are closer, across the writing, than a line of text.
    assert phone.overlapping_tick_labels(crowded_axis(1.5, rotation=45))
    assert phone.overlapping_tick_labels(crowded_axis(12, rotation=45)) == []


def synthetic_attrition() -> pd.DataFrame:
    """SYNTHETIC: the four attrition measures by decile."""
    parts = []
    for k, name in enumerate(["referrals", "finished treatment", "recovery", "reliable improvement"]):
        part = synthetic_deciles(series=("England",)).drop(columns="series")
        part["measure"] = name
        part[["value", "lower_cl", "upper_cl"]] += 5 * k
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    "make",
    [
        lambda: attrition_panels(synthetic_attrition()),
        lambda: decile_chart(synthetic_deciles(), series="series", area="Manchester ICB"),
        lambda: forest_chart(
            pd.DataFrame(
                {
                    "group": [f"a rather long group name {i}" for i in range(6)],
                    "value": [40.0, 45, 50, 55, 60, 65],
                    "lower_cl": [35.0, 40, 45, 50, 55, 60],
                    "upper_cl": [45.0, 50, 55, 60, 65, 70],
                    "significance": ["better", "similar", "worse", "similar", "better", None],
                }
            ),
            benchmark=50,
            measure="recovery",
            unit="%",
        ),
    ],
    ids=["attrition-panels", "decile-chart", "forest-chart"],
)
def test_the_phone_layout_has_text_of_at_least_9_css_px_on_a_390_px_screen(make, tmp_path):
    figure = make()
    with style.apply():
        phone.phone_layout(figure.fig)
        path = tmp_path / "phone.png"
        figure.fig.savefig(path, dpi=phone.PHONE_DPI, bbox_inches="tight")
    assert phone.overlapping_tick_labels(figure.fig) == []
    smallest = phone.smallest_text_pt(figure.fig)
    assert smallest >= phone.MIN_TEXT_PT
    width_px = int.from_bytes(path.read_bytes()[16:20], "big")
    # Shown 358 CSS px wide (a 390 px screen less the page's margins), as the browser suite measures.
    on_screen = smallest * phone.PHONE_DPI / 72 * 358 / width_px
    assert on_screen >= 9, f"smallest text {on_screen:.1f} CSS px in a {width_px} px wide image"


def test_side_by_side_panels_are_stacked_for_phones():
    figure = attrition_panels(synthetic_attrition())
    assert len({round(ax.get_position().y0, 3) for ax in figure.fig.axes if ax.get_visible()}) == 1
    with style.apply():
        phone.phone_layout(figure.fig)
        figure.fig.draw_without_rendering()
    assert len({round(ax.get_position().x0, 3) for ax in figure.fig.axes if ax.get_visible()}) == 1
    assert len({round(ax.get_position().y0, 3) for ax in figure.fig.axes if ax.get_visible()}) == 4


@pytest.mark.parametrize("area", ["E06000009", "E06000000"], ids=["with-value", "no-data"])
def test_a_phone_map_keeps_its_legend_and_label_off_the_map(area):
    """On a phone the map is as wide as the figure; its label sits above it and its legend
    under the source lines, none of them over the map (seen before: a phone map's legend
    covering half of England, and a map shrunk to nothing by constrained layout)."""
    figure = choropleth(synthetic_map(), "value", area, label="depression prevalence", unit="%", k=4)
    fig = figure.fig
    with style.apply():
        phone.phone_layout(fig)
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    drawn = ax.get_window_extent(renderer)
    assert drawn.width >= 0.9 * fig.bbox.width  # the map keeps the phone's width
    legend = ax.get_legend().get_window_extent(renderer)
    label = next(t for t in ax.texts if t.get_bbox_patch() is not None).get_window_extent(renderer)
    source = next(t for t in ax.texts if "Crown copyright" in t.get_text()).get_window_extent(renderer)
    assert legend.y1 <= source.y0 <= source.y1 <= drawn.y0  # map, then source lines, then legend
    assert label.y0 >= drawn.y1
    for extent in (legend, label, source):
        assert fig.bbox.x0 - 1 <= extent.x0 and extent.x1 <= fig.bbox.x1 + 1  # within the phone's width
    assert phone.smallest_text_pt(fig) >= phone.MIN_TEXT_PT


def _headers_above_full_width_rows(figure, is_header) -> list[str]:
    """Lay ``figure`` out for a phone and check what a chart with names above its rows
    must be: no y tick labels, axes at least 0.8 of the width (they were about a tenth),
    headers one above another and within the width, no text under the minimum. Returns the
    texts ``is_header`` picks, top row first."""
    fig = figure.fig
    with style.apply():
        phone.phone_layout(fig, chart=figure.phone)
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert not [t for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    assert ax.get_window_extent(renderer).width >= 0.8 * fig.bbox.width
    headers = [t for t in ax.texts if t.get_visible() and is_header(t.get_text())]
    boxes = sorted((t.get_window_extent(renderer) for t in headers), key=lambda b: b.y0)
    assert all(lower.y1 <= upper.y0 for lower, upper in zip(boxes, boxes[1:]))  # no header over another
    assert all(b.x1 <= fig.bbox.x1 + 1 for b in boxes)  # wrapped within the phone's width
    assert phone.smallest_text_pt(fig) >= phone.MIN_TEXT_PT and phone.overlapping_tick_labels(fig) == []
    return [t.get_text() for t in headers]


def test_a_phone_spine_chart_writes_names_and_values_above_full_width_rows():
    """On a phone the names (left) and values (right) left the rows a sliver of the width;
    there they are written above each row instead. SYNTHETIC indicators and values."""
    names = [f"a rather long indicator name number {i}, aged 16+ (modelled)" for i in range(6)]
    rows = pd.DataFrame(
        {
            "label": names,
            "unit": ["%"] * 6,
            "value": [10.0, 12, np.nan, 9, 11, 13],
            "england": [11.0, 11, 11, 11, 11, np.nan],
            "region": [10.5] * 6,
            "comparison": ["higher than England at 99.8%"] * 6,
        }
    )
    nb = pd.DataFrame({"label": np.repeat(names, 3), "value": np.tile([9.0, 11.5, 12.5], 6)})
    figure = spine_chart(rows, nb, area="Synthetic area", region="Synthetic region")
    headers = _headers_above_full_width_rows(figure, lambda text: text.split("\n")[0] in names)
    assert len(headers) == 6
    assert "centre: neighbours' average" in headers[-1]  # the last row has no England value


def test_a_phone_forest_chart_writes_group_names_above_full_width_rows():
    """Long group names (NHS's disability categories) left the whiskers a sliver of a
    phone's width; there each name and comparison is written above its row. SYNTHETIC."""
    names = [f"a rather long group name, with an explanation {i}" for i in range(8)]
    df = pd.DataFrame(
        {
            "group": names,
            "value": [40.0, 45, 50, 55, 60, 65, np.nan, 52],
            "lower_cl": [35.0, 40, 45, 50, 55, 60, np.nan, 47],
            "upper_cl": [45.0, 50, 55, 60, 65, 70, np.nan, 57],
            "significance": ["better", "similar", "worse", "similar", "better", None, None, "worse"],
        }
    )
    figure = forest_chart(df, benchmark=50, measure="recovery", unit="%")
    headers = _headers_above_full_width_rows(figure, lambda text: text.split(" (")[0] in names)
    assert len(headers) == 8
    assert [h.rsplit("(", 1)[1] for h in headers][5:7] == ["not compared)", "suppressed)"]


def test_publish_records_each_rendering(tmp_path):
    publish(attrition_panels(synthetic_attrition()), "attrition", outdir=tmp_path, datasets=[], area_code="E92000001")
    meta = json.loads((tmp_path / "attrition.json").read_text())
    wide, narrow = meta["renderings"]
    assert (wide["file"], wide["media"]) == ("attrition.png", None)
    assert narrow["file"] == "attrition.phone.png" and narrow["media"] == phone.PHONE_MEDIA
    for r in (wide, narrow):
        png = (tmp_path / r["file"]).read_bytes()
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (r["width_px"], r["height_px"])
        assert r["smallest_text_px"] == pytest.approx(r["smallest_text_pt"] * r["dpi"] / 72, abs=0.01)
        assert r["overlapping_tick_labels"] == []
    assert narrow["width_px"] < wide["width_px"] and narrow["height_px"] > wide["height_px"]  # stacked panels


def test_figure_pictures_offers_the_phone_rendering():
    wide = {"width_px": 1050, "height_px": 630, "smallest_text_px": 18.75, "overlapping_tick_labels": []}
    narrow = {
        "width_px": 800,
        "height_px": 840,
        "smallest_text_px": 22.22,
        "overlapping_tick_labels": [],
        "media": "screen and (max-width: 40em)",
    }
    body = (
        '<figure><img alt="A &quot;chart&quot;" src="_images/a.png" />\n<figcaption>A</figcaption></figure>'
        '<img alt="logo" src="_images/logo.png" />'
    )
    out = figure_pictures(body, {"a.png": (wide, narrow, "a.phone.png")})
    assert (
        '<picture><source media="screen and (max-width: 40em)" srcset="_images/a.phone.png" width="800" '
        'height="840" data-mhbook-text-px="22.22" data-mhbook-overlapping-ticks="0">'
        '<img alt="A &quot;chart&quot;" src="_images/a.png" width="1050" height="630" '
        'data-mhbook-text-px="18.75" data-mhbook-overlapping-ticks="0" /></picture>'
    ) in out
    assert '<img alt="logo" src="_images/logo.png" />' in out  # no phone rendering: left alone
