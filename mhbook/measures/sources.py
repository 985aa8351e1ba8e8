"""The datasets behind the book, for its Sources and methods page."""

from __future__ import annotations

import pandas as pd

from mhbook import catalogue


def dataset_table() -> pd.DataFrame:
    """One row per catalogued dataset: what it is, who publishes it, its period,
    licence and attribution, and the sha256 the build verified it against."""
    rows = [
        {
            "dataset": d.title,
            "publisher": d.publisher,
            "period": d.period,
            "geography": d.geography,
            "licence": d.licence,
            "attribution": d.attribution,
            "id": d.id,
            "sha256": d.sha256,
        }
        for d in catalogue.datasets().values()
    ]
    return pd.DataFrame(rows)
