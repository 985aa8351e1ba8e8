"""How the summary and comparison chapters name a Mental Health Act footprint and its fit.

``mhbook.measures.coercion`` chooses the Sub-ICB Location(s) or ICB standing for an area
(a :class:`~mhbook.measures.coercion.Footprint`: organisation type, codes, names, and two
shares of residents, 0-1) and says whether its rate is published (``status``); this module
puts them into words. Shares are written as whole percentages, "less than 1%" for a share
under half a percent (``footprint_notes.share_text``).
"""

from __future__ import annotations

import re

from mhbook.measures.coercion import Footprint
from mhbook.pages.footprint_notes import share_text

#: What a ``coercion.rate`` row's ``status`` says, in words ("value": nothing to say).
STATUS_WORDS = {"value": "", "suppressed": "suppressed or not published for this footprint"}


def short_name(name: str) -> str:
    """ "NHS Greater Manchester Integrated Care Board" -> "Greater Manchester ICB"; the
    publisher's " - 00T" code suffix of Sub-ICB names is dropped (the code is shown apart)."""
    text = re.sub(r" - [A-Z0-9]{3,5}$", "", str(name).strip())
    for long, short in ((" Integrated Care Board", " ICB"), ("NHS ", "")):
        text = text.replace(long, short)
    return text


def footprint_label(fp: Footprint) -> str:
    """The footprint's name: "Greater Manchester ICB (QOP)", "Sub-ICB Location 00T of
    Greater Manchester ICB" or "2 Sub-ICB Locations of ... together (00T, 01D)"."""
    if fp.org_type == "ICB":
        return f"{short_name(fp.names[0])} ({fp.codes[0]})"
    icb = short_name(fp.names[0])
    if len(fp.codes) == 1:
        return f"Sub-ICB Location {fp.codes[0]} of {icb}"
    return f"{len(fp.codes)} Sub-ICB Locations of {icb} together ({', '.join(fp.codes)})"


def fit_text(fp: Footprint) -> str:
    """How well the footprint fits the area: its grade and both shares of residents."""
    return (
        f"{fp.grade} fit: {share_text(fp.population_share)} of the area's residents live in it and they are "
        f"{share_text(fp.footprint_share)} of its residents"
    )


def status_text(status: str) -> str:
    """Why a footprint's rate is missing ("" when it has one)."""
    if status not in STATUS_WORDS:
        raise ValueError(f"Unknown detention rate status {status!r}; expected one of {list(STATUS_WORDS)}")
    return STATUS_WORDS[status]
