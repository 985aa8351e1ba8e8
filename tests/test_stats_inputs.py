"""The shared validator: every error branch names the field and the row, and missing
(suppressed) inputs give missing outputs with a counting warning. Inputs are synthetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mhbook.stats as st
from mhbook.errors import MhbookError


def test_done_check_prints_value_and_wilson_limits():
    text = str(st.proportion(26623, 61572))
    assert text.startswith("43.24 (95% CI 42.85 to 43.63) percentage, Wilson")


def test_series_input_keeps_index_and_documented_columns():
    x = pd.Series([5, 20], index=["E06000001", "E06000002"])
    got = st.proportion(x, 100, confidence=(0.95, 0.998))
    assert list(got.index) == ["E06000001", "E06000002"]
    assert list(got.columns) == [
        "numerator",
        "denominator",
        "value",
        "lower_cl_95",
        "upper_cl_95",
        "lower_cl_99_8",
        "upper_cl_99_8",
        "confidence",
        "statistic",
        "method",
    ]
    assert got["confidence"].iloc[0] == "95%, 99.8%"


def test_errors_are_value_errors_and_mhbook_errors():
    assert issubclass(st.StatsInputError, ValueError) and issubclass(st.StatsInputError, MhbookError)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: st.proportion(pd.Series([3, 12]), pd.Series([10, 10])),
            r"numerator \(12\) is above denominator \(10\) in row 1",
        ),
        (lambda: st.proportion([1, -2], [5, 5]), "numerator is negative .* in row 1"),
        (lambda: st.rate(pd.Series([1, -2], index=["a", "b"]), 5), "count is negative .* in row 'b'"),
        (lambda: st.rate(3, 0), "denominator is 0 in row 0"),
        (lambda: st.proportion(1, 5, confidence=0.8), r"confidence 0.8 is outside \[0.9, 1\)"),
        (lambda: st.proportion(1, 5, confidence=95), "as a fraction: 0.95"),
        (lambda: st.proportion(1, 5, confidence=1), "outside"),
        (lambda: st.proportion(["a", 2], [5, 5]), "numerator holds 'a'"),
        (lambda: st.proportion([1, 2, 3], [5, 5]), "different lengths"),
        (lambda: st.proportion(1, 5, multiplier=0), "multiplier"),
        (lambda: st.wilson_ci(1, 5, confidence=(0.95, 0.998)), "one confidence level"),
        (lambda: st.ratio(1, 5, 2, 5, kind="odds"), "kind 'odds'"),
        (lambda: st.compare_to_benchmark(1, 0, 2, 1, polarity="up"), "polarity 'up'"),
    ],
)
def test_bad_input_raises_a_plain_sentence(call, message):
    with pytest.raises(st.StatsInputError, match=message):
        call()


@pytest.mark.parametrize("func", [st.proportion, st.rate])
def test_missing_inputs_give_missing_outputs_and_a_counting_warning(func):
    with pytest.warns(st.SuppressedInputWarning, match="2 of 3 rows"):
        got = func([np.nan, 4, None], [10, 10, 10])
    assert got["value"].isna().tolist() == [True, False, True]
    assert got["lower_cl"].isna().tolist() == [True, False, True]


def synthetic_deciles(n_groups: int = 1) -> pd.DataFrame:
    """Synthetic deciles: values rising with decile, equal-ish populations."""
    rows = []
    for g in range(n_groups):
        for d in range(1, 11):
            rows.append(
                {
                    "area": f"A{g}",
                    "decile": d,
                    "pop": 1000 + 37 * d + 11 * g,
                    "value": 0.1 + 0.01 * d + 0.002 * g,
                    "se": 0.05,
                }
            )
    return pd.DataFrame(rows)


def sii_inputs(data: pd.DataFrame, **spread: str) -> dict:
    """The keyword arrays of st.sii taken from a synthetic decile table."""
    spread = spread or {"se": "se"}
    return dict(
        quantile=data["decile"],
        population=data["pop"],
        value=data["value"],
        **{arg: data[column] for arg, column in spread.items()},
    )


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda d: d[d.decile <= 4], {}, "data has 4 quantiles: at least 5"),
        (lambda d: d.assign(pop=d["pop"].where(d.decile != 3)), {}, "population is missing in row 2"),
        (lambda d: d.assign(pop=d["pop"].where(d.decile != 3, 0)), {}, "population is 0 in row 2"),
        (lambda d: d.assign(pop=d["pop"].where(d.decile != 3, -40)), {}, "population is -40 in row 2"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), {}, "quantile 1 appears more than once in data: .* by="),
        (lambda d: d.assign(decile=d["decile"] - 1), {}, "quantile is 0 in row 0: quantiles are whole numbers from 1"),
        (lambda d: d.assign(decile=d["decile"].where(d.decile != 10, 101)), {}, "quantile is 101 in row 9"),
        (lambda d: d.assign(decile=d["decile"].where(d.decile != 5, 4.5)), {}, "quantile is 4.5 in row 4"),
        (lambda d: d, {"value_type": 3}, "value_type 3"),
        (lambda d: d, {"transform": True}, "transform=True needs value_type"),
        (lambda d: d, {"repetitions": 10}, "at least 1000"),
        (lambda d: d, {"confidence": 0.5}, "confidence 0.5"),
        (lambda d: d.assign(value=d["value"].where(d.decile != 2, 1.2)), {"value_type": 2}, "value is 1.2 in row 1"),
    ],
)
def test_sii_input_errors(change, kwargs, message):
    data = change(synthetic_deciles())
    with pytest.raises(st.StatsInputError, match=message):
        st.sii(**sii_inputs(data), **{"repetitions": 1000, **kwargs})


def test_sii_needs_se_or_both_limits():
    data = synthetic_deciles()
    with pytest.raises(st.StatsInputError, match="either se, or both lower_cl and upper_cl"):
        st.sii(**sii_inputs(data, lower_cl="se"))


def run_across_rows(func: str, data: pd.DataFrame, **changed) -> pd.DataFrame:
    """Call st.sii or st.gradient on a synthetic decile table, some inputs changed."""
    if func == "sii":
        return st.sii(**{**sii_inputs(data), **changed}, repetitions=1000)
    arrays = dict(quantile=data["decile"], numerator=data["pop"] // 10, denominator=data["pop"])
    return st.gradient(**{**arrays, **changed})


@pytest.mark.parametrize(
    ("func", "changed", "sizes"),
    [
        ("sii", "population", "quantile has 10, population has 9, value has 10, se has 10"),
        ("gradient", "denominator", "quantile has 10, numerator has 10, denominator has 9"),
    ],
)
def test_arrays_of_different_lengths_are_refused_naming_each(func, changed, sizes):
    data = synthetic_deciles()
    with pytest.raises(st.StatsInputError, match=rf"different lengths \({sizes}\)"):
        run_across_rows(func, data, **{changed: data["pop"].iloc[:9]})


@pytest.mark.parametrize("func", ["sii", "gradient"])
def test_by_must_give_every_row_a_key(func):
    data = synthetic_deciles(2)
    with pytest.raises(st.StatsInputError, match=r"by \('area'\) is missing in row 13: every row needs the key"):
        run_across_rows(func, data, by=data["area"].where(data.index != 13))
    with pytest.raises(st.StatsInputError, match="different lengths .* by has 19"):
        run_across_rows(func, data, by=data["area"].iloc[:19])
    with pytest.raises(st.StatsInputError, match="by must hold one group key per row"):
        run_across_rows(func, data, by="A0")


def test_sii_suppressed_value_gives_missing_group_and_warning():
    data = synthetic_deciles(2)
    data.loc[(data.area == "A1") & (data.decile == 4), "value"] = np.nan
    with pytest.warns(st.SuppressedInputWarning, match="1 of 20 rows .* 1 group"):
        got = st.sii(**sii_inputs(data), by=data["area"], repetitions=1000, random_state=1)
    assert got["area"].tolist() == ["A0", "A1"]
    assert got["sii"].notna().tolist() == [True, False]


def test_by_names_the_key_columns_of_the_result():
    data = synthetic_deciles(2)
    plain = st.sii(**sii_inputs(data), by=data["area"].to_numpy(), repetitions=1000, random_state=1)
    assert plain.columns[0] == "by" and plain["by"].tolist() == ["A0", "A1"]
    two = st.gradient(
        quantile=data["decile"],
        numerator=data["pop"] // 10,
        denominator=data["pop"],
        by=data[["area"]].assign(kind="synthetic"),
    )
    assert two[["area", "kind"]].values.tolist() == [["A0", "synthetic"], ["A1", "synthetic"]]
