"""Placing an order, and a household's view of its orders.

A resident member orders for their own flat; a liaison or information officer
may order for any flat of their community (代下单, an assisted order). Both go
through the same `place`.

Placing costs one BatchGetItem (the round, the flat and the ordered bundles,
by key; the flat's item also proves the caller's membership) and exactly one
TransactWriteItems, which in one go: checks the round is open and the caller
still on the flat, records the idempotency key, puts the order only if absent,
reserves its 取货码 pickup code, takes each bundle's stock only if enough is
left, and counts it against the household's limit. If any condition fails
nothing is written, and the cancellation reasons say which bundle or limit refused.

When hundreds of residents want the same bundle, DynamoDB cancels some
transactions with TransactionConflict (another transaction held the bundle
item). Nothing was written then, so the order is tried again after a short
random pause; if it still conflicts the answer is a 503 with Retry-After,
and the PWA's outbox retries with the same Idempotency-Key.
"""
from datetime import datetime, timedelta
from typing import NamedTuple

from pynamodb.exceptions import TransactWriteError

from api import clock, households, idempotency, ids, order_state, payment_qr, rounds
from api.auth import Principal
from api.errors import NotFound, Refused, StorageBusy, storage_errors
from api.models import (
    Bundle, Community, FairShare, FairShareExemption, Household, HouseholdQuota, Item, Order, OrderKey, OrderLine,
    PickupCodeClaim, Round,
)


def view(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "round_id": order.round_id,
        "round_name": order.round_name,
        "status": order.status,
        "total_fen": int(order.total_fen),
        "pickup_code": order.pickup_code,
        "lines": [{"bundle_id": l.bundle_id, "name": l.name, "qty": int(l.qty), "price_fen": int(l.price_fen)}
                  for l in order.lines],
        "created_at": clock.iso(order.created_at),
        "payment_deadline": clock.iso(order.payment_deadline),
        "payment_qr": order.payment_qr,
        "payment_qr_url": payment_qr.signed_url(order.round_id),
        "payment_note": order_state.payment_note(order),
        "payment": payment_view(order),
        "assisted_by": order.assisted_by,
        "pickup_slot": None,
        "arrived_at": None,
        "picked_up": ({"at": clock.iso(order.picked_up_at), "method": order.pickup_method}
                      if order.picked_up_at is not None else None),
        "notices": [],
    }


def payment_view(order: Order) -> dict:
    reason = {"message": order.reason, "message_en": order.reason_en} if order.reason else None
    return {"reference": order.payment_reference, "claimed_at": clock.iso(order.claimed_at),
            "confirmed_at": clock.iso(order.confirmed_at), "refund": order.refund, "reason": reason}


def _replay(caller: str, key: str, digest: str) -> dict | None:
    found = idempotency.find(caller, key, digest)
    if found is None:
        return None
    return view(Order.get(found.result_pk, found.result_sk, consistent_read=True))


def _sold_out(bundle: Bundle, left: int | None = None) -> Refused:
    if left is None:
        left = int(Bundle.get(bundle.pk, bundle.sk, consistent_read=True).stock_left)
    return Refused(f"套餐「{bundle.name}」库存不足，仅剩 {left} 份", f"Not enough stock of '{bundle.name}': {left} left",
                   code="sold_out", fields={"bundle_id": bundle.bundle_id, "stock_left": left})


def _over_limit(bundle: Bundle) -> Refused:
    limit = int(bundle.per_household_limit)
    return Refused(f"套餐「{bundle.name}」每户限购 {limit} 份，您家已达上限",
                   f"'{bundle.name}' is limited to {limit} per household; your household has reached it",
                   code="over_household_limit", fields={"bundle_id": bundle.bundle_id, "limit": limit})


def _round_closed() -> Refused:
    return Refused("本轮团购已截止", "This round has closed", code="round_closed")


def _check_open(rnd: Round) -> None:
    state = rounds.status(rnd, clock.now())
    if state == "upcoming":
        raise Refused(f"本轮团购尚未开始，开始时间 {clock.shanghai(rnd.opens_at)}",
                      f"This round opens at {clock.shanghai(rnd.opens_at)} (Beijing time)", code="round_not_open")
    if state == "closed":
        raise _round_closed()


class Placer(NamedTuple):
    """Who places an order, for which flat.

    A resident orders for their own flat and must be a full member of it; a
    liaison or information officer orders for any flat of their community
    (代下单, `assisted_by`). `caller` scopes the Idempotency-Key.
    """

    community_id: str
    flat_key: str
    caller: str
    resident: Principal | None = None
    assisted_by: str | None = None


def for_resident(principal: Principal) -> Placer:
    return Placer(principal.community_id, principal.flat_key, principal.subject, resident=principal)


def for_staff(principal: Principal, community_id: str, flat_key: str) -> Placer:
    return Placer(community_id, flat_key, principal.subject, assisted_by=principal.subject)


class _Read(NamedTuple):
    """What the order path reads, in its one BatchGetItem."""

    round: Round
    household: Household
    bundles: dict[str, Bundle]
    fair_share_days: int
    live_until: datetime | None
    exempt: bool


def _read_for_order(placer: Placer, payload: dict) -> _Read:
    """The round, the flat, its community, its fair-share slot and exemption, and the ordered bundles:
    one strongly consistent BatchGetItem, by key.

    The flat's item carries its members, so a resident's membership is checked
    from this same read: no extra call on the order path.
    """
    round_pk = f"ROUND#{payload['round_id']}"
    community_pk = f"COMMUNITY#{placer.community_id}"
    keys = [(round_pk, "ROUND"), (community_pk, f"HOUSEHOLD#{placer.flat_key}"), (community_pk, "COMMUNITY"),
            (community_pk, f"FAIRSHARE#{placer.flat_key}"),
            (community_pk, f"EXEMPT#{placer.flat_key}#{payload['round_id']}")]
    keys += [(round_pk, f"ROUND#BUNDLE#{line['bundle_id']}") for line in payload["lines"]]
    found = list(Item.batch_get(keys, consistent_read=True))
    household = next((i for i in found if isinstance(i, Household)), None)
    if placer.resident is not None:
        households.ensure_member(placer.resident, household)
    elif household is None:
        raise NotFound("住户不存在", "No such household")
    rnd = next((i for i in found if isinstance(i, Round)), None)
    if rnd is None:
        raise NotFound("团购轮次不存在", "No such round")
    community = next((i for i in found if isinstance(i, Community)), None)
    slot = next((i for i in found if isinstance(i, FairShare)), None)
    return _Read(round=rnd, household=household, bundles={i.bundle_id: i for i in found if isinstance(i, Bundle)},
                 fair_share_days=int(community.fair_share_days) if community else 0,
                 live_until=slot.live_until if slot else None,
                 exempt=any(isinstance(i, FairShareExemption) for i in found))


def _fair_share(live_until: datetime) -> Refused:
    return Refused(f"每户每段时间只能下一单，您家下次可以在 {clock.shanghai(live_until)}（北京时间）之后下单",
                   f"One order per household per period: yours may order again after {clock.shanghai(live_until)} "
                   "(Beijing time)", code="fair_share", fields={"next_order_at": clock.iso(live_until)})


def place(placer: Placer, key: str, payload: dict) -> tuple[dict, bool]:
    """Place a household's order. Returns (order, created); a replay returns created=False."""
    caller = placer.caller
    digest = idempotency.payload_hash(payload)
    with storage_errors():
        read = _read_for_order(placer, payload)
        rnd, by_id = read.round, read.bundles
        if placer.community_id not in rnd.community_ids:
            raise NotFound("团购轮次不存在", "No such round")
        unknown = [i for i, line in enumerate(payload["lines"]) if line["bundle_id"] not in by_id]
        try:
            if unknown:
                raise Refused("该轮次没有这个套餐", "This round has no such bundle", code="unknown_bundle",
                              fields={"lines": {i: {"bundle_id": ["该轮次没有这个套餐 / No such bundle in this round"]}
                                                for i in unknown}})
            _check_open(rnd)
            for line in payload["lines"]:
                bundle = by_id[line["bundle_id"]]
                if line["qty"] > bundle.per_household_limit:
                    raise _over_limit(bundle)
                # The batch read stock strongly consistently: an order that cannot fit is refused
                # here, without a transaction (a cancelled one still costs write capacity). The
                # transaction's condition remains the guard for orders racing each other.
                if line["qty"] > bundle.stock_left:
                    raise _sold_out(bundle, int(bundle.stock_left))
            if (read.fair_share_days > 0 and not read.exempt and read.live_until is not None
                    and read.live_until > clock.now()):
                raise _fair_share(read.live_until)
        except Refused:
            # A replay of an order placed before the round closed still gets its order back.
            replayed = _replay(caller, key, digest)
            if replayed is None:
                raise
            return replayed, False

        for attempt in range(order_state.ATTEMPTS):
            try:
                return _write(placer, read, key, digest, payload)
            except _CodeTaken:
                continue
            except _Contended:
                order_state.pause(attempt)
        raise _busy()


class _CodeTaken(Exception):
    """The random pickup code is already used in this round; draw again."""


class _Contended(Exception):
    """DynamoDB cancelled the transaction for a conflict with another one; nothing was written."""


def _busy() -> StorageBusy:
    return StorageBusy("下单的人太多，请稍后再试", "Too many orders at once; please retry shortly",
                       headers={"Retry-After": "1"})


def _write(placer: Placer, read: "_Read", key: str, digest: str, payload: dict) -> tuple[dict, bool]:
    now = clock.now()
    rnd, household = read.round, read.household
    order_id = ids.new_id()
    code = ids.pickup_code()
    household_id = household.household_id
    lines = [(read.bundles[line["bundle_id"]], line["qty"]) for line in payload["lines"]]
    takes_slot = read.fair_share_days > 0 and not read.exempt
    order = Order(
        rnd.pk, f"ORDER#{placer.community_id}#{placer.flat_key}#{order_id}",
        gsi1pk=f"HOUSEHOLD#{household_id}", gsi1sk=f"ORDER#{order_id}",
        order_id=order_id, round_id=rnd.round_id, round_name=rnd.name, payment_deadline=rnd.payment_deadline,
        payment_qr=rnd.payment_qr, community_id=placer.community_id, household_id=household_id,
        building=household.building, unit=household.unit, room=household.room,
        phone=households.contact_phone(household), assisted_by=placer.assisted_by,
        lines=[OrderLine(bundle_id=b.bundle_id, name=b.name, qty=qty, price_fen=int(b.price_fen)) for b, qty in lines],
        total_fen=sum(int(b.price_fen) * qty for b, qty in lines),
        status="placed", pickup_code=code, created_at=now, holds_fair_share=takes_slot,
    )
    # A phone removed between the read and this write must not order: the flat is
    # checked again inside the transaction (no extra call).
    flat_condition = (households.member_condition(placer.resident.subject) if placer.resident is not None
                      else Household.pk.exists())
    actor = order_state.Actor(placer.caller, placer.resident.role if placer.resident else "assisted")
    plan = order_state.Plan()
    # The round's being open is checked on each bundle's copy of closes_at (with its stock), not on the
    # round item: that item is ~6 KB in a 200-community round and would be every order's hot spot.
    plan.checks += [("household", (Household, household.pk, household.sk, flat_condition))]
    plan.puts += [
        ("idempotency", (idempotency.record(placer.caller, key, digest, order.pk, order.sk),
                         idempotency.put_condition())),
        ("order", (order, Order.pk.does_not_exist())),
        ("code", (PickupCodeClaim(f"PICKUP#{rnd.round_id}#{code}", "PICKUP", order_id=order_id, order_sk=order.sk),
                  PickupCodeClaim.pk.does_not_exist())),
        ("order_key", (OrderKey(f"ORDERID#{order_id}", "ORDERID", round_id=rnd.round_id, order_sk=order.sk),
                       OrderKey.pk.does_not_exist())),
        ("ledger", (order_state.entry(order, actor, "", "open"), None)),
    ]
    if takes_slot:
        # One live order per household per N days (每3天1次), decided here and not by the read above.
        plan.updates.append(("fair_share", (
            FairShare(f"COMMUNITY#{placer.community_id}", f"FAIRSHARE#{placer.flat_key}"),
            [FairShare.live_until.set(now + timedelta(days=read.fair_share_days)), FairShare.order_id.set(order_id)],
            FairShare.live_until.does_not_exist() | (FairShare.live_until <= now))))
    for bundle, qty in lines:
        limit = int(bundle.per_household_limit)
        plan.updates += [
            (("stock", bundle), (Bundle(bundle.pk, bundle.sk), [Bundle.stock_left.add(-qty)],
                                 (Bundle.stock_left >= qty) & (Bundle.closes_at > now))),
            (("limit", bundle), (HouseholdQuota(f"HOUSEHOLD#{household_id}", f"QUOTA#{rnd.round_id}#{bundle.bundle_id}"),
                                 [HouseholdQuota.qty.add(qty)],
                                 HouseholdQuota.qty.does_not_exist() | (HouseholdQuota.qty <= limit - qty))),
        ]
    with storage_errors():
        try:
            plan.run()
        except TransactWriteError as exc:
            failed = [who for who, reason in zip(plan.labels(), exc.cancellation_reasons)
                      if reason is not None and reason.code == "ConditionalCheckFailed"]
            if "idempotency" in failed:
                replayed = _replay(placer.caller, key, digest)
                if replayed is not None:
                    return replayed, False
            if "household" in failed:
                raise households.membership_ended() from exc
            if any(isinstance(who, tuple) and who[0] == "stock" for who in failed) and _closed_meanwhile(rnd.round_id, now):
                raise _round_closed() from exc
            if "fair_share" in failed:
                held = FairShare.get(f"COMMUNITY#{placer.community_id}", f"FAIRSHARE#{placer.flat_key}",
                                     consistent_read=True)
                raise _fair_share(held.live_until) from exc
            for who in failed:
                if isinstance(who, tuple):
                    kind, bundle = who
                    raise (_sold_out(bundle) if kind == "stock" else _over_limit(bundle)) from exc
            if "code" in failed:
                raise _CodeTaken() from exc
            if order_state.conflicted(exc):
                raise _Contended() from exc
            raise
    return view(order), True


def _closed_meanwhile(round_id: str, now: datetime) -> bool:
    """A bundle refused the order: closed early since it was read (one read, on this rare path), or sold out."""
    with storage_errors():
        current = Round.get(f"ROUND#{round_id}", "ROUND", consistent_read=True)
    return current.state != "active" or current.closes_at <= now


def own(principal: Principal, order_id: str) -> Order:
    """The caller's household's order, once the caller is shown to be a member.

    Looked up inside the household's own index partition, so another
    household's order is simply not found: a 404, never a 403.
    """
    households.require_member(principal)
    with storage_errors():
        found = list(Order.by_owner.query(f"HOUSEHOLD#{principal.household_id}", Order.gsi1sk == f"ORDER#{order_id}"))
    if not found:
        raise NotFound("订单不存在", "No such order")
    return found[0]


def get(principal: Principal, order_id: str) -> dict:
    return view(own(principal, order_id))


CANCELLABLE = ("placed", "payment_claimed")
DEAD = ("cancelled", "expired")


def cancel(principal: Principal, order_id: str) -> dict:
    """The household withdraws its order while the round is open: stock, limit and fair-share slot come back.

    One transaction (api/order_state.py): the order turns cancelled only if it is
    still placed or payment-claimed. Cancelling twice is a no-op that returns the
    cancelled order.
    """
    order = own(principal, order_id)
    if order.status == "cancelled":
        return view(order)
    if order.status not in CANCELLABLE:
        raise _not_cancellable()
    rnd, _ = rounds.load(order.round_id)
    if rounds.status(rnd, clock.now()) == "closed":
        raise Refused("本轮团购已截止，不能自行取消，请联系小区联络人",
                      "This round has closed; ask your community liaison to cancel", code="round_closed")
    try:
        order = order_state.change(order, "cancelled", order_state.Actor(principal.subject, "resident"),
                                   allowed=CANCELLABLE)
    except order_state.StatusChanged as changed:
        if changed.current.status != "cancelled":  # a concurrent cancel won: same outcome
            raise _not_cancellable() from changed
        order = changed.current
    return view(order)


def _not_cancellable() -> Refused:
    return Refused("订单已付款或已在配送，不能取消，请联系供应商", "This order is paid or on its way; ask the supplier",
                   code="not_cancellable")


def of_household(household_id: str) -> list[dict]:
    """A household's orders, newest first: one Query on GSI1."""
    with storage_errors():
        orders = Order.by_owner.query(f"HOUSEHOLD#{household_id}", Order.gsi1sk.startswith("ORDER#"),
                                      scan_index_forward=False)
        return [view(o) for o in orders]


def mine(principal: Principal) -> dict:
    """The caller's household's orders, for a member only, each with its pickup slot and the round's
    arrival in the community: one more read (a BatchGetItem of the slot plans and arrivals), none per order."""
    from api import notices, slots  # pickup day builds on orders, not the other way round

    households.require_member(principal)
    with storage_errors():
        found = list(Order.by_owner.query(f"HOUSEHOLD#{principal.household_id}", Order.gsi1sk.startswith("ORDER#"),
                                          scan_index_forward=False))
    arrived, plans, community = notices.arrivals_and_plans(principal.community_id, [o.round_id for o in found],
                                                           with_community=True)
    point = community.distribution_point if community is not None else None
    out = []
    for order in found:
        shown = view(order)
        plan = plans.get(order.round_id)
        slot = slots.slot_of(plan, slots.Flat(order.building, order.unit, order.room, ""))
        if slot is not None:
            shown["pickup_slot"] = {"slot_id": slot.slot_id, "starts_at": clock.iso(slot.starts_at),
                                    "ends_at": clock.iso(slot.ends_at), "label": slots.slot_label(slot),
                                    "point": {"name": point.name, "note": point.note} if point else None}
        shown["arrived_at"] = clock.iso(arrived.get(order.round_id))
        out.append(shown)
    return {"orders": out}


_ROSTER_ATTRIBUTES = ["PK", "SK", "kind", "order_id", "household_id", "status", "total_fen", "assisted_by"]


def live_by_household(round_id: str, community_id: str, building_prefix: str = "") -> dict[str, Order]:
    """household id → its live order in a round (the latest, if several), for one community.

    One Query on the round's partition, narrowed to a building by `building_prefix`
    (a flat-key prefix such as `B003#`). Only the attributes a roster shows are
    read back: an order's lines are most of its size.
    """
    with storage_errors():
        orders = Order.query(f"ROUND#{round_id}", Order.sk.startswith(f"ORDER#{community_id}#{building_prefix}"),
                             consistent_read=True, attributes_to_get=_ROSTER_ATTRIBUTES)
        return {o.household_id: o for o in orders if o.status not in DEAD}
