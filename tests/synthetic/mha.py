"""SYNTHETIC Mental Health Act workbook in the layout of ``mha-2023-24`` (sheet 1 only).

Made-up numbers chosen so each parser rule can be checked by hand:

* block "All detentions" / "All" / "All": the England row's ``OrganisationBreakdown``
  is damaged to "h" (as one real row is); ICB ``QX1`` has a count rounded to 35; ICB
  ``QX2`` is blank (suppressed).
* block "All detentions" / "All" / "IMD": one England row per NHS label, in the NHS
  order; NHS decile ``k`` ("01 Least deprived" .. "10 Most deprived") has count
  ``10 k`` and crude rate ``k``; the label of "02 Less deprived" is overwritten by "Male".
  "All" is 555 (the ten deciles, 550, plus 5 not stated).
* block "All detentions" / "All" / "Ethnicity": England "Black or Black British" (300,
  crude 239.0, standardised 242.3 with a half-width of 8.7) and "White" (600, 69.5, 68.4
  with 0.8).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mhbook.sources import mha

ENGLAND = {"OrganisationBreakdown": "All submissions", "OrgID": "All prov", "OrgName": "All providers"}


def _row(
    demographic: str,
    label: str | None,
    count: float | None,
    crude: float | None,
    *,
    org: dict | None = None,
    source: str = "MHSDS",
    std: float | None = None,
    half: float | None = None,
) -> dict:
    return {
        "Year": "2023/24",
        "Measure": "All detentions",
        "measureSubcategory": "All",
        "Demographic": demographic,
        "DemographicBreakdown": label,
        **(org or ENGLAND),
        "Datasource": source,
        "MHSDS_Count": count,
        "Acute_Count": None,
        "Total_Count": count,
        "CrudeRate": crude,
        "StdRate": std,
        "Confidence_interval": half,
    }


def rows() -> list[dict]:
    damaged_england = dict(ENGLAND, OrganisationBreakdown="h")
    out = [
        _row("All", "All", 1000, 50.0, org=damaged_england, source="Both"),
        _row(
            "All", "All", 35, 12.3, org={"OrganisationBreakdown": "ICB", "OrgID": "QX1", "OrgName": "SYNTHETIC ICB ONE"}
        ),
        _row(
            "All",
            "All",
            None,
            None,
            org={"OrganisationBreakdown": "ICB", "OrgID": "QX2", "OrgName": "SYNTHETIC ICB TWO"},
        ),
    ]
    for label in mha.BREAKDOWN_ORDER["IMD"]:
        if label[:2].isdigit():
            k = int(label[:2])
            out.append(_row("IMD", "Male" if k == 2 else label, 10 * k, float(k)))
        else:
            out.append(_row("IMD", label, 555 if label == "All" else 5, 27.7 if label == "All" else None))
    out.append(_row("Ethnicity", "Black or Black British", 300, 239.0, std=242.3, half=8.7))
    out.append(_row("Ethnicity", "White", 600, 69.5, std=68.4, half=0.8))
    return out


#: The real file's first sheet name (the catalogue's ``sheets`` of ``mha-2023-24``).
SHEET = "mha_annual_suppressed_2023_24"


def write(path: Path) -> None:
    frame = pd.DataFrame(rows(), columns=mha.RAW_COLUMNS)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=SHEET, index=False)
        pd.DataFrame({"note": ["SYNTHETIC test data made by tests/synthetic; not NHS England figures"]}).to_excel(
            writer, sheet_name="SYNTHETIC", index=False
        )
