"""The area's own NHS Talking Therapies series, 2017-18 to the latest year in the data.

NHS Talking Therapies (IAPT) is published for NHS organisations: Clinical Commissioning
Groups (CCGs) until 2021-22 and Integrated Care Boards (ICBs) from 2022-23. For each
County & UA and NHS year this module chooses the organisation(s) that best stand for the
area (its *footprint*), adds up their published counts, and computes the funnel
(referrals, finishing treatment, recovery, reliable improvement) in total and by IMD
decile against England, with the slope and relative indices of inequality.

Footprint of an area in a year (:func:`footprint`)
    Every LSOA (2011) is placed in its current County & UA (the area registry) and in
    the NHS organisation of that year by that year's own lookup (April 2017 ... April
    2020 CCG lookups for 2017-18 ... 2020-21, July 2022 Sub-ICB Locations for 2021-22,
    ICBs from 2022-23: :meth:`mhbook.areas.Area.footprints`), weighted by ONS mid-2020
    LSOA populations. Then, in order:

    1. **own organisations**: the organisations with at least :data:`INSIDE` (90%) of
       their residents living in the area. If together they hold at least half of the
       area's residents, their counts are added up (one organisation, or several whole
       CCGs making up a county).
    2. **straddling organisation**: otherwise the single organisation holding the most
       of the area's residents, if at least half; its figures describe all of it, and
       both shares are stated.
    3. otherwise there is **no usable footprint** that year; ``unusable`` says why
       (:data:`UNPUBLISHED` or :data:`NO_MAJORITY`) with the facts the reason rests on.

    *coverage* is the share of the area's residents living in the footprint; *purity*
    the share of the footprint's residents living in the area. The **fit grade** is set
    by the smaller of the two: **exact** at least 99%, **close** at least 90%,
    **partial** at least 50%, **poor** below 50% (:data:`GRADES`).

Rounding carried
    NHS rounds every count below England level to the nearest 5, so each published
    count, a whole number, is within 2 of the true count (``stats.rounding.half_width``,
    the same bound as every other chapter); a sum of k counts is within 2 k. Each
    summed count carries that bound (``<measure>_bound``), and limits are widened by it:
    a proportion's lower limit is Wilson's lower limit of (numerator - bound) out of
    (denominator + bound), its upper limit Wilson's upper limit of (numerator + bound)
    out of (denominator - bound); a rate's limits are Byar's (exact below 10) for
    count - bound and count + bound. England's counts are not rounded (bound 0).
    Suppressed counts (``*``) are missing, and so is any sum that includes one.

Non-geographic commissioning hubs (13Q, 13R, 14A, 14E, 14R) and UNKNOWN serve no area
and are left out (:data:`HUBS`; :func:`hub_referrals` counts the referrals they hold). A
CCG or ICB code in the IAPT file that is neither a hub nor in that year's lookup raises
:class:`~mhbook.errors.UnmappedOrganisationError`.

Measures (NHS England definitions): referrals received per 100,000 residents aged 16
and over (mid-2020 ONS LSOA estimates of the footprint's LSOAs: all the LSOAs of its
organisations, not only the area's); finished a course of treatment as % of referrals
received (two cohorts of one year, an indication, not a conversion rate); recovery =
recovered / at caseness (finished treatment and started above the clinical threshold),
i.e. recovered / (finished - not at caseness); reliable improvement = improved /
finished. Decile counts are NHS England's breakdown of the organisation's referrals by
the IMD 2019 decile of the patient's neighbourhood: they are for the organisation(s),
not for the area's LSOAs; the decile populations are the mid-2020 16+ residents of the
footprint's LSOAs in each decile.

This module returns numbers (footprints, counts, measures with limits, gaps, SII) and, where
a value is missing, a code saying why (:data:`UNPUBLISHED`, :data:`NO_MAJORITY`,
:data:`NO_RESIDENTS`, :data:`SUPPRESSED`, :data:`TOO_FEW_DECILES`, :data:`LIMITS_AT_BOUND`);
the chapter's sentences, display tables and charts are ``mhbook.pages.local_series``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mhbook import periods, reads, stats
from mhbook.areas import Area, footprint_lsoas
from mhbook.errors import UnmappedOrganisationError
from mhbook.measures._quiet import quietly
from mhbook.measures.deprivation_gradient import recovery_sii
from mhbook.measures.footprints import _title
from mhbook.sources import ccg_lookups, iapt, imd
from mhbook.stats.rounding import half_width

#: The first year NHS footprints below England are mapped to areas (CCG lookups exist from April 2017).
FIRST_YEAR = "2017-18"
HUBS = ("13Q", "13R", "14A", "14E", "14R", "UNKNOWN")
#: An organisation is the area's own when at least this share of its residents live there.
INSIDE = 0.90
#: Fit grade by the smaller of coverage and purity.
GRADES = ((0.99, "exact"), (0.90, "close"), (0.50, "partial"))
POOR = "poor"
#: How far a published count below England level can be from the true one (2 for counts
#: rounded to the nearest 5).
ROUNDING = float(half_width(5))
#: Seed and repetitions of the simulated SII limits (PHE method).
SEED = 2020
REPETITIONS = 20_000
#: Fewest deciles with published recovery counts for an SII (as the England chapter).
MIN_DECILES = 5

# Why a year has no usable footprint (``LocalFootprint.unusable``):
#: NHS England published no figures for the organisation(s) that would stand for the area
#: (``LocalFootprint.unpublished`` names them).
UNPUBLISHED = "unpublished"
#: Neither the area's own organisations together nor any single organisation holds half of
#: its residents (``LocalFootprint.largest``: the largest organisation and its share).
NO_MAJORITY = "no_majority"

# Why a year has no gap or no SII (the ``reason`` column of ``gaps`` and ``sii_by_year``;
# "" where there is a value):
#: The footprint has no residents in a decile the measure needs (``empty_deciles`` of ``gaps``).
NO_RESIDENTS = "no_residents"
#: Recovery is suppressed or not published in a decile the measure needs (``gaps``: decile
#: 1 or 10; ``sii_by_year``: the deciles in ``missing_deciles``, where residents live).
SUPPRESSED = "suppressed"
#: Fewer than :data:`MIN_DECILES` deciles have published recovery (``deciles`` says how many).
TOO_FEW_DECILES = "too_few_deciles"
#: A decile's limits, widened for rounding, reach 0% or 100%: PHE's simulation cannot use them.
LIMITS_AT_BOUND = "limits_at_bound"

MEASURES = {  # name: (numerator, denominator, label, unit)
    "referral_rate": ("referrals", "population_16plus", "referral rate, aged 16+ (mid-2020 population)", "per 100,000"),
    "finished_pct": ("finished", "referrals", "finished a course of treatment (% of referrals)", "%"),
    "recovery_pct": ("recovery", "at_caseness", "recovery (% of those finished at caseness)", "%"),
    "improvement_pct": ("improvement", "finished", "reliable improvement (% of those finishing)", "%"),
}
_RAW = {
    "referrals_received": "referrals",
    "finished_course_treatment": "finished",
    "not_at_caseness": "not_at_caseness",
    "recovery": "recovery",
    "improvement": "improvement",
}
#: ``at_caseness`` is NHS England's recovery denominator, finished treatment minus those
#: not at caseness at the start: the difference of two published counts.
COUNTS = ("referrals", "finished", "at_caseness", "recovery", "improvement")
#: how many published counts make each count (rounding adds up)
_TERMS = {"at_caseness": 2}


def grade(coverage: float, purity: float) -> str:
    """The fit grade of a footprint: exact, close, partial or poor (see :data:`GRADES`)."""
    worst = min(coverage, purity)
    for threshold, name in GRADES:
        if worst >= threshold - 1e-9:
            return name
    return POOR


@dataclass(frozen=True)
class LocalFootprint:
    """The organisation(s) standing for an area in one NHS year, or why there is none.

    ``orgs``: ((ODS code, name), ...) whose counts are added; ``method``: "own" (the
    area's own organisations, step 1) or "straddling" (step 2); ``coverage``/``purity``
    as in the module notes (shares, 0-1); ``lsoas``: all LSOAs of the organisations
    (denominators). Without a usable footprint ``orgs`` is empty and ``unusable`` is
    :data:`UNPUBLISHED` (``unpublished``: the codes, sorted) or :data:`NO_MAJORITY`
    (``largest``: the name of the organisation holding most of the area's residents and
    that share, 0-1).
    """

    area_code: str
    area_name: str
    period: str
    org_type: str
    orgs: tuple[tuple[str, str], ...]
    method: str | None
    coverage: float
    purity: float
    lsoas: tuple[str, ...] = ()
    #: Organisations serving the rest of the area, not used: (code, name, share of the
    #: area's residents, share of the organisation's residents living in the area).
    others: tuple[tuple[str, str, float, float], ...] = ()
    unusable: str | None = None
    unpublished: tuple[str, ...] = ()
    largest: tuple[str, float] | None = None

    @property
    def available(self) -> bool:
        return bool(self.orgs)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.orgs)

    @property
    def grade(self) -> str | None:
        return grade(self.coverage, self.purity) if self.available else None

    @property
    def label(self) -> str:
        """Names the organisation(s), e.g. "NHS Blackpool CCG (00R)" or "3 CCGs: ..."."""
        if not self.available:
            return "no footprint"
        if len(self.orgs) == 1:
            code, name = self.orgs[0]
            return f"{name} ({code})"
        return f"{len(self.orgs)} {self.org_type}s: " + ", ".join(f"{n} ({c})" for c, n in self.orgs)

    @property
    def short_label(self) -> str:
        if not self.available:
            return "no footprint"
        if len(self.orgs) == 1:
            return f"{self.org_type} {self.orgs[0][0]}"
        return f"{len(self.orgs)} {self.org_type}s ({', '.join(self.codes)})"


@reads.cached(maxsize=16)
def _published(period: str, org_type: str) -> pd.DataFrame:
    """Organisations published by NHS England for ``period``: org_code -> name."""
    return iapt.organisations(period, org_type)


@reads.cached(maxsize=16, stored=True)
def check_codes(period: str) -> None:
    """Every CCG/ICB code in the IAPT file for ``period`` is a hub or in that year's lookup;
    otherwise :class:`UnmappedOrganisationError` naming the code, year and lookup."""
    org_type = "ICB" if period >= "2022-23" else "CCG"
    published = set(_published(period, org_type)["org_code"].unique())
    known = set(_org_totals(period).index)
    unknown = sorted(published - known - set(HUBS))
    if unknown:
        raise UnmappedOrganisationError(
            f"NHS Talking Therapies {period}: {org_type} code(s) {unknown} are not in that year's "
            f"lookup {ccg_lookups.dataset_id(period)} (and are not commissioning hubs {list(HUBS)}); "
            f"the area's footprint cannot be placed. Check the lookup serves {period}."
        )


@reads.cached(maxsize=16, stored=True)
def _org_totals(period: str) -> pd.Series:
    """Mid-2020 residents of each organisation of ``period`` (index: ODS code)."""
    table = footprint_lsoas(period)
    return table.groupby(table["org_code"].astype(str))["population"].sum()


def footprint(area: Area, period: str) -> LocalFootprint:
    """The area's footprint in NHS year ``period`` (2017-18 on); see module notes."""
    check_codes(period)
    fp = area.footprints(period)
    org_type = str(fp["org_type"].iloc[0])
    published = _published(period, org_type).set_index("org_code")["org_name"]
    totals = _org_totals(period)
    names = {
        code: _title(published[code]) if code in published.index else str(name)
        for code, name in zip(fp["org_code"], fp["org_name"])
    }

    def make(rows: pd.DataFrame, method: str) -> LocalFootprint:
        codes = tuple(rows["org_code"])
        coverage = float(rows["population_share"].sum())
        purity = float(rows["population"].sum() / totals[list(codes)].sum())
        table = footprint_lsoas(period)
        lsoas = tuple(table.loc[table["org_code"].isin(codes), "lsoa11_code"])
        rest = fp[~fp["org_code"].isin(codes)]
        others = tuple(
            (r.org_code, names[r.org_code], float(r.population_share), float(r.footprint_share))
            for r in rest.itertuples()
        )
        return LocalFootprint(
            area.code,
            area.name,
            period,
            org_type,
            tuple((c, names[c]) for c in codes),
            method,
            coverage,
            purity,
            lsoas,
            others,
        )

    own = fp[fp["footprint_share"] >= INSIDE - 1e-9]
    missing = [c for c in fp["org_code"] if c not in published.index]
    if own["population_share"].sum() >= 0.5 and not set(own["org_code"]) & set(missing):
        return make(own, "own")
    top = fp.iloc[0]
    if top["population_share"] >= 0.5 and top["org_code"] not in missing:
        return make(fp.iloc[[0]], "straddling")
    unusable = LocalFootprint(area.code, area.name, period, org_type, (), None, 0.0, 0.0)
    if set(own["org_code"]) & set(missing) or top["org_code"] in missing:
        codes = tuple(sorted(set(missing) & (set(own["org_code"]) | {top["org_code"]})))
        return replace(unusable, unusable=UNPUBLISHED, unpublished=codes)
    largest = (names[top["org_code"]], float(top["population_share"]))
    return replace(unusable, unusable=NO_MAJORITY, largest=largest)


def years() -> tuple[str, ...]:
    """The NHS Talking Therapies years of the series: 2017-18 to the latest in the data."""
    return periods.series("iapt", since=FIRST_YEAR)


@reads.cached(maxsize=4, stored=True)
def _footprints(area: Area) -> tuple[LocalFootprint, ...]:
    return tuple(footprint(area, p) for p in years())


def footprints(area: Area) -> list[LocalFootprint]:
    """The area's footprint in every year of ``years()``."""
    return list(_footprints(area))


# --- counts -------------------------------------------------------------------------------


@reads.cached(maxsize=16, stored=True)
def _year_counts(period: str, org_type: str) -> pd.DataFrame:
    """Published counts of every organisation in ``period``: total (imd_decile 0) and by
    decile. Columns org_code, imd_decile, referrals, finished, at_caseness (finished
    minus not at caseness), recovery, improvement (NaN where suppressed)."""
    total = iapt.breakdown("Total", org_type=org_type, period=period)
    total = total[total["measure"].isin(list(_RAW))]
    wide = total.astype({"org_code": str, "measure": str}).pivot_table(
        index="org_code", columns="measure", values="count", aggfunc="first", dropna=False
    )
    wide = wide.reindex(columns=list(_RAW)).rename(columns=_RAW).reset_index()
    wide.insert(1, "imd_decile", 0)
    dec = iapt.by_decile(period, org_type=org_type)
    dec = dec.rename(columns=_RAW)[["org_code", "imd_decile", *_RAW.values()]].astype({"org_code": str})
    dec["imd_decile"] = dec["imd_decile"].astype(int)
    out = pd.concat([wide, dec], ignore_index=True)
    out["at_caseness"] = out["finished"] - out.pop("not_at_caseness")
    return out[["org_code", "imd_decile", *COUNTS]]


def _summed(period: str, org_type: str, codes: tuple[str, ...]) -> pd.DataFrame:
    """Counts added over ``codes``, by decile (0 = total), with the rounding bound; a sum
    including a suppressed (or unpublished) count is missing."""
    counts = _year_counts(period, org_type)
    mine = counts[counts["org_code"].isin(codes)]
    index = pd.Index(range(0, 11), name="imd_decile")
    out = pd.DataFrame(index=index)
    for col in COUNTS:
        grouped = mine.groupby("imd_decile")[col]
        n = grouped.count().reindex(index, fill_value=0)
        out[col] = grouped.sum(min_count=1).reindex(index).where(n == len(codes))
        bound = 0.0 if org_type == "England" else ROUNDING * len(codes) * _TERMS.get(col, 1)
        out[f"{col}_bound"] = np.where(out[col].notna(), bound, np.nan)
    return out.reset_index()


@reads.cached(maxsize=1)
def _lsoa_deciles() -> pd.DataFrame:
    return imd.lsoa_2019()[["lsoa11_code", "imd_decile"]]


@reads.cached(maxsize=16)
def _lsoa_table(period: str) -> pd.DataFrame:
    """LSOA -> population aged 16+ and IMD 2019 decile, indexed by LSOA code."""
    table = footprint_lsoas(period)[["lsoa11_code", "population_16plus"]]
    return table.merge(_lsoa_deciles(), on="lsoa11_code", how="left").set_index("lsoa11_code")


def _population(period: str, lsoas: tuple[str, ...] | None) -> pd.Series:
    """Mid-2020 population aged 16+ by decile (0 = all) of ``lsoas`` (None: England)."""
    table = _lsoa_table(period)
    if lsoas is not None:
        table = table.loc[list(lsoas)]
    by = table.groupby("imd_decile")["population_16plus"].sum().reindex(range(1, 11), fill_value=0)
    by.loc[0] = table["population_16plus"].sum()
    return by.sort_index()


def _bounded_proportion(x, n, bx, bn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, n, bx, bn = (np.asarray(v, dtype=float) for v in (x, n, bx, bn))
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0) & (x <= n)
    value = np.where(ok, x / np.where(n > 0, n, 1), np.nan) * 100
    x_lo, n_lo_den = np.clip(x - bx, 0, None), n + bn
    x_hi = x + bx
    n_hi_den = np.maximum(n - bn, x_hi)
    safe = lambda a, fill: np.where(ok, a, fill)  # noqa: E731
    lower = quietly(stats.wilson_ci, safe(x_lo, 0), safe(n_lo_den, 1)).lower * 100
    upper = quietly(stats.wilson_ci, safe(x_hi, 0), safe(n_hi_den, 1)).upper * 100
    return value, np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def _bounded_rate(count, pop, bound) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count, pop, bound = (np.asarray(v, dtype=float) for v in (count, pop, bound))
    ok = np.isfinite(count) & (pop > 0)
    safe_pop = np.where(pop > 0, pop, 1)
    lo = quietly(stats.rate, pd.Series(np.where(ok, np.clip(count - bound, 0, None), 0)), pd.Series(safe_pop))
    hi = quietly(stats.rate, pd.Series(np.where(ok, count + bound, 0)), pd.Series(safe_pop))
    value = np.where(ok, count / safe_pop * 100_000, np.nan)
    return value, np.where(ok, lo["lower_cl"], np.nan), np.where(ok, hi["upper_cl"], np.nan)


def _measures(counts: pd.DataFrame) -> pd.DataFrame:
    new = {}
    bound = {c: counts[f"{c}_bound"].fillna(0) for c in COUNTS}
    for name, (num, den, _, _) in MEASURES.items():
        if name == "referral_rate":
            v, lo, hi = _bounded_rate(counts[num], counts[den], bound[num])
        else:
            v, lo, hi = _bounded_proportion(counts[num], counts[den], bound[num], bound[den])
        new[name], new[f"{name}_lower"], new[f"{name}_upper"] = v, lo, hi
    return pd.concat([counts, pd.DataFrame(new, index=counts.index)], axis=1)


@reads.cached(maxsize=16, stored=True)
def _england(period: str) -> pd.DataFrame:
    counts = _summed(period, "England", ("All",))
    counts["population_16plus"] = _population(period, None).to_numpy()
    return _measures(counts)


def funnel(area: Area) -> pd.DataFrame:
    """The funnel for the area's footprint and England, every year, total and by decile.

    One row per year × series ("footprint", "England") × ``imd_decile`` (0 = all
    referrals, 1 = most deprived ... 10). Columns: ``period, series, org_type,
    organisation, fit, imd_decile``, counts ``referrals, finished, at_caseness,
    recovery, improvement`` with ``<count>_bound`` (± rounding carried),
    ``population_16plus`` (mid-2020), and for each of :data:`MEASURES` the value and
    ``_lower``/``_upper`` 95% limits (widened for rounding). Years without a usable
    footprint have England rows only.
    """
    return _funnel(area).copy(deep=False)


@reads.cached(maxsize=4, stored=True)
def _funnel(area: Area) -> pd.DataFrame:
    parts = []
    for fp in footprints(area):
        eng = _england(fp.period).assign(
            period=fp.period, series="England", org_type="England", organisation="England", fit=""
        )
        parts.append(eng)
        if not fp.available:
            continue
        counts = _summed(fp.period, fp.org_type, fp.codes)
        counts["population_16plus"] = _population(fp.period, fp.lsoas).to_numpy()
        parts.append(
            _measures(counts).assign(
                period=fp.period, series="footprint", org_type=fp.org_type, organisation=fp.label, fit=fp.grade
            )
        )
    df = pd.concat(parts, ignore_index=True)
    front = ["period", "series", "org_type", "organisation", "fit", "imd_decile"]
    return df[front + [c for c in df.columns if c not in front]]


# --- inequality by year ---------------------------------------------------------------------


def gaps(area: Area) -> pd.DataFrame:
    """Recovery in the most (1) and least (10) deprived deciles and the gap (10 minus 1,
    percentage points, Newcombe 95% limits) per year and series. Where a gap is missing,
    ``reason`` says why: :data:`NO_RESIDENTS` (``empty_deciles``: which of 1 and 10 have no
    residents in the footprint) or :data:`SUPPRESSED`; otherwise ``reason`` is ""."""
    df = funnel(area)
    rows = []
    for (period, series), part in df[df["imd_decile"] > 0].groupby(["period", "series"], sort=False):
        d = part.set_index("imd_decile")
        row = {
            "period": period,
            "series": series,
            "organisation": d["organisation"].iloc[0],
            "org_type": d["org_type"].iloc[0],
            "fit": d["fit"].iloc[0],
            "recovery_most_deprived": d.loc[1, "recovery_pct"],
            "recovery_least_deprived": d.loc[10, "recovery_pct"],
            "gap": np.nan,
            "gap_lower": np.nan,
            "gap_upper": np.nan,
            "reason": "",
            "empty_deciles": (),
        }
        need = [d.loc[k, c] for k in (1, 10) for c in ("recovery", "at_caseness")]
        if all(np.isfinite(need)) and d.loc[1, "at_caseness"] > 0 and d.loc[10, "at_caseness"] > 0:
            diff = quietly(
                stats.difference,
                pd.Series([d.loc[10, "recovery"]]),
                pd.Series([d.loc[10, "at_caseness"]]),
                pd.Series([d.loc[1, "recovery"]]),
                pd.Series([d.loc[1, "at_caseness"]]),
            )
            widen = 100 * (
                d.loc[1, "recovery_bound"] / d.loc[1, "at_caseness"]
                + d.loc[10, "recovery_bound"] / d.loc[10, "at_caseness"]
            )
            row.update(
                gap=d.loc[10, "recovery_pct"] - d.loc[1, "recovery_pct"],
                gap_lower=float(diff["lower_cl"].iloc[0]) - widen,
                gap_upper=float(diff["upper_cl"].iloc[0]) + widen,
            )
        else:
            empty = tuple(k for k in (1, 10) if not d.loc[k, "population_16plus"] > 0)
            row.update(reason=NO_RESIDENTS if empty else SUPPRESSED, empty_deciles=empty)
        rows.append(row)
    return pd.DataFrame(rows)


def sii_by_year(area: Area) -> pd.DataFrame:
    """SII and RII of recovery by IMD decile for the footprint and England, each year.

    PHE's method (``mhbook.stats.sii``): deciles weighted by the number at caseness,
    limits simulated from each decile's (rounding-widened) Wilson limits. Needs recovery
    published for every decile in which the footprint has residents, and for at least
    :data:`MIN_DECILES` deciles; otherwise ``reason`` says why: :data:`SUPPRESSED` (the
    deciles in ``missing_deciles``), :data:`TOO_FEW_DECILES` (``deciles`` with published
    recovery) or :data:`LIMITS_AT_BOUND` ("" where there is an SII). SII in percentage
    points, positive = recovery higher at the least deprived end.
    """
    return _sii_by_year(area).copy(deep=False)


@reads.cached(maxsize=4)
def _sii_by_year(area: Area) -> pd.DataFrame:
    df = funnel(area)
    rows = []
    for (period, series), part in df[df["imd_decile"] > 0].groupby(["period", "series"], sort=False):
        row = {
            "period": period,
            "series": series,
            "organisation": part["organisation"].iloc[0],
            "fit": part["fit"].iloc[0],
            "deciles": 0,
            "sii": np.nan,
            "sii_lower": np.nan,
            "sii_upper": np.nan,
            "rii": np.nan,
            "rii_lower": np.nan,
            "rii_upper": np.nan,
            "reason": "",
            "missing_deciles": (),
        }
        usable = part.dropna(subset=["recovery", "at_caseness", "recovery_pct"])
        usable = usable[usable["at_caseness"] > 0]
        lived = part[part["population_16plus"] > 0]["imd_decile"]
        gone = sorted(set(lived) - set(usable["imd_decile"]))
        row["deciles"] = len(usable)
        if gone:
            row.update(reason=SUPPRESSED, missing_deciles=tuple(gone))
        elif len(usable) < MIN_DECILES:
            row["reason"] = TOO_FEW_DECILES
        elif not (usable["recovery_pct_lower"] > 0).all() or not (usable["recovery_pct_upper"] < 100).all():
            row["reason"] = LIMITS_AT_BOUND
        else:
            s = recovery_sii(
                decile=usable["imd_decile"],
                at_caseness=usable["at_caseness"],
                recovery_pct=usable["recovery_pct"],
                recovery_pct_lower=usable["recovery_pct_lower"],
                recovery_pct_upper=usable["recovery_pct_upper"],
                repetitions=REPETITIONS,
                random_state=SEED,
            )
            row.update(
                sii=s["sii"].iloc[0],
                sii_lower=s["sii_lower_cl"].iloc[0],
                sii_upper=s["sii_upper_cl"].iloc[0],
                rii=s["rii"].iloc[0],
                rii_lower=s["rii_lower_cl"].iloc[0],
                rii_upper=s["rii_upper_cl"].iloc[0],
            )
        rows.append(row)
    return pd.DataFrame(rows)


def latest_by_type(area: Area) -> dict[str, LocalFootprint]:
    """The latest usable CCG year and the latest usable ICB year."""
    out: dict[str, LocalFootprint] = {}
    for fp in footprints(area):
        if fp.available:
            out[fp.org_type] = fp
    return out


@dataclass(frozen=True)
class HubReferrals:
    """Referrals of one CCG year recorded against non-geographic hubs or UNKNOWN (:data:`HUBS`)."""

    period: str
    referrals: float  # referrals received by the hubs and UNKNOWN together
    england_referrals: float  # England's referrals received
    codes: tuple[str, ...]  # the hub codes published that year, sorted


def hub_referrals(period: str) -> HubReferrals | None:
    """The referrals in ``period`` that belong to no area's footprint; None from 2022-23,
    when figures are published for ICBs, which have no hubs."""
    if period >= "2022-23":
        return None
    counts = _year_counts(period, "CCG")
    total = counts[counts["imd_decile"] == 0]
    hubs = total[total["org_code"].isin(HUBS)]
    eng = _england(period).loc[lambda d: d["imd_decile"] == 0, "referrals"].iloc[0]
    return HubReferrals(period, float(hubs["referrals"].sum()), float(eng), tuple(sorted(hubs["org_code"])))
