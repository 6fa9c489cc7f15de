"""Collecting bags: the volunteer's building list, a bag found by its pickup code or label, marking
it collected once (whoever marks it, however often), undo within 10 minutes, refusals for unpaid,
expired and cancelled orders, door delivery for special households, and progress per building.

A volunteer of another community, or a code of another round, gets 404; a resident gets 403.
"""
from datetime import timedelta

import pytest
import time_machine

from api import bootstrap, clock
from api.models import Order
from tests.api.helpers import (
    create_community, create_round, error_of, fair_share_off, get, orders_in, place_order, post, put, register,
    writes,
)

FLATS = [("1栋", "", "101"), ("1栋", "", "102"), ("3栋", "1单元", "301"), ("10栋", "2单元", "1001")]


@pytest.fixture
def rnd(demo):
    fair_share_off(demo["community_id"])
    return create_round(demo["tokens"]["supplier"], [demo["community_id"]])


@pytest.fixture
def bags(client, demo, rnd):
    """Four households with one order each; all paid but the last (10栋), which is left unpaid."""
    placed = []
    for n, (building, unit, room) in enumerate(FLATS):
        household = register(client, demo["join_key"], building=building, unit=unit, room=room,
                             phone=f"1380000{n:04d}")
        response = place_order(client, household["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1))
        assert response.status_code == 201, response.body
        placed.append({**response.json_body, "token": household["token"]})
    confirm = post(client, f"/api/rounds/{rnd['round_id']}/payments/confirm",
                   {"order_ids": [p["order_id"] for p in placed[:3]]}, demo["tokens"]["supplier"])
    assert confirm.status_code == 200 and not confirm.json_body["refused"], confirm.body
    return placed


def mark(client, token, order_id, method="self", key=None):
    return post(client, f"/api/orders/{order_id}/pickup", {"method": method}, token,
                idempotency_key=key or f"pickup-{order_id}-{token[-6:]}")


def stored(rnd, order_id) -> Order:
    return next(o for o in orders_in(rnd["round_id"]) if o.order_id == order_id)


# --- finding a bag ------------------------------------------------------------------------

def test_pickup_list__one_buildings_bags_in_room_order_with_masked_phones_and_bundles(client, demo, rnd, bags):
    response = get(client, f"/api/rounds/{rnd['round_id']}/pickup-list?building=1栋", demo["tokens"]["volunteer"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert [h["room"] for h in body["households"]] == ["101", "102"]
    first = body["households"][0]
    assert first["phone_masked"] == "138****0000" and first["lines"] == [{"name": "鸡蛋套餐", "qty": 1}]
    assert (first["paid"], first["collected"], first["picked_up"]) == (True, False, None)
    assert "pickup_code" not in first


def test_lookup__by_code_and_by_label_find_the_bag(client, demo, rnd, bags):
    bag = bags[2]
    by_code = get(client, f"/api/rounds/{rnd['round_id']}/pickup/{bag['pickup_code']}", demo["tokens"]["volunteer"])
    by_label = get(client, f"/api/orders/{bag['order_id']}/pickup", demo["tokens"]["info_officer"])
    assert by_code.status_code == by_label.status_code == 200
    assert by_code.json_body["order_id"] == by_label.json_body["order_id"] == bag["order_id"]
    assert by_code.json_body["flat_label"] == "3栋 1单元 301"


def test_lookup__code_of_another_round__404(client, demo, rnd, bags):
    other = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    response = get(client, f"/api/rounds/{other['round_id']}/pickup/{bags[0]['pickup_code']}",
                   demo["tokens"]["volunteer"])
    error_of(response, 404, "not_found")
    error_of(get(client, f"/api/rounds/{rnd['round_id']}/pickup/000000", demo["tokens"]["volunteer"]), 404,
             "not_found")


def test_another_communitys_volunteer__cannot_look_up_or_mark_a_bag(client, demo, rnd, bags):
    other = create_community(demo["sub_district_id"], "和平里小区")
    stranger = bootstrap.create_staff("volunteer", other["community_id"])
    bag = bags[0]
    with writes() as written:
        error_of(get(client, f"/api/rounds/{rnd['round_id']}/pickup/{bag['pickup_code']}", stranger), 404, "not_found")
        error_of(get(client, f"/api/orders/{bag['order_id']}/pickup", stranger), 404, "not_found")
        error_of(mark(client, stranger, bag["order_id"]), 404, "not_found")
        error_of(get(client, f"/api/rounds/{rnd['round_id']}/pickup-list?building=1栋", stranger), 404, "not_found")
    assert written == []
    assert stored(rnd, bag["order_id"]).status == "paid"


def test_resident__cannot_mark_or_look_up(client, demo, rnd, bags):
    resident = bags[0]["token"]
    assert mark(client, resident, bags[0]["order_id"]).status_code == 403
    assert get(client, f"/api/rounds/{rnd['round_id']}/pickup/{bags[0]['pickup_code']}", resident).status_code == 403
    assert stored(rnd, bags[0]["order_id"]).status == "paid"


# --- marking --------------------------------------------------------------------------

def test_mark__paid_bag__picked_up_with_one_record(client, demo, rnd, bags):
    response = mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["status"] == "picked_up" and body["collected"]
    assert body["picked_up"]["method"] == "self" and body["picked_up"]["by_me"] is True
    order = stored(rnd, bags[0]["order_id"])
    assert (order.status, order.pickup_method, order.status_before_pickup) == ("picked_up", "self", "paid")
    mine = get(client, "/api/orders/mine", bags[0]["token"]).json_body["orders"][0]
    assert mine["status"] == "picked_up" and mine["picked_up"]["method"] == "self"


def test_mark__twice_and_by_a_second_volunteer__is_one_record(client, demo, rnd, bags):
    order_id = bags[0]["order_id"]
    first = mark(client, demo["tokens"]["volunteer"], order_id).json_body
    with writes() as written:
        again = mark(client, demo["tokens"]["volunteer"], order_id).json_body
        other = mark(client, demo["tokens"]["info_officer"], order_id, method="door").json_body
    assert written == []  # a repeat changes nothing
    assert again["picked_up"] == first["picked_up"]
    assert other["picked_up"]["at"] == first["picked_up"]["at"] and other["picked_up"]["method"] == "self"
    assert other["picked_up"]["by_me"] is False and other["collected"]


@pytest.mark.parametrize("how, code", [("unpaid", "not_paid"), ("cancelled", "order_cancelled"),
                                       ("expired", "order_expired")])
def test_mark__unpaid_cancelled_or_expired__422_in_plain_words(client, demo, rnd, bags, how, code):
    order = stored(rnd, bags[3]["order_id"])  # the unpaid one
    if how != "unpaid":
        order.update(actions=[Order.status.set(how)])
    with writes() as written:
        error = error_of(mark(client, demo["tokens"]["volunteer"], order.order_id), 422, code)
    assert written == []
    assert "取货" in error["message"]
    assert stored(rnd, order.order_id).status == ("placed" if how == "unpaid" else how)


def test_mark__without_idempotency_key__400(client, demo, rnd, bags):
    response = post(client, f"/api/orders/{bags[0]['order_id']}/pickup", {"method": "self"},
                    demo["tokens"]["volunteer"])
    error_of(response, 400, "bad_input")
    error_of(mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"], method="drone"), 400, "bad_input")
    assert stored(rnd, bags[0]["order_id"]).status == "paid"


def test_undo__within_ten_minutes_puts_it_back_later_422(client, demo, rnd, bags):
    token = demo["tokens"]["volunteer"]
    mark(client, token, bags[0]["order_id"])
    undone = post(client, f"/api/orders/{bags[0]['order_id']}/pickup/undo", {}, token)
    assert undone.status_code == 200 and undone.json_body["status"] == "paid"
    assert undone.json_body["picked_up"] is None
    mark(client, token, bags[1]["order_id"])
    with time_machine.travel(clock.now() + timedelta(minutes=11), tick=False):
        error_of(post(client, f"/api/orders/{bags[1]['order_id']}/pickup/undo", {}, token), 422, "undo_too_late")
    assert stored(rnd, bags[1]["order_id"]).status == "picked_up"


def test_mark__packed_bag__undo_returns_it_to_packed(client, demo, rnd, bags):
    order = stored(rnd, bags[0]["order_id"])
    order.update(actions=[Order.status.set("packed")])
    mark(client, demo["tokens"]["liaison"], order.order_id)
    undone = post(client, f"/api/orders/{order.order_id}/pickup/undo", {}, demo["tokens"]["liaison"]).json_body
    assert undone["status"] == "packed"


# --- door delivery and progress ---------------------------------------------------------

def test_door__lists_special_households_with_a_live_order_and_marks_door(client, demo, rnd, bags):
    from api import households
    flat_ref = households.flat_ref(next(o for o in orders_in(rnd["round_id"]) if o.order_id == bags[1]["order_id"])
                                   .sk.split("#", 2)[2].rsplit("#", 1)[0])
    flagged = put(client, f"/api/communities/{demo['community_id']}/households/{flat_ref}/special",
                  {"category": "elderly_alone", "note": "", "needs": "送到门口"}, demo["tokens"]["liaison"])
    assert flagged.status_code == 200, flagged.body
    path = f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/door"
    listed = get(client, path, demo["tokens"]["volunteer"]).json_body["households"]
    assert [h["order_id"] for h in listed] == [bags[1]["order_id"]]
    assert listed[0]["special"] is True and listed[0]["special_info"]["needs"] == "送到门口"
    done = mark(client, demo["tokens"]["volunteer"], bags[1]["order_id"], method="door").json_body
    assert done["picked_up"]["method"] == "door"


def test_progress__per_building_collected_waiting_overdue_and_a_reminder_naming_flats(client, demo, rnd, bags):
    start = clock.now() + timedelta(minutes=5)
    plan = post(client, f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/slots/generate",
                {"start_at": clock.iso(start), "minutes_per_slot": 10, "households_per_slot": 2,
                 "building_order": ["1栋", "3栋", "10栋"]}, demo["tokens"]["liaison"])
    assert plan.status_code == 201, plan.body
    mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"])
    path = f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/progress"
    now = get(client, path, demo["tokens"]["liaison"]).json_body
    assert {b["building"]: (b["collected"], b["waiting"], b["overdue"]) for b in now["buildings"]} == {
        "1栋": (1, 1, 0), "3栋": (0, 1, 0)}  # 10栋's order is unpaid: nothing to collect
    assert now["totals"] == {"collected": 1, "waiting": 2, "overdue": 0, "total": 3}
    assert "1栋102" in now["reminder"] and "3栋1单元301" in now["reminder"] and "138" not in now["reminder"]
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        later = get(client, path, demo["tokens"]["volunteer"]).json_body
    # 1栋's slot (5–15 min) has ended; 3栋's (15–25 min) has not.
    assert {b["building"]: (b["waiting"], b["overdue"]) for b in later["buildings"]} == {"1栋": (0, 1), "3栋": (1, 0)}


def test_progress__another_community__404_resident_403(client, demo, rnd):
    other = create_community(demo["sub_district_id"], "和平里小区")
    stranger = bootstrap.create_staff("liaison", other["community_id"])
    path = f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/progress"
    error_of(get(client, path, stranger), 404, "not_found")
    resident = register(client, demo["join_key"], room="909", phone="13800000909")["token"]
    assert get(client, path, resident).status_code == 403


def test_mark__replayed_key_after_an_undo__does_not_mark_again(client, demo, rnd, bags):
    token, order_id = demo["tokens"]["volunteer"], bags[0]["order_id"]
    assert mark(client, token, order_id, key="queued-mark-0001").json_body["collected"]
    post(client, f"/api/orders/{order_id}/pickup/undo", {}, token)
    # The phone's outbox sends the same mark again (its answer was lost): the undo stands.
    replay = mark(client, token, order_id, key="queued-mark-0001")
    assert replay.status_code == 200 and replay.json_body["collected"] is False
    assert stored(rnd, order_id).status == "paid"
    error_of(mark(client, token, order_id, method="door", key="queued-mark-0001"), 409, "idempotency_key_reused")


def test_undo__a_volunteer_only_their_own_marks_the_liaison_any(client, demo, rnd, bags):
    other = post(client, "/api/invites", {"role": "volunteer", "scope_id": demo["community_id"]},
                 demo["tokens"]["liaison"]).json_body
    second = post(client, f"/api/invites/{other['code']}/accept", {}).json_body["token"]
    mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"])
    error_of(post(client, f"/api/orders/{bags[0]['order_id']}/pickup/undo", {}, second), 422, "not_your_mark")
    assert stored(rnd, bags[0]["order_id"]).status == "picked_up"
    undone = post(client, f"/api/orders/{bags[0]['order_id']}/pickup/undo", {}, demo["tokens"]["liaison"])
    assert undone.json_body["status"] == "paid"


def test_mark__reads_the_order_and_the_callers_community_then_one_transaction(client, demo, rnd, bags,
                                                                             dynamodb_calls):
    """The least for a mark (docs/capacity.md): the order by id (its id item, then the order), the caller's
    community, and the transaction with the key; no read of the key first and none of the order after."""
    dynamodb_calls.clear()
    response = mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"])
    assert response.status_code == 200, response.body
    assert dict(dynamodb_calls) == {"GetItem": 3, "TransactWriteItems": 1}, dynamodb_calls
    # The answer, built from what was written, is what a fresh read gives.
    again = mark(client, demo["tokens"]["volunteer"], bags[0]["order_id"]).json_body
    assert response.json_body == again
