"""The summary's barrier table: finest footprint, like-for-like benchmark, and the precision
it is shown at (real data from the mirror; its words: tests/test_pages_summary.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from mhbook import areas
from mhbook.figures import numbers
from mhbook.measures import coercion, footprints, summary
from mhbook.pages import summary as page
from mhbook.sources import mha

pytestmark = pytest.mark.mirror


def _table(code: str) -> pd.DataFrame:
    area = areas.get(code)
    return summary.barrier_table(area, footprints.iapt_footprint(area, "2024-25"))


def test_coercion_uses_the_areas_own_sub_icb_against_a_like_for_like_england():
    # Blackpool is exactly Sub-ICB 00R. Its published rate, not its ICB's, heads the row.
    d = mha.detentions("crude")
    d = d[(d["breakdown"] == "all") & (d["measure"] == "All detentions")]
    published = d.loc[(d["org_type"] == "Sub-ICB") & (d["org_code"] == "00R"), "value"].iloc[0]
    like_for_like = d.loc[(d["org_type"] == "Sub-ICB") & (d["org_code"] == "ALL"), "value"].iloc[0]
    all_sources = d.loc[d["org_type"] == "England", "value"].iloc[0]
    assert like_for_like < all_sources  # the all-source total includes unassigned detentions
    rows = _table("E06000009").query("barrier == 'coercion'").reset_index(drop=True)
    assert len(rows) == 2
    assert rows.loc[0, "footprint"].codes == ("00R",) and rows.loc[0, "fit"] == "exact"
    assert "00R" in page.place(rows.loc[0]) and rows.loc[0, "status"] == "value"
    assert rows.loc[0, "value"] == published and rows.loc[0, "england"] == like_for_like
    assert rows.loc[0, "vs_england_95"] == "Higher"
    assert rows.loc[0, "lower_95"] <= published <= rows.loc[0, "upper_95"]
    assert rows.loc[1, "footprint"].codes == ("QE1",) and rows.loc[1, "for_context"]
    assert "QE1" in page.place(rows.loc[1]) and "for context" in page.place(rows.loc[1])


def test_a_county_of_whole_sub_icbs_adds_them_and_carries_each_rounding():
    # Synthetic check of the arithmetic on real rows: sum of counts, limits over 2 per term.
    for area in areas.all_areas():
        best = coercion.best_footprint(area)
        if best.org_type == "Sub-ICB" and len(best.codes) > 1:
            row = coercion.rate(best)
            d = coercion._totals()
            parts = d[(d["org_type"] == "Sub-ICB") & d["org_code"].isin(best.codes)]
            assert row["count"] == parts["count"].sum()
            population = (parts["count"] * 100_000 / parts["value"]).sum()
            assert row["value"] == pytest.approx(parts["count"].sum() / population * 100_000)
            single = coercion.rounding.rate_limits(parts["count"].sum(), population, 0.95, terms=1).iloc[0]
            assert row["lower_95"] < single["lower_cl_95"] and row["upper_95"] > single["upper_cl_95"]
            return
    pytest.fail("no County & UA is made of two or more whole Sub-ICB Locations: the test needs one")


def test_every_area_has_a_coercion_row_with_its_fit_stated():
    for area in areas.all_areas():
        rows = coercion.detention_rates(area)
        assert rows.loc[0, "fit"] in {"exact", "close", "partial", "poor"}, area.name
        assert rows["england"].eq(coercion.england_like_for_like(rows.loc[0, "org_type"])).iloc[0]


@pytest.mark.parametrize("code", ["E09000002", "E10000014", "E06000063", "E08000004"])
def test_no_better_or_worse_without_polarity_and_values_inside_their_limits(code):
    table = _table(code)
    rates = table[table["unit"] == "per 100,000"]
    words = set(rates["vs_england_95"]) | set(rates["vs_england_99_8"])
    assert not words & {"Better", "Worse"}, words
    shown = page.display_table(table)
    for value, limits in zip(shown["value"], shown["95% limits"]):
        if value is None or limits is None:
            continue
        lo, hi = (float(x.replace(",", "")) for x in limits.split(" to "))
        v = float(value.replace(",", ""))
        assert lo <= v <= hi, (value, limits)
        assert len(value.split(".")[-1]) == len(limits.split(" to ")[0].split(".")[-1]) or "." not in value


def test_display_rounds_limits_outwards():
    assert numbers.limits(1.48, 1.49, 1) == "1.4 to 1.5"
    assert numbers.with_limits(1.5, 1.48, 1.49, 1) == "1.5 (1.4 to 1.5)"
    assert numbers.count(855.0) == "855"
    assert numbers.rounded_within(1.5, 1.48, 1.49, 1)


def test_every_area_summary_shows_values_inside_their_limits():
    bad = []
    for area in areas.all_areas():
        table = summary.barrier_table(area, footprints.iapt_footprint(area, "2024-25"))
        shown = page.display_table(table)
        for value, limits in zip(shown["value"], shown["95% limits"]):
            if value is None or limits is None:
                continue
            lo, hi = (float(x.replace(",", "")) for x in limits.split(" to "))
            if not lo <= float(value.replace(",", "")) <= hi:
                bad.append((area.name, value, limits))
        assert (table["barrier"] == "coercion").any(), area.name
    assert not bad, bad[:5]
