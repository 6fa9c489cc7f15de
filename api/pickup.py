"""取货 collecting bags on pickup day: the volunteer's building list, a bag found by its 取货码
(pickup code) or its label's QR, marking it collected (at the distribution point, or 送货上门
at the door), undoing a mistake, and the liaison's live progress per building.

Marking is one conditional UpdateItem on the order: it moves to picked_up only from a status
that may be collected (paid, packed, at_gate), keeping the status it had so an undo within
10 minutes can put it back. A second mark, by the same volunteer or another, finds it collected
and returns the one record (its first time, person and method): never two pickups of one bag.
Staff of another community, and codes of another round, get 404; unpaid, expired and cancelled
orders are refused in plain words.
"""
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from api import clock, communities, households, idempotency, order_state, roster, rounds, slots
from api.auth import Principal
from api.errors import NotFound, Refused, StorageBusy, storage_errors
from api.models import Household, Order, OrderKey, PickupCodeClaim, SlotPlan, transaction_connection

STAFF = ("volunteer", "liaison", "info_officer")
COLLECTABLE = ("paid", "packed", "at_gate")
UNDO_WINDOW = timedelta(minutes=10)
_UNPAID = ("placed", "payment_claimed")


def _not_found() -> NotFound:
    return NotFound("找不到这个订单，或它不是本小区本期团购的", "No such order in this community's round")


def _staff_order(principal: Principal, order: Order | None) -> Order:
    """The order, if the caller is staff of its community; otherwise it does not exist for them."""
    if order is None:
        raise _not_found()
    try:
        communities.for_staff(principal, order.community_id, roles=STAFF)
    except NotFound:
        raise _not_found() from None
    return order


def _by_id(order_id: str) -> Order | None:
    with storage_errors():
        try:
            key = OrderKey.get(f"ORDERID#{order_id}", "ORDERID", consistent_read=True)
            return Order.get(f"ROUND#{key.round_id}", key.order_sk, consistent_read=True)
        except (OrderKey.DoesNotExist, Order.DoesNotExist):
            return None


def _flat(order: Order) -> slots.Flat:
    return slots.Flat(order.building, order.unit, order.room, "#".join(order.sk.split("#")[2:5]))


def entry(order: Order, principal: Principal | None = None, special: bool = False) -> dict:
    """A bag as the volunteer sees it: the flat, masked phone, bundles, paid or not, collected or not."""
    picked = None
    if order.picked_up_at is not None:
        picked = {"at": clock.iso(order.picked_up_at), "method": order.pickup_method,
                  "by_me": principal is not None and order.picked_up_by == principal.subject}
    return {"order_id": order.order_id, "round_id": order.round_id, "community_id": order.community_id,
            "flat_label": _flat(order).label, "building": order.building, "unit": order.unit, "room": order.room,
            "phone_masked": households.mask_phone(order.phone or ""),
            "lines": [{"name": line.name, "qty": int(line.qty)} for line in order.lines],
            "status": order.status, "paid": order.status in (*COLLECTABLE, "picked_up"),
            "collected": order.status == "picked_up", "picked_up": picked, "special": special}


def by_order(principal: Principal, order_id: str) -> dict:
    return entry(_staff_order(principal, _by_id(order_id)), principal)


def by_code(principal: Principal, round_id: str, code: str) -> dict:
    """The bag behind a pickup code of this round: GetItem the code's claim, GetItem the order."""
    with storage_errors():
        try:
            claim = PickupCodeClaim.get(f"PICKUP#{round_id}#{code}", "PICKUP", consistent_read=True)
            order = Order.get(f"ROUND#{round_id}", claim.order_sk, consistent_read=True)
        except (PickupCodeClaim.DoesNotExist, Order.DoesNotExist):
            order = None
    return entry(_staff_order(principal, order), principal)


def _refusal(order: Order) -> Refused:
    if order.status in _UNPAID:
        return Refused("这单还没付款，不能取货。请让住户先付款，或联系供应商确认收款",
                       "This order is not paid; it cannot be collected until the supplier confirms payment",
                       code="not_paid")
    if order.status == "expired":
        return Refused("这单付款超时已作废，不能取货", "This order expired unpaid; there is no bag to collect",
                       code="order_expired")
    return Refused("这单已取消，不能取货", "This order was cancelled; there is no bag to collect", code="order_cancelled")


def mark(principal: Principal, order_id: str, method: str, key: str) -> dict:
    """Mark the bag collected; a repeat (anyone's) returns the one record as it stands.

    The Idempotency-Key is kept with the mark (in its transaction): a mark replayed from a phone's
    outbox after an undo is answered as things are, and never marks the bag again.
    """
    digest = idempotency.payload_hash({"pickup": order_id, "method": method})
    # No read of the key first: the transaction's own condition on it refuses a replay, and only then is
    # it read (below), to answer as things stand (or 409 for the same key on another bag).
    order = _staff_order(principal, _by_id(order_id))
    if order.status == "picked_up":
        with storage_errors():
            idempotency.find(principal.subject, key, digest)  # the same key for another bag: 409
        return entry(order, principal)
    if order.status not in COLLECTABLE:
        raise _refusal(order)
    for attempt in range(order_state.ATTEMPTS):
        now = clock.now()
        try:
            with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
                transaction.save(idempotency.record(principal.subject, key, digest, order.pk, order.sk),
                                 condition=idempotency.put_condition())
                transaction.update(order, actions=[
                    Order.status.set("picked_up"), Order.picked_up_at.set(now),
                    Order.picked_up_by.set(principal.subject), Order.pickup_method.set(method),
                    Order.status_before_pickup.set(order.status)],
                    condition=Order.status.is_in(*COLLECTABLE))
        except TransactWriteError as exc:
            order.refresh(consistent_read=True)  # another volunteer, the same key twice, a cancel: say how it is
            if order.status == "picked_up" or idempotency.find(principal.subject, key, digest) is not None:
                return entry(order, principal)
            if order.status not in COLLECTABLE:
                raise _refusal(order) from None
            if not order_state.conflicted(exc):
                raise
            order_state.pause(attempt)  # another transaction held the order: try again
            continue
        # As written: the answer needs no read back.
        order.status_before_pickup, order.status = order.status, "picked_up"
        order.picked_up_at, order.picked_up_by, order.pickup_method = now, principal.subject, method
        return entry(order, principal)
    raise StorageBusy("这袋正忙，请稍后再试", "The bag is busy; please retry shortly", headers={"Retry-After": "1"})


def undo(principal: Principal, order_id: str) -> dict:
    """Put a bag marked by mistake back, within 10 minutes of the mark."""
    order = _staff_order(principal, _by_id(order_id))
    if order.status != "picked_up":
        return entry(order, principal)
    if principal.role == "volunteer" and order.picked_up_by != principal.subject:
        raise Refused("只能撤销自己登记的取货；别人的请联系联络人或信息员", "A volunteer may undo only their own marks; "
                      "ask the liaison or information officer", code="not_your_mark")
    now = clock.now()
    if order.picked_up_at is None or now - order.picked_up_at > UNDO_WINDOW:
        raise Refused("取货超过10分钟，不能撤销了；如有错请联系联络人", "It is more than 10 minutes since the pickup; "
                      "it can no longer be undone", code="undo_too_late")
    try:
        with storage_errors():
            order.update(actions=[Order.status.set(order.status_before_pickup or "paid"), Order.picked_up_at.remove(),
                                  Order.picked_up_by.remove(), Order.pickup_method.remove()],
                         condition=(Order.status == "picked_up") & (Order.picked_up_at == order.picked_up_at))
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
        order.refresh(consistent_read=True)
    return entry(order, principal)


# --- lists --------------------------------------------------------------------------------

def _staff_round(principal: Principal, community_id: str, round_id: str):
    return rounds.for_community_staff(principal, community_id, round_id, STAFF)


def _special_flats(community_id: str, prefix: str = "") -> dict[str, Household]:
    """flat key → special household, from the sparse index (only flagged households are in it)."""
    with storage_errors():
        found = Household.by_owner.query(f"SPECIAL#{community_id}", Household.gsi1sk.startswith("CHECKIN#"))
        return {h.flat_key: h for h in found if h.flat_key.startswith(prefix)}


def building_list(principal: Principal, round_id: str, building: str) -> dict:
    """One building's bags, in room order: one Query of the round's orders under the building's prefix."""
    # The caller's community first: a token that no longer counts learns nothing about which rounds exist.
    community = _caller_community(principal)
    rnd = rounds.get(round_id)
    if community.community_id not in rnd.community_ids:
        raise rounds.no_such_round()
    prefix = roster.building_prefix(community, building)
    with storage_errors():
        found = [o for o in Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{community.community_id}#{prefix}"),
                                        consistent_read=True) if o.status not in ("cancelled", "expired")]
    special = _special_flats(community.community_id, prefix)
    plan = slots.get(community.community_id, round_id)
    slot = next((s for s in (plan.slots if plan else []) if any(g.building == building for g in s.groups)), None)
    return {"round": {"round_id": rnd.round_id, "name": rnd.name}, "building": building,
            "slot": slots.slot_view(slot) if slot else None,
            "households": [entry(o, principal, _flat(o).flat_key in special) for o in found]}


def _caller_community(principal: Principal):
    return communities.for_staff(principal, principal.scope_id, roles=STAFF)


def door(principal: Principal, community_id: str, round_id: str) -> dict:
    """Special households with a live order, for 送货上门 (door delivery)."""
    community, rnd = _staff_round(principal, community_id, round_id)
    special = _special_flats(community_id)
    with storage_errors():
        found = [o for o in Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{community_id}#"), consistent_read=True)
                 if o.status not in ("cancelled", "expired") and _flat(o).flat_key in special]
    out = []
    for order in found:
        household = special[_flat(order).flat_key]
        info = dict(household.special.as_dict() if hasattr(household.special, "as_dict") else household.special or {})
        out.append({**entry(order, principal, True),
                    "special_info": {"category": info.get("category"), "needs": info.get("needs", "")}})
    return {"households": out}


def progress(principal: Principal, community_id: str, round_id: str) -> dict:
    """Per building: collected, waiting, overdue (its slot has ended), drawn by the console as bars."""
    community, rnd = _staff_round(principal, community_id, round_id)
    plan: SlotPlan | None = slots.get(community_id, round_id)
    now = clock.now()
    buildings: dict[str, dict] = {}
    waiting = []
    with storage_errors():
        orders = list(Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{community_id}#"), consistent_read=True,
                                  attributes_to_get=["PK", "SK", "kind", "status", "building", "unit", "room"]))
    for order in orders:
        if order.status not in (*COLLECTABLE, "picked_up"):
            continue
        row = buildings.setdefault(order.building, {"building": order.building, "collected": 0, "waiting": 0,
                                                    "overdue": 0, "total": 0})
        row["total"] += 1
        if order.status == "picked_up":
            row["collected"] += 1
            continue
        slot = slots.slot_of(plan, _flat(order))
        late = slot is not None and slot.ends_at < now
        row["overdue" if late else "waiting"] += 1
        waiting.append({"flat_label": _flat(order).label, "building": order.building,
                        "slot_label": slots.slot_label(slot) if slot else None,
                        "slot_ends_at": clock.iso(slot.ends_at) if slot else None, "overdue": late})
    totals = {k: sum(b[k] for b in buildings.values()) for k in ("collected", "waiting", "overdue", "total")}
    point = community.distribution_point.name if community.distribution_point else "配送点"
    reminder = (f"【取货提醒】{rnd.name}：以下房号还未取货：{'、'.join(w['flat_label'].replace(' ', '') for w in waiting)}。"
                f"请尽快凭取货码到{point}取货，保持2米间距。") if waiting else ""
    from api import notices
    arrived, _, _ = notices.arrivals_and_plans(community_id, [round_id])
    return {"buildings": list(buildings.values()), "totals": totals, "waiting": waiting, "reminder": reminder,
            "arrived_at": clock.iso(arrived.get(round_id))}
