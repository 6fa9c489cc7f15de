"""GET /api/rounds/{round_id}/exports/{picklist|packing|boxes|labels}?format=csv|xlsx (PDF labels: test_labels.py).

Every file is read back (csv, openpyxl) and compared with the orders placed: the flats in walking
order (community → building → unit → room, rooms 2 < 10 < 101 < 1001), the phones, the items, the
counts and the amounts. Households register and order in a scrambled order; the supplier confirms
their payments, since an export holds paid orders unless asked for `status=all_live`.
"""
import csv
import io
import re
import zipfile
from urllib.parse import unquote, urlencode

import openpyxl
import pytest

from api import bootstrap, communities, exports
from api.models import Order
from tests.api.helpers import (
    create_community, create_round, create_supplier, error_of, fair_share_off, get, new_key,
    orders_in, place_order, post, register,
)

RICE_OIL, VEG, MEAT = 0, 1, 2  # the demo round: 米面油套餐 ¥128, 蔬菜套餐 ¥68, 肉蛋奶套餐 ¥158
HERE = "幸福家园小区"
THERE = "和平里小区"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (building, unit, room, lines), in the order they register and order.
SCRAMBLED = [
    ("3栋", "2单元", "101", [(RICE_OIL, 1)]),
    ("3栋", "1单元", "1001", [(VEG, 2)]),
    ("3栋", "1单元", "2", [(RICE_OIL, 2), (MEAT, 1)]),
    ("1栋", "", "10", [(VEG, 1)]),
    ("3栋", "1单元", "10", [(MEAT, 1)]),
    ("1栋", "", "2", [(RICE_OIL, 1), (VEG, 1)]),
    ("10栋", "1单元", "101", [(VEG, 3)]),
    ("3栋", "2单元", "2", [(RICE_OIL, 1)]),
    ("1栋", "", "1001", [(VEG, 1), (MEAT, 1)]),
    ("2栋", "", "101", [(RICE_OIL, 2)]),
    ("10栋", "2单元", "2", [(VEG, 1)]),
]
# The same flats as the packing list must walk them.
WALK = [
    ("1栋", "", "2"), ("1栋", "", "10"), ("1栋", "", "1001"), ("2栋", "", "101"),
    ("3栋", "1单元", "2"), ("3栋", "1单元", "10"), ("3栋", "1单元", "1001"), ("3栋", "2单元", "2"),
    ("3栋", "2单元", "101"), ("10栋", "1单元", "101"), ("10栋", "2单元", "2"),
]

PACKING_HEADER = ["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "取货码 Pickup code",
                  "订单内容 Items", "金额 Amount (¥)", "付款状态 Payment", "订单号 Order", "下单时间 Placed (Beijing)"]
BOXES_HEADER = ["箱号 Box", "小区 Community", "袋号 Bag", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone",
                "订单内容 Items", "订单号 Order"]
BOX_SUMMARY_HEADER = ["箱号 Box", "小区 Community", "袋数 Bags", "套餐 Bundles"]
LABELS_HEADER = ["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "订单内容 Items",
                 "订单号 Order", "二维码 QR"]
PICKLIST_HEADER = ["范围 Scope", "类别 Type", "名称 Name", "规格 Spec", "数量 Qty", "单价 Unit price (¥)",
                   "金额 Amount (¥)"]
HEADERS = {"packing": PACKING_HEADER, "boxes": BOXES_HEADER, "labels": LABELS_HEADER, "picklist": PICKLIST_HEADER}
WIDTHS = {"packing": [18, 10, 8, 8, 14, 10, 40, 11, 14, 28, 18], "boxes": [7, 18, 7, 10, 8, 8, 14, 40, 28],
          "labels": [18, 10, 8, 8, 14, 40, 28, 40], "picklist": [18, 10, 20, 30, 9, 12, 12],
          "box summary": [7, 18, 8, 60]}
KIND_FORMATS = [("picklist", "csv"), ("picklist", "xlsx"), ("packing", "csv"), ("packing", "xlsx"),
                ("boxes", "csv"), ("boxes", "xlsx"), ("labels", "csv"), ("labels", "xlsx")]
# Two bundles with room for the two-community rounds.
TWO_BUNDLES = [
    {"name": "大米套餐", "price_fen": 5000, "stock": 50, "per_household_limit": 5,
     "items": [{"name": "大米", "qty": "5", "unit": "kg"}]},
    {"name": "鸡蛋套餐", "price_fen": 2350, "stock": 50, "per_household_limit": 5,
     "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}]},
]
RICE, EGGS = 0, 1


# --- calling and reading back ---------------------------------------------------------------

def export(client, round_id, kind, token, **query):
    path = f"/api/rounds/{round_id}/exports/{kind}"
    if query:
        path += "?" + urlencode(query)
    return get(client, path, token, accept="*/*")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.body.decode("utf-8")
    assert text.startswith("\ufeff")  # so Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.body))


MONEY = {"packing": (7,), "picklist": (5, 6)}


def rows_of(sheet, money=()) -> list[list[str]]:
    """A sheet's rows as text, the way the CSV of the same export reads; money columns as 0.00."""
    return [["" if v is None else (f"{v:.2f}" if c in money and not isinstance(v, str) else str(v))
             for c, v in enumerate(row)] for row in sheet.iter_rows(values_only=True)]


def widths(sheet) -> list[int]:
    """The set column widths in characters, left to right (xlsxwriter merges equal neighbours into one
    <col min max>, which openpyxl keys by its first letter); an unset column is missing."""
    found = {}
    for dimension in sheet.column_dimensions.values():
        for column in range(dimension.min, dimension.max + 1):
            found[column] = int(dimension.width)  # xlsxwriter stores 18 as 18.71: the cell padding
    return [found[c] for c in sorted(found)] if sorted(found) == list(range(1, len(found) + 1)) else found


def flat(row, start=1) -> tuple:
    return tuple(row[start:start + 3])


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def pay(client, round_id, token, order_ids):
    """The supplier confirms the payments, as from the console."""
    response = post(client, f"/api/rounds/{round_id}/payments/confirm", {"order_ids": list(order_ids)}, token)
    assert response.status_code == 200, response.body
    assert sorted(o["order_id"] for o in response.json_body["confirmed"]) == sorted(order_ids)


def order_flat(client, join_key, round_id, bundle_ids, building, unit, room, lines, phone):
    household = register(client, join_key, building=building, unit=unit, room=room, phone=phone)
    response = place_order(client, household["token"], round_id, *[(bundle_ids[i], q) for i, q in lines])
    assert response.status_code == 201, response.body
    return {**response.json_body, "flat": (building, unit, room), "phone": phone, "lines": lines,
            "token": household["token"]}


def set_statuses(round_id, statuses: dict[str, str]):
    """Move orders straight to a status in the table (packed, at_gate, cancelled …)."""
    for order in orders_in(round_id):
        if order.order_id in statuses:
            order.update(actions=[Order.status.set(statuses[order.order_id])])


# --- the demo round, eleven paid flats ------------------------------------------------------------

@pytest.fixture
def walk(client, demo):
    """SCRAMBLED ordered and paid; the orders in walking order, each with its flat, phone and lines."""
    placed = [order_flat(client, demo["join_key"], demo["round_id"], demo["bundle_ids"], building, unit, room, lines,
                         f"1380000{n:04d}")
              for n, (building, unit, room, lines) in enumerate(SCRAMBLED)]
    pay(client, demo["round_id"], demo["tokens"]["supplier"], [o["order_id"] for o in placed])
    by_flat = {o["flat"]: o for o in placed}
    return [by_flat[f] for f in WALK]


def test_packing__csv__one_row_per_paid_order_in_building_unit_room_order(client, demo, walk):
    rows = csv_rows(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"]))

    assert rows[0] == PACKING_HEADER
    assert [flat(r) for r in rows[1:]] == WALK  # 1栋 before 2栋 before 10栋; rooms 2, 10, 101, 1001 as numbers
    assert [r[9] for r in rows[1:]] == [o["order_id"] for o in walk]


def test_packing__csv__carries_full_phone_pickup_code_items_amount_status_and_time(client, demo, walk):
    rows = csv_rows(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"]))

    three = next(r for r in rows[1:] if flat(r) == ("3栋", "1单元", "2"))
    order = next(o for o in walk if o["flat"] == ("3栋", "1单元", "2"))
    assert three[0] == HERE
    assert three[4] == order["phone"]
    assert three[5] == order["pickup_code"]
    assert three[6] == "米面油套餐×2；肉蛋奶套餐×1"
    assert three[7] == "414.00"  # 2 × 128.00 + 158.00
    assert three[8] == "已付款 paid"
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", three[10])
    assert [r[4] for r in rows[1:]] == [o["phone"] for o in walk]
    assert [r[7] for r in rows[1:]] == [f"{o['total_fen'] // 100}.{o['total_fen'] % 100:02d}" for o in walk]


def test_packing__xlsx__an_all_sheet_then_one_sheet_per_building_with_exactly_its_rows(client, demo, walk):
    book = workbook(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], format="xlsx"))
    csv_body = csv_rows(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"]))

    assert book.sheetnames == ["全部 All", "1栋", "2栋", "3栋", "10栋"]
    assert rows_of(book["全部 All"], MONEY["packing"]) == csv_body
    for building in ("1栋", "2栋", "3栋", "10栋"):
        rows = rows_of(book[building], MONEY["packing"])
        assert rows[0] == PACKING_HEADER
        assert rows[1:] == [r for r in csv_body[1:] if r[1] == building]
    assert book["3栋"].max_row == 1 + 5


def test_packing__xlsx__every_sheet_has_a_frozen_header_and_set_column_widths(client, demo, walk):
    book = workbook(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], format="xlsx"))

    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert widths(sheet) == WIDTHS["packing"], sheet.title


def test_packing__xlsx__amount_is_a_number(client, demo, walk):
    sheet = workbook(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], format="xlsx"))["全部 All"]

    amounts = [row[7] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert amounts == [o["total_fen"] / 100 for o in walk]


def test_picklist__csv__totals_per_bundle_and_per_item_with_amounts(client, demo, walk):
    rows = csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"]))

    assert rows[0] == PICKLIST_HEADER
    whole = [r[1:] for r in rows[1:] if r[0] == "全部 Whole round"]
    assert whole == [
        ["套餐 Bundle", "米面油套餐", "大米 5 kg、面粉 2.5 kg、花生油 1.8 L", "7", "128.00", "896.00"],
        ["套餐 Bundle", "蔬菜套餐", "白菜 1 颗、土豆 2 kg、西红柿 1 kg、鸡蛋 30 枚", "9", "68.00", "612.00"],
        ["套餐 Bundle", "肉蛋奶套餐", "猪肉 1 kg、鸡蛋 30 枚、纯牛奶 12 盒", "3", "158.00", "474.00"],
        ["物品 Item", "大米", "5 kg", "7", "", ""],
        ["物品 Item", "面粉", "2.5 kg", "7", "", ""],
        ["物品 Item", "花生油", "1.8 L", "7", "", ""],
        ["物品 Item", "白菜", "1 颗", "9", "", ""],
        ["物品 Item", "土豆", "2 kg", "9", "", ""],
        ["物品 Item", "西红柿", "1 kg", "9", "", ""],
        ["物品 Item", "鸡蛋", "30 枚", "12", "", ""],  # 9 in 蔬菜套餐 and 3 in 肉蛋奶套餐
        ["物品 Item", "猪肉", "1 kg", "3", "", ""],
        ["物品 Item", "纯牛奶", "12 盒", "3", "", ""],
    ]
    # The bundle amounts add up to what the households were charged.
    assert sum(int(r[5].replace(".", "")) for r in whole[:3]) == sum(o["total_fen"] for o in walk)
    # A one-community round: the community's part is the whole round again.
    assert [r[1:] for r in rows[1:] if r[0] == HERE] == whole
    assert {r[0] for r in rows[1:]} == {"全部 Whole round", HERE}


def test_picklist__xlsx__a_sheet_for_the_round_then_one_per_community_as_in_the_csv(client, demo, walk):
    book = workbook(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"], format="xlsx"))
    csv_body = csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"]))

    assert book.sheetnames == ["全部 All", HERE]
    for sheet, scope in (("全部 All", "全部 Whole round"), (HERE, HERE)):
        assert rows_of(book[sheet], MONEY["picklist"]) == [csv_body[0]] + [r for r in csv_body[1:] if r[0] == scope]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert widths(sheet) == WIDTHS["picklist"]


def test_labels__csv__one_row_per_bag_with_masked_phone_and_qr_text_never_the_pickup_code(client, demo, walk):
    response = export(client, demo["round_id"], "labels", demo["tokens"]["supplier"])
    rows = csv_rows(response)

    assert rows[0] == LABELS_HEADER
    assert rows[1:] == [
        [HERE, *o["flat"], masked(o["phone"]), text_of(o["lines"]), o["order_id"], f"baogong:order:{o['order_id']}"]
        for o in walk]
    body = response.body.decode("utf-8")
    for order in walk:
        assert order["pickup_code"] not in body
        assert order["phone"] not in body


def test_labels__xlsx__the_same_rows_as_the_csv_with_a_frozen_header(client, demo, walk):
    book = workbook(export(client, demo["round_id"], "labels", demo["tokens"]["supplier"], format="xlsx"))

    assert book.sheetnames == ["标签 Labels"]
    sheet = book.active
    assert rows_of(sheet) == csv_rows(export(client, demo["round_id"], "labels", demo["tokens"]["supplier"]))
    assert sheet.freeze_panes == "A2"
    assert widths(sheet) == WIDTHS["labels"]


def test_boxes__one_box_round__bags_numbered_in_walking_order_with_masked_phones(client, demo, walk):
    rows = csv_rows(export(client, demo["round_id"], "boxes", demo["tokens"]["supplier"]))

    assert rows[0] == BOXES_HEADER
    assert rows[1:] == [["1", HERE, str(n), *o["flat"], masked(o["phone"]), text_of(o["lines"]), o["order_id"]]
                        for n, o in enumerate(walk, start=1)]


NAMES = ["米面油套餐", "蔬菜套餐", "肉蛋奶套餐"]


def text_of(lines) -> str:
    return "；".join(f"{NAMES[i]}×{q}" for i, q in lines)


# --- two communities in one round -----------------------------------------------------------------

@pytest.fixture
def shared(client, demo):
    """A round over the demo community and 和平里小区 (same sub-district), with paid orders in both:
    幸福家园 1栋 2: 大米×2, 3栋 1单元 10: 鸡蛋×1; 和平里 1栋 101: 大米×1 + 鸡蛋×2, 2栋 1: 鸡蛋×1, 10栋 2单元 1001: 大米×1.
    """
    other = create_community(demo["sub_district_id"], THERE)
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]], TWO_BUNDLES)
    plan = [
        (demo["join_key"], "3栋", "1单元", "10", [(EGGS, 1)]),
        (other["join_key"], "10栋", "2单元", "1001", [(RICE, 1)]),
        (demo["join_key"], "1栋", "", "2", [(RICE, 2)]),
        (other["join_key"], "2栋", "", "1", [(EGGS, 1)]),
        (other["join_key"], "1栋", "", "101", [(RICE, 1), (EGGS, 2)]),
    ]
    placed = [order_flat(client, key, rnd["round_id"], rnd["bundle_ids"], b, u, r, lines, f"1391111{n:04d}")
              for n, (key, b, u, r, lines) in enumerate(plan)]
    pay(client, rnd["round_id"], demo["tokens"]["supplier"], [o["order_id"] for o in placed])
    return {**rnd, "other": other, "orders": placed}


def test_picklist__two_communities__the_round_then_each_communitys_part(client, demo, shared):
    rows = csv_rows(export(client, shared["round_id"], "picklist", demo["tokens"]["supplier"]))

    assert rows[1:] == [
        ["全部 Whole round", "套餐 Bundle", "大米套餐", "大米 5 kg", "4", "50.00", "200.00"],
        ["全部 Whole round", "套餐 Bundle", "鸡蛋套餐", "鸡蛋 30 枚", "4", "23.50", "94.00"],
        ["全部 Whole round", "物品 Item", "大米", "5 kg", "4", "", ""],
        ["全部 Whole round", "物品 Item", "鸡蛋", "30 枚", "4", "", ""],
        [HERE, "套餐 Bundle", "大米套餐", "大米 5 kg", "2", "50.00", "100.00"],
        [HERE, "套餐 Bundle", "鸡蛋套餐", "鸡蛋 30 枚", "1", "23.50", "23.50"],
        [HERE, "物品 Item", "大米", "5 kg", "2", "", ""],
        [HERE, "物品 Item", "鸡蛋", "30 枚", "1", "", ""],
        [THERE, "套餐 Bundle", "大米套餐", "大米 5 kg", "2", "50.00", "100.00"],
        [THERE, "套餐 Bundle", "鸡蛋套餐", "鸡蛋 30 枚", "3", "23.50", "70.50"],
        [THERE, "物品 Item", "大米", "5 kg", "2", "", ""],
        [THERE, "物品 Item", "鸡蛋", "30 枚", "3", "", ""],
    ]


def test_picklist__two_communities__xlsx_has_a_sheet_per_community(client, demo, shared):
    book = workbook(export(client, shared["round_id"], "picklist", demo["tokens"]["supplier"], format="xlsx"))

    assert book.sheetnames == ["全部 All", HERE, THERE]
    assert [r[2:5] for r in rows_of(book[THERE])[1:3]] == [["大米套餐", "大米 5 kg", "2"], ["鸡蛋套餐", "鸡蛋 30 枚", "3"]]
    assert [row[6] for row in book[THERE].iter_rows(min_row=2, max_row=3, values_only=True)] == [100.0, 70.5]


def test_packing__two_communities__sheets_named_by_community_and_building(client, demo, shared):
    book = workbook(export(client, shared["round_id"], "packing", demo["tokens"]["supplier"], format="xlsx"))

    assert book.sheetnames == ["全部 All", f"{HERE} 1栋", f"{HERE} 3栋", f"{THERE} 1栋", f"{THERE} 2栋",
                               f"{THERE} 10栋"]
    assert [(r[0], *flat(r)) for r in rows_of(book["全部 All"])[1:]] == [
        (HERE, "1栋", "", "2"), (HERE, "3栋", "1单元", "10"),
        (THERE, "1栋", "", "101"), (THERE, "2栋", "", "1"), (THERE, "10栋", "2单元", "1001")]
    assert [(r[0], *flat(r)) for r in rows_of(book[f"{THERE} 1栋"])[1:]] == [(THERE, "1栋", "", "101")]


def test_boxes__two_communities__one_box_each_bags_numbered_from_one_in_each(client, demo, shared):
    response = export(client, shared["round_id"], "boxes", demo["tokens"]["supplier"])
    rows = csv_rows(response)

    assert [(r[0], r[1], r[2], *flat(r, 3)) for r in rows[1:]] == [
        ("1", HERE, "1", "1栋", "", "2"), ("1", HERE, "2", "3栋", "1单元", "10"),
        ("2", THERE, "1", "1栋", "", "101"), ("2", THERE, "2", "2栋", "", "1"), ("2", THERE, "3", "10栋", "2单元", "1001")]
    phones = {o["order_id"]: o["phone"] for o in shared["orders"]}
    assert [r[6] for r in rows[1:]] == [masked(phones[r[8]]) for r in rows[1:]]
    body = response.body.decode("utf-8")
    assert not [o for o in shared["orders"] if o["phone"] in body or o["pickup_code"] in body]


def test_boxes__xlsx__a_summary_sheet_counting_each_boxs_bags_and_bundles_then_a_manifest_per_box(client, demo, shared):
    book = workbook(export(client, shared["round_id"], "boxes", demo["tokens"]["supplier"], format="xlsx"))

    assert book.sheetnames == ["装箱汇总 Boxes", f"1号箱 {HERE}", f"2号箱 {THERE}"]
    assert rows_of(book["装箱汇总 Boxes"]) == [
        BOX_SUMMARY_HEADER,
        ["1", HERE, "2", "大米套餐×2；鸡蛋套餐×1"],
        ["2", THERE, "3", "大米套餐×2；鸡蛋套餐×3"],
    ]
    csv_body = csv_rows(export(client, shared["round_id"], "boxes", demo["tokens"]["supplier"]))
    assert rows_of(book[f"1号箱 {HERE}"]) == [BOXES_HEADER] + [r for r in csv_body[1:] if r[0] == "1"]
    assert rows_of(book[f"2号箱 {THERE}"]) == [BOXES_HEADER] + [r for r in csv_body[1:] if r[0] == "2"]
    assert widths(book["装箱汇总 Boxes"]) == WIDTHS["box summary"]
    for sheet in book.worksheets[1:]:
        assert widths(sheet) == WIDTHS["boxes"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"


def test_boxes__numbered_in_the_rounds_order_of_communities_like_the_picklist(client, demo):
    other = create_community(demo["sub_district_id"], THERE)
    rnd = create_round(demo["tokens"]["supplier"], [other["community_id"], demo["community_id"]], TWO_BUNDLES)
    placed = [order_flat(client, key, rnd["round_id"], rnd["bundle_ids"], "1栋", "", "101", [(RICE, 1)], phone)
              for key, phone in ((demo["join_key"], "13922220001"), (other["join_key"], "13922220002"))]
    pay(client, rnd["round_id"], demo["tokens"]["supplier"], [o["order_id"] for o in placed])

    picklist = csv_rows(export(client, rnd["round_id"], "picklist", demo["tokens"]["supplier"]))
    boxes = csv_rows(export(client, rnd["round_id"], "boxes", demo["tokens"]["supplier"]))

    parts = list(dict.fromkeys(r[0] for r in picklist[1:] if r[0] != "全部 Whole round"))
    assert parts == [THERE, HERE]
    assert [(r[0], r[1]) for r in boxes[1:]] == [("1", THERE), ("2", HERE)]


def test_boxes__a_communitys_box_number_is_the_same_filtered_or_not(client, demo, shared):
    other = shared["other"]["community_id"]

    whole = csv_rows(export(client, shared["round_id"], "boxes", demo["tokens"]["supplier"]))
    one = csv_rows(export(client, shared["round_id"], "boxes", demo["tokens"]["supplier"], community_id=other))

    assert {r[0] for r in whole[1:] if r[1] == THERE} == {"2"}
    assert {r[0] for r in one[1:]} == {"2"}


# --- filters ----------------------------------------------------------------------------------------

@pytest.fixture
def every_status(client, demo):
    """One order in each status, a flat each: {status: order_id}."""
    statuses = ["placed", "payment_claimed", "paid", "packed", "at_gate", "picked_up", "cancelled", "expired"]
    placed = {status: order_flat(client, demo["join_key"], demo["round_id"], demo["bundle_ids"], "1栋", "",
                                 str(101 + n), [(VEG, 1)], f"1370000{n:04d}")
              for n, status in enumerate(statuses)}
    claim = post(client, f"/api/orders/{placed['payment_claimed']['order_id']}/payment-claim", {},
                 placed["payment_claimed"]["token"], idempotency_key=new_key())
    assert claim.status_code == 200, claim.body
    pay(client, demo["round_id"], demo["tokens"]["supplier"],
        [placed[s]["order_id"] for s in ("paid", "packed", "at_gate", "picked_up")])
    set_statuses(demo["round_id"], {placed[s]["order_id"]: s for s in ("packed", "at_gate", "picked_up",
                                                                        "cancelled", "expired")})
    stored = {o.order_id: o.status for o in orders_in(demo["round_id"])}
    assert {s: stored[o["order_id"]] for s, o in placed.items()} == {s: s for s in statuses}
    return {status: o["order_id"] for status, o in placed.items()}


@pytest.mark.parametrize("kind", ["packing", "boxes", "labels"])
def test_export__by_default__holds_paid_packed_at_gate_and_picked_up_orders_only(client, demo, every_status, kind):
    rows = csv_rows(export(client, demo["round_id"], kind, demo["tokens"]["supplier"]))

    column = HEADERS[kind].index("订单号 Order")
    assert [r[column] for r in rows[1:]] == [every_status[s] for s in ("paid", "packed", "at_gate", "picked_up")]


def test_packing__status_all_live__adds_placed_and_payment_claimed_never_cancelled_or_expired(client, demo,
                                                                                            every_status):
    rows = csv_rows(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], status="all_live"))

    live = ("placed", "payment_claimed", "paid", "packed", "at_gate", "picked_up")
    assert [r[9] for r in rows[1:]] == [every_status[s] for s in live]
    assert [r[8] for r in rows[1:]] == ["未付款 placed", "已付款待确认 payment_claimed", "已付款 paid", "已打包 packed",
                                        "已到门口 at_gate", "已取货 picked_up"]


def test_picklist__counts_paid_orders_only_unless_all_live(client, demo, every_status):
    paid = csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"]))
    live = csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"], status="all_live"))

    assert paid[1][2:7] == ["蔬菜套餐", "白菜 1 颗、土豆 2 kg、西红柿 1 kg、鸡蛋 30 枚", "4", "68.00", "272.00"]
    assert live[1][2:7] == ["蔬菜套餐", "白菜 1 颗、土豆 2 kg、西红柿 1 kg、鸡蛋 30 枚", "6", "68.00", "408.00"]


def test_export__community_id__holds_only_that_communitys_bags(client, demo, shared):
    other = shared["other"]["community_id"]

    rows = csv_rows(export(client, shared["round_id"], "packing", demo["tokens"]["supplier"], community_id=other))
    book = workbook(export(client, shared["round_id"], "packing", demo["tokens"]["supplier"], community_id=other,
                           format="xlsx"))
    picklist = csv_rows(export(client, shared["round_id"], "picklist", demo["tokens"]["supplier"], community_id=other))

    assert [(r[0], *flat(r)) for r in rows[1:]] == [
        (THERE, "1栋", "", "101"), (THERE, "2栋", "", "1"), (THERE, "10栋", "2单元", "1001")]
    assert book.sheetnames == ["全部 All", "1栋", "2栋", "10栋"]  # one community: sheets named by building
    assert {r[0] for r in picklist[1:]} == {THERE}  # one table, named for what it covers
    assert [r[4] for r in picklist[1:] if r[1] == "套餐 Bundle"] == ["2", "3"]


def test_export__building__holds_only_that_buildings_bags_not_a_building_sharing_its_prefix(client, demo, walk):
    supplier = demo["tokens"]["supplier"]

    one = csv_rows(export(client, demo["round_id"], "packing", supplier, community_id=demo["community_id"],
                          building="1栋"))
    ten = csv_rows(export(client, demo["round_id"], "labels", supplier, community_id=demo["community_id"],
                          building="10栋"))

    assert [flat(r) for r in one[1:]] == [("1栋", "", "2"), ("1栋", "", "10"), ("1栋", "", "1001")]
    assert [flat(r, 1) for r in ten[1:]] == [("10栋", "1单元", "101"), ("10栋", "2单元", "2")]


def test_export__liaison__gets_own_communitys_bags_without_asking(client, demo, shared):
    path_round = shared["round_id"]

    liaison = csv_rows(export(client, path_round, "packing", demo["tokens"]["liaison"]))
    named = csv_rows(export(client, path_round, "packing", demo["tokens"]["liaison"],
                            community_id=demo["community_id"]))
    supplier = csv_rows(export(client, path_round, "packing", demo["tokens"]["supplier"]))
    boxes = csv_rows(export(client, path_round, "boxes", demo["tokens"]["liaison"]))

    assert [(r[0], *flat(r)) for r in liaison[1:]] == [(HERE, "1栋", "", "2"), (HERE, "3栋", "1单元", "10")]
    assert named == liaison
    assert sorted({r[0] for r in supplier[1:]}) == sorted([HERE, THERE])
    assert [(r[0], r[1], r[2]) for r in boxes[1:]] == [("1", HERE, "1"), ("1", HERE, "2")]


def test_packing__liaison__carries_no_pickup_codes(client, demo, shared):
    response = export(client, shared["round_id"], "packing", demo["tokens"]["liaison"])

    rows = csv_rows(response)
    assert len(rows) == 3
    body = response.body.decode("utf-8")
    assert not [o for o in shared["orders"] if o["pickup_code"] in body]
    # Masked phones too: full numbers are for the supplier's own packing list only.
    assert all(re.fullmatch(r"1[0-9]{2}\*{4}[0-9]{4}", r[4]) for r in rows[1:])


def test_picklist__filtered__does_not_call_its_totals_the_whole_round(client, demo, walk):
    rows = csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"],
                           community_id=demo["community_id"], building="1栋"))

    assert rows[1][2:5] == ["米面油套餐", "大米 5 kg、面粉 2.5 kg、花生油 1.8 L", "1"]  # 1栋 2 alone
    assert "全部 Whole round" not in {r[0] for r in rows[1:]}


def test_export__liaison__building_alone_is_a_building_of_own_community(client, demo, shared):
    rows = csv_rows(export(client, shared["round_id"], "packing", demo["tokens"]["liaison"], building="1栋"))

    assert [(r[0], *flat(r)) for r in rows[1:]] == [(HERE, "1栋", "", "2")]


def test_export__liaison__another_community_id__is_404(client, demo, shared):
    response = export(client, shared["round_id"], "packing", demo["tokens"]["liaison"],
                      community_id=shared["other"]["community_id"])

    error_of(response, 404, "not_found")


def test_export__liaison_of_a_community_the_round_does_not_serve__is_404(client, demo, shared):
    liaison = bootstrap.create_staff("liaison", shared["other"]["community_id"])

    error_of(export(client, demo["round_id"], "packing", liaison), 404, "not_found")


# --- an empty round -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fmt", KIND_FORMATS)
def test_export__empty_round__is_a_valid_file_with_the_header_and_no_rows(client, demo, kind, fmt):
    response = export(client, demo["round_id"], kind, demo["tokens"]["supplier"], format=fmt)

    if fmt == "csv":
        assert csv_rows(response) == [HEADERS[kind]]
        return
    book = workbook(response)
    first = {"packing": "全部 All", "picklist": "全部 All", "boxes": "装箱汇总 Boxes", "labels": "标签 Labels"}[kind]
    assert book.sheetnames == [first]
    expected = BOX_SUMMARY_HEADER if kind == "boxes" else HEADERS[kind]
    assert rows_of(book[first]) == [expected]
    assert book[first].freeze_panes == "A2"


def test_export__only_unpaid_orders__is_empty_by_default(client, demo):
    order_flat(client, demo["join_key"], demo["round_id"], demo["bundle_ids"], "1栋", "", "101", [(VEG, 1)],
               "13800000101")

    assert csv_rows(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"])) == [PACKING_HEADER]
    assert csv_rows(export(client, demo["round_id"], "picklist", demo["tokens"]["supplier"])) == [PICKLIST_HEADER]


# --- file names --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fmt", KIND_FORMATS)
def test_export__content_disposition__ascii_round_id_name_and_the_chinese_name(client, demo, kind, fmt):
    response = export(client, demo["round_id"], kind, demo["tokens"]["supplier"], format=fmt)

    disposition = response.headers["Content-Disposition"]
    match = re.fullmatch(r"attachment; filename=\"([!-~]+)\"; filename\*=UTF-8''([!-~]+)", disposition)
    assert match, disposition
    assert match.group(1) == f"{demo['round_id']}-{kind}.{fmt}"
    assert unquote(match.group(2)) == f"第1期_保供团购-{kind}.{fmt}"


def test_export__content_disposition__names_the_community_and_building_filtered(client, demo):
    response = export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], format="xlsx",
                      community_id=demo["community_id"], building="3栋")

    disposition = response.headers["Content-Disposition"]
    assert f'filename="{demo["round_id"]}-packing.xlsx"' in disposition
    assert unquote(disposition.split("UTF-8''")[1]) == f"第1期_保供团购-{HERE}-3栋-packing.xlsx"


# --- past the limit of a request ----------------------------------------------------------------------

def test_export__past_the_limit__is_413_export_too_large_and_at_the_limit_is_200(client, demo, walk, monkeypatch):
    monkeypatch.setattr(exports, "SYNC_LIMIT", len(walk))
    for kind, fmt in KIND_FORMATS:
        assert export(client, demo["round_id"], kind, demo["tokens"]["supplier"], format=fmt).status_code == 200

    monkeypatch.setattr(exports, "SYNC_LIMIT", len(walk) - 1)
    for kind, fmt in KIND_FORMATS:
        response = export(client, demo["round_id"], kind, demo["tokens"]["supplier"], format=fmt)
        error = error_of(response, 413, "export_too_large")
        assert "jobs" in error["message_en"] and str(len(walk) - 1) in error["message"]


def test_export__limit__counts_the_selected_orders_not_the_round(client, demo, walk, monkeypatch):
    monkeypatch.setattr(exports, "SYNC_LIMIT", 3)

    response = export(client, demo["round_id"], "packing", demo["tokens"]["supplier"],
                      community_id=demo["community_id"], building="1栋")

    assert len(csv_rows(response)) == 1 + 3


# --- bad input and who may ------------------------------------------------------------------------------

def field_message(error, name) -> str:
    assert set(error["fields"]) == {name}, error
    message = error["fields"][name][0]
    assert " / " in message  # Chinese / English
    return message


def test_export__unknown_kind__is_404(client, demo):
    error_of(export(client, demo["round_id"], "invoices", demo["tokens"]["supplier"]), 404, "not_found")


@pytest.mark.parametrize("name, value", [("format", "docx"), ("layout", "a4-5x13"), ("status", "everything")])
def test_export__unknown_format_layout_or_status__is_400_naming_it(client, demo, name, value):
    error = error_of(export(client, demo["round_id"], "labels", demo["tokens"]["supplier"], **{name: value}),
                     400, "bad_input")

    field_message(error, name)


def test_export__pdf_for_packing__is_400_naming_format(client, demo):
    error = error_of(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], format="pdf"),
                     400, "bad_input")

    assert "labels only" in field_message(error, "format")


def test_export__building_without_community_id__is_400_asking_for_the_community(client, demo):
    error = error_of(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], building="1栋"),
                     400, "bad_input")

    assert "小区" in field_message(error, "community_id")


def test_export__a_community_the_round_does_not_serve__is_400(client, demo):
    other = create_community(demo["sub_district_id"], THERE)

    error = error_of(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"],
                            community_id=other["community_id"]), 400, "bad_input")

    field_message(error, "community_id")


def test_export__unknown_building__is_400_listing_the_buildings(client, demo):
    error = error_of(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"],
                            community_id=demo["community_id"], building="99栋"), 400, "bad_input")

    assert "10栋" in field_message(error, "building")


def test_export__unknown_query_parameter__is_400(client, demo):
    error = error_of(export(client, demo["round_id"], "packing", demo["tokens"]["supplier"], sort="phone"),
                     400, "bad_input")

    assert set(error["fields"]) == {"sort"}


def test_export__unknown_round__is_404(client, demo):
    error_of(export(client, "01JNOSUCHROUND00000000000", "packing", demo["tokens"]["supplier"]), 404, "not_found")


def test_export__another_suppliers_round__is_404_as_if_it_did_not_exist(client, demo, walk):
    rival = create_supplier(demo["sub_district_id"])

    error = error_of(export(client, demo["round_id"], "packing", rival["token"]), 404, "not_found")

    assert error == error_of(export(client, "01JNOSUCHROUND00000000000", "packing", rival["token"]), 404,
                             "not_found")


@pytest.mark.parametrize("role", ["volunteer", "info_officer", "admin"])
def test_export__staff_other_than_supplier_or_liaison__is_403(client, demo, role):
    error_of(export(client, demo["round_id"], "packing", demo["tokens"][role]), 403, "wrong_role")


def test_export__resident__is_403(client, demo):
    resident = register(client, demo["join_key"])

    error_of(export(client, demo["round_id"], "packing", resident["token"]), 403, "wrong_role")


def test_export__no_token__is_401(client, demo):
    response = get(client, f"/api/rounds/{demo['round_id']}/exports/packing")

    error_of(response, 401, "unauthorized")


# --- spreadsheet safety ----------------------------------------------------------------------------------

FORMULA_BUNDLE = "=1+1"
FORMULA_HYPERLINK = '=HYPERLINK("http://evil.test","点我")'


@pytest.fixture
def formulas(client, demo):
    """A community named '+…', a building '@1栋', a bundle '=1+1' and rooms '-1' and 'A1'; paid orders."""
    fair_share_off(demo["community_id"])
    sub_district = demo["sub_district_id"]
    odd = communities.create(sub_district, "+小区", [{"name": "@1栋", "units": []}, {"name": "-2栋", "units": []}])
    bundles = [{"name": FORMULA_BUNDLE, "price_fen": 100, "stock": 9, "per_household_limit": 5,
                "items": [{"name": "@物品", "qty": "1", "unit": ""}]},
               {"name": FORMULA_HYPERLINK, "price_fen": 200, "stock": 9, "per_household_limit": 5,
                "items": [{"name": "-物品", "qty": "2", "unit": "kg"}]}]
    rnd = create_round(demo["tokens"]["supplier"], [odd.community_id], bundles)
    placed = [order_flat(client, odd.join_key, rnd["round_id"], rnd["bundle_ids"], "@1栋", "", "-1",
                         [(0, 1), (1, 1)], "13900000001"),
              order_flat(client, odd.join_key, rnd["round_id"], rnd["bundle_ids"], "-2栋", "", "-3", [(1, 1)],
                         "13900000002")]
    pay(client, rnd["round_id"], demo["tokens"]["supplier"], [o["order_id"] for o in placed])
    return rnd


RISKY = ("=", "+", "-", "@")


@pytest.mark.parametrize("kind", ["packing", "boxes", "labels", "picklist"])
def test_export__csv__no_cell_starts_like_a_formula(client, demo, formulas, kind):
    rows = csv_rows(export(client, formulas["round_id"], kind, demo["tokens"]["supplier"]))

    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not [c for c in cells if c.startswith(RISKY)]
    assert "'+小区" in cells


def test_packing__csv__defused_cells_keep_their_text_after_a_quote(client, demo, formulas):
    rows = csv_rows(export(client, formulas["round_id"], "packing", demo["tokens"]["supplier"]))

    assert [r[:4] for r in rows[1:]] == [["'+小区", "'@1栋", "", "'-1"], ["'+小区", "'-2栋", "", "'-3"]]
    assert rows[1][6] == f"'{FORMULA_BUNDLE}×1；{FORMULA_HYPERLINK}×1"


def test_picklist__csv__defuses_formula_bundle_and_item_names(client, demo, formulas):
    rows = csv_rows(export(client, formulas["round_id"], "picklist", demo["tokens"]["supplier"]))

    whole = [r for r in rows[1:] if r[0] == "全部 Whole round"]
    assert [r[2] for r in whole] == ["'" + FORMULA_BUNDLE, "'" + FORMULA_HYPERLINK, "'@物品", "'-物品"]
    assert [r[0] for r in rows[1:] if r[0] != "全部 Whole round"] == ["'+小区"] * 4


@pytest.mark.parametrize("kind", ["packing", "boxes", "labels", "picklist"])
def test_export__xlsx__formula_like_text_is_stored_as_text_unchanged(client, demo, formulas, kind):
    response = export(client, formulas["round_id"], kind, demo["tokens"]["supplier"], format="xlsx")

    with zipfile.ZipFile(io.BytesIO(response.body)) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    values = {v for sheet in workbook(response).worksheets for row in sheet.iter_rows(values_only=True) for v in row}
    if kind == "picklist":
        assert {FORMULA_BUNDLE, FORMULA_HYPERLINK, "@物品", "-物品"} <= values
    else:
        assert {"+小区", "@1栋", "-2栋", "-1", "-3"} <= values


def test_xlsx__without_an_accept_header_that_names_it__400_in_our_error_format(client, demo, walk):
    """API Gateway hands back a binary body only to a request whose Accept names it; the refusal says so,
    in Chinese and English, like every other error (not Chalice's own {"Code", "Message"})."""
    path = f"/api/rounds/{demo['round_id']}/exports/packing?format=xlsx"
    response = get(client, path, demo["tokens"]["supplier"])
    error = error_of(response, 400, "accept_header_needed")
    assert "Accept" in error["message"] and "Accept" in error["message_en"] and "Accept" in error["fields"]
    assert get(client, path, demo["tokens"]["supplier"], accept="*/*").status_code == 200
