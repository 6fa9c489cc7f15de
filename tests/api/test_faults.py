"""Fault injection (issue 12, point 3): DynamoDB throttles, TransactionConflict, timeouts and dropped
connections injected into the app's own botocore client (tests/api/faults.py), at each DynamoDB call
of a request. The answer is a success or a 503 with Retry-After, never a 500; the table holds the whole
write or none of it; and the client's retry with the same Idempotency-Key ends with exactly one.

Each write case first runs its request once unfaulted to learn its calls (`sequence`), so a new call
on a route's path is covered without editing this file.
"""
import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from api import auth, errors, order_state
from api import orders as orders_module
from api.models import (
    FairShare, HouseholdQuota, IdempotencyRecord, LedgerEntry, Order, OrderKey, PickupCodeClaim, TransactionUse,
)
from tests.api.faults import ATTEMPTS_PER_CALL, KINDS, PER_ATTEMPT, injected
from tests.api import gate_helpers
from tests.api.helpers import get, households_in, new_key, place_order, post, register, stock_left

_rooms = itertools.count(101)
bucket, frozen, gate = gate_helpers.bucket, gate_helpers.frozen, gate_helpers.gate  # fixtures, for the gate's test


def _flat(client, demo) -> dict:
    """A newly registered flat of the demo community: {token, subject, household_id, room}."""
    room = str(next(_rooms))
    body = register(client, demo["join_key"], building="2栋", room=room, phone=f"139{int(room):08d}")
    subject = auth.from_headers({"authorization": f"Bearer {body['token']}"}).subject
    return {"token": body["token"], "subject": subject, "household_id": body["household_id"], "room": room}


def _order_of(client, demo, flat, bundle=0) -> dict:
    response = place_order(client, flat["token"], demo["round_id"], (demo["bundle_ids"][bundle], 1))
    assert response.status_code == 201, response.body
    return response.json_body


def _confirm(client, demo, order_id, txn=None):
    return post(client, f"/api/rounds/{demo['round_id']}/payments/confirm",
                {"order_ids": [order_id], "transactions": {order_id: txn} if txn else {}}, demo["tokens"]["supplier"])


def _stored(order: dict) -> Order:
    key = OrderKey.get(f"ORDERID#{order['order_id']}", "ORDERID", consistent_read=True)
    return Order.get(f"ROUND#{key.round_id}", key.order_sk, consistent_read=True)


def _ledger(round_id: str, order_id: str, to_state: str) -> int:
    return sum(1 for e in LedgerEntry.query(f"ROUND#{round_id}", LedgerEntry.sk.startswith("LEDGER#"),
                                            consistent_read=True)
               if e.order_id == order_id and e.to_state == to_state)


def _record(subject: str, key: str) -> IdempotencyRecord | None:
    try:
        return IdempotencyRecord.get(f"IDEMPOTENCY#{subject}#{key}", "IDEMPOTENCY", consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None


def _quota(household_id: str, round_id: str, bundle_id: str) -> int:
    try:
        return int(HouseholdQuota.get(f"HOUSEHOLD#{household_id}", f"QUOTA#{round_id}#{bundle_id}",
                                      consistent_read=True).qty or 0)
    except HouseholdQuota.DoesNotExist:
        return 0


# --- the write cases: setup, the request, and what the table holds after ("none", "whole", or a description
# of a half-written state, which fails) ---------------------------------------------------------------------

@dataclass
class Case:
    name: str
    setup: Callable  # (client, demo) -> ctx
    call: Callable  # (client, demo, ctx) -> response; the same ctx["key"] on every call
    state: Callable  # (demo, ctx) -> "none" | "whole" | anything else (half-written)
    write_op: str = "TransactWriteItems"


def _order_setup(client, demo):
    flat = _flat(client, demo)
    bundle = demo["bundle_ids"][1]
    return {**flat, "key": new_key(), "bundle": bundle, "before": stock_left(demo["round_id"])[bundle]}


def _order_call(client, demo, ctx):
    return place_order(client, ctx["token"], demo["round_id"], (ctx["bundle"], 1), key=ctx["key"])


def _order_state(demo, ctx):
    rid = demo["round_id"]
    orders = [o for o in Order.by_owner.query(f"HOUSEHOLD#{ctx['household_id']}", Order.gsi1sk.startswith("ORDER#"))]
    stock = stock_left(rid)[ctx["bundle"]]
    quota = _quota(ctx["household_id"], rid, ctx["bundle"])
    record = _record(ctx["subject"], ctx["key"])
    if not orders and stock == ctx["before"] and quota == 0 and record is None:
        return "none"
    if len(orders) != 1:
        return f"{len(orders)} orders"
    order = Order.get(orders[0].pk, orders[0].sk, consistent_read=True)
    code = PickupCodeClaim.get(f"PICKUP#{rid}#{order.pickup_code}", "PICKUP", consistent_read=True)
    by_id = OrderKey.get(f"ORDERID#{order.order_id}", "ORDERID", consistent_read=True)
    try:
        slot = FairShare.get(f"COMMUNITY#{demo['community_id']}", f"FAIRSHARE#{order_state.flat_key_of(order)}",
                             consistent_read=True).order_id
    except FairShare.DoesNotExist:
        slot = None
    whole = (stock == ctx["before"] - 1 and quota == 1 and record is not None and record.result_sk == order.sk
             and code.order_id == order.order_id and by_id.order_sk == order.sk
             and _ledger(rid, order.order_id, "open") == 1 and slot in (None, order.order_id))
    return "whole" if whole else (f"stock {ctx['before']}->{stock}, quota {quota}, record {record is not None}, "
                                  f"code {code.order_id}, ledger {_ledger(rid, order.order_id, 'open')}")


def _claim_setup(client, demo):
    flat = _flat(client, demo)
    return {**flat, "key": new_key(), "order": _order_of(client, demo, flat)}


def _claim_call(client, demo, ctx):
    return post(client, f"/api/orders/{ctx['order']['order_id']}/payment-claim", {"reference": "8812"}, ctx["token"],
                idempotency_key=ctx["key"])


def _claim_state(demo, ctx):
    order = _stored(ctx["order"])
    record = _record(ctx["subject"], ctx["key"])
    claimed = _ledger(demo["round_id"], order.order_id, "claimed")
    if order.status == "placed" and record is None and claimed == 0:
        return "none"
    if order.status == "payment_claimed" and record is not None and claimed == 1 and order.payment_reference == "8812":
        return "whole"
    return f"status {order.status}, record {record is not None}, claimed entries {claimed}"


def _confirm_setup(client, demo):
    flat = _flat(client, demo)
    return {**flat, "order": _order_of(client, demo, flat), "txn": f"TXN{new_key()[5:25]}"}


def _confirm_call(client, demo, ctx):
    return _confirm(client, demo, ctx["order"]["order_id"], ctx["txn"])


def _txn_used(demo, ctx) -> bool:
    try:
        TransactionUse.get(f"SUPPLIER#{demo['supplier_id']}", f"TXN#{ctx['txn']}", consistent_read=True)
        return True
    except TransactionUse.DoesNotExist:
        return False


def _confirm_state(demo, ctx):
    order = _stored(ctx["order"])
    paid = _ledger(demo["round_id"], order.order_id, "paid")
    used = _txn_used(demo, ctx)
    if order.status == "placed" and paid == 0 and not used:
        return "none"
    if order.status == "paid" and paid == 1 and used and order.transaction_id == ctx["txn"]:
        return "whole"
    return f"status {order.status}, paid entries {paid}, transaction used {used}"


def _pickup_setup(client, demo):
    ctx = _confirm_setup(client, demo)
    assert _confirm(client, demo, ctx["order"]["order_id"]).json_body["confirmed"]
    return {**ctx, "key": new_key(), "volunteer": auth.from_headers(
        {"authorization": f"Bearer {demo['tokens']['volunteer']}"}).subject}


def _pickup_call(client, demo, ctx):
    return post(client, f"/api/orders/{ctx['order']['order_id']}/pickup", {"method": "self"},
                demo["tokens"]["volunteer"], idempotency_key=ctx["key"])


def _pickup_state(demo, ctx):
    order = _stored(ctx["order"])
    record = _record(ctx["volunteer"], ctx["key"])
    if order.status == "paid" and record is None and order.picked_up_at is None:
        return "none"
    if order.status == "picked_up" and record is not None and order.picked_up_at is not None:
        return "whole"
    return f"status {order.status}, record {record is not None}, picked_up_at {order.picked_up_at}"


def _cancel_setup(client, demo):
    flat = _flat(client, demo)
    bundle = demo["bundle_ids"][1]
    before = stock_left(demo["round_id"])[bundle]
    return {**flat, "bundle": bundle, "before": before, "order": _order_of(client, demo, flat, bundle=1)}


def _cancel_call(client, demo, ctx):
    return post(client, f"/api/orders/{ctx['order']['order_id']}/cancel", {}, ctx["token"])


def _cancel_state(demo, ctx):
    order = _stored(ctx["order"])
    stock = stock_left(demo["round_id"])[ctx["bundle"]]
    quota = _quota(ctx["household_id"], demo["round_id"], ctx["bundle"])
    cancelled = _ledger(demo["round_id"], order.order_id, "cancelled")
    if order.status == "placed" and stock == ctx["before"] - 1 and quota == 1 and cancelled == 0:
        return "none"
    if order.status == "cancelled" and stock == ctx["before"] and quota == 0 and cancelled == 1:
        return "whole"
    return f"status {order.status}, stock {ctx['before']}->{stock}, quota {quota}, cancelled entries {cancelled}"


def _join_setup(client, demo):
    room = str(next(_rooms))
    return {"room": room, "phone": f"137{int(room):08d}"}


def _join_call(client, demo, ctx):
    return post(client, f"/api/join/{demo['join_key']}/households",
                {"building": "1栋", "room": ctx["room"], "phone": ctx["phone"]})


def _flats_state(building):
    def state(demo, ctx):
        found = [h for h in households_in(demo["community_id"]) if h.building == building and h.room == ctx["room"]]
        if not found:
            return "none"
        return "whole" if len(found) == 1 else f"{len(found)} households for one flat"
    return state


def _roster_setup(client, demo):
    return {"room": str(next(_rooms))}


def _roster_call(client, demo, ctx):
    return post(client, f"/api/communities/{demo['community_id']}/households",
                {"building": "3栋", "unit": "1单元", "room": ctx["room"]}, demo["tokens"]["liaison"])


CASES = {c.name: c for c in [
    Case("order", _order_setup, _order_call, _order_state),
    Case("payment_claim", _claim_setup, _claim_call, _claim_state),
    Case("payments_confirm", _confirm_setup, _confirm_call, _confirm_state),
    Case("pickup", _pickup_setup, _pickup_call, _pickup_state),
    Case("cancel", _cancel_setup, _cancel_call, _cancel_state),
    Case("household_join", _join_setup, _join_call, _flats_state("1栋"), write_op="PutItem"),
    Case("roster_register", _roster_setup, _roster_call, _flats_state("3栋"), write_op="PutItem"),
]}


def _assert_answer(response, where: str) -> None:
    """A success, or a 503 in our error format with Retry-After: never a 500 (or any other 5xx)."""
    assert response.status_code != 500, f"{where}: 500 {response.body[:300]!r}"
    if response.status_code >= 300:
        assert response.status_code == 503, f"{where}: {response.status_code} {response.body[:300]!r}"
        assert int(response.headers["Retry-After"]) > 0
        assert response.json_body["error"]["code"] == "storage_busy"
        assert response.json_body["error"]["message"] and response.json_body["error"]["message_en"]


def _run(client, demo, monkeypatch, case: Case, faults: list[tuple], retry: bool = True) -> list[int]:
    """Set up, make the request under `faults` ((op, kind, call, attempts)), check the answer and the
    table, then (if `retry`) repeat the request unfaulted and check it ends with the whole write once."""
    ctx = case.setup(client, demo)
    with injected(monkeypatch) as injector:
        for op, kind, call, attempts in faults:
            injector.inject(op, kind, call=call, attempts=attempts)
        response = case.call(client, demo, ctx)
    where = f"{case.name} under {faults} (calls {injector.sequence})"
    _assert_answer(response, where)
    state = case.state(demo, ctx)
    assert state in ("none", "whole"), f"{where}: half-written: {state}"
    if response.status_code < 300:
        assert state == "whole", f"{where}: answered {response.status_code} but the table holds {state}"
    statuses = [response.status_code]
    if retry:
        again = case.call(client, demo, ctx)
        assert again.status_code in (200, 201), f"{where}, then retried: {again.status_code} {again.body[:300]!r}"
        assert case.state(demo, ctx) == "whole", f"{where}, then retried: {case.state(demo, ctx)}"
        statuses.append(again.status_code)
    return statuses


def _sequence(client, demo, case: Case) -> list[str]:
    ctx = case.setup(client, demo)
    with injected() as injector:
        response = case.call(client, demo, ctx)
    assert response.status_code in (200, 201), response.body
    assert case.state(demo, ctx) == "whole"
    return list(injector.sequence)


# --- every call of each write route, under a throttle and a timeout that outlast botocore's retries ---------

def _params(kinds):
    return [pytest.param(name, kind) for name in CASES for kind in kinds]


@pytest.mark.parametrize("name, kind", _params(["throttle", "read_timeout"]))
def test_write_route__fault_at_each_call__is_503_or_done_and_whole_or_nothing(client, demo, monkeypatch, name, kind):
    case = CASES[name]
    sequence = _sequence(client, demo, case)
    assert case.write_op in sequence
    answered = []
    for position in range(1, len(sequence) + 1):
        answered.append(_run(client, demo, monkeypatch, case, [("*", kind, position, None)])[0])
    assert 503 in answered  # the faults reached the API: not all absorbed or skipped


# --- every fault kind at the write itself ----------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", _params([*KINDS, "lost", "lost_after"]))
def test_write_route__fault_on_the_write__is_503_or_done_and_whole_or_nothing(client, demo, monkeypatch, name, kind):
    case = CASES[name]
    if kind in ("conflict", "txn_throttle") and case.write_op != "TransactWriteItems":
        pytest.skip("a TransactionCanceledException answers only TransactWriteItems")
    statuses = _run(client, demo, monkeypatch, case, [(case.write_op, kind, 1, None)])
    if kind in PER_ATTEMPT or kind == "lost_after":
        assert statuses[0] == 503  # outlasted botocore's retries: the API says so
    if kind == "conflict" and case.write_op == "TransactWriteItems":
        assert statuses[0] in (200, 201)  # one conflict: the module's own retry places it


@pytest.mark.parametrize("kind", ["throttle", "read_timeout", "closed"])
def test_order__fault_on_fewer_attempts_than_botocore_makes__is_absorbed(client, demo, monkeypatch, kind):
    """PynamoDB's client retries in botocore's standard mode: 4 attempts a call. Three failed attempts
    of the TransactWriteItems are invisible to the app (one order, 201); all four are a 503."""
    case = CASES["order"]
    statuses = _run(client, demo, monkeypatch, case, [("TransactWriteItems", kind, 1, ATTEMPTS_PER_CALL - 1)],
                    retry=False)
    assert statuses == [201]
    statuses = _run(client, demo, monkeypatch, case, [("TransactWriteItems", kind, 1, ATTEMPTS_PER_CALL)])
    assert statuses[0] == 503


def test_order__conflict_on_every_try__is_503_and_nothing_written(client, demo, monkeypatch):
    case = CASES["order"]
    ctx = case.setup(client, demo)
    with injected(monkeypatch) as injector:
        for call in range(1, 20):
            injector.inject("TransactWriteItems", "conflict", call=call)
        response = case.call(client, demo, ctx)
    _assert_answer(response, "order under persistent conflicts")
    assert response.status_code == 503 and case.state(demo, ctx) == "none"


# --- the client's loop: faults on its first k attempts, then the same Idempotency-Key until a 2xx -------------

@pytest.mark.parametrize("kind", ["throttle", "throttling", "read_timeout", "connect_timeout", "endpoint", "closed",
                                  "server_error", "txn_throttle", "lost", "lost_after"])
def test_order__client_retrying_with_the_same_key__ends_with_exactly_one_order(client, demo, monkeypatch, kind):
    case = CASES["order"]
    ctx = case.setup(client, demo)
    statuses = []
    with injected(monkeypatch) as injector:
        # The first three requests each fail on their write, whatever botocore retries in between.
        for call in (1, 2, 3):
            injector.inject("TransactWriteItems", kind, call=call)
        for _ in range(10):
            response = case.call(client, demo, ctx)
            _assert_answer(response, f"order, attempt {len(statuses) + 1} under {kind}")
            statuses.append(response.status_code)
            assert case.state(demo, ctx) in ("none", "whole")
            if response.status_code < 300:
                break
    assert statuses[:3] == [503, 503, 503] and statuses[3] in (200, 201), statuses
    assert case.state(demo, ctx) == "whole"  # one order, stock taken once, quota counted once
    body = response.json_body
    again = case.call(client, demo, ctx)
    assert again.status_code == 200 and again.json_body["order_id"] == body["order_id"]


@pytest.mark.parametrize("kind", ["lost_after", "lost"])
def test_order__write_landed_but_answer_lost__the_retry_gets_the_same_order(client, demo, monkeypatch, kind):
    """The TransactWriteItems went through in DynamoDB, and its answer never came back."""
    case = CASES["order"]
    ctx = case.setup(client, demo)
    with injected(monkeypatch) as injector:
        injector.inject("TransactWriteItems", kind, call=1)
        lost = case.call(client, demo, ctx)
    _assert_answer(lost, kind)
    assert case.state(demo, ctx) == "whole"  # it landed
    (order,) = list(Order.by_owner.query(f"HOUSEHOLD#{ctx['household_id']}", Order.gsi1sk.startswith("ORDER#")))
    if lost.status_code < 300:  # botocore's own retry met the order already there: answered as a replay
        assert lost.json_body["order_id"] == order.order_id
    retried = case.call(client, demo, ctx)
    assert retried.status_code == 200, retried.body  # a replay: not a second order, not a 409
    assert retried.json_body["order_id"] == order.order_id
    assert case.state(demo, ctx) == "whole"


def test_order__lost_answer_for_the_last_unit__the_retry_gets_the_order_not_sold_out(client, demo, monkeypatch):
    """The lost write took the last of the bundle: the retry's read sees it sold out, and still replays."""
    bundle = demo["bundle_ids"][2]  # per household 1
    flats = []
    while stock_left(demo["round_id"])[bundle] > 1:
        flat = _flat(client, demo)
        assert place_order(client, flat["token"], demo["round_id"], (bundle, 1)).status_code == 201
        flats.append(flat)
    flat, key = _flat(client, demo), new_key()
    with injected(monkeypatch) as injector:
        injector.inject("TransactWriteItems", "lost_after", call=1)
        assert place_order(client, flat["token"], demo["round_id"], (bundle, 1), key=key).status_code == 503
    assert stock_left(demo["round_id"])[bundle] == 0
    retried = place_order(client, flat["token"], demo["round_id"], (bundle, 1), key=key)
    assert retried.status_code == 200, retried.body
    assert len(list(Order.by_owner.query(f"HOUSEHOLD#{flat['household_id']}",
                                         Order.gsi1sk.startswith("ORDER#")))) == 1


# --- read routes under throttling -----------------------------------------------------------------------------

def _reads(client, demo):
    flat = _flat(client, demo)
    order = _order_of(client, demo, flat)
    rid, cid = demo["round_id"], demo["community_id"]
    t = demo["tokens"]
    return [
        ("/api/orders/mine", flat["token"]),
        (f"/api/orders/{order['order_id']}", flat["token"]),
        ("/api/households/mine", flat["token"]),
        ("/api/notices/mine", flat["token"]),
        (f"/api/join/{demo['join_key']}", None),
        (f"/api/rounds/{rid}/orders", t["supplier"]),
        ("/api/suppliers/mine/rounds", t["supplier"]),
        (f"/api/rounds/{rid}/ledger", t["supplier"]),
        (f"/api/communities/{cid}", t["liaison"]),
        (f"/api/communities/{cid}/roster", t["liaison"]),
        (f"/api/communities/{cid}/unpaid", t["liaison"]),
        (f"/api/orders/{order['order_id']}/pickup", t["volunteer"]),
        (f"/api/rounds/{rid}/pickup/{order['pickup_code']}", t["volunteer"]),
        (f"/api/communities/{cid}/rounds/{rid}/progress", t["liaison"]),
    ]


@pytest.mark.parametrize("kind", ["throttle", "throttling", "read_timeout", "endpoint"])
def test_read_routes__under_throttling__are_503_with_retry_after(client, demo, monkeypatch, kind):
    for path, token in _reads(client, demo):
        with injected() as probe:
            plain = get(client, path, token)
        assert plain.status_code == 200, (path, plain.status_code, plain.body[:200])
        reads = [i for i, op in enumerate(probe.sequence, 1) if op in ("GetItem", "Query", "BatchGetItem")]
        assert reads, path
        for position in (reads[0], reads[-1]):
            with injected(monkeypatch) as injector:
                injector.inject("*", kind, call=position)
                response = get(client, path, token)
            _assert_answer(response, f"GET {path} under {kind} at call {position} of {probe.sequence}")
            assert response.status_code == 503, (path, position, probe.sequence)


# --- the guard itself ----------------------------------------------------------------------------------------

def test_every_route_view_is_guarded():
    """Every route goes through errors.guarded (api/openapi.documented applies it), so a storage failure
    that escapes any view is a 503: Chalice would turn it into its own 500 before app.py's middleware."""
    from app import app
    wrapper = errors.guarded(lambda: None).__code__
    unguarded = [f"{method} {path}" for path, methods in app.routes.items() for method, entry in methods.items()
                 if entry.view_function.__code__ is not wrapper]
    assert not unguarded
    assert len(app.routes) > 50


def test_a_bug_is_still_a_500_not_a_503(client, demo, monkeypatch):
    """The guard turns storage failures into 503s, and nothing else: a bug stays a 500 (in our format)."""
    flat = _flat(client, demo)

    def broken(*args, **kwargs):
        raise KeyError("a bug")
    monkeypatch.setattr(orders_module, "mine", broken)
    response = get(client, "/api/orders/mine", flat["token"])
    assert response.status_code == 500 and response.json_body["error"]["code"] == "internal_error"


@pytest.mark.parametrize("kind", ["throttle", "read_timeout"])
def test_a_storage_failure_outside_any_storage_errors_block_is_503(client, demo, monkeypatch, kind):
    """payments.claim reads the order back after its transaction outside any storage_errors(): only the
    view's guard stands between that read and a 500. The claim landed; the retry answers it."""
    case = CASES["payment_claim"]
    sequence = _sequence(client, demo, case)
    last = len(sequence)
    assert sequence[-1] == "GetItem" and sequence[-2] == "TransactWriteItems"
    statuses = _run(client, demo, monkeypatch, case, [("*", kind, last, None)])
    assert statuses == [503, 200]


# --- a sample of other write routes: each call under a throttle and a timeout --------------------------------

def _each_call(client, demo, monkeypatch, setup, call, kinds=("throttle", "read_timeout")):
    """`call(ctx)` once unfaulted to learn its calls, then with each call failing: a success or a 503
    with Retry-After, never a 500; returns [(kind, position, status, ctx)] for the caller's own checks."""
    ctx = setup()
    with injected() as probe:
        plain = call(ctx)
    assert plain.status_code in (200, 201), plain.body
    out = []
    for kind in kinds:
        for position in range(1, len(probe.sequence) + 1):
            ctx = setup()
            with injected(monkeypatch) as injector:
                injector.inject("*", kind, call=position)
                response = call(ctx)
            _assert_answer(response, f"{kind} at call {position} of {probe.sequence}")
            out.append((kind, position, response.status_code, ctx))
    assert any(status == 503 for _, _, status, _ in out)
    return out


def test_ledger_distribute__faults__503_or_done_and_counted_once_or_not_at_all(client, demo, monkeypatch):
    from tests.api.supply_helpers import balance, distribute, ledger, received_allocation
    token, cid = demo["tokens"]["liaison"], demo["community_id"]
    allocation = received_allocation(client, demo)

    def setup():
        return {"before": balance(ledger(client, token, cid))}

    def call(ctx):
        return distribute(client, token, cid, allocation["allocation_id"], 1)
    for kind, position, status, ctx in _each_call(client, demo, monkeypatch, setup, call):
        after = balance(ledger(client, token, cid))
        assert after in (ctx["before"], ctx["before"] - 1), (kind, position, ctx["before"], after)
        if status < 300:
            assert after == ctx["before"] - 1


def test_slots_generate__faults__503_or_done(client, demo, monkeypatch):
    from api import clock as clk
    base = f"/api/communities/{demo['community_id']}/rounds/{demo['round_id']}"
    _order_of(client, demo, _flat(client, demo))

    def call(ctx):
        return post(client, f"{base}/slots/generate", {
            "start_at": clk.iso(clk.now() + timedelta(hours=2)), "minutes_per_slot": 20, "households_per_slot": 5,
            "building_order": ["2栋"]}, demo["tokens"]["liaison"])
    _each_call(client, demo, monkeypatch, dict, call)
    assert call({}).status_code in (200, 201)  # the plan can still be made after all that


def test_gate_arrive__faults__503_or_done_and_the_delivery_arrives_once(client, demo, monkeypatch, gate, frozen):
    from tests.api.gate_helpers import ARRIVE_FROM, NOW, PLATE

    def setup():
        frozen.move_to(NOW)
        did = gate.approved()["delivery_id"]
        frozen.move_to(ARRIVE_FROM + timedelta(minutes=10))
        return {"did": did}

    def call(ctx):
        return gate.step(ctx["did"], "arrive", plate=PLATE)
    for kind, position, status, ctx in _each_call(client, demo, monkeypatch, setup, call):
        shown = gate.delivery(ctx["did"])
        assert shown["status"] in ("approved", "arrived"), (kind, position, shown["status"])
        if status < 300:
            assert shown["status"] == "arrived"


def test_order__botocore_resends_a_transaction_with_one_client_request_token(client, demo, monkeypatch):
    """Why a lost answer is safe in AWS: botocore fills TransactWriteItems' ClientRequestToken (an
    idempotency token in its model) once per call and resends it on each retry, and DynamoDB answers a
    repeat of a token it has done within 10 minutes as a success, writing nothing more. (moto ignores the
    token; the "lost" faults above show the app copes with that too.)"""
    import json

    from api import models
    tokens = []

    def remember(request, **kwargs):
        tokens.append(json.loads(request.body).get("ClientRequestToken"))
    events = models.dynamodb_client().meta.events
    case = CASES["order"]
    ctx = case.setup(client, demo)
    with injected(monkeypatch) as injector:
        events.register_first("before-send.dynamodb.TransactWriteItems", remember, unique_id="faults-token")
        try:
            injector.inject("TransactWriteItems", "read_timeout", attempts=2)
            response = case.call(client, demo, ctx)
        finally:
            events.unregister("before-send.dynamodb.TransactWriteItems", unique_id="faults-token")
    assert response.status_code == 201
    assert len(tokens) == 3 and tokens[0] and len(set(tokens)) == 1, tokens
