"""The catalogue of every dataset mhbook reads (``catalogue.yaml`` beside this file).

Each entry pins one published file: where it comes from (publication page and a
download URL that yields exactly these bytes, or ``url: null`` with a ``recipe`` saying how
the file is remade from public upstream files, see ``mhbook.sources.recipes``), its sha256, licence, attribution and citation,
period, geography, the columns and row count expected when it is loaded, and caveats.
The field meanings are listed at the top of ``catalogue.yaml``.

Two things can stand over the packaged file, and neither writes into the package:

* ``MHBOOK_CATALOGUE``: a catalogue file of one's own, read instead of the packaged one
  (a team's extra datasets, or a test's synthetic ones);
* the pins registry (``mhbook.project.pins_file()``, SHA256SUMS format: ``<sha256>  <file>``
  per line) in which ``mhbook data refresh`` records re-pinned hashes; a line there
  replaces the ``sha256`` of the entry with that ``file``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import MISSING, dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from mhbook import reads
from mhbook.errors import MhbookError, UnknownDatasetError
from mhbook.sources.recipes import Recipe
from mhbook.sources.recipes import parse as parse_recipe


@dataclass(frozen=True)
class Dataset:
    """One catalogue entry. ``file`` is the path relative to a mirror folder.

    ``rows`` counts data rows (features for boundaries) without the header; it is
    ``None`` for workbooks, whose used sheets are named in ``sheets``. ``header`` is
    False for the few CSVs that have no header row (then ``columns`` is empty).
    """

    id: str
    file: str
    sha256: str
    title: str
    publisher: str
    page: str
    url: str | None
    licence: str
    attribution: str
    period: str
    geography: str
    citation: str = ""
    url_note: str | None = None
    upstream_url: str | None = None
    header: bool = True
    columns: tuple[str, ...] = ()
    rows: int | None = None
    sheets: tuple[str, ...] = ()
    caveats: str = ""
    conversion: str | None = None
    recipe: Recipe | None = None
    extra: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.file.rsplit("/", 1)[-1]


_FIELDS = set(Dataset.__dataclass_fields__) - {"extra"}
_REQUIRED = [
    n for n, f in Dataset.__dataclass_fields__.items() if f.default is MISSING and f.default_factory is MISSING
]


def _entry(raw: dict, source: str) -> Dataset:
    missing = [n for n in _REQUIRED if n not in raw]
    if missing:
        raise MhbookError(f"{source}: entry {raw.get('id', '?')!r} lacks {', '.join(missing)}.")
    known = {k: v for k, v in raw.items() if k in _FIELDS}
    known["columns"] = tuple(known.get("columns") or ())
    known["sheets"] = tuple(known.get("sheets") or ())
    if known.get("recipe") is not None:
        known["recipe"] = parse_recipe(known["recipe"], f"{source}: entry {raw['id']!r}")
    extra = {k: v for k, v in raw.items() if k not in _FIELDS}
    return Dataset(**known, extra=extra)


def load(path: str | Path) -> dict[str, Dataset]:
    """Read a catalogue file (the packaged one, or a test catalogue) into entries by id."""
    path = Path(path)
    return _parse(path.read_text("utf-8"), str(path))


#: PyYAML's safe loader, in C where libyaml is installed: the catalogue is read by every
#: command, and the pure-Python loader takes over a second for it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, source: str) -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    try:
        entries = yaml.load(text, Loader=_LOADER)["datasets"]
    except (yaml.YAMLError, TypeError, KeyError) as exc:
        raise MhbookError(
            f"{source} is not a readable catalogue (a YAML file with a 'datasets' list): "
            f"{type(exc).__name__}: {exc}. Restore it from the project (git checkout -- "
            f"mhbook/catalogue.yaml)."
        ) from exc
    for raw in entries:
        ds = _entry(raw, source)
        if ds.id in out:
            raise MhbookError(f"{source}: dataset id {ds.id!r} appears twice.")
        out[ds.id] = ds
    return out


_PIN_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def read_pins(path: str | Path) -> dict[str, str]:
    """A SHA256SUMS-style file as ``file -> sha256``; a missing file is empty."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):  # nothing re-pinned there yet
        return {}
    except OSError as exc:
        raise MhbookError(
            f"The pins registry {path} cannot be read ({exc.strerror or exc}); fix its permissions "
            f"or point MHBOOK_HOME elsewhere."
        ) from exc
    pins = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = _PIN_LINE.match(line)
        if not m:
            raise MhbookError(
                f"{path}, line {number}: expected '<sha256>  <file>', found {line[:80]!r}. Fix or "
                f"delete the line (mhbook data refresh writes this file)."
            )
        pins[m.group(2)] = m.group(1)
    return pins


def source() -> str:
    """The catalogue file read: ``$MHBOOK_CATALOGUE`` or the packaged ``catalogue.yaml``."""
    return os.environ.get("MHBOOK_CATALOGUE") or str(files("mhbook").joinpath("catalogue.yaml"))


def datasets() -> dict[str, Dataset]:
    """All entries of the catalogue in use (``source()``), by id, in catalogue order, with the
    hashes re-pinned by ``mhbook data refresh`` (``mhbook.project.pins_file()``) applied."""
    from mhbook import project  # project reads no catalogue; imported here to keep this module's imports light

    return _datasets_in(source(), str(project.pins_file()))


@cache
def _datasets_in(where: str, pins_file: str) -> dict[str, Dataset]:
    try:
        text = Path(where).read_text("utf-8")
    except OSError as exc:
        named = "MHBOOK_CATALOGUE=" if os.environ.get("MHBOOK_CATALOGUE") else "The catalogue "
        raise MhbookError(
            f"{named}{where} cannot be read ({exc.strerror or exc}); point MHBOOK_CATALOGUE at a "
            f"catalogue file, or unset it to use the packaged catalogue."
        ) from exc
    found = _parse(text, where)
    pins = read_pins(pins_file)
    return {i: dataclasses.replace(d, sha256=pins[d.file]) if d.file in pins else d for i, d in found.items()}


datasets.cache_clear = _datasets_in.cache_clear  # a refresh re-reads the re-pinned catalogue


def hashes(ids) -> dict[str, str]:
    """The sha256 the catalogue in use gives each dataset id (an id no longer catalogued
    maps to ""): what a kept result or a built page records of the data it was made from.
    Reads no dataset and records no read."""
    known = datasets()
    return {i: known[i].sha256 if i in known else "" for i in ids}


def listing() -> list[Dataset]:
    """Every entry, in catalogue order, recording a read of each (``mhbook.reads``): for a
    page that shows them all (Sources and methods shows each one's sha256)."""
    entries = list(datasets().values())
    reads.record(*(ds.id for ds in entries))
    return entries


def get(dataset_id: str) -> Dataset:
    """The entry for ``dataset_id``, its read recorded (``mhbook.reads``); an unknown id
    raises with the closest ids."""
    try:
        ds = datasets()[dataset_id]
    except KeyError:
        close = difflib.get_close_matches(dataset_id, list(datasets()), n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(
            f"Unknown dataset id {dataset_id!r}.{hint} `mhbook data list` shows every id."
        ) from None
    reads.record(ds.id)
    return ds
