"""Payments in the browser, on a 360 px phone: the resident pays the supplier's QR and says so
(「我已付款」), the supplier checks a wallet statement against the orders and confirms, the liaison
copies the reminder for the group chat.

Flats: every test has its own room in 10栋 1单元 ending in 06 (residents' tests use 08, the
liaison's 07, the concurrency tests 01-04), so no two tests share a household.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.flows import place_order, register, session

WIDTH = 360
BUNDLE = "米面油套餐"  # ¥128.00
CLAIMED = "已付款待确认"
CONFIRMED = "已确认"
BEIJING = timezone(timedelta(hours=8))


def phone_page(new_context):
    context = new_context(WIDTH)
    return context, (context.pages[0] if context.pages else context.new_page())


def resident_orders(info: dict, token: str) -> list[dict]:
    r = requests.get(f"{info['base_url']}/api/orders/mine", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["orders"]


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def current_step(card):
    """The label of the step the order is at, on its stepper."""
    return card.locator('[data-testid="order-step"][aria-current="step"] .step-label')


def qr_loaded(page) -> None:
    page.wait_for_function("""() => {
        const img = document.querySelector('[data-testid="pay-qr-img"]');
        return img && img.complete && img.naturalWidth > 0;
    }""")


def wechat_statement(rows: list[dict]) -> bytes:
    """A WeChat Pay bill (微信支付账单) as the app exports it: preamble, header, rows with ¥ amounts and
    tab-padded transaction numbers."""
    now = datetime.now(BEIJING)
    lines = [
        "微信支付账单明细,,,,,,,,,,",
        "微信昵称：[鲜达超市],,,,,,,,,,",
        f"起始时间：[{(now - timedelta(days=1)):%Y-%m-%d} 00:00:00] 终止时间：[{now:%Y-%m-%d} 23:59:59],,,,,,,,,,",
        "导出类型：[全部],,,,,,,,,,",
        f"导出时间：[{now:%Y-%m-%d %H:%M:%S}],,,,,,,,,,",
        ",,,,,,,,,,",
        f"共{len(rows)}笔记录,,,,,,,,,,",
        f"收入：{len(rows)}笔,,,,,,,,,,",
        "支出：0笔 0.00元,,,,,,,,,,",
        "中性交易：0笔 0.00元,,,,,,,,,,",
        "注：,,,,,,,,,,",
        "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,,,",
        "2. 本明细仅展示当前账单中的交易，不包括已删除的记录,,,,,,,,,,",
        "3. 本明细仅供个人对账使用,,,,,,,,,,",
        ",,,,,,,,,,",
        "----------------------微信支付账单明细列表--------------------,,,,,,,,,,",
        "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注",
    ]
    for r in rows:
        lines.append(",".join([
            r["time"], "二维码收款", r.get("counterparty", "张阿姨"), "/", "收入", r["amount"], "/", "已收钱",
            f"\t{r['transaction_id']}\t", f"\t{r['transaction_id'][-20:]}\t", r["note"],
        ]))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.browser
def test_resident__sees_the_payment_qr_as_an_image_claims_payment_and_sees_it_waiting(new_context, info):
    context, page = phone_page(new_context)
    register(page, info["join_url"], "10栋", "1106", "13900001106", unit="1单元")
    pickup = place_order(page, info["round_id"], BUNDLE)
    token = session(page)["token"]
    order = resident_orders(info, token)[0]
    card = page.locator(f'[data-testid="order-card"][data-order-id="{order["order_id"]}"]')

    # The QR is an image (long-press 识别图中二维码 works on images, not on a canvas), from the order's
    # payment_qr_url: a signed link, so the <img> needs no token.
    qr_url = info["base_url"] + order["payment_qr_url"]
    assert "/payment-qr" in qr_url
    img = card.get_by_test_id("pay-qr-img")
    expect(img).to_have_attribute("src", qr_url)
    qr_loaded(page)
    assert img.evaluate("(el) => el.currentSrc") == qr_url
    assert img.evaluate("(el) => el.naturalWidth") > 0
    assert page.locator("canvas").count() == 0
    served = requests.get(qr_url, timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/"), served.text
    save = card.get_by_test_id("pay-qr-save")
    expect(save).to_have_text("保存图片")
    expect(save).to_have_attribute("href", qr_url)
    expect(save).to_have_attribute("download", re.compile(r"."))

    # The amount, big; the countdown to the deadline; the note to copy, which never carries the pickup code.
    expect(card.get_by_test_id("pay-amount")).to_have_text("¥128.00")
    expect(card.get_by_test_id("pay-countdown")).to_have_text(re.compile(r"^还剩 (\d+天 \d+小时|\d+小时 \d+分钟|\d+分钟)$"))
    note = card.get_by_test_id("pay-note")
    expect(note).to_have_text(order["payment_note"])
    assert order["payment_note"].startswith("10-1-1106 "), order["payment_note"]
    assert pickup not in note.inner_text()
    assert pickup not in card.get_by_test_id("pay").inner_text()
    expect(current_step(card)).to_have_text("已下单")
    no_overflow(page)

    # 「我已付款」 with a reference: a wrong one is refused on the phone, 1234 goes through.
    card.get_by_test_id("pay-claim").click()
    card.get_by_test_id("pay-reference").fill("12")
    card.get_by_test_id("pay-claim-confirm").click()
    expect(card.get_by_test_id("pay-reference-error")).to_have_text("请填 4 到 6 位数字，或者不填")
    card.get_by_test_id("pay-reference").fill("1234")
    card.get_by_test_id("pay-claim-confirm").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已告诉供应商，等他核对确认。")
    expect(card.get_by_test_id("order-status")).to_have_text(CLAIMED)
    expect(card.get_by_test_id("pay-claimed-ref")).to_have_text("交易单号后几位：1234")
    expect(current_step(card)).to_have_text(CLAIMED)
    mine = resident_orders(info, token)[0]
    assert (mine["status"], mine["payment"]["reference"]) == ("payment_claimed", "1234")

    # Still so after a reload, and in English.
    page.reload()
    expect(card.get_by_test_id("order-status")).to_have_text(CLAIMED)
    page.get_by_test_id("lang-toggle").click()
    expect(card.get_by_test_id("order-status")).to_have_text("Paid, to be confirmed")
    expect(card.get_by_test_id("pay-note-copy")).to_have_text("Copy")
    no_overflow(page)


@pytest.mark.browser
def test_resident__claim_made_offline_waits_and_is_sent_when_the_signal_returns(new_context, info):
    context, page = phone_page(new_context)
    register(page, info["join_url"], "10栋", "1506", "13900001506", unit="1单元")
    place_order(page, info["round_id"], BUNDLE)
    token = session(page)["token"]
    card = page.get_by_test_id("order-card").first
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/payment-claim") else None)

    context.set_offline(True)
    card.get_by_test_id("pay-claim").click()
    card.get_by_test_id("pay-claim-confirm").click()  # no reference: it is optional
    expect(page.get_by_test_id("info-message")).to_have_text("已记下，有信号时会自动发送")
    expect(card.get_by_test_id("pay-claim-waiting")).to_be_visible()
    expect(card.get_by_test_id("order-status")).to_have_text("已下单")
    assert resident_orders(info, token)[0]["status"] == "placed"

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("success-message")).to_have_text("刚才没发出去的「我已付款」，现在已经发送成功。")
    expect(page.get_by_test_id("order-card").first.get_by_test_id("order-status")).to_have_text(CLAIMED)
    assert resident_orders(info, token)[0]["status"] == "payment_claimed"
    assert len(set(keys)) == 1, keys  # every attempt carried the same Idempotency-Key
    assert page.evaluate("() => import('/js/outbox.js').then((o) => o.list()).then((l) => l.length)") == 0


@pytest.mark.browser
def test_supplier__uploads_a_statement_confirms_and_the_resident_sees_it_confirmed(new_context, info):
    _, resident = phone_page(new_context)
    register(resident, info["join_url"], "10栋", "1206", "13900001206", unit="1单元")
    pickup = place_order(resident, info["round_id"], BUNDLE)
    card = resident.get_by_test_id("order-card").first
    note = card.get_by_test_id("pay-note").inner_text()
    amount = card.get_by_test_id("pay-amount").inner_text()
    assert amount == "¥128.00" and note.startswith("10-1-1206 ") and pickup not in note

    paid_at = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    statement = wechat_statement([
        {"time": paid_at, "amount": amount, "transaction_id": "4200002611292206061206120612061", "note": note},
        {"time": paid_at, "amount": "¥3.50", "transaction_id": "4200002611292206069999999999999", "note": "红包",
         "counterparty": "李四"},
    ])

    _, supplier = phone_page(new_context)
    supplier.goto(f"{info['base_url']}/#/signin/{info['tokens']['supplier']}")
    supplier.get_by_test_id("staff-payments").click()
    supplier.locator(f'[data-testid="sr-round"][data-round-id="{info["round_id"]}"]').click()
    supplier.get_by_test_id("rc-payments").click()
    expect(supplier.get_by_test_id("pb-title")).to_have_text("收款核对")
    expect(supplier.get_by_test_id("pay-totals-bar")).to_be_visible()
    no_overflow(supplier)

    supplier.get_by_test_id("st-file").set_input_files(
        files=[{"name": "微信支付账单.csv", "mimeType": "text/csv", "buffer": statement}])
    matched = supplier.get_by_test_id("st-matched-row").filter(has_text="10栋 1单元 1206")
    expect(matched).to_have_count(1)
    expect(matched).to_contain_text(note)
    expect(matched).to_contain_text("¥128.00")
    expect(supplier.get_by_test_id("st-unmatched-row").filter(has_text="¥3.50")).to_have_count(1)
    no_overflow(supplier)
    # Nothing is confirmed before the tap.
    assert resident_orders(info, session(resident)["token"])[0]["status"] == "placed"

    confirm = supplier.get_by_test_id("st-confirm")
    n = supplier.get_by_test_id("st-matched-row").count()
    expect(confirm).to_have_text(f"确认这 {n} 笔")
    if n > 1:  # other tests' payments in the same round: confirm only this one
        for row in supplier.get_by_test_id("st-matched-row").all():
            if "10栋 1单元 1206" not in row.inner_text():
                row.get_by_test_id("st-matched-check").uncheck()
        expect(confirm).to_have_text("确认这 1 笔")
    confirm.click()
    expect(supplier.get_by_test_id("success-message")).to_have_text("已确认 1 笔收款。")
    expect(supplier.get_by_test_id("st-preview")).to_have_count(0)

    resident.reload()
    card = resident.get_by_test_id("order-card").first
    expect(card.get_by_test_id("order-status")).to_have_text(CONFIRMED)
    expect(card.get_by_test_id("pay")).to_have_count(0)
    expect(card.get_by_test_id("pay-confirmed")).to_contain_text("供应商已确认收款")
    expect(current_step(card)).to_have_text(CONFIRMED)


@pytest.mark.browser
def test_liaison__copies_the_reminder_text(new_context, info):
    _, resident = phone_page(new_context)
    register(resident, info["join_url"], "10栋", "1406", "13900001406", unit="1单元")
    place_order(resident, info["round_id"], BUNDLE)

    context, page = phone_page(new_context)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=info["base_url"])
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['liaison']}")
    page.get_by_test_id("staff-console-roster").click()
    page.get_by_test_id("console-nav-unpaid").click()
    expect(page.get_by_test_id("unpaid-title")).to_have_text("催款")
    # Other tests may have opened newer rounds: choose the one this flat ordered in.
    picker = page.get_by_test_id("unpaid-round-pick")
    if picker.count():
        picker.select_option(info["round_id"])
        expect(picker).to_have_value(info["round_id"])
    row = page.get_by_test_id("unpaid-row").filter(has_text="10栋 1单元 1406")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("unpaid-phone")).to_have_text("139****1406")
    no_overflow(page)

    page.get_by_test_id("unpaid-copy").click()
    expect(page.get_by_test_id("unpaid-copied")).to_have_text("已复制。去业主群里长按输入框，粘贴发送。")
    text = page.evaluate("navigator.clipboard.readText()")
    assert text.startswith("【付款提醒】"), text
    assert "10栋1单元1406" in text, text
    assert not re.search(r"\d{11}", text), text
    assert "139****1406" not in text
    # The same text is on the page too, for phones where copying fails.
    expect(page.get_by_test_id("unpaid-reminder")).to_have_value(text)

    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("unpaid-copy")).to_have_text("Copy the reminder")
    no_overflow(page)
