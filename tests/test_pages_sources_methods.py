"""Tests of mhbook.pages.sources_methods: the Sources and methods page's tables and glued values,
from the catalogue this checkout ships (no data mirror needed; tables are published into a
temporary folder)."""

from __future__ import annotations

from mhbook import catalogue
from mhbook.areas import Area
from mhbook.pages import sources_methods as page


def test_every_catalogued_dataset_is_listed_once_with_its_pin():
    datasets = page.dataset_table()
    assert list(datasets["id"]) == [d.id for d in catalogue.listing()]
    assert datasets["id"].is_unique
    assert datasets["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert datasets["download"].map(lambda v: isinstance(v, str) and v != "").all()  # a URL or why there is none


def test_the_two_tables_split_credit_from_pins():
    datasets = page.dataset_table()
    assert list(page.citation_table(datasets).columns) == [
        "dataset", "publisher", "period", "geography", "licence", "attribution",
    ]  # fmt: skip
    assert list(page.hash_table(datasets).columns) == ["id", "sha256", "download"]


def test_glued_values_name_the_area_and_count_the_datasets():
    area = Area("E06999999", "Synthetic Shire", "E12999999", "Synthetic Region", ())  # SYNTHETIC area
    values = page.headline_numbers(area, page.dataset_table())
    assert values["area_name"] == "Synthetic Shire"
    assert values["n_datasets"] == len(catalogue.listing())


def test_published_tables_write_their_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    datasets = page.dataset_table()
    assert "datasets.csv" in page.publish_citation_table(datasets).data
    assert "dataset-hashes.csv" in page.publish_hash_table(datasets).data
    assert (tmp_path / "_figures" / "dataset-hashes.csv").read_text("utf-8").count("\n") >= len(datasets)
