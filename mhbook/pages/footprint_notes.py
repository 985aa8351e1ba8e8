"""The sentence saying which NHS organisation stands for an area, shared by the chapters.

``mhbook.measures.footprints.iapt_footprint`` gives the organisation and its shares of
residents (0-1); :func:`footprint_note` puts them into words, with shares as whole
percentages ("less than 1%" for a share under half a percent).
"""

from __future__ import annotations

from mhbook.measures.footprints import Footprint

#: The organisation types' full names.
KINDS = {"ICB": "Integrated Care Board", "CCG": "Clinical Commissioning Group"}
#: Below this share of the organisation's residents living in the area, the note warns that
#: its figures describe mostly people elsewhere.
MOSTLY_OUTSIDE = 0.5


def share_text(x: float) -> str:
    """A share (0-1) as a whole percentage; "less than 1%" when above zero but under 0.5%."""
    if 0 < x < 0.005:
        return "less than 1%"
    return f"{100 * x:.0f}%"


def footprint_note(fp: Footprint) -> str:
    """Which organisation serves the area in ``fp.period`` and how much of each the other
    holds, naming the organisations serving its other parts; or why the year cannot be mapped."""
    if not fp.available:
        return f"NHS footprints for {fp.period} cannot be mapped to {fp.area_name}: {fp.unmapped}"
    kind = KINDS[fp.org_type]
    note = (
        f"In {fp.period} {fp.area_name} is served by {fp.org_name} (code {fp.org_code}), "
        f"where {share_text(fp.population_share)} of the area's residents live; the area makes up "
        f"{share_text(fp.footprint_share)} of that {kind}'s population."
    )
    if fp.others:
        others = ", ".join(f"{name} ({share_text(share)})" for name, share in fp.others)
        note += f" Other parts of the area are served by {others}."
    if fp.footprint_share < MOSTLY_OUTSIDE:
        note += (
            f" Figures for {fp.org_code} describe the whole {kind}, most of whose residents live outside "
            f"{fp.area_name}."
        )
    return note
