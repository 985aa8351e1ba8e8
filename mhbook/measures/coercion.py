"""Mental Health Act detentions for an area, from the finest footprint that fits it.

Source: NHS England, Mental Health Act statistics of the latest catalogued year
(``mhbook.sources.mha``; today 2023-24), "All detentions", crude rates per 100,000 (all
ages), for Sub-ICB Locations and ICBs.

Footprint. The file publishes detentions for Sub-ICB Locations (106 in 2023-24) and ICBs
(42), not for councils. Each candidate is placed on the area by the ONS July 2022 LSOA
lookup weighted by mid-2020 LSOA populations (``Area.footprints("2021-22")`` for Sub-ICBs,
``"2023-24"`` for ICBs): ``population_share`` is the share of the area's residents living
in the footprint, ``footprint_share`` the share of the footprint's residents living in the
area. The candidates are the Sub-ICB holding most of the area's residents; every Sub-ICB
lying wholly (at least 95% of its residents) inside the area, added together when there
are two or more; and the ICB. Their fit is the smaller of the two shares, graded

* exact: at least 99%; close: at least 90%; partial: at least 75%; poor: below 75%,

and the best-fitting candidate is used, the finer one on a tie. The ICB is shown beside it.

Benchmark. England's all-source total (52,458 detentions, 90.9 per 100,000) includes
about 2,000 detentions not assigned to any ICB or Sub-ICB (they come from ECDS or have no
organisation). Organisation counts are MHSDS only, so the like-for-like benchmark is the
publisher's total over the organisations of the same type (88.3 per 100,000).

Rounding. Organisation counts are rounded to the nearest 5; populations are not
published, so each is worked back as ``count × 100,000 / rate``. For one organisation the
published rate is shown, with Poisson limits (exact under 10, Byar's from 10) taken at
their widest over every count that rounds to the published one
(``stats.rounding.published_rate_limits``); for a sum of ``k`` Sub-ICBs the count is within
``2k`` of the sum and the limits are widened over that range (``stats.rounding.rate_limits``).

Wording (``mhbook.pages.coercion_notes`` writes the footprint's name and fit). A
detention rate has no polarity in Fingertips' sense (a low rate is not in
itself good): it is "higher", "similar" or "lower" than England.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mhbook import periods, reads, stats
from mhbook.areas import Area
from mhbook.errors import InsufficientDataError
from mhbook.sources import mha
from mhbook.stats import rounding

MEASURE = "All detentions"
LEVELS = (0.95, 0.998)
#: fit grade -> smallest fit (the smaller of the two population shares) it needs
FIT_GRADES = (("exact", 0.99), ("close", 0.90), ("partial", 0.75), ("poor", 0.0))
WHOLLY_INSIDE = 0.95


def fit_grade(population_share: float, footprint_share: float) -> str:
    """ "exact", "close", "partial" or "poor": how well a footprint matches an area, by the
    smaller of the two shares (see the module docstring for the thresholds)."""
    fit = min(population_share, footprint_share)
    return next(grade for grade, least in FIT_GRADES if fit >= least)


@dataclass(frozen=True)
class Footprint:
    """One or more organisations of one type standing for the area, with its fit."""

    org_type: str  # "Sub-ICB" or "ICB"
    codes: tuple[str, ...]
    names: tuple[str, ...]
    population_share: float
    footprint_share: float

    @property
    def fit(self) -> float:
        return min(self.population_share, self.footprint_share)

    @property
    def grade(self) -> str:
        return fit_grade(self.population_share, self.footprint_share)


@reads.cached(maxsize=1)
def _totals() -> pd.DataFrame:
    d = mha.detentions("crude")
    return d[(d["breakdown"] == "all") & (d["measure"] == MEASURE)].reset_index(drop=True)


def england_like_for_like(org_type: str) -> float:
    """The publisher's rate over every organisation of ``org_type`` (MHSDS), per 100,000."""
    d = _totals()
    return float(d.loc[(d["org_type"] == org_type) & (d["org_code"] == "ALL"), "value"].iloc[0])


def england_all_sources() -> float:
    """England's all-source rate (MHSDS and ECDS, including unassigned detentions)."""
    d = _totals()
    return float(d.loc[d["org_type"] == "England", "value"].iloc[0])


def candidates(area: Area) -> list[Footprint]:
    """The footprints considered for ``area``: main Sub-ICB, whole Sub-ICBs together, ICB."""
    out = []
    sub = area.footprints("2021-22")
    published = set(_totals().loc[_totals()["org_type"] == "Sub-ICB", "org_code"])
    sub = sub[sub["org_code"].isin(published)]
    if len(sub):
        main = sub.iloc[0]
        out.append(
            Footprint(
                "Sub-ICB", (main.org_code,), (main.org_name,), float(main.population_share), float(main.footprint_share)
            )
        )
        whole = sub[sub["footprint_share"] >= WHOLLY_INSIDE]
        if len(whole) >= 2:
            pop = whole["population"].sum()
            out.append(
                Footprint(
                    "Sub-ICB",
                    tuple(whole["org_code"]),
                    tuple(whole["org_name"]),
                    float(whole["population_share"].sum()),
                    float(pop / (whole["population"] / whole["footprint_share"]).sum()),
                )
            )
    icb = area.footprints(periods.latest("mha"))
    if len(icb):
        top = icb.iloc[0]
        out.append(
            Footprint("ICB", (top.org_code,), (top.org_name,), float(top.population_share), float(top.footprint_share))
        )
    return out


def best_footprint(area: Area) -> Footprint:
    """The candidate that fits ``area`` best (the finer one on a tie)."""
    found = candidates(area)
    if not found:
        raise InsufficientDataError(f"no Sub-ICB or ICB of the MHA {periods.latest('mha')} file covers {area.name}")
    return max(found, key=lambda f: (round(f.fit, 3), f.org_type == "Sub-ICB"))


def rate(footprint: Footprint) -> dict:
    """Detentions, rate per 100,000 and limits (95%, 99.8%) for a footprint, with
    Fingertips' comparison against the like-for-like England rate. ``footprint`` is the
    :class:`Footprint` itself (its names and shares, which the pages put into words) and
    ``status`` is "value", or "suppressed" when any of its organisations has no published
    count or rate."""
    d = _totals()
    rows = d[(d["org_type"] == footprint.org_type) & d["org_code"].isin(footprint.codes)]
    england = england_like_for_like(footprint.org_type)
    base = {
        "footprint": footprint,
        "org_type": footprint.org_type,
        "codes": ", ".join(footprint.codes),
        "fit": footprint.grade,
        "england": england,
        "period": periods.latest("mha"),
    }
    if len(rows) < len(footprint.codes) or rows["count"].isna().any() or not (rows["value"] > 0).all():
        return base | {
            "count": np.nan,
            "value": np.nan,
            "lower_95": np.nan,
            "upper_95": np.nan,
            "lower_998": np.nan,
            "upper_998": np.nan,
            "vs_england_95": stats.benchmark.NOT_COMPARED,
            "vs_england_99_8": stats.benchmark.NOT_COMPARED,
            "status": "suppressed",
        }
    if len(rows) == 1:
        res = rounding.published_rate_limits(rows["count"], rows["value"], LEVELS).iloc[0]
    else:
        population = (rows["count"] * 100_000 / rows["value"]).sum()
        res = rounding.rate_limits(rows["count"].sum(), population, LEVELS, terms=len(rows)).iloc[0]
    value = float(res["value"])
    out = base | {
        "count": float(rows["count"].sum()),
        "value": value,
        "lower_95": res["lower_cl_95"],
        "upper_95": res["upper_cl_95"],
        "lower_998": res["lower_cl_99_8"],
        "upper_998": res["upper_cl_99_8"],
        "status": "value",
    }
    out["vs_england_95"] = stats.compare_to_benchmark(value, out["lower_95"], out["upper_95"], england)
    out["vs_england_99_8"] = stats.compare_to_benchmark(value, out["lower_998"], out["upper_998"], england)
    return out


def detention_rates(area: Area) -> pd.DataFrame:
    """The area's detention rate from its best footprint, and its ICB beside it (when the
    best footprint is not the ICB): one row each, best first. Columns: ``footprint``
    (the :class:`Footprint`), ``org_type``, ``codes``, ``fit`` (grade), ``period``,
    ``count`` (sum of rounded counts), ``value`` (per 100,000), ``lower_95``, ``upper_95``,
    ``lower_998``, ``upper_998``, ``england`` (like-for-like), ``vs_england_95``,
    ``vs_england_99_8`` (Higher / Similar / Lower / Not compared), ``status`` ("value" or
    "suppressed"). The ICB row is left out when it
    publishes the same count and rate (an ICB with one Sub-ICB Location)."""
    best = best_footprint(area)
    rows = [rate(best)]
    icb = [f for f in candidates(area) if f.org_type == "ICB"]
    if best.org_type != "ICB" and icb:
        context = rate(icb[0])
        # an ICB with a single Sub-ICB Location (London) is the same population: no second row
        if (context["count"], context["value"]) != (rows[0]["count"], rows[0]["value"]):
            rows.append(context)
    return pd.DataFrame(rows)
