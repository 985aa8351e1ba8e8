"""The County & UA registry: resolving names and codes, former areas, footprints."""

from __future__ import annotations

import pytest

from mhbook import areas
from mhbook.errors import InsufficientDataError, UnknownAreaError
from mhbook.sources import lookups

pytestmark = pytest.mark.mirror


def codes(match):
    return [a.code for a in match.areas]


def test_all_areas():
    all_ = areas.all_areas()
    assert len(all_) == 153
    assert [a.name for a in all_] == sorted(a.name for a in all_)
    assert all(a.code.startswith(("E06", "E08", "E09", "E10")) for a in all_)


@pytest.mark.parametrize("query", ["oldham", "E08000004", " OLDHAM ", "e08000004"])
def test_get_oldham(query):
    assert areas.get(query).code == "E08000004"


@pytest.mark.parametrize(
    "query,code",
    [
        ("  kingston upon HULL, city of ", "E06000010"),
        ("Kingston upon Hull", "E06000010"),
        ("Hampshire", "E10000014"),
        ("Brighton & Hove", "E06000043"),
        ("St Helens", "E08000013"),
        ("st. helens", "E08000013"),
        ("City of Bristol", "E06000023"),
        ("Barnsley", "E08000016"),
    ],
)
def test_get_by_name(query, code):
    assert areas.get(query).code == code


def test_current_match_has_no_note():
    assert areas.find("Hampshire").note is None


def test_bournemouth_maps_to_bcp_with_note():
    m = areas.find("bournemouth")
    assert codes(m) == ["E06000058"]
    assert "E06000028" in m.note and "2019" in m.note
    assert areas.get("E06000029").code == "E06000058"  # Poole


@pytest.mark.parametrize("query", ["northamptonshire", "E10000021"])
def test_northamptonshire_has_two_successors(query):
    m = areas.find(query)
    assert codes(m) == ["E06000061", "E06000062"]
    assert "2021" in m.note
    with pytest.raises(UnknownAreaError) as err:
        areas.get(query)
    assert set(err.value.suggestions) == {"North Northamptonshire (E06000061)", "West Northamptonshire (E06000062)"}


@pytest.mark.parametrize(
    "old,new,year",
    [
        ("E10000009", ["E06000058", "E06000059"], "2019"),
        ("E10000002", ["E06000060"], "2020"),
        ("E10000006", ["E06000063", "E06000064"], "2023"),
        ("Cumbria", ["E06000063", "E06000064"], "2023"),
        ("E10000023", ["E06000065"], "2023"),
        ("E10000027", ["E06000066"], "2023"),
    ],
)
def test_reorganisations(old, new, year):
    m = areas.find(old)
    assert codes(m) == new and year in m.note


def test_every_former_code_has_a_date_and_predecessors_link_back():
    for a in areas.all_areas():
        for old in a.predecessors:
            assert old in areas.REORGANISATIONS, old
            assert a.code in codes(areas.find(old))
    assert areas.get("E06000058").predecessors == ("E06000028", "E06000029", "E10000009")


def test_district_resolves_to_county():
    m = areas.find("Preston")
    assert codes(m) == ["E10000017"] and "district" in m.note
    assert codes(areas.find("Aylesbury Vale")) == ["E06000060"]  # former district


@pytest.mark.parametrize("query,expected", [("Hampshir", "Hampshire (E10000014)"), ("Oldam", "Oldham (E08000004)")])
def test_unknown_suggests(query, expected):
    with pytest.raises(UnknownAreaError) as err:
        areas.find(query)
    assert expected in err.value.suggestions
    assert query in str(err.value)


def test_nonsense_raises():
    with pytest.raises(UnknownAreaError):
        areas.get("zzqx nowhere")


def test_every_area_is_complete():
    lsoa11 = lookups.lsoa11_current()
    seen11 = 0
    for a in areas.all_areas():
        assert a.districts and a.region_code.startswith("E12") and a.region_name
        assert a.lsoa11() and a.lsoa21()
        seen11 += len(a.lsoa11())
        icb = a.footprints("2022-23")
        assert (icb["org_type"] == "ICB").all()
        assert icb["population_share"].sum() == pytest.approx(1, abs=1e-9)
        assert icb["footprint_share"].between(0, 1).all()
        ccg = a.footprints("2021-22")
        assert (ccg["org_type"] == "CCG").all()
        assert ccg["population_share"].sum() == pytest.approx(1, abs=1e-9)
    assert seen11 == len(lsoa11) == 32_844


def test_footprints_values():
    # Halton lies wholly in Cheshire and Merseyside ICB (QYG) and its own
    # Sub-ICB Location 01F (the former Halton CCG).
    halton = areas.get("Halton")
    icb = halton.footprints("2023-24")
    assert icb["org_code"].tolist() == ["QYG"]
    assert 0 < icb.loc[0, "footprint_share"] < 0.1
    ccg = halton.footprints("2021-22")
    assert ccg["org_code"].tolist() == ["01F"]
    assert ccg.loc[0, "footprint_share"] == pytest.approx(1)
    # footprint shares of one ICB over all areas add to 1
    total = sum(
        fp.loc[fp["org_code"] == "QYG", "footprint_share"].sum()
        for fp in (a.footprints("2022-23") for a in areas.all_areas())
    )
    assert total == pytest.approx(1)


@pytest.mark.parametrize("period", ["2017-18", "2018-19", "2019-20", "2020-21"])
def test_ccg_years_are_mapped_with_their_own_lookup(period):
    fp = areas.get("Blackpool").footprints(period)  # NHS Blackpool CCG, the same 94 LSOAs every year
    assert fp["org_type"].tolist() == ["CCG"] and fp["org_code"].tolist() == ["00R"]
    assert fp.loc[0, "population_share"] == pytest.approx(1) and fp.loc[0, "footprint_share"] == pytest.approx(1)


@pytest.mark.parametrize("period", ["2015-16", "2016-17"])
def test_years_before_2017_cannot_be_mapped(period):
    with pytest.raises(InsufficientDataError, match=period):
        areas.get("Oldham").footprints(period)


@pytest.mark.parametrize("period", ["2022", "2022-24", "22-23"])
def test_bad_period(period):
    with pytest.raises(ValueError, match="financial year"):
        areas.get("Oldham").footprints(period)


def test_la_all_codes_follow_ons_codes():
    lads = lookups.la_all_codes().set_index("lad_code_any")
    # ONS lookups use E08000016 for Barnsley; drkane's E08000038 is a former code
    assert lads.loc["E08000016", "current"] and not lads.loc["E08000038", "current"]
    assert lads.loc["E08000038", "utla_code"] == "E08000016"
    assert lads["current"].sum() == 296


@pytest.mark.mirror
@pytest.mark.parametrize(
    "query, nation",
    [
        ("W06000015", "Wales"),
        ("cardiff", "Wales"),
        ("S12000049", "Scotland"),
        ("Glasgow City", "Scotland"),
        ("N09000003", "Northern Ireland"),
        ("N09999999", "Northern Ireland"),
        ("Scotland", "Scotland"),
    ],
)
def test_places_outside_england_are_named_as_such(query, nation):
    from mhbook.errors import UnknownAreaError

    with pytest.raises(UnknownAreaError) as err:
        areas.find(query)
    assert "mhbook covers England's Counties & Unitary Authorities" in str(err.value)
    assert nation in str(err.value) and not err.value.suggestions


@pytest.mark.mirror
def test_english_places_are_not_taken_for_other_nations():
    assert areas.not_english("E08000004") is None and areas.not_english("Oldham") is None
    assert areas.find("Newcastle upon Tyne").areas[0].code == "E08000021"


@pytest.mark.mirror
def test_a_misspelt_welsh_place_is_not_given_english_suggestions():
    from mhbook.errors import UnknownAreaError

    with pytest.raises(UnknownAreaError) as err:
        areas.find("Cardif")
    assert "Cardiff (W06000015) is in Wales" in str(err.value) and "covers England" in str(err.value)
    assert not err.value.suggestions
