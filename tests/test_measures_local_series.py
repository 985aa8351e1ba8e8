"""The area's own NHS Talking Therapies series: its numbers (mhbook.measures.local_series).
Its words, display tables and charts are tested in test_pages_local_series.py.

Real-data tests are marked ``mirror``; synthetic fixtures are built here and say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from mhbook import areas, stats
from mhbook.errors import SchemaError, UnmappedOrganisationError
from mhbook.measures import local_series as ls
from mhbook.sources import ccg_lookups, iapt


def _published_total(period: str, org_type: str, code: str, measure: str) -> float:
    """A count straight from the tidy IAPT table (not through local_series)."""
    df = iapt.load_measures()
    row = df[
        (df["period"] == period)
        & (df["org_type"] == org_type)
        & (df["org_code"] == code)
        & (df["breakdown"] == "Total")
        & (df["measure"] == measure)
    ]
    assert len(row) == 1, (period, code, measure)
    return float(row["count"].iloc[0])


# --- synthetic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "coverage, purity, expected",
    [
        (1.0, 1.0, "exact"),
        (0.995, 0.99, "exact"),
        (1.0, 0.95, "close"),
        (0.9, 1.0, "close"),
        (0.88, 1.0, "partial"),
        (1.0, 0.5, "partial"),
        (1.0, 0.138, "poor"),
        (0.4, 1.0, "poor"),
    ],
)
def test_grade_thresholds(coverage, purity, expected):  # synthetic shares
    assert ls.grade(coverage, purity) == expected


def test_rounding_widens_limits_and_zero_bound_is_wilson():  # synthetic counts
    x, n = np.array([480.0, 50.0]), np.array([1000.0, 100.0])
    value, lo, hi = ls._bounded_proportion(x, n, np.zeros(2), np.zeros(2))
    wilson = stats.wilson_ci(x, n)
    assert np.allclose(value, 100 * x / n)
    assert np.allclose(lo, 100 * wilson.lower) and np.allclose(hi, 100 * wilson.upper)
    _, lo10, hi10 = ls._bounded_proportion(x, n, np.full(2, 10.0), np.full(2, 10.0))
    assert (lo10 < lo).all() and (hi10 > hi).all()
    rate, rlo, rhi = ls._bounded_rate(np.array([500.0]), np.array([10_000.0]), np.array([0.0]))
    _, wlo, whi = ls._bounded_rate(np.array([500.0]), np.array([10_000.0]), np.array([7.5]))
    assert rate[0] == pytest.approx(5000) and wlo[0] < rlo[0] < rate[0] < rhi[0] < whi[0]


def test_lookup_with_changed_schema_names_file_and_column(tmp_path, monkeypatch):
    # Synthetic: the April 2018 lookup with its ODS column renamed.
    bad = tmp_path / "LSOA11_CCG18_LAD18_Apr2018.csv"
    bad.write_text(
        "LSOA11CD,LSOA11NM,CCG18CD,CCG18ODS,CCG18NM,LAD18CD,LAD18NM,FID\n"
        "E01000001,City of London 001A,E38000035,07T,NHS City and Hackney CCG,E09000001,City of London,1\n"
    )
    monkeypatch.setattr(ccg_lookups, "fetch", lambda dataset_id: bad)
    with pytest.raises(SchemaError, match=r"lkp-lsoa11-ccg18-lad18 \(LSOA11_CCG18_LAD18_Apr2018.csv\).*CCG18CDH"):
        ccg_lookups._read("18", "lkp-lsoa11-ccg18-lad18")


def test_period_without_lookup():
    with pytest.raises(ValueError, match="2016-17"):
        ccg_lookups.lsoa11_ccg("2016-17")


# --- real data ---------------------------------------------------------------------------------


@pytest.mark.mirror
def test_unknown_ccg_code_stops_with_code_year_and_lookup(monkeypatch):
    real = ls._published("2018-19", "CCG")
    fake = pd.concat(
        [
            real,
            pd.DataFrame([{"period": "2018-19", "org_type": "CCG", "org_code": "ZZ9", "org_name": "SYNTHETIC CCG"}]),
        ],
        ignore_index=True,
    )
    monkeypatch.setattr(ls, "_published", lambda period, org_type: fake)
    ls.check_codes.cache_clear()
    try:
        with pytest.raises(UnmappedOrganisationError, match=r"2018-19.*ZZ9.*lkp-lsoa11-ccg18-lad18"):
            ls.check_codes("2018-19")
    finally:
        ls.check_codes.cache_clear()


@pytest.mark.mirror
def test_every_area_has_a_footprint_or_a_reason_every_year():
    published = {p: set(ls._published(p, "ICB" if p >= "2022-23" else "CCG")["org_code"]) for p in ls.years()}
    counts = {"available": 0, "reason": 0}
    for area in areas.all_areas():
        fps = ls.footprints(area)
        assert [fp.period for fp in fps] == list(ls.years())
        for fp in fps:
            if not fp.available:
                counts["reason"] += 1
                assert fp.area_name == area.name and fp.unusable in (ls.UNPUBLISHED, ls.NO_MAJORITY)
                if fp.unusable == ls.UNPUBLISHED:  # the codes NHS England published nothing for
                    assert fp.unpublished and not set(fp.unpublished) & published[fp.period], (area.code, fp)
                else:  # the largest organisation holds under half of the area's residents
                    assert fp.largest is not None and 0 < fp.largest[1] < 0.5, (area.code, fp)
                continue
            counts["available"] += 1
            assert fp.org_type == ("ICB" if fp.period >= "2022-23" else "CCG")
            assert set(fp.codes) <= published[fp.period], (area.code, fp.period, fp.codes)
            assert not set(fp.codes) & set(ls.HUBS)
            assert 0.5 - 1e-9 <= fp.coverage <= 1 + 1e-9 and 0 < fp.purity <= 1 + 1e-9
            assert fp.grade == ls.grade(fp.coverage, fp.purity)
            shares = area.footprints(fp.period).set_index("org_code")
            if fp.method == "own":
                assert (shares.loc[list(fp.codes), "footprint_share"] >= ls.INSIDE - 1e-9).all()
            else:
                assert len(fp.codes) == 1 and fp.codes[0] == shares.index[0]
            assert fp.lsoas and set(area.lsoa11()) & set(fp.lsoas)
            assert all(code in fp.label for code in fp.codes)
    assert counts["available"] + counts["reason"] == 153 * len(ls.years())


@pytest.mark.mirror
def test_blackpool_counts_are_its_ccg_published_counts():
    blackpool = areas.get("E06000009")
    df = ls.funnel(blackpool)
    total = df[(df["series"] == "footprint") & (df["imd_decile"] == 0)].set_index("period")
    for period in ("2017-18", "2018-19", "2019-20", "2020-21", "2021-22"):
        fp = ls.footprint(blackpool, period)
        assert fp.codes == ("00R",) and fp.grade == "exact", (period, fp)
        for measure, column in [
            ("referrals_received", "referrals"),
            ("finished_course_treatment", "finished"),
            ("recovery", "recovery"),
            ("improvement", "improvement"),
        ]:
            assert total.loc[period, column] == _published_total(period, "CCG", "00R", measure), (period, measure)
            assert (
                total.loc[period, f"{column}_bound"] == 2
            )  # a count rounded to the nearest 5 is within 2 of the true one
        # NHS England's recovery denominator: finished minus not at caseness (two rounded counts)
        assert total.loc[period, "at_caseness"] == (
            _published_total(period, "CCG", "00R", "finished_course_treatment")
            - _published_total(period, "CCG", "00R", "not_at_caseness")
        )
        assert total.loc[period, "at_caseness_bound"] == 4  # two rounded counts
        expected = 100 * total.loc[period, "recovery"] / total.loc[period, "at_caseness"]
        assert total.loc[period, "recovery_pct"] == pytest.approx(expected)
    # ICB years: Blackpool is a small part of Lancashire and South Cumbria
    fp = ls.footprint(blackpool, "2024-25")
    assert fp.org_type == "ICB" and fp.method == "straddling" and fp.grade == "poor" and fp.purity < 0.2


@pytest.mark.mirror
def test_county_of_several_ccgs_adds_their_counts_and_carries_rounding():
    hampshire = areas.get("E10000014")
    fp = ls.footprint(hampshire, "2017-18")
    assert fp.method == "own" and len(fp.codes) >= 2
    df = ls.funnel(hampshire)
    row = df[(df["series"] == "footprint") & (df["imd_decile"] == 0) & (df["period"] == "2017-18")].iloc[0]
    for measure, column in [("referrals_received", "referrals"), ("recovery", "recovery")]:
        parts = [_published_total("2017-18", "CCG", c, measure) for c in fp.codes]
        assert row[column] == sum(parts)
        assert row[f"{column}_bound"] == 2 * len(fp.codes)
    assert row["at_caseness_bound"] == 2 * 2 * len(fp.codes)
    plain = stats.wilson_ci(row["recovery"], row["at_caseness"])
    assert row["recovery_pct_lower"] < 100 * plain.lower and row["recovery_pct_upper"] > 100 * plain.upper
    # the straddling CCG (North East Hampshire and Farnham, mostly in Hampshire) is not added
    shares = hampshire.footprints("2017-18").set_index("org_code")
    assert not set(shares.index[shares["footprint_share"] < ls.INSIDE]) & set(fp.codes)


@pytest.mark.mirror
def test_areas_created_2019_to_2023_have_every_year():
    for code in (
        "E06000058",
        "E06000059",
        "E06000060",
        "E06000061",
        "E06000062",
        "E06000063",
        "E06000064",
        "E06000065",
        "E06000066",
    ):
        fps = ls.footprints(areas.get(code))
        assert all(fp.available or fp.unusable in (ls.UNPUBLISHED, ls.NO_MAJORITY) for fp in fps)
        assert sum(fp.available for fp in fps[:5]) >= 1, code


@pytest.mark.mirror
def test_sii_per_year_or_a_reason():
    s = ls.sii_by_year(areas.get("E10000014"))
    assert len(s) == 2 * len(ls.years())
    assert (s["sii"].notna() | (s["reason"] != "")).all()
    assert (s["sii"].isna() | (s["reason"] == "")).all()  # a reason only where there is no SII
    assert set(s["reason"]) <= {"", ls.SUPPRESSED, ls.TOO_FEW_DECILES, ls.LIMITS_AT_BOUND}
    suppressed = s[s["reason"] == ls.SUPPRESSED]
    assert all(len(m) > 0 for m in suppressed["missing_deciles"])
    assert s.loc[s["series"] == "England", "sii"].notna().all()


@pytest.mark.mirror
def test_hub_referrals_are_the_published_hub_totals():
    hubs = ls.hub_referrals("2018-19")
    published = iapt.organisations("2018-19", "CCG")
    held = sorted(set(published["org_code"]) & set(ls.HUBS))
    assert hubs.codes == tuple(held) and held
    # a hub's suppressed count is missing, and left out of the sum (never counted as zero or as a number)
    assert hubs.referrals == np.nansum([_published_total("2018-19", "CCG", c, "referrals_received") for c in held])
    assert hubs.england_referrals == _published_total("2018-19", "England", "All", "referrals_received")
    assert 0 < hubs.referrals < hubs.england_referrals
    assert ls.hub_referrals("2022-23") is None  # ICBs have no hubs


@pytest.mark.mirror
def test_the_reads_recorded_name_exactly_the_lookup_read():
    """A page reading the 2018-19 footprint records the April 2018 lookup and no other CCG
    lookup, first time and again from memory, in a fresh interpreter."""
    code = textwrap.dedent("""
        import json
        from mhbook import areas, reads
        from mhbook.measures import local_series
        out = {}
        for period in ("2018-19", "2022-23", "2018-19"):
            with reads.collecting() as seen:
                local_series.footprint(areas.get("E06000009"), period)
            out.setdefault(period, []).append(sorted(seen))
        print(json.dumps(out))
    """)
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), timeout=600
    )
    assert res.returncode == 0, res.stderr[-2000:]
    reads = json.loads(res.stdout.strip().splitlines()[-1])
    ccg = {"lkp-lsoa11-ccg17-lad17", "lkp-lsoa11-ccg18-lad18", "lkp-lsoa11-ccg19-lad19", "lkp-lsoa11-ccg20-lad20"}
    first, again = reads["2018-19"]
    assert set(first) & ccg == {"lkp-lsoa11-ccg18-lad18"}
    assert again == first  # from memory: the same datasets
    [later] = reads["2022-23"]
    assert not set(later) & ccg
    assert "lkp-lsoa11-subicb22-icb22-lad22" in later
