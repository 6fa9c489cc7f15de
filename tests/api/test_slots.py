"""分楼栋错峰取货: a round's pickup slot plan in one community (api/slots.py, api/routes/pickup.py).

Generation is checked against the orders themselves: the live households are read from the
round's orders and matched to the returned groups here, with the floor rule of docs/api.md
(a room's floor is its number without the last two digits), so every household with a live
order is in exactly one slot, no slot holds more than households_per_slot (except a single
floor bigger than a slot, which stays whole), buildings come in the given order, and slots
follow each other with no gap.

Editing takes the whole list (move, swap), refuses overlaps, past slots, slots ending before
they start, and households left out or in two slots, and is conditional on `version`.
Staff of another community, and a round that does not serve the community, get 404.
"""
import copy
import itertools
import re
from datetime import datetime, timedelta

import pytest

from api import bootstrap, clock
from api.models import Order
from tests.api.helpers import (
    create_community, create_round, error_of, fair_share_off, get, orders_in, place_order, post, put, register,
    writes,
)

DEAD = ("cancelled", "expired")
_PHONES = itertools.count(1)


# --- helpers ------------------------------------------------------------------------------

def tomorrow_at_six_utc() -> datetime:
    """06:00 UTC tomorrow: 14:00 in Beijing, always in the future."""
    return (clock.now() + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def plan_path(demo, round_id=None, community_id=None) -> str:
    return (f"/api/communities/{community_id or demo['community_id']}"
            f"/rounds/{round_id or demo['round_id']}/slots")


def generate(client, demo, *, building_order, households_per_slot=3, minutes_per_slot=15, start_at=None,
             token=None, round_id=None):
    body = {"start_at": clock.iso(start_at or tomorrow_at_six_utc()), "minutes_per_slot": minutes_per_slot,
            "households_per_slot": households_per_slot, "building_order": building_order}
    return post(client, plan_path(demo, round_id) + "/generate", body, token or demo["tokens"]["liaison"])


def generated(client, demo, **kwargs) -> dict:
    response = generate(client, demo, **kwargs)
    assert response.status_code == 201, response.body
    return response.json_body


def order_flats(client, demo, flats, round_id=None, bundle=1) -> list[dict]:
    """Register each (building, unit, room) with its own phone and place one order: [{token, order_id, ...}]."""
    placed = []
    round_id = round_id or demo["round_id"]
    bundle_id = demo["bundle_ids"][bundle]
    for building, unit, room in flats:
        phone = f"139{next(_PHONES):08d}"
        household = register(client, demo["join_key"], building=building, unit=unit, room=room, phone=phone)
        response = place_order(client, household["token"], round_id, (bundle_id, 1))
        assert response.status_code == 201, response.body
        placed.append({**response.json_body, "token": household["token"], "flat": (building, unit, room)})
    return placed


def floor_of(room: str) -> int:
    digits = re.match(r"[0-9]+", room)
    return int(digits.group(0)) // 100 if digits else 0


def holds(group: dict, flat: tuple[str, str, str]) -> bool:
    """Does a returned group cover this flat? (the doc's rule, written out independently)"""
    building, unit, room = flat
    if group["building"] != building:
        return False
    if group["unit"] is None:
        return True
    if group["unit"] != unit:
        return False
    return group["floors"] is None or group["floors"][0] <= floor_of(room) <= group["floors"][1]


def live_households(round_id: str) -> set[tuple[str, str, str]]:
    return {(o.building, o.unit, o.room) for o in orders_in(round_id) if o.status not in DEAD}


def check_plan(plan: dict, round_id: str, *, start_at: datetime, building_order: list[str]) -> None:
    """The invariants of a generated plan, computed from the round's orders."""
    slots, capacity, minutes = plan["slots"], plan["households_per_slot"], plan["minutes_per_slot"]
    flats = live_households(round_id)
    assert flats, "a plan check needs live orders"
    # Every household with a live order is in exactly one slot.
    for flat in flats:
        holding = [n for n, s in enumerate(slots) if any(holds(g, flat) for g in s["groups"])]
        assert len(holding) == 1, (flat, holding)
    # Each slot's count is the households in it; none over the capacity unless it is one floor.
    for slot in slots:
        inside = [f for f in flats if any(holds(g, f) for g in slot["groups"])]
        assert slot["households"] == len(inside) > 0, slot
        if len(inside) > capacity:
            [group] = slot["groups"]
            assert group["floors"] is not None and group["floors"][0] == group["floors"][1], slot
    assert sum(s["households"] for s in slots) == len(flats)
    # Buildings in the given order, each building's groups together.
    walked = [g["building"] for s in slots for g in s["groups"]]
    runs = [b for n, b in enumerate(walked) if n == 0 or walked[n - 1] != b]
    with_orders = {f[0] for f in flats}
    assert runs == [b for b in building_order if b in with_orders]
    # Back to back from start_at, each minutes_per_slot long.
    assert at(slots[0]["starts_at"]) == start_at
    for slot, following in zip(slots, slots[1:] + [None]):
        assert at(slot["ends_at"]) - at(slot["starts_at"]) == timedelta(minutes=minutes)
        if following is not None:
            assert slot["ends_at"] == following["starts_at"]


def edit_body(plan: dict) -> dict:
    """The plan as a PUT body: the whole list, unchanged."""
    return {"version": plan["version"],
            "slots": [{"slot_id": s["slot_id"], "starts_at": s["starts_at"], "ends_at": s["ends_at"],
                       "groups": copy.deepcopy(s["groups"])} for s in plan["slots"]]}


def stored_plan(client, demo) -> dict:
    response = get(client, plan_path(demo), demo["tokens"]["liaison"])
    assert response.status_code == 200, response.body
    return response.json_body


# --- generating -----------------------------------------------------------------------------

# 1栋 has no units: six flats on floors 0 (room 2), 1, 2, 3 and 15. 3栋 has two units.
MIXED = [("1栋", "", "2"), ("1栋", "", "101"), ("1栋", "", "102"), ("1栋", "", "201"), ("1栋", "", "301"),
         ("1栋", "", "1502"),
         ("3栋", "1单元", "101"), ("3栋", "2单元", "101"), ("3栋", "2单元", "201"), ("3栋", "2单元", "301"),
         ("2栋", "", "101")]


def test_generate__splits_by_unit_then_floors_in_the_buildings_order(client, demo):
    order_flats(client, demo, MIXED)
    start = tomorrow_at_six_utc()
    building_order = ["3栋", "2栋", "1栋", "10栋"]

    plan = generated(client, demo, building_order=building_order, households_per_slot=3, minutes_per_slot=15,
                     start_at=start)

    check_plan(plan, demo["round_id"], start_at=start, building_order=building_order)
    # 3栋 (4 flats) is split by unit; 1栋 (6 flats, no units) by floors: 0–1 (3 flats), 2–15 (3 flats).
    assert [(s["label"], s["households"]) for s in plan["slots"]] == [
        ("3栋 1单元", 1), ("3栋 2单元", 3), ("2栋", 1), ("1栋 0–1层", 3), ("1栋 2–15层", 3)]
    assert plan["slots"][3]["groups"] == [{"building": "1栋", "unit": "", "floors": [0, 1]}]
    assert plan["slots"][2]["groups"] == [{"building": "2栋", "unit": None, "floors": None}]
    assert plan["version"] == 1 and plan["point"]["name"] == "北门配送点"
    assert all(s["announced_at"] is None for s in plan["slots"])
    assert stored_plan(client, demo) == plan


def test_generate__a_unit_too_big__is_split_into_floor_ranges_within_the_unit(client, demo):
    flats = [("10栋", "2单元", room) for room in ("101", "102", "201", "301", "1502")] + [("10栋", "1单元", "101")]
    order_flats(client, demo, flats)
    start = tomorrow_at_six_utc()

    plan = generated(client, demo, building_order=["10栋"], households_per_slot=2, start_at=start)

    check_plan(plan, demo["round_id"], start_at=start, building_order=["10栋"])
    # 1单元 (1 flat) fits whole; 2单元 (5 flats) goes by floors: 1 (2 flats), 2–3, 15. Floor 1 cannot join
    # 1单元's slot (1 + 2 > 2).
    assert [(s["label"], s["households"]) for s in plan["slots"]] == [
        ("10栋 1单元", 1), ("10栋 2单元 1层", 2), ("10栋 2单元 2–3层", 2), ("10栋 2单元 15层", 1)]


def test_generate__single_floor_bigger_than_a_slot__stays_whole_in_a_slot_of_its_own(client, demo):
    flats = [("3栋", "1单元", r) for r in ("101", "102", "103", "201")] + [("1栋", "", "101")]
    order_flats(client, demo, flats)
    start = tomorrow_at_six_utc()

    plan = generated(client, demo, building_order=["3栋", "1栋"], households_per_slot=2, start_at=start)

    check_plan(plan, demo["round_id"], start_at=start, building_order=["3栋", "1栋"])
    # Floor 1 of 3栋 1单元 has 3 flats for slots of 2: it is not split below a floor, and nothing joins it.
    assert [(s["label"], s["households"]) for s in plan["slots"]] == [
        ("3栋 1单元 1层", 3), ("3栋 1单元 2层、1栋", 2)]
    assert [s for s in plan["slots"] if s["households"] > 2] == [plan["slots"][0]]


def test_generate__small_groups_share_a_slot_while_they_fit(client, demo):
    order_flats(client, demo, [("1栋", "", "101"), ("2栋", "", "101"), ("3栋", "1单元", "101"),
                               ("10栋", "1单元", "101"), ("10栋", "2单元", "202")])
    start = tomorrow_at_six_utc()
    building_order = ["1栋", "2栋", "3栋", "10栋"]

    plan = generated(client, demo, building_order=building_order, households_per_slot=2, minutes_per_slot=10,
                     start_at=start)

    check_plan(plan, demo["round_id"], start_at=start, building_order=building_order)
    assert [(s["label"], s["households"]) for s in plan["slots"]] == [("1栋、2栋", 2), ("3栋", 1), ("10栋", 2)]
    assert [len(s["groups"]) for s in plan["slots"]] == [2, 1, 1]


def test_generate__a_household_with_two_live_orders__counts_once(client, demo):
    fair_share_off(demo["community_id"])
    [first, _] = order_flats(client, demo, [("1栋", "", "101"), ("2栋", "", "101")])
    again = place_order(client, first["token"], demo["round_id"], (demo["bundle_ids"][0], 1))
    assert again.status_code == 201, again.body
    assert len(orders_in(demo["round_id"])) == 3

    plan = generated(client, demo, building_order=["1栋", "2栋"], households_per_slot=2)

    assert [(s["label"], s["households"]) for s in plan["slots"]] == [("1栋、2栋", 2)]


def test_generate__cancelled_and_expired_orders__do_not_count(client, demo):
    placed = order_flats(client, demo, [("1栋", "", "101"), ("1栋", "", "102"), ("2栋", "", "101"),
                                        ("3栋", "1单元", "101")])
    cancelled = post(client, f"/api/orders/{placed[1]['order_id']}/cancel", {}, placed[1]["token"])
    assert cancelled.status_code == 200 and cancelled.json_body["status"] == "cancelled"
    expired = next(o for o in orders_in(demo["round_id"]) if o.order_id == placed[2]["order_id"])
    expired.update(actions=[Order.status.set("expired")])
    start = tomorrow_at_six_utc()

    # 2栋's only order expired: 2栋 may be left out of the order.
    plan = generated(client, demo, building_order=["3栋", "1栋"], households_per_slot=1, start_at=start)

    check_plan(plan, demo["round_id"], start_at=start, building_order=["3栋", "1栋"])
    assert [(s["label"], s["households"]) for s in plan["slots"]] == [("3栋", 1), ("1栋", 1)]


def test_generate__paid_and_unpaid_orders__both_count(client, demo):
    placed = order_flats(client, demo, [("1栋", "", "101"), ("1栋", "", "102")])
    confirmed = post(client, f"/api/rounds/{demo['round_id']}/payments/confirm",
                     {"order_ids": [placed[0]["order_id"]]}, demo["tokens"]["supplier"])
    assert confirmed.status_code == 200 and confirmed.json_body["confirmed"], confirmed.body

    plan = generated(client, demo, building_order=["1栋"], households_per_slot=5)

    assert [(s["label"], s["households"]) for s in plan["slots"]] == [("1栋", 2)]


def test_generate__again__replaces_the_plan_and_bumps_the_version(client, demo):
    order_flats(client, demo, [("1栋", "", "101"), ("2栋", "", "101")])
    first = generated(client, demo, building_order=["1栋", "2栋"], households_per_slot=1)
    start = tomorrow_at_six_utc() + timedelta(hours=2)

    second = generated(client, demo, building_order=["2栋", "1栋"], households_per_slot=2, minutes_per_slot=30,
                       start_at=start)

    assert (first["version"], second["version"]) == (1, 2)
    assert [s["label"] for s in second["slots"]] == ["2栋、1栋"]
    assert (second["minutes_per_slot"], second["households_per_slot"]) == (30, 2)
    assert at(second["slots"][0]["starts_at"]) == start
    assert stored_plan(client, demo) == second


def test_generate__by_the_information_officer__is_allowed(client, demo):
    order_flats(client, demo, [("1栋", "", "101")])
    response = generate(client, demo, building_order=["1栋"], token=demo["tokens"]["info_officer"])
    assert response.status_code == 201, response.body
    assert [s["label"] for s in response.json_body["slots"]] == ["1栋"]


# --- generating: bad input ----------------------------------------------------------------

@pytest.mark.parametrize("change, field, named", [
    ({"start_at": "past"}, "start_at", None),
    ({"building_order": ["3栋"]}, "building_order", "1栋"),          # 1栋 has orders
    ({"building_order": ["1栋", "3栋", "99栋"]}, "building_order", "99栋"),
    ({"building_order": ["1栋", "3栋", "1栋"]}, "building_order", None),
    ({"minutes_per_slot": 4}, "minutes_per_slot", None),
    ({"minutes_per_slot": 241}, "minutes_per_slot", None),
    ({"households_per_slot": 0}, "households_per_slot", None),
    ({"households_per_slot": 1001}, "households_per_slot", None),
])
def test_generate__bad_input__400_names_the_field_and_writes_nothing(client, demo, change, field, named):
    order_flats(client, demo, [("1栋", "", "101"), ("3栋", "1单元", "101")])
    body = {"start_at": clock.iso(tomorrow_at_six_utc()), "minutes_per_slot": 15, "households_per_slot": 3,
            "building_order": ["1栋", "3栋"], **change}
    if body["start_at"] == "past":
        body["start_at"] = clock.iso(clock.now() - timedelta(minutes=1))

    with writes() as written:
        response = post(client, plan_path(demo) + "/generate", body, demo["tokens"]["liaison"])

    error = error_of(response, 400, "bad_input")
    assert list(error["fields"]) == [field]
    assert all(" / " in m for m in error["fields"][field])  # Chinese / English
    if named:
        assert named in error["message"] and named in error["message_en"]
    assert written == []
    error_of(get(client, plan_path(demo), demo["tokens"]["liaison"]), 404, "no_slot_plan")


# --- editing --------------------------------------------------------------------------------

@pytest.fixture
def three_slots(client, demo) -> dict:
    """1栋, 2栋 and 3栋 one flat each, one slot each (15 minutes from tomorrow 14:00 Beijing)."""
    placed = order_flats(client, demo, [("1栋", "", "101"), ("2栋", "", "101"), ("3栋", "1单元", "101")])
    plan = generated(client, demo, building_order=["1栋", "2栋", "3栋"], households_per_slot=1)
    assert [s["label"] for s in plan["slots"]] == ["1栋", "2栋", "3栋"]
    return {**plan, "placed": placed}


def test_edit__swap_two_slots_times__keeps_ids_and_reorders(client, demo, three_slots):
    body = edit_body(three_slots)
    first, second = body["slots"][0], body["slots"][1]
    (first["starts_at"], first["ends_at"]), (second["starts_at"], second["ends_at"]) = (
        (second["starts_at"], second["ends_at"]), (first["starts_at"], first["ends_at"]))

    response = put(client, plan_path(demo), body, demo["tokens"]["liaison"])

    assert response.status_code == 200, response.body
    plan = response.json_body
    assert plan["version"] == 2
    assert [s["label"] for s in plan["slots"]] == ["2栋", "1栋", "3栋"]
    old = three_slots["slots"]
    assert [s["slot_id"] for s in plan["slots"]] == [old[1]["slot_id"], old[0]["slot_id"], old[2]["slot_id"]]
    assert [(s["starts_at"], s["ends_at"]) for s in plan["slots"]] == [(s["starts_at"], s["ends_at"]) for s in old]
    assert [s["households"] for s in plan["slots"]] == [1, 1, 1]
    assert stored_plan(client, demo) == plan


def test_edit__move_a_slot_later__only_that_slot_changes(client, demo, three_slots):
    body = edit_body(three_slots)
    later = at(three_slots["slots"][2]["ends_at"]) + timedelta(hours=1)
    body["slots"][0].update(starts_at=clock.iso(later), ends_at=clock.iso(later + timedelta(minutes=20)))

    response = put(client, plan_path(demo), body, demo["tokens"]["info_officer"])

    assert response.status_code == 200, response.body
    plan = response.json_body
    assert [s["label"] for s in plan["slots"]] == ["2栋", "3栋", "1栋"]
    assert (at(plan["slots"][2]["starts_at"]), at(plan["slots"][2]["ends_at"])) == (
        later, later + timedelta(minutes=20))
    assert plan["slots"][:2] == three_slots["slots"][1:]


def test_edit__regrouping_two_slots_into_one__is_allowed_when_everyone_is_covered(client, demo, three_slots):
    body = edit_body(three_slots)
    merged = body["slots"].pop(1)
    body["slots"][0]["groups"] += merged["groups"]

    response = put(client, plan_path(demo), body, demo["tokens"]["liaison"])

    assert response.status_code == 200, response.body
    assert [(s["label"], s["households"]) for s in response.json_body["slots"]] == [("1栋、2栋", 2), ("3栋", 1)]


def _overlap(body, now):
    second = body["slots"][1]
    second["starts_at"] = clock.iso(at(body["slots"][0]["starts_at"]) + timedelta(minutes=5))
    second["ends_at"] = clock.iso(at(second["starts_at"]) + timedelta(minutes=15))
    return "overlap", "1"


def _in_the_past(body, now):
    body["slots"][0].update(starts_at=clock.iso(now - timedelta(hours=1)),
                            ends_at=clock.iso(now - timedelta(minutes=45)))
    return "past", "0"


def _ends_before_it_starts(body, now):
    body["slots"][0]["ends_at"] = clock.iso(at(body["slots"][0]["starts_at"]) - timedelta(minutes=5))
    return "ends", "0"


def _ends_when_it_starts(body, now):
    body["slots"][0]["ends_at"] = body["slots"][0]["starts_at"]
    return "ends", "0"


def _household_left_out(body, now):
    body["slots"].pop(2)
    return "3栋 1单元 101", None


def _household_in_two_slots(body, now):
    body["slots"][2]["groups"].append({"building": "1栋", "unit": None, "floors": None})
    return "1栋 101", None


def _unit_group_overlapping_a_whole_building(body, now):
    body["slots"][0]["groups"].append({"building": "3栋", "unit": "1单元", "floors": [1, 1]})
    return "3栋 1单元 101", None


@pytest.mark.parametrize("spoil", [_overlap, _in_the_past, _ends_before_it_starts, _ends_when_it_starts,
                                   _household_left_out, _household_in_two_slots,
                                   _unit_group_overlapping_a_whole_building])
def test_edit__bad_plan__400_and_nothing_changes(client, demo, three_slots, spoil):
    body = edit_body(three_slots)
    what, slot_index = spoil(body, clock.now())

    with writes() as written:
        response = put(client, plan_path(demo), body, demo["tokens"]["liaison"])

    error = error_of(response, 400, "bad_input")
    assert list(error["fields"]) == ["slots"]
    if slot_index is not None:
        assert list(error["fields"]["slots"]) == [slot_index]
    else:
        assert what in error["message"] and what in error["message_en"]  # names the flat
    assert written == []
    assert stored_plan(client, demo) == {k: v for k, v in three_slots.items() if k != "placed"}


def test_edit__stale_version__409_plan_changed_and_nothing_changes(client, demo, three_slots):
    first = put(client, plan_path(demo), edit_body(three_slots), demo["tokens"]["liaison"])
    assert first.status_code == 200 and first.json_body["version"] == 2
    stale = edit_body(three_slots)  # still version 1
    stale["slots"].reverse()

    with writes() as written:
        response = put(client, plan_path(demo), stale, demo["tokens"]["info_officer"])

    error_of(response, 409, "plan_changed")
    assert written == []
    assert stored_plan(client, demo) == first.json_body


def test_edit__a_moved_slot__loses_announced_at_the_others_keep_it(client, demo, three_slots):
    announce_path = plan_path(demo) + "/{}/announce"
    for slot in three_slots["slots"][:2]:
        response = post(client, announce_path.format(slot["slot_id"]), {}, demo["tokens"]["liaison"])
        assert response.status_code == 201, response.body
    announced = stored_plan(client, demo)
    assert [s["announced_at"] is not None for s in announced["slots"]] == [True, True, False]
    body = edit_body(announced)
    later = at(announced["slots"][2]["ends_at"]) + timedelta(minutes=30)
    body["slots"][1].update(starts_at=clock.iso(later), ends_at=clock.iso(later + timedelta(minutes=15)))

    plan = put(client, plan_path(demo), body, demo["tokens"]["liaison"]).json_body

    by_id = {s["slot_id"]: s for s in plan["slots"]}
    first_id, moved_id = announced["slots"][0]["slot_id"], announced["slots"][1]["slot_id"]
    assert by_id[first_id]["announced_at"] == announced["slots"][0]["announced_at"]
    assert by_id[moved_id]["announced_at"] is None
    assert [s["slot_id"] for s in plan["slots"]][-1] == moved_id


def test_edit__plan_sent_back_as_returned_after_a_start_with_milliseconds__keeps_announced_at(client, demo):
    order_flats(client, demo, [("1栋", "", "101")])
    start = tomorrow_at_six_utc() + timedelta(milliseconds=500)
    body = {"start_at": start.isoformat().replace("+00:00", "Z"), "minutes_per_slot": 15,
            "households_per_slot": 3, "building_order": ["1栋"]}
    plan = post(client, plan_path(demo) + "/generate", body, demo["tokens"]["liaison"]).json_body
    slot_id = plan["slots"][0]["slot_id"]
    assert post(client, plan_path(demo) + f"/{slot_id}/announce", {}, demo["tokens"]["liaison"]).status_code == 201
    announced = stored_plan(client, demo)

    again = put(client, plan_path(demo), edit_body(announced), demo["tokens"]["liaison"])

    assert again.status_code == 200, again.body
    assert again.json_body["slots"][0]["announced_at"] == announced["slots"][0]["announced_at"]


def test_edit__before_any_plan__404_no_slot_plan(client, demo):
    start = tomorrow_at_six_utc()
    body = {"version": 1, "slots": [{"starts_at": clock.iso(start), "ends_at": clock.iso(start + timedelta(minutes=5)),
                                     "groups": [{"building": "1栋"}]}]}
    error_of(put(client, plan_path(demo), body, demo["tokens"]["liaison"]), 404, "no_slot_plan")


# --- who may -------------------------------------------------------------------------------

def test_read__before_any_plan__404_no_slot_plan(client, demo):
    error_of(get(client, plan_path(demo), demo["tokens"]["volunteer"]), 404, "no_slot_plan")


def test_volunteer__reads_the_plan_but_may_not_generate_or_edit(client, demo, three_slots):
    seen = get(client, plan_path(demo), demo["tokens"]["volunteer"])
    assert seen.status_code == 200 and seen.json_body["version"] == 1

    with writes() as written:
        refused_generate = generate(client, demo, building_order=["1栋", "2栋", "3栋"],
                                    token=demo["tokens"]["volunteer"])
        refused_edit = put(client, plan_path(demo), edit_body(three_slots), demo["tokens"]["volunteer"])

    error_of(refused_generate, 403, "wrong_role")
    error_of(refused_edit, 403, "wrong_role")
    assert written == []


def test_resident__403_on_every_slot_route(client, demo, three_slots):
    resident = three_slots["placed"][0]["token"]
    assert get(client, plan_path(demo), resident).status_code == 403
    assert generate(client, demo, building_order=["1栋", "2栋", "3栋"], token=resident).status_code == 403
    assert put(client, plan_path(demo), edit_body(three_slots), resident).status_code == 403
    assert stored_plan(client, demo)["version"] == 1


def test_another_communitys_liaison__404_on_every_slot_route(client, demo, three_slots):
    other = create_community(demo["sub_district_id"], "和平里小区")
    stranger = bootstrap.create_staff("liaison", other["community_id"])
    stranger_volunteer = bootstrap.create_staff("volunteer", other["community_id"])

    with writes() as written:
        error_of(get(client, plan_path(demo), stranger), 404, "not_found")
        error_of(get(client, plan_path(demo), stranger_volunteer), 404, "not_found")
        error_of(generate(client, demo, building_order=["1栋", "2栋", "3栋"], token=stranger), 404, "not_found")
        error_of(put(client, plan_path(demo), edit_body(three_slots), stranger), 404, "not_found")

    assert written == []
    assert stored_plan(client, demo)["version"] == 1


def test_round_not_serving_the_community__404(client, demo):
    other = create_community(demo["sub_district_id"], "和平里小区")
    elsewhere = create_round(demo["tokens"]["supplier"], [other["community_id"]])
    order_flats(client, demo, [("1栋", "", "101")])

    with writes() as written:
        error_of(generate(client, demo, building_order=["1栋"], round_id=elsewhere["round_id"]), 404, "not_found")
        error_of(get(client, plan_path(demo, elsewhere["round_id"]), demo["tokens"]["liaison"]), 404, "not_found")

    assert written == []


def test_plan__carries_each_slots_group_chat_texts_as_its_notices_will(client, demo):
    from api import clock as clk
    from tests.api.helpers import create_round, fair_share_off, place_order, post, register
    fair_share_off(demo["community_id"])
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    for building, room, phone in (("1栋", "101", "13911110101"), ("2栋", "201", "13911110201")):
        household = register(client, demo["join_key"], building=building, room=room, phone=phone)
        assert place_order(client, household["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1)).status_code == 201
    base = f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}"
    plan = post(client, f"{base}/slots/generate", {
        "start_at": clk.iso(clk.now() + timedelta(hours=2)), "minutes_per_slot": 20, "households_per_slot": 5,
        "building_order": ["2栋", "1栋"]}, demo["tokens"]["liaison"]).json_body
    [slot] = plan["slots"]
    assert [t["building"] for t in slot["texts"]] == ["2栋", "1栋"]
    sent = post(client, f"{base}/slots/{slot['slot_id']}/announce", {}, demo["tokens"]["liaison"]).json_body["notices"]
    assert [n["text"] for n in sent] == [t["text"] for t in slot["texts"]]
