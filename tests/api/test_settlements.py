"""结算: an allocation is settled once distributed (先申请、再调拨、后结算), at the market price of its
allocation day (the average of the supply points' reported prices for its category and unit) or at
an entered price with its reason; it falls due 15 working days after the day supply ended, by the
official calendar with its adjusted working weekends. Statements per supplier and per using unit
(谁使用、谁结算) as XLSX and PDF, and the overdue list.

The clock stands at Friday 2026-11-20 10:00 in Beijing, or where a test freezes it (the days
before the 2025 and 2026 Spring Festivals and the 2025 National Day).
"""
import io
from datetime import datetime

import pypdf
import pytest

from api.models import Allocation
from tests.api.helpers import create_community, create_supplier, error_of, get, post, writes
from tests.api.supply_helpers import (  # noqa: F401 (fixtures)
    TODAY, YESTERDAY, advance_to, as_fen, beijing, create_allocation, daily_report, distribute,
    distributed_allocation, frozen, invited, not_found, other_sub_district, price_line, received_allocation, rows,
    supply_point_with_reporter, workbook, yuan,
)


def settle(client, token, allocation_id, **body):
    return post(client, f"/api/allocations/{allocation_id}/settle", body, token)


def stored(demo, allocation_id) -> Allocation:
    return Allocation.get(f"SUBDISTRICT#{demo['sub_district_id']}", f"ALLOC#{allocation_id}", consistent_read=True)


def market_prices(client, admin, day, prices: list[str], category="rice", unit="kg"):
    """One supply point per price, each reporting that price for (category, unit) on `day`."""
    for n, price in enumerate(prices):
        point = supply_point_with_reporter(client, admin, name=f"网点{n}-{day}",
                                           commodities=[{"name": f"商品{n}", "category": category, "unit": unit}])
        response = daily_report(client, point, [price_line(point["ids"][f"商品{n}"], price=price, cost="1.00")],
                                day=day)
        assert response.status_code == 201, response.body


# --- the market price --------------------------------------------------------------------------

def test_settle__market__the_average_of_the_points_prices_for_the_category_and_unit_on_the_allocation_day(
        client, demo):
    admin = demo["tokens"]["admin"]
    allocation = distributed_allocation(client, demo)  # 100 kg of rice, allocated today
    assert allocation["allocated_on"] == TODAY
    market_prices(client, admin, TODAY, ["4.20", "4.50"])
    # Not counted: rice by the bag, another category, and rice on another day.
    market_prices(client, admin, TODAY, ["50.00"], unit="袋")
    market_prices(client, admin, TODAY, ["30.00"], category="meat")
    market_prices(client, admin, YESTERDAY, ["9.90"])
    response = settle(client, admin, allocation["allocation_id"], price_source="market")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["status"] == "settled"
    s = body["settlement"]
    assert (s["price_source"], s["unit_price_fen"], s["amount_fen"]) == ("market", 435, 43_500)
    assert s["settled_at"] == "2026-11-20T02:00:00Z" and s["paid_at"] is None
    assert stored(demo, allocation["allocation_id"]).status == "settled"


def test_settle__market__uses_the_allocation_days_prices_not_the_settlement_days(client, demo, frozen):
    admin = demo["tokens"]["admin"]
    allocation = advance_to(client, admin, create_allocation(client, demo), "allocated")
    market_prices(client, admin, TODAY, ["4.00", "4.40"])
    frozen.move_to(beijing("2026-11-23 10:00"))
    market_prices(client, admin, "2026-11-23", ["8.00"])
    allocation = advance_to(client, admin, allocation, "received")
    assert distribute(client, demo["tokens"]["liaison"], demo["community_id"], allocation["allocation_id"],
                      100).status_code == 201
    advance_to(client, admin, allocation, "distributed")
    s = settle(client, admin, allocation["allocation_id"], price_source="market").json_body["settlement"]
    assert (s["unit_price_fen"], s["amount_fen"]) == (420, 42_000)


def test_settle__market_with_no_price_reported_that_day__422_no_market_price_and_nothing_written(client, demo):
    allocation = distributed_allocation(client, demo)
    market_prices(client, demo["tokens"]["admin"], YESTERDAY, ["4.20"])
    market_prices(client, demo["tokens"]["admin"], TODAY, ["4.20"], unit="袋")
    with writes() as written:
        error_of(settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="market"), 422,
                 "no_market_price")
    assert written == []
    assert stored(demo, allocation["allocation_id"]).status == "distributed"


# --- an entered price ----------------------------------------------------------------------

def test_settle__entered__at_the_price_given_with_its_reason(client, demo):
    allocation = distributed_allocation(client, demo, quantity=12, category="oil", unit="桶", unit_price="70.00")
    response = settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                      unit_price="68.50", reason="按保供合同价结算")
    assert response.status_code == 200, response.body
    s = response.json_body["settlement"]
    assert (s["price_source"], s["unit_price_fen"], s["amount_fen"], s["reason"]) == \
        ("entered", 6850, 82_200, "按保供合同价结算")


@pytest.mark.parametrize("body", [
    {},
    {"price_source": "guess"},
    {"price_source": "entered", "unit_price": "68.50"},
    {"price_source": "entered", "unit_price": "68.50", "reason": ""},
    {"price_source": "entered", "reason": "合同价"},
    {"price_source": "entered", "unit_price": "68.505", "reason": "合同价"},
    {"price_source": "entered", "unit_price": "0", "reason": "合同价"},
    {"price_source": "entered", "unit_price": "-1", "reason": "合同价"},
    {"price_source": "entered", "unit_price": "100000.01", "reason": "合同价"},
], ids=["no_price_source", "unknown_source", "entered_without_reason", "entered_with_empty_reason",
        "entered_without_price", "three_decimals", "zero", "negative", "over_100000"])
def test_settle__bad_input__400_and_nothing_written(client, demo, body):
    allocation = distributed_allocation(client, demo)
    with writes() as written:
        error_of(post(client, f"/api/allocations/{allocation['allocation_id']}/settle", body,
                      demo["tokens"]["admin"]), 400, "bad_input")
    assert written == []
    assert stored(demo, allocation["allocation_id"]).settlement is None


@pytest.mark.parametrize("status", ["requested", "allocated", "dispatched", "received"])
def test_settle__before_distributed__422_not_distributed_and_nothing_written(client, demo, status):
    allocation = advance_to(client, demo["tokens"]["admin"], create_allocation(client, demo), status)
    with writes() as written:
        error_of(settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                        unit_price="4.00", reason="合同价"), 422, "not_distributed")
    assert written == []


def test_settle__twice__refused_and_the_first_settlement_stands(client, demo):
    allocation = distributed_allocation(client, demo)
    first = settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                   unit_price="4.00", reason="合同价")
    assert first.status_code == 200, first.body
    with writes() as written:
        again = settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                       unit_price="9.00", reason="改价")
    assert again.status_code in (409, 422), again.body
    assert written == []
    assert int(stored(demo, allocation["allocation_id"]).settlement.unit_price_fen) == 400


def test_settle_and_paid__another_sub_districts_allocation__404_and_nothing_written(client, demo, other_sub_district):
    allocation = distributed_allocation(client, demo)
    with writes() as written:
        not_found(settle(client, other_sub_district["token"], allocation["allocation_id"], price_source="entered",
                         unit_price="4.00", reason="合同价"))
        not_found(post(client, f"/api/allocations/{allocation['allocation_id']}/paid", {}, other_sub_district["token"]))
    assert written == []


@pytest.mark.parametrize("role", ["liaison", "info_officer", "supplier"])
def test_settle__not_the_sub_districts_admin__403(client, demo, role):
    allocation = distributed_allocation(client, demo)
    response = settle(client, demo["tokens"][role], allocation["allocation_id"], price_source="entered",
                      unit_price="4.00", reason="合同价")
    assert response.status_code == 403, response.body


def test_paid__records_paid_at_on_the_settlement(client, demo, frozen):
    allocation = distributed_allocation(client, demo)
    settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered", unit_price="4.00",
           reason="合同价")
    frozen.move_to(beijing("2026-11-25 15:00"))
    response = post(client, f"/api/allocations/{allocation['allocation_id']}/paid", {}, demo["tokens"]["admin"])
    assert response.status_code == 200, response.body
    assert response.json_body["settlement"]["paid_at"] == "2026-11-25T07:00:00Z"


# --- the due date --------------------------------------------------------------------------

def distributed_at(client, demo, frozen, moment: datetime) -> dict:
    """An allocation created, received and handed out at the frozen start, ended (distributed) at `moment`."""
    allocation = received_allocation(client, demo)
    assert distribute(client, demo["tokens"]["liaison"], demo["community_id"], allocation["allocation_id"],
                      100).status_code == 201
    frozen.move_to(moment)
    return advance_to(client, demo["tokens"]["liaison"], allocation, "distributed")


DUE_CASES = [
    # Friday before the 2025 Spring Festival (1/28–2/4; Sunday 1/26 and Saturday 2/8 worked).
    (beijing("2025-01-24 09:00"), beijing("2025-01-24 17:00"), "2025-02-20"),
    # Sunday 1/26 is a working day; 00:30 there is still Saturday 1/25 in UTC.
    (beijing("2025-01-24 09:00"), beijing("2025-01-26 00:30"), "2025-02-21"),
    # The last working day before the 2025 National Day (10/1–10/8; Saturday 10/11 worked).
    (beijing("2025-09-30 09:00"), beijing("2025-09-30 16:00"), "2025-10-28"),
    # Friday before the 2026 Spring Festival (2/15–2/23; Saturdays 2/14 and 2/28 worked).
    (beijing("2026-02-13 09:00"), beijing("2026-02-13 18:00"), "2026-03-12"),
    # Friday before the 2024 National Day (10/1–10/7; Sunday 9/29 and Saturday 10/12 worked).
    (beijing("2024-09-27 09:00"), beijing("2024-09-27 11:00"), "2024-10-23"),
]


@pytest.mark.parametrize("frozen, moment, due", DUE_CASES, indirect=["frozen"],
                         ids=["2025-spring-festival", "2025-adjusted-sunday-beijing-day", "2025-national-day",
                              "2026-spring-festival", "2024-national-day"])
def test_due_on__fifteen_working_days_after_distribution_by_the_official_calendar(client, demo, frozen, moment, due):
    allocation = distributed_at(client, demo, frozen, moment)
    assert allocation["distributed_at"] == moment.isoformat().replace("+00:00", "Z")
    assert (allocation["due_on"], allocation["due_on_is_estimate"]) == (due, False)  # shown before settlement
    settled = settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                     unit_price="4.30", reason="合同价").json_body
    assert settled["due_on"] == due


@pytest.mark.parametrize("frozen", [beijing("2025-01-24 09:00")], indirect=True)
def test_due_on__is_in_the_settlement_too(client, demo, frozen):
    allocation = distributed_at(client, demo, frozen, beijing("2025-01-24 17:00"))
    settled = settle(client, demo["tokens"]["admin"], allocation["allocation_id"], price_source="entered",
                     unit_price="4.30", reason="合同价").json_body
    assert settled["settlement"]["due_on"] == "2025-02-20"


def test_due_on__none_before_the_end_of_supply(client, demo):
    allocation = received_allocation(client, demo)
    assert allocation["due_on"] is None and allocation["distributed_at"] is None


# --- overdue -------------------------------------------------------------------------------

def test_overdue__distributed_or_settled_and_unpaid_after_the_due_day_in_beijing(client, demo, frozen):
    admin = demo["tokens"]["admin"]
    settled_unpaid = distributed_allocation(client, demo)
    settle(client, admin, settled_unpaid["allocation_id"], price_source="entered", unit_price="4.00", reason="合同价")
    unsettled = distributed_allocation(client, demo, category="oil", unit="桶", quantity=10)
    paid = distributed_allocation(client, demo, category="flour", unit="袋", quantity=10)
    settle(client, admin, paid["allocation_id"], price_source="entered", unit_price="60.00", reason="合同价")
    assert post(client, f"/api/allocations/{paid['allocation_id']}/paid", {}, admin).status_code == 200
    received_allocation(client, demo, category="eggs", unit="箱", quantity=10)  # never distributed
    # Distributed today (Friday 11/20): due on the 15th working day after, Friday 12/11.
    assert settled_unpaid["due_on"] == unsettled["due_on"] == "2026-12-11"

    def overdue() -> set:
        response = get(client, "/api/settlements/overdue", admin)
        assert response.status_code == 200, response.body
        return {a["allocation_id"] for a in response.json_body["allocations"]}

    assert overdue() == set()
    frozen.move_to(beijing("2026-12-11 23:59"))
    assert overdue() == set()  # due today is not overdue yet
    frozen.move_to(beijing("2026-12-12 00:30"))  # still 12/11 in UTC
    late = distributed_allocation(client, demo, category="milk", unit="箱", quantity=5)  # due later
    assert overdue() == {settled_unpaid["allocation_id"], unsettled["allocation_id"]}
    assert late["allocation_id"] not in overdue()
    assert post(client, f"/api/allocations/{settled_unpaid['allocation_id']}/paid", {}, admin).status_code == 200
    assert overdue() == {unsettled["allocation_id"]}


def test_overdue__only_the_sub_districts_admin(client, demo, other_sub_district, frozen):
    distributed_allocation(client, demo)
    frozen.move_to(beijing("2026-12-14 10:00"))
    theirs = get(client, "/api/settlements/overdue", other_sub_district["token"])
    assert theirs.status_code == 200 and theirs.json_body["allocations"] == []
    assert get(client, "/api/settlements/overdue", demo["tokens"]["liaison"]).status_code == 403


# --- statements ----------------------------------------------------------------------------

@pytest.fixture
def settled_set(client, demo):
    """What the demo supplier delivered and the demo community received, settled in both ways:
    - A: rice 100 kg from the demo supplier to the demo community, market price ¥4.35 → ¥435.00, unpaid;
    - B: oil 12 桶 from the demo supplier to the demo community, entered ¥68.50 → ¥822.00, paid;
    - C: flour 40 袋 from the demo supplier to 和平里小区, entered ¥55.00 → ¥2,200.00;
    - D: rice 30 kg from the reserve to the demo community, entered ¥3.90 → ¥117.00;
    - E: eggs 20 箱 from another supplier to the demo community, entered ¥150.00 → ¥3,000.00;
    - F: requested from the demo supplier only: nothing delivered, in no statement."""
    admin = demo["tokens"]["admin"]
    market_prices(client, admin, TODAY, ["4.20", "4.50"])
    peace = create_community(demo["sub_district_id"], "和平里小区")
    peace_liaison = invited(client, admin, "liaison", peace["community_id"])
    other_supplier = create_supplier(demo["sub_district_id"], "城东粮油公司")["supplier_id"]

    a = distributed_allocation(client, demo)
    b = distributed_allocation(client, demo, category="oil", unit="桶", quantity=12, unit_price="70.00")
    c = create_allocation(client, demo, community_id=peace["community_id"], category="flour", unit="袋", quantity=40)
    c = advance_to(client, admin, c, "received")
    assert distribute(client, peace_liaison, peace["community_id"], c["allocation_id"], 40).status_code == 201
    c = advance_to(client, admin, c, "distributed")
    d = distributed_allocation(client, demo, source="reserve", quantity=30, unit_price="3.90")
    e = distributed_allocation(client, demo, supplier_id=other_supplier, category="eggs", unit="箱", quantity=20)
    f = create_allocation(client, demo, category="water", unit="箱", quantity=50)

    def done(allocation, **body):
        response = settle(client, admin, allocation["allocation_id"], **body)
        assert response.status_code == 200, response.body
        return response.json_body

    a = done(a, price_source="market")
    b = done(b, price_source="entered", unit_price="68.50", reason="合同价")
    paid = post(client, f"/api/allocations/{b['allocation_id']}/paid", {}, admin)
    assert paid.status_code == 200, paid.body
    b = paid.json_body
    c = done(c, price_source="entered", unit_price="55.00", reason="合同价")
    d = done(d, price_source="entered", unit_price="3.90", reason="储备调拨价")
    e = done(e, price_source="entered", unit_price="150.00", reason="合同价")
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "peace": peace, "other_supplier": other_supplier}


AMOUNTS = {"A": 43_500, "B": 82_200, "C": 220_000, "D": 11_700, "E": 300_000}


def statement(client, demo, fmt, **who):
    query = "&".join(f"{k}={v}" for k, v in who.items())
    return get(client, f"/api/settlements/statement?{query}&format={fmt}", demo["tokens"]["admin"], accept="*/*")


def statement_rows(response) -> dict[str, dict]:
    """allocation_id → {source, amount_fen, due_on, paid}, from the statement's XLSX, found by its headers."""
    book = workbook(response)
    assert len(book.sheetnames) == 1
    header, *data = rows(book[book.sheetnames[0]])
    column = {key: next(i for i, h in enumerate(header) if h and word in str(h))
              for key, word in (("id", "调拨单"), ("source", "价格来源"), ("amount", "金额"), ("due", "到期"),
                                ("paid", "付款"))}
    found = {}
    for row in data:
        if row[column["id"]] in (None, "") or "合计" in str(row[0]):
            continue
        found[row[column["id"]]] = {"source": str(row[column["source"]]), "amount_fen": as_fen(row[column["amount"]]),
                                    "due_on": str(row[column["due"]])[:10], "paid": row[column["paid"]] or ""}
    return found


def assert_rows(found: dict, settled_set: dict, letters: str) -> None:
    assert set(found) == {settled_set[x]["allocation_id"] for x in letters}
    for x in letters:
        allocation, row = settled_set[x], found[settled_set[x]["allocation_id"]]
        assert row["amount_fen"] == AMOUNTS[x] == allocation["settlement"]["amount_fen"], x
        market = allocation["settlement"]["price_source"] == "market"
        assert ("市场" in row["source"] or "market" in row["source"].lower()) == market, row
        assert ("录入" in row["source"] or "entered" in row["source"].lower()) == (not market), row
        assert row["due_on"] == allocation["due_on"] == "2026-12-11"
        assert bool(row["paid"]) == (x == "B"), row
    if "B" in letters:
        assert "2026-11-20" in str(found[settled_set["B"]["allocation_id"]]["paid"])


def test_statement_xlsx__per_supplier__one_row_per_allocation_it_delivered_with_amounts(client, demo, settled_set):
    found = statement_rows(statement(client, demo, "xlsx", supplier_id=demo["supplier_id"]))
    assert_rows(found, settled_set, "ABC")


def test_statement_xlsx__per_using_unit__one_row_per_allocation_the_community_received(client, demo, settled_set):
    found = statement_rows(statement(client, demo, "xlsx", community_id=demo["community_id"]))
    assert_rows(found, settled_set, "ABDE")
    other = statement_rows(statement(client, demo, "xlsx", community_id=settled_set["peace"]["community_id"]))
    assert_rows(other, settled_set, "C")


def pdf_of(response) -> pypdf.PdfReader:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/pdf"), response.headers
    return pypdf.PdfReader(io.BytesIO(response.body))


def fonts_of(reader: pypdf.PdfReader) -> list[tuple[str, bool]]:
    """(base font name, embedded?) for every font the pages use."""
    found = []
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if font.get("/Subtype") == "/Type0":
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.append((str(font.get("/BaseFont")), embedded))
    return found


def test_statement_pdf__per_supplier__a_row_per_allocation_with_its_amount_and_the_cjk_font_embedded(
        client, demo, settled_set):
    reader = pdf_of(statement(client, demo, "pdf", supplier_id=demo["supplier_id"]))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = text.replace("\n", "").replace(" ", "")
    for x in "ABC":
        allocation = settled_set[x]
        assert allocation["allocation_id"] in flat, x
        assert yuan(AMOUNTS[x]).replace(",", "") in flat.replace(",", ""), (x, yuan(AMOUNTS[x]))
    for x in "DEF":
        assert settled_set[x]["allocation_id"] not in flat, x
    assert "邻家便利超市" in flat and "2026-12-11" in flat
    total = sum(AMOUNTS[x] for x in "ABC")
    assert yuan(total).replace(",", "") in flat.replace(",", "")
    fonts = fonts_of(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts


def test_statement_pdf__per_using_unit__its_allocations_only(client, demo, settled_set):
    reader = pdf_of(statement(client, demo, "pdf", community_id=settled_set["peace"]["community_id"]))
    flat = "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")
    assert settled_set["C"]["allocation_id"] in flat and "和平里小区" in flat
    assert not any(settled_set[x]["allocation_id"] in flat for x in "ABDEF")


@pytest.mark.parametrize("query", ["format=xlsx", "supplier_id=S&community_id=C&format=xlsx",
                                   "supplier_id=S&format=docx"], ids=["neither", "both", "format"])
def test_statement__neither_or_both_parties_or_an_unknown_format__400(client, demo, query):
    error_of(get(client, f"/api/settlements/statement?{query}", demo["tokens"]["admin"], accept="*/*"), 400,
             "bad_input")


def test_statement__another_sub_districts_supplier_or_community__404(client, demo, other_sub_district):
    not_found(statement(client, demo, "xlsx", supplier_id=other_sub_district["supplier_id"]))
    not_found(statement(client, demo, "xlsx", community_id=other_sub_district["community_id"]))


def test_statement__not_the_sub_districts_admin__403(client, demo):
    response = get(client, f"/api/settlements/statement?supplier_id={demo['supplier_id']}&format=xlsx",
                   demo["tokens"]["supplier"], accept="*/*")
    assert response.status_code == 403


def test_settle__market__counts_a_replaced_report_once_at_its_current_price(client, demo):
    admin = demo["tokens"]["admin"]
    allocation = distributed_allocation(client, demo)
    point = supply_point_with_reporter(client, admin, commodities=[{"name": "大米", "category": "rice", "unit": "kg"}])
    daily_report(client, point, [price_line(point["ids"]["大米"], price="4.00", cost="1.00")], day=TODAY)
    fixed = daily_report(client, point, [price_line(point["ids"]["大米"], price="4.40", cost="1.00")], day=TODAY,
                         replace=True)
    assert fixed.status_code == 201, fixed.body
    market_prices(client, admin, TODAY, ["4.60"])
    s = settle(client, admin, allocation["allocation_id"], price_source="market").json_body["settlement"]
    assert (s["unit_price_fen"], s["amount_fen"]) == (450, 45_000)  # (4.40 + 4.60) / 2, not with 4.00


@pytest.mark.parametrize("frozen", [beijing("2040-12-20 09:00")], indirect=True)
def test_due_on__in_a_year_the_pinned_calendar_does_not_know__is_counted_monday_to_friday_and_marked_an_estimate(
        client, demo, frozen):
    """No calendar release knows 2041 yet (the pinned chinesecalendar 1.11.0 ends with 2026)."""
    allocation = distributed_at(client, demo, frozen, beijing("2040-12-20 15:00"))  # a Thursday
    # Friday 12/21 is the 1st, two weeks of Monday to Friday (New Year's Day 2041 counted) the 11th, 1/10 the 15th.
    assert (allocation["due_on"], allocation["due_on_is_estimate"]) == ("2041-01-10", True)
