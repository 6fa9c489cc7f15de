"""A resident in the browser: join through the QR link, order, see the order; bad input; sold out; English."""
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import bundle_card, choose, fill_join_form, packing_rows, register, session


@pytest.mark.browser
def test_resident__joins_through_the_qr_link_orders_and_sees_the_order_in_chinese(page, info, api):
    round_id = info["round_id"]
    stock_before = api.bundle(round_id, "米面油套餐")["stock_left"]

    s = register(page, info["join_url"], building="2栋", room="2808", phone="13912345678")
    assert s["community_id"] == info["community_id"]
    assert s["flat"] == {"building": "2栋", "unit": "", "room": "2808"}
    expect(page.get_by_test_id("nav-order")).to_have_text("订购")

    # The demo round and its bundles, in Chinese.
    demo = page.locator(f'[data-testid="round"][data-round-id="{round_id}"]')
    expect(demo.get_by_role("heading", level=2)).to_have_text("第1期 保供团购")
    expect(demo.get_by_test_id("bundle-card")).to_have_count(3)
    card = bundle_card(page, round_id, "米面油套餐")
    expect(card).to_contain_text("大米 5 kg")
    expect(card.get_by_test_id("bundle-price")).to_have_text("¥128.00")
    expect(card.get_by_test_id("stock-left")).to_have_text(f"剩余 {stock_before} 份")

    choose(page, round_id, "米面油套餐", 1)
    expect(page.get_by_test_id("order-total")).to_have_text("¥128.00")
    page.get_by_test_id("order-submit").click()

    # Lands on my orders with the new order.
    expect(page).to_have_url(re.compile(r"#/orders$"))
    expect(page.get_by_test_id("success-message")).to_contain_text("下单成功")
    expect(page.get_by_test_id("nav-orders")).to_have_attribute("aria-current", "page")
    order = page.get_by_test_id("order-card")
    expect(order).to_have_count(1)
    expect(order.get_by_role("heading", level=2)).to_have_text("第1期 保供团购")
    expect(order.get_by_test_id("order-status")).to_have_text("已下单")
    expect(order.get_by_test_id("order-card-total")).to_have_text("¥128.00")
    expect(order).to_contain_text("米面油套餐 × 1")
    code_el = order.get_by_test_id("pickup-code")
    expect(code_el).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    code = code_el.get_attribute("data-code")
    expect(code_el).to_have_text(f"{code[:3]} {code[3:]}")  # shown in two groups to read aloud

    # The supplier's packing list has exactly this order, for this flat.
    rows = [row for row in packing_rows(api, round_id) if row["取货码 Pickup code"] == code]
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["楼栋 Building"], row["单元 Unit"], row["房号 Room"]) == ("2栋", "", "2808")
    assert row["电话 Phone"] == "13912345678"
    assert row["订单内容 Items"] == "米面油套餐×1"
    assert row["金额 Amount (¥)"] == "128.00"
    assert row["付款状态 Payment"] == "未付款 placed"
    assert row["订单号 Order"] == order.get_attribute("data-order-id")

    # Stock went down by exactly the one bag.
    assert api.bundle(round_id, "米面油套餐")["stock_left"] == stock_before - 1


@pytest.mark.browser
def test_join__a_10_digit_phone__shows_the_field_error_and_registers_nothing(page, info, api):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/join/" in r.url else None)
    page.goto(info["join_url"])
    fill_join_form(page, "3栋", "2808", "1391234560", unit="1单元")
    page.get_by_test_id("join-submit").click()

    phone_field = page.locator('[data-field="phone"]')
    expect(phone_field.get_by_test_id("field-error-phone")).to_have_text("请填写 11 位手机号")
    expect(page.get_by_test_id("phone")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("phone")).to_be_focused()
    expect(page.get_by_test_id("error-message")).to_have_text("有内容需要修改，请看标红的地方")
    for other in ("building", "unit", "room"):
        expect(page.get_by_test_id(f"field-error-{other}")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#/join/"))
    assert session(page) is None  # no token
    assert posts == []  # refused before anything was sent: no household can exist

    # Corrected, the same form registers the flat…
    page.get_by_test_id("phone").fill("13912345601")
    page.get_by_test_id("join-submit").click()
    expect(page).to_have_url(re.compile(r"#/rounds$"))
    s = session(page)
    assert s["flat"] == {"building": "3栋", "unit": "1单元", "room": "2808"}
    assert len(posts) == 1
    # …and it is the only household of that flat: registering it again gives the same one.
    again = api.post(f"/api/join/{info['join_key']}/households",
                     {"building": "3栋", "unit": "1单元", "room": "2808", "phone": "13912345602"}).json()
    assert again["household_id"] == s["household_id"]
    assert again["flat"] == s["flat"]


@pytest.fixture
def one_bag_round(info, api):
    """A fresh open round for the demo community: one bundle, stock 1, limit 1 per household."""
    now = datetime.now(timezone.utc)
    name = f"限量测试 {uuid.uuid4().hex[:6]}"
    return api.post("/api/rounds", {
        "name": name, "community_ids": [info["community_id"]],
        "opens_at": (now - timedelta(minutes=5)).isoformat(), "closes_at": (now + timedelta(hours=2)).isoformat(),
        "payment_deadline": (now + timedelta(hours=3)).isoformat(), "payment_qr": "wxp://one-bag",
        "bundles": [{"name": "最后一袋大米", "items": [{"name": "大米", "qty": "10", "unit": "kg"}],
                     "price_fen": 5990, "stock": 1, "per_household_limit": 1}],
    }, role="supplier").json()


@pytest.mark.browser
def test_order__two_households_want_the_last_bag__the_second_sees_sold_out_in_chinese(new_context, info, one_bag_round):
    round_id = one_bag_round["round_id"]
    first, second = new_context().pages[0], new_context().pages[0]
    register(first, info["join_url"], building="10栋", unit="1单元", room="2908", phone="13912345611")
    register(second, info["join_url"], building="10栋", unit="2单元", room="2908", phone="13912345612")
    for page in (first, second):
        card = choose(page, round_id, "最后一袋大米", 1)
        expect(card.get_by_test_id("stock-left")).to_have_text("剩余 1 份")
        expect(card.get_by_test_id("qty-plus")).to_be_disabled()  # limit and stock are both 1
        expect(page.get_by_test_id("order-total")).to_have_text("¥59.90")

    first.get_by_test_id("order-submit").click()
    expect(first).to_have_url(re.compile(r"#/orders$"))
    expect(first.get_by_test_id("order-card").get_by_test_id("order-status")).to_have_text("已下单")

    second.get_by_test_id("order-submit").click()
    expect(second.get_by_test_id("error-message")).to_contain_text("库存不足")
    expect(second.get_by_test_id("error-message")).to_contain_text("最后一袋大米")
    expect(second).to_have_url(re.compile(r"#/rounds$"))
    # The page reloads the round: the bag shows as sold out and the cart is emptied.
    card = bundle_card(second, round_id, "最后一袋大米")
    expect(card.get_by_test_id("sold-out")).to_have_text("已售完")
    expect(card.get_by_test_id("qty-value")).to_have_text("0")
    expect(card.get_by_test_id("qty-plus")).to_be_disabled()
    second.get_by_test_id("nav-orders").click()
    expect(second.get_by_test_id("order-card")).to_have_count(0)
    expect(second.locator("main")).to_contain_text("还没有订单。")


@pytest.mark.browser
def test_lang_toggle__switches_the_rounds_page_to_english_and_back(page, info):
    register(page, info["join_url"], building="1栋", room="2808", phone="13912345621")
    toggle = page.get_by_test_id("lang-toggle")
    card = bundle_card(page, info["round_id"], "蔬菜套餐")
    expect(toggle).to_have_text("English")
    expect(page.get_by_test_id("nav-order")).to_have_text("订购")
    expect(page.get_by_test_id("nav-orders")).to_have_text("我的订单")
    expect(page.locator("#rounds-title")).to_have_text("订购")
    expect(card.get_by_test_id("stock-left")).to_contain_text("剩余")

    toggle.click()
    expect(page.get_by_test_id("nav-order")).to_have_text("Order")
    expect(page.get_by_test_id("nav-orders")).to_have_text("My orders")
    expect(page.get_by_test_id("order-submit")).to_have_text("Place order")
    expect(card.get_by_test_id("stock-left")).to_have_text(re.compile(r"^\d+ left$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(toggle).to_have_text("中文")
    # Bundle names are data: they stay as the supplier wrote them.
    expect(card.get_by_role("heading", level=3)).to_have_text("蔬菜套餐")

    # The choice is remembered on this phone.
    page.reload()
    expect(page.get_by_test_id("nav-order")).to_have_text("Order")

    toggle.click()
    expect(page.get_by_test_id("nav-order")).to_have_text("订购")
    expect(page.get_by_test_id("nav-orders")).to_have_text("我的订单")
    expect(page.get_by_test_id("order-submit")).to_have_text("提交订单")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


@pytest.mark.browser
def test_resident__cancels_an_open_order_and_the_stock_comes_back(page, info, api, artifacts):
    round_id = info["round_id"]
    stock_before = api.bundle(round_id, "蔬菜套餐")["stock_left"]
    cancels = []
    page.on("request", lambda r: cancels.append(r.url) if r.method == "POST" and r.url.endswith("/cancel") else None)

    register(page, info["join_url"], building="1栋", room="3508", phone="13912345651")
    choose(page, round_id, "蔬菜套餐", 1)
    page.get_by_test_id("order-submit").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    order = page.get_by_test_id("order-card")
    expect(order).to_have_count(1)
    expect(order.get_by_test_id("order-status")).to_have_text("已下单")
    expect(order.get_by_test_id("pickup-code")).to_be_visible()
    order_id = order.get_attribute("data-order-id")
    assert api.bundle(round_id, "蔬菜套餐")["stock_left"] == stock_before - 1
    assert len([row for row in packing_rows(api, round_id) if row["订单号 Order"] == order_id]) == 1

    # Tapping "cancel" only asks, in the page; "keep" changes nothing.
    cancel = order.get_by_test_id("order-cancel")
    expect(cancel).to_have_text("取消订单")
    assert cancel.bounding_box()["height"] >= 56
    cancel.click()
    expect(order.get_by_test_id("order-cancel-question")).to_have_text("确定取消这个订单吗？")
    confirm, keep = order.get_by_test_id("order-cancel-confirm"), order.get_by_test_id("order-cancel-keep")
    expect(confirm).to_have_text("确定取消")
    expect(keep).to_have_text("不取消")
    for button in (confirm, keep):
        assert button.bounding_box()["height"] >= 56
    expect(order.get_by_test_id("order-cancel")).to_have_count(0)
    page.screenshot(path=str(artifacts / "orders-cancel-confirm-zh.png"), full_page=True)

    keep.click()
    expect(order.get_by_test_id("order-cancel-question")).to_have_count(0)
    expect(order.get_by_test_id("order-cancel")).to_be_visible()
    expect(order.get_by_test_id("order-status")).to_have_text("已下单")
    expect(order.get_by_test_id("pickup-code")).to_be_visible()
    assert cancels == []
    assert api.bundle(round_id, "蔬菜套餐")["stock_left"] == stock_before - 1

    # Cancel for real. The reply is held back to see the buttons disabled while it is in flight.
    held = []
    page.route("**/api/orders/*/cancel", lambda route: held.append(route))
    order.get_by_test_id("order-cancel").click()
    order.get_by_test_id("order-cancel-confirm").click()
    expect(order.get_by_test_id("order-cancel-confirm")).to_be_disabled()
    expect(order.get_by_test_id("order-cancel-keep")).to_be_disabled()
    for _ in range(100):  # route handlers run while the test waits on the page
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api/orders/*/cancel")

    expect(order.get_by_test_id("order-status")).to_have_text("已取消")
    expect(order.get_by_test_id("pickup-code")).to_have_count(0)
    expect(order.get_by_test_id("order-cancel")).to_have_count(0)
    expect(order.get_by_test_id("order-cancel-confirm")).to_have_count(0)
    expect(page.get_by_test_id("success-message")).to_have_text("订单已取消")
    assert len(cancels) == 1 and order_id in cancels[0]

    # The bag is back on the shelf, and the supplier no longer packs it.
    assert api.bundle(round_id, "蔬菜套餐")["stock_left"] == stock_before
    assert [row for row in packing_rows(api, round_id) if row["订单号 Order"] == order_id] == []

    # In English too.
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("success-message")).to_have_text("Order cancelled")
    expect(order.get_by_test_id("order-status")).to_have_text("Cancelled")
    page.screenshot(path=str(artifacts / "orders-cancelled-en.png"), full_page=True)
