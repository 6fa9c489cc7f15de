"""At the gate (docs/api.md § The gate, "At the gate" and "Supervision log"), with the clock frozen:
the plate read at the gate, disinfection and the 30-minute rest the server enforces, the unloading
point, unloading with the second disinfection, the hand-over flow, steps out of order and repeated;
the release moving the carried rounds' orders to 「已到门口」 and telling the residents; the
append-only log with its deviations and its CSV/XLSX export; and who may act where.
"""
import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest

from api import clock
from tests.api.gate_helpers import (  # noqa: F401 (fixtures)
    ARRIVAL_DAY, ARRIVE_FROM, ARRIVE_UNTIL, DAY_BEFORE, DRIVER_ID, NOW, PASSENGER_ID, PLATE, another_site, bucket, frozen,
    full_ids_in,
    gate, gone, stable, staff_id,
)
from tests.api.helpers import (
    create_community, create_round, error_of, fair_share_off, get, orders_in, place_order, post, put, register,
    writes,
)

ON_TIME = ARRIVE_FROM + timedelta(minutes=10)   # 2026-12-02 12:10 in Beijing
DISINFECTED = ON_TIME + timedelta(minutes=5)
REST_ENDS = DISINFECTED + timedelta(minutes=30)


def events_of(gate, day: str, token: str | None = None) -> list[dict]:
    return gate.log(day, token)["events"]


def arrive(gate, frozen, did: str, at=ON_TIME, plate: str = PLATE) -> dict:
    frozen.move_to(at)
    return gate.done(did, "arrive", plate=plate)


def to_routed(gate, frozen, did: str) -> dict:
    """Arrived on time, disinfected at DISINFECTED, sent to the first unloading point 5 minutes later."""
    arrive(gate, frozen, did)
    frozen.move_to(DISINFECTED)
    gate.done(did, "disinfect", operator="王师傅")
    frozen.move_to(DISINFECTED + timedelta(minutes=5))
    return gate.done(did, "assign_point", point_id=gate.site["unloading_points"][0]["point_id"])


def enter_all_the_way(gate, frozen, did: str) -> dict:
    """The whole entering flow, with one release refused during the rest; returns the departed delivery."""
    to_routed(gate, frozen, did)
    frozen.move_to(REST_ENDS - timedelta(minutes=10))
    error_of(gate.step(did, "release"), 422, "resting")
    frozen.move_to(REST_ENDS)
    gate.done(did, "release")
    frozen.move_to(REST_ENDS + timedelta(minutes=20))
    gate.done(did, "unload", operator="赵师傅")
    frozen.move_to(REST_ENDS + timedelta(minutes=30))
    return gate.done(did, "depart")


# --- arriving ---------------------------------------------------------------------------------

def test_arrive__wrong_plate__422_plate_mismatch_and_nothing_changed(gate, frozen):
    delivery = gate.approved()
    frozen.move_to(ON_TIME)
    with writes() as written:
        error = error_of(gate.step(delivery["delivery_id"], "arrive", plate="苏N54321"), 422, "plate_mismatch")
    assert written == []
    assert error["message"] and error["message_en"]
    after = gate.delivery(delivery["delivery_id"])
    assert after["status"] == "approved"
    assert stable(after) == stable(delivery)
    assert events_of(gate, ARRIVAL_DAY) == []


def test_arrive__the_registered_plate_typed_loosely__is_accepted(gate, frozen):
    delivery = gate.approved()
    assert arrive(gate, frozen, delivery["delivery_id"], plate="苏n·123 45")["status"] == "arrived"


def test_arrive__inside_the_window__arrived_on_time(gate, frozen):
    delivery = gate.approved()
    body = arrive(gate, frozen, delivery["delivery_id"])
    assert body["status"] == "arrived"
    assert body["gate"]["arrived_at"] == clock.iso(ON_TIME)
    assert body["gate"]["outside_window"] is False
    assert body["gate"]["disinfections"] == [] and body["gate"]["rest_ends_at"] is None
    assert gate.log(ARRIVAL_DAY)["deviations"] == []


@pytest.mark.parametrize("at", [ARRIVE_FROM - timedelta(minutes=30), ARRIVE_UNTIL + timedelta(minutes=1)],
                         ids=["early", "late"])
def test_arrive__outside_the_window__recorded_with_outside_window_true_as_a_deviation(gate, frozen, at):
    delivery = gate.approved()
    body = arrive(gate, frozen, delivery["delivery_id"], at=at)
    assert body["status"] == "arrived" and body["gate"]["outside_window"] is True
    [deviation] = gate.log(ARRIVAL_DAY)["deviations"]
    assert (deviation["type"], deviation["deviation"], deviation["delivery_id"], deviation["plate"]) == (
        "arrived", "outside_window", delivery["delivery_id"], PLATE)


def test_arrive__at_the_edges_of_the_window__is_on_time(gate, frozen):
    first, second = gate.approved(), gate.approved()
    assert arrive(gate, frozen, first["delivery_id"], at=ARRIVE_FROM)["gate"]["outside_window"] is False
    assert arrive(gate, frozen, second["delivery_id"], at=ARRIVE_UNTIL)["gate"]["outside_window"] is False


# --- disinfection and the rest ------------------------------------------------------------------

def test_disinfect__starts_the_rest_of_30_minutes_with_the_sites_defaults(gate, frozen):
    delivery = gate.approved()
    arrive(gate, frozen, delivery["delivery_id"])
    frozen.move_to(DISINFECTED)
    body = gate.done(delivery["delivery_id"], "disinfect", operator="王师傅")
    assert body["status"] == "disinfected"
    assert body["gate"]["rest_ends_at"] == clock.iso(REST_ENDS)
    [done] = body["gate"]["disinfections"]
    assert (done["stage"], done["operator"], done["disinfectant"], done["ratio"]) == (
        "gate", "王师傅", "84消毒液", "1:100")
    assert done["at"] == clock.iso(DISINFECTED) and done["by"] == staff_id(gate.tokens["gate_officer"])


def test_disinfect__with_its_own_disinfectant_and_the_sites_rest_minutes(gate, frozen):
    assert put(gate.client, gate.base, {"rest_minutes": 45}, gate.tokens["admin"]).status_code == 200
    delivery = gate.approved()
    arrive(gate, frozen, delivery["delivery_id"])
    frozen.move_to(DISINFECTED)
    body = gate.done(delivery["delivery_id"], "disinfect", operator="王师傅", disinfectant="过氧乙酸", ratio="1:200")
    assert (body["gate"]["disinfections"][0]["disinfectant"], body["gate"]["disinfections"][0]["ratio"]) == (
        "过氧乙酸", "1:200")
    assert body["gate"]["rest_ends_at"] == clock.iso(DISINFECTED + timedelta(minutes=45))


def test_disinfect__without_an_operator__400(gate, frozen):
    delivery = gate.approved()
    arrive(gate, frozen, delivery["delivery_id"])
    with writes() as written:
        error = error_of(gate.step(delivery["delivery_id"], "disinfect"), 400, "bad_input")
    assert "operator" in error["fields"] and written == []


def test_release__before_the_rest_ends__is_refused_with_422_and_logged_as_a_deviation(gate, frozen):
    delivery = gate.approved()
    routed = to_routed(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS - timedelta(seconds=1))
    error = error_of(gate.step(delivery["delivery_id"], "release"), 422, "resting")
    assert error["fields"]["rest_ends_at"] in (clock.iso(REST_ENDS), [clock.iso(REST_ENDS)])
    after = gate.delivery(delivery["delivery_id"])
    assert after["status"] == "routed" and stable(after) == stable(routed)
    assert after["gate"]["released_at"] is None
    log = gate.log(ARRIVAL_DAY)
    refused = [e for e in log["events"] if e["type"] == "release_refused"]
    assert len(refused) == 1 and refused[0]["deviation"] == "release_before_rest"
    assert refused[0]["delivery_id"] == delivery["delivery_id"] and refused[0]["at"] == clock.iso(
        REST_ENDS - timedelta(seconds=1))
    assert [d["event_id"] for d in log["deviations"]] == [refused[0]["event_id"]]


def test_release__when_the_rest_ends_exactly__is_allowed(gate, frozen):
    delivery = gate.approved()
    to_routed(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS)
    body = gate.done(delivery["delivery_id"], "release")
    assert body["status"] == "released" and body["gate"]["released_at"] == clock.iso(REST_ENDS)


# --- the unloading point ----------------------------------------------------------------------------

def test_assign_point__one_of_the_sites_points__routed_with_the_point(gate, frozen):
    delivery = gate.approved()
    body = to_routed(gate, frozen, delivery["delivery_id"])
    assert body["status"] == "routed" and body["gate"]["point"] == gate.site["unloading_points"][0]


def test_assign_point__another_sites_point_none_or_unknown__400_nothing_written(gate, frozen):
    other = another_site(gate.client, gate.demo)
    delivery = gate.approved()
    did = delivery["delivery_id"]
    arrive(gate, frozen, did)
    frozen.move_to(DISINFECTED)
    gate.done(did, "disinfect", operator="王师傅")
    with writes() as written:
        error_of(gate.step(did, "assign_point", point_id=other.site["unloading_points"][0]["point_id"]), 400,
                 "bad_input")
        error_of(gate.step(did, "assign_point"), 400, "bad_input")
        error_of(gate.step(did, "assign_point", point_id="01HZZZZZZZZZZZZZZZZZZZZZZZ"), 400, "bad_input")
    assert written == []
    assert gate.delivery(did)["status"] == "disinfected" and gate.delivery(did)["gate"]["point"] is None


# --- order and repeats ------------------------------------------------------------------------------

def test_steps_out_of_order__409_wrong_step_naming_the_status_nothing_written(gate, frozen):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    frozen.move_to(ON_TIME)
    with writes() as written:
        for action, fields in (("disinfect", {"operator": "王师傅"}), ("release", {}), ("unload", {"operator": "赵"}),
                               ("depart", {})):
            error_of(gate.step(did, action, **fields), 409, "wrong_step")
    assert written == []
    arrive(gate, frozen, did)
    with writes() as written:
        error = error_of(gate.step(did, "release"), 409, "wrong_step")
        error_of(gate.step(did, "depart"), 409, "wrong_step")
        handover_step = gate.step(did, "set_down")  # a hand-over step, on an entering vehicle
    assert handover_step.status_code in (400, 409), handover_step.body
    assert written == []
    assert "arrived" in str(error)
    assert gate.delivery(did)["status"] == "arrived"


def test_steps__on_a_delivery_not_approved__409(gate, frozen):
    submitted = gate.registered()
    rejected = gate.registered()
    assert gate.review(rejected["delivery_id"], "reject", reason="证件不全").status_code == 200
    frozen.move_to(ON_TIME)
    with writes() as written:
        for delivery in (submitted, rejected):
            response = gate.step(delivery["delivery_id"], "arrive", plate=PLATE)
            assert response.status_code == 409, response.body
    assert written == []


def test_step__repeat_of_a_done_step__200_the_delivery_unchanged(gate, frozen):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    arrive(gate, frozen, did)
    frozen.move_to(DISINFECTED)
    disinfected = gate.done(did, "disinfect", operator="王师傅")
    frozen.move_to(DISINFECTED + timedelta(minutes=3))
    with writes() as written:
        again = gate.done(did, "disinfect", operator="李师傅")
        arrived_again = gate.done(did, "arrive", plate=PLATE)
    assert written == []
    assert stable(again) == stable(disinfected) == stable(arrived_again)
    assert again["gate"]["rest_ends_at"] == clock.iso(REST_ENDS)  # the rest did not start again


def test_step__unknown_action__400(gate, frozen):
    delivery = gate.approved()
    frozen.move_to(ON_TIME)
    error_of(gate.step(delivery["delivery_id"], "teleport"), 400, "bad_input")


# --- unloading and leaving -----------------------------------------------------------------------

def test_unload__records_the_second_disinfection_then_depart(gate, frozen):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    to_routed(gate, frozen, did)
    frozen.move_to(REST_ENDS)
    gate.done(did, "release")
    frozen.move_to(REST_ENDS + timedelta(minutes=20))
    unloaded = gate.done(did, "unload", operator="赵师傅", ratio="1:50")
    assert unloaded["status"] == "unloaded"
    assert unloaded["gate"]["unloaded_at"] == clock.iso(REST_ENDS + timedelta(minutes=20))
    assert [(d["stage"], d["operator"], d["disinfectant"], d["ratio"]) for d in unloaded["gate"]["disinfections"]] == [
        ("gate", "王师傅", "84消毒液", "1:100"), ("packaging", "赵师傅", "84消毒液", "1:50")]
    frozen.move_to(REST_ENDS + timedelta(minutes=30))
    departed = gate.done(did, "depart")
    assert departed["status"] == "departed"
    assert departed["gate"]["departed_at"] == clock.iso(REST_ENDS + timedelta(minutes=30))
    assert departed["gate"]["point"] == gate.site["unloading_points"][0]


def test_handover__arrive_set_down_leave_disinfect_release_after_the_rest(gate, frozen):
    delivery = gate.approved(mode="handover")
    did = delivery["delivery_id"]
    arrive(gate, frozen, did)
    frozen.move_to(ON_TIME + timedelta(minutes=5))
    assert gate.done(did, "set_down")["status"] == "set_down"
    frozen.move_to(ON_TIME + timedelta(minutes=8))
    left = gate.done(did, "leave")
    assert left["status"] == "left"
    assert left["gate"]["set_down_at"] == clock.iso(ON_TIME + timedelta(minutes=5))
    assert left["gate"]["left_at"] == clock.iso(ON_TIME + timedelta(minutes=8))
    frozen.move_to(ON_TIME + timedelta(minutes=10))
    disinfected = gate.done(did, "disinfect", operator="王师傅")
    assert disinfected["status"] == "disinfected"
    assert disinfected["gate"]["rest_ends_at"] == clock.iso(ON_TIME + timedelta(minutes=40))
    frozen.move_to(ON_TIME + timedelta(minutes=39))
    error_of(gate.step(did, "release"), 422, "resting")
    frozen.move_to(ON_TIME + timedelta(minutes=40))
    released = gate.done(did, "release")
    assert released["status"] == "released" and released["gate"]["point"] is None
    assert len(released["gate"]["disinfections"]) == 1
    types = [e["type"] for e in events_of(gate, ARRIVAL_DAY)]
    assert types == ["arrived", "set_down", "left", "disinfected", "release_refused", "released"]


def test_handover__enter_only_steps_and_leaving_before_setting_down__refused(gate, frozen):
    delivery = gate.approved(mode="handover")
    did = delivery["delivery_id"]
    arrive(gate, frozen, did)
    with writes() as written:
        error_of(gate.step(did, "leave"), 409, "wrong_step")
        error_of(gate.step(did, "disinfect", operator="王师傅"), 409, "wrong_step")
        point = gate.step(did, "assign_point", point_id=gate.site["unloading_points"][0]["point_id"])
        assert point.status_code in (400, 409), point.body
    assert written == []
    assert gate.delivery(did)["status"] == "arrived"


# --- the release reaches the residents ------------------------------------------------------------

@pytest.fixture
def households(gate):
    """Three flats with an order each in the demo round: paid, packed (bag marked packed), unpaid."""
    demo = gate.demo
    fair_share_off(demo["community_id"])
    made = []
    for n, (building, unit, room) in enumerate([("1栋", "", "101"), ("3栋", "1单元", "301"), ("2栋", "", "202")]):
        household = register(gate.client, demo["join_key"], building=building, unit=unit, room=room,
                             phone=f"1370000{n:04d}")
        placed = place_order(gate.client, household["token"], demo["round_id"], (demo["bundle_ids"][1], 1))
        assert placed.status_code == 201, placed.body
        made.append({**placed.json_body, "token": household["token"]})
    confirm = post(gate.client, f"/api/rounds/{demo['round_id']}/payments/confirm",
                   {"order_ids": [made[0]["order_id"], made[1]["order_id"]]}, demo["tokens"]["supplier"])
    assert confirm.status_code == 200 and not confirm.json_body["refused"], confirm.body
    from api.models import Order
    packed = next(o for o in orders_in(demo["round_id"]) if o.order_id == made[1]["order_id"])
    packed.update(actions=[Order.status.set("packed")])
    return made


def statuses(round_id: str) -> dict:
    return {o.order_id: o.status for o in orders_in(round_id)}


def test_release__moves_the_carried_rounds_paid_and_packed_orders_to_at_gate_and_tells_the_residents(
        gate, frozen, households):
    paid, packed, unpaid = households
    round_id = gate.demo["round_id"]
    delivery = gate.approved(round_ids=[round_id])
    did = delivery["delivery_id"]
    to_routed(gate, frozen, did)
    assert statuses(round_id) == {paid["order_id"]: "paid", packed["order_id"]: "packed",
                                  unpaid["order_id"]: "placed"}
    assert get(gate.client, "/api/orders/mine", paid["token"]).json_body["orders"][0]["arrived_at"] is None
    frozen.move_to(REST_ENDS)
    gate.done(did, "release")
    assert statuses(round_id) == {paid["order_id"]: "at_gate", packed["order_id"]: "at_gate",
                                  unpaid["order_id"]: "placed"}
    for resident in (paid, packed):
        [order] = get(gate.client, "/api/orders/mine", resident["token"]).json_body["orders"]
        assert order["status"] == "at_gate" and order["arrived_at"] == clock.iso(REST_ENDS)
        notices = get(gate.client, "/api/notices/mine", resident["token"]).json_body["notices"]
        assert [(n["kind"], n["round_id"]) for n in notices] == [("arrival", round_id)]
    # every building is told, as 「货已到」 does: the unpaid flat's building too
    assert [n["kind"] for n in get(gate.client, "/api/notices/mine", unpaid["token"]).json_body["notices"]] == [
        "arrival"]


def test_release__other_communities_of_the_round__are_not_moved(gate, frozen, households):
    other = create_community(gate.demo["sub_district_id"], "和平里小区")
    fair_share_off(other["community_id"])
    shared = create_round(gate.tokens["supplier"], [gate.demo["community_id"], other["community_id"]])
    theirs = register(gate.client, other["join_key"], room="101", phone="13700009999")
    placed = place_order(gate.client, theirs["token"], shared["round_id"], (shared["bundle_ids"][1], 1)).json_body
    confirm = post(gate.client, f"/api/rounds/{shared['round_id']}/payments/confirm",
                   {"order_ids": [placed["order_id"]]}, gate.tokens["supplier"])
    assert confirm.status_code == 200 and not confirm.json_body["refused"]
    delivery = gate.approved(round_ids=[shared["round_id"]])
    to_routed(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS)
    gate.done(delivery["delivery_id"], "release")
    assert statuses(shared["round_id"]) == {placed["order_id"]: "paid"}
    assert get(gate.client, "/api/notices/mine", theirs["token"]).json_body["notices"] == []
    # the demo round was not carried: its orders stay as they were
    assert "at_gate" not in statuses(gate.demo["round_id"]).values()


def test_release__repeated__200_the_same_delivery_and_the_residents_are_told_once(gate, frozen, households):
    delivery = gate.approved(round_ids=[gate.demo["round_id"]])
    to_routed(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS)
    released = gate.done(delivery["delivery_id"], "release")
    frozen.move_to(REST_ENDS + timedelta(minutes=2))
    again = gate.done(delivery["delivery_id"], "release")
    assert stable(again) == stable(released)
    assert [n["kind"] for n in get(gate.client, "/api/notices/mine", households[0]["token"]).json_body["notices"]] == [
        "arrival"]
    [order] = get(gate.client, "/api/orders/mine", households[0]["token"]).json_body["orders"]
    assert order["arrived_at"] == clock.iso(REST_ENDS)


def test_release__after_the_liaisons_arrival__moves_the_orders_without_telling_twice(gate, frozen, households):
    round_id = gate.demo["round_id"]
    delivery = gate.approved(round_ids=[round_id])
    to_routed(gate, frozen, delivery["delivery_id"])
    pressed = post(gate.client, f"/api/communities/{gate.demo['community_id']}/rounds/{round_id}/arrival", {},
                   gate.tokens["liaison"])
    assert pressed.status_code == 201, pressed.body
    frozen.move_to(REST_ENDS)
    gate.done(delivery["delivery_id"], "release")
    paid, packed, unpaid = households
    assert statuses(round_id) == {paid["order_id"]: "at_gate", packed["order_id"]: "at_gate",
                                  unpaid["order_id"]: "placed"}
    assert [n["kind"] for n in get(gate.client, "/api/notices/mine", paid["token"]).json_body["notices"]] == [
        "arrival"]
    [order] = get(gate.client, "/api/orders/mine", paid["token"]).json_body["orders"]
    assert order["arrived_at"] == pressed.json_body["arrived_at"]


def test_release__refused_during_the_rest__moves_no_order(gate, frozen, households):
    delivery = gate.approved(round_ids=[gate.demo["round_id"]])
    to_routed(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS - timedelta(minutes=1))
    error_of(gate.step(delivery["delivery_id"], "release"), 422, "resting")
    assert "at_gate" not in statuses(gate.demo["round_id"]).values()
    assert get(gate.client, "/api/notices/mine", households[0]["token"]).json_body["notices"] == []


# --- turning away -------------------------------------------------------------------------------

def test_turn_away__a_plate_without_an_approved_delivery__201_event_as_a_deviation(gate, frozen):
    frozen.move_to(ON_TIME)
    response = gate.post(f"{gate.base}/gate/turn-away", {"plate": "皖a·88888", "reason": "未报备"},
                         gate.tokens["gate_officer"])
    assert response.status_code == 201, response.body
    event = response.json_body
    assert (event["type"], event["deviation"], event["delivery_id"], event["plate"]) == (
        "turned_away", "turned_away", None, "皖A88888")
    assert event["by"] == staff_id(gate.tokens["gate_officer"]) and event["by_role"] == "gate_officer"
    assert event["at"] == clock.iso(ON_TIME)
    assert gate.log(ARRIVAL_DAY)["deviations"] == [event]


def test_turn_away__without_plate_or_reason__400_nothing_written(gate):
    with writes() as written:
        error_of(gate.post(f"{gate.base}/gate/turn-away", {"reason": "未报备"}, gate.tokens["gate_officer"]), 400,
                 "bad_input")
        error_of(gate.post(f"{gate.base}/gate/turn-away", {"plate": PLATE}, gate.tokens["gate_officer"]), 400,
                 "bad_input")
    assert written == []


# --- the supervision log ------------------------------------------------------------------------------

def test_log__every_step_registration_and_review_is_an_event_with_by_and_at(gate, frozen):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    enter_all_the_way(gate, frozen, did)
    officer, reviewer, supplier = (staff_id(gate.tokens[r]) for r in ("gate_officer", "reviewer", "supplier"))
    before = events_of(gate, DAY_BEFORE)
    assert [(e["type"], e["by"], e["by_role"]) for e in before] == [
        ("registered", supplier, "supplier"), ("approved", reviewer, "reviewer")]
    assert all(e["at"] == clock.iso(NOW) for e in before)
    day = events_of(gate, ARRIVAL_DAY)
    assert [e["type"] for e in day] == ["arrived", "disinfected", "routed", "release_refused", "released",
                                        "unloaded", "departed"]
    assert all((e["by"], e["by_role"], e["delivery_id"], e["plate"]) == (officer, "gate_officer", did, PLATE)
               for e in day)
    assert [e["at"] for e in day] == [clock.iso(t) for t in (
        ON_TIME, DISINFECTED, DISINFECTED + timedelta(minutes=5), REST_ENDS - timedelta(minutes=10), REST_ENDS,
        REST_ENDS + timedelta(minutes=20), REST_ENDS + timedelta(minutes=30))]
    assert len({e["event_id"] for e in before + day}) == 9
    assert all(set(e) >= {"event_id", "at", "type", "delivery_id", "plate", "by", "by_role", "details", "deviation"}
               for e in before + day)


def test_log__earlier_events_are_never_changed_by_later_steps(gate, frozen):
    delivery = gate.approved()
    first_day = events_of(gate, DAY_BEFORE)
    enter_all_the_way(gate, frozen, delivery["delivery_id"])
    assert events_of(gate, DAY_BEFORE) == first_day


def test_log__a_rejection_is_an_event_with_its_reason(gate):
    delivery = gate.registered()
    assert gate.review(delivery["delivery_id"], "reject", reason="行程卡不符").status_code == 200
    registered, rejected = events_of(gate, DAY_BEFORE)
    assert (registered["type"], rejected["type"]) == ("registered", "rejected")
    assert rejected["by"] == staff_id(gate.tokens["reviewer"]) and "行程卡不符" in str(rejected["details"])


def test_log__is_one_query(gate, frozen, dynamodb_calls):
    delivery = gate.approved()
    enter_all_the_way(gate, frozen, delivery["delivery_id"])
    dynamodb_calls.clear()
    assert len(events_of(gate, ARRIVAL_DAY)) == 7
    assert dynamodb_calls["Query"] == 1 and dynamodb_calls["Scan"] == 0, dynamodb_calls


def test_step__and_its_log_event__are_one_transaction(gate, frozen, dynamodb_calls):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    steps = [(ON_TIME, "arrive", {"plate": PLATE}), (DISINFECTED, "disinfect", {"operator": "王师傅"}),
             (DISINFECTED, "assign_point", {"point_id": gate.site["unloading_points"][0]["point_id"]}),
             (REST_ENDS, "release", {}), (REST_ENDS, "unload", {"operator": "赵"}), (REST_ENDS, "depart", {})]
    for moment, action, fields in steps:
        frozen.move_to(moment)
        dynamodb_calls.clear()
        with writes() as written:
            gate.done(did, action, **fields)
        writers = {k: v for k, v in dynamodb_calls.items() if k in ("PutItem", "UpdateItem", "DeleteItem",
                                                                     "TransactWriteItems", "BatchWriteItem")}
        assert writers == {"TransactWriteItems": 1}, (action, dynamodb_calls)
        if action != "release":   # the site and the delivery; the answer is built from what was written
            assert {k: v for k, v in dynamodb_calls.items() if k not in writers} == {"GetItem": 2}, (action, dynamodb_calls)
        assert len(written) >= 2, (action, written)  # the delivery and its event
    assert len(events_of(gate, ARRIVAL_DAY)) == 6


def test_log__lists_the_days_deviations(gate, frozen):
    late = gate.approved()
    resting = gate.approved(plate="苏N22222")
    arrive(gate, frozen, late["delivery_id"], at=ARRIVE_UNTIL + timedelta(minutes=5))
    frozen.move_to(ON_TIME)
    gate.done(resting["delivery_id"], "arrive", plate="苏N22222")
    frozen.move_to(DISINFECTED)
    gate.done(resting["delivery_id"], "disinfect", operator="王师傅")
    gate.done(resting["delivery_id"], "assign_point", point_id=gate.site["unloading_points"][1]["point_id"])
    frozen.move_to(DISINFECTED + timedelta(minutes=10))
    error_of(gate.step(resting["delivery_id"], "release"), 422, "resting")
    frozen.move_to(DISINFECTED + timedelta(minutes=11))
    assert gate.post(f"{gate.base}/gate/turn-away", {"plate": "苏E99999", "reason": "无审批"},
                     gate.tokens["gate_officer"]).status_code == 201
    log = gate.log(ARRIVAL_DAY, gate.tokens["admin"])
    assert log["day"] == ARRIVAL_DAY
    assert sorted((d["deviation"], d["plate"]) for d in log["deviations"]) == [
        ("outside_window", PLATE), ("release_before_rest", "苏N22222"), ("turned_away", "苏E99999")]
    assert {d["event_id"] for d in log["deviations"]} <= {e["event_id"] for e in log["events"]}
    assert all(e["deviation"] is None for e in log["events"] if e["event_id"] not in
               {d["event_id"] for d in log["deviations"]})


def test_log__a_day_is_the_beijing_day_from_midnight_to_midnight(gate, frozen):
    from datetime import datetime, timezone
    moments = {"苏E00001": datetime(2026, 12, 1, 15, 59, 59, tzinfo=timezone.utc),   # 23:59:59 on 1 Dec in Beijing
               "苏E00002": datetime(2026, 12, 1, 16, 0, 0, tzinfo=timezone.utc),     # 00:00:00 on 2 Dec
               "苏E00003": datetime(2026, 12, 2, 15, 59, 59, tzinfo=timezone.utc),   # 23:59:59 on 2 Dec
               "苏E00004": datetime(2026, 12, 2, 16, 0, 0, tzinfo=timezone.utc)}     # 00:00:00 on 3 Dec
    for plate, moment in moments.items():
        frozen.move_to(moment)
        assert gate.post(f"{gate.base}/gate/turn-away", {"plate": plate, "reason": "未报备"},
                         gate.tokens["gate_officer"]).status_code == 201
    assert [e["plate"] for e in events_of(gate, DAY_BEFORE)] == ["苏E00001"]
    assert [e["plate"] for e in events_of(gate, ARRIVAL_DAY)] == ["苏E00002", "苏E00003"]
    assert [e["plate"] for e in events_of(gate, "2026-12-03")] == ["苏E00004"]


def test_log__supervisor_reviewer_and_managers_read_it_others_403(gate):
    gate.registered()
    for role in ("supervisor", "reviewer", "admin", "liaison"):
        response = gate.get(f"{gate.base}/log?day={DAY_BEFORE}", gate.tokens[role])
        assert response.status_code == 200, (role, response.body)
        assert [e["type"] for e in response.json_body["events"]] == ["registered"]
    for role in ("gate_officer", "supplier", "volunteer"):
        error_of(gate.get(f"{gate.base}/log?day={DAY_BEFORE}", gate.tokens[role]), 403, "wrong_role")


def test_log__refusals_write_no_events(gate, frozen):
    body = gate.body(plate="苏NI2345")
    assert gate.register(body).status_code == 400
    delivery = gate.registered()
    assert gate.review(delivery["delivery_id"], "reject").status_code == 400
    assert [e["type"] for e in events_of(gate, DAY_BEFORE)] == ["registered"]


# --- the export -----------------------------------------------------------------------------------

def two_days(gate, frozen, **overrides) -> list[dict]:
    """Two days of events: a full entering flow, and a turn-away whose reason is a spreadsheet formula."""
    delivery = gate.approved(**overrides)
    enter_all_the_way(gate, frozen, delivery["delivery_id"])
    frozen.move_to(REST_ENDS + timedelta(hours=1))
    made = gate.post(f"{gate.base}/gate/turn-away", {"plate": "苏E99999", "reason": '=HYPERLINK("http://x.test","点")'},
                     gate.tokens["gate_officer"])
    assert made.status_code == 201, made.body
    return events_of(gate, DAY_BEFORE) + events_of(gate, ARRIVAL_DAY)


@pytest.fixture
def logged_days(gate, frozen):
    events = two_days(gate, frozen)
    assert len(events) == 10
    return events


def export(gate, fmt: str, start: str = DAY_BEFORE, end: str = ARRIVAL_DAY, token: str | None = None):
    response = get(gate.client, f"{gate.base}/log/export?format={fmt}&from={start}&to={end}",
                   token or gate.tokens["supervisor"], accept="*/*")
    gate.answers.append(response)
    return response


def json_bodies(responses) -> list[dict]:
    """The JSON objects among successful answers (the exports are not JSON)."""
    bodies = []
    for response in responses:
        if response.status_code in (200, 201) and not content_type(response):
            bodies.append(json.loads(response.body))
    return bodies


def content_type(response) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")


def plates_of(rows: list[list[str]]) -> list[str]:
    known = {PLATE, "苏E99999"}
    return [next((cell for cell in row if cell in known), None) for row in rows]


def test_export__csv_in_utf8_sig_one_row_per_event_with_the_plates(gate, logged_days):
    response = export(gate, "csv")
    assert response.status_code == 200, response.body
    assert content_type(response).startswith("text/csv")
    raw = response.body if isinstance(response.body, bytes) else response.body.encode()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(header) >= 7 and len(rows) == len(logged_days)
    assert plates_of(rows) == [e["plate"] for e in logged_days]
    assert any(cell.startswith("2026-12-02 12:10") for cell in rows[2])  # arrived, in Beijing time
    officer = staff_id(gate.tokens["gate_officer"])
    assert any("gate_officer" in cell and officer in cell for cell in rows[2])  # who: role and id
    assert any(logged_days[2]["delivery_id"] in cell for cell in rows[2])
    assert full_ids_in(response) == []


FORMULA_PLATE = '=SUM(1+2)'


def turned_away_formula(gate, frozen) -> str:
    """A turn-away whose plate, as the officer typed it, reads as a formula: the plate is the export's own
    column, so its cell starts with '=' unless the export defuses it (the contract checks registered plates
    only; a turned-away plate is recorded as read)."""
    frozen.move_to(REST_ENDS + timedelta(hours=2))
    made = gate.post(f"{gate.base}/gate/turn-away", {"plate": FORMULA_PLATE, "reason": "无牌照"},
                     gate.tokens["gate_officer"])
    assert made.status_code == 201, made.body
    assert made.json_body["plate"] == FORMULA_PLATE
    return made.json_body["plate"]


def test_export__csv_cell_starting_with_equals_is_defused(gate, frozen, logged_days):
    turned_away_formula(gate, frozen)
    text = export(gate, "csv").body
    text = text.decode("utf-8-sig") if isinstance(text, bytes) else text
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert [c for c in cells if c.startswith("=")] == []
    # the plate and the reason are kept, only defused
    assert any(FORMULA_PLATE in cell and cell != FORMULA_PLATE for cell in rows[-1])
    assert any('HYPERLINK("http://x.test"' in cell for cell in cells)


def test_export__xlsx_cell_starting_with_equals_is_text_not_a_formula(gate, frozen, logged_days):
    turned_away_formula(gate, frozen)
    sheet = openpyxl.load_workbook(io.BytesIO(export(gate, "xlsx").body)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert any(FORMULA_PLATE in str(c.value) for c in cells)


def test_export__xlsx_one_row_per_event_with_the_plates(gate, logged_days):
    response = export(gate, "xlsx")
    assert response.status_code == 200
    assert content_type(response).startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.body)).active
    header, *rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert len(rows) == len(logged_days)
    assert plates_of(rows) == [e["plate"] for e in logged_days]
    formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_export__one_day_only_has_that_days_events(gate, logged_days):
    text = export(gate, "csv", DAY_BEFORE, DAY_BEFORE).body
    text = text.decode("utf-8-sig") if isinstance(text, bytes) else text
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 2


@pytest.mark.parametrize("query", ["format=pdf&from=2026-12-01&to=2026-12-02",
                                   "format=csv&from=2026-12-02&to=2026-12-01",
                                   "format=csv&from=2026-11-01&to=2026-12-02",
                                   "format=csv&from=2026-12-01&to=12/02/2026"])
def test_export__bad_format_or_range_over_31_days__400(gate, query):
    error_of(gate.get(f"{gate.base}/log/export?{query}", gate.tokens["supervisor"]), 400, "bad_input")


def test_export__31_days__is_allowed(gate):
    assert gate.get(f"{gate.base}/log/export?format=csv&from=2026-11-02&to=2026-12-02",
                    gate.tokens["supervisor"]).status_code == 200


def test_export__gate_officer_and_supplier__403(gate):
    error_of(export(gate, "csv", token=gate.tokens["gate_officer"]), 403, "wrong_role")
    error_of(export(gate, "csv", token=gate.tokens["supplier"]), 403, "wrong_role")


# --- who may act where ---------------------------------------------------------------------------

def test_gate_steps__managers_may_act_reviewer_supervisor_supplier_may_not(gate, frozen):
    delivery = gate.approved()
    did = delivery["delivery_id"]
    frozen.move_to(ON_TIME)
    with writes() as written:
        for role in ("reviewer", "supervisor", "supplier", "volunteer"):
            error_of(gate.step(did, "arrive", token=gate.tokens[role], plate=PLATE), 403, "wrong_role")
            error_of(gate.post(f"{gate.base}/gate/turn-away", {"plate": "苏E99999", "reason": "未报备"},
                               gate.tokens[role]), 403, "wrong_role")
    assert written == []
    assert gate.step(did, "arrive", token=gate.tokens["liaison"], plate=PLATE).json_body["status"] == "arrived"
    frozen.move_to(DISINFECTED)
    assert gate.step(did, "disinfect", token=gate.tokens["admin"], operator="王").json_body["status"] == "disinfected"


def _routes(site: str, did: str) -> list[tuple[str, str, dict | None]]:
    """Every route of a site, as (method, path, body)."""
    base = f"/api/sites/{site}"
    return [
        ("GET", base, None), ("PUT", base, {"rest_minutes": 1}), ("POST", f"{base}/documents", {}),
        ("POST", f"{base}/deliveries", {"plate": PLATE}), ("GET", f"{base}/deliveries?day={ARRIVAL_DAY}", None),
        ("GET", f"{base}/deliveries/{did}", None), ("GET", f"{base}/deliveries/{did}/documents/0/identity", None),
        ("POST", f"{base}/deliveries/{did}/review", {"decision": "approve"}),
        ("POST", f"{base}/deliveries/{did}/gate", {"action": "arrive", "plate": PLATE}),
        ("POST", f"{base}/gate/turn-away", {"plate": "苏E99999", "reason": "未报备"}),
        ("GET", f"{base}/log?day={ARRIVAL_DAY}", None),
        ("GET", f"{base}/log/export?format=csv&from={ARRIVAL_DAY}&to={ARRIVAL_DAY}", None),
    ]


def call(gate, method: str, path: str, body, token: str):
    if method == "GET":
        return gate.get(path, token)
    if method == "PUT":
        return put(gate.client, path, body, token)
    return gate.post(path, body, token)


# What each of site A's people may do at their own site: at site B each of these is 404.
OWN_ROUTES = {
    "gate_officer": {"GET /api/sites/{s}", "GET deliveries?day", "GET deliveries/{d}", "POST gate",
                     "POST turn-away"},
    "reviewer": {"GET /api/sites/{s}", "GET deliveries?day", "GET deliveries/{d}", "GET documents",
                 "POST review", "GET log", "GET log/export"},
    "supervisor": {"GET /api/sites/{s}", "GET deliveries?day", "GET deliveries/{d}", "GET documents",
                   "GET log", "GET log/export"},
    "liaison": {"GET /api/sites/{s}", "PUT /api/sites/{s}", "GET deliveries?day", "GET deliveries/{d}",
                "GET documents", "POST review", "POST gate", "POST turn-away", "GET log", "GET log/export"},
}


def _label(method: str, path: str) -> str:
    for part, label in (("/log/export", "log/export"), ("/log?", "log"), ("/documents/", "documents"),
                        ("/review", "review"), ("/gate/turn-away", "turn-away"), ("/gate", "gate"),
                        ("/deliveries?", "deliveries?day"), ("/deliveries/", "deliveries/{d}")):
        if part in path:
            return f"{method} {label}"
    return f"{method} /api/sites/{{s}}" if path.count("/") == 3 else f"{method} {path.rsplit('/', 1)[1]}"


@pytest.mark.parametrize("role", list(OWN_ROUTES))
def test_staff_of_site_a__at_site_b__404_on_every_route_they_use_at_home(gate, frozen, role):
    other = another_site(gate.client, gate.demo)
    theirs = other.approved()
    frozen.move_to(ON_TIME)
    token = gate.tokens[role]
    tried = set()
    with writes() as written:
        for method, path, body in _routes(other.sid, theirs["delivery_id"]):
            label = _label(method, path)
            if label not in OWN_ROUTES[role]:
                continue
            tried.add(label)
            response = call(gate, method, path, body, token)
            gone(response)
    assert tried == OWN_ROUTES[role]
    assert written == []
    assert other.delivery(theirs["delivery_id"])["status"] == "approved"
    # and the other site's delivery is not reachable through site A's paths either
    gone(gate.get(f"{gate.base}/deliveries/{theirs['delivery_id']}", gate.tokens["reviewer"]))
    gone(gate.step(theirs["delivery_id"], "arrive", plate=PLATE))


def test_liaison_of_another_community__cannot_manage_or_act_at_this_site_404(gate, frozen):
    from api import bootstrap
    other = create_community(gate.demo["sub_district_id"], "和平里小区")
    stranger = bootstrap.create_staff("liaison", other["community_id"])
    delivery = gate.approved()
    frozen.move_to(ON_TIME)
    with writes() as written:
        for method, path, body in _routes(gate.sid, delivery["delivery_id"]):
            if _label(method, path) in OWN_ROUTES["liaison"]:
                gone(call(gate, method, path, body, stranger))
    assert written == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "approved"


def test_resident__403_on_every_gate_route(gate, frozen):
    delivery = gate.approved()
    resident = register(gate.client, gate.demo["join_key"])["token"]
    frozen.move_to(ON_TIME)
    with writes() as written:
        for method, path, body in _routes(gate.sid, delivery["delivery_id"]) + [
                ("GET", "/api/sites", None), ("POST", "/api/sites", {"name": "居民的校区"}),
                ("GET", "/api/suppliers/mine/deliveries", None)]:
            response = call(gate, method, path, body, resident)
            assert response.status_code == 403, (method, path, response.body)
            assert response.json_body["error"]["code"] == "wrong_role"
    assert written == []


def test_another_supplier__404_on_the_delivery_its_documents_and_403_at_the_gate(gate, frozen):
    from tests.api.helpers import create_supplier
    delivery = gate.approved()
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")["token"]
    base = f"{gate.base}/deliveries/{delivery['delivery_id']}"
    gone(gate.get(base, rival))
    gone(gate.get(f"{base}/documents/0/identity", rival))
    assert gate.step(delivery["delivery_id"], "arrive", token=rival, plate=PLATE).status_code in (403, 404)
    assert gate.review(delivery["delivery_id"], token=rival).status_code in (403, 404)


def test_id_numbers__never_in_full_in_any_answer(gate, frozen):
    """Every listing and view, by every role that may read it, after a whole day at the gate."""
    events = two_days(gate, frozen, people=[gate.person(), gate.person("passenger")])
    did = events[0]["delivery_id"]
    for role in ("reviewer", "gate_officer", "supervisor", "admin", "liaison", "supplier"):
        token = gate.tokens[role]
        gate.get(f"{gate.base}/deliveries/{did}", token)
        for day in (DAY_BEFORE, ARRIVAL_DAY):
            gate.get(f"{gate.base}/deliveries?day={day}", token)
            gate.get(f"{gate.base}/log?day={day}", token)
    gate.get("/api/suppliers/mine/deliveries", gate.tokens["supplier"])
    export(gate, "csv")
    export(gate, "xlsx")
    assert len(gate.answers) > 40
    leaking = [(a.status_code, full_ids_in(a)) for a in gate.answers if full_ids_in(a)]
    assert leaking == []
    shown = [p["id_masked"] for body in json_bodies(gate.answers)
             for d in (body.get("deliveries") or [body]) for p in d.get("people", [])]
    assert len(shown) > 20
    assert set(shown) == {n[:6] + "********" + n[-4:] for n in (DRIVER_ID, PASSENGER_ID)}
