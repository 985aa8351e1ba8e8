"""Which periods each source holds, read from the data rather than written into code.

A period is an NHS financial year, "2024-25" (April 2024 to March 2025). Notebooks and
measures ask this module for the latest year, or the run of years, of a source, so a
refreshed dataset that brings a new year reaches the book with no code change:

* ``"iapt"``: NHS Talking Therapies annual reports (``mhbook.sources.iapt``), the
  years present in its tidy table (England-only legacy years included);
* ``"mha"``: Mental Health Act statistics (``mhbook.sources.mha``), one catalogue
  dataset per year, each with an id ``mha-YYYY-YY``; the year a file holds is checked
  against its id when it is parsed.

``latest(source)`` is the most recent year, ``series(source, since=...)`` the years
oldest first. Unknown sources raise ``UsageError`` naming the known ones.
"""

from __future__ import annotations

from mhbook.errors import InsufficientDataError, UsageError

SOURCES = ("iapt", "mha")


def series(source: str, since: str | None = None) -> tuple[str, ...]:
    """The periods ``source`` holds, oldest first; from ``since`` on when given."""
    if source == "iapt":
        from mhbook.sources import iapt

        years = iapt.periods()
    elif source == "mha":
        from mhbook.sources import mha

        years = mha.periods()
    else:
        raise UsageError(f"No periods are known for source {source!r}; known sources: {', '.join(SOURCES)}.")
    years = sorted(years)
    if since is not None:
        years = [p for p in years if p >= since]
    if not years:
        raise InsufficientDataError(
            f"The {source} data hold no period{f' from {since} on' if since else ''}: check the catalogue "
            f"(`mhbook data list`) and the mirror."
        )
    return tuple(years)


def latest(source: str) -> str:
    """The most recent period ``source`` holds, e.g. "2024-25"."""
    return series(source)[-1]
