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
    in the area (0-1).
    """

    period: str
    org_type: str | None
    org_code: str | None
    org_name: str | None
    population_share: float
    footprint_share: float
    note: str

    @property
    def available(self) -> bool:
        return self.org_code is not None


def _pct(x: float) -> str:
    if 0 < x < 0.005:
        return "less than 1%"
    return f"{100 * x:.0f}%"


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
    """The footprint of ``area`` for an IAPT ``period`` ("2024-25"), with a note in plain
    English saying what it covers; ``org_code`` is None where the year cannot be mapped."""
    try:
        fp = area.footprints(period)
    except InsufficientDataError as exc:
        return Footprint(
            period, None, None, None, 0.0, 0.0, f"NHS footprints for {period} cannot be mapped to {area.name}: {exc}"
        )
    fp = fp.sort_values("population_share", ascending=False).reset_index(drop=True)
    main = fp.iloc[0]
    kind = {"ICB": "Integrated Care Board", "CCG": "Clinical Commissioning Group"}[main.org_type]
    name = _published_name(period, str(main.org_type), str(main.org_code)) or str(main.org_name).strip()
    note = (
        f"In {period} {area.name} is served by {name} (code {main.org_code}), "
        f"where {_pct(main.population_share)} of the area's residents live; the area makes up "
        f"{_pct(main.footprint_share)} of that {kind}'s population."
    )
    if len(fp) > 1:
        others = ", ".join(f"{r.org_name.strip()} ({_pct(r.population_share)})" for r in fp.iloc[1:].itertuples())
        note += f" Other parts of the area are served by {others}."
    if main.footprint_share < 0.5:
        note += (
            f" Figures for {main.org_code} describe the whole {kind}, most of whose residents live outside {area.name}."
        )
    return Footprint(
        period,
        str(main.org_type),
        str(main.org_code),
        name,
        float(main.population_share),
        float(main.footprint_share),
        note,
    )
