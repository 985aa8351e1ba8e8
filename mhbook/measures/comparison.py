"""How the area compares: its statistical neighbours, its region and England.

Every area-level indicator the data hold, grouped by the triple barrier:

* need: common mental disorders 16+ (Fingertips 93495), emotional disorders 5-16
  (91137), children in low-income families (10101), recorded depression 18+ (QOF,
  848), IMD 2019 average score;
* access: NHS Talking Therapies referrals per 100,000 aged 16+;
* outcomes: recovery and reliable improvement (Talking Therapies); suicide (41001);
  emergency admissions for self-harm, all ages (21001) and aged 10-24 (90813);
  excess under-75 mortality in adults with severe mental illness (91096);
* coercion: Mental Health Act detentions per 100,000.

Where each number comes from
----------------------------
* **The area.** Fingertips County & UA rows on the area's own code; otherwise a former
  code of exactly the same area (e.g. Buckinghamshire County Council's E10000002 for
  Buckinghamshire UA E06000060). An area made from part of a former area gets no value
  (the former area's value is named in the note). District-only indicators (QOF
  depression, self-harm all ages) give a value only where the area is itself one
  district (a unitary authority or London borough); the extracts have no counts, so a
  county is never summed from its districts. Talking Therapies figures are published
  for NHS organisations: the row describes the area's main Integrated Care Board
  (``mhbook.measures.footprints.iapt_footprint``), with NHS England's published
  percentages and limits that carry the rounding of counts
  (``mhbook.measures.talking_therapies``). Mental Health Act detentions come from the
  finest footprint that fits each area, with its fit (``mhbook.measures.coercion``).
* **England** as published; for the IMD score, the population-weighted mean of all
  Counties & UAs (MHCLG's method); for detentions, England's total over Sub-ICB
  Locations (like for like: the all-source total includes unassigned detentions).
* **Region** (ONS 2023): the published regional value where the extract has one
  (emotional disorders, suicide, self-harm 10-24 in 2017/18); for the IMD score, the
  population-weighted mean of the region's Counties & UAs (the same method as England's).
  Otherwise none, and the reason is given: the extracts hold no counts to aggregate,
  and NHS figures are published for NHS England regions, which are not ONS regions.
* **Statistical neighbours**: DfE's children's services model of May 2025, or of
  April 2021 where the area is missing from 2025 (``mhbook.sources.comparators``).
  A neighbour that no longer exists (e.g. Northamptonshire) cannot be placed and is
  named. Neighbours' values are resolved by the same rules; a suppressed or missing
  value is shown as such, never as zero, and ranks are "r of N with a value" (1 = the
  highest value).

Comparisons: Fingertips' test against England at 95% and 99.8%
(:func:`mhbook.stats.compare_to_benchmark`) where the area's value has limits; "better"
and "worse" only where the indicator has a polarity, "higher" and "lower" otherwise.
Against the neighbours, the area's value is simply above or below their average (no
test: the neighbours' values are not a sample).

This module returns numbers (tables of values, limits, comparisons, ranks and trends); the
chapter's sentences, display tables and charts are ``mhbook.pages.comparison``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mhbook import areas, periods, reads, stats
from mhbook.areas import Area
from mhbook.constants import ENGLAND_CODE
from mhbook.errors import InsufficientDataError, UnknownAreaError
from mhbook.measures import coercion, talking_therapies
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.sources import comparators, fingertips, iapt, imd

LEVELS = (0.95, 0.998)
BARRIERS = ("need", "access", "outcome", "coercion")
NOT_COMPARED = "Not compared"


@dataclass(frozen=True)
class Spec:
    """One indicator of the chapter."""

    key: str
    label: str  # lower case, for tables and sentences
    barrier: str
    unit: str  # "%", "per 100,000", "ratio (%)", "score"
    polarity: str | None  # "high_is_good", "low_is_good" or None (no judgement)
    kind: str  # "county", "district", "imd", "iapt", "mha"
    source: str
    fingertips_id: int | None = None
    filters: dict = field(default_factory=dict)
    rolling: bool = False  # pooled, overlapping periods (not trend-tested)


SPECS: tuple[Spec, ...] = (
    Spec(
        "cmd_prevalence",
        "common mental disorders, aged 16+ (modelled)",
        "need",
        "%",
        None,
        "county",
        "Fingertips 93495",
        93495,
        {"sex": "Persons"},
    ),
    Spec(
        "emotional_disorders",
        "emotional disorders, aged 5-16 (modelled)",
        "need",
        "%",
        None,
        "county",
        "Fingertips 91137",
        91137,
        {"sex": "Persons"},
    ),
    Spec(
        "children_low_income",
        "children in low-income families, under 16",
        "need",
        "%",
        None,
        "county",
        "Fingertips 10101",
        10101,
        {"sex": "Persons"},
    ),
    Spec(
        "depression",
        "depression, recorded prevalence aged 18+ (QOF)",
        "need",
        "%",
        None,
        "district",
        "Fingertips 848",
        848,
        {"sex": "Persons"},
    ),
    Spec("imd_score", "IMD 2019 average score", "need", "score", None, "imd", "MHCLG IoD2019"),
    Spec(
        "referrals",
        "Talking Therapies referrals per 100,000 aged 16+",
        "access",
        "per 100,000",
        None,
        "iapt",
        "NHS Talking Therapies annual reports",
    ),
    Spec(
        "recovery",
        "Talking Therapies recovery",
        "outcome",
        "%",
        "high_is_good",
        "iapt",
        "NHS Talking Therapies annual reports",
    ),
    Spec(
        "improvement",
        "Talking Therapies reliable improvement",
        "outcome",
        "%",
        "high_is_good",
        "iapt",
        "NHS Talking Therapies annual reports",
    ),
    Spec(
        "suicide",
        "suicide rate, males aged 10+ (3 years pooled)",
        "outcome",
        "per 100,000",
        "low_is_good",
        "county",
        "Fingertips 41001",
        41001,
        {"sex": "Male"},
        rolling=True,
    ),
    Spec(
        "self_harm",
        "emergency admissions for intentional self-harm, all ages",
        "outcome",
        "per 100,000",
        "low_is_good",
        "district",
        "Fingertips 21001",
        21001,
        {"sex": "Persons"},
    ),
    Spec(
        "self_harm_10_24",
        "hospital admissions for self-harm, aged 10-24",
        "outcome",
        "per 100,000",
        "low_is_good",
        "county",
        "Fingertips 90813",
        90813,
        {"sex": "Persons"},
    ),
    Spec(
        "smi_mortality",
        "excess under-75 mortality, adults with severe mental illness",
        "outcome",
        "ratio (%)",
        "low_is_good",
        "county",
        "Fingertips 91096",
        91096,
        {"sex": "Persons"},
    ),
    Spec(
        "detentions",
        "Mental Health Act detentions per 100,000",
        "coercion",
        "per 100,000",
        None,
        "mha",
        "NHS England Mental Health Act statistics",
    ),
)
SPEC = {s.key: s for s in SPECS}
PANEL_COLUMNS = [
    "area_code",
    "period",
    "value",
    "lower_95",
    "upper_95",
    "lower_99_8",
    "upper_99_8",
    "count",
    "denominator",
    "describes",
    "note",
    "suppressed",
    "from_code",
    "from_name",
    "from_value",
    "publisher_note",
    "districts_with_value",
    "districts",
    "footprint",
]
#: What a panel row's ``note`` code says (``mhbook.pages.comparison.value_note`` words it
#: from the row's facts); "" when there is nothing to say.
NOTES = {
    "": "nothing to say",
    "remapped": "published with the publisher's caution (``publisher_note``) that it was re-mapped",
    "not_published": "no value; ``publisher_note`` says why, if the publisher says",
    "former_code": "published for a former code (``from_code``, ``from_name``) of exactly the same area",
    "part_of_former": "no value; a former area (``from_*``) that also covered other areas had ``from_value``",
    "no_value_or_former": "no value for the area or a former area covering it",
    "single_district": "published for the one district (``from_code``) that is the whole area",
    "districts_only": "published only for districts (``districts_with_value`` of ``districts``), no counts",
    "no_value_in_period": "no value for the area in the period",
    "england_mean": "England's IMD score: population-weighted mean of all Counties & UAs",
    "region_mean": "a region's IMD score: population-weighted mean of its Counties & UAs",
    "footprint_unmapped": "the NHS footprint (``footprint``) of the year cannot be mapped to the area",
    "not_published_error": "the NHS organisation has no rows that year (``publisher_note``: the error)",
    "nhs_organisation": "the value of the NHS organisation serving most of the area (``describes``)",
    "mha_footprint": "detentions of the best-fitting Mental Health Act footprint (``footprint``)",
}
#: Why ``trend_table`` cannot judge a series' recent trend, beside the statistic's own reasons:
#: no values at all, or an extract without limits or counts (``mhbook.pages.comparison`` words them).
NO_VALUES, NO_LIMITS_OR_COUNTS = "no_values", "no_limits_or_counts"
#: Where a region's value comes from (``region_source`` of ``comparison_table``).
REGION_SOURCES = ("published", "region_mean", "nhs_regions", "none")


def spec(key: str) -> Spec:
    if key not in SPEC:
        raise ValueError(f"Unknown comparison indicator {key!r}; expected one of {list(SPEC)}")
    return SPEC[key]


def decimals(unit: str) -> int:
    """Decimals shown for a unit: values and their limits always share them (the page's
    ``fmt`` writes them; the comparison with the neighbours' average is made at them)."""
    return 1


# ------------------------------------------------------------------ placing values


@reads.cached
def _current() -> dict[str, Area]:
    return {a.code: a for a in areas.all_areas()}


@reads.cached
def _successors(code: str) -> tuple[str, ...]:
    try:
        return tuple(a.code for a in areas.find(code).areas)
    except UnknownAreaError:
        return ()


def _empty_row(code: str, period: str, describes: str | None, note: str, **facts) -> dict:
    """A panel row without a value: ``note`` is a code of :data:`NOTES`, ``facts`` the
    fields it is worded from (``suppressed``, ``from_*``, ``publisher_note``, ...)."""
    if note not in NOTES:
        raise ValueError(f"Unknown comparison note code {note!r}; expected one of {list(NOTES)}")
    return {
        "area_code": code,
        "period": period,
        "value": np.nan,
        "lower_95": np.nan,
        "upper_95": np.nan,
        "lower_99_8": np.nan,
        "upper_99_8": np.nan,
        "count": np.nan,
        "denominator": np.nan,
        "describes": describes,
        "note": note,
        "suppressed": False,
        "from_code": None,
        "from_name": None,
        "from_value": np.nan,
        "publisher_note": None,
        "districts_with_value": np.nan,
        "districts": np.nan,
        "footprint": None,
    } | facts


def _from_row(code: str, period: str, r: pd.Series, describes: str, note: str, **facts) -> dict:
    out = _empty_row(code, period, describes, note, **facts)
    for col in ("value", "count", "denominator"):
        out[col] = float(r[col]) if pd.notna(r[col]) else np.nan
    for ours, theirs in (
        ("lower_95", "lower_cl_95"),
        ("upper_95", "upper_cl_95"),
        ("lower_99_8", "lower_cl_99_8"),
        ("upper_99_8", "upper_cl_99_8"),
    ):
        out[ours] = float(r[theirs]) if pd.notna(r[theirs]) else np.nan
    return out


def _place_county(area: Area, period: str, by_code: pd.DataFrame) -> dict:
    """The area's row from County & UA rows of one period, indexed by code (see the module
    docstring)."""
    if area.code in by_code.index:
        r = by_code.loc[area.code]
        if pd.notna(r["value"]):
            if isinstance(r["value_note"], str) and "re-mapped" in r["value_note"]:
                return _from_row(area.code, period, r, area.name, "remapped", publisher_note=r["value_note"])
            return _from_row(area.code, period, r, area.name, "")
        # the publisher's own note decides whether the value was suppressed (none: suppressed or not published)
        why = str(r["value_note"]) if pd.notna(r["value_note"]) else None
        return _empty_row(
            area.code,
            period,
            None,
            "not_published",
            publisher_note=why,
            suppressed=why is None or "suppress" in why.lower(),
        )
    for p in area.predecessors:
        if p not in by_code.index or pd.isna(by_code.loc[p, "value"]):
            continue
        r = by_code.loc[p]
        pname = str(r["area_name"])
        if _successors(p) == (area.code,):
            return _from_row(area.code, period, r, area.name, "former_code", from_code=p, from_name=pname)
        return _empty_row(
            area.code,
            period,
            None,
            "part_of_former",
            from_code=p,
            from_name=pname,
            from_value=float(r["value"]),
        )
    return _empty_row(area.code, period, None, "no_value_or_former")


def _place_district(area: Area, period: str, by_code: pd.DataFrame) -> dict:
    if area.code in by_code.index and pd.notna(by_code.loc[area.code, "value"]):
        return _from_row(area.code, period, by_code.loc[area.code], area.name, "")
    codes = [c for c, _ in area.districts]
    if len(codes) == 1 and codes[0] in by_code.index and pd.notna(by_code.loc[codes[0], "value"]):
        return _from_row(area.code, period, by_code.loc[codes[0]], area.name, "single_district", from_code=codes[0])
    have = [c for c in codes if c in by_code.index and pd.notna(by_code.loc[c, "value"])]
    if len(codes) > 1 or len(have) > 1:
        return _empty_row(
            area.code, period, None, "districts_only", districts_with_value=len(have), districts=len(codes)
        )
    return _empty_row(area.code, period, None, "no_value_in_period")


def _fingertips_rows(s: Spec) -> pd.DataFrame:
    df = fingertips.indicator(s.fingertips_id, **s.filters)
    df = df[df["category"].isna()]
    return df.assign(
        area_code=df["area_code"].astype(str),
        period=df["period"].astype(str),
        area_type=df["area_type"].astype(str),
        area_name=df["area_name"].astype(str),
        value_note=df["value_note"].astype(object),
    )


@reads.cached(stored=True)
def _fingertips_panel(key: str) -> pd.DataFrame:
    s = spec(key)
    df = _fingertips_rows(s)
    local_type = "County & UA" if s.kind == "county" else "District & UA"
    out = []
    for period, part in df.groupby("period", sort=True):
        local = part[part["area_type"] == local_type].set_index("area_code")
        if local.empty:
            continue
        place = _place_county if s.kind == "county" else _place_district
        out += [place(a, period, local) for a in _current().values()]
        for r in part[part["area_type"].isin(["England", "Region"])].itertuples(index=False):
            row = pd.Series(r._asdict())
            out.append(_from_row(r.area_code, period, row, r.area_name, ""))
    return pd.DataFrame(out, columns=PANEL_COLUMNS)


@reads.cached
def _imd_panel() -> pd.DataFrame:
    s = imd.utla_scores(vintage=2019, geography=2023)
    cur = _current()
    s = s[s["area_code"].isin(cur)].copy()
    s["region"] = s["area_code"].map(lambda c: cur[c].region_code)
    rows = [
        _empty_row(r.area_code, "2019", cur[r.area_code].name, "") | {"value": float(r.imd_score)}
        for r in s.itertuples()
    ]
    rows.append(
        _empty_row(ENGLAND_CODE, "2019", "England", "england_mean")
        | {"value": float(np.average(s["imd_score"], weights=s["population"]))}
    )
    for region, part in s.groupby("region"):
        rows.append(
            _empty_row(region, "2019", None, "region_mean")
            | {"value": float(np.average(part["imd_score"], weights=part["population"]))}
        )
    return pd.DataFrame(rows, columns=PANEL_COLUMNS)


# ------------------------------------------------------------------ NHS organisations


def _estimate_row(code: str, period: str, describes: str | None, est: pd.Series | None, note: str, **facts) -> dict:
    """A panel row from a ``talking_therapies.headline`` or ``coercion.rate`` row; without a
    value it is marked ``suppressed`` (suppressed or not published)."""
    row = _empty_row(code, period, describes, note, **facts)
    if est is None or pd.isna(est["value"]):
        row["suppressed"] = True
        return row
    return row | {
        "value": est["value"],
        "lower_95": est["lower_95"],
        "upper_95": est["upper_95"],
        "lower_99_8": est.get("lower_99_8", est.get("lower_998")),
        "upper_99_8": est.get("upper_99_8", est.get("upper_998")),
        "count": est["count"],
        "denominator": est.get("denominator", np.nan),
    }


@reads.cached
def footprint(code: str, period: str | None = None) -> Footprint:
    """The area's NHS Talking Therapies footprint in ``period`` (default: the latest year)."""
    return iapt_footprint(_current()[code], period or periods.latest("iapt"))


def _iapt_row(key: str, code: str, period: str) -> dict:
    """One area's Talking Therapies value: that of its main ICB in ``period``."""
    fp = footprint(code, period) if code != ENGLAND_CODE else None
    if code != ENGLAND_CODE and not fp.available:
        return _empty_row(code, period, None, "footprint_unmapped", footprint=fp)
    org_type, org_code = ("England", "All") if code == ENGLAND_CODE else (fp.org_type, fp.org_code)
    try:
        est = talking_therapies.headline(period, org_type, org_code).loc[key]
    except InsufficientDataError as exc:
        return _empty_row(code, period, None, "not_published_error", publisher_note=str(exc))
    describes = "England" if code == ENGLAND_CODE else f"{fp.org_name} ({fp.org_code})"
    return _estimate_row(code, period, describes, est, "" if code == ENGLAND_CODE else "nhs_organisation")


def _mha_row(code: str) -> dict:
    """Detentions per 100,000 from the area's best-fitting footprint (``coercion``), or
    England's total over the same kind of organisation (like for like)."""
    if code == ENGLAND_CODE:
        row = _empty_row(ENGLAND_CODE, periods.latest("mha"), "England (total over Sub-ICB Locations, MHSDS)", "")
        return row | {"value": coercion.england_like_for_like("Sub-ICB")}
    fp = coercion.best_footprint(_current()[code])
    r = coercion.rate(fp)
    # ``describes`` is the footprint's name, which the page writes from ``footprint``
    return _estimate_row(code, periods.latest("mha"), None, pd.Series(r), "mha_footprint", footprint=fp)


@reads.cached
def _nhs_row(key: str, code: str) -> dict:
    return _mha_row(code) if key == "detentions" else _iapt_row(key, code, periods.latest("iapt"))


def _nhs_panel(key: str, codes: tuple[str, ...]) -> pd.DataFrame:
    """Talking Therapies / MHA values for the given areas (via their ICBs) and England."""
    return pd.DataFrame([_nhs_row(key, c) for c in (*codes, ENGLAND_CODE)], columns=PANEL_COLUMNS)


def panel(key: str, codes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every value of one indicator: the 153 County & UAs, England and regions, by period.

    For the NHS indicators (Talking Therapies, Mental Health Act), whose values belong to
    each area's ICB, only the areas in ``codes`` (default all) and England are included.

    Columns: ``area_code``, ``period``, ``value``, ``lower_95``/``upper_95``,
    ``lower_99_8``/``upper_99_8`` (missing where not published), ``count``,
    ``denominator``, ``describes`` (the geography the value is for: the area, a former
    code of it, or an NHS organisation; none for Mental Health Act footprints, named from
    ``footprint``), ``note`` (a code of :data:`NOTES`: why a value is missing, estimated
    or from elsewhere) with the facts it is worded from: ``suppressed`` (True: suppressed
    or not published), ``from_code``/``from_name``/``from_value`` (the former area or
    district the value is from or, for a part of a former area, its value),
    ``publisher_note``, ``districts_with_value``/``districts``, ``footprint`` (the NHS
    footprint: ``footprints.Footprint`` or ``coercion.Footprint``).
    """
    s = spec(key)
    if s.kind in ("county", "district"):
        return _fingertips_panel(key).copy()
    if s.kind == "imd":
        return _imd_panel().copy()
    return _nhs_panel(key, tuple(codes) if codes is not None else tuple(_current()))


# ------------------------------------------------------------------ neighbours


@dataclass(frozen=True)
class Neighbours:
    """An area's statistical neighbours: ``table`` has ``rank``, ``neighbour_code`` (None
    when it cannot be placed), ``neighbour_name``, ``closeness``, ``placed``; ``model``
    is "2025" or "2021" (None: the area is in neither model). ``unplaced`` names the
    neighbours that could not be placed (``mhbook.pages.comparison.neighbours_note`` words it)."""

    area_code: str
    model: str | None
    table: pd.DataFrame

    @property
    def codes(self) -> list[str]:
        return [c for c in self.table["neighbour_code"] if isinstance(c, str)]

    @property
    def unplaced(self) -> list[str]:
        return list(self.table.loc[~self.table["placed"], "neighbour_name"])


@reads.cached
def neighbours(code: str) -> Neighbours:
    """The 10 DfE statistical neighbours of a current County & UA (2025 model, else 2021)."""
    cur = _current()
    if code not in cur:
        raise UnknownAreaError(f"{code!r} is not a current County & UA code (December 2023)")
    for model in ("2025", "2021"):
        try:
            t = comparators.statistical_neighbours(code, model)
        except UnknownAreaError:
            continue
        t = t.copy()
        t["placed"] = t["neighbour_code"].map(lambda c: isinstance(c, str) and c in cur)
        t["neighbour_code"] = t["neighbour_code"].where(t["placed"], None)
        t["neighbour_name"] = [
            cur[c].name if p else n for c, n, p in zip(t["neighbour_code"], t["neighbour_name"], t["placed"])
        ]
        return Neighbours(code, model, t.reset_index(drop=True))
    empty = pd.DataFrame(columns=["rank", "neighbour_code", "neighbour_name", "closeness", "placed"])
    return Neighbours(code, None, empty)


# ------------------------------------------------------------------ the comparison


def _latest_period(p: pd.DataFrame, code: str) -> str | None:
    """The latest period with a value for the area, else the latest period at all."""
    have = p[(p["area_code"] == code) & p["value"].notna()]
    periods = sorted(have["period"].unique()) or sorted(p["period"].unique())
    return periods[-1] if periods else None


def _status(row: pd.Series | None) -> str:
    if row is None:
        return "not in the extract"
    if pd.notna(row["value"]):
        return "value"
    return "suppressed" if row["suppressed"] else "no value"


def _compare(value, lower, upper, benchmark, polarity) -> str:
    if any(pd.isna(x) for x in (value, lower, upper, benchmark)):
        return NOT_COMPARED
    return stats.compare_to_benchmark(value, lower, upper, benchmark, polarity=polarity)


def _round_limits(row: dict, unit: str) -> dict:
    """Round value and limits to the same displayed precision (rounding keeps their order,
    so a value is never outside its displayed limits)."""
    d = decimals(unit)
    for col in ("value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"):
        if pd.notna(row.get(col)):
            row[col + "_shown"] = round(float(row[col]), d)
    return row


def indicator_row(area: Area, key: str) -> dict:
    """One indicator for the area: value, limits, England, region, neighbours, comparisons."""
    s = spec(key)
    nb = neighbours(area.code)
    p = panel(key, (area.code, *nb.codes))
    period = _latest_period(p, area.code)
    at = p[p["period"] == period].set_index("area_code") if period else p.iloc[0:0].set_index("area_code")
    own = at.loc[area.code] if area.code in at.index else None
    eng = at.loc[ENGLAND_CODE, "value"] if ENGLAND_CODE in at.index else np.nan
    reg = at.loc[area.region_code] if area.region_code in at.index else None
    row = {
        "barrier": s.barrier,
        "indicator": key,
        "label": s.label,
        "unit": s.unit,
        "polarity": s.polarity,
        "source": s.source,
        "period": period,
        "describes": own["describes"] if own is not None else None,
        "value": own["value"] if own is not None else np.nan,
    }
    for col in ("lower_95", "upper_95", "lower_99_8", "upper_99_8"):
        row[col] = own[col] if own is not None else np.nan
    row["england"] = eng
    row["region"] = reg["value"] if reg is not None else np.nan
    row["region_name"] = area.region_name
    if reg is not None and pd.notna(reg["value"]):
        row["region_source"] = "region_mean" if reg["note"] == "region_mean" else "published"
    elif s.kind in ("iapt", "mha"):
        row["region_source"] = "nhs_regions"
    else:
        row["region_source"] = "none"
    # Neighbours.
    vals = []
    for code in nb.codes:
        r = at.loc[code] if code in at.index else None
        vals.append((code, _current()[code].name, r["value"] if r is not None else np.nan, _status(r)))
    nv = pd.Series([v for _, _, v, _ in vals], dtype=float)
    have = nv.dropna()
    row["neighbours"] = len(vals)
    row["neighbours_with_value"] = int(len(have))
    row["neighbours_suppressed"] = int(sum(st == "suppressed" for *_, st in vals))
    row["neighbours_min"] = have.min() if len(have) else np.nan
    row["neighbours_max"] = have.max() if len(have) else np.nan
    row["neighbours_mean"] = have.mean() if len(have) else np.nan
    if pd.notna(row["value"]) and len(have):
        row["rank"] = int((have > row["value"]).sum()) + 1
        row["rank_of"] = int(len(have)) + 1
        mean = round(row["neighbours_mean"], decimals(s.unit))
        shown = round(row["value"], decimals(s.unit))
        row["vs_neighbours"] = "Higher" if shown > mean else "Lower" if shown < mean else "Same"
    else:
        row["rank"], row["rank_of"], row["vs_neighbours"] = pd.NA, pd.NA, NOT_COMPARED
    row["vs_england_95"] = _compare(row["value"], row["lower_95"], row["upper_95"], eng, s.polarity)
    row["vs_england_99_8"] = _compare(row["value"], row["lower_99_8"], row["upper_99_8"], eng, s.polarity)
    # why the value is missing, estimated or from elsewhere: the own row's code and facts
    row["area_name"] = area.name
    for col in ("note", *PANEL_COLUMNS[PANEL_COLUMNS.index("suppressed") :]):
        row[col] = own[col] if own is not None else _empty_row(area.code, period, None, "")[col]
    return row


def comparison_table(area: Area) -> pd.DataFrame:
    """One row per indicator (see :data:`SPECS`), in triple-barrier order.

    Columns: ``barrier``, ``indicator``, ``label``, ``unit``, ``polarity``, ``source``,
    ``period``, ``describes`` (what the area's value is for), ``value``, 95% and 99.8%
    limits, ``england``, ``region``, ``region_name``, ``region_source`` (a code of
    :data:`REGION_SOURCES`: a published regional value, the population-weighted mean of
    the region's areas, none because NHS regions are not ONS regions, or none), ``neighbours``,
    ``neighbours_with_value``, ``neighbours_suppressed``, ``neighbours_min``/``max``/
    ``mean``, ``rank`` and ``rank_of`` (1 = highest among the area and its neighbours
    with a value), ``vs_neighbours`` (Higher/Lower/Same than their average, at the shown
    precision), ``vs_england_95``/``vs_england_99_8``, ``area_name``, and the area's own
    panel ``note`` code with its facts (``suppressed`` to ``footprint``; see :func:`panel`).
    ``mhbook.pages.comparison.table_note`` words the note, adding what the numbers show
    (no limits, no England value).
    """
    return pd.DataFrame([indicator_row(area, s.key) for s in SPECS])


def neighbour_values(area: Area) -> pd.DataFrame:
    """Every neighbour's value of every indicator (long): ``indicator``, ``label``,
    ``period``, ``neighbour``, ``code``, ``value`` (missing when suppressed or absent),
    ``status`` ("value", "suppressed", "no value"), ``describes``."""
    nb = neighbours(area.code)
    rows = []
    for s in SPECS:
        p = panel(s.key, (area.code, *nb.codes))
        period = _latest_period(p, area.code)
        at = p[p["period"] == period].set_index("area_code")
        for code in [area.code, *nb.codes]:
            r = at.loc[code] if code in at.index else None
            rows.append(
                {
                    "indicator": s.key,
                    "label": s.label,
                    "period": period,
                    "neighbour": _current()[code].name,
                    "code": code,
                    "is_area": code == area.code,
                    "value": r["value"] if r is not None else np.nan,
                    "status": _status(r),
                    "describes": r["describes"] if r is not None else None,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ trends


def _year(period: str) -> float:
    return float(str(period)[:4])


def _expected_periods(periods: list[str]) -> list[str]:
    """Fill missing years of an annual series ("2022/23", "2024/25" -> adds "2023/24")."""
    if not periods:
        return []
    years = sorted({int(_year(p)) for p in periods})
    sample = periods[0]
    if len(sample) == 4:
        return [str(y) for y in range(years[0], years[-1] + 1)]
    if len(sample) == 7 and sample[4] in "/-":
        sep = sample[4]
        return [f"{y}{sep}{str(y + 1)[2:]}" for y in range(years[0], years[-1] + 1)]
    return sorted(periods)


@reads.cached
def _iapt_series(key: str, code: str) -> pd.DataFrame:
    """Talking Therapies values of the area's ICB (2022-23 on) and England, every year."""
    rows = []
    for period in iapt.periods():
        rows.append(_iapt_row(key, ENGLAND_CODE, period))
        if period >= "2022-23" and code != ENGLAND_CODE:
            rows.append(_iapt_row(key, code, period))
    return pd.DataFrame(rows, columns=PANEL_COLUMNS)


def series(area: Area, key: str) -> pd.DataFrame:
    """The indicator over time for the area, its region and England (long).

    Columns: ``period``, ``series`` (area name, region name, "England"; for NHS figures the
    area's line is its footprint's, ``mhbook.pages.comparison.area_series_name`` says so),
    ``code``, and the panel's value, limit, count and note columns. Years missing from the
    extract are present with a missing value, so charts show a gap.
    """
    s = spec(key)
    if s.kind == "iapt":
        p = _iapt_series(key, area.code)
    else:
        p = panel(key, (area.code,))
    names = {area.code: area.name, area.region_code: area.region_name, ENGLAND_CODE: "England"}
    p = p[p["area_code"].isin(names)].copy()
    periods = _expected_periods(sorted(p["period"].unique()))
    frames = []
    for code, name in names.items():
        part = p[p["area_code"] == code]
        if part["value"].notna().sum() == 0:
            continue
        if s.kind == "iapt" and code != ENGLAND_CODE:
            want = [q for q in periods if q >= "2022-23"]
        else:
            want = periods
        part = part.set_index("period").reindex(want).reset_index().rename(columns={"index": "period"})
        part["area_code"] = code
        part["series"] = name
        frames.append(part)
    if not frames:
        return pd.DataFrame(columns=["period", "series", *PANEL_COLUMNS[2:], "area_code"])
    return pd.concat(frames, ignore_index=True)


def _trend_of(s: Spec, part: pd.DataFrame) -> stats.TrendResult:
    part = part[part["period"].notna()]
    have = part.dropna(subset=["value"])
    times = [_year(p) for p in part["period"]]
    if s.unit == "%" and s.kind == "iapt":
        return stats.recent_trend(
            times,
            value_type="proportion",
            numerator=part["count"],
            denominator=part["denominator"],
            overlapping=s.rolling,
        )
    if have["lower_95"].isna().all() and have["count"].isna().all() and len(part) >= 5:
        return stats.TrendResult(stats.trend.CANNOT, NO_LIMITS_OR_COUNTS)
    return stats.recent_trend(
        times,
        value_type="other",
        values=part["value"],
        lower=part["lower_95"],
        upper=part["upper_95"],
        overlapping=s.rolling,
    )


def trend_table(area: Area, comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every indicator with at least three periods for the area or England.

    Columns: ``indicator``, ``label``, ``unit``, ``periods`` (with a value for the area),
    ``first_period``/``last_period``, ``area_first``/``area_last`` values, ``trend``
    and ``trend_reason`` (the area's recent trend: why it cannot be judged is the statistic's
    own reason, or ``NO_VALUES`` / ``NO_LIMITS_OR_COUNTS``), ``england_trend`` (and its reason),
    ``direction_is`` ("getting worse"/"getting better"/"not judged"),
    ``vs_england`` (latest, 99.8%), ``flag`` (True: worse than England and getting worse).
    """
    comparison = comparison if comparison is not None else comparison_table(area)
    latest = comparison.set_index("indicator")
    rows = []
    for s in SPECS:
        data = series(area, s.key)
        if data.empty or data["period"].nunique() < 3:
            continue
        mine = data[data["area_code"] == area.code].sort_values("period")
        eng = data[data["area_code"] == ENGLAND_CODE].sort_values("period")
        res = _trend_of(s, mine) if len(mine) else stats.TrendResult(stats.trend.CANNOT, NO_VALUES)
        eres = _trend_of(s, eng) if len(eng) else stats.TrendResult(stats.trend.CANNOT, NO_VALUES)
        have = mine.dropna(subset=["value"])
        direction = "not judged"
        if res.trend in (stats.trend.INCREASING, stats.trend.DECREASING) and s.polarity:
            up_good = s.polarity == "high_is_good"
            direction = "getting better" if (res.trend == stats.trend.INCREASING) == up_good else "getting worse"
        vs = latest.loc[s.key, "vs_england_99_8"]
        rows.append(
            {
                "indicator": s.key,
                "label": s.label,
                "unit": s.unit,
                "periods": int(len(have)),
                "first_period": have["period"].iloc[0] if len(have) else None,
                "last_period": have["period"].iloc[-1] if len(have) else None,
                "area_first": have["value"].iloc[0] if len(have) else np.nan,
                "area_last": have["value"].iloc[-1] if len(have) else np.nan,
                "trend": res.trend,
                "trend_reason": res.reason,
                "england_trend": eres.trend,
                "england_trend_reason": eres.reason,
                "direction_is": direction,
                "vs_england": vs,
                "flag": bool(vs == "Worse" and direction == "getting worse"),
            }
        )
    return pd.DataFrame(rows)
