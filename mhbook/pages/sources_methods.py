"""The Sources and methods chapter: the datasets behind the book, as tables and glued values.

Every row comes from the catalogue (``mhbook.catalogue.listing``: ``mhbook/catalogue.yaml``
with any re-pinned hashes applied), so the page lists exactly the datasets a build verifies,
with their licences, attributions and SHA-256 pins. ``notebooks/sources_methods.md`` holds
the chapter's fixed text (the statistical methods) and calls one function here per glued
block or table.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

import mhbook
from mhbook import catalogue, figures
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


def publish_citation_table(datasets: pd.DataFrame) -> Markdown:
    """``citation_table`` as published on the page, with its caption."""
    return figures.publish_table(
        citation_table(datasets),
        "datasets",
        caption="Datasets read by mhbook: publisher, period, geography, licence and attribution.",
        period="",  # one row per dataset, each with its own period (a column of the table)
    )


def publish_hash_table(datasets: pd.DataFrame) -> Markdown:
    """``hash_table`` as published on the page, with its caption."""
    return figures.publish_table(
        hash_table(datasets),
        "dataset-hashes",
        caption="The SHA-256 hash each dataset was verified against, and where to download it.",
        period="",  # the hashes of every catalogued dataset, whatever its period
    )
