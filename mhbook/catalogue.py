"""The catalogue of every dataset mhbook reads (``catalogue.yaml`` beside this file).

Each entry pins one published file: where it comes from (publication page and a
download URL that yields exactly these bytes), its sha256, licence, attribution,
period, geography, the columns and row count expected when it is loaded, and caveats.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import yaml

from mhbook.errors import UnknownDatasetError


@dataclass(frozen=True)
class Dataset:
    """One catalogue entry. ``file`` is the path relative to a mirror folder."""

    id: str
    file: str
    sha256: str
    title: str
    publisher: str
    page: str
    url: str
    licence: str
    attribution: str
    period: str
    geography: str
    columns: tuple[str, ...] = ()
    rows: int | None = None
    caveats: str = ""
    conversion: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.file.rsplit("/", 1)[-1]


_FIELDS = set(Dataset.__dataclass_fields__) - {"extra"}


@cache
def datasets() -> dict[str, Dataset]:
    """All catalogue entries, by id, in catalogue order."""
    raw = yaml.safe_load(files("mhbook").joinpath("catalogue.yaml").read_text("utf-8"))
    out: dict[str, Dataset] = {}
    for entry in raw["datasets"]:
        known = {k: v for k, v in entry.items() if k in _FIELDS}
        known["columns"] = tuple(known.get("columns") or ())
        extra = {k: v for k, v in entry.items() if k not in _FIELDS}
        out[entry["id"]] = Dataset(**known, extra=extra)
    return out


def get(dataset_id: str) -> Dataset:
    """The entry for ``dataset_id``; an unknown id raises with the closest ids."""
    try:
        return datasets()[dataset_id]
    except KeyError:
        close = difflib.get_close_matches(dataset_id, list(datasets()), n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(
            f"Unknown dataset id {dataset_id!r}.{hint} `mhbook data list` shows every id."
        ) from None
