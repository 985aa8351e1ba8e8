"""SYNTHETIC geography: 153 made-up Counties & UAs, in the layout of the real lookups.

Nothing here describes real places. Codes use the unallocated ``...9xxxxx`` range of
each ONS prefix (``E06900nnn`` unitaries, ``E10900nnn`` counties, ``E07900nnn``
districts) so they cannot be mistaken for real ones; names start with "Synthetic" and
end in a two-letter suffix (``word(n)``: 1 -> "Aa", 7 -> "Ag", 150 -> "Ft").

What the registry must find in them, as it does in the real files:

* 150 unitary authorities (``E06900001``..``E06900150``), each its own single district,
  and 3 counties (``E10900001``..``E10900003``) of two districts each: 153 in all,
  spread over nine synthetic regions (``E12900001``..``E12900009``) in turn.
* One unitary published as "Harbourside, City of" (``E06900003``), to test the
  "Bristol, City of" aliases.
* A former unitary, ``E06900201`` "Synthetic Old Borough", listed by drkane as no
  longer current and now in ``E06900001`` (as Bournemouth is now in BCP).
* A former county, ``E10900009`` "Synthetic Former County", in the 2019 lookup only,
  whose districts ``E07900007`` and ``E07900008`` now lie in ``E06900150`` and
  ``E06900149`` respectively (a county split between two new unitaries, as
  Northamptonshire was).
* The six real district codes of Dorset County Council (``E07000048``..``E07000053``),
  which ``mhbook.areas.REORGANISATIONS`` names because no lookup does; here they are
  former districts of ``E06900148`` with synthetic names.
* A code drkane still gives as active, ``E06900202`` (named as ``E06900002``, "Synthetic
  Unitary Ab"), which ONS's 2023 lookup does not use, as drkane's E08000038 for
  Barnsley: the parser must move it to the ONS code of the same name.
* One Welsh authority, ``W06900001`` "Synthetic Welsh Authority", which the registry
  must answer for as a place outside England.
"""

from __future__ import annotations

from dataclasses import dataclass


def word(n: int) -> str:
    """The n-th two-letter name suffix, "Aa", "Ab", ... (names hold no digits, which some
    name matching, such as DfE's, drops)."""
    return chr(65 + (n - 1) // 26) + chr(97 + (n - 1) % 26)


UNITARIES = 150
COUNTIES = 3
REGIONS = [(f"E129000{n:02d}", f"Synthetic Region {n}") for n in range(1, 10)]
CITY_OF = "E06900003"
FORMER_UNITARY = ("E06900201", "Synthetic Old Borough", "E06900001")
FORMER_COUNTY = (
    "E10900009",
    "Synthetic Former County",
    [
        ("E07900007", "Synthetic Former District West", "E06900150"),
        ("E07900008", "Synthetic Former District East", "E06900149"),
    ],
)
#: Real codes that mhbook.areas.REORGANISATIONS lists itself; given synthetic names here.
LISTED_FORMER_DISTRICTS = [
    (f"E070000{n}", f"Synthetic Listed District {word(n - 47)}", "E06900148") for n in range(48, 54)
]
RENUMBERED = ("E06900202", "E06900002")
WALES = ("W06900001", "Synthetic Welsh Authority")


@dataclass(frozen=True)
class Utla:
    code: str
    name: str
    region: tuple[str, str]
    districts: tuple[tuple[str, str], ...]


def utlas() -> list[Utla]:
    """The 153 synthetic current Counties & UAs, each with its current districts."""
    out = []
    for n in range(1, UNITARIES + 1):
        code = f"E06900{n:03d}"
        name = "Harbourside, City of" if code == CITY_OF else f"Synthetic Unitary {word(n)}"
        out.append(Utla(code, name, REGIONS[(n - 1) % 9], ((code, name),)))
    for n in range(1, COUNTIES + 1):
        districts = tuple((f"E07900{2 * n - k:03d}", f"Synthetic District {word(2 * n - k)}") for k in (1, 0))
        out.append(Utla(f"E10900{n:03d}", f"Synthetic County {word(n)}", REGIONS[n - 1], districts))
    return out


def _csv(header: list[str], rows: list[list[str]]) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if "," in v else v

    return "\n".join(",".join(cell(v) for v in r) for r in [header, *rows]) + "\n"


def lad23_utla23() -> str:
    """``lkp-lad23-utla23``: current district -> County & UA."""
    rows = [[lad, lad_name, u.code, u.name] for u in utlas() for lad, lad_name in u.districts]
    return _csv(["ltla23_code", "ltla23_name", "utla23_code", "utla23_name"], rows)


def lad19_utla19() -> str:
    """``lkp-lad19-utla19``: the 2019 hierarchy, which still has the former county."""
    rows = [
        [lad_name, lad, u.name, u.code]
        for u in utlas()
        for lad, lad_name in u.districts
        if lad not in {d for d, _, _ in FORMER_COUNTY[2]}
    ]
    rows += [[name, code, FORMER_COUNTY[1], FORMER_COUNTY[0]] for code, name, _ in FORMER_COUNTY[2]]
    return _csv(["ltla19_name", "ltla19_code", "utla19_name", "utla19_code"], rows)


LA_ALL_COLUMNS = [
    "LADCD",
    "LADNM",
    "LADCD_ACTIVE",
    "LADNM_ACTIVE",
    "UTLACD",
    "UTLANM",
    "CAUTHCD",
    "CAUTHNM",
    "RGNCD",
    "RGNNM",
    "CTRYCD",
    "CTRYNM",
    "Current",
]


def la_all_codes() -> str:
    """``lkp-la-all-codes``: every district code ever used -> the active one (drkane's layout,
    trimmed to the columns mhbook reads plus the country)."""
    by_lad = {lad: (lad_name, u) for u in utlas() for lad, lad_name in u.districts}
    rows = []
    for lad, (lad_name, u) in by_lad.items():
        rows.append([lad, lad_name, lad, lad_name, u.code, u.name, "", "", *u.region, "E92000001", "England", "TRUE"])
    old_code, old_name, now = FORMER_UNITARY
    for code, name, active in [(old_code, old_name, now)] + FORMER_COUNTY[2] + LISTED_FORMER_DISTRICTS:
        name_now, u = by_lad[active]
        rows.append([code, name, active, name_now, u.code, u.name, "", "", *u.region, "E92000001", "England", "FALSE"])
    stale, ons = RENUMBERED
    name, u = by_lad[ons]
    rows.append([stale, name, stale, name, u.code, u.name, "", "", *u.region, "E92000001", "England", "TRUE"])
    rows.append(
        [WALES[0], WALES[1], WALES[0], WALES[1], WALES[0], WALES[1], "", "", "", "", "W92000004", "Wales", "TRUE"]
    )
    return _csv(LA_ALL_COLUMNS, rows)


def region_all_codes() -> str:
    """``lkp-region-all-codes``: the nine synthetic regions."""
    return _csv(["RGNCD", "RGNNM", "CTRYCD", "CTRYNM"], [[c, n, "E92000001", "England"] for c, n in REGIONS])
