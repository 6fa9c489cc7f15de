"""The order outbox (frontend/js/outbox.js) in the browser: an order made with no signal, or whose reply
was lost, is sent again with the same Idempotency-Key and becomes exactly one order.

The browser is taken offline with `context.set_offline`; the test process itself stays online and reads
the truth from the API (the supplier's packing list and the bundle's stock).
"""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import choose, packing_rows, register

BUNDLE = "蔬菜套餐"
PENDING = "订单还没发出去（信号不好）。信号恢复后会自动再发，不会重复下单。"
SENT_LATER = "刚才没发出去的订单，现在已经提交成功。"


def flat_rows(api, round_id: str, building: str, room: str, unit: str = "") -> list[dict]:
    """The packing list's rows (one per live order) of one flat."""
    return [row for row in packing_rows(api, round_id)
            if (row["楼栋 Building"], row["单元 Unit"], row["房号 Room"]) == (building, unit, room)]


def record_order_posts(page) -> list[str]:
    """The Idempotency-Key of every POST /api/orders the page makes (also those that never get out)."""
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/api/orders") else None)
    return keys


def expect_waiting(page) -> None:
    """The rounds page says the order is waiting and offers to try again; the cart is locked to it."""
    expect(page).to_have_url(re.compile(r"#/rounds$"))
    expect(page.get_by_test_id("pending-notice")).to_have_text(PENDING)
    expect(page.get_by_test_id("order-submit")).to_have_text("再试一次")
    expect(page.get_by_test_id("order-submit")).to_be_enabled()
    expect(page.get_by_test_id("order-total")).to_have_text("¥68.00")


def expect_placed(page) -> str:
    """My orders shows exactly one placed order with a pickup code; returns its order id."""
    expect(page).to_have_url(re.compile(r"#/orders$"))
    expect(page.get_by_test_id("pending-order")).to_have_count(0)
    order = page.get_by_test_id("order-card")
    expect(order).to_have_count(1)
    expect(order.get_by_test_id("order-status")).to_have_text("已下单")
    expect(order).to_contain_text(f"{BUNDLE} × 1")
    expect(order.get_by_test_id("pickup-code")).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    return order.get_attribute("data-order-id")


def outbox_keys(page) -> list[str]:
    """The keys left in the outbox's IndexedDB store (the schema lives in outbox.js)."""
    return page.evaluate("""() => import('/js/outbox.js').then((o) => o.list()).then((l) => l.map((e) => e.key))""")


@pytest.mark.browser
def test_outbox__order_placed_offline_is_sent_when_the_signal_returns(page, context, info, api):
    round_id = info["round_id"]
    stock_before = api.bundle(round_id, BUNDLE)["stock_left"]
    register(page, info["join_url"], building="1栋", room="4008", phone="13912345661")
    keys = record_order_posts(page)
    choose(page, round_id, BUNDLE, 1)

    context.set_offline(True)
    page.get_by_test_id("order-submit").click()
    expect(page.get_by_test_id("error-message")).to_have_text(PENDING)
    expect_waiting(page)
    # Nothing reached the server: no order for the flat, the stock untouched.
    assert flat_rows(api, round_id, "1栋", "4008") == []
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before
    waiting = outbox_keys(page)
    assert len(waiting) == 1

    # My orders, never loaded on this phone and now unreachable, still shows the waiting order.
    page.get_by_test_id("nav-orders").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    pending = page.get_by_test_id("pending-order")
    expect(pending).to_contain_text("等待发送的订单")
    expect(pending).to_contain_text("第1期 保供团购")
    expect(page.get_by_test_id("error-message")).to_have_text("网络不通，请等信号好一些再试")
    expect(page.get_by_test_id("order-card")).to_have_count(0)

    context.set_offline(False)  # Chromium fires `online`: the outbox replays on its own
    expect(page.get_by_test_id("success-message")).to_have_text(SENT_LATER)
    order_id = expect_placed(page)

    rows = flat_rows(api, round_id, "1栋", "4008")
    assert [row["订单号 Order"] for row in rows] == [order_id]
    assert rows[0]["订单内容 Items"] == f"{BUNDLE}×1"
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before - 1
    assert keys and set(keys) == set(waiting), keys  # every attempt under the key stored before sending
    assert outbox_keys(page) == []


@pytest.mark.browser
@pytest.mark.parametrize(("retry", "room", "phone"), [
    ("retry-button", "4108", "13912345662"),
    ("reload", "4308", "13912345664"),
])
def test_outbox__a_lost_reply_is_resent_with_the_same_key_and_makes_one_order(page, info, api, retry, room, phone):
    round_id = info["round_id"]
    stock_before = api.bundle(round_id, BUNDLE)["stock_left"]
    register(page, info["join_url"], building="1栋", room=room, phone=phone)

    keys: list[str] = []
    first_reply: list[int] = []

    def lose_the_first_reply(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if first_reply:
            route.continue_()
            return
        # The server places the order, but the phone never hears back.
        first_reply.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/api/orders", lose_the_first_reply)
    choose(page, round_id, BUNDLE, 1)
    page.get_by_test_id("order-submit").click()
    expect(page.get_by_test_id("error-message")).to_have_text(PENDING)
    expect_waiting(page)
    assert first_reply == [201]
    assert len(flat_rows(api, round_id, "1栋", room)) == 1  # placed, though the phone does not know it
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before - 1

    if retry == "retry-button":
        page.get_by_test_id("order-submit").click()
        expect(page.get_by_test_id("success-message")).to_contain_text("下单成功")
    else:  # the resident closes and reopens the app: start-up replay
        page.reload()
        expect(page.get_by_test_id("success-message")).to_have_text(SENT_LATER)
    order_id = expect_placed(page)

    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    rows = flat_rows(api, round_id, "1栋", room)
    assert [row["订单号 Order"] for row in rows] == [order_id]
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before - 1
    assert outbox_keys(page) == []


@pytest.mark.browser
def test_outbox__a_waiting_order_survives_closing_the_app(page, context, info, api):
    round_id = info["round_id"]
    stock_before = api.bundle(round_id, BUNDLE)["stock_left"]
    register(page, info["join_url"], building="2栋", room="4208", phone="13912345663")
    choose(page, round_id, BUNDLE, 1)

    context.set_offline(True)
    page.get_by_test_id("order-submit").click()
    expect_waiting(page)
    waiting = outbox_keys(page)
    assert len(waiting) == 1
    page.close()
    assert flat_rows(api, round_id, "2栋", "4208") == []
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before

    # Later, with signal, the resident opens the app again (same phone: same profile and IndexedDB).
    context.set_offline(False)
    reopened = context.new_page()
    keys = record_order_posts(reopened)
    reopened.goto(info["base_url"] + "/")
    expect(reopened.get_by_test_id("success-message")).to_have_text(SENT_LATER)
    order_id = expect_placed(reopened)

    rows = flat_rows(api, round_id, "2栋", "4208")
    assert [row["订单号 Order"] for row in rows] == [order_id]
    assert api.bundle(round_id, BUNDLE)["stock_left"] == stock_before - 1
    assert keys == waiting
    assert outbox_keys(reopened) == []


@pytest.mark.browser
def test_outbox__an_order_refused_for_the_sign_in__waits_for_the_next_sign_in_and_is_sent_once(page, info, api):
    """A 401 (the token expired, or the phone signed out elsewhere) keeps the order: it is sent, with its
    key, once the household signs in again; it is never dropped for it."""
    round_id = info["round_id"]
    room, phone = "4508", "13912345668"
    signed_in = register(page, info["join_url"], building="1栋", room=room, phone=phone)
    keys = record_order_posts(page)

    def expired(route):
        # The token has expired: every call of this phone is refused for its sign-in.
        route.fulfill(status=401, content_type="application/json", body=json.dumps({"error": {
            "code": "unauthorized", "message": "请先登录或重新扫码加入", "message_en": "Sign in, or scan the join QR code again",
            "fields": {}}}))

    choose(page, round_id, BUNDLE, 1)
    page.route("**/api/**", expired)
    page.get_by_test_id("order-submit").click()
    # The sign-in is gone (the app goes back to its start), but the order is still waiting on the phone.
    expect(page.get_by_test_id("start-message")).to_be_visible()
    waiting = outbox_keys(page)
    assert len(waiting) == 1 and waiting == [k for k in keys if k], (waiting, keys)
    assert flat_rows(api, round_id, "1栋", room) == []

    # Signed in again as the same household: the start-up replay sends the order with the same key.
    page.unroute("**/api/**")
    page.evaluate("(s) => localStorage.setItem('baogong.session', s)", json.dumps(signed_in))
    page.goto(f"{info['base_url']}/#/rounds")
    page.reload()  # the app starts again, signed in
    expect(page.get_by_test_id("success-message")).to_have_text(SENT_LATER)
    expect(page.get_by_test_id("pending-notice")).to_have_count(0)
    rows = flat_rows(api, round_id, "1栋", room)
    assert len(rows) == 1
    assert outbox_keys(page) == []
    assert keys[-1] == waiting[0]
