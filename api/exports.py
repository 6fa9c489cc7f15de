"""A round's consolidated orders for the supplier: pick list, packing list, bag labels.

Every export is one Query: a round's orders sorted by community, building,
unit and room (see the Order key). The labels also come as a PDF to print
(api/labels.py), with masked phones and no pickup code. The packing list and labels carry the
full phone number because the supplier must reach the household; nothing
else in the product shows it.
"""
import csv
import io
from collections import OrderedDict

from api import clock, communities, rounds
from api.auth import Principal
from api.errors import BadInput, Forbidden, NotFound, storage_errors
from api.models import Order

KINDS = ("picklist", "packing", "labels")
_LIVE = ("placed", "payment_claimed", "paid", "packed", "at_gate", "picked_up")


def _cell(value):
    """Text a spreadsheet must not run: a leading = + - @ would be a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _orders(round_id: str, community_id: str | None) -> list[Order]:
    prefix = f"ORDER#{community_id}#" if community_id else "ORDER#"
    orders = Order.query(f"ROUND#{round_id}", Order.sk.startswith(prefix), consistent_read=True)
    return [o for o in orders if o.status in _LIVE]


def _rows(kind: str, orders: list[Order], names: dict) -> tuple[list[str], list[list]]:
    if kind == "picklist":
        totals: OrderedDict = OrderedDict()
        for order in orders:
            for line in order.lines:
                entry = totals.setdefault(line.bundle_id, [line.name, 0, int(line.price_fen)])
                entry[1] += int(line.qty)
        return (["套餐 Bundle", "数量 Qty", "单价 Unit price (¥)", "金额 Amount (¥)"],
                [[name, qty, _yuan(price), _yuan(price * qty)] for name, qty, price in totals.values()])
    if kind == "packing":
        return (["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "取货码 Pickup code",
                 "订单内容 Items", "金额 Total (¥)", "状态 Status", "订单号 Order", "下单时间 Placed (Beijing)"],
                [[names[o.community_id], o.building, o.unit, o.room, o.phone, o.pickup_code,
                  "；".join(f"{l.name}×{int(l.qty)}" for l in o.lines), _yuan(int(o.total_fen)), o.status,
                  o.order_id, clock.shanghai(o.created_at)] for o in orders])
    return (["标签 Label", "取货码 Pickup code", "订单号 Order"],
            [[f"{names[o.community_id]} {o.building}{o.unit}{o.room} {o.phone}", o.pickup_code, o.order_id]
             for o in orders])


def export(principal: Principal, round_id: str, kind: str, fmt: str,
           layout: str = "a4-3x7") -> tuple[str, str, str | bytes]:
    """(content type, file name, body) of one export of one round: text for CSV, bytes for xlsx and pdf.

    `layout` (a4-2x5, a4-3x7, a4-4x10, roll-60x40) is the labels PDF's sheet or roll; see api/labels.py.
    """
    if kind not in KINDS:
        raise NotFound("没有这种导出", "No such export")
    if fmt == "pdf" and kind != "labels":
        raise BadInput("输入有误，请按提示修改", "Invalid input; fix the fields listed", fields={"format": [
            "PDF 目前只用于标签，请用 csv 或 xlsx / PDF is for labels only (for now); use csv or xlsx"]})
    with storage_errors():
        rnd, _ = rounds.load(round_id)
        if principal.role == "supplier" and principal.scope_id == rnd.supplier_id:
            community_id = None
        elif principal.role == "liaison" and principal.scope_id in rnd.community_ids:
            community_id = principal.scope_id  # a liaison sees only their own community's bags
        else:
            raise Forbidden("只有本轮供应商或小区联络人可以导出", "Only this round's supplier or a liaison may export",
                            code="wrong_scope")
        orders = _orders(round_id, community_id)
        names = {c: community.name for c, community in
                 communities.get_many([o.community_id for o in orders]).items()}
    if fmt == "pdf":
        from api import labels  # reportlab loads only for a PDF, off the cold start of every other route

        return ("application/pdf", f"{rnd.round_id}-labels-{layout}.pdf",
                labels.render(orders, names, layout, title=f"{rnd.name} 标签 labels"))
    header, rows = _rows(kind, orders, names)
    filename = f"{rnd.round_id}-{kind}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)
        # The BOM lets Excel on Windows open the Chinese text as UTF-8.
        return "text/csv; charset=utf-8", filename, "\ufeff" + buffer.getvalue()
    import xlsxwriter  # only exports need it; kept off the cold start of every other route

    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        sheet = book.add_worksheet(kind)
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                # write_string, not write: a cell of text is never taken for a formula.
                (sheet.write_string if isinstance(value, str) else sheet.write_number)(r, c, value)
        sheet.freeze_panes(1, 0)
    return ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename, buffer.getvalue())
