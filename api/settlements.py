"""结算 settlement of allocation orders: 先申请、再调拨、后结算; 谁使用、谁结算 (plan 3).

An allocation is settled after it is distributed, at the market price recorded for its category on the
allocation day (the supply points' average, api/monitoring.py) or at an entered price with its reason;
it is due 15 working days after the end of supply (api/allocations.py `due_on`). Statements go to each
supplier (what it delivered) and each using unit (what a community received), as XLSX or a PDF with its
CJK font embedded, and an overdue list shows what is unpaid past its due day.
"""
import io
import re

from pynamodb.exceptions import UpdateError

from api import allocations, clock, communities, errors, exports, monitoring, pdf_tables, suppliers
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, Refused, storage_errors
from api.models import Allocation, Settlement

_SOURCE_TEXT = {"market": "当日市场价 Market price", "entered": "录入价 Entered price"}


def settle(principal: Principal, allocation_id: str, data: dict) -> dict:
    allocation = allocations.for_caller(principal, allocation_id)
    if allocation.status != "distributed":
        raise Refused("发放完毕后才能结算", "An allocation is settled once it has been distributed", code="not_distributed")
    if data["price_source"] == "entered":
        if data.get("unit_price") is None or not (data.get("reason") or "").strip():
            raise BadInput("录入价格时须填写单价和原因", "An entered price needs the unit price and a reason",
                           fields={k: ["必填 / Required"] for k in ("unit_price", "reason")
                                   if not (data.get(k) if k == "reason" else data.get(k) is not None)})
        price = data["unit_price"]
    else:
        price = monitoring.market_price(allocation.sub_district_id, allocation.category, allocation.unit,
                                        allocation.allocated_on or clock.iso(allocation.created_at)[:10])
        if price is None:
            raise Refused(f"{allocation.allocated_on} 没有该类商品的市场价报送，请录入价格并写明原因",
                          "No market price was reported for this category on the allocation day; enter a price with a reason",
                          code="no_market_price")
    now = clock.now()
    settlement = Settlement(unit_price_fen=price, price_source=data["price_source"], reason=data.get("reason", ""),
                            amount_fen=price * int(allocation.quantity), settled_at=now, settled_by=principal.subject)
    history = Allocation.history.append([allocations._step(principal, "settled", data.get("reason", ""))])
    with storage_errors():
        try:
            allocation.update(actions=[Allocation.settlement.set(settlement), Allocation.status.set("settled"),
                                       Allocation.history.set(history)],
                              condition=Allocation.status == "distributed")
        except UpdateError as exc:
            if errors.condition_failed(exc):
                raise Conflict("这张调拨单已结算", "This allocation is already settled", code="already_settled") from None
            raise
    return allocations.view(allocation)


def paid(principal: Principal, allocation_id: str) -> dict:
    allocation = allocations.for_caller(principal, allocation_id)
    if allocation.settlement is None:
        raise Refused("先结算，再登记付款", "Settle the allocation before recording its payment", code="not_settled")
    with storage_errors():
        try:
            allocation.update(actions=[Allocation.settlement.paid_at.set(clock.now())],
                              condition=Allocation.settlement.paid_at.does_not_exist())
        except UpdateError as exc:
            if not errors.condition_failed(exc):
                raise
    return allocations.view(allocations._get(allocation.sub_district_id, allocation_id))


def _all(principal: Principal) -> list[Allocation]:
    with storage_errors():
        return list(Allocation.query(f"SUBDISTRICT#{principal.scope_id}", Allocation.sk.startswith("ALLOC#")))


def overdue(principal: Principal) -> dict:
    """Distributed or settled, unpaid, and due before today (Beijing)."""
    today = clock.today()
    late = [a for a in _all(principal) if a.distributed_at is not None
            and (a.settlement is None or a.settlement.paid_at is None) and allocations.due_on(a) < today]
    return {"today": today.isoformat(), "allocations": [allocations.view(a) for a in late]}


COLUMNS = (("调拨单 Allocation", 28), ("类别 Category", 14), ("规格 Spec", 16), ("数量 Qty", 10), ("单位 Unit", 8),
           ("供应方 Supplier", 20), ("使用单位 Using unit", 20), ("发放完毕 Distributed", 18),
           ("价格来源 Price source", 20), ("单价 Unit price (¥)", 12), ("金额 Amount (¥)", 12),
           ("到期日 Due", 12), ("付款日 Paid", 18))


def _row(a: Allocation) -> list:
    s = a.settlement
    due = allocations.due_on(a)
    return [a.allocation_id, a.category, a.spec, int(a.quantity), a.unit, a.supplier_name or a.reserve_name,
            a.community_name, clock.shanghai(a.distributed_at) if a.distributed_at else "",
            _SOURCE_TEXT.get(s.price_source, "") if s else "未结算 Not settled",
            exports.yuan(int(s.unit_price_fen)) if s else "", exports.yuan(int(s.amount_fen)) if s else "",
            due.isoformat() if due else "", clock.shanghai(s.paid_at) if s and s.paid_at else ""]


def _ensure_ours(principal: Principal, supplier_id: str | None, community_id: str | None) -> None:
    """Another sub-district's supplier or community is 404, as if it did not exist."""
    try:
        found = suppliers.get(supplier_id) if supplier_id else communities.get(community_id)
    except NotFound:
        found = None
    if found is None or found.sub_district_id != principal.scope_id:
        raise NotFound("没有这个供应方或使用单位", "No such supplier or using unit")


def statement(principal: Principal, query: dict) -> tuple[str, str, bytes]:
    """(filename, content type, bytes): one supplier's or one using unit's allocations, distributed or settled."""
    supplier_id, community_id = query.get("supplier_id"), query.get("community_id")
    if bool(supplier_id) == bool(community_id):
        raise BadInput("请指定一个供应方或一个使用单位", "Name one supplier or one using unit",
                       fields={"supplier_id": ["二选一 / One of supplier_id, community_id"]})
    _ensure_ours(principal, supplier_id, community_id)
    chosen = [a for a in _all(principal) if a.distributed_at is not None
              and (a.supplier_id == supplier_id if supplier_id else a.community_id == community_id)]
    chosen.sort(key=lambda a: a.distributed_at)
    party = (chosen[0].supplier_name if supplier_id else chosen[0].community_name) if chosen else (supplier_id or community_id)
    title = f"结算单 Settlement statement — {'供应方' if supplier_id else '使用单位'} {party}"
    rows = [_row(a) for a in chosen]
    total = sum(int(a.settlement.amount_fen) for a in chosen if a.settlement)
    out = io.BytesIO()
    if query["format"] == "xlsx":
        book = exports.Book(out)
        sheet = book.sheet("结算单 Statement", COLUMNS)
        for row in rows:
            book.append(sheet, row, money_columns=(9, 10))
        book.append(sheet, ["合计 Total", "", "", "", "", "", "", "", "", "", exports.yuan(total), "", ""],
                    money_columns=(10,))
        book.close()
    else:
        pdf_tables.table_pdf(out, title, COLUMNS, rows, f"合计 Total ¥{exports.yuan(total)}")
    fmt = query["format"]
    # The party's name is typed by people: no quote, slash or line break reaches Content-Disposition.
    safe_party = re.sub(r'[\\/:*?"<>|\s]+', "_", party).strip("_")[:60] or "statement"
    return f"settlement-{safe_party}.{fmt}", exports.CONTENT_TYPES[fmt], out.getvalue()
