"""Tests of mhbook.pages.local_series: the chapter's sentences, display tables, captions and
charts. The first tests feed it SYNTHETIC footprints, counts and gaps made here (numbers
chosen so each expected word can be worked out by hand; no mirror needed); the last ones
run it on the real published data (mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhbook import areas
from mhbook.errors import SchemaError
from mhbook.figures.segments import CCG_TO_ICB, segmented_trend_chart
from mhbook.measures import local_series as ls
from mhbook.pages import local_series as page
from mhbook.sources import iapt


def _footprint(orgs, method, coverage, purity, others=(), period="2019-20", org_type="CCG"):
    """A SYNTHETIC footprint of the made-up area Synthetown."""
    return ls.LocalFootprint(
        "E06999999", "Synthetown", period, org_type, orgs, method, coverage, purity, ("E01999999",), others
    )


def test_describe_names_the_organisations_shares_and_fit_synthetic():
    one = _footprint(
        (("99A", "NHS Synthetown CCG"),), "own", 1.0, 0.996, others=(("99B", "NHS Elsewhere CCG", 0.004, 0.001),)
    )
    assert page.describe(one) == (
        "In 2019-20 Synthetown is represented by NHS Synthetown CCG (99A): 100% of the area's residents live "
        "in it and over 99% of its residents live in the area (fit: exact)."
    )  # the other CCG holds under 1% of the area's residents: not named
    two = _footprint((("99A", "NHS North CCG"), ("99C", "NHS South CCG")), "own", 0.9, 0.95)
    assert page.describe(two) == (
        "In 2019-20 Synthetown is represented by the 2 Clinical Commissioning Groups lying inside it, added "
        "together (NHS North CCG, 99A; NHS South CCG, 99C): 90% of the area's residents live in them and 95% "
        "of their residents live in the area (fit: close)."
    )
    straddling = _footprint(
        (("QZZ", "NHS Big ICB"),), "straddling", 0.8, 0.2, (("QYY", "NHS Other ICB", 0.2, 0.05),), "2023-24", "ICB"
    )
    assert page.describe(straddling) == (
        "In 2023-24 Synthetown is represented by NHS Big ICB (QZZ), which straddles the area's boundary: 80% of "
        "the area's residents live in it and 20% of its residents live in the area (fit: poor). Not included: "
        "NHS Other ICB (QYY), home to 20% of the area's residents, 5% of its own living in the area."
    )
    none = ls.LocalFootprint(
        "E06999999", "Synthetown", "2019-20", "CCG", (), None, 0.0, 0.0, unusable=ls.UNPUBLISHED, unpublished=("99D",)
    )
    assert page.describe(none) == page.no_footprint_note(none)


def test_a_year_without_a_footprint_says_why_synthetic():
    unpublished = ls.LocalFootprint(
        "E06999999",
        "Synthetown",
        "2018-19",
        "CCG",
        (),
        None,
        0.0,
        0.0,
        unusable=ls.UNPUBLISHED,
        unpublished=("99D", "99E"),
    )
    assert page.no_footprint_note(unpublished) == (
        "Synthetown has no usable NHS footprint in 2018-19: NHS England published no CCG figures in 2018-19 "
        "for 99D, 99E."
    )
    split = ls.LocalFootprint(
        "E06999999",
        "Synthetown",
        "2023-24",
        "ICB",
        (),
        None,
        0.0,
        0.0,
        unusable=ls.NO_MAJORITY,
        largest=("NHS Big ICB", 0.004),
    )
    assert page.no_footprint_note(split) == (
        "Synthetown has no usable NHS footprint in 2023-24: no ICB lying inside Synthetown, nor any single ICB, "
        "holds at least half of its residents (the largest, NHS Big ICB, holds less than 1%)."
    )
    assert page.no_footprint_note(_footprint((("99A", "NHS Synthetown CCG"),), "own", 1.0, 1.0)) == ""
    table = pd.DataFrame({"note": [page.no_footprint_note(unpublished)]})
    assert table["note"].iloc[0].endswith("for 99D, 99E.")
    with pytest.raises(SchemaError, match="2018-19.*'gone'"):
        page.no_footprint_note(
            ls.LocalFootprint("E06999999", "Synthetown", "2018-19", "CCG", (), None, 0, 0, unusable="gone")
        )


def test_why_a_year_has_no_gap_or_no_sii_synthetic():
    assert page.gap_reason(ls.NO_RESIDENTS, (1,)) == "the footprint has no residents in decile 1"
    assert page.gap_reason(ls.NO_RESIDENTS, (1, 10)) == "the footprint has no residents in decile 1 or 10"
    assert page.gap_reason(ls.SUPPRESSED) == "recovery in decile 1 or 10 is suppressed (small numbers)"
    assert page.gap_reason("") == ""
    assert page.sii_reason(ls.SUPPRESSED, 7, (2, 9)) == (
        "recovery is suppressed or not published for decile(s) 2, 9, where the footprint has residents; an SII "
        "without them would be biased"
    )
    assert page.sii_reason(ls.TOO_FEW_DECILES, 3) == "only 3 deciles have published recovery; an SII needs 5"
    assert page.sii_reason(ls.LIMITS_AT_BOUND, 10).startswith("a decile has so few people at caseness")
    assert page.sii_reason("", 10) == ""
    with pytest.raises(SchemaError, match="'odd'"):
        page.gap_reason("odd")
    with pytest.raises(SchemaError, match="'odd'"):
        page.sii_reason("odd")


def test_runs_of_years_with_one_footprint_are_described_once_synthetic():
    fps = [_footprint((("99A", "NHS Synthetown CCG"),), "own", 1.0, 1.0, period=p) for p in ("2017-18", "2018-19")] + [
        _footprint((("QZZ", "NHS Big ICB"),), "straddling", 1.0, 0.3, period="2022-23", org_type="ICB")
    ]
    text = page._describe_runs(fps)
    assert text.startswith("From 2017-18 to 2018-19 Synthetown is represented by NHS Synthetown CCG (99A)")
    assert text.count("Synthetown is represented") == 2 and "In 2022-23 Synthetown" in text


def test_summed_counts_show_the_rounding_they_carry_synthetic():
    shown = page._bounded(pd.Series([1230.0, np.nan, 5.0]), pd.Series([7.5, np.nan, 2.5]))
    assert shown.iloc[0] == "1,230 ± 7.5" and pd.isna(shown.iloc[1]) and shown.iloc[2] == "5 ± 2.5"


def test_hub_note_in_words_synthetic(monkeypatch):
    monkeypatch.setattr(page, "hub_referrals", lambda p: ls.HubReferrals(p, 1234.0, 1_000_000.0, ("13Q", "UNKNOWN")))
    assert page.hub_note("2019-20") == (
        "In 2019-20, 1,234 of England's 1,000,000 referrals (0.1%) were recorded against non-geographic "
        "commissioning hubs or an unknown CCG (13Q, UNKNOWN) and belong to no area's footprint."
    )
    monkeypatch.setattr(page, "hub_referrals", lambda p: None)
    assert page.hub_note("2023-24") == ""


def _gaps(rows):
    """SYNTHETIC rows of ``gaps``: (period, organisation, fit, gap, lower, upper, reason, empty deciles)."""
    columns = ["period", "organisation", "fit", "gap", "gap_lower", "gap_upper", "reason", "empty_deciles"]
    return pd.DataFrame(rows, columns=columns).assign(series="footprint")


def test_gap_sentence_says_narrowed_widened_or_too_few_synthetic(monkeypatch):
    area = type("SyntheticArea", (), {"code": "E06999999", "name": "Synthetown"})()
    monkeypatch.setattr(
        page,
        "gaps",
        lambda a: _gaps(
            [
                ("2017-18", "CCG 99A", "exact", 12.0, 8.0, 16.0, "", ()),
                ("2018-19", "CCG 99A", "exact", np.nan, np.nan, np.nan, ls.SUPPRESSED, ()),
                ("2019-20", "CCG 99A", "exact", np.nan, np.nan, np.nan, ls.NO_RESIDENTS, (10,)),
                ("2020-21", "CCG 99A", "exact", np.nan, np.nan, np.nan, ls.SUPPRESSED, ()),
                ("2022-23", "ICB QZZ", "poor", 5.0, 3.0, 7.0, "", ()),
            ]
        ),
    )
    assert page._gap_sentence(area) == (
        "The recovery gap between the least and most deprived deciles in Synthetown's footprint narrowed: "
        "12.0 percentage points in 2017-18 (CCG 99A, fit exact) and 5.0 in 2022-23 (ICB QZZ, fit poor). "
        "Their 95% limits do not overlap. The two years describe different organisations, so part of the "
        "change may come from the change of footprint. There is no gap for 2018-19, 2020-21: recovery in "
        "decile 1 or 10 is suppressed (small numbers); 2019-20: the footprint has no residents in decile 10."
    )
    monkeypatch.setattr(page, "gaps", lambda a: _gaps([("2017-18", "CCG 99A", "exact", 12.0, 8.0, 16.0, "", ())]))
    assert page._gap_sentence(area).startswith("There are too few years with published recovery")


#: Synthetic: eight financial years, as the series held before a new year arrived.
SYNTHETIC_YEARS = ("2017-18", "2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25")


def _synthetic_trend(values):
    """Synthetic: a footprint that is a CCG for five years and an ICB for three."""
    rows = []
    for i, period in enumerate(SYNTHETIC_YEARS):
        kind = "CCG" if i < 5 else "ICB"
        rows.append(
            {
                "period": period,
                "series": "Synthetown's footprint",
                "segment": f"{kind} X",
                "kind": kind,
                "value": values[i],
                "lower_cl": values[i] - 1,
                "upper_cl": values[i] + 1,
            }
        )
        rows.append(
            {
                "period": period,
                "series": "England",
                "segment": "England",
                "kind": "England",
                "value": 50.0,
                "lower_cl": 49.5,
                "upper_cl": 50.5,
            }
        )
    return pd.DataFrame(rows)


def test_trend_chart_breaks_at_the_footprint_change():  # synthetic values
    df = _synthetic_trend([50, 51, 52, 53, 54, 40, 41, 42])
    fig = segmented_trend_chart(df, SYNTHETIC_YEARS, measure="recovery", unit="%", area="Synthetown's footprint")
    ax = fig.fig.axes[0]
    area_lines = [ln for ln in ax.get_lines() if ln.get_color() != "#000000" and len(ln.get_xdata()) > 2]
    spans = sorted((int(min(ln.get_xdata())), int(max(ln.get_xdata()))) for ln in area_lines)
    assert spans == [(0, 4), (5, 7)], "the area's line must be two segments, not one"
    verticals = [ln for ln in ax.get_lines() if len(set(ln.get_xdata())) == 1]
    assert any(float(ln.get_xdata()[0]) == pytest.approx(4.5) for ln in verticals)
    assert CCG_TO_ICB in [t.get_text() for t in ax.texts]
    assert "CCG to ICB (July 2022) between 2021-22 and 2022-23" in fig.alt
    assert "CCG to ICB" in fig.caption
    assert set(fig.data["organisation_type"]) == {"CCG", "ICB", "England"}


def test_trend_chart_leaves_gaps_for_missing_years():  # synthetic values
    df = _synthetic_trend([50, np.nan, 52, 53, 54, 40, 41, 42])
    fig = segmented_trend_chart(df, SYNTHETIC_YEARS, measure="recovery", unit="%", area="Synthetown's footprint")
    ys = [
        ln.get_ydata() for ln in fig.fig.axes[0].get_lines() if ln.get_color() != "#000000" and len(ln.get_xdata()) > 2
    ]
    assert any(np.isnan(np.asarray(y, dtype=float)).any() for y in ys)
    assert "1 year" in fig.alt or "suppress" in fig.alt.lower() or "missing" in fig.alt.lower()


# --- on the real published data ------------------------------------------------------------


@pytest.mark.mirror
def test_every_year_of_a_real_area_is_described():
    for code in ("E06000009", "E10000014", "E06000063"):
        for fp in ls.footprints(areas.get(code)):
            text = page.describe(fp)
            assert fp.period in text and (fp.grade in text if fp.available else "no usable" in text), (code, text)


@pytest.mark.mirror
def test_decile_tables_exist_wherever_the_data_allow():
    with_deciles = {
        p: set(iapt.by_decile(p, org_type="ICB" if p >= "2022-23" else "CCG")["org_code"]) for p in ls.years()
    }
    for area in areas.all_areas():
        df = ls.funnel(area)
        for fp in ls.footprints(area):
            table = page.decile_table(area, fp.period)
            if not fp.available:
                assert table is None
                continue
            has_rows = bool(set(fp.codes) & with_deciles[fp.period])
            assert table is not None and len(table) == 10, (area.code, fp.period)
            if has_rows:
                dec = df[(df["period"] == fp.period) & (df["series"] == "footprint") & (df["imd_decile"] > 0)]
                assert dec["referrals"].notna().any(), (area.code, fp.period)


@pytest.mark.mirror
def test_trend_figure_marks_the_footprint_change_for_a_real_area():
    fig = page.trend_figure(areas.get("E06000009"), "recovery_pct")
    assert "CCG to ICB (July 2022) between 2021-22 and 2022-23" in fig.alt
    assert "00R" in fig.caption and "QE1" in fig.caption
    assert {"2017-18", "2024-25"} <= set(fig.data["period"])


@pytest.mark.mirror
def test_summary_sentences_name_the_organisations():
    values = page.summary_sentences(areas.get("E06000009"))
    assert set(values) == {
        "local_series_recovery",
        "local_series_england",
        "local_series_gap",
        "local_series_footprints",
    }
    assert "00R" in values["local_series_recovery"] and "QE1" in values["local_series_recovery"]
    assert "2017-18" in values["local_series_recovery"] and "2024-25" in values["local_series_recovery"]
    assert any(w in values["local_series_gap"] for w in ("narrowed", "widened", "unchanged", "too few"))


@pytest.mark.mirror
def test_glued_values_are_all_filled():
    chapter = page.chapter_numbers(areas.get("E06000009"))
    values = page.glued_values(chapter)
    assert values["area_name"] == "Blackpool" and values["n_years"] == len(ls.years())
    assert all(isinstance(values[k], str) and values[k] for k in ("footprint_sentences", "sii_sentence", "hub_notes"))
