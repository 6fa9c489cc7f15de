"""api.exports' writers: `write(selection, orders, out)` with orders made in memory, no storage.

Each file is read back (csv, openpyxl, pdftotext) and compared with the orders given. The writers
take the orders in walking order (the Query's job, tested in tests/api/test_exports.py), so the
orders here are listed in that order.
"""
import csv
import io
import subprocess
import zipfile
from datetime import datetime, timezone
from urllib.parse import unquote

import openpyxl
import pytest

from api import exports
from api.models import Building, Bundle, BundleItem, Community, Order, OrderLine, Round

HERE, THERE = "C1", "C2"
RICE, EGGS, OIL = "B-RICE", "B-EGGS", "B-OIL"
XLSX_KINDS = [("packing", "xlsx"), ("boxes", "xlsx"), ("labels", "xlsx"), ("picklist", "xlsx")]
CSV_KINDS = [("packing", "csv"), ("boxes", "csv"), ("labels", "csv"), ("picklist", "csv")]
HEADERS = {
    "packing": ["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "取货码 Pickup code",
                "订单内容 Items", "金额 Amount (¥)", "付款状态 Payment", "订单号 Order", "下单时间 Placed (Beijing)"],
    "boxes": ["箱号 Box", "小区 Community", "袋号 Bag", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone",
              "订单内容 Items", "订单号 Order"],
    "labels": ["小区 Community", "楼栋 Building", "单元 Unit", "房号 Room", "电话 Phone", "订单内容 Items",
               "订单号 Order", "二维码 QR"],
    "picklist": ["范围 Scope", "类别 Type", "名称 Name", "规格 Spec", "数量 Qty", "单价 Unit price (¥)",
                 "金额 Amount (¥)"],
}
BOX_SUMMARY = ["箱号 Box", "小区 Community", "袋数 Bags", "套餐 Bundles"]


# --- in-memory rounds and orders ---------------------------------------------------------------

def community(community_id: str, name: str, buildings=(("1栋", ()), ("2栋", ()), ("3栋", ("1单元", "2单元")),
                                                         ("10栋", ("1单元", "2单元")))) -> Community:
    return Community(f"COMMUNITY#{community_id}", "COMMUNITY", community_id=community_id, sub_district_id="SD",
                     name=name, join_key="key", buildings=[Building(name=b, units=list(u)) for b, u in buildings])


def bundle(bundle_id: str, position: int, name: str, price_fen: int, *items: tuple[str, str, str]) -> Bundle:
    return Bundle("ROUND#R1", f"ROUND#BUNDLE#{bundle_id}", bundle_id=bundle_id, position=position, name=name,
                  items=[BundleItem(name=n, qty=q, unit=u) for n, q, u in items], price_fen=price_fen,
                  stock_total=100, stock_left=100, per_household_limit=5)


BUNDLES = [
    bundle(RICE, 0, "米面油套餐", 12800, ("大米", "5", "kg"), ("面粉", "2.5", "kg"), ("花生油", "1.8", "L")),
    bundle(EGGS, 1, "鸡蛋套餐", 2350, ("鸡蛋", "30", "枚")),
    bundle(OIL, 2, "粮油套餐", 9905, ("大米", "10", "kg"), ("花生油", "1.8", "L")),
]


def make_round(community_ids=(HERE,), name="第3期 保供团购") -> Round:
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    return Round("ROUND#R1", "ROUND", round_id="01JROUND0000000000000000R1", name=name, supplier_id="S",
                 supplier_name="邻家便利超市", community_ids=list(community_ids), opens_at=moment, closes_at=moment,
                 payment_deadline=moment, payment_qr="wxp://x", created_by="S", created_at=moment)


def selection(kind: str, fmt: str, communities=None, rnd=None, **options) -> exports.Selection:
    communities = communities or {HERE: community(HERE, "幸福家园小区")}
    return exports.Selection(rnd or make_round(list(communities)), {b.bundle_id: b for b in BUNDLES}, communities,
                             kind, fmt, **options)


_prices = {b.bundle_id: (b.name, int(b.price_fen)) for b in BUNDLES}
_serial = iter(range(10_000))


def order(building: str, unit: str, room: str, *lines: tuple[str, int], community_id: str = HERE,
          phone: str = "13812345678", status: str = "paid", names: dict | None = None) -> Order:
    """An order as the table holds it; `names` overrides bundle names (an odd name in a line)."""
    n = next(_serial)
    order_id = f"01JORDER{n:018d}"
    line_items = [OrderLine(bundle_id=b, name=(names or {}).get(b, _prices[b][0]), qty=q, price_fen=_prices[b][1])
                  for b, q in lines]
    return Order("ROUND#R1", f"ORDER#{community_id}#{order_id}", order_id=order_id, round_id="R1",
                 round_name="第3期 保供团购", payment_deadline=datetime(2026, 3, 2, tzinfo=timezone.utc),
                 community_id=community_id, household_id=f"H{n}", building=building, unit=unit, room=room,
                 phone=phone, lines=line_items, total_fen=sum(_prices[b][1] * q for b, q in lines), status=status,
                 pickup_code=f"{700000 + n}", created_at=datetime(2026, 3, 1, 4, 5, tzinfo=timezone.utc))


def written(sel: exports.Selection, orders) -> bytes:
    out = io.BytesIO()
    exports.write(sel, iter(orders), out)
    return out.getvalue()


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def book(body: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(body))


def values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def pdftotext(body: bytes, tmp_path) -> str:
    path = tmp_path / "labels.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def pdf_pages(body: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True, timeout=60).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


# --- packing ---------------------------------------------------------------------------------------

def test_packing_csv__one_row_per_order_with_every_column():
    placed = order("3栋", "2单元", "1001", (RICE, 2), (EGGS, 1), phone="13900001111")

    rows = csv_rows(written(selection("packing", "csv"), [placed]))

    assert rows == [HEADERS["packing"], [
        "幸福家园小区", "3栋", "2单元", "1001", "13900001111", placed.pickup_code, "米面油套餐×2；鸡蛋套餐×1",
        "279.50", "已付款 paid", placed.order_id, "2026-03-01 12:05"]]  # 04:05 UTC is 12:05 in Beijing


@pytest.mark.parametrize("status, text", [("placed", "未付款 placed"), ("payment_claimed", "已付款待确认 payment_claimed"),
                                          ("packed", "已打包 packed"), ("at_gate", "已到门口 at_gate"),
                                          ("picked_up", "已取货 picked_up")])
def test_packing_csv__payment_column_says_the_status_in_chinese_and_english(status, text):
    rows = csv_rows(written(selection("packing", "csv"), [order("1栋", "", "2", (EGGS, 1), status=status)]))

    assert rows[1][8] == text


def test_packing_csv__amounts_are_yuan_with_two_decimals():
    orders = [order("1栋", "", "2", (EGGS, 1)), order("1栋", "", "10", (OIL, 3)), order("1栋", "", "11", (RICE, 1))]

    rows = csv_rows(written(selection("packing", "csv"), orders))

    assert [r[7] for r in rows[1:]] == ["23.50", "297.15", "128.00"]


WALK = [order("1栋", "", "2", (EGGS, 1)), order("1栋", "", "10", (RICE, 1)), order("1栋", "", "1001", (EGGS, 2)),
        order("3栋", "1单元", "2", (OIL, 1)), order("3栋", "2单元", "101", (EGGS, 1)),
        order("10栋", "1单元", "10", (RICE, 2))]


def test_packing_xlsx__an_all_sheet_then_a_sheet_per_building_with_only_its_rows():
    workbook = book(written(selection("packing", "xlsx"), WALK))

    assert workbook.sheetnames == ["全部 All", "1栋", "3栋", "10栋"]
    every = values(workbook["全部 All"])
    assert every[0] == HEADERS["packing"]
    assert [r[9] for r in every[1:]] == [o.order_id for o in WALK]
    for name in ("1栋", "3栋", "10栋"):
        rows = values(workbook[name])
        assert rows[0] == HEADERS["packing"]
        assert rows[1:] == [r for r in every[1:] if r[1] == name]
    assert sum(workbook[name].max_row - 1 for name in workbook.sheetnames[1:]) == len(WALK)


def test_packing_xlsx__header_frozen_bold_widths_set_and_amount_a_number():
    workbook = book(written(selection("packing", "xlsx"), WALK))

    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        assert int(sheet.column_dimensions["A"].width) == 18
        assert int(sheet.column_dimensions["G"].width) == 40
        assert int(sheet.column_dimensions["J"].width) == 28
    amount = workbook["全部 All"]["H2"]
    assert amount.value == 23.5 and amount.number_format == "0.00"


def test_packing_xlsx__several_communities__sheets_named_community_and_building():
    communities = {HERE: community(HERE, "幸福家园小区"), THERE: community(THERE, "和平里小区")}
    orders = [order("1栋", "", "2", (EGGS, 1)), order("1栋", "", "2", (EGGS, 1), community_id=THERE),
              order("10栋", "2单元", "1", (EGGS, 1), community_id=THERE)]

    workbook = book(written(selection("packing", "xlsx", communities), orders))

    assert workbook.sheetnames == ["全部 All", "幸福家园小区 1栋", "和平里小区 1栋", "和平里小区 10栋"]
    assert [r[0] for r in values(workbook["和平里小区 1栋"])[1:]] == ["和平里小区"]


def test_packing_xlsx__too_many_buildings__one_sheet_per_community_instead(monkeypatch):
    monkeypatch.setattr(exports, "MAX_BUILDING_SHEETS", 7)  # two communities of four buildings: 8
    communities = {HERE: community(HERE, "幸福家园小区"), THERE: community(THERE, "和平里小区")}
    orders = [order("1栋", "", "2", (EGGS, 1)), order("3栋", "1单元", "2", (EGGS, 1)),
              order("1栋", "", "2", (EGGS, 1), community_id=THERE)]

    workbook = book(written(selection("packing", "xlsx", communities), orders))

    assert workbook.sheetnames == ["全部 All", "幸福家园小区", "和平里小区"]
    assert [r[1] for r in values(workbook["幸福家园小区"])[1:]] == ["1栋", "3栋"]


def test_packing_xlsx__sheet_names_are_cut_to_31_made_unique_and_lose_characters_excel_refuses():
    long = "阳光花园小区东区一期北苑A座楼群"  # 16 characters: two communities differ only after them
    communities = {HERE: community(HERE, long + "甲", [("A/B栋", ())]),
                   THERE: community(THERE, long + "乙", [("A/B栋", ())])}
    orders = [order("A/B栋", "", "1", (EGGS, 1)), order("A/B栋", "", "2", (EGGS, 1), community_id=THERE)]

    workbook = book(written(selection("packing", "xlsx", communities), orders))

    assert workbook.sheetnames == ["全部 All", f"{long} A_B栋", f"{long} A_B栋~2"]
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    assert [r[0] for r in values(workbook[f"{long} A_B栋~2"])[1:]] == [long + "乙"]


# --- boxes ----------------------------------------------------------------------------------------

BOXED = [order("1栋", "", "2", (RICE, 1), (EGGS, 2), phone="13811112222"),
         order("3栋", "1单元", "10", (EGGS, 1), phone="13833334444"),
         order("1栋", "", "101", (RICE, 1), community_id=THERE, phone="13955556666"),
         order("2栋", "", "1", (EGGS, 3), community_id=THERE, phone=""),
         order("10栋", "2单元", "1001", (OIL, 1), community_id=THERE, phone="13977778888")]
TWO = {HERE: community(HERE, "幸福家园小区"), THERE: community(THERE, "和平里小区")}


def test_boxes_csv__one_box_per_community_bags_numbered_from_one_in_each_masked_phones():
    rows = csv_rows(written(selection("boxes", "csv", TWO), BOXED))

    assert rows[0] == HEADERS["boxes"]
    assert [r[:8] for r in rows[1:]] == [
        ["1", "幸福家园小区", "1", "1栋", "", "2", "138****2222", "米面油套餐×1；鸡蛋套餐×2"],
        ["1", "幸福家园小区", "2", "3栋", "1单元", "10", "138****4444", "鸡蛋套餐×1"],
        ["2", "和平里小区", "1", "1栋", "", "101", "139****6666", "米面油套餐×1"],
        ["2", "和平里小区", "2", "2栋", "", "1", "", "鸡蛋套餐×3"],
        ["2", "和平里小区", "3", "10栋", "2单元", "1001", "139****8888", "粮油套餐×1"],
    ]
    assert [r[8] for r in rows[1:]] == [o.order_id for o in BOXED]


def test_boxes_xlsx__summary_counts_bags_and_bundles_per_box_and_a_manifest_sheet_per_box():
    workbook = book(written(selection("boxes", "xlsx", TWO), BOXED))

    assert workbook.sheetnames == ["装箱汇总 Boxes", "1号箱 幸福家园小区", "2号箱 和平里小区"]
    assert values(workbook["装箱汇总 Boxes"]) == [
        BOX_SUMMARY,
        [1, "幸福家园小区", 2, "米面油套餐×1；鸡蛋套餐×3"],
        [2, "和平里小区", 3, "米面油套餐×1；鸡蛋套餐×3；粮油套餐×1"],
    ]
    second = values(workbook["2号箱 和平里小区"])
    assert second[0] == HEADERS["boxes"]
    assert [(r[0], r[2], r[5]) for r in second[1:]] == [(2, 1, "101"), (2, 2, "1"), (2, 3, "1001")]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"


def test_boxes__never_carry_the_full_phone_or_the_pickup_code():
    for fmt in ("csv", "xlsx"):
        body = written(selection("boxes", fmt, TWO), BOXED)
        text = body.decode("utf-8-sig") if fmt == "csv" else shared_text(body)
        for placed in BOXED:
            assert placed.pickup_code not in text
            assert not placed.phone or placed.phone not in text


def shared_text(body: bytes) -> str:
    """Every XML part of an XLSX, as one text (cells may sit in sharedStrings or inline)."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return "\n".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))


# --- labels -------------------------------------------------------------------------------------------

def test_labels_csv__masked_phone_items_order_and_qr_text_no_pickup_code():
    placed = order("10栋", "2单元", "1001", (RICE, 1), (OIL, 2), phone="13912345678")

    body = written(selection("labels", "csv"), [placed])

    assert csv_rows(body)[1] == ["幸福家园小区", "10栋", "2单元", "1001", "139****5678", "米面油套餐×1；粮油套餐×2",
                                 placed.order_id, f"baogong:order:{placed.order_id}"]
    assert placed.pickup_code.encode() not in body and b"13912345678" not in body


def test_labels_xlsx__the_same_rows_as_the_csv():
    workbook = book(written(selection("labels", "xlsx"), WALK))
    rows = csv_rows(written(selection("labels", "csv"), WALK))

    assert workbook.sheetnames == ["标签 Labels"]
    assert [["" if v is None else str(v) for v in row] for row in values(workbook.active)] == rows


def test_labels_pdf__one_label_per_order_in_the_order_given_without_pickup_codes(tmp_path):
    body = written(selection("labels", "pdf", layout="roll-60x40"), WALK)

    pages = pdftotext(body, tmp_path).split("\f")[:-1]

    assert len(pages) == len(WALK)
    flats = ["1栋 2", "1栋 10", "1栋 1001", "3栋 1单元 2", "3栋 2单元 101", "10栋 1单元 10"]
    for page, flat, placed in zip(pages, flats, WALK):
        assert flat in page and "幸福家园小区" in page and "138****5678" in page
        assert placed.pickup_code not in page


# --- pick list ------------------------------------------------------------------------------------

def test_picklist__totals_per_bundle_in_display_order_and_per_item_merging_the_same_item():
    orders = [order("1栋", "", "2", (OIL, 1), (EGGS, 2)), order("1栋", "", "10", (RICE, 2)),
              order("3栋", "1单元", "2", (RICE, 1), (OIL, 2))]

    rows = csv_rows(written(selection("picklist", "csv"), orders))

    whole = [r[1:] for r in rows[1:] if r[0] == "全部 Whole round"]
    assert whole == [
        ["套餐 Bundle", "米面油套餐", "大米 5 kg、面粉 2.5 kg、花生油 1.8 L", "3", "128.00", "384.00"],
        ["套餐 Bundle", "鸡蛋套餐", "鸡蛋 30 枚", "2", "23.50", "47.00"],
        ["套餐 Bundle", "粮油套餐", "大米 10 kg、花生油 1.8 L", "3", "99.05", "297.15"],
        ["物品 Item", "大米", "5 kg", "3", "", ""],
        ["物品 Item", "面粉", "2.5 kg", "3", "", ""],
        ["物品 Item", "花生油", "1.8 L", "6", "", ""],  # 3 in 米面油套餐, 3 in 粮油套餐: the same spec
        ["物品 Item", "鸡蛋", "30 枚", "2", "", ""],
        ["物品 Item", "大米", "10 kg", "3", "", ""],  # another spec of 大米 stays apart
    ]
    assert sum(int(r[5].replace(".", "")) for r in whole[:3]) == sum(int(o.total_fen) for o in orders)


def test_picklist__per_community_parts_follow_the_rounds_order_of_communities():
    rnd = make_round([THERE, HERE])
    orders = [order("1栋", "", "2", (RICE, 1)), order("1栋", "", "3", (EGGS, 2), community_id=THERE)]

    rows = csv_rows(written(selection("picklist", "csv", TWO, rnd), orders))

    assert [(r[0], r[2], r[4]) for r in rows[1:] if r[1] == "套餐 Bundle"] == [
        ("全部 Whole round", "米面油套餐", "1"), ("全部 Whole round", "鸡蛋套餐", "2"),
        ("和平里小区", "鸡蛋套餐", "2"), ("幸福家园小区", "米面油套餐", "1")]


def test_picklist_xlsx__a_sheet_for_the_round_and_each_community_money_as_numbers():
    workbook = book(written(selection("picklist", "xlsx", TWO), BOXED))

    assert workbook.sheetnames == ["全部 All", "幸福家园小区", "和平里小区"]
    rows = values(workbook["和平里小区"])
    assert rows[0] == HEADERS["picklist"]
    assert [r[2:] for r in rows[1:4]] == [["米面油套餐", "大米 5 kg、面粉 2.5 kg、花生油 1.8 L", 1, 128, 128],
                                          ["鸡蛋套餐", "鸡蛋 30 枚", 3, 23.5, 70.5],
                                          ["粮油套餐", "大米 10 kg、花生油 1.8 L", 1, 99.05, 99.05]]
    assert workbook["和平里小区"]["G3"].number_format == "0.00"


# --- every kind, every format -------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fmt", CSV_KINDS + XLSX_KINDS)
def test_write__no_orders__a_valid_file_with_the_header_and_no_rows(kind, fmt):
    body = written(selection(kind, fmt), [])

    if fmt == "csv":
        assert csv_rows(body) == [HEADERS[kind]]
        return
    workbook = book(body)
    assert len(workbook.worksheets) == 1
    assert values(workbook.active) == [BOX_SUMMARY if kind == "boxes" else HEADERS[kind]]


def test_write__no_orders__labels_pdf_is_one_page_saying_so(tmp_path):
    body = written(selection("labels", "pdf"), [])

    assert pdf_pages(body, tmp_path) == 1
    assert "没有订单 / No orders" in pdftotext(body, tmp_path)


@pytest.mark.parametrize("kind, fmt", CSV_KINDS + XLSX_KINDS + [("labels", "pdf")])
def test_write__returns_how_many_orders_went_in_and_reports_progress(kind, fmt, monkeypatch):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    seen = []

    count = exports.write(selection(kind, fmt, TWO), iter(BOXED), io.BytesIO(), progress=seen.append)

    assert count == len(BOXED) == 5
    assert seen == [2, 4, 5]


# --- spreadsheet safety -------------------------------------------------------------------------------

@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
@pytest.mark.parametrize("kind", ["packing", "boxes", "labels", "picklist"])
def test_csv__a_cell_starting_like_a_formula__is_defused_with_a_quote(kind, lead):
    odd = {HERE: community(HERE, f"{lead}小区", [(f"{lead}1栋", ())])}
    placed = order(f"{lead}1栋", "", f"{lead}1", (EGGS, 1), names={EGGS: f"{lead}1+1"})
    bundles = {b.bundle_id: b for b in BUNDLES}
    bundles[EGGS] = bundle(EGGS, 1, f"{lead}1+1", 2350, (f"{lead}蛋", "30", "枚"))
    sel = exports.Selection(make_round([HERE]), bundles, odd, kind, "csv")

    rows = csv_rows(written(sel, [placed]))

    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert f"'{lead}小区" in cells
    if kind == "picklist":
        assert {f"'{lead}1+1", f"'{lead}蛋"} <= set(cells)
    else:
        assert {f"'{lead}1栋", f"'{lead}1", f"'{lead}1+1×1"} <= set(cells)


def test_csv__a_formula_in_the_middle_of_a_cell__is_left_alone():
    placed = order("1栋", "", "2", (EGGS, 1), names={EGGS: "鸡蛋=1+1"})

    rows = csv_rows(written(selection("packing", "csv"), [placed]))

    assert rows[1][6] == "鸡蛋=1+1×1"


@pytest.mark.parametrize("kind", ["packing", "boxes", "labels", "picklist"])
def test_xlsx__formula_like_text__is_stored_as_text_exactly_never_as_a_formula(kind):
    formula = '=HYPERLINK("http://evil.test","点我")'
    odd = {HERE: community(HERE, "+小区", [("@1栋", ())])}
    bundles = {b.bundle_id: b for b in BUNDLES}
    bundles[EGGS] = bundle(EGGS, 1, formula, 2350, ("-蛋", "30", "枚"))
    placed = order("@1栋", "", "-1", (EGGS, 1), names={EGGS: formula})

    body = written(exports.Selection(make_round([HERE]), bundles, odd, kind, "xlsx"), [placed])

    assert "<f>" not in shared_text(body) and "<f " not in shared_text(body)
    cells = {v for sheet in book(body).worksheets for row in sheet.iter_rows(values_only=True) for v in row}
    if kind == "picklist":
        assert {formula, "-蛋", "+小区"} <= cells
    else:
        assert {"+小区", "@1栋", "-1", f"{formula}×1"} <= cells


# --- file names ---------------------------------------------------------------------------------------

def test_filename__round_name_with_characters_a_file_system_refuses__is_cleaned():
    sel = selection("packing", "xlsx", rnd=make_round([HERE], name='第3期 "保供"/团购: 周一'))

    assert sel.filename == "第3期_保供_团购_周一-packing.xlsx"


def test_filename__names_the_community_and_building_and_a_pdfs_layout():
    assert selection("labels", "pdf", community_id=HERE, building="3栋", layout="a4-4x10").filename == (
        "第3期_保供团购-幸福家园小区-3栋-labels-a4-4x10.pdf")
    assert selection("picklist", "csv", community_id=HERE).filename == "第3期_保供团购-幸福家园小区-picklist.csv"


def test_filename__a_long_name_is_cut_before_the_kind():
    sel = selection("boxes", "csv", rnd=make_round([HERE], name="长" * 80))

    assert sel.filename == "长" * 60 + "-boxes.csv"


def test_content_disposition__ascii_fallback_and_the_utf8_name():
    sel = selection("packing", "xlsx", community_id=HERE, building="10栋")

    disposition = exports.content_disposition(sel)

    fallback, encoded = disposition.split("; filename*=UTF-8''")
    assert fallback == 'attachment; filename="01JROUND0000000000000000R1-packing.xlsx"'
    assert encoded.isascii() and " " not in encoded and '"' not in encoded
    assert unquote(encoded) == "第3期_保供团购-幸福家园小区-10栋-packing.xlsx"


@pytest.mark.parametrize("fmt, content_type", [
    ("csv", "text/csv; charset=utf-8"), ("pdf", "application/pdf"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
def test_content_type__per_format(fmt, content_type):
    assert selection("labels", fmt).content_type == content_type
