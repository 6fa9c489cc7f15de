"""The supplier's console in the browser, on a 360 px phone: creating a round (two bundles, a payment QR
picture uploaded straight to S3), a resident ordering in it, the exports built as background jobs and
downloaded (packing list XLSX, labels PDF), closing early and packing; and a bad price refused next to
its own input, with everything typed kept across a reload.

Flats: every test has its own room in 10栋 1单元 ending in 11 (fair share 05, payments 06, the liaison's
tests 07, residents' 08), so no two tests share a household and its fair-share slot.
"""
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
import requests
import segno
from playwright.sync_api import expect

from tests.e2e.flows import masked, place_order, register

WIDTH = 360
BEIJING = timezone(timedelta(hours=8))
ROUND_URL = re.compile(r"#/staff/rounds/([0-9A-Za-z]{26})$")


def phone_page(new_context):
    context = new_context(WIDTH)
    return context, (context.pages[0] if context.pages else context.new_page())


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def supplier_page(new_context, info):
    context, page = phone_page(new_context)
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['supplier']}")
    expect(page.get_by_test_id("staff-role")).to_have_text("供应商")
    return context, page


def open_new_round(page) -> None:
    """From the staff home: 我的团购 → 新建团购."""
    page.get_by_test_id("staff-payments").click()
    expect(page.get_by_test_id("sr-title")).to_have_text("我的团购")
    no_overflow(page)
    page.get_by_test_id("sr-new").click()
    expect(page.get_by_test_id("nr-title")).to_have_text("新建团购")


def bundle(page, i: int):
    return page.locator(f'[data-testid="nr-bundle"][data-index="{i}"]')


def fill_item(box, j: int, name: str, qty: str, unit: str) -> None:
    row = box.locator(f'[data-testid="nr-item"][data-index="{j}"]')
    row.get_by_test_id("nr-item-name").fill(name)
    row.get_by_test_id("nr-item-qty").fill(qty)
    row.get_by_test_id("nr-item-unit").fill(unit)


def fill_bundle(box, name: str, price: str, stock: str, limit: str) -> None:
    box.get_by_test_id("nr-bundle-name").fill(name)
    box.get_by_test_id("nr-bundle-price").fill(price)
    box.get_by_test_id("nr-bundle-stock").fill(stock)
    box.get_by_test_id("nr-bundle-limit").fill(limit)


def beijing_input(dt: datetime) -> str:
    return dt.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def download(page, trigger, path):
    """Click a download button: the job runs (progress shown), then the file comes from S3."""
    with page.expect_download(timeout=60_000) as caught:
        trigger.click()
    dl = caught.value
    assert dl.failure() is None, dl.failure()
    dl.save_as(path)
    return dl


@pytest.mark.browser
def test_supplier__creates_a_round_a_resident_orders_and_the_packing_list_and_labels_download(
        new_context, info, api, tmp_path, artifacts):
    name = f"第9期 测试团购 {uuid.uuid4().hex[:4]}"
    _, page = supplier_page(new_context, info)
    open_new_round(page)

    # The communities of the supplier's sub-district; the demo community is the only one, so ticked.
    community = page.locator(f'[data-testid="nr-community"][data-community-id="{info["community_id"]}"]')
    expect(community).to_be_checked()

    # Times default to Beijing time: opens now, closes tomorrow 18:00, pay within 6 hours after.
    now = datetime.now(BEIJING)
    opens = page.get_by_test_id("nr-opens_at").input_value()
    assert abs(datetime.strptime(opens, "%Y-%m-%dT%H:%M").replace(tzinfo=BEIJING) - now) < timedelta(minutes=2), opens
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    expect(page.get_by_test_id("nr-closes_at")).to_have_value(f"{tomorrow}T18:00")
    expect(page.get_by_test_id("nr-payment_deadline")).to_have_value(
        f"{(now + timedelta(days=2)).strftime('%Y-%m-%d')}T00:00")

    page.get_by_test_id("nr-name").fill(name)
    first = bundle(page, 0)
    fill_bundle(first, "鸡蛋挂面套餐", "25.8", "50", "2")
    fill_item(first, 0, "鸡蛋", "30", "枚")
    first.get_by_test_id("nr-item-add").click()
    expect(first.get_by_test_id("nr-item")).to_have_count(2)
    expect(first.locator('[data-testid="nr-item"][data-index="1"] [data-testid="nr-item-name"]')).to_be_focused()
    fill_item(first, 1, "挂面", "1", "kg")
    page.get_by_test_id("nr-bundle-add").click()
    expect(page.get_by_test_id("nr-bundle")).to_have_count(2)
    second = bundle(page, 1)
    expect(second.get_by_test_id("nr-bundle-name")).to_be_focused()
    fill_bundle(second, "水果套餐", "19.90", "20", "1")
    fill_item(second, 0, "苹果", "3", "kg")
    # Closing a little later than the default, typed as Beijing time.
    closes = (now + timedelta(days=1)).replace(hour=20, minute=30)
    page.get_by_test_id("nr-closes_at").fill(beijing_input(closes))

    # The payment QR: a picture, previewed, uploaded straight to S3 (presigned POST).
    qr = tmp_path / "收款码.png"
    segno.make("wxp://f2f0-e2e-supplier-console", error="m").save(str(qr), scale=8, border=4)
    page.get_by_test_id("nr-qr-file").set_input_files(str(qr))
    expect(page.get_by_test_id("nr-qr-status")).to_have_text("收款码已上传：收款码.png")
    expect(page.get_by_test_id("nr-qr-preview")).to_be_visible()
    no_overflow(page)
    page.screenshot(path=str(artifacts / "supplier-new-round-360.png"), full_page=True)

    page.get_by_test_id("nr-submit").click()
    expect(page).to_have_url(ROUND_URL)
    round_id = ROUND_URL.search(page.url).group(1)
    expect(page.get_by_test_id("success-message")).to_have_text(f"团购「{name}」已创建。")
    expect(page.get_by_test_id("rc-title")).to_have_text(name)
    expect(page.get_by_test_id("rc-status")).to_have_text("正在订购")
    expect(page.get_by_test_id("rc-bundle")).to_have_count(2)
    expect(page.get_by_test_id("rc-stock").first).to_have_text("剩余 50 / 共 50 份")
    # The draft is gone once the round exists.
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('baogong.round-draft'))") == []

    created = api.get(f"/api/rounds/{round_id}", "supplier").json()
    assert created["name"] == name
    assert [(b["name"], b["price_fen"], b["stock_total"], b["per_household_limit"]) for b in created["bundles"]] == [
        ("鸡蛋挂面套餐", 2580, 50, 2), ("水果套餐", 1990, 20, 1)]
    assert created["bundles"][0]["items"] == [{"name": "鸡蛋", "qty": "30", "unit": "枚"},
                                              {"name": "挂面", "qty": "1", "unit": "kg"}]
    assert datetime.fromisoformat(created["closes_at"].replace("Z", "+00:00")) == closes.replace(second=0, microsecond=0)
    qr_image = requests.get(info["base_url"] + created["payment_qr_url"], timeout=30)
    assert qr_image.status_code == 200 and qr_image.content == qr.read_bytes()
    no_overflow(page)

    # The announcement for the group chat: copied, and on the page to long-press.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=info["base_url"])
    page.get_by_test_id("rc-ann-copy").click()
    expect(page.get_by_test_id("rc-ann-copied")).to_have_text("已复制。去业主群里长按输入框，粘贴发送。")
    text = page.evaluate("navigator.clipboard.readText()")
    assert name in text and "水果套餐" in text, text
    expect(page.get_by_test_id("rc-ann-text")).to_have_value(text)

    # A resident of a flat nobody else uses orders the fruit bundle.
    _, resident = phone_page(new_context)
    register(resident, info["join_url"], "10栋", "1011", "13900001011", unit="1单元")
    place_order(resident, round_id, "水果套餐")

    # Back on the round: the order is counted; its stock went down.
    page.reload()
    expect(page.get_by_test_id("rc-count-placed")).to_have_attribute("data-count", "1")
    expect(page.locator('[data-testid="rc-bundle"]').nth(1).get_by_test_id("rc-stock")).to_have_text("剩余 19 / 共 20 份")
    page.screenshot(path=str(artifacts / "supplier-round-console-360.png"), full_page=True)

    # The order is unpaid: only 全部有效订单 includes it.
    page.get_by_test_id("dl-status-all_live").check()
    packing = tmp_path / "packing.xlsx"
    download(page, page.get_by_test_id("dl-packing-xlsx"), packing)
    job = page.get_by_test_id("dl-packing-xlsx-job")
    expect(job).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("dl-packing-xlsx")).to_be_enabled()
    book = openpyxl.load_workbook(packing, read_only=True)
    rows = [[str(c) if c is not None else "" for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    mine = [r for r in rows if "13900001011" in r]  # one bag of this household, with its full phone
    assert len(mine) == 1, (book.sheetnames, rows)
    assert "1011" in mine[0] and "10栋" in mine[0], mine

    page.get_by_test_id("dl-layout").select_option("a4-2x5")
    labels = tmp_path / "labels.pdf"
    download(page, page.get_by_test_id("dl-labels-pdf"), labels)
    text = subprocess.run(["pdftotext", "-layout", str(labels), "-"], capture_output=True, text=True, check=True).stdout
    assert "1011" in text, text
    assert masked("13900001011") in text, text
    assert "13900001011" not in text
    no_overflow(page)

    # Paid, then closed early (with a confirm step), then packed building by building.
    confirmed = api.post(f"/api/rounds/{round_id}/payments/confirm",
                         {"order_ids": [api.get(f"/api/rounds/{round_id}/orders", "supplier").json()["orders"][0]["order_id"]]},
                         "supplier", expect_status=200).json()
    assert len(confirmed["confirmed"]) == 1, confirmed
    page.reload()
    page.get_by_test_id("rc-close").click()
    expect(page.get_by_test_id("rc-close-confirm")).to_contain_text(f"现在就截止「{name}」的下单吗？")
    no_overflow(page)
    page.get_by_test_id("rc-close-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已截单，不能再下单了。")
    expect(page.get_by_test_id("rc-status")).to_have_text("已截止")
    expect(page.get_by_test_id("rc-closed-early")).to_be_visible()
    expect(page.get_by_test_id("rc-stock-add")).to_have_count(0)

    building = page.locator('[data-testid="rc-bldg"][data-building="10栋"]')
    expect(building).to_have_attribute("data-paid", "1")
    building.get_by_test_id("rc-pack-building").click()
    result = page.get_by_test_id("rc-pack-result")
    expect(result).to_contain_text("已标记 1 单已打包。")
    expect(building).to_have_attribute("data-packed", "1")
    expect(building).to_have_attribute("data-paid", "0")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "supplier-round-packed-360.png"), full_page=True)

    # In English too.
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("rc-status")).to_have_text("Closed")
    expect(page.get_by_test_id("dl-labels-pdf")).to_have_text("PDF")
    no_overflow(page)


@pytest.mark.browser
def test_supplier__bad_price_is_refused_next_to_its_input_and_the_draft_survives_a_reload(new_context, info, artifacts):
    name = f"草稿团购 {uuid.uuid4().hex[:4]}"
    _, page = supplier_page(new_context, info)
    open_new_round(page)
    page.get_by_test_id("nr-name").fill(name)
    fill_bundle(bundle(page, 0), "米面油套餐", "128", "10", "1")
    fill_item(bundle(page, 0), 0, "大米", "5", "kg")
    page.get_by_test_id("nr-bundle-add").click()
    second = bundle(page, 1)
    fill_bundle(second, "蔬菜套餐", "12.345", "30", "2")
    fill_item(second, 0, "青菜", "2", "斤")
    page.get_by_test_id("nr-qr-mode-text").check()
    page.get_by_test_id("nr-payment_qr").fill("wxp://f2f0-e2e-draft")

    # Refused on the phone: the message is under bundle 2's price, which gets the focus; nothing is sent.
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/api/rounds") else None)
    page.get_by_test_id("nr-submit").click()
    price = second.get_by_test_id("nr-bundle-price")
    expect(second.get_by_test_id("nr-bundle-price-error")).to_have_text("价格请写数字，最多两位小数，如 12.50")
    expect(price).to_be_focused()
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(bundle(page, 0).get_by_test_id("nr-bundle-price-error")).to_be_hidden()
    expect(page.get_by_test_id("error-message")).to_have_text("有内容需要修改，请看标红的地方")
    assert sent == []
    no_overflow(page)
    page.screenshot(path=str(artifacts / "supplier-new-round-bad-price-360.png"), full_page=True)
    # The same message in English after switching language.
    page.get_by_test_id("lang-toggle").click()
    expect(second.get_by_test_id("nr-bundle-price-error")).to_have_text("Enter a number with at most 2 decimals, e.g. 12.50")
    page.get_by_test_id("lang-toggle").click()
    expect(second.get_by_test_id("nr-bundle-price-error")).to_have_text("价格请写数字，最多两位小数，如 12.50")

    # Everything typed comes back after a reload (the draft), and the same check refuses it again.
    page.reload()
    expect(page.get_by_test_id("nr-restored")).to_be_visible()
    expect(page.get_by_test_id("nr-name")).to_have_value(name)
    expect(page.get_by_test_id("nr-bundle")).to_have_count(2)
    expect(bundle(page, 1).get_by_test_id("nr-bundle-price")).to_have_value("12.345")
    expect(bundle(page, 1).get_by_test_id("nr-bundle-name")).to_have_value("蔬菜套餐")
    expect(bundle(page, 1).get_by_test_id("nr-item-unit")).to_have_value("斤")
    expect(bundle(page, 0).get_by_test_id("nr-bundle-price")).to_have_value("128")
    expect(page.get_by_test_id("nr-payment_qr")).to_have_value("wxp://f2f0-e2e-draft")

    # The server's own field messages (nested by bundle) land on the same inputs: a stubbed 400.
    def refuse(route):
        route.fulfill(status=400, content_type="application/json", json={"error": {
            "code": "bad_input", "message": "输入有误，请按提示修改", "message_en": "Invalid input; fix the fields listed",
            "fields": {"bundles": {"1": {"price": ["价格最多两位小数 / At most 2 decimals"]}},
                       "closes_at": ["截止时间须晚于开始时间 / closes_at must be after opens_at"]}}})
    page.route("**/api/rounds", refuse)
    bundle(page, 1).get_by_test_id("nr-bundle-price").fill("12.34")
    page.get_by_test_id("nr-submit").click()
    expect(bundle(page, 1).get_by_test_id("nr-bundle-price-error")).to_have_text("价格最多两位小数")
    expect(page.get_by_test_id("nr-closes_at-error")).to_have_text("截止时间须晚于开始时间")
    expect(bundle(page, 1).get_by_test_id("nr-bundle-price")).to_be_focused()
    expect(page.get_by_test_id("error-message")).to_have_text("输入有误，请按提示修改")
    page.unroute("**/api/rounds", refuse)

    # Offline: the submit fails, says so, and keeps everything.
    page.context.set_offline(True)
    page.get_by_test_id("nr-submit").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("您填写的内容都还在")
    expect(page.get_by_test_id("nr-name")).to_have_value(name)
    page.context.set_offline(False)
    page.get_by_test_id("lang-toggle").click()
    expect(bundle(page, 1).get_by_test_id("nr-bundle-price")).to_have_value("12.34")
    expect(page.get_by_test_id("nr-submit")).to_have_text("Create the round")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "supplier-new-round-en-360.png"), full_page=True)
    # Tidy: this test's draft is its own (a fresh profile), nothing was created.
    assert sent and all(u.endswith("/api/rounds") for u in sent)


@pytest.mark.browser
def test_liaison__creates_a_round_for_the_supplier_serving_their_own_community(new_context, info, api, artifacts):
    name = f"代开团购 {uuid.uuid4().hex[:4]}"
    _, page = phone_page(new_context)
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['liaison']}")
    door = page.get_by_test_id("staff-new-round")
    expect(door).to_contain_text("为供应商开团")
    no_overflow(page)
    door.click()
    expect(page.get_by_test_id("nr-title")).to_have_text("为供应商开团")
    expect(page.get_by_test_id("nr-community-name")).to_have_text("为本小区开团：幸福家园小区")
    # The sub-district's only supplier is chosen already; no communities to pick.
    supplier = page.get_by_test_id("nr-supplier")
    expect(supplier.locator("option:checked")).to_have_text("邻家便利超市")
    expect(page.get_by_test_id("nr-community")).to_have_count(0)

    page.get_by_test_id("nr-name").fill(name)
    fill_bundle(bundle(page, 0), "应急蔬菜包", "30", "5", "1")
    fill_item(bundle(page, 0), 0, "土豆", "2", "kg")
    page.get_by_test_id("nr-qr-mode-text").check()
    page.get_by_test_id("nr-payment_qr").fill("wxp://f2f0-e2e-liaison")
    no_overflow(page)
    page.get_by_test_id("nr-submit").click()
    expect(page).to_have_url(ROUND_URL)
    round_id = ROUND_URL.search(page.url).group(1)
    try:
        expect(page.get_by_test_id("rc-title")).to_have_text(name)
        created = api.get(f"/api/rounds/{round_id}", "supplier").json()
        assert created["community_ids"] == [info["community_id"]]
        assert created["supplier"]["name"] == "邻家便利超市", created["supplier"]
        # The supplier's own tools are not the liaison's: no stock, no closing, no payments; the
        # announcement and the exports are.
        expect(page.get_by_test_id("rc-stock-add")).to_have_count(0)
        expect(page.get_by_test_id("rc-close")).to_have_count(0)
        expect(page.get_by_test_id("rc-payments")).to_have_count(0)
        expect(page.get_by_test_id("rc-ann-text")).to_have_value(re.compile(name))
        expect(page.get_by_test_id("dl-picklist-csv")).to_be_visible()
        no_overflow(page)
    finally:
        # Other tests order in the demo round: this one closes so it never stands in their way.
        api.post(f"/api/rounds/{round_id}/close", {}, "supplier", expect_status=200)
