"""SYNTHETIC ONS population files: MYE2 workbooks (mid-2019, mid-2020) and LSOA mid-2020.

Every area has the same made-up single-year profile, so sums can be done by hand: at
age ``a`` (0..89, and 90 for "90+") there are ``a`` males and 1 female, so ``a + 1``
persons. One area therefore holds 4,095 males (0 + 1 + ... + 90), 91 females and
4,186 persons; ages 16 and over hold 3,975 males and 75 females.

MYE2 areas: England (country), Synthetic Region 1 (region), Synthetic Unitary Aa
(unitary authority) and Synthetic District Aa (non-metropolitan district), under the
publisher's title lines and followed by a footnote row that is not an area.
LSOA file: three LSOAs (two in England, one in Wales) with the same profile, gzipped
as the published one.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from mhbook.sources import population

AREAS = [
    ("E92000001", "ENGLAND", "Country"),
    ("E12900001", "Synthetic Region 1", "Region"),
    ("E06900001", "Synthetic Unitary Aa", "Unitary Authority"),
    ("E07900001", "Synthetic District Aa", "Non-metropolitan District"),
]
LSOAS = [
    ("E01900001", "Synthetic Unitary Aa A"),
    ("E01900002", "Synthetic Unitary Aa B"),
    ("W01900001", "Synthetic Welsh LSOA"),
]
AGES = list(range(91))


def counts(sex: str) -> list[int]:
    return [a if sex == "males" else 1 if sex == "females" else a + 1 for a in AGES]


def write_mye2(path: Path) -> None:
    header = ["Code", "Name", "Geography1", "All ages", *[float(a) for a in range(90)], "90+"]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sex, sheet in population.SEXES.items():
            rows = [
                [f"MYE2: {sex} by single year of age (SYNTHETIC test data, not ONS estimates)"],
                ["This worksheet contains one table."],
                header,
            ]
            rows += [[code, name, geo, sum(counts(sex)), *counts(sex)] for code, name, geo in AREAS]
            rows += [["Source: SYNTHETIC (tests/synthetic/population.py)"]]
            rows = [r + [None] * (len(header) - len(r)) for r in rows]
            pd.DataFrame(rows).to_excel(writer, sheet_name=sheet, header=False, index=False)


def write_lsoa(path: Path) -> None:
    frame = pd.DataFrame(
        [[name, code, sum(counts("persons")), *counts("persons")] for code, name in LSOAS],
        columns=["lsoa11_name", "lsoa11_code", "total_population", *map(str, range(90)), "90+"],
    )
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        frame.to_csv(fh, index=False)
