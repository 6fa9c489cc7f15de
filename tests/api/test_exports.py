"""GET /api/rounds/{round_id}/exports/{picklist|packing|labels}?format=csv|xlsx.

Households register and order in a scrambled order; the packing list must walk the compound as
people know it: 1栋, 2栋, 3栋, 10栋, and within a building by unit and room.
"""
import csv
import io
import zipfile

import openpyxl
import pytest

from api.models import Order
from tests.api.helpers import create_community, create_round, error_of, get, orders_in, place_order, register

RICE_OIL, VEG, MEAT = 0, 1, 2

# (building, unit, room, phone), in the order they order.
SCRAMBLED = [
    ("10栋", "1单元", "101", "13800000010"),
    ("1栋", "", "301", "13800000001"),
    ("3栋", "2单元", "502", "13800000003"),
    ("2栋", "", "201", "13800000002"),
]
PACKING_HEADER = ["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "取货码 Pickup code",
                  "订单内容 Items", "金额 Total (¥)", "状态 Status", "订单号 Order", "下单时间 Placed (Beijing)"]


def export(client, demo, kind, token=None, **query):
    path = f"/api/rounds/{demo['round_id']}/exports/{kind}"
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return get(client, path, token or demo["tokens"]["supplier"], accept="*/*")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.body.decode("utf-8")
    assert text.startswith("\ufeff")  # so Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def scrambled(client, demo):
    """Four flats ordering in scrambled order: 10栋 米面油×1, 1栋 蔬菜×2, 3栋 米面油×2 + 肉蛋奶×1, 2栋 蔬菜×1."""
    lines = [
        [(RICE_OIL, 1)],
        [(VEG, 2)],
        [(RICE_OIL, 2), (MEAT, 1)],
        [(VEG, 1)],
    ]
    placed = {}
    for (building, unit, room, phone), order_lines in zip(SCRAMBLED, lines):
        household = register(client, demo["join_key"], building=building, unit=unit, room=room, phone=phone)
        response = place_order(client, household["token"], demo["round_id"],
                               *[(demo["bundle_ids"][i], q) for i, q in order_lines])
        assert response.status_code == 201
        placed[building] = response.json_body
    return placed


# --- packing list --------------------------------------------------------------------

def test_packing__csv__has_header_and_one_row_per_order_sorted_by_building(client, demo, scrambled):
    rows = csv_rows(export(client, demo, "packing"))

    assert rows[0] == PACKING_HEADER
    assert len(rows) == 1 + 4
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [
        ("1栋", "", "301"), ("2栋", "", "201"), ("3栋", "2单元", "502"), ("10栋", "1单元", "101")]


def test_packing__carries_full_phone_pickup_code_items_and_total(client, demo, scrambled):
    rows = csv_rows(export(client, demo, "packing"))

    by_building = {r[1]: r for r in rows[1:]}
    three = by_building["3栋"]
    assert three[0] == "幸福家园小区"
    assert three[4] == "13800000003"
    assert three[5] == scrambled["3栋"]["pickup_code"]
    assert three[6] == "米面油套餐×2；肉蛋奶套餐×1"
    assert three[7] == "414.00"  # 2 × 128.00 + 158.00
    assert three[8] == "placed"
    assert three[9] == scrambled["3栋"]["order_id"]
    assert [r[4] for r in rows[1:]] == ["13800000001", "13800000002", "13800000003", "13800000010"]


def test_packing__within_a_building__sorts_by_unit_then_room_numerically(client, demo):
    for unit, room, phone in [("2单元", "101", "13800000001"), ("1单元", "1502", "13800000002"),
                              ("1单元", "501", "13800000003")]:
        household = register(client, demo["join_key"], building="3栋", unit=unit, room=room, phone=phone)
        response = place_order(client, household["token"], demo["round_id"], (demo["bundle_ids"][VEG], 1))
        assert response.status_code == 201

    rows = csv_rows(export(client, demo, "packing"))

    assert [(r[2], r[3]) for r in rows[1:]] == [("1单元", "501"), ("1单元", "1502"), ("2单元", "101")]


def test_packing__without_orders__is_just_the_header(client, demo):
    assert csv_rows(export(client, demo, "packing")) == [PACKING_HEADER]


def test_packing__leaves_out_cancelled_and_expired_orders(client, demo, scrambled):
    for order in orders_in(demo["round_id"]):
        if order.building in ("2栋", "10栋"):
            order.update(actions=[Order.status.set("cancelled" if order.building == "2栋" else "expired")])

    rows = csv_rows(export(client, demo, "packing"))

    assert [r[1] for r in rows[1:]] == ["1栋", "3栋"]


def test_packing__liaison__sees_only_own_communitys_bags(client, demo, scrambled):
    other = create_community(demo["sub_district_id"], "和平里小区")
    shared = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]])
    here = register(client, demo["join_key"], building="1栋", room="101", phone="13800000101")
    there = register(client, other["join_key"], building="1栋", room="101", phone="13800000202")
    for household in (here, there):
        response = place_order(client, household["token"], shared["round_id"], (shared["bundle_ids"][1], 1))
        assert response.status_code == 201
    path = f"/api/rounds/{shared['round_id']}/exports/packing"

    liaison_rows = csv_rows(get(client, path, demo["tokens"]["liaison"]))
    supplier_rows = csv_rows(get(client, path, demo["tokens"]["supplier"]))

    assert [(r[0], r[4]) for r in liaison_rows[1:]] == [("幸福家园小区", "13800000101")]
    assert sorted(r[0] for r in supplier_rows[1:]) == ["和平里小区", "幸福家园小区"]


# --- pick list and labels ------------------------------------------------------------------

def test_picklist__totals_each_bundle_across_orders(client, demo, scrambled):
    rows = csv_rows(export(client, demo, "picklist"))

    assert rows[0] == ["套餐 Bundle", "数量 Qty", "单价 Unit price (¥)", "金额 Amount (¥)"]
    assert sorted(rows[1:]) == sorted([
        ["米面油套餐", "3", "128.00", "384.00"],
        ["蔬菜套餐", "3", "68.00", "204.00"],
        ["肉蛋奶套餐", "1", "158.00", "158.00"],
    ])


def test_labels__one_row_per_order_with_community_flat_and_phone(client, demo, scrambled):
    rows = csv_rows(export(client, demo, "labels"))

    assert rows[0] == ["标签 Label", "取货码 Pickup code", "订单号 Order"]
    assert rows[1:] == [
        ["幸福家园小区 1栋301 13800000001", scrambled["1栋"]["pickup_code"], scrambled["1栋"]["order_id"]],
        ["幸福家园小区 2栋201 13800000002", scrambled["2栋"]["pickup_code"], scrambled["2栋"]["order_id"]],
        ["幸福家园小区 3栋2单元502 13800000003", scrambled["3栋"]["pickup_code"], scrambled["3栋"]["order_id"]],
        ["幸福家园小区 10栋1单元101 13800000010", scrambled["10栋"]["pickup_code"], scrambled["10栋"]["order_id"]],
    ]


def test_export__has_attachment_file_name(client, demo):
    response = export(client, demo, "labels")

    assert response.headers["Content-Disposition"] == f'attachment; filename="{demo["round_id"]}-labels.csv"'


# --- xlsx -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, rows", [("packing", 5), ("labels", 5), ("picklist", 4)])
def test_export__xlsx__opens_with_openpyxl_with_the_same_rows_as_csv(client, demo, scrambled, kind, rows):
    response = export(client, demo, kind, format="xlsx")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.body)).active
    values = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert sheet.max_row == rows
    assert values == csv_rows(export(client, demo, kind))


# --- refusals ----------------------------------------------------------------------------

def test_export__unknown_kind__is_404(client, demo):
    error_of(export(client, demo, "invoices"), 404, "not_found")


def test_export__pdf__is_400_naming_format(client, demo):
    error = error_of(export(client, demo, "packing", format="pdf"), 400, "bad_input")

    assert set(error["fields"]) == {"format"}


def test_export__unknown_query_parameter__is_400(client, demo):
    error = error_of(export(client, demo, "packing", sort="phone"), 400, "bad_input")

    assert set(error["fields"]) == {"sort"}


def test_export__unknown_round__is_404(client, demo):
    response = get(client, "/api/rounds/01JNOSUCHROUND00000000000/exports/packing", demo["tokens"]["supplier"])

    error_of(response, 404, "not_found")


# --- spreadsheet safety ----------------------------------------------------------------

FORMULA_NAME = '=HYPERLINK("http://evil.test","点我")'


@pytest.fixture
def formula_round(client, demo):
    """A round whose bundle name a spreadsheet would run as a formula, with one order."""
    bundles = [{"name": FORMULA_NAME, "price_fen": 100, "stock": 5, "per_household_limit": 5,
                "items": [{"name": "x", "qty": "1"}]}]
    created = create_round(demo["tokens"]["supplier"], [demo["community_id"]], bundles)
    household = register(client, demo["join_key"])
    assert place_order(client, household["token"], created["round_id"], (created["bundle_ids"][0], 1)).status_code == 201
    return created


def test_picklist__csv__defuses_a_formula_in_a_bundle_name(client, demo, formula_round):
    response = get(client, f"/api/rounds/{formula_round['round_id']}/exports/picklist", demo["tokens"]["supplier"])

    assert csv_rows(response)[1][0] == "'" + FORMULA_NAME


def test_picklist__xlsx__stores_a_formula_like_name_as_text(client, demo, formula_round):
    response = get(client, f"/api/rounds/{formula_round['round_id']}/exports/picklist?format=xlsx",
                   demo["tokens"]["supplier"], accept="*/*")

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.body)) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
