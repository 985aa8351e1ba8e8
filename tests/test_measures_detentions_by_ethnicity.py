"""Tests of mhbook.measures.detentions_by_ethnicity: Mental Health Act detention rate ratios
by ethnic group against the real published data (mirror), and on the SYNTHETIC workbook of
``tests/synthetic/mha.py`` (no mirror needed)."""

from __future__ import annotations

import numpy as np
import pytest

from mhbook import areas
from mhbook.measures import detentions_by_ethnicity


@pytest.mark.mirror
def test_england_black_white_standardised_ratio():
    ratios = detentions_by_ethnicity.detention_ratios()
    black = ratios[(ratios["group"] == "Black or Black British") & (ratios["rate_type"] == "standardised")].iloc[0]
    # NHS England 2023-24: 242.3 against 68.4 per 100,000, "about 3.5 times".
    assert black["ratio"] == pytest.approx(242.3 / 68.4, rel=1e-9)
    assert black["ratio"] == pytest.approx(3.5, abs=0.05)
    assert black["lower_cl"] < black["ratio"] < black["upper_cl"] and black["significance"] == "Higher"


@pytest.mark.mirror
def test_crude_ratio_limits_are_poisson_on_published_counts():
    ratios = detentions_by_ethnicity.detention_ratios()
    black = ratios[(ratios["group"] == "Black or Black British") & (ratios["rate_type"] == "crude")].iloc[0]
    assert black["ratio"] == pytest.approx(239.0 / 69.5)
    se = np.sqrt(1 / 5693 + 1 / 31735)  # England detentions, Black and White
    assert black["upper_cl"] == pytest.approx(black["ratio"] * np.exp(1.959964 * se), rel=1e-6)


@pytest.mark.mirror
def test_icb_ratios_match_the_area():
    ratios = detentions_by_ethnicity.detention_ratios(areas.get("E08000004"))
    icb = ratios[ratios["org_type"] == "ICB"]
    assert set(icb["org_code"]) == {"QOP"} and "White" not in set(icb["group"])
    assert (icb["rate_type"] == "crude").all()


# Twins on the SYNTHETIC MHA workbook: England Black 300 detentions (crude 239.0, standardised
# 242.3 +/- 8.7), White 600 (crude 69.5, standardised 68.4 +/- 0.8).


def test_synthetic_standardised_ratio_has_log_limits_from_both_half_widths(synthetic_mirror):
    ratios = detentions_by_ethnicity.detention_ratios()
    std = ratios[ratios["rate_type"] == "standardised"].set_index("group")
    assert list(std.index) == ["Black or Black British"]  # White is the reference, not a row
    black = std.loc["Black or Black British"]
    ratio = 242.3 / 68.4  # 3.5424
    # log standard error = sqrt((half-width / z / rate) ** 2 summed); z cancels in z * se
    spread = np.sqrt((8.7 / 242.3) ** 2 + (0.8 / 68.4) ** 2)  # 0.03776
    assert black["ratio"] == pytest.approx(ratio, rel=1e-12)
    assert (black["lower_cl"], black["upper_cl"]) == pytest.approx((ratio * np.exp(-spread), ratio * np.exp(spread)))
    assert (black["lower_cl"], black["upper_cl"]) == pytest.approx((3.4111, 3.6787), abs=1e-4)
    assert black["significance"] == "Higher" and black["reference_rate"] == 68.4 and black["level"] == "broad"


def test_synthetic_crude_ratio_limits_are_poisson_on_the_counts(synthetic_mirror):
    ratios = detentions_by_ethnicity.detention_ratios()
    black = ratios[ratios["rate_type"] == "crude"].set_index("group").loc["Black or Black British"]
    ratio = 239.0 / 69.5  # 3.4388
    se = np.sqrt(1 / 300 + 1 / 600)  # 0.070711
    assert black["ratio"] == pytest.approx(ratio)
    assert black["upper_cl"] == pytest.approx(ratio * np.exp(1.959964 * se), rel=1e-6)
    assert black["lower_cl"] == pytest.approx(ratio * np.exp(-1.959964 * se), rel=1e-6)
    assert black["count"] == 300 and black["count_status"] == "exact"
