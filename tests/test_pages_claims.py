"""Tests of mhbook.pages.claims: each check of the Commission's claims put into words, and the
chapter's tables. The first tests feed it SYNTHETIC numbers made here (chosen so each expected
text can be written by hand; no mirror needed); the last ones run it on the real published
data (mirror)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mhbook.measures import claims
from mhbook.pages import claims as page


def test_held_years_joins_consecutive_years():
    years = ["2014-15", "2015-16", "2016-17", "2020-21", "2021-22", "2024-25"]
    assert page.held_years(years) == "2014-15 to 2016-17 and 2020-21 to 2021-22 and 2024-25"


def _synthetic_numbers(monkeypatch):
    """SYNTHETIC measures: one year checked per claim, numbers picked to be read back as text."""
    checks = pd.DataFrame(
        [
            ("deprivation", "2030-31", None, claims.CHECKED, claims.STILL),
            ("sexual_orientation", "2030-31", None, claims.NOT_PUBLISHED, claims.UNTESTABLE),
            ("sexual_orientation", "2028-29", None, claims.CHECKED, claims.PARTLY),
            ("older_adults", "2030-31", None, claims.CHECKED, claims.STILL),
            ("detention", "2029-30", "crude", claims.CHECKED, claims.PARTLY),
            ("detention", "2029-30", "standardised", claims.CHECKED, claims.STILL),
            ("cto", "2030-31", None, claims.NOT_PUBLISHED, claims.UNTESTABLE),
            ("child_poverty", "–", None, claims.NOT_AREA_DATA, claims.UNTESTABLE),
        ],
        columns=["claim_id", "period", "rate_type", "status", "verdict"],
    )
    gradients = pd.DataFrame(
        {
            "period": ["2030-31"] * 3,
            "part": ["referrals", "finished", "recovery"],
            "value": [0.95, np.nan, 1.04],
            "lower_cl": [0.9412, np.nan, 1.0351],
            "upper_cl": [0.9588, np.nan, 1.0449],
            "most_deprived": [4000.0, 41.25, 40.0],
            "least_deprived": [3000.0, 49.75, 52.0],
        }
    )
    orientation = pd.DataFrame(
        {
            "period": ["2027-28", "2028-29"],
            "label": ["bisexual", "bisexual"],
            "value": [44.0, 45.06],
            "lower_cl": [43.0, 44.01],
            "upper_cl": [45.0, 46.11],
        }
    )
    older = pd.DataFrame(
        {"period": ["2030-31"], "bands": ["65 and over"], "value": [6.5], "lower_cl": [6.45], "upper_cl": [6.556]}
    )
    ratio = pd.DataFrame(
        {
            "period": ["2029-30", "2029-30"],
            "rate_type": ["crude", "standardised"],
            "black_rate": [240.0, 250.0],
            "white_rate": [80.0, 50.0],
            "value": [3.0, 5.0],
            "lower_cl": [2.9, 4.5],
            "upper_cl": [3.1, 5.5],
            "method": ["crude method", "standardised method"],
        }
    )
    monkeypatch.setattr(page, "claim_checks", lambda period, latest_period: checks)
    monkeypatch.setattr(page, "deprivation_gradients", lambda years: gradients)
    monkeypatch.setattr(page, "recovery_by_sexual_orientation", lambda: orientation)
    monkeypatch.setattr(page, "older_adult_share", lambda: older)
    monkeypatch.setattr(page, "older_population_share", lambda p: {"year": "mid-2030", "value": 24.0})
    monkeypatch.setattr(page, "detention_ratio", lambda measure="All detentions": ratio)
    monkeypatch.setattr(page, "dataset_ids", lambda claim: f"ids of {claim}")


def test_each_check_is_written_from_its_numbers(monkeypatch):
    _synthetic_numbers(monkeypatch)
    table = page.claims_table("2030-31", "2030-31")
    result = table["result"].tolist()
    assert result[0] == (
        "referrals 0.950 (0.941 to 0.959); finished 41.2% most deprived against 49.8% least deprived "
        "(not tested: different cohorts); recovery 1.040 (1.035 to 1.045)"
    )
    assert result[1] == "Not published by sexual orientation in these files for 2030-31 (held: 2027-28 to 2028-29)"
    assert result[2] == "bisexual 45.1% (44.0 to 46.1)"
    assert (
        result[3]
        == "6.50% (6.45 to 6.56) of referrals (bands summed: 65 and over); 65+ are 24.0% of people aged 16+ (mid-2030)"
    )
    assert result[4] == "3.00 (2.90 to 3.10) times (240.0 against 80.0 per 100,000)"
    assert (
        table["measure"][5]
        == "Black / White rate ratio of detentions, standardised rates (95% limits; standardised method)"
    )
    assert result[6] == "Mental Health Act statistics for 2030-31 are not in these files (held: 2029-30)"
    assert table["measure"][6] == "Black / White rate ratio of uses of Community Treatment Orders"
    assert result[7].startswith("A claim about households")
    assert table["claim"][0] == f"“{claims.CLAIMS['deprivation']}”"
    assert table["source"][4] == "ids of detention"
    assert table["verdict"].tolist() == [
        claims.STILL, claims.UNTESTABLE, claims.PARTLY, claims.STILL, claims.PARTLY, claims.STILL,
        claims.UNTESTABLE, claims.UNTESTABLE,
    ]  # fmt: skip


def test_one_verdict_per_claim_with_every_year_beneath(monkeypatch):
    _synthetic_numbers(monkeypatch)
    verdicts = page.claim_verdicts(page.claims_table("2030-31", "2030-31")).set_index("claim_id")
    assert list(verdicts.index) == list(claims.CLAIMS)
    assert (
        verdicts.loc["sexual_orientation", "years"]
        == "2030-31: cannot be tested with these data; 2028-29: partly holds"
    )
    assert (verdicts.loc["sexual_orientation", "verdict"], verdicts.loc["sexual_orientation", "period"]) == (
        claims.PARTLY,
        "2028-29",
    )
    assert verdicts.loc["detention", "verdict"] == claims.STILL  # the standardised rate decides
    shown = page.verdicts_display(verdicts.reset_index())
    assert list(shown.columns) == [
        "the Commission's words (2020)", "verdict today", "year it rests on", "every year checked",
    ]  # fmt: skip


def test_display_tables_round_as_the_page_states():
    gradients = pd.DataFrame(  # SYNTHETIC
        {
            "period": ["2030-31", "2030-31"],
            "label": ["a", "b"],
            "most_deprived": [41.25, 40.0],
            "least_deprived": [49.75, 52.0],
            "value": [np.nan, 1.04],
            "lower_cl": [np.nan, 1.0351],
            "upper_cl": [np.nan, 1.0449],
            "direction": ["above 1", "above 1"],
            "shown": [None, True],
        }
    )
    shown = page.gradient_table(gradients)
    assert shown["ratio per decile step"].tolist() == ["not tested", "1.040"]
    assert shown["95% limits"].isna().tolist() == [True, False] and shown["95% limits"][1] == "1.035 to 1.045"


# --- on the real published data ------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return page.claims_table("2018-19", "2024-25")


@pytest.mark.mirror
def test_claims_are_quoted_verbatim_from_the_report(table, mirror):
    # the shared folder holding the data mirror also holds the report's quotations
    reference = Path(mirror).resolve().parent / "reference" / "commission_claims.md"
    if not reference.is_file():
        pytest.fail(f"{reference} is missing: the claims cannot be checked against the report's words")
    text = reference.read_text("utf-8")
    for claim_id, words in claims.CLAIMS.items():
        assert f'"{words}"' in text, claim_id
        assert f"“{words}”" in set(table["claim"]), claim_id


@pytest.mark.mirror
def test_every_check_has_words_and_the_years_beneath_its_verdict(table):
    assert table["result"].map(lambda v: isinstance(v, str) and v != "").all()
    assert table["verdict"].tolist() == claims.claim_checks("2018-19", "2024-25")["verdict"].tolist()
    verdicts = page.claim_verdicts(table).set_index("claim_id")
    assert "2018-19" in verdicts.loc["deprivation", "years"] and "2024-25" in verdicts.loc["deprivation", "years"]
    values = page.glued_values(page.chapter_numbers("2018-19", "2024-25"))
    assert values["n_claims"] == len(claims.CLAIMS)
    assert values["n_still"] + values["n_partly"] + values["n_no_longer"] + values["n_untestable"] == len(claims.CLAIMS)
