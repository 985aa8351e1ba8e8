"""The County & UA registry's rules on the SYNTHETIC geography (``tests/synthetic/geography.py``).

The twins of ``test_areas.py``, which checks the same rules on the real lookups (and
needs the mirror): every name, code and expected answer here is made up, and each
expectation follows from how ``tests/synthetic/geography.py`` builds its tables.
"""

from __future__ import annotations

import pytest

from mhbook import areas
from mhbook.errors import InsufficientDataError, UnknownAreaError
from mhbook.sources import lookups
from synthetic import geography


@pytest.fixture(autouse=True)
def _synthetic(synthetic_mirror):
    return synthetic_mirror


def codes(match):
    return [a.code for a in match.areas]


def test_all_areas_are_the_153_synthetic_ones_by_name():
    all_ = areas.all_areas()
    assert len(all_) == 153
    assert {a.code for a in all_} == {u.code for u in geography.utlas()}
    assert [a.name for a in all_] == sorted(a.name for a in all_)
    county = areas.get("E10900002")
    assert county.districts == (("E07900003", "Synthetic District Ac"), ("E07900004", "Synthetic District Ad"))
    assert (county.region_code, county.region_name) == ("E12900002", "Synthetic Region 2")


@pytest.mark.parametrize("query", ["Synthetic Unitary Ag", " SYNTHETIC   unitary ag ", "E06900007", "e06900007"])
def test_a_code_or_name_in_any_case_and_spacing(query):
    match = areas.find(query)
    assert codes(match) == ["E06900007"] and match.note is None


@pytest.mark.parametrize("query", ["Harbourside, City of", "harbourside", "City of Harbourside", "harbourside city of"])
def test_city_of_names_answer_to_each_form(query):
    assert areas.get(query).code == geography.CITY_OF


def test_a_former_unitary_leads_to_its_successor_with_a_note():
    old, name, now = geography.FORMER_UNITARY
    match = areas.find(name)
    assert codes(match) == [now]
    assert match.note == (
        f"{name} ({old}) is a former County & UA code, replaced from a date not recorded; "
        f"its area is now in Synthetic Unitary Aa ({now})."
    )
    assert old in areas.get(now).predecessors


def test_a_former_county_split_in_two_names_both_and_get_refuses():
    old, _, districts = geography.FORMER_COUNTY
    assert codes(areas.find(old)) == sorted(now for _, _, now in districts)
    with pytest.raises(UnknownAreaError) as err:
        areas.get(old)
    assert set(err.value.suggestions) == {"Synthetic Unitary Fs (E06900149)", "Synthetic Unitary Ft (E06900150)"}


def test_a_reorganisation_listed_in_the_code_uses_its_districts_and_date():
    # Dorset's six district codes lie, in the synthetic lookups, in E06900148 only.
    match = areas.find("E10000009")
    assert codes(match) == ["E06900148"] and "1 April 2019" in match.note
    assert areas.get("E06900148").predecessors == ("E10000009",)


def test_districts_current_or_former_resolve_to_their_area():
    match = areas.find("Synthetic District Ac")
    assert codes(match) == ["E10900002"]
    assert match.note == "Synthetic District Ac (E07900003) is a district in Synthetic County Ab (E10900002)."
    former = areas.find("E07900007")
    assert codes(former) == ["E06900150"] and "a former district (now part of Synthetic Unitary Ft" in former.note


def test_a_renumbered_drkane_code_follows_the_ons_code_of_the_same_name():
    stale, ons = geography.RENUMBERED
    lads = lookups.la_all_codes().set_index("lad_code_any")
    assert lads.loc[ons, "current"] and not lads.loc[stale, "current"]
    assert (lads.loc[stale, "lad_code"], lads.loc[stale, "utla_code"]) == (ons, ons)
    assert lads["current"].sum() == 150 + 6  # the unitaries and the counties' districts
    assert codes(areas.find(stale)) == [ons]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("Harboursid", "Harbourside, City of (E06900003)"),
        ("Synthetic Distrct Ae", "Synthetic District Ae (E07900005, district)"),
    ],
)
def test_unknown_names_get_suggestions(query, expected):
    with pytest.raises(UnknownAreaError) as err:
        areas.find(query)
    assert expected in err.value.suggestions and query in str(err.value)


def test_nonsense_raises():
    with pytest.raises(UnknownAreaError, match="No English County & UA or district matches"):
        areas.get("zzqx nowhere")


@pytest.mark.parametrize(
    "query, nation",
    [
        (geography.WALES[0], "Wales"),
        ("synthetic welsh authority", "Wales"),
        ("S12999999", "Scotland"),
        ("N09999999", "Northern Ireland"),
        ("Scotland", "Scotland"),
    ],
)
def test_places_outside_england_are_named_as_such(query, nation):
    with pytest.raises(UnknownAreaError) as err:
        areas.find(query)
    assert "mhbook covers England's Counties & Unitary Authorities" in str(err.value)
    assert nation in str(err.value) and not err.value.suggestions


def test_english_areas_are_not_taken_for_other_nations():
    assert areas.not_english("E06900007") is None and areas.not_english("Synthetic Unitary Ag") is None


@pytest.mark.parametrize("period", ["2015-16", "2016-17"])
def test_years_before_2017_cannot_be_mapped(period):
    with pytest.raises(InsufficientDataError, match=period):
        areas.get("E06900007").footprints(period)


@pytest.mark.parametrize("period", ["2022", "2022-24", "22-23"])
def test_bad_period(period):
    with pytest.raises(ValueError, match="financial year"):
        areas.get("E06900007").footprints(period)
