"""GET /api/rounds/{round_id}/exports/labels?format=pdf&layout=…: bag labels a volunteer can print.

The PDF is read back the way a person would meet it: poppler's pdftotext (per label cell, so
the order on the sheet is checked), pdffonts (the CJK font travels inside the file), pdfinfo
(pages and their size), and pdftoppm rendering decoded by zxing-cpp (the QR a phone scans).
Labels are for paid bags: the supplier confirms the payments first, unless `status=all_live`.
"""
import math
import re
import subprocess
from urllib.parse import unquote, urlencode

import pytest
import segno
import zxingcpp
from PIL import Image

from api import exports, labels
from api.models import Order
from tests.api.helpers import (
    create_community, create_round, create_supplier, error_of, get, orders_in, place_order, post, register,
)

RICE_OIL, VEG, MEAT = 0, 1, 2
COMMUNITY = "幸福家园小区"

# (building, unit, room), registered in a scrambled order; rooms 2, 10, 101 and 1001 must sort as numbers.
FLATS = [
    ("3栋", "2单元", "101"), ("3栋", "1单元", "1001"), ("3栋", "1单元", "2"), ("1栋", "", "10"),
    ("3栋", "1单元", "10"), ("1栋", "", "2"), ("10栋", "1单元", "101"), ("3栋", "2单元", "2"), ("1栋", "", "1001"),
]
IN_ORDER = [
    "1栋 2", "1栋 10", "1栋 1001", "3栋 1单元 2", "3栋 1单元 10", "3栋 1单元 1001", "3栋 2单元 2", "3栋 2单元 101",
    "10栋 1单元 101",
]


# --- reading a PDF back ---------------------------------------------------------------------

def labels_pdf(client, round_id, token, **query):
    path = f"/api/rounds/{round_id}/exports/labels?" + urlencode({"format": "pdf", **query})
    return get(client, path, token, accept="application/pdf")


def pdf_of(response, tmp_path, name="labels.pdf"):
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert isinstance(response.body, bytes) and response.body.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(response.body)
    return path


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def page_count(pdf) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M).group(1))


def text(pdf) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def cell_text(pdf, layout: labels.Layout, index: int) -> str:
    """The text inside one label cell (pdftotext crops in points at -r 72, from the page's top)."""
    x, y, w, h = (v * 72 / 25.4 for v in layout.cell(index))
    top = layout.page[1] * 72 / 25.4 - (y + h)
    page = index // layout.per_page + 1
    return run("pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), "-r", "72",
               "-x", str(int(x)), "-y", str(int(top)), "-W", str(math.ceil(w)), "-H", str(math.ceil(h)),
               str(pdf), "-")


def fonts(pdf) -> list[dict]:
    """pdffonts' rows as {name, emb}: emb is the fifth column from the right (emb sub uni object gen)."""
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    return [{"name": row.split()[0], "emb": row.split()[-5]} for row in rows]


def decoded_qr_texts(pdf, tmp_path, page=1, dpi=200) -> list:
    prefix = tmp_path / f"page-{page}"
    run("pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix))
    return zxingcpp.read_barcodes(Image.open(f"{prefix}.png"))


# --- set-up -------------------------------------------------------------------------------

def pay(client, round_id, token, order_ids):
    """The supplier confirms the payments, as from the console."""
    response = post(client, f"/api/rounds/{round_id}/payments/confirm", {"order_ids": list(order_ids)}, token)
    assert response.status_code == 200, response.body
    assert len(response.json_body["confirmed"]) == len(order_ids)


def order_flats(client, demo, flats, lines=((RICE_OIL, 1),), paid=True) -> list[dict]:
    """Register each (building, unit, room) with its own phone and place one order (paid unless told
    otherwise); the 201 bodies."""
    placed = []
    for n, (building, unit, room) in enumerate(flats):
        household = register(client, demo["join_key"], building=building, unit=unit, room=room,
                             phone=f"138{n:04d}{n + 1000:04d}")
        response = place_order(client, household["token"], demo["round_id"],
                               *[(demo["bundle_ids"][i], q) for i, q in lines])
        assert response.status_code == 201, response.body
        placed.append(response.json_body)
    if paid:
        pay(client, demo["round_id"], demo["tokens"]["supplier"], [o["order_id"] for o in placed])
    return placed


@pytest.fixture
def nine(client, demo):
    """The nine FLATS, each with 米面油套餐 ×2 and 蔬菜套餐 ×1, paid; the orders as stored, in export order."""
    order_flats(client, demo, FLATS, lines=((RICE_OIL, 2), (VEG, 1)))
    return sorted(orders_in(demo["round_id"]), key=lambda o: o.sk)


# --- content ----------------------------------------------------------------------------------

def test_labels_pdf__one_label_per_order_in_building_unit_room_order(client, demo, nine, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]), tmp_path)
    layout = labels.LAYOUTS["a4-3x7"]

    cells = [cell_text(pdf, layout, i) for i in range(len(nine))]

    assert page_count(pdf) == 1
    flats = [re.search(r"\d+栋( \d+单元)? \d+", cell).group(0) for cell in cells]
    assert flats == IN_ORDER
    for cell, order in zip(cells, nine):
        assert COMMUNITY in cell
        assert f"{order.phone[:3]}****{order.phone[-4:]}" in cell
        assert "米面油套餐 ×2" in cell and "蔬菜套餐 ×1" in cell
    assert cell_text(pdf, layout, len(nine)).strip() == ""  # the rest of the sheet is blank


def test_labels_pdf__prints_no_full_phone_and_no_pickup_code(client, demo, nine, tmp_path):
    content = text(pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]), tmp_path))

    for order in nine:
        assert order.phone not in content
        assert order.pickup_code not in content
    assert not re.search(r"\d{6}", content)  # nothing on a label is six digits long
    assert content.count("****") == len(nine)


def test_labels_pdf__embeds_the_cjk_font_and_no_other(client, demo, nine, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]), tmp_path)

    rows = fonts(pdf)

    assert rows, "no fonts listed"
    assert all(row["emb"] == "yes" for row in rows), rows
    assert all(row["name"].endswith("+WenQuanYiMicroHei") for row in rows), rows  # subset, never Helvetica


@pytest.mark.parametrize("layout", sorted(labels.LAYOUTS))
def test_labels_pdf__qr_codes_decode_to_the_orders_not_the_pickup_codes(client, demo, nine, tmp_path, layout):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout=layout), tmp_path)
    per_page = labels.LAYOUTS[layout].per_page

    decoded = []
    for page in range(1, min(page_count(pdf), 3) + 1):
        decoded += [r.text for r in decoded_qr_texts(pdf, tmp_path, page)]

    expected = [f"baogong:order:{o.order_id}" for o in nine][: per_page * 3]
    assert sorted(decoded) == sorted(expected)


@pytest.mark.parametrize("layout, smallest_mm", [("a4-3x7", 18), ("roll-60x40", 22)])
def test_labels_pdf__qr_code_is_wide_enough_for_a_phone(client, demo, nine, tmp_path, layout, smallest_mm):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout=layout), tmp_path)
    dpi = 200

    found = decoded_qr_texts(pdf, tmp_path, 1, dpi)[0]

    modules = len(segno.make_qr(found.text, error="m").matrix)
    symbol_px = found.position.top_right.x - found.position.top_left.x
    with_quiet_zone_mm = symbol_px * (modules + 8) / modules / dpi * 25.4
    assert with_quiet_zone_mm >= smallest_mm - 0.3  # within a pixel or two of the drawn size
    assert labels.LAYOUTS[layout].qr >= smallest_mm


# --- layouts and pages ------------------------------------------------------------------------

def test_labels_pdf__pages_per_layout_and_a_60x40_roll(client, demo, tmp_path):
    flats = [(b, u, str(r)) for b, u in (("3栋", "1单元"), ("3栋", "2单元"), ("10栋", "1单元"))
             for r in (101, 102, 201, 202, 301, 302, 401, 402)][:23]
    order_flats(client, demo, flats, lines=((VEG, 1),))

    pages = {}
    for layout in labels.LAYOUTS:
        response = labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout=layout)
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="{demo["round_id"]}-labels-{layout}.pdf"; ')
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"第1期_保供团购-labels-{layout}.pdf"
        pages[layout] = pdf_of(response, tmp_path, f"{layout}.pdf")

    assert {layout: page_count(pdf) for layout, pdf in pages.items()} == {
        "a4-2x5": 3, "a4-3x7": 2, "a4-4x10": 1, "roll-60x40": 23}
    roll = run("pdfinfo", "-box", "-f", "1", "-l", "23", str(pages["roll-60x40"]))
    boxes = re.findall(r"MediaBox:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", roll)
    assert len(boxes) == 23
    assert {tuple(round(float(v) / 72 * 25.4, 1) for v in box) for box in boxes} == {(0, 0, 60.0, 40.0)}
    a4 = re.search(r"MediaBox:\s+0\.00\s+0\.00\s+([\d.]+)\s+([\d.]+)", run("pdfinfo", "-box", str(pages["a4-3x7"])))
    assert (round(float(a4.group(1)) / 72 * 25.4), round(float(a4.group(2)) / 72 * 25.4)) == (210, 297)


def test_labels_pdf__roll__one_order_per_page_in_order(client, demo, nine, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="roll-60x40"), tmp_path)

    pages = text(pdf).split("\f")[:-1]

    assert [re.search(r"\d+栋( \d+单元)? \d+", page).group(0) for page in pages] == IN_ORDER


def test_labels_pdf__default_layout_is_a4_3x7(client, demo, nine):
    response = labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"])

    assert f'filename="{demo["round_id"]}-labels-a4-3x7.pdf"' in response.headers["Content-Disposition"]


def test_labels_pdf__leaves_out_cancelled_and_expired_orders(client, demo, nine, tmp_path):
    for order, status in zip(nine[:3], ("cancelled", "cancelled", "expired")):
        order.update(actions=[Order.status.set(status)])

    for status in ("paid", "all_live"):
        pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="roll-60x40",
                                status=status), tmp_path, f"{status}.pdf")
        assert page_count(pdf) == len(nine) - 3


def test_labels_pdf__unpaid_orders__are_left_out_unless_status_all_live(client, demo, tmp_path):
    paid = order_flats(client, demo, [("1栋", "", "2"), ("3栋", "1单元", "10")])
    unpaid = order_flats(client, demo, [("1栋", "", "10"), ("10栋", "2单元", "2")], paid=False)

    default = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="roll-60x40"),
                     tmp_path, "paid.pdf")
    live = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="roll-60x40",
                             status="all_live"), tmp_path, "live.pdf")

    flat = r"\d+栋( \d+单元)? \d+"
    assert [re.search(flat, page).group(0) for page in text(default).split("\f")[:-1]] == ["1栋 2", "3栋 1单元 10"]
    assert [re.search(flat, page).group(0) for page in text(live).split("\f")[:-1]] == [
        "1栋 2", "1栋 10", "3栋 1单元 10", "10栋 2单元 2"]
    assert len(paid) == len(unpaid) == 2


def test_labels_pdf__building__only_that_buildings_labels(client, demo, nine, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="roll-60x40",
                            community_id=demo["community_id"], building="1栋"), tmp_path)

    pages = text(pdf).split("\f")[:-1]
    assert [re.search(r"\d+栋( \d+单元)? \d+", page).group(0) for page in pages] == ["1栋 2", "1栋 10", "1栋 1001"]


def test_labels_pdf__past_its_own_limit__is_413_while_the_csv_is_still_built(client, demo, nine, monkeypatch):
    monkeypatch.setattr(exports, "SYNC_LIMIT_PDF", len(nine) - 1)
    monkeypatch.setattr(exports, "SYNC_LIMIT", len(nine))

    error = error_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]), 413, "export_too_large")
    csv_response = get(client, f"/api/rounds/{demo['round_id']}/exports/labels", demo["tokens"]["supplier"])

    assert str(len(nine) - 1) in error["message"] and "jobs" in error["message_en"]
    assert csv_response.status_code == 200
    monkeypatch.setattr(exports, "SYNC_LIMIT_PDF", len(nine))
    assert labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]).status_code == 200


def test_labels_pdf__empty_round__is_one_page_saying_no_orders(client, demo, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"]), tmp_path)

    assert page_count(pdf) == 1
    assert "没有订单 / No orders" in text(pdf)
    assert all(row["emb"] == "yes" for row in fonts(pdf))


# --- who may, and bad input ------------------------------------------------------------------

def test_labels_pdf__unknown_layout__is_400_naming_layout(client, demo):
    error = error_of(labels_pdf(client, demo["round_id"], demo["tokens"]["supplier"], layout="a4-5x13"),
                     400, "bad_input")

    assert set(error["fields"]) == {"layout"}
    message = error["fields"]["layout"][0]
    assert " / " in message and "a4-3x7" in message and "roll-60x40" in message


@pytest.mark.parametrize("kind", ["packing", "picklist"])
def test_pdf__for_another_kind__is_400_saying_pdf_is_for_labels(client, demo, kind):
    response = get(client, f"/api/rounds/{demo['round_id']}/exports/{kind}?format=pdf", demo["tokens"]["supplier"])

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"format"}
    assert "labels only" in error["fields"]["format"][0] and "标签" in error["fields"]["format"][0]


def test_labels_pdf__another_supplier__is_404_as_other_exports_are(client, demo, nine):
    other = create_supplier(demo["sub_district_id"])

    error_of(labels_pdf(client, demo["round_id"], other["token"]), 404, "not_found")


def test_labels_pdf__resident__is_403(client, demo):
    resident = register(client, demo["join_key"])

    error_of(labels_pdf(client, demo["round_id"], resident["token"]), 403, "wrong_role")


def test_labels_pdf__liaison__gets_their_communitys_labels(client, demo, nine, tmp_path):
    pdf = pdf_of(labels_pdf(client, demo["round_id"], demo["tokens"]["liaison"], layout="roll-60x40"), tmp_path)

    assert page_count(pdf) == len(nine)


def test_labels_pdf__liaison_asking_for_another_community__is_404(client, demo, nine):
    other = create_community(demo["sub_district_id"], "和平里小区")
    shared = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]])

    response = labels_pdf(client, shared["round_id"], demo["tokens"]["liaison"], community_id=other["community_id"])

    error_of(response, 404, "not_found")


# --- characters the font does not have ---------------------------------------------------------

RARE = "龘𪚥镕"  # 龘 is in the full face but not GB2312, 𪚥 is in neither, 镕 is outside GB2312


def test_labels_pdf__rare_characters__render_as_the_missing_glyph_without_failing(client, demo, tmp_path):
    bundles = [{"name": f"{RARE}特供套餐", "price_fen": 100, "stock": 5, "per_household_limit": 5,
                "items": [{"name": RARE, "qty": "1"}]}]
    created = create_round(demo["tokens"]["supplier"], [demo["community_id"]], bundles)
    household = register(client, demo["join_key"], building="3栋", unit="1单元", room="1502", name="朱镕基")
    assert place_order(client, household["token"], created["round_id"], (created["bundle_ids"][0], 1)).status_code == 201

    pdf = pdf_of(labels_pdf(client, created["round_id"], demo["tokens"]["supplier"], status="all_live"), tmp_path)

    assert page_count(pdf) == 1
    content = text(pdf)
    assert "3栋 1单元 1502" in content and "特供套餐" in content
    assert all(row["emb"] == "yes" for row in fonts(pdf))
    assert [r.text for r in decoded_qr_texts(pdf, tmp_path)] == [f"baogong:order:{orders_in(created['round_id'])[0].order_id}"]


def test_render__rare_characters_in_community_and_flat__do_not_fail():
    class Line:
        name, qty = f"{RARE}套餐", 1

    class Rare:
        order_id, community_id, building, unit, room, phone = "01JORDER", "c", f"{RARE}栋", "", "1", ""
        lines = [Line()]

    pdf = labels.render([Rare()], {"c": f"{RARE}小区"}, "roll-60x40")

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
