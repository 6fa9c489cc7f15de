"""An order's money state, and every change of it after it is placed.

Statuses: placed → payment_claimed → paid → packed → at_gate → picked_up. From
placed or payment_claimed an order may be cancelled or expired; a paid order
the supplier cancels is cancelled with `refund` "due", later "refunded".

Each change is one TransactWriteItems: the order moves only if it is still in
a status the change allows (so a late claim and the expiry job, or two
confirmations, cannot both win), a ledger entry is appended, and an order
that stops being live gives back its stock, the household's limit and its
fair-share slot. Nothing is ever released twice: the release rides on the
status condition.

The ledger speaks in money states (buckets), which are also how a round's
totals are counted: open, claimed, paid, expired, cancelled, refund_due,
refunded. Every order is in exactly one, so the buckets add up to what was ordered.
"""
import random
import re
import time
from typing import NamedTuple

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, ids
from api.errors import Refused, StorageBusy, storage_errors
from api.models import Bundle, FairShare, HouseholdQuota, LedgerEntry, Order, transaction_connection

BUCKETS = ("open", "claimed", "paid", "expired", "cancelled", "refund_due", "refunded")
PAID = ("paid", "packed", "at_gate", "picked_up")
DEAD = ("cancelled", "expired")
ATTEMPTS = 5
_BACKOFF_SECONDS = 0.025  # doubled per attempt, with full jitter: at most ~0.4 s in all


class Actor(NamedTuple):
    """Who changed the order: a staff or member id and its role, or the scheduler."""

    id: str
    role: str


SCHEDULER = Actor("scheduler", "system")


def bucket(status: str, refund: str | None = None) -> str:
    """The money state an order's status stands for."""
    if status == "placed":
        return "open"
    if status == "payment_claimed":
        return "claimed"
    if status in PAID:
        return "paid"
    if status == "cancelled" and refund:
        return "refund_due" if refund == "due" else "refunded"
    return status


def tag(order: Order) -> str:
    """A short tag that tells a round's orders apart in a transfer note: the order id's last 4 characters."""
    return order.order_id[-4:].upper()


def _short(name: str) -> str:
    digits = re.match(r"[0-9]+", name)
    return digits.group(0) if digits else name


def payment_note(order: Order) -> str:
    """What the resident types in the transfer's note: 3-2-1502 #7K3Q. Never the pickup code (the
    supplier's statement is seen by their staff; the code is the proof of collection)."""
    flat = "-".join(_short(p) for p in (order.building, order.unit, order.room) if p)
    return f"{flat} #{tag(order)}"


def flat_key_of(order: Order) -> str:
    """The flat key inside an order's sort key: ORDER#<cid>#<B…#U…#R…>#<order_id>."""
    return "#".join(order.sk.split("#")[2:5])


def entry(order: Order, actor: Actor, from_state: str, to_state: str, reason: str = "") -> LedgerEntry:
    now = clock.now()
    return LedgerEntry(order.pk, f"LEDGER#{ids.new_id()}", order_id=order.order_id, community_id=order.community_id,
                       at=now, by=actor.id, by_role=actor.role, from_state=from_state, to_state=to_state,
                       amount_fen=int(order.total_fen), reason=reason)


class Plan:
    """The items of one transaction, labelled, in the order PynamoDB sends them
    (condition checks, then puts, then updates), so cancellation reasons can be read back."""

    def __init__(self):
        self.checks, self.deletes, self.puts, self.updates = [], [], [], []

    def labels(self) -> list[str]:
        return [label for label, _ in self.checks + self.deletes + self.puts + self.updates]

    def run(self) -> None:
        with TransactWrite(connection=transaction_connection()) as transaction:
            for _, args in self.checks:
                transaction.condition_check(*args[:3], condition=args[3])
            for _, (item, condition) in self.deletes:
                transaction.delete(item, condition=condition)
            for _, (item, condition) in self.puts:
                transaction.save(item, condition=condition)
            for _, (item, actions, condition) in self.updates:
                transaction.update(item, actions=actions, condition=condition)


def release(plan: Plan, order: Order, *, fair_share: bool = True) -> None:
    """Give back what a live order holds: each bundle's stock, the household's limit, its fair-share slot."""
    for line in order.lines:
        qty = int(line.qty)
        plan.updates.append(("stock", (Bundle(order.pk, f"ROUND#BUNDLE#{line.bundle_id}"),
                                       [Bundle.stock_left.add(qty)], None)))
        plan.updates.append(("limit", (HouseholdQuota(f"HOUSEHOLD#{order.household_id}",
                                                      f"QUOTA#{order.round_id}#{line.bundle_id}"),
                                       [HouseholdQuota.qty.add(-qty)], HouseholdQuota.qty >= qty)))
    if fair_share and order.holds_fair_share:
        plan.updates.append(("fair_share", (FairShare(f"COMMUNITY#{order.community_id}",
                                                      f"FAIRSHARE#{flat_key_of(order)}"),
                                            [FairShare.live_until.remove(), FairShare.order_id.remove()],
                                            FairShare.order_id == order.order_id)))


def conflicted(exc: TransactWriteError) -> bool:
    """DynamoDB cancelled the transaction for a clash with another one: nothing was written, try again."""
    return any(r is not None and r.code == "TransactionConflict" for r in exc.cancellation_reasons or [])


def pause(attempt: int) -> None:
    time.sleep(random.uniform(0, _BACKOFF_SECONDS * 2 ** attempt))


class StatusChanged(Exception):
    """The order was no longer in a status the change allows; `current` is how it is now."""

    def __init__(self, current: Order):
        super().__init__(current.status)
        self.current = current


def change(order: Order, to: str, actor: Actor, *, allowed: tuple[str, ...], actions: list = (),
           reason: tuple[str, str] | None = None, refund: str | None = None, extra=None, when=None) -> Order:
    """Move `order` to status `to` if it is still in `allowed`; returns the order as stored after.

    `actions` are more updates of the order; `reason` (zh, en) says why, for the
    resident; `extra(plan)` adds items of the caller (an idempotency record, a
    statement transaction); `when` is one more condition on the order. Raises
    StatusChanged if another change won, and Refusal if one of `extra`'s items refused.
    """
    new_bucket = bucket(to, refund)
    old_bucket = bucket(order.status, order.refund)
    releases = to in DEAD and order.status not in DEAD
    order_actions = [Order.status.set(to), *actions]
    if reason is not None:
        order_actions += [Order.reason.set(reason[0]), Order.reason_en.set(reason[1])]
    if refund is not None:
        order_actions.append(Order.refund.set(refund))
    fair_share = True
    for attempt in range(ATTEMPTS):
        plan = Plan()
        plan.puts.append(("ledger", (entry(order, actor, old_bucket, new_bucket, reason[0] if reason else ""), None)))
        if extra is not None:
            extra(plan)
        condition = Order.status.is_in(*allowed) if when is None else Order.status.is_in(*allowed) & when
        plan.updates.append(("order", (Order(order.pk, order.sk), order_actions, condition)))
        if releases:
            release(plan, order, fair_share=fair_share)
        try:
            with storage_errors():
                plan.run()
            return Order.get(order.pk, order.sk, consistent_read=True)
        except TransactWriteError as exc:
            failed = [label for label, r in zip(plan.labels(), exc.cancellation_reasons or [])
                      if r is not None and r.code == "ConditionalCheckFailed"]
            if "order" in failed:
                raise StatusChanged(Order.get(order.pk, order.sk, consistent_read=True)) from exc
            if failed == ["fair_share"]:
                # The slot has moved on to a newer order (the community shortened its window): leave it.
                fair_share = False
                continue
            if failed:
                raise Refusal(failed) from exc
            if not conflicted(exc):
                raise
            pause(attempt)
    raise StorageBusy("订单正忙，请稍后再试", "The order is busy; please retry shortly", headers={"Retry-After": "1"})


class Refusal(Exception):
    """A condition of one of the caller's extra items failed; `labels` names which."""

    def __init__(self, labels: list[str]):
        super().__init__(", ".join(labels))
        self.labels = labels


def not_live(order: Order) -> Refused:
    """The refusal for an order that has been cancelled or has expired."""
    if order.status == "expired":
        return Refused("订单已过期，不能再操作", "This order has expired", code="order_expired")
    return Refused("订单已取消，不能再操作", "This order has been cancelled", code="order_cancelled")
