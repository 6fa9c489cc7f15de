"""POST /api/orders and GET /api/orders/mine.

The demo round (open now) has 米面油套餐 ¥128.00 stock 60 limit 2, 蔬菜套餐 ¥68.00 stock 100 limit 3 and
肉蛋奶套餐 ¥158.00 stock 40 limit 1. The `small` round has 大米套餐 ¥50.00 stock 3 and 鸡蛋套餐 ¥23.50
stock 10, both limit 5, so "sold out" is reachable. Every refusal is checked to have written nothing.
"""
import re
from datetime import timedelta

import pytest
import time_machine

from api import clock, rounds
from tests.api.helpers import (
    create_round, error_of, fair_share_off, family_phone, get, new_key, order_body, orders_in, place_order, post, register, stock_left, writes,
)

RICE_OIL, VEG, MEAT = 0, 1, 2   # positions in demo["bundle_ids"]
RICE, EGGS = 0, 1              # positions in small["bundle_ids"]


@pytest.fixture
def resident(client, demo):
    return register(client, demo["join_key"], building="1栋", room="101", phone="13812341234")


@pytest.fixture
def neighbour(client, demo):
    return register(client, demo["join_key"], building="2栋", room="201", phone="13900001111")


@pytest.fixture
def small(demo):
    return create_round(demo["tokens"]["supplier"], [demo["community_id"]])


def bundle(demo, position):
    return demo["bundle_ids"][position]


def mine(client, token) -> list[dict]:
    response = get(client, "/api/orders/mine", token)
    assert response.status_code == 200, response.body
    return response.json_body["orders"]


# --- placing ------------------------------------------------------------------

def test_order__placed__is_201_with_status_total_and_pickup_code(client, demo, resident):
    response = place_order(client, resident["token"], demo["round_id"],
                           (bundle(demo, RICE_OIL), 1), (bundle(demo, VEG), 2))

    assert response.status_code == 201, response.body
    order = response.json_body
    assert order["order_id"]
    assert order["status"] == "placed"
    assert order["total_fen"] == 12800 * 1 + 6800 * 2
    assert re.fullmatch(r"[0-9]{6}", order["pickup_code"])
    assert order["round_id"] == demo["round_id"]
    assert order["lines"] == [
        {"bundle_id": bundle(demo, RICE_OIL), "name": "米面油套餐", "qty": 1, "price_fen": 12800},
        {"bundle_id": bundle(demo, VEG), "name": "蔬菜套餐", "qty": 2, "price_fen": 6800},
    ]


def test_order__placed__takes_exactly_its_quantities_from_stock(client, demo, resident):
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1), (bundle(demo, VEG), 2))

    assert stock_left(demo["round_id"]) == {bundle(demo, RICE_OIL): 59, bundle(demo, VEG): 98, bundle(demo, MEAT): 40}
    [stored] = orders_in(demo["round_id"])
    assert stored.household_id == resident["household_id"]
    assert (stored.building, stored.unit, stored.room, stored.phone) == ("1栋", "", "101", "13812341234")


def test_order__stock_left__is_what_residents_then_see_in_the_round(client, demo, resident):
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, MEAT), 1))

    listed = get(client, f"/api/rounds?community_id={demo['community_id']}", resident["token"]).json_body
    assert [b["stock_left"] for b in listed["rounds"][0]["bundles"]] == [60, 100, 39]


def test_order__client_supplied_total__is_refused_as_unknown_field(client, demo, resident):
    body = {**order_body(demo["round_id"], (bundle(demo, RICE_OIL), 1)), "total_fen": 1}

    response = post(client, "/api/orders", body, resident["token"], idempotency_key=new_key())

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"total_fen"}
    assert orders_in(demo["round_id"]) == []


def test_order__multi_line__decrements_each_bundle(client, demo, resident):
    response = place_order(client, resident["token"], demo["round_id"],
                           (bundle(demo, RICE_OIL), 2), (bundle(demo, VEG), 3), (bundle(demo, MEAT), 1))

    assert response.status_code == 201
    assert response.json_body["total_fen"] == 12800 * 2 + 6800 * 3 + 15800 * 1
    assert stock_left(demo["round_id"]) == {bundle(demo, RICE_OIL): 58, bundle(demo, VEG): 97, bundle(demo, MEAT): 39}


def test_order__pickup_codes_of_different_orders__differ(client, demo, small):
    codes = []
    for room in ("101", "102", "103", "104", "105", "106"):
        household = register(client, demo["join_key"], building="1栋", room=room)
        response = place_order(client, household["token"], small["round_id"], (small["bundle_ids"][EGGS], 1))
        assert response.status_code == 201
        codes.append(response.json_body["pickup_code"])

    assert len(set(codes)) == 6


def test_order__unknown_round__is_404_and_writes_nothing(client, demo, resident):
    response = place_order(client, resident["token"], "01JNOSUCHROUND00000000000", (bundle(demo, RICE_OIL), 1))

    error_of(response, 404, "not_found")
    assert orders_in(demo["round_id"]) == []


def test_order__unknown_bundle__is_422_unknown_bundle_naming_the_line(client, demo, resident):
    response = place_order(client, resident["token"], demo["round_id"],
                           (bundle(demo, RICE_OIL), 1), ("01JNOSUCHBUNDLE0000000000", 1))

    error = error_of(response, 422, "unknown_bundle")
    assert set(error["fields"]["lines"]) == {"1"}
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 60


def test_order__bundle_of_another_round__is_422_unknown_bundle(client, demo, resident, small):
    response = place_order(client, resident["token"], demo["round_id"], (small["bundle_ids"][RICE], 1))

    error_of(response, 422, "unknown_bundle")
    assert orders_in(demo["round_id"]) == []
    assert stock_left(small["round_id"])[small["bundle_ids"][RICE]] == 3


# --- idempotency ----------------------------------------------------------------

def test_order__missing_idempotency_key__is_400_and_writes_nothing(client, demo, resident):
    response = post(client, "/api/orders", order_body(demo["round_id"], (bundle(demo, RICE_OIL), 1)),
                    resident["token"])

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 60


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "汉字汉字汉字汉字"])
def test_order__malformed_idempotency_key__is_400(client, demo, resident, key):
    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1), key=key)

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert orders_in(demo["round_id"]) == []


def test_order__replay_same_key_same_body__is_200_with_the_same_order(client, demo, resident):
    key = new_key()
    lines = ((bundle(demo, RICE_OIL), 1), (bundle(demo, VEG), 2))
    first = place_order(client, resident["token"], demo["round_id"], *lines, key=key)

    replay = place_order(client, resident["token"], demo["round_id"], *lines, key=key)

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json_body == first.json_body
    assert len(orders_in(demo["round_id"])) == 1
    assert stock_left(demo["round_id"]) == {bundle(demo, RICE_OIL): 59, bundle(demo, VEG): 98, bundle(demo, MEAT): 40}


def test_order__replay_with_lines_in_another_json_key_order__is_still_a_replay(client, demo, resident):
    key = new_key()
    first = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1), key=key)
    raw = '{"lines": [{"qty": 1, "bundle_id": "%s"}], "round_id": "%s"}' % (bundle(demo, VEG), demo["round_id"])

    replay = post(client, "/api/orders", raw, resident["token"], idempotency_key=key)

    assert replay.status_code == 200
    assert replay.json_body["order_id"] == first.json_body["order_id"]
    assert len(orders_in(demo["round_id"])) == 1


def test_order__same_key_other_body__is_409_idempotency_key_reused_and_writes_nothing(client, demo, resident):
    key = new_key()
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1), key=key)

    with writes() as written:
        response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 2), key=key)

    error_of(response, 409, "idempotency_key_reused")
    assert written == []
    assert len(orders_in(demo["round_id"])) == 1
    assert stock_left(demo["round_id"]) == {bundle(demo, RICE_OIL): 59, bundle(demo, VEG): 100, bundle(demo, MEAT): 40}


def test_order__same_key_other_quantity__is_409(client, demo, resident):
    key = new_key()
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1), key=key)

    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 2), key=key)

    error_of(response, 409, "idempotency_key_reused")
    assert stock_left(demo["round_id"])[bundle(demo, VEG)] == 99


def test_order__same_key_from_another_household__is_a_separate_order(client, demo, resident, neighbour):
    key = new_key()
    first = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1), key=key)

    second = place_order(client, neighbour["token"], demo["round_id"], (bundle(demo, VEG), 1), key=key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json_body["order_id"] != second.json_body["order_id"]
    assert stock_left(demo["round_id"])[bundle(demo, VEG)] == 98


def test_order__refused_body__does_not_use_up_its_key(client, demo, resident):
    key = new_key()
    refused = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 0), key=key)

    placed = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1), key=key)

    assert (refused.status_code, placed.status_code) == (400, 201)
    assert stock_left(demo["round_id"])[bundle(demo, VEG)] == 99


def test_order__replay_after_round_closed__still_returns_the_order(client, demo, resident):
    key = new_key()
    first = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1), key=key)
    rnd, _ = rounds.load(demo["round_id"])

    with time_machine.travel(rnd.closes_at + timedelta(minutes=5), tick=False):
        replay = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1), key=key)

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json_body["order_id"] == first.json_body["order_id"]
    assert len(orders_in(demo["round_id"])) == 1
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 59


def test_order__replay_after_stock_ran_out__still_returns_the_order(client, demo, resident, neighbour, small):
    rice = small["bundle_ids"][RICE]
    key = new_key()
    first = place_order(client, resident["token"], small["round_id"], (rice, 1), key=key)
    assert place_order(client, neighbour["token"], small["round_id"], (rice, 2)).status_code == 201

    replay = place_order(client, resident["token"], small["round_id"], (rice, 1), key=key)

    assert replay.status_code == 200
    assert replay.json_body["order_id"] == first.json_body["order_id"]
    assert stock_left(small["round_id"])[rice] == 0
    assert len(orders_in(small["round_id"])) == 2


# --- stock -----------------------------------------------------------------------

def test_order__sold_out__is_refused_with_422_naming_the_bundle(client, demo, resident, small):
    rice = small["bundle_ids"][RICE]

    response = place_order(client, resident["token"], small["round_id"], (rice, 4))

    error = error_of(response, 422, "sold_out")
    assert "大米套餐" in error["message"] and "大米套餐" in error["message_en"]
    assert error["fields"] == {"bundle_id": rice, "stock_left": 3}
    assert stock_left(small["round_id"])[rice] == 3
    assert orders_in(small["round_id"]) == []


def test_order__last_units__can_be_bought_then_the_bundle_is_sold_out(client, demo, resident, neighbour, small):
    rice = small["bundle_ids"][RICE]

    bought = place_order(client, resident["token"], small["round_id"], (rice, 3))
    assert stock_left(small["round_id"])[rice] == 0
    refused = place_order(client, neighbour["token"], small["round_id"], (rice, 1))

    assert bought.status_code == 201
    error = error_of(refused, 422, "sold_out")
    assert error["fields"] == {"bundle_id": rice, "stock_left": 0}
    assert stock_left(small["round_id"])[rice] == 0
    assert len(orders_in(small["round_id"])) == 1


def test_order__refused_multi_line_order__decrements_nothing(client, demo, resident, small):
    rice, eggs = small["bundle_ids"]

    with writes() as written:
        response = place_order(client, resident["token"], small["round_id"], (eggs, 2), (rice, 4))

    error = error_of(response, 422, "sold_out")
    assert error["fields"]["bundle_id"] == rice
    assert written == []
    assert stock_left(small["round_id"]) == {rice: 3, eggs: 10}
    assert orders_in(small["round_id"]) == []


def test_order__refused_multi_line_order__leaves_the_household_limit_untouched(client, demo, resident, small):
    rice, eggs = small["bundle_ids"]
    place_order(client, resident["token"], small["round_id"], (eggs, 3), (rice, 4))

    response = place_order(client, resident["token"], small["round_id"], (eggs, 5))

    assert response.status_code == 201
    assert stock_left(small["round_id"]) == {rice: 3, eggs: 5}


# --- per-household limit (每户限购) ----------------------------------------------------

def test_order__up_to_the_limit_across_two_orders__succeeds(client, demo, resident):
    fair_share_off(demo["community_id"])
    first = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))
    second = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))

    assert (first.status_code, second.status_code) == (201, 201)
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 58
    assert len(orders_in(demo["round_id"])) == 2


def test_order__over_the_limit_across_orders__is_422_over_household_limit(client, demo, resident):
    fair_share_off(demo["community_id"])
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 2))

    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))

    error = error_of(response, 422, "over_household_limit")
    assert error["fields"] == {"bundle_id": bundle(demo, RICE_OIL), "limit": 2}
    assert "米面油套餐" in error["message"]
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 58
    assert len(orders_in(demo["round_id"])) == 1


def test_order__over_the_limit_in_one_order__is_422_over_household_limit(client, demo, resident):
    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, MEAT), 2))

    error = error_of(response, 422, "over_household_limit")
    assert error["fields"] == {"bundle_id": bundle(demo, MEAT), "limit": 1}
    assert stock_left(demo["round_id"])[bundle(demo, MEAT)] == 40
    assert orders_in(demo["round_id"]) == []


def test_order__limit_is_per_flat__second_family_phone_is_refused(client, demo, resident):
    fair_share_off(demo["community_id"])
    family = family_phone(client, demo["join_key"], resident["token"], building="1栋", room="101", phone="13599998888")
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 2))

    response = place_order(client, family["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))

    error_of(response, 422, "over_household_limit")
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 58
    assert len(orders_in(demo["round_id"])) == 1


def test_order__limit_of_one_flat__does_not_touch_another_flat(client, demo, resident, neighbour):
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 2))

    response = place_order(client, neighbour["token"], demo["round_id"], (bundle(demo, RICE_OIL), 2))

    assert response.status_code == 201
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 56


def test_order__limit_is_per_bundle(client, demo, resident):
    fair_share_off(demo["community_id"])
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 2))

    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 3))

    assert response.status_code == 201


# --- round times -----------------------------------------------------------------

def test_order__round_not_yet_open__is_422_round_not_open(client, demo, resident):
    now = clock.now()
    upcoming = create_round(demo["tokens"]["supplier"], [demo["community_id"]],
                            opens_at=now + timedelta(hours=2), closes_at=now + timedelta(days=1))

    response = place_order(client, resident["token"], upcoming["round_id"], (upcoming["bundle_ids"][EGGS], 1))

    error_of(response, 422, "round_not_open")
    assert orders_in(upcoming["round_id"]) == []
    assert stock_left(upcoming["round_id"])[upcoming["bundle_ids"][EGGS]] == 10


def test_order__round_opens__then_ordering_works(client, demo, resident):
    now = clock.now()
    upcoming = create_round(demo["tokens"]["supplier"], [demo["community_id"]],
                            opens_at=now + timedelta(hours=2), closes_at=now + timedelta(days=1))

    with time_machine.travel(upcoming["opens_at"] + timedelta(seconds=1), tick=False):
        response = place_order(client, resident["token"], upcoming["round_id"], (upcoming["bundle_ids"][EGGS], 1))

    assert response.status_code == 201
    assert stock_left(upcoming["round_id"])[upcoming["bundle_ids"][EGGS]] == 9


def test_order__round_closed__is_422_round_closed(client, demo, resident):
    rnd, _ = rounds.load(demo["round_id"])

    with time_machine.travel(rnd.closes_at + timedelta(minutes=1), tick=False), writes() as written:
        response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))

    error_of(response, 422, "round_closed")
    assert written == []
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 60


def test_order__at_the_closing_second__is_422_round_closed(client, demo, resident):
    rnd, _ = rounds.load(demo["round_id"])

    with time_machine.travel(rnd.closes_at, tick=False):
        response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))

    error_of(response, 422, "round_closed")


# --- bad input: 400 naming the field, nothing written -------------------------------

@pytest.mark.parametrize("qty", [0, -1, 1000, "3", 2.5, True, None], ids=repr)
def test_order__bad_quantity__is_400_naming_lines_qty_and_writes_nothing(client, demo, resident, qty):
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": bundle(demo, VEG), "qty": qty}]}

    with writes() as written:
        response = post(client, "/api/orders", body, resident["token"], idempotency_key=new_key())

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"lines"}
    assert set(error["fields"]["lines"]["0"]) == {"qty"}
    assert written == []
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, VEG)] == 100


@pytest.mark.parametrize("lines", [[], {"bundle_id": "x", "qty": 1}, "lines", None], ids=repr)
def test_order__lines_empty_or_not_a_list__is_400_naming_lines(client, demo, resident, lines):
    body = {"round_id": demo["round_id"], "lines": lines}

    response = post(client, "/api/orders", body, resident["token"], idempotency_key=new_key())

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"lines"}
    assert orders_in(demo["round_id"]) == []


def test_order__same_bundle_on_two_lines__is_400_naming_lines(client, demo, resident):
    response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1), (bundle(demo, VEG), 1))

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"lines"}
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, VEG)] == 100


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"bundle_id": "b", "qty": 1}]}, "round_id"),
    ({"round_id": 123, "lines": [{"bundle_id": "b", "qty": 1}]}, "round_id"),
    ({"round_id": "r"}, "lines"),
    ({"round_id": "r", "lines": [{"bundle_id": "b", "qty": 1}], "coupon": "FREE"}, "coupon"),
])
def test_order__bad_or_unknown_field__is_400_naming_it(client, demo, resident, body, field):
    response = post(client, "/api/orders", body, resident["token"], idempotency_key=new_key())

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {field}
    assert orders_in(demo["round_id"]) == []


def test_order__unknown_field_in_a_line__is_400_naming_it(client, demo, resident):
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": bundle(demo, VEG), "qty": 1, "price_fen": 1}]}

    response = post(client, "/api/orders", body, resident["token"], idempotency_key=new_key())

    error = error_of(response, 400, "bad_input")
    assert error["fields"] == {"lines": {"0": {"price_fen": ["不认识的字段，请删除 / Unknown field; remove it"]}}}
    assert orders_in(demo["round_id"]) == []


@pytest.mark.parametrize("raw", ["{not json", "", "[]", '[{"round_id": "r"}]', "\"order\""],
                         ids=["broken", "empty", "empty-list", "list", "string"])
def test_order__body_not_a_json_object__is_400_and_writes_nothing(client, demo, resident, raw):
    response = post(client, "/api/orders", raw, resident["token"], idempotency_key=new_key())

    error_of(response, 400, "bad_input")
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"]) == {bundle(demo, RICE_OIL): 60, bundle(demo, VEG): 100, bundle(demo, MEAT): 40}


# --- the household's orders ----------------------------------------------------------

def test_mine__new_household__has_no_orders(client, demo, resident):
    assert mine(client, resident["token"]) == []


def test_mine__lists_orders_newest_first_with_status_and_pickup_code(client, demo, resident):
    fair_share_off(demo["community_id"])
    first = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1)).json_body
    with time_machine.travel(clock.now() + timedelta(minutes=10), tick=False):
        second = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 2)).json_body

    orders = mine(client, resident["token"])

    assert [o["order_id"] for o in orders] == [second["order_id"], first["order_id"]]
    assert [o["status"] for o in orders] == ["placed", "placed"]
    assert [o["pickup_code"] for o in orders] == [second["pickup_code"], first["pickup_code"]]
    assert [o["total_fen"] for o in orders] == [13600, 12800]
    assert orders[0]["round_name"] == "第1期 保供团购"
    assert orders[0]["payment_qr"] == "wxp://f2f0-demo-supplier-payment-code"
    assert orders[0]["pickup_slot"] is None and orders[0]["notices"] == []


def test_mine__every_family_phone_sees_the_flats_orders(client, demo, resident):
    order = place_order(client, resident["token"], demo["round_id"], (bundle(demo, VEG), 1)).json_body
    family = family_phone(client, demo["join_key"], resident["token"], building="1栋", room="101", phone="13599998888")

    assert [o["order_id"] for o in mine(client, family["token"])] == [order["order_id"]]


def test_mine__refused_and_replayed_orders__do_not_add_entries(client, demo, resident):
    key = new_key()
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, MEAT), 1), key=key)
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, MEAT), 1), key=key)
    place_order(client, resident["token"], demo["round_id"], (bundle(demo, MEAT), 1))

    assert len(mine(client, resident["token"])) == 1


def test_order__round_closed_early_between_its_read_and_its_write__is_422_round_closed_not_sold_out(
        client, demo, resident):
    """The order's transaction checks each bundle's copy of closes_at, not the round item (docs/capacity.md):
    提前截单 landing between the order's read and its transaction still refuses it, and says why."""
    from api.models import Bundle, Round, dynamodb_client

    rnd, bundles = rounds.load(demo["round_id"])
    fired = []

    def close_first(**_):
        if fired:
            return
        fired.append(True)
        now = clock.now()
        rnd.update(actions=[Round.closes_at.set(now)])
        for b in bundles:
            Bundle(b.pk, b.sk).update(actions=[Bundle.closes_at.set(now)])

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", close_first, unique_id="close-first")
    try:
        # Frozen: the close lands at the order's own instant, so closes_at > now no longer holds.
        with time_machine.travel(clock.now(), tick=False):
            response = place_order(client, resident["token"], demo["round_id"], (bundle(demo, RICE_OIL), 1))
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="close-first")

    assert fired
    error_of(response, 422, "round_closed")
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[bundle(demo, RICE_OIL)] == 60


def test_close_early__writes_closes_at_on_the_round_and_every_bundle_in_one_go(client, demo):
    response = client.http.post(f"/api/rounds/{demo['round_id']}/close", body="{}", headers={
        "authorization": f"Bearer {demo['tokens']['supplier']}", "content-type": "application/json"})
    assert response.status_code == 200, response.body
    rnd, bundles = rounds.load(demo["round_id"])
    assert bundles and {b.closes_at for b in bundles} == {rnd.closes_at}


def test_order__sent_as_text_plain__is_415_in_our_format_saying_to_send_json(client, demo, resident):
    with writes() as written:
        response = client.http.post("/api/orders", body='{"round_id": "x", "lines": []}', headers={
            "authorization": f"Bearer {resident['token']}", "content-type": "text/plain",
            "idempotency-key": "k-415-text-plain"})
    error = error_of(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"] and "application/json" in error["message_en"]
    assert written == []
