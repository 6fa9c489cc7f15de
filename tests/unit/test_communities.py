"""api.communities: the flat sort key and phone masking (no table needed)."""
import pytest

from api.communities import flat_key
from api.errors import BadInput
from api.models import Building, Community

COMMUNITY = Community(buildings=[
    Building(name="1栋", units=[]),
    Building(name="2栋", units=[]),
    Building(name="3栋", units=["1单元", "2单元"]),
    Building(name="10栋", units=["1单元", "2单元"]),
])


def key(building, room, unit=""):
    return flat_key(COMMUNITY, building, unit, room)


def test_flat_key__has_building_unit_and_padded_room():
    assert key("3栋", "502", "2单元") == "B003#U02#R00000502"
    assert key("1栋", "301") == "B001#U00#R00000301"


def test_flat_key__2栋_sorts_before_10栋():
    assert key("2栋", "101") < key("10栋", "101", "1单元")


def test_flat_key__buildings_sort_in_the_communitys_own_order():
    flats = [key("10栋", "101", "1单元"), key("1栋", "301"), key("3栋", "502", "2单元"), key("2栋", "201")]

    assert sorted(flats) == [key("1栋", "301"), key("2栋", "201"), key("3栋", "502", "2单元"),
                             key("10栋", "101", "1单元")]


def test_flat_key__room_501_sorts_before_1502():
    assert key("1栋", "501") < key("1栋", "1502")


def test_flat_key__unit_sorts_before_room():
    assert key("3栋", "1502", "1单元") < key("3栋", "101", "2单元")


def test_flat_key__room_letters__are_upper_cased_after_the_number():
    assert key("1栋", "501a") == "B001#U00#R00000501A"
    assert key("1栋", "501") < key("1栋", "501A") < key("1栋", "502")


def test_flat_key__unknown_building__names_building():
    with pytest.raises(BadInput) as caught:
        key("99栋", "101")

    assert list(caught.value.fields) == ["building"]


@pytest.mark.parametrize("building, unit", [("3栋", ""), ("3栋", "9单元"), ("1栋", "1单元")])
def test_flat_key__unit_missing_unknown_or_not_expected__names_unit(building, unit):
    with pytest.raises(BadInput) as caught:
        key(building, "101", unit)

    assert list(caught.value.fields) == ["unit"]


def test_flat_key__seven_digit_room__sorts_after_six_digit_room():
    assert key("1栋", "999999") < key("1栋", "1000000")
