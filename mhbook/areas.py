"""The registry of England's 153 Counties & Unitary Authorities (December 2023).

``find(query)`` resolves a code or a name, current or former, to the current
County(ies) & UA(s) it corresponds to; ``get(query)`` insists on exactly one;
``all_areas()`` lists them. Matching ignores case, spacing, punctuation, "&" vs
"and" and "St." vs "St"; names published as "Bristol, City of" also answer to
"Bristol" and "City of Bristol".

What is derived from data (no geometry is read):

* current areas, their districts and regions: ONS LAD23 -> UTLA23 lookup and
  drkane's all-codes table (``mhbook.sources.lookups``);
* former County & UA codes: unitary-type codes that drkane lists as no longer
  current (e.g. E06000028 Bournemouth), and 2019 county codes of ONS's
  LAD19 -> UTLA19 lookup absent from 2023 (e.g. E10000021 Northamptonshire),
  each mapped to successors through the districts it contained;
* district names and codes, current or former, resolve to their County & UA.

Only what the data cannot say is written here, in :data:`REORGANISATIONS`: the
date each former code stopped being used and the districts of Dorset County
Council (E10000009), abolished in April 2019 before the 2019 lookups were made.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass

import pandas as pd

from mhbook import reads
from mhbook.errors import InsufficientDataError, UnknownAreaError
from mhbook.sources import ccg_lookups, lookups, population

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reorganisation:
    """Facts about a former County & UA code that no shared table records."""

    date: str  # when the successor codes took over
    districts: tuple[str, ...] = ()  # only where no lookup lists them


# Sources: the Structural Changes Orders for each reorganisation and ONS's code
# history (Code History Database). Successors are derived, not listed here.
REORGANISATIONS: dict[str, Reorganisation] = {
    "E06000048": Reorganisation("1 April 2013"),  # Northumberland, boundary change, new code
    "E08000020": Reorganisation("1 April 2013"),  # Gateshead, boundary change, new code
    "E06000028": Reorganisation("1 April 2019"),  # Bournemouth
    "E06000029": Reorganisation("1 April 2019"),  # Poole
    "E10000009": Reorganisation(  # Dorset County Council's six districts
        "1 April 2019",
        ("E07000048", "E07000049", "E07000050", "E07000051", "E07000052", "E07000053"),
    ),
    # Barnsley and Sheffield were given new codes for a 2019 boundary change, which
    # ONS later withdrew; products of 2019-20 may carry them.
    "E08000038": Reorganisation("2020 (code withdrawn by ONS)"),
    "E08000039": Reorganisation("2020 (code withdrawn by ONS)"),
    "E10000002": Reorganisation("1 April 2020"),  # Buckinghamshire
    "E10000021": Reorganisation("1 April 2021"),  # Northamptonshire
    "E10000006": Reorganisation("1 April 2023"),  # Cumbria
    "E10000023": Reorganisation("1 April 2023"),  # North Yorkshire
    "E10000027": Reorganisation("1 April 2023"),  # Somerset
}
_FORMER_NAMES = {"E10000009": "Dorset"}  # a name no lookup holds for E10000009

# Reporting periods with a single footprint type each (NHS financial years).
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Area:
    """One current (December 2023) English County or Unitary Authority.

    ``districts``: (code, name) of its current LADs; ``predecessors``: former
    County & UA codes whose area now lies wholly or partly in it.
    """

    code: str
    name: str
    region_code: str
    region_name: str
    districts: tuple[tuple[str, str], ...]
    predecessors: tuple[str, ...] = ()

    def lsoa11(self) -> tuple[str, ...]:
        """Codes of the LSOAs (2011) in this area, by the ONS/drkane current lookup."""
        return _lsoas("11").get(self.code, ())

    def lsoa21(self) -> tuple[str, ...]:
        """Codes of the LSOAs (2021) in this area."""
        return _lsoas("21").get(self.code, ())

    def footprints(self, period: str) -> pd.DataFrame:
        """NHS commissioner footprints overlapping this area in ``period`` ("2022-23").

        Columns: ``org_type`` ("ICB" from 2022-23, "CCG" for 2017-18 to 2021-22),
        ``org_code`` (ODS code as in NHS Talking Therapies files, e.g. "QYG", "01F",
        "00R"), ``org_name``, ``population`` (mid-2020 persons living in both),
        ``population_share`` (share of the area's population living in that
        footprint) and ``footprint_share`` (share of the footprint's population
        living in this area). Largest share first.

        Method: every LSOA (2011) is placed in a current County & UA by the registry's
        lookup (so areas created 2019-2023 work for every year), in an NHS organisation
        by the lookup of that NHS year, and weighted by its ONS mid-2020 population.
        2017-18 to 2020-21: ONS's LSOA -> CCG lookup of that year's April
        (``mhbook.sources.ccg_lookups``). 2021-22: the July 2022 Sub-ICB Locations,
        whose ODS codes are the 2021-22 CCG codes (the one known difference is Glossop,
        moved from Tameside and Glossop CCG, 01Y, to Derbyshire, 15M, in July 2022).
        2022-23 on: ICBs, unchanged since July 2022. Years before 2017-18 raise
        :class:`InsufficientDataError` (the data hold England only).
        """
        _footprint_type(period)  # checks the period before any lookup is read
        return _footprints_by_area(period)[self.code].copy()


@dataclass(frozen=True)
class AreaMatch:
    """What a query resolved to: current area(s), and a note when it was not a
    current County & UA code or name (a former code, or a district)."""

    query: str
    areas: tuple[Area, ...]
    note: str | None = None


@reads.cached(stored=True)
def _footprints_by_area(period: str) -> dict[str, pd.DataFrame]:
    """:meth:`Area.footprints` of every County & UA for ``period``, computed at once."""
    org_type = _footprint_type(period)
    table = footprint_lsoas(period)
    grouped = table.groupby(["utla_code", "org_code", "org_name"], as_index=False, observed=True)["population"].sum()
    totals = table.groupby("org_code")["population"].sum()
    area_totals = table.groupby("utla_code")["population"].sum()
    grouped["population_share"] = grouped["population"] / grouped["utla_code"].map(area_totals)
    grouped["footprint_share"] = grouped["population"] / grouped["org_code"].map(totals)
    grouped.insert(0, "org_type", org_type)
    grouped = grouped.sort_values(["utla_code", "population_share"], ascending=[True, False])
    return {
        code: part.drop(columns="utla_code").reset_index(drop=True)
        for code, part in grouped.groupby("utla_code", sort=False)
    }


def _footprint_type(period: str) -> str:
    """ "ICB" or "CCG" for an NHS financial year, checking it can be mapped."""
    m = _PERIOD.match(str(period).strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"period must be a financial year like '2022-23', got {period!r}")
    start = int(m.group(1))
    if start >= 2022:
        return "ICB"
    if start >= 2017:
        return "CCG"
    raise InsufficientDataError(
        f"NHS footprints for {period} cannot be mapped to Counties & UAs: NHS Talking "
        f"Therapies data before 2017-18 are held for England only, and no LSOA -> CCG "
        f"lookup before April 2017 is catalogued. Use 2017-18 or later."
    )


@reads.cached(stored=True)
def footprint_lsoas(period: str) -> pd.DataFrame:
    """Every LSOA (2011) of England with its NHS organisation in ``period`` and its
    current County & UA: columns ``lsoa11_code``, ``org_code`` (ODS), ``org_name``,
    ``utla_code`` (December 2023), ``population`` (mid-2020, all ages),
    ``population_16plus`` (mid-2020, aged 16 and over). 32,844 rows.

    The lookup of that year (see :meth:`Area.footprints`) is read through its own
    tidy table, so the incremental build records exactly the lookup used."""
    org_type = _footprint_type(period)
    if org_type == "ICB":
        nhs = lookups.lsoa11_nhs22().rename(columns={"icb22_ods": "org_code", "icb22_name": "org_name"})
    elif period == "2021-22":
        nhs = lookups.lsoa11_nhs22().rename(columns={"sicbl22_ods": "org_code", "sicbl22_name": "org_name"})
    else:
        nhs = ccg_lookups.lsoa11_ccg(period).rename(columns={"ccg_ods": "org_code", "ccg_name": "org_name"})
    df = nhs[["lsoa11_code", "org_code", "org_name"]].merge(
        lookups.lsoa11_current()[["lsoa11_code", "utla_code"]], on="lsoa11_code", validate="one_to_one"
    )
    df = df.merge(lookups.lsoa11_population()[["lsoa11_code", "population"]], on="lsoa11_code", validate="one_to_one")
    adults = population.lsoa_2020("16+")[["lsoa11_code", "population"]]
    return df.merge(
        adults.rename(columns={"population": "population_16plus"}), on="lsoa11_code", how="left", validate="one_to_one"
    )


@reads.cached
def _lsoas(year: str) -> dict[str, tuple[str, ...]]:
    table = lookups.lsoa11_current() if year == "11" else lookups.lsoa21_current()
    col = f"lsoa{year}_code"
    return {k: tuple(sorted(v)) for k, v in table.groupby("utla_code")[col]}


def normalise(text: str) -> str:
    """The matching key of a name: lower case, "&" -> "and", "St." -> "St", other
    punctuation dropped, single spaces."""
    s = str(text).lower().replace("&", " and ")
    s = re.sub(r"[^\w\s]", " ", s)  # "st." -> "st", "kingston upon hull, city of" -> words
    return " ".join(s.split())


def _aliases(name: str) -> set[str]:
    """``name`` plus, for ONS's "Bristol, City of" style, "Bristol" and "City of Bristol"."""
    keys = {normalise(name)}
    m = re.match(r"^(.*),\s*((?:city|county) of)$", name.strip(), flags=re.I)
    if m:
        keys |= {normalise(m.group(1)), normalise(f"{m.group(2)} {m.group(1)}")}
    return keys


@dataclass(frozen=True)
class _Target:
    codes: tuple[str, ...]  # current County & UA codes
    note: str | None
    label: str  # how the key reads in suggestions


@dataclass(frozen=True)
class _Registry:
    areas: dict[str, Area]
    index: dict[str, _Target]  # normalised name or upper-case code -> target


def _former_utlas(lads: pd.DataFrame, current: set[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Former County & UA code -> (name, its former or current district codes)."""
    former: dict[str, tuple[str, tuple[str, ...]]] = {}
    gone = lads[~lads["current"] & lads["lad_code_any"].str.match(r"^E0[689]")]
    for row in gone.itertuples():  # unitary-type codes: each was a County & UA itself
        former[row.lad_code_any] = (row.lad_name_any, (row.lad_code_any,))
    l19 = lookups.lad19_utla19()
    for (code, name), grp in l19[~l19["utla19_code"].isin(current)].groupby(["utla19_code", "utla19_name"]):
        former[code] = (name, tuple(grp["lad19_code"]))
    for code, reorg in REORGANISATIONS.items():
        if reorg.districts:
            former[code] = (_FORMER_NAMES[code], reorg.districts)
    return former


def _join(areas: list[Area]) -> str:
    names = [f"{a.name} ({a.code})" for a in areas]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@reads.cached(stored=True)  # every command that names an area needs it: kept for the next process
def _registry() -> _Registry:
    lads = lookups.la_all_codes()
    utlas = lookups.utla23()
    current_lads = lads[lads["current"]]
    districts = {
        code: tuple(zip(grp["lad_code"], grp["lad_name"]))
        for code, grp in current_lads.sort_values("lad_name").groupby("utla_code")
    }
    former = _former_utlas(lads, set(utlas["utla_code"]))
    utla_of_lad = dict(zip(lads["lad_code_any"], lads["utla_code"]))
    successors = {old: tuple(sorted({utla_of_lad[d] for d in lads_of})) for old, (_, lads_of) in former.items()}
    preds: dict[str, list[str]] = {}
    for old, succ in successors.items():
        for code in succ:
            preds.setdefault(code, []).append(old)
    areas = {
        r.utla_code: Area(
            r.utla_code,
            r.utla_name,
            r.region_code,
            r.region_name,
            districts[r.utla_code],
            tuple(sorted(preds.get(r.utla_code, []))),
        )
        for r in utlas.itertuples()
    }

    index: dict[str, _Target] = {}

    def add(keys: set[str], target: _Target) -> None:
        for key in keys:
            index.setdefault(key, target)  # earlier (more authoritative) entries win

    for a in areas.values():  # 1. current Counties & UAs
        target = _Target((a.code,), None, f"{a.name} ({a.code})")
        add({a.code} | _aliases(a.name), target)
    for old, (name, _) in sorted(former.items()):  # 2. former Counties & UAs
        succ = [areas[c] for c in successors[old]]
        date = REORGANISATIONS[old].date if old in REORGANISATIONS else "a date not recorded"
        note = f"{name} ({old}) is a former County & UA code, replaced from {date}; its area is now in {_join(succ)}."
        add({old} | _aliases(name), _Target(successors[old], note, f"{name} ({old}, former)"))
    for r in lads.itertuples():  # 3. districts, current or former
        if r.lad_code_any in index:
            continue
        area = areas[r.utla_code]
        status = "a district" if r.current else f"a former district (now part of {r.lad_name} {r.lad_code})"
        note = f"{r.lad_name_any} ({r.lad_code_any}) is {status} in {area.name} ({area.code})."
        add(
            {r.lad_code_any} | _aliases(r.lad_name_any),
            _Target((area.code,), note, f"{r.lad_name_any} ({r.lad_code_any}, district)"),
        )
    return _Registry(areas, index)


def _key(query: str) -> str:
    q = str(query).strip()
    return q.upper() if re.fullmatch(r"[A-Za-z]\d{8}", q) else normalise(q)


#: The other UK nations by the first letter of their ONS (GSS) codes.
_NATIONS = {"W": "Wales", "S": "Scotland", "N": "Northern Ireland"}
_COVERS = "mhbook covers England's Counties & Unitary Authorities"


@reads.cached
def _elsewhere() -> dict[str, str]:
    """Normalised names and codes of local authorities in Wales, Scotland and Northern
    Ireland (from the UK-wide lookup behind ``lkp-la-all-codes``), and the nations' own
    names -> how to say where the place is, e.g. ``"Cardiff (W06000015) is in Wales"``.
    Empty when the lookup cannot be read (the code-prefix rule still applies)."""
    from mhbook.errors import MhbookError
    from mhbook.fetch import fetch

    places: dict[str, str] = {}
    for nation in _NATIONS.values():
        places[normalise(nation)] = f"{nation} is not in England"
    try:
        raw = pd.read_csv(fetch("lkp-la-all-codes"), dtype=str, keep_default_na=False)
    except (MhbookError, OSError, ValueError) as exc:
        log.debug("the UK-wide lookup could not be read for non-English names: %s", exc)
        return places
    others = raw[raw["LADCD"].str[:1].isin(list(_NATIONS))]
    for r in others.sort_values("Current", ascending=False, kind="stable").itertuples():  # current codes first
        where = f"{r.LADNM} ({r.LADCD}) is in {_NATIONS[r.LADCD[0]]}"
        places.setdefault(r.LADCD.upper(), where)
        for key in _aliases(r.LADNM):
            places.setdefault(key, where)
    return places


def not_english(query: str) -> str | None:
    """Why ``query`` is outside mhbook's coverage, when it is a code or a name of a
    place in Wales, Scotland or Northern Ireland; None otherwise."""
    key = _key(query)
    where = _elsewhere().get(key)
    if where:
        return f"{_COVERS}; {where}."
    if re.fullmatch(r"[WSN]\d{8}", key):
        return f"{_COVERS}; {key} is a code in {_NATIONS[key[0]]}."
    return None


def find(query: str) -> AreaMatch:
    """Resolve a County & UA (or district) code or name, current or former.

    Returns an :class:`AreaMatch` with the current area(s) and a note saying what
    happened when the query was not a current County & UA. Raises
    :class:`UnknownAreaError` with near-miss suggestions when nothing matches.
    """
    reg = _registry()
    key = _key(query)
    target = reg.index.get(key)
    if target is None:
        outside = not_english(query)
        if outside:
            raise UnknownAreaError(outside)
        close = difflib.get_close_matches(key, list(reg.index), n=5, cutoff=0.6)
        suggestions = list(dict.fromkeys(reg.index[k].label for k in close))
        hint = f" Did you mean: {'; '.join(suggestions)}?" if suggestions else ""
        if not suggestions:  # a misspelt place elsewhere in the UK ("Cardif")
            near = difflib.get_close_matches(key, [k for k in _elsewhere() if not k[:1].isupper()], n=1, cutoff=0.8)
            if near:
                hint = f" ({_elsewhere()[near[0]]}: {_COVERS}.)"
        raise UnknownAreaError(f"No English County & UA or district matches {query!r}.{hint}", suggestions)
    return AreaMatch(str(query), tuple(reg.areas[c] for c in target.codes), target.note)


def get(query: str) -> Area:
    """The one current County & UA that ``query`` names; a former area now split
    between several raises :class:`UnknownAreaError` listing them."""
    match = find(query)
    if len(match.areas) != 1:
        options = [f"{a.name} ({a.code})" for a in match.areas]
        raise UnknownAreaError(
            f"{query!r} corresponds to several current Counties & UAs: {', '.join(options)}. Choose one. {match.note}",
            options,
        )
    if match.note:
        log.info(match.note)
    return match.areas[0]


def all_areas() -> list[Area]:
    """The 153 English Counties & Unitary Authorities of December 2023, by name."""
    return sorted(_registry().areas.values(), key=lambda a: a.name)
