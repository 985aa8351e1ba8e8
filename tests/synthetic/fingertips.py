"""SYNTHETIC Fingertips-style files in three of the real layouts (made-up values).

* ``ft-suicide-north-east``: a standard Fingertips export. England has every limit, a
  count and a denominator; ``E06900001`` has its 99.8% limits blank and its value note;
  ``E06900002`` has value, limits and count blank (a suppressed small number).
* ``ft-self-harm-emergency``: a Trafford Data Lab file (area type from the code prefix,
  "NA" for a missing value).
* ``ft-cmd-prevalence-16plus``: proportions 0-1 per County & UA, one of them on a code
  whose re-mapping caveat the parser attaches (``E06000061``, named synthetically here).
"""

from __future__ import annotations

import csv
import io

from mhbook.sources import fingertips as ft


def _csv(header, rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _export_row(code, name, area_type, value, l95, u95, l998, u998, count, denominator, note="") -> list[str]:
    row = dict.fromkeys(ft.EXPORT_COLUMNS, "")
    row.update(
        {
            "IndicatorID": "41001",
            "IndicatorName": "Suicide rate (SYNTHETIC)",
            "AreaCode": code,
            "AreaName": name,
            "AreaType": area_type,
            "Sex": "Persons",
            "Age": "10+ yrs",
            "Timeperiod": "2020 - 22",
            "Value": value,
            "Lower_CI_95.0_limit": l95,
            "Upper_CI_95.0_limit": u95,
            "Lower_CI_99.8_limit": l998,
            "Upper_CI_99.8_limit": u998,
            "Count": count,
            "Denominator": denominator,
            "Value_note": note,
            "Compared_to_England_value_or_percentiles": "Not compared" if code == "E92000001" else "Similar",
            "Time_period_Sortable": "20200000",
        }
    )
    return [row[c] for c in ft.EXPORT_COLUMNS]


def suicide_export() -> str:
    return _csv(
        ft.EXPORT_COLUMNS,
        [
            _export_row("E92000001", "England", "England", "10.5", "10.3", "10.7", "10.2", "10.8", "5000", "47619048"),
            _export_row(
                "E06900001",
                "Synthetic Unitary Aa",
                "Counties & UAs (from Apr 2023)",
                "12.25",
                "9.5",
                "15.5",
                "",
                "",
                "60",
                "489796",
                note="SYNTHETIC note",
            ),
            _export_row(
                "E06900002",
                "Synthetic Unitary Ab",
                "Counties & UAs (from Apr 2023)",
                "",
                "",
                "",
                "",
                "",
                "",
                "120000",
                note="Value suppressed (SYNTHETIC)",
            ),
        ],
    )


def self_harm_trafford() -> str:
    measure = "Age standardised rate per 100,000"
    name = "Emergency Hospital Admissions for Intentional Self-Harm (SYNTHETIC)"
    return _csv(
        ft.TRAFFORD_COLUMNS,
        [
            ["E92000001", "England", "2022/23", "163.9", name, measure, "Persons", "Not compared"],
            ["E12900001", "Synthetic Region 1", "2022/23", "200.4", name, measure, "Persons", "Worse"],
            ["E06900001", "Synthetic Unitary Aa", "2022/23", "150.0", name, measure, "Female", "Similar"],
            ["E07900001", "Synthetic District Aa", "2022/23", "NA", name, measure, "Persons", ""],
        ],
    )


def cmd_prevalence() -> str:
    return _csv(
        ft.CMD_COLUMNS,
        [
            ["Synthetic Unitary Aa", "E06900001", "0.2238"],
            ["Synthetic Unitary Ab", "E06900002", "0.116"],
            ["Synthetic Re-mapped Area", "E06000061", "0.18"],
        ],
    )
