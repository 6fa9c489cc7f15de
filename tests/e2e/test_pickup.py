"""Pickup day at the gate, on a volunteer's 360 px phone (views/pickup.js, scan.js, the outbox's pickup marks).

Set-up goes through the API: the module opens one round of its own in the demo community (one, not
one per test: the community lists only its 10 most recent rounds, and the other browser tests need
the demo round among them), each test registers its own flats, orders and has the supplier confirm
payment. Counts are checked as they move from what the API said when the test began. The volunteer
works in the browser; the truth is read back from the API.

Flats: every room here ends in 12 (10栋 1单元 1012, 1112, …), so no other test shares a household
(residents' tests use 08, payments 06, the liaison's 07, the concurrency tests 01-04).
"""
import base64
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import segno
from playwright.sync_api import expect

WIDTH = 360
BUILDING = "10栋"
UNIT = "1单元"
BEIJING = timezone(timedelta(hours=8))
NOT_PAID = "未付款不能取货。请这户先付款，供应商确认收款后才能取。"
ROUND = "取货测试 门口"


# ---- set-up through the API --------------------------------------------------------------------

class Gate:
    """One test's round in the demo community, its flats and orders, read and written through the API."""

    def __init__(self, info: dict, name: str):
        self.info = info
        self.base = info["base_url"]
        now = datetime.now(BEIJING)
        body = {
            "name": name, "community_ids": [info["community_id"]],
            "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
            "payment_deadline": (now + timedelta(days=2)).isoformat(), "payment_qr": "wxp://f2f0-pickup-test",
            "bundles": [{"name": "取货测试套餐", "price_fen": 5000, "stock": 50, "per_household_limit": 2,
                         "items": [{"name": "大米", "qty": "5", "unit": "kg"}]}],
        }
        r = self.call("POST", "/api/rounds", "supplier", body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        self.round = r.json()
        self.round_id = self.round["round_id"]
        self.bundle_id = self.round["bundles"][0]["bundle_id"]

    def call(self, method: str, path: str, role: str | None = None, body: dict | None = None,
             token: str | None = None, headers: dict | None = None) -> requests.Response:
        h = dict(headers or {})
        tok = token or (self.info["tokens"][role] if role else None)
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        return requests.request(method, self.base + path, json=body, headers=h, timeout=30)

    def order(self, room: str, phone: str, unit: str = UNIT, building: str = BUILDING, pay: bool = True) -> dict:
        """Register the flat, order one bundle, and (pay=True) have the supplier confirm the payment."""
        r = self.call("POST", f"/api/join/{self.info['join_key']}/households", body={
            "building": building, "unit": unit, "room": room, "phone": phone})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        r = self.call("POST", "/api/orders", token=token, headers={"Idempotency-Key": str(uuid.uuid4())},
                      body={"round_id": self.round_id, "lines": [{"bundle_id": self.bundle_id, "qty": 1}]})
        assert r.status_code == 201, r.text
        order = r.json()
        if pay:
            self.pay(order["order_id"])
        return {**order, "flat": " ".join((building, unit, room)), "room": room, "resident_token": token}

    def pay(self, order_id: str) -> None:
        r = self.call("POST", f"/api/rounds/{self.round_id}/payments/confirm", "supplier", {"order_ids": [order_id]})
        assert r.status_code == 200, r.text
        assert [o["order_id"] for o in r.json()["confirmed"]] == [order_id], r.text

    def entries(self, building: str = BUILDING) -> dict:
        """The volunteer's building list from the API, by order id."""
        r = self.call("GET", f"/api/rounds/{self.round_id}/pickup-list?building={building}", "volunteer")
        assert r.status_code == 200, r.text
        return {e["order_id"]: e for e in r.json()["households"]}

    def entry(self, order_id: str) -> dict:
        r = self.call("GET", f"/api/orders/{order_id}/pickup", "volunteer")
        assert r.status_code == 200, r.text
        return r.json()

    def counts(self, building: str = BUILDING) -> tuple[int, int]:
        """(collected, bags to hand out) of the building, from the API: the paid and the collected ones."""
        entries = self.entries(building).values()
        return (sum(1 for e in entries if e["collected"]),
                sum(1 for e in entries if e["paid"] or e["collected"]))


@pytest.fixture(scope="module")
def gate(dev_stack) -> Gate:
    return Gate(dev_stack.info, ROUND)


def qr_png(text: str) -> bytes:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


# ---- the browser -------------------------------------------------------------------------------

def phone(new_context):
    context = new_context(WIDTH)
    return context, (context.pages[0] if context.pages else context.new_page())


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def sign_in(page, info: dict, role: str = "volunteer") -> None:
    page.goto(f"{info['base_url']}/#/signin/{info['tokens'][role]}")
    expect(page.get_by_test_id("staff-pickup")).to_be_visible()


def open_building(page, round_id: str, building: str = BUILDING) -> None:
    """From #/staff: the 取货登记 door, this test's round, the building."""
    page.get_by_test_id("staff-pickup").click()
    expect(page.get_by_test_id("pk-title")).to_have_text("取货登记")
    page.locator(f'[data-testid="pk-round"][data-round-id="{round_id}"]').click()
    expect(page.locator(f'[data-testid="pk-round"][data-round-id="{round_id}"]')).to_have_attribute("aria-pressed", "true")
    no_overflow(page)
    page.locator(f'[data-testid="pk-building"][data-building="{building}"]').click()
    expect(page.get_by_test_id("pk-title")).to_have_text(f"取货登记 · {building}")


def row(page, order_id: str):
    return page.locator(f'[data-testid="pk-row"][data-order-id="{order_id}"]')


def confirm_in_sheet(page, flat: str, button: str = "确认取货") -> None:
    sheet = page.get_by_test_id("pk-sheet")
    expect(sheet.get_by_test_id("pk-sheet-flat")).to_have_text(flat)
    expect(sheet.get_by_test_id("pk-confirm")).to_have_text(button)
    no_overflow(page)
    sheet.get_by_test_id("pk-confirm").click()
    expect(sheet).to_have_count(0)


def count(page, done: int, total: int, word: str = "已取") -> None:
    expect(page.get_by_test_id("pk-count")).to_have_attribute("data-done", str(done))
    expect(page.get_by_test_id("pk-count")).to_have_attribute("data-total", str(total))
    expect(page.get_by_test_id("pk-count")).to_contain_text(f"{word} {done} / {total}")


def pickup_posts(page) -> list[tuple[str, str]]:
    """(order id, Idempotency-Key) of every POST …/pickup the page makes, also those that never get out."""
    seen: list[tuple[str, str]] = []

    def on_request(r):
        m = re.search(r"/api/orders/([^/]+)/pickup$", r.url)
        if r.method == "POST" and m:
            seen.append((m.group(1), r.headers.get("idempotency-key")))
    page.on("request", on_request)
    return seen


def outbox(page) -> list[dict]:
    return page.evaluate("""() => import('/js/outbox.js').then((o) => o.list())""")


# ---- tests -------------------------------------------------------------------------------------

@pytest.mark.browser
def test_volunteer__marks_one_bag_by_its_code_and_one_by_tapping__the_counts_and_the_api_agree(new_context, info, gate,
                                                                                               artifacts):
    a = gate.order("1012", "13900001012")
    b = gate.order("1112", "13900001112")
    c = gate.order("1212", "13900001212")
    done, total = gate.counts()

    _, page = phone(new_context)
    sign_in(page, info)
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-staff-door-360.png"), full_page=True)
    open_building(page, gate.round_id)
    expect(page.get_by_test_id("pk-round-name")).to_have_text(ROUND)
    for o in (a, b, c):
        expect(row(page, o["order_id"])).to_have_count(1)
    count(page, done, total)
    first = row(page, a["order_id"])
    expect(first.get_by_test_id("pk-row-flat")).to_have_text("1单元 1012")
    expect(first.get_by_test_id("pk-row-phone")).to_have_text("139****1012")
    expect(first.get_by_test_id("pk-row-paid")).to_have_text("已付款")
    expect(first.get_by_test_id("pk-row-state")).to_have_text("待取")
    expect(first.get_by_test_id("pk-row-lines")).to_have_text("取货测试套餐 × 1")
    expect(page.get_by_test_id("pk-code")).to_have_attribute("inputmode", "numeric")
    no_overflow(page)

    # A code that is not 6 digits is caught on the phone.
    page.get_by_test_id("pk-code").fill("12345")
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("pk-code-error")).to_have_text("取货码是 6 位数字，请再看一下")

    # By code: the household is shown to check, then confirmed.
    page.get_by_test_id("pk-code").fill(a["pickup_code"])
    page.get_by_test_id("pk-code-go").click()
    sheet = page.get_by_test_id("pk-sheet")
    expect(sheet.get_by_test_id("pk-sheet-phone")).to_have_text("139****1012")
    expect(sheet.get_by_test_id("pk-sheet-paid")).to_have_text("已付款")
    expect(sheet.get_by_test_id("pk-sheet-lines")).to_have_text("取货测试套餐 × 1")
    page.screenshot(path=str(artifacts / "pickup-sheet-360.png"))
    confirm_in_sheet(page, "10栋 1单元 1012")
    expect(page.get_by_test_id("success-message")).to_have_text("已登记取货：10栋 1单元 1012")
    expect(first).to_have_attribute("data-state", "collected")
    expect(first.get_by_test_id("pk-row-state")).to_contain_text("已取")
    expect(first.get_by_test_id("pk-undo")).to_be_visible()
    expect(page.get_by_test_id("pk-code")).to_have_value("")
    count(page, done + 1, total)

    # By tapping the row.
    row(page, b["order_id"]).get_by_test_id("pk-row-open").click()
    confirm_in_sheet(page, "10栋 1单元 1112")
    expect(row(page, b["order_id"])).to_have_attribute("data-state", "collected")
    count(page, done + 2, total)
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-list-360.png"), full_page=True)

    truth = gate.entries()
    assert truth[a["order_id"]]["collected"] and truth[a["order_id"]]["picked_up"]["method"] == "self"
    assert truth[b["order_id"]]["collected"] and truth[b["order_id"]]["status"] == "picked_up"
    assert not truth[c["order_id"]]["collected"]
    assert gate.counts() == (done + 2, total)

    # A tapped bag that is already collected says so, with no second confirm.
    first.get_by_test_id("pk-row-open").click()
    expect(page.get_by_test_id("pk-already")).to_contain_text("这户已经取过了")
    expect(page.get_by_test_id("pk-confirm")).to_have_count(0)
    page.get_by_test_id("pk-sheet-close").click()

    # Undo (within 10 minutes): back to waiting, here and in the API.
    row(page, b["order_id"]).get_by_test_id("pk-undo").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已撤销：10栋 1单元 1112 改回待取")
    expect(row(page, b["order_id"])).to_have_attribute("data-state", "waiting")
    expect(row(page, b["order_id"]).get_by_test_id("pk-undo")).to_have_count(0)
    count(page, done + 1, total)
    assert not gate.entries()[b["order_id"]]["collected"]
    assert gate.entries()[b["order_id"]]["status"] == "paid"

    # The choice is remembered; English alongside.
    page.goto(f"{info['base_url']}/#/staff/pickup")
    expect(page.get_by_test_id("pk-continue")).to_have_text(f"接着登记：{ROUND} · 10栋")
    page.screenshot(path=str(artifacts / "pickup-choose-360.png"), full_page=True)
    page.get_by_test_id("pk-continue").click()
    count(page, done + 1, total)
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("pk-count")).to_contain_text(f"Collected {done + 1} / {total}")
    expect(row(page, c["order_id"]).get_by_test_id("pk-row-state")).to_have_text("To collect")
    expect(page.get_by_test_id("pk-scan")).to_contain_text("Scan")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-list-en-360.png"), full_page=True)
    row(page, c["order_id"]).get_by_test_id("pk-row-open").click()
    expect(page.get_by_test_id("pk-confirm")).to_have_text("Confirm pickup")
    no_overflow(page)
    page.get_by_test_id("pk-sheet-cancel").click()
    expect(page.get_by_test_id("pk-sheet")).to_have_count(0)
    page.get_by_test_id("pk-nav-change").click()
    expect(page.get_by_test_id("pk-title")).to_have_text("Pickup")
    no_overflow(page)
    page.get_by_test_id("pk-continue").click()
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("pk-count")).to_contain_text(f"已取 {done + 1} / {total}")


@pytest.mark.browser
def test_volunteer__marks_two_bags_offline__they_are_sent_on_reconnect_and_recorded_once(new_context, info, gate, artifacts):
    a = gate.order("1312", "13900001312")
    b = gate.order("1412", "13900001412")
    c = gate.order("2112", "13900002112")  # marked offline by mistake and undone before the signal returns
    done, total = gate.counts()

    context, page = phone(new_context)
    sign_in(page, info)
    open_building(page, gate.round_id)
    count(page, done, total)
    posts = pickup_posts(page)

    context.set_offline(True)
    for o in (a, b):
        row(page, o["order_id"]).get_by_test_id("pk-row-open").click()
        confirm_in_sheet(page, o["flat"])
        expect(row(page, o["order_id"])).to_have_attribute("data-state", "pending")
        expect(row(page, o["order_id"]).get_by_test_id("pk-row-state")).to_have_text("已取（待同步）")
    expect(page.get_by_test_id("info-message")).to_have_text(
        "没有信号：已把 10栋 1单元 1412 记在手机上，有信号时会自动发送。")
    expect(page.get_by_test_id("pk-sync")).to_contain_text("2 户已登记，还没发出去")
    count(page, done + 2, total)
    # A third, by mistake: 「撤销」 takes it out of the phone before anything is sent.
    row(page, c["order_id"]).get_by_test_id("pk-row-open").click()
    confirm_in_sheet(page, c["flat"])
    expect(page.get_by_test_id("pk-sync")).to_contain_text("3 户已登记")
    row(page, c["order_id"]).get_by_test_id("pk-undo").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已撤销：10栋 1单元 2112 改回待取")
    expect(row(page, c["order_id"])).to_have_attribute("data-state", "waiting")
    expect(page.get_by_test_id("pk-sync")).to_contain_text("2 户已登记")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-offline-360.png"), full_page=True)
    # Stored in the outbox, one entry (one key) per bag; nothing reached the server.
    waiting = outbox(page)
    assert sorted(e["order_id"] for e in waiting) == sorted([a["order_id"], b["order_id"]])
    assert all(e["kind"] == "pickup" and e["body"] == {"method": "self"} for e in waiting)
    keys = {e["order_id"]: e["key"] for e in waiting}
    truth = gate.entries()
    assert not any(truth[o["order_id"]]["collected"] for o in (a, b, c))

    # Back online: both go out by themselves, with the keys stored offline.
    context.set_offline(False)
    for o in (a, b):
        expect(row(page, o["order_id"])).to_have_attribute("data-state", "collected")
    expect(page.get_by_test_id("pk-sync")).to_be_hidden()
    expect(page.get_by_test_id("success-message")).to_contain_text("刚才没发出去的取货登记，已经发送成功")
    count(page, done + 2, total)
    page.wait_for_function("() => import('/js/outbox.js').then((o) => o.list()).then((l) => l.length === 0)")
    # Every attempt of a bag (the one that failed offline, the replay) carried that bag's one key.
    for o in (a, b):
        sent = [key for order_id, key in posts if order_id == o["order_id"]]
        assert len(sent) >= 2 and set(sent) == {keys[o["order_id"]]}, posts

    truth = gate.entries()
    first_at = {}
    for o in (a, b):
        e = truth[o["order_id"]]
        assert e["status"] == "picked_up" and e["collected"] and e["picked_up"]["by_me"], e
        first_at[o["order_id"]] = e["picked_up"]["at"]
    # The same key again (a replay after a lost answer) and another helper's mark: the one record stays.
    for o in (a, b):
        again = gate.call("POST", f"/api/orders/{o['order_id']}/pickup", "volunteer", {"method": "self"},
                          headers={"Idempotency-Key": keys[o["order_id"]]})
        assert again.status_code == 200 and again.json()["picked_up"]["at"] == first_at[o["order_id"]], again.text
        other = gate.call("POST", f"/api/orders/{o['order_id']}/pickup", "liaison", {"method": "door"},
                          headers={"Idempotency-Key": str(uuid.uuid4())})
        assert other.status_code == 200, other.text
        assert other.json()["picked_up"] == {"at": first_at[o["order_id"]], "method": "self", "by_me": False}
        assert gate.entry(o["order_id"])["picked_up"]["at"] == first_at[o["order_id"]]

    # A reload keeps nothing waiting and shows both collected.
    page.reload()
    count(page, done + 2, total)
    expect(row(page, c["order_id"])).to_have_attribute("data-state", "waiting")
    assert gate.counts() == (done + 2, total)
    assert not gate.entry(c["order_id"])["collected"]
    expect(page.get_by_test_id("pk-sync")).to_be_hidden()


@pytest.mark.browser
def test_volunteer__an_unpaid_order_is_refused_in_plain_words(new_context, info, gate, artifacts):
    unpaid = gate.order("1512", "13900001512", pay=False)
    later = gate.order("2012", "13900002012")  # paid when the list loads; the supplier takes it back
    done, total = gate.counts()  # the unpaid bag is listed, not counted: it is not handed out

    _, page = phone(new_context)
    sign_in(page, info)
    open_building(page, gate.round_id)
    count(page, done, total)
    expect(row(page, unpaid["order_id"]).get_by_test_id("pk-row-paid")).to_have_text("未付款")

    # By code: shown, refused before anything is sent.
    page.get_by_test_id("pk-code").fill(unpaid["pickup_code"])
    page.get_by_test_id("pk-code-go").click()
    sheet = page.get_by_test_id("pk-sheet")
    expect(sheet.get_by_test_id("pk-sheet-flat")).to_have_text("10栋 1单元 1512")
    expect(sheet.get_by_test_id("pk-refusal")).to_have_text(NOT_PAID)
    expect(sheet.get_by_test_id("pk-confirm")).to_have_count(0)
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-unpaid-360.png"))
    sheet.get_by_test_id("pk-sheet-close").click()

    # The server's own refusal, when the list is out of date: plain words too, and the row follows.
    r = gate.call("POST", f"/api/rounds/{gate.round_id}/payments/undo", "supplier",
                  {"order_id": later["order_id"], "reason": "款没到账"})
    assert r.status_code == 200, r.text
    row(page, later["order_id"]).get_by_test_id("pk-row-open").click()
    confirm_in_sheet(page, "10栋 1单元 2012")
    expect(page.get_by_test_id("error-message")).to_have_text(f"10栋 1单元 2012：{NOT_PAID}")
    expect(row(page, later["order_id"])).to_have_attribute("data-state", "blocked")
    expect(row(page, later["order_id"]).get_by_test_id("pk-row-paid")).to_have_text("未付款")
    count(page, done, total - 1)
    assert gate.counts() == (done, total - 1)
    assert not gate.entries()[later["order_id"]]["collected"]
    assert outbox(page) == []

    # A code of another community's round, or none at all: plain words.
    page.get_by_test_id("pk-code").fill("000000" if unpaid["pickup_code"] != "000000" else "000001")
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("error-message")).to_have_text("这个取货码不是本小区本期团购的。请核对房号和取货码。")


@pytest.mark.browser
def test_volunteer__scans_a_resident_qr_and_a_bag_label_through_the_decoder(new_context, info, gate, artifacts):
    resident = gate.order("1612", "13900001612")
    bag = gate.order("1712", "13900001712")
    done, total = gate.counts()

    _, page = phone(new_context)
    sign_in(page, info)
    open_building(page, gate.round_id)
    count(page, done, total)

    # The decoder itself, on real PNGs (segno): the browser's BarcodeDetector where it has one, else jsQR.
    payload = f"baogong:pickup:{gate.round_id}:{resident['pickup_code']}"
    decoded = page.evaluate("""async ([b64, forced]) => {
        const s = await import('/js/scan.js');
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const blob = new Blob([bytes], { type: 'image/png' });
        const engine = await s.engine();
        const viaJsQR = await s.decodeImage(blob, { engine: forced });
        const bitmap = await createImageBitmap(blob);
        const c = document.createElement('canvas');
        c.width = bitmap.width; c.height = bitmap.height;
        const g = c.getContext('2d');
        g.drawImage(bitmap, 0, 0);
        const fromImageData = await s.decodeImage(g.getImageData(0, 0, c.width, c.height), { engine: forced });
        const blank = new ImageData(200, 200);  // transparent: no QR in it
        return { engine, viaJsQR, fromImageData, blank: await s.decodeImage(blank, { engine: forced }),
                 parsed: s.parsePayload(viaJsQR), jsqrLoaded: typeof self.jsQR === 'function' };
    }""", [base64.b64encode(qr_png(payload)).decode(), "jsqr"])
    assert decoded["viaJsQR"] == payload and decoded["fromImageData"] == payload, decoded
    assert decoded["blank"] is None
    assert decoded["parsed"] == {"kind": "pickup", "round_id": gate.round_id, "code": resident["pickup_code"]}
    assert decoded["jsqrLoaded"]
    print("decoder engine in this browser:", decoded["engine"])
    if not page.evaluate("typeof BarcodeDetector === 'function'"):
        assert decoded["engine"] == "jsqr"  # no native detector (Linux Chromium): the vendored jsQR decodes

    # Through the screen: 「扫码」, then a photo of the resident's QR (no camera in headless Chromium).
    page.get_by_test_id("pk-scan").click()
    expect(page.get_by_test_id("sc-panel")).to_be_visible()
    no_overflow(page)
    page.screenshot(path=str(artifacts / "pickup-scanner-360.png"), full_page=True)
    page.get_by_test_id("sc-file").set_input_files(files=[{"name": "qr.png", "mimeType": "image/png",
                                                            "buffer": qr_png(payload)}])
    confirm_in_sheet(page, "10栋 1单元 1612")
    expect(page.get_by_test_id("sc-panel")).to_have_count(0)
    expect(row(page, resident["order_id"])).to_have_attribute("data-state", "collected")
    count(page, done + 1, total)

    # A bag label's QR: baogong:order:<order_id>.
    page.get_by_test_id("pk-scan").click()
    page.get_by_test_id("sc-file").set_input_files(files=[{"name": "label.png", "mimeType": "image/png",
                                                            "buffer": qr_png(f"baogong:order:{bag['order_id']}")}])
    confirm_in_sheet(page, "10栋 1单元 1712")
    expect(row(page, bag["order_id"])).to_have_attribute("data-state", "collected")
    count(page, done + 2, total)
    truth = gate.entries()
    assert truth[resident["order_id"]]["collected"] and truth[bag["order_id"]]["collected"]

    # Another round's pickup QR is refused in plain words, naming this round.
    page.get_by_test_id("pk-scan").click()
    page.get_by_test_id("sc-file").set_input_files(files=[{"name": "other.png", "mimeType": "image/png",
                                                            "buffer": qr_png(f"baogong:pickup:{info['round_id']}:123456")}])
    expect(page.get_by_test_id("error-message")).to_have_text(
        f"这是另一期团购的取货码，不是「{ROUND}」的。请居民打开这一期的取货码。")
    # Something that is not ours, and a picture with no QR at all.
    page.get_by_test_id("pk-scan").click()
    page.get_by_test_id("sc-file").set_input_files(files=[{"name": "x.png", "mimeType": "image/png",
                                                            "buffer": qr_png("https://example.com/")}])
    expect(page.get_by_test_id("error-message")).to_have_text(
        "这不是保供的取货码。请扫居民手机上的取货码，或袋子上的标签。")
    page.get_by_test_id("pk-scan").click()
    blank = io.BytesIO()
    segno.make("x").save(blank, kind="png", scale=1, border=0, dark="white")
    page.get_by_test_id("sc-file").set_input_files(files=[{"name": "blank.png", "mimeType": "image/png",
                                                            "buffer": blank.getvalue()}])
    expect(page.get_by_test_id("sc-status")).to_have_text("没认出二维码。请拍清楚一些，或者直接输入 6 位取货码。")
    page.get_by_test_id("sc-close").click()
    expect(page.get_by_test_id("sc-panel")).to_have_count(0)


@pytest.mark.browser
def test_two_helpers_mark_the_same_bag__both_see_it_collected__and_door_delivery(new_context, info, gate, artifacts):
    bag = gate.order("1812", "13900001812")
    special = gate.order("1912", "13900001912")
    roster = gate.call("GET", f"/api/communities/{info['community_id']}/roster?building={BUILDING}&room=1912", "liaison")
    flat_ref = next(e["flat_ref"] for e in roster.json()["households"] if e["room"] == "1912")
    r = gate.call("PUT", f"/api/communities/{info['community_id']}/households/{flat_ref}/special", "liaison",
                  {"category": "elderly_alone", "needs": "腿脚不便，送到门口"})
    assert r.status_code == 200, r.text
    done, total = gate.counts()
    door = gate.call("GET", f"/api/communities/{info['community_id']}/rounds/{gate.round_id}/door", "volunteer")
    assert door.status_code == 200, door.text
    door_done = sum(1 for e in door.json()["households"] if e["collected"])
    door_total = sum(1 for e in door.json()["households"] if e["paid"] or e["collected"])

    _, volunteer = phone(new_context)
    sign_in(volunteer, info)
    open_building(volunteer, gate.round_id)
    _, liaison = phone(new_context)
    sign_in(liaison, info, "liaison")
    open_building(liaison, gate.round_id)
    count(liaison, done, total)
    expect(row(liaison, special["order_id"]).get_by_test_id("pk-row-special")).to_have_text("送货上门")

    # The volunteer marks it; the liaison, whose list is older, marks it too: one record, both see 已取.
    row(volunteer, bag["order_id"]).get_by_test_id("pk-row-open").click()
    confirm_in_sheet(volunteer, "10栋 1单元 1812")
    expect(row(volunteer, bag["order_id"])).to_have_attribute("data-state", "collected")
    first = gate.entry(bag["order_id"])["picked_up"]
    row(liaison, bag["order_id"]).get_by_test_id("pk-row-open").click()
    confirm_in_sheet(liaison, "10栋 1单元 1812")
    expect(row(liaison, bag["order_id"])).to_have_attribute("data-state", "collected")
    expect(liaison.get_by_test_id("info-message")).to_contain_text("这户已经取过了")
    expect(liaison.get_by_test_id("info-message")).to_contain_text("其他工作人员登记")
    expect(row(liaison, bag["order_id"]).get_by_test_id("pk-undo")).to_have_count(0)  # not the liaison's mark
    count(liaison, done + 1, total)
    assert gate.entry(bag["order_id"])["picked_up"] == first

    # 送货上门: the special household, delivered at the door (method "door").
    volunteer.get_by_test_id("pk-nav-door").click()
    expect(volunteer.get_by_test_id("pk-title")).to_have_text("送货上门")
    door_row = row(volunteer, special["order_id"])
    expect(door_row).to_have_count(1)
    expect(door_row.get_by_test_id("pk-row-category")).to_have_text("独居老人")
    expect(door_row).to_contain_text("腿脚不便，送到门口")
    expect(door_row.get_by_test_id("pk-row-state")).to_have_text("待送")
    no_overflow(volunteer)
    volunteer.screenshot(path=str(artifacts / "pickup-door-360.png"), full_page=True)
    door_row.get_by_test_id("pk-row-open").click()
    confirm_in_sheet(volunteer, "10栋 1单元 1912", "确认已送到")
    expect(volunteer.get_by_test_id("success-message")).to_have_text("已登记送到：10栋 1单元 1912")
    expect(door_row).to_have_attribute("data-state", "collected")
    expect(door_row.get_by_test_id("pk-row-state")).to_contain_text("已送")
    count(volunteer, door_done + 1, door_total, "已送")
    assert gate.entry(special["order_id"])["picked_up"]["method"] == "door"
    volunteer.get_by_test_id("lang-toggle").click()
    expect(door_row.get_by_test_id("pk-row-category")).to_have_text("Elderly, living alone")
    expect(volunteer.get_by_test_id("pk-count")).to_contain_text(f"Delivered {door_done + 1} / {door_total}")
    no_overflow(volunteer)
