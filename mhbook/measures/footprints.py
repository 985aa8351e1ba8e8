"""Which published NHS organisation stands for a County & UA in each IAPT year.

NHS Talking Therapies is published for NHS organisations, not local authorities. For
2022-23 onwards the area's footprint is its Integrated Care Board; for 2017-18 to 2021-22
its Clinical Commissioning Group, placed with the LSOA -> CCG lookup of that year's own
April (2021-22: the July 2022 Sub-ICB codes). Here, where several organisations cover an
area, the one holding the largest share of its population (mid-2020) is used and the
others are named. :mod:`mhbook.measures.local_series` goes further for the area's own
series: it adds up the counts of several whole CCGs making up a county and grades the
fit of every year.
"""

from __future__ import annotations

from dataclasses import dataclass

from mhbook.areas import Area
from mhbook.errors import InsufficientDataError
from mhbook.sources import iapt


@dataclass(frozen=True)
class Footprint:
    """The NHS organisation used for an area in one year, or why there is none.

    ``population_share``: share of the area's residents living in the organisation's
    footprint (0-1); ``footprint_share``: share of the organisation's residents who live
    in the area (0-1); ``others``: (name, population share) of every other organisation
    serving part of the area, largest first; ``unmapped``: why the year cannot be mapped
    (the lookup's message), empty when it can. ``mhbook.pages.footprint_notes`` says all
    this in a sentence.
    """

    period: str
    area_name: str
    org_type: str | None
    org_code: str | None
    org_name: str | None
    population_share: float
    footprint_share: float
    others: tuple[tuple[str, float], ...] = ()
    unmapped: str = ""

    @property
    def available(self) -> bool:
        return self.org_code is not None


def _published_name(period: str, org_type: str, org_code: str) -> str | None:
    """The organisation's name as NHS Digital published it that year, in title case."""
    orgs = iapt.organisations(period, org_type)
    hit = orgs.loc[orgs["org_code"] == org_code, "org_name"]
    return _title(hit.iloc[0]) if len(hit) else None


def _title(name: str) -> str:
    words = name.title().split()
    keep = {"Nhs": "NHS", "Ccg": "CCG", "Icb": "ICB", "And": "and", "Of": "of", "The": "the"}
    return " ".join(keep.get(w, w) for w in words)


def iapt_footprint(area: Area, period: str) -> Footprint:
    """The footprint of ``area`` for an IAPT ``period`` ("2024-25"); ``org_code`` is None
    (and ``unmapped`` says why) where the year cannot be mapped."""
    try:
        fp = area.footprints(period)
    except InsufficientDataError as exc:
        return Footprint(period, area.name, None, None, None, 0.0, 0.0, unmapped=str(exc))
    fp = fp.sort_values("population_share", ascending=False).reset_index(drop=True)
    main = fp.iloc[0]
    name = _published_name(period, str(main.org_type), str(main.org_code)) or str(main.org_name).strip()
    return Footprint(
        period,
        area.name,
        str(main.org_type),
        str(main.org_code),
        name,
        float(main.population_share),
        float(main.footprint_share),
        tuple((r.org_name.strip(), float(r.population_share)) for r in fp.iloc[1:].itertuples()),
    )
