"""已打包 packed: after a round closes, its supplier marks the paid bags of a community, or of one
building, packed. Residents then see 已打包 on their order.

Only paid orders are packed: plan 1 delivers nothing that is unpaid at the deadline. The
orders go up to 100 to a TransactWriteItems, each conditional on still being `paid`; an order
that changed meanwhile (the supplier cancelled it for a refund) is dropped and the rest are
written again, so a bag is never packed from any other status. One call handles one page of a
community's orders (PAGE); the console calls again with `next_cursor` and shows the count grow.
"""
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, communities, cursors, order_state, roster, rounds
from api.auth import Principal
from api.errors import BadInput, Refused, StorageBusy, storage_errors
from api.models import Order, transaction_connection

PAGE = 200
_TRANSACTION_ITEMS = 100


def mark_packed(principal: Principal, round_id: str, data: dict) -> dict:
    """`{packed, not_paid, already_packed, next_cursor}` for one page of the community's (or building's) orders."""
    rnd = rounds.for_supplier(principal, round_id)
    if rounds.status(rnd, clock.now()) != "closed":
        raise Refused("团购截单后才能标记打包，可先「提前截单」", "Bags can be marked packed once the round has closed; "
                      "close it early first if you need to", code="round_open")
    community_id = data["community_id"]
    if community_id not in rnd.community_ids:
        raise BadInput("本轮团购不服务这个小区", "This round does not serve that community",
                       fields={"community_id": ["本轮不服务该小区 / Not served by this round"]})
    prefix = f"ORDER#{community_id}#" + roster.building_prefix(communities.get(community_id), data.get("building"))
    with storage_errors():
        page = Order.query(rnd.pk, Order.sk.startswith(prefix), consistent_read=True, limit=PAGE,
                           last_evaluated_key=cursors.decode(data.get("cursor"), rnd.pk, prefix))
        found = list(page)
        next_key = page.last_evaluated_key
    paid = [o for o in found if o.status == "paid"]
    packed = transition(paid, [Order.status.set("packed"), Order.packed_at.set(clock.now()),
                               Order.packed_by.set(principal.subject)], ("paid",))
    return {
        "packed": packed,
        "not_paid": sum(o.status in ("placed", "payment_claimed") for o in found),
        "already_packed": sum(o.status in ("packed", "at_gate", "picked_up") for o in found),
        "next_cursor": cursors.encode(next_key),
    }


def transition(orders: list[Order], actions: list, from_statuses: tuple[str, ...]) -> int:
    """Apply `actions` to these orders, 100 to a transaction, each conditional on its status still being one
    of `from_statuses`; those that changed meanwhile are left out. Returns how many were changed."""
    return sum(_transition(orders[start:start + _TRANSACTION_ITEMS], actions, from_statuses)
               for start in range(0, len(orders), _TRANSACTION_ITEMS))


def _transition(orders: list[Order], actions: list, from_statuses: tuple[str, ...]) -> int:
    attempt = 0
    while orders:
        try:
            with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
                for order in orders:
                    transaction.update(Order(order.pk, order.sk), actions=actions,
                                       condition=Order.status.is_in(*from_statuses))
            return len(orders)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            changed = {i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"}
            if changed:
                orders = [o for i, o in enumerate(orders) if i not in changed]
                continue
            if not order_state.conflicted(exc):
                raise
            if attempt + 1 >= order_state.ATTEMPTS:
                raise StorageBusy("订单正忙，请稍后再试", "The orders are busy; please retry shortly",
                                  headers={"Retry-After": "1"}) from exc
            order_state.pause(attempt)
            attempt += 1
    return 0
