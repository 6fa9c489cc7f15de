"""调拨单 allocation orders: the sub-district asks a supply company (or the government reserve, 政府储备投放)
to deliver a category of goods to a community's distribution point, and follows it to the end.

`requested → allocated → dispatched → received → distributed → settled`, one step at a time, each with
who and when in `history`. Receiving writes the community's receive line; the community then
distributes against the allocation (each distribute line is checked against what the allocation has
left, in the same transaction as the ledger); `distributed` is the end of supply, from which the
settlement falls due (api/settlements.py). The allocation day (`allocated_on`) fixes the market price.

Placing an allocation and distributing against one take an optional Idempotency-Key: its record is
written in the same transaction as the allocation (or the ledger line), and a replay answers with what
the key first made, read back (api/stock_ledger.Once).
"""
import random
import time

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from api import clock, communities, errors, idempotency, ids, stock_ledger, suppliers, working_days
from api.auth import Principal
from api.errors import BadInput, Conflict, Forbidden, NotFound, Refused, storage_errors
from api.households import mask_phone
from api.models import Allocation, StepRecord, transaction_connection

CHAIN = ("requested", "allocated", "dispatched", "received", "distributed", "settled")
COMMUNITY_STEPS = ("received", "distributed")  # the destination's liaison confirms these
CONSOLE = ("liaison", "info_officer")
SETTLE_WITHIN = 15  # working days (plan 3: 15 个工作日内结算)
_ATTEMPTS = 5  # of an allocation's transaction with its Idempotency-Key record, under TransactionConflict


def _no_such() -> NotFound:
    return NotFound("没有这张调拨单", "No such allocation", code="no_such_allocation")


def _get(sub_district_id: str, allocation_id: str) -> Allocation:
    with storage_errors():
        try:
            return Allocation.get(f"SUBDISTRICT#{sub_district_id}", f"ALLOC#{allocation_id}", consistent_read=True)
        except Allocation.DoesNotExist:
            raise _no_such() from None


def for_caller(principal: Principal, allocation_id: str) -> Allocation:
    """The admin's, or (for a liaison or active information officer) one bound for their community; else 404."""
    if principal.role == "admin":
        return _get(principal.scope_id, allocation_id)
    try:
        community = communities.for_staff(principal, principal.scope_id, roles=CONSOLE)
    except NotFound:
        raise _no_such() from None
    allocation = _get(community.sub_district_id, allocation_id)
    if allocation.community_id != community.community_id:
        raise _no_such()
    return allocation


def due_on(allocation: Allocation):
    if allocation.distributed_at is None:
        return None
    return working_days.add(allocation.distributed_at.astimezone(clock.SHANGHAI).date(), SETTLE_WITHIN)


def view(allocation: Allocation) -> dict:
    due = due_on(allocation)
    settlement = allocation.settlement
    return {
        "allocation_id": allocation.allocation_id, "category": allocation.category,
        "quantity": int(allocation.quantity), "unit": allocation.unit, "spec": allocation.spec,
        "unit_price_fen": int(allocation.unit_price_fen), "source": allocation.source,
        "supplier_id": allocation.supplier_id, "supplier_name": allocation.supplier_name,
        "reserve_name": allocation.reserve_name, "community_id": allocation.community_id,
        "community_name": allocation.community_name, "destination": allocation.destination,
        "deliver_at": clock.iso(allocation.deliver_at), "contact_name": allocation.contact_name,
        "contact_phone_masked": mask_phone(allocation.contact_phone), "status": allocation.status,
        "history": [{"status": h.status, "by": h.by, "by_role": h.by_role, "at": clock.iso(h.at), "note": h.note}
                    for h in allocation.history],
        "allocated_on": allocation.allocated_on, "distributed_qty": int(allocation.distributed_qty),
        "left_to_distribute": int(allocation.quantity) - int(allocation.distributed_qty),
        "distributed_at": clock.iso(allocation.distributed_at),
        "due_on": due.isoformat() if due else None, "due_on_is_estimate": bool(due and not working_days.known(due)),
        "settlement": None if settlement is None else {
            "unit_price_fen": int(settlement.unit_price_fen), "price_source": settlement.price_source,
            "reason": settlement.reason, "amount_fen": int(settlement.amount_fen),
            "due_on": due.isoformat() if due else None,
            "settled_at": clock.iso(settlement.settled_at), "paid_at": clock.iso(settlement.paid_at)},
    }


def _replayed(once: stock_ledger.Once | None) -> Allocation | None:
    found = once.done() if once is not None else None
    if found is None:
        return None
    with storage_errors():
        return Allocation.get(found.result_pk, found.result_sk, consistent_read=True)


def create(principal: Principal, data: dict, key: str | None = None) -> tuple[dict, bool]:
    """Place an allocation order: (it, True); or, under an Idempotency-Key already used for this same
    order, (the order that key placed, read back, False), so a repeated tap makes no second one."""
    once = stock_ledger.Once.of(principal.subject, key, data)
    earlier = _replayed(once)
    if earlier is not None:
        return view(earlier), False
    try:
        community = communities.get(data["community_id"])
    except NotFound:
        community = None
    if community is None or community.sub_district_id != principal.scope_id:
        raise BadInput("目的地小区不在本街道", "The destination community is not in your sub-district",
                       fields={"community_id": ["不存在 / No such community"]})
    supplier_name = ""
    if data["source"] == "supplier":
        supplier = None
        if data.get("supplier_id"):
            try:
                supplier = suppliers.get(data["supplier_id"])
            except NotFound:
                pass
        if supplier is None or supplier.sub_district_id != principal.scope_id:
            raise BadInput("请选择本街道的保供企业", "Choose a supply company of your sub-district",
                           fields={"supplier_id": ["不存在 / No such supplier"]})
        supplier_name = supplier.name
    elif not data.get("reserve_name"):
        raise BadInput("政府储备投放请填写储备库名称", "Name the reserve for a government reserve release",
                       fields={"reserve_name": ["必填 / Required"]})
    now = clock.now()
    allocation_id = ids.new_id()
    point = community.distribution_point
    allocation = Allocation(
        f"SUBDISTRICT#{principal.scope_id}", f"ALLOC#{allocation_id}", gsi1pk=f"ALLOCTO#{community.community_id}",
        gsi1sk=f"ALLOC#{allocation_id}", allocation_id=allocation_id, sub_district_id=principal.scope_id,
        category=data["category"], quantity=data["quantity"], unit=data["unit"], spec=data.get("spec", ""),
        unit_price_fen=data["unit_price"], source=data["source"],
        supplier_id=data.get("supplier_id") if data["source"] == "supplier" else None, supplier_name=supplier_name,
        reserve_name=data.get("reserve_name", "") if data["source"] == "reserve" else "",
        community_id=community.community_id, community_name=community.name,
        destination=f"{community.name} {point.name}" if point else community.name, deliver_at=data["deliver_at"],
        contact_name=data["contact_name"], contact_phone=data["contact_phone"], status="requested",
        history=[StepRecord(status="requested", by=principal.subject, by_role=principal.role, at=now)],
        created_at=now)
    if once is None:
        with storage_errors():
            try:
                allocation.save(condition=Allocation.pk.does_not_exist())
            except PutError as exc:
                # The id is new, so the item that is there is this very write: it landed on an attempt whose
                # answer was lost, and botocore's retry met it.
                if not errors.condition_failed(exc):
                    raise
        return view(allocation), True
    record = idempotency.record(once.caller, once.key, once.digest, allocation.pk, allocation.sk)
    attempt = 0
    while True:
        try:
            with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
                transaction.save(allocation, condition=Allocation.pk.does_not_exist())
                transaction.save(record, condition=idempotency.put_condition())
            return view(allocation), True
        except TransactWriteError as exc:
            # The same order, sent twice at once, won the other time (or botocore's retry of this one met
            # its own landed write): answer with it. Nothing of this attempt was written.
            earlier = _replayed(once)
            if earlier is not None:
                return view(earlier), earlier.allocation_id == allocation.allocation_id
            attempt += 1
            if not errors.is_conflict(exc) or attempt == _ATTEMPTS:
                raise  # a TransactionConflict left is a 503 (api/errors.guarded)
            # The twin's transaction held the key's record and has not landed yet: look again.
            time.sleep(random.uniform(0.002, 0.02) * attempt)


def listed(principal: Principal, status: str | None, community_id: str | None) -> dict:
    """The sub-district's allocations, newest first: one Query."""
    with storage_errors():
        found = list(Allocation.query(f"SUBDISTRICT#{principal.scope_id}", Allocation.sk.startswith("ALLOC#"),
                                      scan_index_forward=False))
    return {"allocations": [view(a) for a in found if status in (None, a.status)
                            and community_id in (None, a.community_id)]}


def of_community(principal: Principal, community_id: str) -> dict:
    communities.for_staff(principal, community_id, roles=(*CONSOLE, "admin"))
    with storage_errors():
        found = list(Allocation.by_owner.query(f"ALLOCTO#{community_id}", Allocation.gsi1sk.startswith("ALLOC#"),
                                               scan_index_forward=False))
    return {"allocations": [view(a) for a in found]}


def _step(principal: Principal, to: str, note: str):
    return StepRecord(status=to, by=principal.subject, by_role=principal.role, at=clock.now(), note=note)


def advance(principal: Principal, allocation_id: str, to: str, note: str) -> dict:
    allocation = for_caller(principal, allocation_id)
    if principal.role != "admin" and to not in COMMUNITY_STEPS:
        raise Forbidden("小区只能确认收货和发放完毕", "A community may only confirm receipt and distribution",
                        code="wrong_role")
    current = allocation.status
    if CHAIN.index(to) != CHAIN.index(current) + 1:
        raise Conflict(f"调拨单现在是「{current}」，下一步不能是「{to}」", f"The allocation is {current}; it cannot go to {to} next",
                       code="wrong_step", fields={"to": [f"下一步应为 / Next: {CHAIN[min(CHAIN.index(current) + 1, 4)]}"]})
    now = clock.now()
    # The whole new value of each attribute (the status condition guards the history), so that the answer
    # is the item as written without reading it back.
    changes = {"status": to, "history": list(allocation.history or []) + [_step(principal, to, note)]}
    if to == "allocated":
        changes["allocated_on"] = clock.today().isoformat()
    if to == "distributed":
        left = int(allocation.quantity) - int(allocation.distributed_qty)
        if left > 0:
            raise Refused(f"还有 {left} {allocation.unit} 未登记发放，请先在台账登记发放", f"{left} {allocation.unit} not yet distributed in the ledger",
                          code="not_all_distributed", fields={"to": [f"未发放 / Left: {left}"]})
        changes["distributed_at"] = now
    actions = [getattr(Allocation, name).set(value) for name, value in changes.items()]
    condition = Allocation.status == current
    if to == "received":
        line = stock_ledger.new_line(allocation.community_id, "receive", allocation.category, allocation.unit,
                                     principal.subject, allocation_id=allocation.allocation_id, note=note)

        def also(transaction):
            transaction.update(allocation, actions=actions, condition=condition)

        stock_ledger.write_line(allocation.community_id, line, int(allocation.quantity), also=also,
                                refused=lambda: _still(allocation, current))  # (line, True): no key here
    else:
        with storage_errors():
            try:
                allocation.update(actions=actions, condition=condition)
            except UpdateError as exc:
                if errors.condition_failed(exc):
                    raise _changed() from None
                raise
    for name, value in changes.items():
        setattr(allocation, name, value)
    return view(allocation)


def _changed() -> Conflict:
    return Conflict("调拨单刚被别人更新，请刷新", "Someone else just changed this allocation; reload", code="changed")


def _still(allocation: Allocation, status: str) -> None:
    if _get(allocation.sub_district_id, allocation.allocation_id).status != status:
        raise _changed()


def distribute(principal: Principal, community_id: str, data: dict, key: str | None = None) -> tuple[dict, bool]:
    """发放: goods out against an allocation received here; never more than it has left, nor than the balance:
    (the line, True); or, under an Idempotency-Key already used for this same distribution, (its line, False)."""
    communities.for_staff(principal, community_id, roles=CONSOLE)
    once = stock_ledger.Once.of(principal.subject, key, {"community_id": community_id, **data})
    return stock_ledger.once_only(once, lambda: _distribute(principal, community_id, data, once))


def _distribute(principal: Principal, community_id: str, data: dict, once) -> tuple:
    try:
        allocation = for_caller(principal, data["allocation_id"])
    except NotFound:
        allocation = None
    if allocation is None or allocation.community_id != community_id:
        raise BadInput("没有这张调拨单", "No such allocation for this community",
                       fields={"allocation_id": ["不存在 / No such allocation"]})
    if allocation.status != "received":
        raise Refused("这张调拨单还没有收货，或已发放完毕", "This allocation is not received, or already fully distributed",
                      code="not_received")
    quantity = data["quantity"]
    left = int(allocation.quantity) - int(allocation.distributed_qty)
    if quantity > left:
        raise Refused(f"这张调拨单只剩 {left} {allocation.unit} 可发放", f"Only {left} {allocation.unit} of this allocation are left",
                      code="over_allocation", fields={"quantity": [f"最多 / At most {left}"]})
    line = stock_ledger.new_line(community_id, "distribute", allocation.category, allocation.unit, principal.subject,
                                 allocation_id=allocation.allocation_id, to=data["to"], note=data.get("note", ""))

    def also(transaction):
        transaction.update(allocation, actions=[Allocation.distributed_qty.add(quantity)],
                           condition=(Allocation.status == "received")
                           & (Allocation.distributed_qty <= int(allocation.quantity) - quantity))

    def refused():
        fresh = _get(allocation.sub_district_id, allocation.allocation_id)
        fresh_left = int(fresh.quantity) - int(fresh.distributed_qty)
        if fresh.status != "received" or fresh_left < quantity:
            raise Refused(f"这张调拨单只剩 {fresh_left} {fresh.unit} 可发放", f"Only {fresh_left} {fresh.unit} of this allocation are left",
                          code="over_allocation", fields={"quantity": [f"最多 / At most {fresh_left}"]})

    return stock_ledger.write_line(community_id, line, -quantity, also=also, refused=refused, once=once)
