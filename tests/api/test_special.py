"""特殊人群 special households: flags, check-ins every N days, the overdue call list (frozen time)."""
from datetime import timedelta

import pytest
import time_machine

from api import bootstrap, clock
from tests.api.helpers import (
    create_community, error_of, get, patch, place_order, post, put, register, writes,
)

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def flat(demo, ref, suffix=""):
    return f"/api/communities/{demo['community_id']}/households/{ref}{suffix}"


def flag(client, demo, ref, **body):
    response = put(client, flat(demo, ref, "/special"), {"category": "elderly_alone", **body}, demo["tokens"]["liaison"])
    assert response.status_code == 200, response.body
    return response.json_body


def check_in(client, demo, ref, **body):
    return post(client, flat(demo, ref, "/check-ins"), {"method": "call", "outcome": "ok", **body},
                demo["tokens"]["liaison"])


def call_list(client, demo, overdue=False):
    response = get(client, f"/api/communities/{demo['community_id']}/special-households?overdue={str(overdue).lower()}",
                   demo["tokens"]["liaison"])
    assert response.status_code == 200, response.body
    return response.json_body


def overdue_flats(client, demo):
    return [h["flat_label"] for h in call_list(client, demo, overdue=True)["households"]]


@pytest.fixture
def start():
    """Frozen time, on a whole second; the test moves it with `.shift`."""
    with time_machine.travel(clock.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def grandma(client, demo):
    """1栋 101: an old lady living alone, registered by her own (only) phone."""
    body = register(client, demo["join_key"], building="1栋", room="101", phone="13800000101")
    return {**body, "ref": "B001.U00.R00000101"}


# --- the overdue list, across the interval boundary ------------------------------------

def test_overdue__not_before_the_interval_is_over_then_at_once_after(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])
    assert check_in(client, demo, grandma["ref"]).status_code == 201

    start.shift(3 * DAY - SECOND)
    assert overdue_flats(client, demo) == []
    start.shift(SECOND)  # exactly due: not yet overdue
    assert overdue_flats(client, demo) == []
    [due] = call_list(client, demo)["households"]
    assert (due["overdue"], due["overdue_hours"]) == (False, 0)
    start.shift(SECOND)
    assert overdue_flats(client, demo) == ["1栋 101"]
    [late] = call_list(client, demo, overdue=True)["households"]
    assert late["overdue"] is True


def test_overdue__a_new_check_in_takes_the_household_off_the_list(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])
    start.shift(3 * DAY + SECOND)
    assert overdue_flats(client, demo) == ["1栋 101"]

    check_in(client, demo, grandma["ref"], method="visit", outcome="needs_help", notes="需要送药")

    assert overdue_flats(client, demo) == []
    [entry] = call_list(client, demo)["households"]
    assert entry["special"]["last_check_in_at"] == clock.iso(clock.now())


def test_overdue__never_checked__counts_from_when_it_was_flagged(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])

    start.shift(3 * DAY)
    assert overdue_flats(client, demo) == []
    start.shift(SECOND)
    assert overdue_flats(client, demo) == ["1栋 101"]


def test_overdue__most_overdue_first(client, demo, start):
    for room in ("102", "103", "104"):
        register(client, demo["join_key"], building="2栋", room=room, phone=f"13800000{room}")
    refs = {room: f"B002.U00.R00000{room}" for room in ("102", "103", "104")}
    for room in ("102", "103", "104"):
        flag(client, demo, refs[room])
    check_in(client, demo, refs["103"])          # checked first: most overdue
    start.shift(DAY)
    check_in(client, demo, refs["104"])
    start.shift(DAY)
    check_in(client, demo, refs["102"])          # checked last: least overdue

    start.shift(3 * DAY + timedelta(hours=1))
    body = call_list(client, demo, overdue=True)

    assert [h["flat_label"] for h in body["households"]] == ["2栋 103", "2栋 104", "2栋 102"]
    assert [h["overdue_hours"] for h in body["households"]] == [49, 25, 1]


def test_overdue__follows_the_communitys_interval(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])
    check_in(client, demo, grandma["ref"])
    response = patch(client, f"/api/communities/{demo['community_id']}/settings", {"check_in_interval_days": 1},
                     demo["tokens"]["liaison"])
    assert response.json_body["settings"] == {"check_in_interval_days": 1, "fair_share_days": 3}

    start.shift(DAY + SECOND)

    assert overdue_flats(client, demo) == ["1栋 101"]
    assert call_list(client, demo)["interval_days"] == 1


def test_check_in__entered_late_for_an_earlier_day__does_not_move_the_last_check_in_back(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])
    check_in(client, demo, grandma["ref"])
    last = clock.iso(clock.now())
    start.shift(DAY)

    response = check_in(client, demo, grandma["ref"], at=clock.iso(clock.now() - 2 * DAY))

    assert response.status_code == 201
    [entry] = call_list(client, demo)["households"]
    assert entry["special"]["last_check_in_at"] == last
    history = get(client, flat(demo, grandma["ref"]), demo["tokens"]["liaison"]).json_body["check_ins"]
    assert len(history) == 2


def test_call_list__shows_whole_phones_the_roster_does_not(client, demo, grandma):
    flag(client, demo, grandma["ref"], contact_name="儿子", contact_phone="13900009999", needs="每周送药")

    [entry] = call_list(client, demo)["households"]
    roster = get(client, f"/api/communities/{demo['community_id']}/roster", demo["tokens"]["liaison"]).json_body

    assert entry["phones"] == ["13800000101"]
    assert entry["special"]["contact_phone"] == "13900009999"
    assert "13900009999" not in str(roster) and "13800000101" not in str(roster)
    assert roster["households"][0]["special"]["contact_phone_masked"] == "139****9999"


# --- no order yet -----------------------------------------------------------------------

def test_no_order_yet__until_the_household_orders_and_again_after_a_cancel(client, demo, grandma):
    flag(client, demo, grandma["ref"])
    assert call_list(client, demo)["households"][0]["no_order_yet"] is True

    order = place_order(client, grandma["token"], demo["round_id"], (demo["bundle_ids"][1], 1)).json_body
    assert call_list(client, demo)["households"][0]["no_order_yet"] is False

    post(client, f"/api/orders/{order['order_id']}/cancel", {}, grandma["token"])
    assert call_list(client, demo)["households"][0]["no_order_yet"] is True


def test_no_order_yet__is_not_raised_when_no_round_is_open(client, demo, grandma, start):
    flag(client, demo, grandma["ref"])
    start.shift(10 * DAY)  # the demo round closed long ago

    assert call_list(client, demo)["households"][0]["no_order_yet"] is False


# --- flags ---------------------------------------------------------------------------------

def test_flag__shows_in_the_roster_and_unflag_takes_it_off_the_call_list(client, demo, grandma):
    flag(client, demo, grandma["ref"], category="disabled", needs="轮椅，需送货上门")

    roster = get(client, f"/api/communities/{demo['community_id']}/roster", demo["tokens"]["liaison"]).json_body
    assert roster["households"][0]["special"]["category"] == "disabled"
    assert roster["counts"]["special"] == 1

    response = post(client, flat(demo, grandma["ref"], "/special/remove"), {}, demo["tokens"]["liaison"])
    assert response.json_body["special"] is None
    assert call_list(client, demo)["households"] == []


def test_flag__outside_the_list__is_400_and_writes_nothing(client, demo, grandma):
    with writes() as written:
        response = put(client, flat(demo, grandma["ref"], "/special"), {"category": "vip"}, demo["tokens"]["liaison"])

    error = error_of(response, 400, "bad_input")
    assert list(error["fields"]) == ["category"]
    assert "elderly_alone" in error["fields"]["category"][0]
    assert written == []


def test_flag__other_without_saying_what__is_400(client, demo, grandma):
    response = put(client, flat(demo, grandma["ref"], "/special"), {"category": "other"}, demo["tokens"]["liaison"])

    assert list(error_of(response, 400, "bad_input")["fields"]) == ["note"]


# --- check-ins: bad input ----------------------------------------------------------------

def test_check_in__dated_in_the_future__is_400_and_writes_nothing(client, demo, grandma):
    flag(client, demo, grandma["ref"])

    with writes() as written:
        response = check_in(client, demo, grandma["ref"], at=clock.iso(clock.now() + timedelta(hours=1)))

    assert list(error_of(response, 400, "bad_input")["fields"]) == ["at"]
    assert written == []


def test_check_in__for_a_household_that_is_not_flagged__is_422(client, demo, grandma):
    with writes() as written:
        response = check_in(client, demo, grandma["ref"])

    error_of(response, 422, "not_special")
    assert written == []


def test_check_in__for_a_household_of_another_community__is_404_and_writes_nothing(client, demo):
    other = create_community(demo["sub_district_id"], "和平里小区")
    register(client, other["join_key"], building="1栋", room="808", phone="13800000808")
    other_liaison = bootstrap.create_staff("liaison", other["community_id"])
    put(client, f"/api/communities/{other['community_id']}/households/B001.U00.R00000808/special",
        {"category": "pregnant"}, other_liaison)

    with writes() as written:
        # Our liaison names the other community's flat under our community, and under theirs.
        ours = check_in(client, demo, "B001.U00.R00000808")
        theirs = post(client, f"/api/communities/{other['community_id']}/households/B001.U00.R00000808/check-ins",
                      {"method": "call", "outcome": "ok"}, demo["tokens"]["liaison"])

    error_of(ours, 404, "not_found")
    error_of(theirs, 404, "not_found")
    assert written == []


@pytest.mark.parametrize("body, field", [({"method": "sms", "outcome": "ok"}, "method"),
                                         ({"method": "call", "outcome": "fine"}, "outcome"),
                                         ({"method": "call", "outcome": "ok", "at": "yesterday"}, "at"),
                                         ({"method": "call", "outcome": "ok", "by": "me"}, "by")])
def test_check_in__malformed__is_400_naming_the_field(client, demo, grandma, body, field):
    flag(client, demo, grandma["ref"])

    response = post(client, flat(demo, grandma["ref"], "/check-ins"), body, demo["tokens"]["liaison"])

    assert list(error_of(response, 400, "bad_input")["fields"]) == [field]
