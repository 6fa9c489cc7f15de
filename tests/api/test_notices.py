"""通知: a slot announced to its buildings (取货通知), the goods arrived (货已到), a resident's poll of
their building's notices, and what `GET /api/orders/mine` shows of them (api/notices.py, api/orders.py).

A notice belongs to one building: residents of that building see it, others do not, and a
pending or removed phone sees nothing. A poll is one Query whatever the community's size;
`GET /api/orders/mine` reads the slot plans and arrivals in one batch, not per order.
"""
import itertools
import re
from collections import Counter
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine

from api import bootstrap, clock, communities, ids
from api.models import Household, Notice
from tests.api.helpers import (
    create_community, create_round, error_of, fair_share_off, get, place_order, post, register, writes,
)

_PHONES = itertools.count(1)
PHONE = re.compile(r"1[3-9][0-9]{9}")




# --- helpers ------------------------------------------------------------------------------

def tomorrow_at_six_utc():
    """06:00 UTC tomorrow: 14:00 in Beijing, always in the future."""
    return (clock.now() + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)


def plan_path(community_id: str, round_id: str) -> str:
    return f"/api/communities/{community_id}/rounds/{round_id}"


def order_flat(client, join_key, round_id, bundle_id, building, unit, room) -> dict:
    phone = f"137{next(_PHONES):08d}"
    household = register(client, join_key, building=building, unit=unit, room=room, phone=phone)
    response = place_order(client, household["token"], round_id, (bundle_id, 1))
    assert response.status_code == 201, response.body
    return {**household, "order": response.json_body, "phone": phone}


def generate(client, demo, round_id, building_order, households_per_slot, minutes_per_slot=20):
    response = post(client, plan_path(demo["community_id"], round_id) + "/slots/generate",
                    {"start_at": clock.iso(tomorrow_at_six_utc()), "minutes_per_slot": minutes_per_slot,
                     "households_per_slot": households_per_slot, "building_order": building_order},
                    demo["tokens"]["liaison"])
    assert response.status_code == 201, response.body
    return response.json_body


def announce(client, demo, round_id, slot_id, token=None):
    return post(client, plan_path(demo["community_id"], round_id) + f"/slots/{slot_id}/announce", {},
                token or demo["tokens"]["liaison"])


def arrive(client, community_id, round_id, token, note=None):
    return post(client, plan_path(community_id, round_id) + "/arrival", {} if note is None else {"note": note}, token)


def poll(client, token, since=None):
    path = "/api/notices/mine" + (f"?since={quote(since, safe='')}" if since is not None else "")
    return get(client, path, token)


def polled(client, token, since=None) -> dict:
    response = poll(client, token, since)
    assert response.status_code == 200, response.body
    return response.json_body


@pytest.fixture
def residents(client, demo) -> dict:
    """One household with an order in each of 1栋, 2栋, 3栋 (1单元 and 2单元): by name."""
    flats = {"1栋": ("1栋", "", "101"), "2栋": ("2栋", "", "101"), "3栋-1": ("3栋", "1单元", "101"),
             "3栋-2": ("3栋", "2单元", "101")}
    return {name: order_flat(client, demo["join_key"], demo["round_id"], demo["bundle_ids"][1], *flat)
            for name, flat in flats.items()}


@pytest.fixture
def plan(client, demo, residents) -> dict:
    """Slots of 3 from tomorrow 14:00 Beijing, 20 minutes each: 「3栋、1栋」 14:00–14:20, then 「2栋」."""
    made = generate(client, demo, demo["round_id"], ["3栋", "1栋", "2栋"], households_per_slot=3)
    assert [s["label"] for s in made["slots"]] == ["3栋、1栋", "2栋"]
    return made


# --- announcing a slot ----------------------------------------------------------------------

def test_announce__one_notice_per_building_of_the_slot_with_the_group_chat_text(client, demo, residents, plan):
    slot = plan["slots"][0]

    response = announce(client, demo, demo["round_id"], slot["slot_id"])

    assert response.status_code == 201, response.body
    made = response.json_body["notices"]
    assert sorted(n["building"] for n in made) == ["1栋", "3栋"]
    by_building = {n["building"]: n for n in made}
    assert by_building["3栋"]["text"] == "【取货通知】3栋 14:00–14:20 北门配送点 请凭取货码取货，保持2米间距"
    assert by_building["1栋"]["text"] == "【取货通知】1栋 14:00–14:20 北门配送点 请凭取货码取货，保持2米间距"
    for notice in made:
        assert (notice["kind"], notice["round_id"], notice["point"]) == ("slot", demo["round_id"], "北门配送点")
        assert (notice["starts_at"], notice["ends_at"]) == (slot["starts_at"], slot["ends_at"])
        assert notice["round_name"] and notice["created_at"] and notice["notice_id"]
        assert not PHONE.search(notice["text"])
        assert not any(r["phone"] in notice["text"] for r in residents.values())
    stored = get(client, plan_path(demo["community_id"], demo["round_id"]) + "/slots", demo["tokens"]["liaison"])
    assert [s["announced_at"] is not None for s in stored.json_body["slots"]] == [True, False]


def test_announce__unit_and_floor_groups__name_them_in_the_text(client, demo):
    for room in ("101", "201"):
        order_flat(client, demo["join_key"], demo["round_id"], demo["bundle_ids"][1], "10栋", "2单元", room)
    made = generate(client, demo, demo["round_id"], ["10栋"], households_per_slot=1, minutes_per_slot=15)
    assert [s["label"] for s in made["slots"]] == ["10栋 2单元 1层", "10栋 2单元 2层"]

    [notice] = announce(client, demo, demo["round_id"], made["slots"][1]["slot_id"]).json_body["notices"]

    assert notice["building"] == "10栋"
    assert notice["text"] == "【取货通知】10栋 2单元 2层 14:15–14:30 北门配送点 请凭取货码取货，保持2米间距"


def test_announce__a_resident_of_the_building_sees_it_another_building_does_not(client, demo, residents, plan):
    announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"])

    seen = {name: polled(client, r["token"])["notices"] for name, r in residents.items()}

    assert [n["building"] for n in seen["1栋"]] == ["1栋"]
    assert [n["building"] for n in seen["3栋-1"]] == [n["building"] for n in seen["3栋-2"]] == ["3栋"]
    assert seen["2栋"] == []
    assert seen["1栋"][0]["text"].startswith("【取货通知】1栋 14:00–14:20")


def test_announce__by_a_volunteer_403_unknown_slot_404_and_nothing_written(client, demo, residents, plan):
    with writes() as written:
        error_of(announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"], demo["tokens"]["volunteer"]),
                 403, "wrong_role")
        error_of(announce(client, demo, demo["round_id"], ids.new_id()), 404, "not_found")
        error_of(announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"],
                          residents["1栋"]["token"]), 403, "wrong_role")
    assert written == []
    assert polled(client, residents["1栋"]["token"])["notices"] == []


# --- polling ---------------------------------------------------------------------------------

def test_poll__since_the_cursor__returns_only_newer_notices(client, demo, residents, plan):
    token = residents["1栋"]["token"]
    empty = polled(client, token)
    assert empty["notices"] == [] and empty["cursor"]
    announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"])

    first = polled(client, token, since=empty["cursor"])
    assert [n["kind"] for n in first["notices"]] == ["slot"]
    arrived = arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["liaison"])
    assert arrived.status_code == 201, arrived.body

    second = polled(client, token, since=first["cursor"])
    assert [n["kind"] for n in second["notices"]] == ["arrival"]
    third = polled(client, token, since=second["cursor"])
    assert third == {"notices": [], "cursor": second["cursor"]}
    # Without since: everything of the last 7 days, oldest first.
    assert [n["kind"] for n in polled(client, token)["notices"]] == ["slot", "arrival"]


@pytest.mark.parametrize("cursor", ["garbage", "NOTICE#", "NOTICE#2026-01-01T00:00:00Z#not-a-ulid",
                                    "ORDER#2026-01-01T00:00:00.000000Z"])
def test_poll__bad_cursor__400_naming_since(client, demo, residents, cursor):
    error = error_of(poll(client, residents["1栋"]["token"], since=cursor), 400, "bad_input")
    assert list(error["fields"]) == ["since"]


def test_poll__staff_403(client, demo):
    error_of(poll(client, demo["tokens"]["liaison"]), 403, "wrong_role")


def test_poll__pending_phone_404_not_a_member_removed_phone_401(client, demo, residents, plan):
    announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"])
    member = residents["1栋"]
    pending = register(client, demo["join_key"], building="1栋", room="101", phone="13600000001")
    assert pending["membership"] == "pending"
    removed = register(client, demo["join_key"], building="1栋", room="101", phone="13600000002")
    approved = post(client, f"/api/households/mine/members/{removed['member_id']}/approve", {}, member["token"])
    assert approved.status_code == 200, approved.body
    assert len(polled(client, removed["token"])["notices"]) == 1  # a member while approved
    gone = post(client, f"/api/households/mine/members/{removed['member_id']}/remove", {}, member["token"])
    assert gone.status_code == 200, gone.body

    refused = poll(client, pending["token"])
    error_of(refused, 404, "not_a_member")
    assert "notices" not in refused.json_body
    error_of(poll(client, removed["token"]), 401, "membership_ended")
    error_of(poll(client, removed["token"], since="NOTICE#2026-01-01T00:00:00Z"), 401, "membership_ended")
    assert len(polled(client, member["token"])["notices"]) == 1


def _community_of(client, demo, size: int) -> dict:
    """A community of `size` households: one registered through the API in 1栋 (the one that polls), the
    rest written straight into the table; a round serving it, with 货已到 told to every building, and
    (in a big one) many notices of other buildings."""
    made = create_community(demo["sub_district_id"], f"小区{size}")
    community = communities.get(made["community_id"])
    resident = register(client, made["join_key"], building="1栋", room="9901", phone="13500000001")
    now = clock.now()
    layout = [(b["name"], b["units"]) for b in bootstrap.DEMO_BUILDINGS]
    with Household.batch_write() as batch:
        for n in range(size - 1):
            building, units = layout[n % len(layout)]
            unit = units[n % len(units)] if units else ""
            room = str(101 + n)
            flat_key = communities.flat_key(community, building, unit, room)
            batch.save(Household(f"COMMUNITY#{made['community_id']}", f"HOUSEHOLD#{flat_key}",
                                 household_id=ids.new_id(), community_id=made["community_id"], flat_key=flat_key,
                                 building=building, unit=unit, room=room, created_at=now))
    return {**made, "resident": resident, "liaison": bootstrap.create_staff("liaison", made["community_id"])}


def test_poll__dynamodb_calls_are_the_same_for_10_and_1000_households(client, demo, dynamodb_calls):
    small = _community_of(client, demo, 10)
    big = _community_of(client, demo, 1000)
    rnd = create_round(demo["tokens"]["supplier"], [small["community_id"], big["community_id"]])
    for place in (small, big):
        arrived = arrive(client, place["community_id"], rnd["round_id"], place["liaison"])
        assert arrived.status_code == 201 and len(arrived.json_body["notices"]) == 4, arrived.body
    # Many more notices in the big community's other buildings (2栋, 3栋, 10栋: positions 2 to 4).
    now = clock.now()
    with Notice.batch_write() as batch:
        for n in range(300):
            position, building = [(2, "2栋"), (3, "3栋"), (4, "10栋")][n % 3]
            notice_id = ids.new_id()
            batch.save(Notice(f"NOTICE#{big['community_id']}#B{position:03d}",
                              f"NOTICE#{clock.iso(now)}#{notice_id}", notice_id=notice_id, notice_kind="slot",
                              round_id=rnd["round_id"], round_name="测试团购", building=building,
                              point="南门配送点", text=f"【取货通知】{building}", created_at=now,
                              expires_at=now + timedelta(days=30)))
    assert sum(1 for _ in Household.query(f"COMMUNITY#{big['community_id']}",
                                          Household.sk.startswith("HOUSEHOLD#"))) == 1000

    counted = {}
    for name, place in (("small", small), ("big", big)):
        dynamodb_calls.clear()
        body = polled(client, place["resident"]["token"])
        counted[name] = Counter(dynamodb_calls)
        assert [(n["kind"], n["building"]) for n in body["notices"]] == [("arrival", "1栋")]

    assert counted["small"] == counted["big"]
    # The flat (is the caller still a member?), then the building's notices: one Query.
    assert counted["big"] == Counter({"GetItem": 1, "Query": 1})


# --- 货已到 ----------------------------------------------------------------------------------

def test_arrival__notifies_every_building_once(client, demo, residents):
    response = arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["info_officer"], note="北门")

    assert response.status_code == 201, response.body
    body = response.json_body
    assert body["arrived_at"]
    made = body["notices"]
    assert sorted(n["building"] for n in made) == sorted(b["name"] for b in bootstrap.DEMO_BUILDINGS)
    assert {n["kind"] for n in made} == {"arrival"}
    for notice in made:
        assert "货已到" in notice["text"] and notice["building"] in notice["text"]
        assert "保持2米间距" in notice["text"] and not PHONE.search(notice["text"])
    for name, resident in residents.items():
        [seen] = polled(client, resident["token"])["notices"]
        assert seen["kind"] == "arrival" and seen["building"] == name.split("-")[0]


def test_arrival__repeat__returns_the_first_arrived_at_and_makes_no_new_notices(client, demo, residents):
    first = arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["liaison"]).json_body

    with writes() as written, time_machine.travel(clock.now() + timedelta(minutes=5), tick=False):
        again = arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["info_officer"])

    assert again.status_code in (200, 201), again.body
    assert again.json_body == {"arrived_at": first["arrived_at"], "notices": []}
    assert written == []
    assert len(polled(client, residents["1栋"]["token"])["notices"]) == 1


def test_arrival__volunteer_403_other_community_404_nothing_written(client, demo, residents):
    other = create_community(demo["sub_district_id"], "和平里小区")
    stranger = bootstrap.create_staff("liaison", other["community_id"])
    with writes() as written:
        error_of(arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["volunteer"]), 403,
                 "wrong_role")
        error_of(arrive(client, demo["community_id"], demo["round_id"], stranger), 404, "not_found")
    assert written == []
    assert polled(client, residents["1栋"]["token"])["notices"] == []


# --- what a household's orders show ----------------------------------------------------------

def test_orders_mine__shows_the_pickup_slot_and_arrived_at(client, demo, residents, plan):
    before = get(client, "/api/orders/mine", residents["1栋"]["token"]).json_body["orders"]
    assert [o["arrived_at"] for o in before] == [None]
    arrived = arrive(client, demo["community_id"], demo["round_id"], demo["tokens"]["liaison"]).json_body

    seen = {name: get(client, "/api/orders/mine", r["token"]).json_body["orders"] for name, r in residents.items()}

    first, second = plan["slots"]
    expected = {"1栋": first, "3栋-1": first, "3栋-2": first, "2栋": second}
    for name, [order] in seen.items():
        slot = expected[name]
        assert order["order_id"] == residents[name]["order"]["order_id"]
        assert order["arrived_at"] == arrived["arrived_at"]
        assert {k: order["pickup_slot"][k] for k in ("slot_id", "starts_at", "ends_at", "label")} == {
            k: slot[k] for k in ("slot_id", "starts_at", "ends_at", "label")}


def test_orders_mine__without_a_plan_or_arrival__pickup_slot_and_arrived_at_are_null(client, demo, residents):
    [order] = get(client, "/api/orders/mine", residents["2栋"]["token"]).json_body["orders"]
    assert (order["pickup_slot"], order["arrived_at"]) == (None, None)


def test_orders_mine__pickup_slot_names_the_distribution_point(client, demo, residents, plan):
    [order] = get(client, "/api/orders/mine", residents["1栋"]["token"]).json_body["orders"]
    assert order["pickup_slot"]["point"]["name"] == "北门配送点"


def test_orders_mine__one_or_three_orders__the_same_dynamodb_calls(client, demo, dynamodb_calls):
    fair_share_off(demo["community_id"])
    supplier, bundle = demo["tokens"]["supplier"], demo["bundle_ids"][1]
    one = order_flat(client, demo["join_key"], demo["round_id"], bundle, "1栋", "", "101")
    three = order_flat(client, demo["join_key"], demo["round_id"], bundle, "2栋", "", "101")
    round_ids = [demo["round_id"]]
    for _ in range(2):
        rnd = create_round(supplier, [demo["community_id"]])
        response = place_order(client, three["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1))
        assert response.status_code == 201, response.body
        round_ids.append(rnd["round_id"])
    plans = {rid: generate(client, demo, rid, ["1栋", "2栋"], households_per_slot=1) for rid in round_ids}
    arrivals = {rid: arrive(client, demo["community_id"], rid, demo["tokens"]["liaison"]).json_body["arrived_at"]
                for rid in round_ids[:2]}

    counted = {}
    for name, household in (("one", one), ("three", three)):
        dynamodb_calls.clear()
        response = get(client, "/api/orders/mine", household["token"])
        counted[name] = Counter(dynamodb_calls)
        assert response.status_code == 200, response.body
        counted[name + "_orders"] = response.json_body["orders"]

    assert len(counted["one_orders"]) == 1 and len(counted["three_orders"]) == 3
    assert counted["one"] == counted["three"] == Counter({"GetItem": 1, "Query": 1, "BatchGetItem": 1})
    for order in counted["three_orders"]:
        rid = order["round_id"]
        # Each round's own plan and arrival; only the first two rounds have arrived.
        [slot] = [s for s in plans[rid]["slots"] if s["label"] == "2栋"]
        assert order["pickup_slot"]["slot_id"] == slot["slot_id"]
        assert order["arrived_at"] == arrivals.get(rid)


# --- large communities and races ------------------------------------------------------------

def test_announce__plan_edited_meanwhile__409_plan_changed(client, demo, residents, plan, monkeypatch):
    """The edit lands between announce's read of the plan and its write (as if another liaison saved it)."""
    from api import slots
    from api.models import SlotPlan
    read = slots.get

    def read_then_someone_edits(community_id, round_id):
        found = read(community_id, round_id)
        stored = read(community_id, round_id)
        stored.update(actions=[SlotPlan.version.set(int(stored.version) + 1)])
        return found

    monkeypatch.setattr(slots, "get", read_then_someone_edits)
    with writes() as written:
        response = announce(client, demo, demo["round_id"], plan["slots"][0]["slot_id"])
    monkeypatch.undo()

    assert written == ["COMMUNITY"]  # only the simulated edit
    assert polled(client, residents["1栋"]["token"])["notices"] == []
    error_of(response, 409, "plan_changed")



def _community_of_buildings(demo, count: int) -> dict:
    community = communities.create(demo["sub_district_id"], "大型小区",
                                   [{"name": f"{n}号楼"} for n in range(1, count + 1)], {"name": "东门配送点", "note": ""})
    return {"community": community, "liaison": bootstrap.create_staff("liaison", community.community_id)}


def test_arrival__community_of_100_buildings__notifies_every_building(client, demo):
    place = _community_of_buildings(demo, 100)
    rnd = create_round(demo["tokens"]["supplier"], [place["community"].community_id])

    response = arrive(client, place["community"].community_id, rnd["round_id"], place["liaison"])

    assert response.status_code == 201, response.body
    assert len(response.json_body["notices"]) == 100


def test_announce__slot_of_100_buildings__one_notice_each(client, demo):
    from api.models import Order, OrderLine
    place = _community_of_buildings(demo, 100)
    community = place["community"]
    rnd = create_round(demo["tokens"]["supplier"], [community.community_id])
    now = clock.now()
    # One live order per building, written straight into the round's partition (Order's key pattern): 100
    # orders through the API would only make the test slow.
    with Order.batch_write() as batch:
        for building in community.buildings:
            order_id = ids.new_id()
            flat_key = communities.flat_key(community, building.name, "", "101")
            batch.save(Order(f"ROUND#{rnd['round_id']}", f"ORDER#{community.community_id}#{flat_key}#{order_id}",
                             order_id=order_id, round_id=rnd["round_id"], round_name="测试团购",
                             payment_deadline=now + timedelta(days=1), community_id=community.community_id,
                             household_id=ids.new_id(), building=building.name, room="101",
                             lines=[OrderLine(bundle_id=rnd["bundle_ids"][1], name="鸡蛋套餐", qty=1, price_fen=2350)],
                             total_fen=2350, status="placed", pickup_code=f"{order_id[-6:]}", created_at=now))
    path = plan_path(community.community_id, rnd["round_id"])
    made = post(client, path + "/slots/generate",
                {"start_at": clock.iso(tomorrow_at_six_utc()), "minutes_per_slot": 60, "households_per_slot": 1000,
                 "building_order": [b.name for b in community.buildings]}, place["liaison"])
    assert made.status_code == 201, made.body
    [slot] = made.json_body["slots"]
    assert slot["households"] == 100

    response = post(client, path + f"/slots/{slot['slot_id']}/announce", {}, place["liaison"])

    assert response.status_code == 201, response.body
    assert len(response.json_body["notices"]) == 100
