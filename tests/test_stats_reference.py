"""mhbook.stats against PHEindicatormethods' own reference workbooks.

Whole-sheet tests read the workbooks from ``$MHBOOK_VALIDATION/phe_indicator_methods``
(default ``../shared/validation`` beside the repo; see its PROVENANCE.md) and are
skipped with a reason when they are absent. The parametrised cases below were copied
from those same sheets (testdata_Proportion, testdata_Rate, testdata_Byars_Wilson,
testdata_SII) so that the reference check still runs without them.

Tolerances: proportions, rates, Wilson and Byar's limits, and SII/RII/intercept values
to 1e-6 relative (the sheets hold full-precision values); SII and RII simulated limits
within 0.05 relative, the tolerance PHE's tests/testthat/testSII.R uses, with a fixed
seed.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mhbook.stats as st

REPO = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("MHBOOK_VALIDATION", REPO.parent / "shared" / "validation")) / "phe_indicator_methods"
EXACT = 1e-6  # relative tolerance for closed-form statistics
SIM = 0.05  # PHE's tolerance for simulated SII/RII limits (testSII.R: tol <- 0.05)
SEED = 20240501


def sheet(name: str, tab: str | None = None) -> pd.DataFrame:
    path = VALIDATION / name
    if not path.is_file():
        pytest.skip(
            f"reference workbook {path} not found: set MHBOOK_VALIDATION to the folder holding phe_indicator_methods/"
        )
    return pd.read_excel(path, sheet_name=tab or 0)


def close(got, want, rtol: float) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, equal_nan=True)


# ---------------------------------------------------------------- whole sheets

SHEET_FUNCS = [("testdata_Proportion.xlsx", st.proportion), ("testdata_Rate.xlsx", st.rate)]


@pytest.mark.parametrize(("workbook", "func"), SHEET_FUNCS)
def test_two_confidence_sheets(workbook, func):
    tab = "testdata_Prop" if func is st.proportion else "testdata_Rate"
    ref = sheet(workbook, tab)
    for multiplier, rows in ref.groupby("multiplier"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", st.SuppressedInputWarning)
            got = func(rows["Numerator"], rows["Denominator"], confidence=(0.95, 0.998), multiplier=multiplier)
        for ours, theirs in [
            ("value", "value"),
            ("lower_cl_95", "lower95_0cl"),
            ("upper_cl_95", "upper95_0cl"),
            ("lower_cl_99_8", "lower99_8cl"),
            ("upper_cl_99_8", "upper99_8cl"),
        ]:
            close(got[ours], rows[theirs], EXACT)
        assert got["statistic"].tolist() == rows["statistic"].tolist()
        assert got["method"].fillna("").tolist() == rows["method"].fillna("").tolist()


@pytest.mark.parametrize(("workbook", "func"), SHEET_FUNCS)
def test_one_confidence_sheets_with_missing_inputs(workbook, func):
    tab = "testdata_Prop_g" if func is st.proportion else "testdata_Rate_g"
    ref = sheet(workbook, tab)
    with pytest.warns(st.SuppressedInputWarning, match="3 of"):
        got = func(ref["Numerator"], ref["Denominator"], multiplier=ref["multiplier"].iloc[0])
    for ours, theirs in [("value", "value"), ("lower_cl", "lowercl"), ("upper_cl", "uppercl")]:
        close(got[ours], ref[theirs], EXACT)
    assert got["confidence"].tolist() == ref["confidence"].tolist()
    assert got["method"].fillna("").tolist() == ref["method"].fillna("").tolist()


def test_byars_wilson_sheet():
    ref = sheet("testdata_Byars_Wilson.xlsx")
    for _, row in ref.iterrows():
        level = float(row["confidence"].rstrip("%")) / 100
        if row["method"] == "Byars":
            got = st.byars_ci(row["x"], level)
        else:
            got = st.wilson_ci(row["x"], row["n"], level)
        close([got.lower, got.upper], [row["lowercl"], row["uppercl"]], EXACT)


# Each SII case as PHE's testSII.R runs it: first and last RecordNo of the input rows,
# keyword arguments, which limit source, and the confidence level(s) of columns _1/_2.
SII_CASES = [
    ("default, se", 1, 20, dict(value_type=0), "se", (0.95,)),
    ("default, limits", 1, 20, dict(value_type=0), "cl", (0.95,)),
    ("default, 99%", 21, 40, dict(value_type=0), "cl", (0.99,)),
    ("default, 10,000 repetitions row set", 41, 60, dict(value_type=0), "se", (0.95,)),
    ("rate, se", 71, 90, dict(value_type=1), "se", (0.95,)),
    ("rate, limits", 71, 90, dict(value_type=1), "cl", (0.95,)),
    ("proportion, se", 91, 110, dict(value_type=2), "se", (0.95,)),
    ("proportion, limits", 91, 110, dict(value_type=2), "cl", (0.95,)),
    ("proportion x100", 111, 130, dict(value_type=2, multiplier=100), "cl", (0.95,)),
    ("proportion x-100", 131, 150, dict(value_type=2, multiplier=-100), "cl", (0.95,)),
    ("default, 95% and 99%", 226, 245, dict(value_type=0), "se", (0.95, 0.99)),
    ("default, intercept", 246, 265, dict(value_type=0), "cl", (0.95,)),
    ("rate, intercept", 266, 285, dict(value_type=1), "cl", (0.95,)),
    ("proportion, intercept", 286, 305, dict(value_type=2), "cl", (0.95,)),
    ("rate, log transform", 306, 325, dict(value_type=1, transform=True), "cl", (0.95,)),
    ("proportion, logit transform", 326, 345, dict(value_type=2, transform=True), "cl", (0.95,)),
    ("proportion, logit, x-1", 346, 365, dict(value_type=2, transform=True, multiplier=-1), "cl", (0.95,)),
    ("rate, log, 95% and 98%", 366, 385, dict(value_type=1, transform=True), "cl", (0.95, 0.98)),
    ("rate, log, x-1", 386, 405, dict(value_type=1, transform=True, multiplier=-1), "cl", (0.95,)),
    ("rate, log, 98%", 406, 425, dict(value_type=1, transform=True), "cl", (0.98,)),
    ("rate, log, no rii", 426, 445, dict(value_type=1, transform=True), "cl", (0.95,)),
    ("proportion, logit, no rii", 446, 465, dict(value_type=2, transform=True), "cl", (0.95,)),
    ("proportion, logit, 98%", 466, 485, dict(value_type=2, transform=True), "cl", (0.98,)),
    ("proportion, logit, 95% and 98%", 486, 505, dict(value_type=2, transform=True), "cl", (0.95, 0.98)),
]


def _run_sii(rows: pd.DataFrame, kwargs: dict, source: str, levels: tuple, **extra) -> pd.DataFrame:
    if source == "se":
        spread = {"se": rows["StandardError"]}
    else:
        spread = {"lower_cl": rows["LowerCL"], "upper_cl": rows["UpperCL"]}
    return st.sii(
        quantile=rows["Quantile"],
        population=rows["Population"],
        value=rows["Value"],
        **spread,
        by=rows["Area"],
        **kwargs,
        confidence=levels if len(levels) > 1 else levels[0],
        rii=True,
        random_state=SEED,
        **extra,
    )


@pytest.mark.parametrize(
    ("name", "first", "last", "kwargs", "source", "levels"), SII_CASES, ids=[c[0] for c in SII_CASES]
)
def test_sii_sheet(name, first, last, kwargs, source, levels):
    ref = sheet("testdata_SII.xlsx")
    rows = ref[ref["RecordNo"].between(first, last)]
    want = rows.dropna(subset=["sii"]).set_index("Area")
    got = _run_sii(rows, kwargs, source, levels).set_index("Area").loc[want.index]
    close(got["sii"], want["sii"], EXACT)
    if want["rii"].notna().all():
        close(got["rii"], want["rii"], EXACT)
    if want["Intercept"].notna().all():
        close(got["intercept"], want["Intercept"], EXACT)
    for i, level in enumerate(levels, start=1):
        suffix = "" if len(levels) == 1 else f"_{st._validate.ci_suffix(level)}"
        for stat in ("sii", "rii"):
            for end in ("lower", "upper"):
                theirs = want[f"{stat}_{end}cl_{i}"]
                if theirs.notna().all():
                    close(got[f"{stat}_{end}_cl{suffix}"], theirs, SIM)


def test_sii_quintiles_sheet():
    # the sheet has only the SII for quintiles (PHE's test checks just that column)
    ref = sheet("testdata_SII.xlsx")
    rows = ref[ref["RecordNo"].between(61, 70)]
    got = _run_sii(rows, dict(value_type=0), "se", (0.95,)).set_index("Area")
    want = rows.dropna(subset=["sii"]).set_index("Area")
    close(got.loc[want.index, "sii"], want["sii"], EXACT)


def test_sii_sheet_error_rows():
    ref = sheet("testdata_SII.xlsx")

    def rows(a, b, **spread):
        part = ref[ref["RecordNo"].between(a, b)]
        spread = spread or {"se": "StandardError"}
        return dict(
            quantile=part["Quantile"],
            population=part["Population"],
            value=part["Value"],
            **{arg: part[column] for arg, column in spread.items()},
        )

    with pytest.raises(st.StatsInputError, match="population is -200 in row 151"):
        st.sii(**rows(151, 160), random_state=SEED)
    with pytest.raises(st.StatsInputError, match="se is negative"):
        st.sii(**rows(161, 170), random_state=SEED)
    with pytest.raises(st.StatsInputError, match="lower_cl is 8 in row 176"):
        st.sii(**rows(171, 180, lower_cl="LowerCL", upper_cl="UpperCL"), value_type=2, random_state=SEED)
    with pytest.raises(st.StatsInputError, match="population is missing in row 204"):
        st.sii(**rows(201, 210), random_state=SEED)
    with pytest.warns(st.ManyQuantilesWarning, match="15 quantiles"):
        st.sii(**rows(211, 225), random_state=SEED, repetitions=1000)


# ------------------------------------- reference cases copied from the sheets

# (numerator, denominator, multiplier, value, lower95, upper95, lower99.8, upper99.8)
PROPORTION_CASES = [  # testdata_Proportion.xlsx, sheet testdata_Prop
    (1, 100, 1, 0.01, 0.0017674320641406511, 0.054486196178705294, 0.000873065697299977, 0.1045544528370582),
    (
        9856,
        12345,
        1,
        0.7983799108950992,
        0.7912101752909069,
        0.8053640073614909,
        0.7869924108419063,
        0.8093061412589626,
    ),
    (65, 100, 100, 65.0, 55.25444329688797, 73.63575175690247, 49.54946574070431, 77.83540614089696),
]
RATE_CASES = [  # testdata_Rate.xlsx, sheet testdata_Rate (exact below 10 events, Byar's from 10)
    (1, 100, 100000, 1000.0, 25.317807984289896, 5571.643390938898, 1.0005003335835343, 9233.413476451586),
    (5, 100, 100000, 5000.0, 1623.4863901184199, 11668.332079322669, 739.3717319178389, 16454.745203680104),
    (65, 100, 100000, 65000.0, 50163.18771045945, 82849.13854593984, 42880.261471480204, 94000.290844318),
]


@pytest.mark.parametrize("case", PROPORTION_CASES)
def test_proportion_reference_cases(case):
    x, n, m, *want = case
    got = st.proportion(x, n, confidence=(0.95, 0.998), multiplier=m)
    close([got.value, *got.intervals[0][1:], *got.intervals[1][1:]], want, EXACT)


@pytest.mark.parametrize("case", RATE_CASES)
def test_rate_reference_cases(case):
    x, n, m, *want = case
    got = st.rate(x, n, confidence=(0.95, 0.998), multiplier=m)
    close([got.value, *got.intervals[0][1:], *got.intervals[1][1:]], want, EXACT)


@pytest.mark.parametrize(
    ("method", "x", "n", "level", "lower", "upper"),
    [  # testdata_Byars_Wilson.xlsx
        ("Byars", 65, None, 0.95, 50.163187710459454, 82.84913854593984),
        ("Byars", 1045, None, 0.998, 947.9407035610374, 1148.806160988033),
        ("Wilson", 1045, 5000, 0.95, 0.19795549880013297, 0.22049130373189027),
        ("Wilson", 0.445, 1, 0.998, 0.019347006132900975, 0.9702259947019541),
    ],
)
def test_byars_wilson_reference_cases(method, x, n, level, lower, upper):
    got = st.byars_ci(x, level) if method == "Byars" else st.wilson_ci(x, n, level)
    close([got.lower, got.upper], [lower, upper], EXACT)


# testdata_SII.xlsx rows 11-20 (area2, life expectancy, value_type 0, SE given) and
# rows 316-325 (area2, a rate with 95% limits, log transform)
SII_AREA2_LE = pd.DataFrame(
    {
        "Quantile": range(1, 11),
        "Population": [21675, 20065, 19750, 24713, 20112, 19618, 22408, 19752, 18939, 19312],
        "Value": [
            70.54853186,
            71.57155734,
            72.48698671,
            73.51985519,
            73.14605425,
            76.15898712,
            78.65444871,
            80.56476961,
            80.85486627,
            79.9711253,
        ],
        "StandardError": [
            0.22959183673469533,
            0.2598068010204095,
            0.2992380841836735,
            0.16075122704081746,
            0.7918228954081618,
            0.7783196122448984,
            0.39937532908163315,
            0.2793955076530606,
            0.22959183673469533,
            0.3517537500000029,
        ],
    }
)
SII_AREA2_RATE = pd.DataFrame(
    {
        "Quantile": range(1, 11),
        "Population": [13837, 14519, 14940, 14599, 12311, 21675, 20065, 19750, 24713, 20112],
        "Value": [4.89675, 4.5678, 4.67666, 4.35666, 3.9, 3.8, 3.5, 3.2, 3.21, 2.8],
        "LowerCL": [4.77675, 4.4478, 4.55666, 4.23666, 3.78, 3.68, 3.38, 3.08, 3.09, 2.68],
        "UpperCL": [4.97675, 4.6478, 4.75666, 4.43666, 3.98, 3.88, 3.58, 3.28, 3.29, 2.88],
    }
)


def test_sii_reference_case_life_expectancy():
    t = SII_AREA2_LE
    got = st.sii(
        quantile=t["Quantile"],
        population=t["Population"],
        value=t["Value"],
        se=t["StandardError"],
        rii=True,
        random_state=SEED,
    ).iloc[0]
    close([got["sii"], got["rii"]], [12.547846636351798, 1.180885620848795], EXACT)
    close(
        [got["sii_lower_cl"], got["sii_upper_cl"], got["rii_lower_cl"], got["rii_upper_cl"]],
        [11.936156426792138, 13.163020132396579, 1.1713706914325628, 1.1904396357244886],
        SIM,
    )


def test_sii_reference_case_transformed_rate_with_limits():
    t = SII_AREA2_RATE
    got = st.sii(
        quantile=t["Quantile"],
        population=t["Population"],
        value=t["Value"],
        lower_cl=t["LowerCL"],
        upper_cl=t["UpperCL"],
        value_type=1,
        transform=True,
        rii=True,
        random_state=SEED,
    ).iloc[0]
    close(
        [got["sii"], got["rii"], got["intercept"]], [-2.2954691808474057, 0.5446144759737053, 5.040716183843519], EXACT
    )
    close(
        [got["sii_lower_cl"], got["sii_upper_cl"], got["rii_lower_cl"], got["rii_upper_cl"]],
        [-2.423223688852598, -2.168075785150564, 0.527074544156842, 0.5627749745405388],
        SIM,
    )
