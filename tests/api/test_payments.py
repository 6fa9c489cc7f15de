"""Payments: every transition of an order's money state, the races between them, fair share,
the deadline job and its cost. Each checks the exact stock and household limits after it."""
import json
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine

from api import clock, order_state, payments
from api.models import HouseholdQuota, LedgerEntry, Order
from tests.api.helpers import (
    create_community, create_round, create_supplier, error_of, fair_share_off, get, order_body, orders_in, post,
    register, stock_left, writes,
)

EGGS = 1  # 鸡蛋套餐 ¥23.50, stock 10, limit 5, in SMALL_BUNDLES
DAY = timedelta(days=1)


@pytest.fixture
def rnd(demo):
    """A round open for ten days (so fair-share windows fit inside it), with small stocks."""
    return create_round(demo["tokens"]["supplier"], [demo["community_id"]], closes_at=clock.now() + 10 * DAY)


@pytest.fixture
def flat(client, demo):
    return register(client, demo["join_key"], building="2栋", room="202", phone="13800000202")


def place(client, token, rnd, qty=2, bundle=EGGS, key=None):
    response = post(client, "/api/orders", order_body(rnd["round_id"], (rnd["bundle_ids"][bundle], qty)), token,
                    idempotency_key=key or str(uuid.uuid4()))
    return response


def placed(client, token, rnd, qty=2):
    response = place(client, token, rnd, qty)
    assert response.status_code == 201, response.body
    return response.json_body


def claim(client, token, order_id, reference="", key=None):
    body = {"reference": reference} if reference else {}
    return post(client, f"/api/orders/{order_id}/payment-claim", body, token, idempotency_key=key or str(uuid.uuid4()))


def supplier(client, demo, path, body, token=None):
    return post(client, path, body, token or demo["tokens"]["supplier"])


def confirm(client, demo, rnd, *order_ids, transactions=None, token=None):
    return supplier(client, demo, f"/api/rounds/{rnd['round_id']}/payments/confirm",
                    {"order_ids": list(order_ids), "transactions": transactions or {}}, token)


def status_of(rnd, order_id):
    return next(o for o in orders_in(rnd["round_id"]) if o.order_id == order_id).status


def eggs_left(rnd):
    return stock_left(rnd["round_id"])[rnd["bundle_ids"][EGGS]]


def quota(household_id, rnd):
    try:
        return int(HouseholdQuota.get(f"HOUSEHOLD#{household_id}", f"QUOTA#{rnd['round_id']}#{rnd['bundle_ids'][EGGS]}",
                                      consistent_read=True).qty)
    except HouseholdQuota.DoesNotExist:
        return 0


def ledger(rnd):
    return [(e.from_state, e.to_state) for e in LedgerEntry.query(f"ROUND#{rnd['round_id']}",
                                                                  LedgerEntry.sk.startswith("LEDGER#"),
                                                                  consistent_read=True)]


# --- the resident says they paid ---------------------------------------------------------

def test_claim__placed_becomes_payment_claimed_with_its_reference_and_a_ledger_entry(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)

    response = claim(client, flat["token"], order["order_id"], "0713")

    assert response.status_code == 200
    body = response.json_body
    assert (body["status"], body["payment"]["reference"]) == ("payment_claimed", "0713")
    assert body["payment"]["claimed_at"]
    assert ledger(rnd) == [("", "open"), ("open", "claimed")]
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (8, 2)


def test_claim__payment_note_names_the_flat_and_a_tag_never_the_pickup_code(client, demo, rnd):
    tower = register(client, demo["join_key"], building="3栋", unit="2单元", room="1502", phone="13800001502")
    order = placed(client, tower["token"], rnd)

    assert order["payment_note"] == f"3-2-1502 #{order['order_id'][-4:]}"
    assert order["pickup_code"] not in order["payment_note"]


def test_claim__same_key_is_a_replay_and_another_body_with_it_is_409(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    key = str(uuid.uuid4())
    first = claim(client, flat["token"], order["order_id"], "1234", key=key)

    again = claim(client, flat["token"], order["order_id"], "1234", key=key)
    other = claim(client, flat["token"], order["order_id"], "9999", key=key)

    assert (first.status_code, again.status_code) == (200, 200)
    error_of(other, 409, "idempotency_key_reused")
    assert ledger(rnd) == [("", "open"), ("open", "claimed")]


def test_claim__twice_with_new_keys__is_a_no_op(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    claim(client, flat["token"], order["order_id"], "1234")

    with writes() as written:
        response = claim(client, flat["token"], order["order_id"], "5678")

    assert response.json_body["payment"]["reference"] == "1234"
    assert written == []


@pytest.mark.parametrize("reference", ["123", "1234567", "12a4", "１２３４"])
def test_claim__reference_not_4_to_6_digits__is_400_and_writes_nothing(client, demo, rnd, flat, reference):
    order = placed(client, flat["token"], rnd)

    with writes() as written:
        response = claim(client, flat["token"], order["order_id"], reference)

    assert list(error_of(response, 400, "bad_input")["fields"]) == ["reference"]
    assert written == []
    assert status_of(rnd, order["order_id"]) == "placed"


def test_claim__an_expired_order__is_422_and_changes_nothing(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    with time_machine.travel(clock.now() + 11 * DAY, tick=False):
        assert payments.expire_due() == 1

        with writes() as written:
            response = claim(client, flat["token"], order["order_id"], "1234")

    error_of(response, 422, "not_claimable")
    assert written == []
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)


def test_claim__another_households_order__is_404(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")

    error_of(claim(client, neighbour["token"], order["order_id"]), 404, "not_found")


# --- the supplier confirms --------------------------------------------------------------

def test_confirm__claimed_and_unclaimed_orders_become_paid(client, demo, rnd, flat):
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")
    claimed = placed(client, flat["token"], rnd)
    claim(client, flat["token"], claimed["order_id"], "1234")
    unclaimed = placed(client, neighbour["token"], rnd, qty=1)

    response = confirm(client, demo, rnd, claimed["order_id"], unclaimed["order_id"])

    body = response.json_body
    assert sorted(o["order_id"] for o in body["confirmed"]) == sorted([claimed["order_id"], unclaimed["order_id"]])
    assert body["refused"] == []
    assert {o["status"] for o in body["confirmed"]} == {"paid"}
    assert eggs_left(rnd) == 7
    assert Counter(ledger(rnd))[("claimed", "paid")] == 1 and Counter(ledger(rnd))[("open", "paid")] == 1


def test_confirm__already_paid__is_confirmed_again_without_a_second_ledger_entry(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    confirm(client, demo, rnd, order["order_id"])

    response = confirm(client, demo, rnd, order["order_id"])

    assert [o["order_id"] for o in response.json_body["confirmed"]] == [order["order_id"]]
    assert Counter(ledger(rnd))[("open", "paid")] == 1


def test_confirm__expired_cancelled_and_unknown_orders__are_listed_in_refused(client, demo, rnd, flat):
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")
    cancelled = placed(client, flat["token"], rnd)
    post(client, f"/api/orders/{cancelled['order_id']}/cancel", {}, flat["token"])
    claimed = placed(client, neighbour["token"], rnd, qty=1)
    claim(client, neighbour["token"], claimed["order_id"])
    supplier(client, demo, f"/api/rounds/{rnd['round_id']}/payments/reject",
             {"order_id": claimed["order_id"], "reason": "没有收到"})

    with writes() as written:
        response = confirm(client, demo, rnd, cancelled["order_id"], claimed["order_id"], "01NOSUCHORDER")

    body = response.json_body
    assert body["confirmed"] == []
    assert {r["order_id"]: r["code"] for r in body["refused"]} == {
        cancelled["order_id"]: "order_cancelled", claimed["order_id"]: "order_expired", "01NOSUCHORDER": "not_found"}
    assert all(r["message"] and r["message_en"] for r in body["refused"])
    assert written == []
    assert eggs_left(rnd) == 10


def test_confirm__an_order_of_another_suppliers_round__is_404(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    rival = create_supplier(demo["sub_district_id"], "对面超市")

    with writes() as written:
        response = confirm(client, demo, rnd, order["order_id"], token=rival["token"])

    error_of(response, 404, "not_found")
    assert written == []
    assert status_of(rnd, order["order_id"]) == "placed"


def test_confirm__an_order_of_another_round_of_the_same_supplier__is_refused_not_found(client, demo, rnd, flat):
    fair_share_off(demo["community_id"])
    other = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    elsewhere = placed(client, flat["token"], other)

    body = confirm(client, demo, rnd, elsewhere["order_id"]).json_body

    assert [r["code"] for r in body["refused"]] == ["not_found"]
    assert status_of(other, elsewhere["order_id"]) == "placed"


@pytest.mark.parametrize("role", ["liaison", "volunteer", "admin"])
def test_confirm__not_a_supplier__is_403(client, demo, rnd, flat, role):
    order = placed(client, flat["token"], rnd)

    error_of(confirm(client, demo, rnd, order["order_id"], token=demo["tokens"][role]), 403, "wrong_role")


def test_confirm__one_transaction_number_confirms_one_order_ever(client, demo, rnd, flat):
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")
    first = placed(client, flat["token"], rnd)
    second = placed(client, neighbour["token"], rnd)
    confirm(client, demo, rnd, first["order_id"], transactions={first["order_id"]: "4200001234"})

    response = confirm(client, demo, rnd, second["order_id"], transactions={second["order_id"]: "4200001234"})

    assert [r["code"] for r in response.json_body["refused"]] == ["transaction_used"]
    assert status_of(rnd, second["order_id"]) == "placed"


# --- taking back, rejecting, cancelling, refunding ------------------------------------

def test_undo__paid_goes_back_to_claimed_with_the_reason_shown_to_the_resident(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    claim(client, flat["token"], order["order_id"], "1234")
    confirm(client, demo, rnd, order["order_id"], transactions={order["order_id"]: "4200009999"})

    response = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/payments/undo",
                        {"order_id": order["order_id"], "reason": "点错了"})

    assert response.json_body["status"] == "payment_claimed"
    seen = get(client, f"/api/orders/{order['order_id']}", flat["token"]).json_body
    assert seen["payment"]["reason"]["message"] == "供应商撤销了收款确认：点错了"
    assert seen["payment"]["confirmed_at"] is None
    assert ledger(rnd)[-1] == ("paid", "claimed")
    assert eggs_left(rnd) == 8
    # The statement row is free again for the order it really belongs to.
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")
    other = placed(client, neighbour["token"], rnd, qty=1)
    assert confirm(client, demo, rnd, other["order_id"], transactions={other["order_id"]: "4200009999"}).json_body[
        "refused"] == []


def test_undo__an_unclaimed_confirmation_goes_back_to_placed_and_unpaid_ones_are_422(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    path = f"/api/rounds/{rnd['round_id']}/payments/undo"
    error_of(supplier(client, demo, path, {"order_id": order["order_id"], "reason": "x"}), 422, "not_undoable")
    confirm(client, demo, rnd, order["order_id"])

    response = supplier(client, demo, path, {"order_id": order["order_id"], "reason": "钱没到"})

    assert response.json_body["status"] == "placed"


def test_reject__a_claim_expires_and_releases_its_stock_and_limit(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)
    claim(client, flat["token"], order["order_id"], "1234")
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (7, 3)

    response = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/payments/reject",
                        {"order_id": order["order_id"], "reason": "没有这笔款"})

    assert response.json_body["status"] == "expired"
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)
    seen = get(client, f"/api/orders/{order['order_id']}", flat["token"]).json_body
    assert seen["payment"]["reason"]["message_en"] == "The supplier found no such payment: 没有这笔款"


def test_reject__an_unclaimed_order__is_422(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)

    response = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/payments/reject",
                        {"order_id": order["order_id"], "reason": "x"})

    error_of(response, 422, "not_rejectable")
    assert eggs_left(rnd) == 8


def test_supplier_cancel__of_a_paid_order__owes_a_refund_and_releases_the_stock(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    confirm(client, demo, rnd, order["order_id"])
    resident = post(client, f"/api/orders/{order['order_id']}/cancel", {}, flat["token"])
    error_of(resident, 422, "not_cancellable")  # a paid order is not the resident's to cancel

    response = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/orders/{order['order_id']}/cancel",
                        {"reason": "缺货"})

    assert (response.json_body["status"], response.json_body["payment"]["refund"]) == ("cancelled", "due")
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)
    done = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/orders/{order['order_id']}/refunded", {})
    assert done.json_body["payment"]["refund"] == "refunded"
    assert ledger(rnd)[-2:] == [("paid", "refund_due"), ("refund_due", "refunded")]
    again = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/orders/{order['order_id']}/refunded", {})
    assert again.status_code == 200 and len(ledger(rnd)) == 4


def test_refunded__on_an_order_with_no_refund_due__is_422(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)

    response = supplier(client, demo, f"/api/rounds/{rnd['round_id']}/orders/{order['order_id']}/refunded", {})

    error_of(response, 422, "no_refund_due")


# --- the deadline --------------------------------------------------------------------



def test_expiry__k_unpaid_orders_cost_k_transactions_and_no_scan(client, demo, rnd, dynamodb_calls):
    tokens = [register(client, demo["join_key"], building="1栋", room=f"30{i}", phone=f"1380000030{i}")["token"]
              for i in range(4)]
    unpaid = [placed(client, t, rnd, qty=1) for t in tokens[:3]]
    claimed = placed(client, tokens[3], rnd, qty=1)
    claim(client, tokens[3], claimed["order_id"])
    dynamodb_calls.clear()

    with time_machine.travel(clock.now() + 11 * DAY, tick=False):
        expired = payments.expire_due()

    assert expired == 3
    assert dynamodb_calls["TransactWriteItems"] == 3
    assert dynamodb_calls["Scan"] == 0
    assert [status_of(rnd, o["order_id"]) for o in unpaid] == ["expired"] * 3
    assert status_of(rnd, claimed["order_id"]) == "payment_claimed"  # never expired by the job
    assert eggs_left(rnd) == 9


def test_expiry__running_twice__releases_nothing_twice(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)

    with time_machine.travel(clock.now() + 11 * DAY, tick=False):
        first, second = payments.expire_due(), payments.expire_due()

    assert (first, second) == (1, 0)
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)
    assert Counter(ledger(rnd))[("open", "expired")] == 1
    seen = get(client, f"/api/orders/{order['order_id']}", flat["token"]).json_body
    assert seen["payment"]["reason"]["message"].startswith("付款截止前没有收到付款")


def test_expiry__not_before_the_deadline(client, demo, rnd, flat):
    placed(client, flat["token"], rnd)

    assert payments.expire_due() == 0
    assert eggs_left(rnd) == 8


# --- races: each interleaving, by changing a stale copy after another change won ------------

def _stale(rnd, order_id) -> Order:
    return next(o for o in orders_in(rnd["round_id"]) if o.order_id == order_id)


def test_race__expiry_against_a_late_claim__the_claim_first_means_no_expiry(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)
    job_saw = _stale(rnd, order["order_id"])          # the job read the order as placed …
    claim(client, flat["token"], order["order_id"])    # … then the claim landed

    with pytest.raises(order_state.StatusChanged):
        order_state.change(job_saw, "expired", order_state.SCHEDULER, allowed=("placed",))

    assert status_of(rnd, order["order_id"]) == "payment_claimed"
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (7, 3)


def test_race__expiry_against_a_late_claim__the_expiry_first_refuses_the_claim(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)
    with time_machine.travel(clock.now() + 11 * DAY, tick=False):
        payments.expire_due()
        response = claim(client, flat["token"], order["order_id"])

    error_of(response, 422, "not_claimable")
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)
    assert Counter(to for _, to in ledger(rnd)) == Counter({"open": 1, "expired": 1})


def test_race__two_confirms_at_once__one_ledger_entry_and_both_report_paid(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    first_saw, second_saw = _stale(rnd, order["order_id"]), _stale(rnd, order["order_id"])
    actor = order_state.Actor("supplier-a", "supplier")

    one = order_state.change(first_saw, "paid", actor, allowed=payments.CONFIRMABLE)
    with pytest.raises(order_state.StatusChanged) as lost:
        order_state.change(second_saw, "paid", actor, allowed=payments.CONFIRMABLE)

    assert one.status == lost.value.current.status == "paid"
    assert Counter(ledger(rnd))[("open", "paid")] == 1
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (8, 2)


def test_race__cancel_against_confirm__confirm_first(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)
    resident_saw = _stale(rnd, order["order_id"])
    confirm(client, demo, rnd, order["order_id"])

    with pytest.raises(order_state.StatusChanged):
        order_state.change(resident_saw, "cancelled", order_state.Actor("resident", "resident"),
                           allowed=("placed", "payment_claimed"))

    assert status_of(rnd, order["order_id"]) == "paid"
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (7, 3)


def test_race__cancel_against_confirm__cancel_first(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd, qty=3)
    post(client, f"/api/orders/{order['order_id']}/cancel", {}, flat["token"])

    body = confirm(client, demo, rnd, order["order_id"]).json_body

    assert [r["code"] for r in body["refused"]] == ["order_cancelled"]
    assert (eggs_left(rnd), quota(flat["household_id"], rnd)) == (10, 0)


# --- fair share: one live order per household per N days ---------------------------------

@pytest.fixture
def frozen():
    with time_machine.travel(clock.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


def test_fair_share__a_second_order_inside_three_days__is_422_saying_when_in_beijing_time(client, demo, rnd, flat,
                                                                                         frozen):
    placed(client, flat["token"], rnd, qty=1)
    frozen.shift(3 * DAY - timedelta(seconds=1))

    with writes() as written:
        response = place(client, flat["token"], rnd, qty=1)

    error = error_of(response, 422, "fair_share")
    next_at = clock.now() + timedelta(seconds=1)
    assert error["fields"]["next_order_at"] == clock.iso(next_at)
    assert clock.shanghai(next_at) in error["message"]
    assert written == []
    assert eggs_left(rnd) == 9


def test_fair_share__at_the_end_of_the_window__the_household_may_order_again(client, demo, rnd, flat, frozen):
    placed(client, flat["token"], rnd, qty=1)
    frozen.shift(3 * DAY)

    assert place(client, flat["token"], rnd, qty=1).status_code == 201
    assert eggs_left(rnd) == 8


def test_fair_share__a_cancel_frees_the_household_to_order_again(client, demo, rnd, flat, frozen):
    first = placed(client, flat["token"], rnd, qty=1)
    frozen.shift(DAY)
    post(client, f"/api/orders/{first['order_id']}/cancel", {}, flat["token"])

    assert place(client, flat["token"], rnd, qty=1).status_code == 201
    frozen.shift(DAY)
    error_of(place(client, flat["token"], rnd, qty=1), 422, "fair_share")  # the new order holds the slot


def test_fair_share__an_expiry_frees_the_household_too(client, demo, flat, frozen):
    short = create_round(demo["tokens"]["supplier"], [demo["community_id"]], closes_at=clock.now() + timedelta(hours=1))
    long = create_round(demo["tokens"]["supplier"], [demo["community_id"]], closes_at=clock.now() + 10 * DAY)
    placed(client, flat["token"], short, qty=1)
    frozen.shift(timedelta(hours=8))  # past the short round's payment deadline (closes + 6 h)
    assert payments.expire_due() == 1

    assert place(client, flat["token"], long, qty=1).status_code == 201


def test_fair_share__the_liaisons_exemption_lets_one_household_order_in_one_round(client, demo, rnd, flat):
    placed(client, flat["token"], rnd, qty=1)
    error_of(place(client, flat["token"], rnd, qty=1), 422, "fair_share")

    response = post(client, f"/api/communities/{demo['community_id']}/households/B002.U00.R00000202/exemptions",
                    {"round_id": rnd["round_id"]}, demo["tokens"]["liaison"])

    assert response.status_code == 200
    assert place(client, flat["token"], rnd, qty=1).status_code == 201
    other = create_round(demo["tokens"]["supplier"], [demo["community_id"]], closes_at=clock.now() + 10 * DAY)
    error_of(place(client, flat["token"], other, qty=1), 422, "fair_share")  # that round only


def test_fair_share__is_per_household_not_per_community(client, demo, rnd, flat):
    neighbour = register(client, demo["join_key"], building="2栋", room="203", phone="13800000203")
    placed(client, flat["token"], rnd, qty=1)

    assert place(client, neighbour["token"], rnd, qty=1).status_code == 201


def test_fair_share__setting_zero_turns_it_off(client, demo, rnd, flat):
    placed(client, flat["token"], rnd, qty=1)
    response = client.http.patch(f"/api/communities/{demo['community_id']}/settings",
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {demo['tokens']['liaison']}"},
                                 body=json.dumps({"fair_share_days": 0}))
    assert response.json_body["settings"]["fair_share_days"] == 0

    assert place(client, flat["token"], rnd, qty=1).status_code == 201


def test_fair_share__an_assisted_order_counts_for_the_household_too(client, demo, rnd, flat):
    placed(client, flat["token"], rnd, qty=1)

    response = post(client, f"/api/communities/{demo['community_id']}/households/B002.U00.R00000202/orders",
                    order_body(rnd["round_id"], (rnd["bundle_ids"][EGGS], 1)), demo["tokens"]["liaison"],
                    idempotency_key=str(uuid.uuid4()))

    error_of(response, 422, "fair_share")


# --- the board and the chasing list -----------------------------------------------------

def test_board__totals_add_up_and_a_liaison_sees_only_their_community(client, demo, flat):
    other = create_community(demo["sub_district_id"])
    shared = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]],
                          closes_at=clock.now() + 10 * DAY)
    outsider = register(client, other["join_key"], building="1栋", room="101", phone="13800000999")
    mine = placed(client, flat["token"], shared, qty=1)
    theirs = placed(client, outsider["token"], shared, qty=2)
    confirm(client, demo, shared, theirs["order_id"])

    everything = get(client, f"/api/rounds/{shared['round_id']}/orders", demo["tokens"]["supplier"]).json_body
    ours = get(client, f"/api/rounds/{shared['round_id']}/orders", demo["tokens"]["liaison"]).json_body

    assert {o["order_id"] for o in everything["orders"]} == {mine["order_id"], theirs["order_id"]}
    assert everything["totals"]["ordered"] == {"count": 2, "fen": 3 * 2350}
    assert everything["totals"]["paid"] == {"count": 1, "fen": 2 * 2350}
    assert everything["totals"]["open"] == {"count": 1, "fen": 2350}
    assert [o["order_id"] for o in ours["orders"]] == [mine["order_id"]]
    assert ours["totals"]["ordered"] == {"count": 1, "fen": 2350}
    assert "13800000202" not in json.dumps(everything)
    error_of(get(client, f"/api/rounds/{shared['round_id']}/orders?community_id={other['community_id']}",
                 demo["tokens"]["liaison"]), 404, "not_found")


def test_board__pages_with_a_cursor_and_filters_by_status(client, demo, rnd, monkeypatch):
    monkeypatch.setattr(payments, "PAGE_SIZE", 2)
    tokens = [register(client, demo["join_key"], building="1栋", room=f"40{i}", phone=f"1380000040{i}")["token"]
              for i in range(5)]
    ids = [placed(client, t, rnd, qty=1)["order_id"] for t in tokens]
    claim(client, tokens[0], ids[0])
    path = f"/api/rounds/{rnd['round_id']}/orders"

    seen, cursor = [], None
    for _ in range(5):
        page = get(client, path + (f"?cursor={cursor}" if cursor else ""), demo["tokens"]["supplier"]).json_body
        seen += [o["order_id"] for o in page["orders"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    claimed = get(client, path + "?status=payment_claimed", demo["tokens"]["supplier"]).json_body

    assert sorted(seen) == sorted(ids)
    assert [o["order_id"] for o in claimed["orders"]] == [ids[0]]
    error_of(get(client, path + "?cursor=bm90LWEtY3Vyc29y", demo["tokens"]["supplier"]), 400, "bad_input")


def test_unpaid__lists_flats_by_building_and_the_reminder_names_flats_never_phones(client, demo, rnd):
    tower = register(client, demo["join_key"], building="3栋", unit="2单元", room="1502", phone="13800001502")
    low = register(client, demo["join_key"], building="1栋", room="101", phone="13800000101")
    paid = register(client, demo["join_key"], building="2栋", room="201", phone="13800000201")
    placed(client, tower["token"], rnd, qty=1)
    placed(client, low["token"], rnd, qty=1)
    confirm(client, demo, rnd, placed(client, paid["token"], rnd, qty=1)["order_id"])

    body = get(client, f"/api/communities/{demo['community_id']}/unpaid?round_id={rnd['round_id']}",
               demo["tokens"]["liaison"]).json_body

    assert [b["building"] for b in body["buildings"]] == ["1栋", "3栋"]
    deadline = datetime.fromisoformat(body["deadline"].replace("Z", "+00:00")).astimezone(clock.SHANGHAI)
    assert body["reminder"] == (f"【付款提醒】测试团购付款截止{deadline.month}月{deadline.day}日{deadline:%H:%M}，"
                                "以下房号还未付款：1栋101、3栋2单元1502。逾期订单不予配送。")
    assert body["buildings"][0]["orders"][0]["phone_masked"] == "138****0101"


def test_unpaid__lists_the_recent_rounds_to_choose_from_newest_first(client, demo, rnd):
    path = f"/api/communities/{demo['community_id']}/unpaid"
    newest = get(client, path, demo["tokens"]["liaison"]).json_body
    chosen = get(client, f"{path}?round_id={demo['round_id']}", demo["tokens"]["liaison"]).json_body

    assert [r["round_id"] for r in newest["rounds"]] == [rnd["round_id"], demo["round_id"]]
    assert newest["round"]["round_id"] == rnd["round_id"]  # by default, the newest
    assert chosen["round"]["round_id"] == demo["round_id"] and chosen["rounds"] == newest["rounds"]


def test_unpaid__another_communitys_liaison__is_404(client, demo, rnd):
    other = create_community(demo["sub_district_id"])
    from api import bootstrap
    outsider = bootstrap.create_staff("liaison", other["community_id"])

    error_of(get(client, f"/api/communities/{demo['community_id']}/unpaid", outsider), 404, "not_found")


def test_ledger__is_the_suppliers_only(client, demo, rnd, flat):
    placed(client, flat["token"], rnd)

    entries = get(client, f"/api/rounds/{rnd['round_id']}/ledger", demo["tokens"]["supplier"]).json_body["entries"]

    assert [(e["from"], e["to"], e["amount_fen"]) for e in entries] == [("", "open", 4700)]
    error_of(get(client, f"/api/rounds/{rnd['round_id']}/ledger", demo["tokens"]["liaison"]), 403, "wrong_role")


# --- every payment route, as a neighbour with the gate poster, a pending phone, another supplier
# --- and another community's staff ------------------------------------------------------------

def _call(client, method, path, body, token, content_type="application/json"):
    headers = {"content-type": content_type, "authorization": f"Bearer {token}", "idempotency-key": "matrix-key-2"}
    if method == "GET":
        return client.http.get(path, headers=headers)
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.http.post(path, headers=headers, body=raw)


def _supplier_routes(rnd, order_id):
    r = f"/api/rounds/{rnd['round_id']}"
    return [("POST", f"{r}/payments/confirm", {"order_ids": [order_id]}),
            ("POST", f"{r}/payments/undo", {"order_id": order_id, "reason": "x"}),
            ("POST", f"{r}/payments/reject", {"order_id": order_id, "reason": "x"}),
            ("POST", f"{r}/orders/{order_id}/cancel", {"reason": "x"}),
            ("POST", f"{r}/orders/{order_id}/refunded", {}),
            ("GET", f"{r}/ledger", None)]


def test_every_supplier_payment_route__another_supplier__is_404_and_writes_nothing(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    rival = create_supplier(demo["sub_district_id"], "对面超市")

    with writes() as written:
        for method, path, body in _supplier_routes(rnd, order["order_id"]):
            response = _call(client, method, path, body, rival["token"])
            assert response.status_code == 404, (path, response.body)
        statement = _call(client, "POST", f"/api/rounds/{rnd['round_id']}/payments/statement", b"a,b\n1,2\n",
                          rival["token"], "application/octet-stream")
        assert statement.status_code == 404, statement.body
    assert written == []
    assert (status_of(rnd, order["order_id"]), eggs_left(rnd)) == ("placed", 8)


@pytest.mark.parametrize("who", ["resident", "liaison", "info_officer"])
def test_every_supplier_payment_route__not_a_supplier__is_403_and_writes_nothing(client, demo, rnd, flat, who):
    order = placed(client, flat["token"], rnd)
    token = flat["token"] if who == "resident" else demo["tokens"][who]

    with writes() as written:
        for method, path, body in _supplier_routes(rnd, order["order_id"]):
            response = _call(client, method, path, body, token)
            assert (response.status_code, response.json_body["error"]["code"]) == (403, "wrong_role"), path
    assert written == []


def test_claim__a_pending_phone_of_the_flat__is_404_and_writes_nothing(client, demo, rnd, flat):
    order = placed(client, flat["token"], rnd)
    pending = register(client, demo["join_key"], building="2栋", room="202", phone="13900000202")
    assert pending["membership"] == "pending"

    with writes() as written:
        response = claim(client, pending["token"], order["order_id"], "1234")

    error_of(response, 404, "not_a_member")
    assert written == []
    assert status_of(rnd, order["order_id"]) == "placed"


def test_community_payment_routes__another_communitys_staff__are_404_and_residents_403(client, demo, rnd, flat):
    from api import bootstrap
    other = create_community(demo["sub_district_id"])
    outsider = bootstrap.create_staff("liaison", other["community_id"])
    c = f"/api/communities/{demo['community_id']}"
    routes = [("GET", f"/api/rounds/{rnd['round_id']}/orders", None), ("GET", f"{c}/unpaid", None),
              ("POST", f"{c}/households/B002.U00.R00000202/exemptions", {"round_id": rnd["round_id"]})]

    with writes() as written:
        for method, path, body in routes:
            assert _call(client, method, path, body, outsider).status_code == 404, path
            response = _call(client, method, path, body, flat["token"])
            assert (response.status_code, response.json_body["error"]["code"]) == (403, "wrong_role"), path
    assert written == []
