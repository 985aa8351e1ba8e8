"""The datasets behind the book, for its Sources and methods page."""

from __future__ import annotations

import pandas as pd

import mhbook
from mhbook import catalogue
from mhbook.areas import Area


def dataset_table() -> pd.DataFrame:
    """One row per catalogued dataset: title, publisher, period, geography, licence,
    attribution, citation, id, sha256 and download URL (or why there is none)."""
    rows = [
        {
            "dataset": d.title,
            "publisher": d.publisher,
            "period": d.period,
            "geography": d.geography,
            "licence": d.licence,
            "attribution": d.attribution,
            "citation": d.citation,
            "id": d.id,
            "sha256": d.sha256,
            "download": d.url or d.url_note,
        }
        for d in catalogue.listing()
    ]
    return pd.DataFrame(rows)


def citation_table(datasets: pd.DataFrame) -> pd.DataFrame:
    """What each dataset is and how to credit it."""
    return datasets[["dataset", "publisher", "period", "geography", "licence", "attribution"]]


def hash_table(datasets: pd.DataFrame) -> pd.DataFrame:
    """How each dataset was pinned."""
    return datasets[["id", "sha256", "download"]]


def headline_numbers(area: Area, datasets: pd.DataFrame) -> dict:
    """Values glued into the page."""
    return {"area_name": area.name, "mhbook_version": mhbook.__version__, "n_datasets": len(datasets)}
