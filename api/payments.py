"""Payments: residents pay the supplier's QR code (收款码) and say so; the supplier confirms
from what reached their wallet; unpaid orders expire at the deadline (plan 1: 在规定时间
不付款的订单将不予配送); the liaison chases whoever has not paid.

No payment gateway is involved: this module makes the manual process exact. Each
change of an order is one transaction in api/order_state.py, with its ledger entry.

Who may do what:
- a resident member claims their household's order;
- the round's supplier sees every community's orders, confirms, takes a confirmation
  back, rejects a claim, cancels, marks refunds, reads the ledger and matches statements;
- a liaison, information officer or volunteer of a community sees that community's
  orders; the liaison and the information officer chase the unpaid ones.
Anyone else is told the round does not exist.
"""
from datetime import timedelta

from pynamodb.exceptions import PutError

from api import clock, communities, cursors, households, idempotency, orders, roster, rounds
from api.auth import Principal
from api.errors import BadInput, NotFound, Refused, condition_failed, storage_errors
from api.models import (
    DeadlineMarker, FairShareExemption, Item, LedgerEntry, Order, OrderKey, Round, TransactionUse,
)
from api.order_state import (
    DEAD, PAID, SCHEDULER, Actor, Refusal, StatusChanged, change, not_live, payment_note, tag,
)

PAGE_SIZE = 50
# What a statement preview needs of each order (board_view and the matcher), not its lines.
_MATCHING_ATTRIBUTES = ["PK", "SK", "kind", "order_id", "community_id", "building", "unit", "room", "phone",
                        "total_fen", "status", "refund", "payment_reference", "claimed_at", "confirmed_at",
                        "transaction_id", "reason", "reason_en", "created_at", "assisted_by"]
CLAIMABLE = ("placed",)
CONFIRMABLE = ("placed", "payment_claimed")
_EXPIRY_LOOKBACK_DAYS = 14
_EXPIRED_REASON = ("付款截止前没有收到付款，订单已取消，库存已退回",
                   "No payment arrived before the deadline; the order was cancelled and its stock released")


def actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.role)


# --- views ---------------------------------------------------------------------

def board_view(order: Order, names: dict[str, str]) -> dict:
    """An order as the payment board shows it: the flat, never the whole phone."""
    return {
        "order_id": order.order_id, "community_id": order.community_id,
        "community_name": names.get(order.community_id, ""),
        "flat_label": " ".join(p for p in (order.building, order.unit, order.room) if p),
        "building": order.building, "unit": order.unit, "room": order.room,
        "phone_masked": households.mask_phone(order.phone), "total_fen": int(order.total_fen),
        "status": order.status, "payment_note": payment_note(order), "payment": orders.payment_view(order),
        "created_at": clock.iso(order.created_at), "assisted": order.assisted_by is not None,
    }


def _names(found: list[Order]) -> dict[str, str]:
    return {cid: c.name for cid, c in communities.get_many([o.community_id for o in found]).items()} if found else {}


def totals(round_id: str, community_id: str | None = None) -> dict:
    """Count and money per money state; every order is in one bucket, so they add up to `ordered`."""
    return rounds.tally(round_id, community_id)["totals"]


# --- the board: a round's orders -------------------------------------------------

def board(principal: Principal, round_id: str, query: dict) -> dict:
    """`{orders, totals, next_cursor}`: one page of a round's orders, by community, building, unit and room."""
    rnd, own = rounds.for_viewer(principal, round_id)
    community_id = query.get("community_id")
    if own is not None and community_id not in (None, own.community_id):
        raise rounds.no_such_round()
    community = own
    if community is None and community_id:
        if community_id not in rnd.community_ids:
            raise rounds.no_such_round()
        community = communities.get(community_id)
    prefix = f"ORDER#{community.community_id}#" if community else "ORDER#"
    if query.get("building"):
        if community is None:
            raise BadInput("按楼栋查看时请先选小区", "Choose the community to see one building",
                           fields={"community_id": ["必填 / Required"]})
        prefix += roster.building_prefix(community, query["building"])
    condition = Order.status == query["status"] if query.get("status") else None
    with storage_errors():
        page = Order.query(rnd.pk, Order.sk.startswith(prefix), filter_condition=condition, consistent_read=True,
                           limit=PAGE_SIZE, last_evaluated_key=cursors.decode(query.get("cursor"), rnd.pk, prefix))
        found = list(page)
        next_key = page.last_evaluated_key
    names = _names(found)
    return {"orders": [board_view(o, names) for o in found],
            "totals": totals(rnd.round_id, community.community_id if community else None),
            "next_cursor": cursors.encode(next_key)}


def supplier_rounds(principal: Principal) -> dict:
    """The supplier's own rounds, newest first, each with its money totals."""
    with storage_errors():
        found = list(Round.by_owner.query(f"SUPPLIER#{principal.scope_id}", Round.gsi1sk.startswith("ROUND#"),
                                          scan_index_forward=False, limit=20))
    now = clock.now()
    return {"rounds": [{"round_id": r.round_id, "name": r.name, "status": rounds.status(r, now),
                        "opens_at": clock.iso(r.opens_at), "closes_at": clock.iso(r.closes_at),
                        "payment_deadline": clock.iso(r.payment_deadline), "community_ids": list(r.community_ids),
                        **_counts(rounds.tally(r.round_id))} for r in found if isinstance(r, Round)]}


def _counts(tally: dict) -> dict:
    return {"totals": tally["totals"], "by_status": tally["by_status"]}


# --- orders by id ---------------------------------------------------------------

def _orders_by_id(rnd: Round, order_ids: list[str]) -> dict[str, Order]:
    """The round's orders among `order_ids`: one BatchGetItem of their keys, one of the orders."""
    with storage_errors():
        keys = [k for k in OrderKey.batch_get([(f"ORDERID#{oid}", "ORDERID") for oid in set(order_ids)])
                if k.round_id == rnd.round_id]
        if not keys:
            return {}
        return {o.order_id: o for o in Order.batch_get([(rnd.pk, k.order_sk) for k in keys], consistent_read=True)}


def _one(rnd: Round, order_id: str) -> Order:
    order = _orders_by_id(rnd, [order_id]).get(order_id)
    if order is None:
        raise NotFound("订单不存在", "No such order")
    return order


def _refusal(order_id: str, error: Refused) -> dict:
    return {"order_id": order_id, "code": error.code, "message": error.message, "message_en": error.message_en}


# --- the resident says they paid ---------------------------------------------------

def claim(principal: Principal, order_id: str, key: str, payload: dict) -> dict:
    """「我已付款」: placed → payment_claimed, with the reference the resident read off their transfer."""
    order = orders.own(principal, order_id)
    digest = idempotency.payload_hash({"order_id": order_id, **payload})
    with storage_errors():
        if idempotency.find(principal.subject, key, digest) is not None:
            return orders.view(Order.get(order.pk, order.sk, consistent_read=True))
    if order.status == "payment_claimed" or order.status in PAID:
        return orders.view(order)  # said twice, or the supplier confirmed first: nothing to do
    if order.status in DEAD:
        raise Refused("订单已过期或已取消，不能再申报付款；如已付款请联系供应商退款",
                      "This order has expired or was cancelled; if you paid, ask the supplier for a refund",
                      code="not_claimable")
    actions = [Order.claimed_at.set(clock.now())]
    if payload.get("reference"):
        actions.append(Order.payment_reference.set(payload["reference"]))

    def record(plan):
        plan.puts.append(("idempotency", (idempotency.record(principal.subject, key, digest, order.pk, order.sk),
                                          idempotency.put_condition())))
    try:
        order = change(order, "payment_claimed", actor(principal), allowed=CLAIMABLE, actions=actions, extra=record)
    except StatusChanged as changed:
        if changed.current.status in DEAD:  # the deadline job got there first
            raise Refused("付款截止时间已过，订单已过期；如已付款请联系供应商",
                          "The payment deadline passed and the order expired; if you paid, contact the supplier",
                          code="not_claimable") from changed
        order = changed.current
    except Refusal:  # the same key raced itself: answer what it did
        order = Order.get(order.pk, order.sk, consistent_read=True)
    return orders.view(order)


# --- the supplier -------------------------------------------------------------------

def confirm(principal: Principal, round_id: str, order_ids: list[str], transactions: dict[str, str]) -> dict:
    """Confirm payments: placed or claimed → paid. One transaction per order; a statement's
    transaction number confirms at most one order, ever."""
    rnd = rounds.for_supplier(principal, round_id)
    found = _orders_by_id(rnd, order_ids)
    confirmed, refused = [], []
    for order_id in dict.fromkeys(order_ids):
        order = found.get(order_id)
        try:
            if order is None:
                raise NotFound("订单不存在", "No such order")
            confirmed.append(_confirm_one(principal, rnd, order, transactions.get(order_id)))
        except (NotFound, Refused) as error:
            refused.append(_refusal(order_id, error))
    names = _names(confirmed)
    return {"confirmed": [board_view(o, names) for o in confirmed], "refused": refused}


def _confirm_one(principal: Principal, rnd: Round, order: Order, transaction_id: str | None) -> Order:
    if order.status in PAID:
        return order
    if order.status in DEAD:
        raise not_live(order)
    actions = [Order.confirmed_at.set(clock.now())]
    def use_transaction(plan):
        plan.puts.append(("transaction", (
            TransactionUse(f"SUPPLIER#{rnd.supplier_id}", f"TXN#{transaction_id}", order_id=order.order_id,
                           round_id=rnd.round_id, at=clock.now()), TransactionUse.pk.does_not_exist())))
    extra = None
    if transaction_id:
        actions.append(Order.transaction_id.set(transaction_id))
        extra = use_transaction
    try:
        return change(order, "paid", actor(principal), allowed=CONFIRMABLE, actions=actions, extra=extra)
    except StatusChanged as changed:
        if changed.current.status in PAID:  # another confirmation of the same order won
            return changed.current
        raise not_live(changed.current) from changed
    except Refusal as refusal:
        raise Refused("这笔流水已经确认过另一个订单", "This transaction has already confirmed another order",
                      code="transaction_used") from refusal


def undo(principal: Principal, round_id: str, order_id: str, reason: str) -> dict:
    """Take a confirmation back (the money was not there after all), until the order is packed."""
    rnd = rounds.for_supplier(principal, round_id)
    order = _one(rnd, order_id)
    if order.status != "paid":
        raise Refused("只有已确认、还没打包的订单可以撤销确认", "Only a confirmed order not yet packed can be taken back",
                      code="not_undoable")
    back = "payment_claimed" if order.claimed_at is not None else "placed"
    def free_transaction(plan):  # the statement row may confirm the right order now
        plan.deletes.append(("transaction", (
            TransactionUse(f"SUPPLIER#{rnd.supplier_id}", f"TXN#{order.transaction_id}"),
            TransactionUse.order_id == order.order_id)))
    extra = free_transaction if order.transaction_id else None
    try:
        order = change(order, back, actor(principal), allowed=("paid",), extra=extra,
                       actions=[Order.confirmed_at.remove(), Order.transaction_id.remove()],
                       reason=(f"供应商撤销了收款确认：{reason}", f"The supplier took the confirmation back: {reason}"))
    except StatusChanged as changed:
        raise Refused("订单状态已变化，不能撤销确认", "The order changed; the confirmation cannot be taken back",
                      code="not_undoable") from changed
    if back == "placed" and clock.now() >= rnd.payment_deadline:
        # Unpaid after its deadline again: the round goes back on the expiry job's list.
        with storage_errors():
            rounds.deadline_marker(rnd).update(actions=[DeadlineMarker.swept.set(False)])
    return board_view(order, _names([order]))


def reject(principal: Principal, round_id: str, order_id: str, reason: str) -> dict:
    """A claim the supplier found no money for: expired, stock and limits released."""
    rnd = rounds.for_supplier(principal, round_id)
    order = _one(rnd, order_id)
    if order.status != "payment_claimed":
        raise Refused("只有已申报付款的订单可以驳回", "Only a claimed payment can be rejected", code="not_rejectable")
    try:
        order = change(order, "expired", actor(principal), allowed=("payment_claimed",),
                       reason=(f"供应商没有查到这笔付款：{reason}", f"The supplier found no such payment: {reason}"))
    except StatusChanged as changed:
        raise Refused("订单状态已变化，不能驳回", "The order changed; it cannot be rejected",
                      code="not_rejectable") from changed
    return board_view(order, _names([order]))


def cancel(principal: Principal, round_id: str, order_id: str, reason: str) -> dict:
    """The supplier cancels: an unpaid order is released; a paid one is released and owes a refund."""
    rnd = rounds.for_supplier(principal, round_id)
    order = _one(rnd, order_id)
    if order.status == "cancelled":
        return board_view(order, _names([order]))
    allowed = ("placed", "payment_claimed", "paid")
    if order.status not in allowed:
        raise (not_live(order) if order.status in DEAD else
               Refused("订单已打包或已在配送，不能取消", "This order is packed or on its way", code="not_cancellable"))
    try:
        order = change(order, "cancelled", actor(principal), allowed=(order.status,),
                       refund="due" if order.status == "paid" else None,
                       reason=(f"供应商取消了订单：{reason}", f"The supplier cancelled the order: {reason}"))
    except StatusChanged as changed:
        raise Refused("订单状态已变化，请刷新后再试", "The order changed; reload and retry",
                      code="not_cancellable") from changed
    return board_view(order, _names([order]))


def refunded(principal: Principal, round_id: str, order_id: str) -> dict:
    rnd = rounds.for_supplier(principal, round_id)
    order = _one(rnd, order_id)
    if order.status == "cancelled" and order.refund == "refunded":
        return board_view(order, _names([order]))
    if order.status != "cancelled" or order.refund != "due":
        raise Refused("这个订单没有待退款", "This order has no refund due", code="no_refund_due")
    try:
        order = change(order, "cancelled", actor(principal), allowed=("cancelled",), refund="refunded",
                       when=Order.refund == "due")
    except StatusChanged as changed:
        order = changed.current
    return board_view(order, _names([order]))


def ledger(principal: Principal, round_id: str) -> dict:
    rnd = rounds.for_supplier(principal, round_id)
    with storage_errors():
        entries = LedgerEntry.query(rnd.pk, LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True)
        return {"entries": [{"at": clock.iso(e.at), "order_id": e.order_id, "community_id": e.community_id,
                             "by_role": e.by_role, "from": e.from_state, "to": e.to_state,
                             "amount_fen": int(e.amount_fen), "reason": e.reason} for e in entries]}


# --- statements --------------------------------------------------------------------------

def _row_view(row) -> dict:
    return {"line": row.line, "time": clock.iso(row.time), "amount_fen": row.amount_fen, "note": row.note,
            "transaction_id": row.transaction_id, "counterparty": row.counterparty}


def statement_preview(principal: Principal, round_id: str, data: bytes) -> dict:
    """Match a wallet statement against the round's unpaid orders. Nothing is confirmed here."""
    from api import statements  # openpyxl and friends: only this route needs them, not every cold start

    rnd = rounds.for_supplier(principal, round_id)
    fmt, rows = statements.parse(data)
    with storage_errors():
        every = list(Order.query(rnd.pk, Order.sk.startswith("ORDER#"), consistent_read=True,
                                 attributes_to_get=_MATCHING_ATTRIBUTES))
        open_orders = [o for o in every if o.status in CONFIRMABLE]
        txn_keys = [(f"SUPPLIER#{rnd.supplier_id}", f"TXN#{r.transaction_id}") for r in rows if r.transaction_id]
        used = {t.sk.split("#", 1)[1] for t in TransactionUse.batch_get(txn_keys)} if txn_keys else set()
    fresh = [r for r in rows if r.transaction_id not in used]
    by_id = {o.order_id: o for o in open_orders}
    def payable(o: Order) -> "statements.Payable":
        return statements.Payable(order_id=o.order_id, amount_fen=int(o.total_fen), tag=tag(o),
                                  reference=o.payment_reference or "")
    # The closed orders go in too, so a row whose note names one (confirmed by hand, cancelled)
    # is never offered as somebody else's payment of the same amount.
    preview = statements.match(fresh, [payable(o) for o in open_orders], window=(rnd.opens_at, rnd.payment_deadline),
                               closed=[payable(o) for o in every if o.status not in CONFIRMABLE])
    names = _names(open_orders)
    return {
        "format": fmt, "rows": len(rows),
        "matched": [{"row": _row_view(r), "order": board_view(by_id[oid], names)} for r, oid in preview.matched],
        "ambiguous": [{"row": _row_view(r), "candidates": [board_view(by_id[oid], names) for oid in oids]}
                      for r, oids in preview.ambiguous],
        "unmatched": [_row_view(r) for r in preview.unmatched],
        "already_used": [_row_view(r) for r in rows if r.transaction_id in used],
        "orders_without_payment": [board_view(by_id[oid], names) for oid in preview.orders_without_payment],
    }


# --- the deadline ------------------------------------------------------------------------

def expire_due() -> int:
    """The scheduled job: expire every order still `placed` in a round past its payment deadline.

    Rounds are found by key (their deadline markers, by day); their unpaid orders by
    a Query of the round's partition. A `payment_claimed` order is never expired
    here: the money may have arrived, so the supplier confirms or rejects it.
    Safe to run twice, or beside a late claim: each expiry is conditional on `placed`.
    """
    now = clock.now()
    expired = 0
    for days_back in range(_EXPIRY_LOOKBACK_DAYS + 1):
        day = (now - timedelta(days=days_back)).date().isoformat()
        with storage_errors():
            due = list(DeadlineMarker.query(f"DEADLINE#{day}", DeadlineMarker.sk < f"{clock.iso(now)}#~",
                                            filter_condition=DeadlineMarker.swept == False,  # noqa: E712
                                            consistent_read=True))
        for found in due:
            expired += _expire_round(found.round_id)
            with storage_errors():
                found.update(actions=[DeadlineMarker.swept.set(True)])
    return expired


def _expire_round(round_id: str) -> int:
    with storage_errors():
        unpaid = list(Order.query(f"ROUND#{round_id}", Order.sk.startswith("ORDER#"), consistent_read=True,
                                  filter_condition=Order.status == "placed"))
    count = 0
    for order in unpaid:
        try:
            change(order, "expired", SCHEDULER, allowed=("placed",), reason=_EXPIRED_REASON)
            count += 1
        except StatusChanged:
            continue  # claimed, cancelled or expired meanwhile: nothing to release
    return count


# --- the liaison: chasing, and fair-share exemptions ---------------------------------------

def unpaid(principal: Principal, community_id: str, round_id: str | None) -> dict:
    """The community's unpaid orders by building, and the group-chat reminder (flats, never phones)."""
    community = roster.community_of(principal, community_id)
    recent = rounds.recent_for_community(community_id)
    now = clock.now()
    choices = [{"round_id": r.round_id, "name": r.name, "status": rounds.status(r, now)} for r in recent]
    if round_id:
        rnd = next((r for r in recent if r.round_id == round_id), None) or rounds.get(round_id)
        if community_id not in rnd.community_ids:
            raise rounds.no_such_round()
    elif not recent:
        return {"round": None, "deadline": None, "buildings": [], "reminder": "", "rounds": []}
    else:
        rnd = recent[0]
    with storage_errors():
        found = list(Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{community_id}#"), consistent_read=True,
                                 filter_condition=Order.status == "placed"))
    buildings: dict[str, list] = {}
    for order in found:  # already in building, unit, room order (the sort key)
        buildings.setdefault(order.building, []).append({
            "order_id": order.order_id, "flat_label": " ".join(p for p in (order.building, order.unit, order.room) if p),
            "phone_masked": households.mask_phone(order.phone), "total_fen": int(order.total_fen),
            "status": order.status})
    flats = "、".join(f"{o.building}{o.unit}{o.room}" for o in found)
    deadline = rnd.payment_deadline.astimezone(clock.SHANGHAI)
    reminder = (f"【付款提醒】{rnd.name}付款截止{deadline.month}月{deadline.day}日{deadline:%H:%M}，"
                f"以下房号还未付款：{flats}。逾期订单不予配送。") if found else ""
    return {"round": {"round_id": rnd.round_id, "name": rnd.name, "status": rounds.status(rnd, clock.now())},
            "community_name": community.name, "deadline": clock.iso(rnd.payment_deadline),
            "buildings": [{"building": b, "orders": o} for b, o in buildings.items()], "reminder": reminder,
            "rounds": choices}


def exempt(principal: Principal, community_id: str, flat_ref: str, round_id: str) -> dict:
    """Let one household order in one round despite the fair-share rule."""
    community, household = roster.household_of(principal, community_id, flat_ref)
    rnd = rounds.get(round_id)
    if community.community_id not in rnd.community_ids:
        raise rounds.no_such_round()
    exemption = FairShareExemption(community.pk, f"EXEMPT#{household.flat_key}#{round_id}", round_id=round_id,
                                   by=principal.subject, at=clock.now())
    with storage_errors():
        try:
            exemption.save(condition=Item.pk.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise
    return {"round_id": round_id, "household_id": household.household_id}
