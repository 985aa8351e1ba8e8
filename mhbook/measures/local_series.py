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
    3. otherwise there is **no usable footprint** that year, and the reason is given.

    *coverage* is the share of the area's residents living in the footprint; *purity*
    the share of the footprint's residents living in the area. The **fit grade** is set
    by the smaller of the two: **exact** at least 99%, **close** at least 90%,
    **partial** at least 50%, **poor** below 50% (:data:`GRADES`).

Rounding carried
    NHS rounds every count below England level to the nearest 5, so each published
    count is within 2.5 of the true count; a sum of k counts is within 2.5 k. Each
    summed count carries that bound (``<measure>_bound``), and limits are widened by it:
    a proportion's lower limit is Wilson's lower limit of (numerator - bound) out of
    (denominator + bound), its upper limit Wilson's upper limit of (numerator + bound)
    out of (denominator - bound); a rate's limits are Byar's (exact below 10) for
    count - bound and count + bound. England's counts are not rounded (bound 0).
    Suppressed counts (``*``) are missing, and so is any sum that includes one.

Non-geographic commissioning hubs (13Q, 13R, 14A, 14E, 14R) and UNKNOWN serve no area
and are left out (:data:`HUBS`; :func:`hub_note` says how many referrals they hold). A
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from IPython.display import Markdown

from mhbook import figures, periods, reads, stats
from mhbook.areas import Area, footprint_lsoas
from mhbook.errors import UnmappedOrganisationError
from mhbook.figures import numbers
from mhbook.figures.segments import segmented_trend_chart
from mhbook.measures._quiet import quietly
from mhbook.measures.footprints import _title
from mhbook.pages import iapt_deprivation  # imd_label: moves with local_series's own page
from mhbook.sources import ccg_lookups, iapt, imd

#: The first year NHS footprints below England are mapped to areas (CCG lookups exist from April 2017).
FIRST_YEAR = "2017-18"
HUBS = ("13Q", "13R", "14A", "14E", "14R", "UNKNOWN")
#: An organisation is the area's own when at least this share of its residents live there.
INSIDE = 0.90
#: Fit grade by the smaller of coverage and purity.
GRADES = ((0.99, "exact"), (0.90, "close"), (0.50, "partial"))
POOR = "poor"
#: Half the rounding step: each published count below England level is within this.
ROUNDING = 2.5
#: Seed and repetitions of the simulated SII limits (PHE method).
SEED = 2020
REPETITIONS = 20_000
#: Fewest deciles with published recovery counts for an SII (as the England chapter).
MIN_DECILES = 5
POPULATION_LABEL = "mid-2020 population aged 16+"

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
    as in the module notes; ``lsoas``: all LSOAs of the organisations (denominators).
    """

    area_code: str
    area_name: str
    period: str
    org_type: str
    orgs: tuple[tuple[str, str], ...]
    method: str | None
    coverage: float
    purity: float
    note: str
    lsoas: tuple[str, ...] = ()
    #: Organisations serving the rest of the area, not used: (code, name, share of the
    #: area's residents, share of the organisation's residents living in the area).
    others: tuple[tuple[str, str, float, float], ...] = ()

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


def _pct(x: float) -> str:
    if 0 < x < 0.005:
        return "less than 1%"
    if 0.995 <= x < 1:
        return "over 99%"
    return f"{100 * x:.0f}%"


@reads.cached(maxsize=16)
def _published(period: str, org_type: str) -> pd.DataFrame:
    """Organisations published by NHS England for ``period``: org_code -> name."""
    return iapt.organisations(period, org_type)


@reads.cached(maxsize=16)
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


@reads.cached(maxsize=16)
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

    def make(rows: pd.DataFrame, method: str, note: str) -> LocalFootprint:
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
            note,
            lsoas,
            others,
        )

    own = fp[fp["footprint_share"] >= INSIDE - 1e-9]
    missing = [c for c in fp["org_code"] if c not in published.index]
    if own["population_share"].sum() >= 0.5 and not set(own["org_code"]) & set(missing):
        return make(own, "own", "")
    top = fp.iloc[0]
    if top["population_share"] >= 0.5 and top["org_code"] not in missing:
        return make(fp.iloc[[0]], "straddling", "")
    if set(own["org_code"]) & set(missing) or top["org_code"] in missing:
        why = (
            f"NHS England published no {org_type} figures in {period} for "
            f"{', '.join(sorted(set(missing) & (set(own['org_code']) | {top['org_code']})))}"
        )
    else:
        why = (
            f"no {org_type} lying inside {area.name}, nor any single {org_type}, holds at least "
            f"half of its residents (the largest, {names[top['org_code']]}, holds "
            f"{_pct(top['population_share'])})"
        )
    return LocalFootprint(
        area.code,
        area.name,
        period,
        org_type,
        (),
        None,
        0.0,
        0.0,
        f"{area.name} has no usable NHS footprint in {period}: {why}.",
    )


def describe(fp: LocalFootprint) -> str:
    """A plain sentence: organisation, fit, shares and year."""
    if not fp.available:
        return fp.note
    kind = {"CCG": "Clinical Commissioning Group", "ICB": "Integrated Care Board"}[fp.org_type]
    if fp.method == "own" and len(fp.orgs) > 1:
        what = (
            f"the {len(fp.orgs)} {kind}s lying inside it, added together ({'; '.join(f'{n}, {c}' for c, n in fp.orgs)})"
        )
    elif fp.method == "own":
        what = f"{fp.orgs[0][1]} ({fp.orgs[0][0]})"
    else:
        what = f"{fp.orgs[0][1]} ({fp.orgs[0][0]}), which straddles the area's boundary"
    it, its = ("them", "their") if len(fp.orgs) > 1 else ("it", "its")
    text = (
        f"In {fp.period} {fp.area_name} is represented by {what}: {_pct(fp.coverage)} of the "
        f"area's residents live in {it} and {_pct(fp.purity)} of {its} residents live in the area "
        f"(fit: {fp.grade})."
    )
    shown = [o for o in fp.others if o[2] >= 0.01]
    if shown:
        text += (
            " Not included: "
            + "; ".join(
                f"{name} ({code}), home to {_pct(share)} of the area's residents, {_pct(inside)} of its own "
                f"living in the area"
                for code, name, share, inside in shown
            )
            + "."
        )
    return text


def years() -> tuple[str, ...]:
    """The NHS Talking Therapies years of the series: 2017-18 to the latest in the data."""
    return periods.series("iapt", since=FIRST_YEAR)


@reads.cached(maxsize=4)
def _footprints(area: Area) -> tuple[LocalFootprint, ...]:
    return tuple(footprint(area, p) for p in years())


def footprints(area: Area) -> list[LocalFootprint]:
    """The area's footprint in every year of ``years()``."""
    return list(_footprints(area))


def footprint_table(area: Area) -> pd.DataFrame:
    """One row per year: organisation(s), type, method, coverage, purity, fit, note."""
    rows = []
    for fp in footprints(area):
        rows.append(
            {
                "year": fp.period,
                "organisation type": fp.org_type,
                "organisation(s)": fp.label if fp.available else "none usable",
                "how chosen": {
                    "own": "own organisation(s), counts added" if len(fp.orgs) > 1 else "own organisation",
                    "straddling": "straddles the boundary",
                    None: "-",
                }[fp.method],
                "area residents in footprint (%)": round(100 * fp.coverage, 1) if fp.available else np.nan,
                "footprint residents in area (%)": round(100 * fp.purity, 1) if fp.available else np.nan,
                "fit": fp.grade or "none",
                "note": "" if fp.available else fp.note,
            }
        )
    return pd.DataFrame(rows)


# --- counts -------------------------------------------------------------------------------


@reads.cached(maxsize=16)
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


@reads.cached(maxsize=16)
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


@reads.cached(maxsize=4)
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
    percentage points, Newcombe 95% limits) per year and series; ``reason`` says why a
    gap is missing."""
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
            empty = [k for k in (1, 10) if not d.loc[k, "population_16plus"] > 0]
            row["reason"] = (
                f"the footprint has no residents in decile {' or '.join(map(str, empty))}"
                if empty
                else "recovery in decile 1 or 10 is suppressed (small numbers)"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def sii_by_year(area: Area) -> pd.DataFrame:
    """SII and RII of recovery by IMD decile for the footprint and England, each year.

    PHE's method (``mhbook.stats.sii``): deciles weighted by the number at caseness,
    limits simulated from each decile's (rounding-widened) Wilson limits. Needs recovery
    published for every decile in which the footprint has residents, and for at least
    :data:`MIN_DECILES` deciles; otherwise ``reason`` says which are missing. SII in percentage points, positive = recovery higher at
    the least deprived end.
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
        }
        usable = part.dropna(subset=["recovery", "at_caseness", "recovery_pct"])
        usable = usable[usable["at_caseness"] > 0]
        lived = part[part["population_16plus"] > 0]["imd_decile"]
        gone = sorted(set(lived) - set(usable["imd_decile"]))
        row["deciles"] = len(usable)
        if gone:
            row["reason"] = (
                f"recovery is suppressed or not published for decile(s) "
                f"{', '.join(map(str, gone))}, where the footprint has residents; an SII "
                "without them would be biased"
            )
        elif len(usable) < MIN_DECILES:
            row["reason"] = f"only {len(usable)} deciles have published recovery; an SII needs {MIN_DECILES}"
        elif not (usable["recovery_pct_lower"] > 0).all() or not (usable["recovery_pct_upper"] < 100).all():
            row["reason"] = (
                "a decile has so few people at caseness that its limits (widened for "
                "rounding) reach 0% or 100%; the PHE method cannot simulate them"
            )
        else:
            frame = usable.assign(
                p=usable["recovery_pct"] / 100,
                lo=usable["recovery_pct_lower"] / 100,
                hi=usable["recovery_pct_upper"] / 100,
            )
            s = quietly(
                stats.sii,
                frame,
                "imd_decile",
                "at_caseness",
                "p",
                lower_cl="lo",
                upper_cl="hi",
                value_type=2,
                rii=True,
                multiplier=100,
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


# --- tables and figures -----------------------------------------------------------------------


def _bounded(count: pd.Series, bound: pd.Series) -> pd.Series:
    text = count.map(lambda v: f"{v:,.0f}") + " ± " + bound.map(lambda v: f"{v:g}")
    return text.where(count.notna())


def funnel_table(area: Area) -> pd.DataFrame:
    """Totals per year, footprint and England, readable (for the page and its CSV): each
    value at the precision of its limits, limits rounded outwards; counts whole."""
    df = funnel(area)
    df = df[df["imd_decile"] == 0]
    return pd.DataFrame(
        {
            "year": df["period"],
            "organisation": df["organisation"],
            "fit": df["fit"],
            "referrals (± rounding)": _bounded(df["referrals"], df["referrals_bound"]),
            f"{POPULATION_LABEL}": numbers.counts_series(df["population_16plus"]),
            "referrals per 100,000 aged 16+": numbers.numbers_series(df["referral_rate"], 0),
            "referral rate 95% limits": numbers.limits_series(df["referral_rate_lower"], df["referral_rate_upper"], 0),
            "finished (% of referrals, no test: different cohorts)": numbers.numbers_series(df["finished_pct"], 1),
            "recovery (%)": numbers.numbers_series(df["recovery_pct"], 1),
            "recovery 95% limits": numbers.limits_series(df["recovery_pct_lower"], df["recovery_pct_upper"], 1),
            "reliable improvement (%)": numbers.numbers_series(df["improvement_pct"], 1),
        }
    ).reset_index(drop=True)


def decile_table(area: Area, period: str) -> pd.DataFrame | None:
    """The footprint's funnel by decile in one year, or None without a footprint."""
    df = funnel(area)
    df = df[(df["period"] == period) & (df["series"] == "footprint") & (df["imd_decile"] > 0)]
    if df.empty:
        return None
    return pd.DataFrame(
        {
            "IMD decile (1 = most deprived)": df["imd_decile"],
            "referrals (± rounding)": _bounded(df["referrals"], df["referrals_bound"]),
            f"{POPULATION_LABEL}": numbers.counts_series(df["population_16plus"]),
            "referrals per 100,000 aged 16+": numbers.numbers_series(df["referral_rate"], 0),
            "finished (% of referrals, no test: different cohorts)": numbers.numbers_series(df["finished_pct"], 1),
            "finished at caseness": numbers.counts_series(df["at_caseness"]),
            "recovered": numbers.counts_series(df["recovery"]),
            "recovery (%)": numbers.numbers_series(df["recovery_pct"], 1),
            "recovery 95% limits": numbers.limits_series(df["recovery_pct_lower"], df["recovery_pct_upper"], 1),
            "reliable improvement (%)": numbers.numbers_series(df["improvement_pct"], 1),
        }
    ).reset_index(drop=True)


def publish_decile_tables(area: Area) -> Markdown:
    """One captioned table (with CSV) per year; a sentence for a year without a footprint."""
    parts = []
    for fp in footprints(area):
        table = decile_table(area, fp.period)
        if table is None:
            parts.append(f"**{fp.period}.** {fp.note}\n")
            continue
        caption = (
            f"NHS Talking Therapies by {iapt_deprivation.imd_label(fp.period)}, {fp.label}, {fp.period} "
            f"(fit: {fp.grade}). "
            "Deciles are NHS England's breakdown of the organisation's referrals by the "
            "deprivation of the patient's neighbourhood, not of the area's neighbourhoods only. "
            f"Rates use the {POPULATION_LABEL} of the organisation's LSOAs in each decile."
        )
        parts.append(figures.publish_table(table, f"local-deciles-{fp.period}", caption=caption).data)
    return Markdown("\n".join(parts))


def gap_table(area: Area) -> pd.DataFrame:
    """Recovery in deciles 1 and 10 and the gap per year, readable, with reasons."""
    g = gaps(area)
    return pd.DataFrame(
        {
            "year": g["period"],
            "organisation": g["organisation"],
            "fit": g["fit"],
            "recovery, most deprived decile (%)": numbers.numbers_series(g["recovery_most_deprived"], 1),
            "recovery, least deprived decile (%)": numbers.numbers_series(g["recovery_least_deprived"], 1),
            "gap (percentage points)": numbers.numbers_series(g["gap"], 1),
            "gap 95% limits": numbers.limits_series(g["gap_lower"], g["gap_upper"], 1),
            "why no gap": g["reason"],
        }
    )


def sii_table(area: Area) -> pd.DataFrame:
    """SII/RII per year and series, readable, with the reason where none is computed."""
    s = sii_by_year(area)
    return pd.DataFrame(
        {
            "year": s["period"],
            "organisation": s["organisation"],
            "fit": s["fit"],
            "deciles used": s["deciles"],
            "SII (percentage points)": numbers.numbers_series(s["sii"], 1),
            "SII 95% limits": numbers.limits_series(s["sii_lower"], s["sii_upper"], 1),
            "RII": numbers.numbers_series(s["rii"], 2),
            "RII 95% limits": numbers.limits_series(s["rii_lower"], s["rii_upper"], 2),
            "why no SII": s["reason"],
        }
    )


def _series_frame(area: Area, column: str) -> pd.DataFrame:
    df = funnel(area)
    df = df[df["imd_decile"] == 0]
    return _trend_frame(area, df, column)


def _trend_frame(area: Area, df: pd.DataFrame, column: str) -> pd.DataFrame:
    own = f"{area.name}'s NHS footprint"
    out = pd.DataFrame(
        {
            "period": df["period"].to_numpy(),
            "series": np.where(df["series"] == "England", "England", own),
            "segment": np.where(
                df["series"] == "England",
                "England",
                df["organisation"] + np.where(df["fit"] != "", " (fit: " + df["fit"] + ")", ""),
            ),
            "kind": df["org_type"].to_numpy(),
            "value": df[column].to_numpy(),
            "lower_cl": df[f"{column}_lower"].to_numpy(),
            "upper_cl": df[f"{column}_upper"].to_numpy(),
        }
    )
    return out


def _who(area: Area) -> str:
    """Which organisations the footprint line describes, year by year, compactly."""
    runs: list[tuple[str, str, str]] = []
    for fp in footprints(area):
        what = f"{fp.short_label}, fit {fp.grade}" if fp.available else "no footprint"
        if runs and runs[-1][2] == what:
            runs[-1] = (runs[-1][0], fp.period, what)
        else:
            runs.append((fp.period, fp.period, what))
    return "; ".join(f"{a}{'' if a == b else ' to ' + b}: {w}" for a, b, w in runs)


def trend_figure(area: Area, measure: str) -> figures.Figure:
    """One measure, every year of ``years()``, the area's footprint against England."""
    _, _, label, unit = MEASURES[measure]
    data = _series_frame(area, measure)
    return segmented_trend_chart(
        data,
        years(),
        measure=label,
        unit=unit,
        context=f"{area.name}'s NHS footprint and England",
        area=f"{area.name}'s NHS footprint",
        caption=(
            f"{label[:1].upper() + label[1:]}, {area.name}'s NHS footprint against England, "
            f"{years()[0]} to {years()[-1]}, with 95% limits widened for rounding. Footprint by year: "
            f"{_who(area)}. Referral rates use the {POPULATION_LABEL}."
        ),
    )


def gap_figure(area: Area) -> figures.Figure:
    """The recovery gap (least minus most deprived decile) over time, footprint and England."""
    g = gaps(area)
    own = f"{area.name}'s NHS footprint"
    data = pd.DataFrame(
        {
            "period": g["period"],
            "series": np.where(g["series"] == "England", "England", own),
            "segment": np.where(g["series"] == "England", "England", g["organisation"] + " (fit: " + g["fit"] + ")"),
            "kind": g["org_type"],
            "value": g["gap"],
            "lower_cl": g["gap_lower"],
            "upper_cl": g["gap_upper"],
        }
    )
    return segmented_trend_chart(
        data,
        years(),
        measure="recovery gap (decile 10 minus 1)",
        unit="percentage points",
        context=f"{area.name}'s NHS footprint and England",
        area=own,
        caption=(
            f"Recovery in the least deprived decile minus the most deprived decile, {own} against "
            f"England, {years()[0]} to {years()[-1]}, with 95% limits (Newcombe, widened for rounding). "
            f"Above zero: recovery is higher in the least deprived neighbourhoods. Footprint by "
            f"year: {_who(area)}."
        ),
    )


def latest_by_type(area: Area) -> dict[str, LocalFootprint]:
    """The latest usable CCG year and the latest usable ICB year."""
    out: dict[str, LocalFootprint] = {}
    for fp in footprints(area):
        if fp.available:
            out[fp.org_type] = fp
    return out


def attrition_figure(area: Area, org_type: str) -> figures.Figure | Markdown:
    """The Commission's "goes into reverse" graph for the latest CCG or ICB year."""
    fp = latest_by_type(area).get(org_type)
    if fp is None:
        return Markdown(
            f"{area.name} has no usable {org_type} footprint in any year, so there is no {org_type} graph by decile."
        )
    df = funnel(area)
    df = df[(df["period"] == fp.period) & (df["imd_decile"] > 0)]
    own = f"{fp.short_label} (fit: {fp.grade})"
    parts = []
    for name, (_, _, label, _) in MEASURES.items():
        parts.append(
            pd.DataFrame(
                {
                    "measure": label,
                    "imd_decile": df["imd_decile"],
                    "value": df[name],
                    "lower_cl": df[f"{name}_lower"],
                    "upper_cl": df[f"{name}_upper"],
                    "series": np.where(df["series"] == "England", "England", own),
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    return figures.attrition_panels(
        long,
        series="series",
        order=[m[2] for m in MEASURES.values()],
        units={m[2]: m[3] for m in MEASURES.values()},
        ncols=2,
        area=own,
        context=f"{fp.label} and England, {fp.period}",
        caption=(
            f"NHS Talking Therapies by deprivation decile as published (1 = most deprived), {fp.label} (fit: "
            f"{fp.grade}) against England, {fp.period}, with 95% limits widened for rounding. "
            "Suppressed deciles are left blank."
        ),
    )


def publish_attrition(area: Area, org_type: str) -> Markdown:
    """The "goes into reverse" graph for the latest ``org_type`` year, published, or the
    sentence saying why there is none."""
    fig = attrition_figure(area, org_type)
    if isinstance(fig, Markdown):
        return fig
    return figures.publish(fig, f"local-attrition-{org_type.lower()}")


def hub_note(period: str) -> str:
    """How many referrals in ``period`` sit with hubs or UNKNOWN, left out of every area."""
    if period >= "2022-23":
        return ""
    counts = _year_counts(period, "CCG")
    total = counts[counts["imd_decile"] == 0]
    hubs = total[total["org_code"].isin(HUBS)]
    eng = _england(period).loc[lambda d: d["imd_decile"] == 0, "referrals"].iloc[0]
    n = hubs["referrals"].sum()
    return (
        f"In {period}, {n:,.0f} of England's {eng:,.0f} referrals ({100 * n / eng:.1f}%) were recorded "
        f"against non-geographic commissioning hubs or an unknown CCG "
        f"({', '.join(sorted(hubs['org_code']))}) and belong to no area's footprint."
    )


# --- prose ---------------------------------------------------------------------------------------


def _first_last(area: Area, series: str = "footprint") -> tuple[pd.Series | None, pd.Series | None]:
    df = funnel(area)
    df = df[(df["imd_decile"] == 0) & (df["series"] == series)].dropna(subset=["recovery_pct"])
    if df.empty:
        return None, None
    return df.iloc[0], df.iloc[-1]


def _gap_sentence(area: Area) -> str:
    every = gaps(area)
    every = every[every["series"] == "footprint"]
    g = every.dropna(subset=["gap"])
    without = every[every["gap"].isna()]
    reasons = "; ".join(
        f"{', '.join(part['period'])}: {reason}" for reason, part in without.groupby("reason", sort=False)
    )
    missing = f" There is no gap for {reasons}." if len(without) else ""
    if len(g) < 2:
        return (
            f"There are too few years with published recovery for both the most and least deprived "
            f"deciles in {area.name}'s footprint to say whether the gap changed.{missing}"
        )
    a, b = g.iloc[0], g.iloc[-1]
    change = b["gap"] - a["gap"]
    overlap = not (a["gap_upper"] < b["gap_lower"] or b["gap_upper"] < a["gap_lower"])
    if abs(change) < 0.05:
        verb = "was unchanged"
    else:
        verb = "narrowed" if abs(b["gap"]) < abs(a["gap"]) else "widened"
    caveat = (
        " Their 95% limits overlap, so the change may be chance." if overlap else " Their 95% limits do not overlap."
    )
    same = (
        " The two years describe different organisations, so part of the change may come from the change of footprint."
        if a["organisation"] != b["organisation"]
        else ""
    )
    return (
        f"The recovery gap between the least and most deprived deciles in {area.name}'s footprint {verb}: "
        f"{a['gap']:.1f} percentage points in {a['period']} ({a['organisation']}, fit {a['fit']}) and "
        f"{b['gap']:.1f} in {b['period']} ({b['organisation']}, fit {b['fit']}).{caveat}{same}{missing}"
    )


def summary_sentences(area: Area) -> dict[str, str]:
    """Glue-ready sentences for the summary page (keys ``local_series_*``).

    ``local_series_recovery``: recovery in the area's own footprint in the first and latest
    years with data, naming each organisation and fit; ``local_series_gap``: whether the
    gap between most and least deprived deciles narrowed; ``local_series_footprints``:
    which organisation each year's numbers describe; ``local_series_england``: England's
    recovery the same two years.
    """
    a, b = _first_last(area)
    if a is None:
        recovery = (
            f"No year from {years()[0]} to {years()[-1]} has a usable NHS footprint with published "
            f"recovery for {area.name}."
        )
        england = ""
    else:
        recovery = (
            f"Recovery in {area.name}'s own NHS footprint was {a['recovery_pct']:.1f}% in {a['period']} "
            f"({a['organisation']}, fit {a['fit']}) and {b['recovery_pct']:.1f}% in {b['period']} "
            f"({b['organisation']}, fit {b['fit']})."
        )
        eng = funnel(area)
        eng = eng[(eng["series"] == "England") & (eng["imd_decile"] == 0)].set_index("period")["recovery_pct"]
        england = (
            f"In England it was {eng[a['period']]:.1f}% in {a['period']} and {eng[b['period']]:.1f}% in {b['period']}."
        )
    return {
        "local_series_recovery": recovery,
        "local_series_england": england,
        "local_series_gap": _gap_sentence(area),
        "local_series_footprints": f"Footprint by year: {_who(area)}.",
    }


def _describe_runs(fps: list[LocalFootprint]) -> str:
    """:func:`describe` once per run of years with the same footprint, naming the years."""
    out, i = [], 0
    while i < len(fps):
        j = i
        while j + 1 < len(fps) and describe(fps[j + 1]).replace(fps[j + 1].period, "") == describe(fps[i]).replace(
            fps[i].period, ""
        ):
            j += 1
        text = describe(fps[i])
        if j > i:
            text = text.replace(f"In {fps[i].period} ", f"From {fps[i].period} to {fps[j].period} ", 1)
            text = text.replace(f"in {fps[i].period}:", f"from {fps[i].period} to {fps[j].period}:", 1)
        out.append(text)
        i = j + 1
    return " ".join(out)


def headline_numbers(area: Area) -> dict[str, object]:
    """Values and sentences glued into the chapter's prose."""
    fps = footprints(area)
    usable = [fp for fp in fps if fp.available]
    values: dict[str, object] = {
        "area_name": area.name,
        "first_year": years()[0],
        "last_year": years()[-1],
        "n_usable": len(usable),
        "n_years": len(years()),
        "footprint_sentences": _describe_runs(fps),
        "hub_notes": " ".join(filter(None, (hub_note(p) for p in years()))),
        "inside_pct": f"{100 * INSIDE:.0f}%",
        "grades_text": (
            "exact: at least 99% of the area's residents live in the footprint and at least 99% "
            "of the footprint's residents live in the area; close: both at least 90%; partial: "
            "both at least 50%; poor: either below 50%"
        ),
    }
    values.update(summary_sentences(area))
    s = sii_by_year(area)
    s = s[s["series"] == "footprint"]
    ok = s.dropna(subset=["sii"])
    values["sii_sentence"] = (
        f"An SII could be computed for {len(ok)} of the {len(s)} years with a footprint"
        + (f" ({', '.join(ok['period'])})" if len(ok) else "")
        + "."
        + ("" if len(ok) == len(s) else " In the other years NHS England suppressed small decile counts.")
    )
    return values
