"""House style, charts, maps, alt text and publishing for the book's figures.

Charts take tidy DataFrames and return :class:`Figure` (a Matplotlib figure with its alt
text, caption and data); :func:`publish` saves it with a CSV download and returns MyST
markdown for the page. See each function's docstring for the columns it expects.
"""

from mhbook.figures import palette, style
from mhbook.figures.alttext import caption_for_suppression
from mhbook.figures.charts import attrition_panels, decile_chart, lsoa_decile_chart, trend_chart
from mhbook.figures.comparisons import forest_chart, scatter_fit, triple_barrier_chart
from mhbook.figures.figure import Figure
from mhbook.figures.maps import choropleth, choropleth_ax
from mhbook.figures.publish import publish, publish_table

__all__ = [
    "Figure",
    "attrition_panels",
    "caption_for_suppression",
    "choropleth",
    "choropleth_ax",
    "decile_chart",
    "forest_chart",
    "lsoa_decile_chart",
    "palette",
    "publish",
    "publish_table",
    "scatter_fit",
    "style",
    "trend_chart",
    "triple_barrier_chart",
]
