"""Pickup day in the browser, on a 360 px phone: the liaison plans the slots building by building and
announces one, says 「货已到」, and watches the progress dashboard; the resident sees the notice for their
own building with the pickup code and its QR, 货已到 and 已取货 on the order, also offline.

Isolation: rounds of our own in the demo community, opened as the supplier and closed again at the end,
and residents in rooms ending in 13 (no other test uses them). The community lists only its 10 newest
rounds and other tests order in the demo round, so this module opens two: one for the slot plan's test,
whose plan and labels must be its own, and one shared by the others, which each look only at their own
flats and building (1栋 for the progress counts, 3栋, 10栋 and 2栋 for the notices). Set-up goes through
the API; what a person does goes through the page.
"""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import Api
from tests.e2e.flows import register, session

WIDTH = 360
BEIJING = timezone(timedelta(hours=8))
BUNDLE = "取货日测试套餐"


# ---- set-up through the API -------------------------------------------------------------------------

def iso(dt: datetime) -> str:
    return dt.astimezone(BEIJING).isoformat(timespec="seconds")


def beijing_input(dt: datetime) -> str:
    return dt.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def open_round(api, info) -> str:
    """A round of our own in the demo community, open now, one bundle."""
    now = datetime.now(BEIJING)
    body = {
        "name": f"取货日 {uuid.uuid4().hex[:4]}", "community_ids": [info["community_id"]],
        "opens_at": iso(now - timedelta(hours=1)), "closes_at": iso(now + timedelta(days=1)),
        "payment_deadline": iso(now + timedelta(days=1, hours=6)), "payment_qr": "wxp://f2f0-e2e-pickup-day",
        "bundles": [{"name": BUNDLE, "items": [{"name": "大米", "qty": "5", "unit": "kg"}], "price_fen": 5000,
                     "stock": 40, "per_household_limit": 1}],
    }
    return api.post("/api/rounds", body, "supplier").json()["round_id"]


def close_round(api, round_id: str) -> None:
    requests.post(f"{api.base}/api/rounds/{round_id}/close", json={},
                  headers={"Authorization": f"Bearer {api.info['tokens']['supplier']}"}, timeout=30)


@pytest.fixture(scope="module")
def shared_round(dev_stack):
    """One round for the tests that look only at their own flats (see the module's docstring)."""
    api = Api(dev_stack.info)
    round_id = open_round(api, dev_stack.info)
    yield round_id
    close_round(api, round_id)


def bearer(token: str, **more) -> dict:
    return {"Authorization": f"Bearer {token}", **more}


def join(info, building: str, room: str, phone: str, unit: str = "") -> str:
    """A household registered through the API; returns its resident token."""
    body = {"building": building, "room": room, "phone": phone, **({"unit": unit} if unit else {})}
    r = requests.post(f"{info['base_url']}/api/join/{info['join_key']}/households", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def order(api, round_id: str, token: str) -> dict:
    """One bag of the round's bundle, paid (the supplier confirms): {order_id, pickup_code}."""
    bundle_id = next(b["bundle_id"] for r in api.rounds() if r["round_id"] == round_id
                     for b in r["bundles"] if b["name"] == BUNDLE)
    r = requests.post(f"{api.base}/api/orders", json={"round_id": round_id, "lines": [{"bundle_id": bundle_id, "qty": 1}]},
                      headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}), timeout=30)
    assert r.status_code == 201, r.text
    placed = r.json()
    confirmed = api.post(f"/api/rounds/{round_id}/payments/confirm", {"order_ids": [placed["order_id"]]},
                         "supplier", expect_status=200).json()
    assert [o["order_id"] for o in confirmed["confirmed"]] == [placed["order_id"]], confirmed
    return placed


def mark_collected(api, order_id: str) -> None:
    r = requests.post(f"{api.base}/api/orders/{order_id}/pickup", json={"method": "self"},
                      headers=bearer(api.info["tokens"]["volunteer"], **{"Idempotency-Key": str(uuid.uuid4())}), timeout=30)
    assert r.status_code in (200, 201), r.text
    assert r.json()["status"] == "picked_up", r.text


def plan_of(api, round_id: str) -> dict:
    return api.get(f"/api/communities/{api.info['community_id']}/rounds/{round_id}/slots", "liaison").json()


# ---- the browser -----------------------------------------------------------------------------------------

def phone(new_context):
    context = new_context(WIDTH)
    return context, (context.pages[0] if context.pages else context.new_page())


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def resident_page(new_context, info, api, round_id, building, room, phone_no, unit=""):
    """A resident registered through the page, with a paid order in the round; on 我的订单."""
    context, page = phone(new_context)
    register(page, info["join_url"], building=building, room=room, phone=phone_no, unit=unit)
    placed = order(api, round_id, session(page)["token"])
    page.get_by_test_id("nav-orders").click()
    expect(page.get_by_test_id("order-card")).to_have_count(1)
    return context, page, placed


def liaison_slots(new_context, info, round_id):
    """The liaison on #/staff/slots with our round chosen."""
    context, page = phone(new_context)
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['liaison']}")
    page.get_by_test_id("staff-console-roster").click()
    page.get_by_test_id("console-nav-pickup").click()  # the console's 「取货」 tab
    expect(page).to_have_url(re.compile(r"#/staff/slots$"))
    pick = page.get_by_test_id("slots-round-pick")
    expect(pick).to_be_visible()
    if pick.input_value() != round_id:
        pick.select_option(round_id)
    expect(pick).to_have_value(round_id)
    return context, page


def generate(page, start: datetime, minutes: int = 20, households: int = 1) -> None:
    """Fill the generate form (opened first when the round has a plan already) and send it."""
    expect(page.get_by_test_id("slots-plan")).to_be_visible()
    if page.get_by_test_id("slots-regenerate").count():
        page.get_by_test_id("slots-regenerate").click()
        expect(page.get_by_test_id("gen-replaces")).to_be_visible()
    page.get_by_test_id("gen-start_at").fill(beijing_input(start))
    page.get_by_test_id("gen-minutes_per_slot").fill(str(minutes))
    page.get_by_test_id("gen-households_per_slot").fill(str(households))
    page.get_by_test_id("gen-submit").click()
    expect(page.get_by_test_id("success-message")).to_contain_text("已排好")


def slot_labels(page) -> list[str]:
    return page.get_by_test_id("slot-label").all_inner_texts()


def announce(page, index: int) -> None:
    slot = page.get_by_test_id("slot").nth(index)
    slot.get_by_test_id("slot-announce").click()
    slot.get_by_test_id("slot-announce-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_contain_text("已发出通知")
    expect(page.get_by_test_id("slot").nth(index)).to_have_attribute("data-announced", "true")


# ---- tests ---------------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_slots__liaison_plans_by_building_and_announces_one__only_that_buildings_resident_sees_it(new_context, info, api, artifacts):
    round_id = open_round(api, info)
    try:
        _, ann, a = resident_page(new_context, info, api, round_id, "1栋", "113", "13912341113")
        _, bob, _ = resident_page(new_context, info, api, round_id, "2栋", "213", "13912342213")
        order(api, round_id, join(info, "10栋", "1013", "13912341013", unit="1单元"))

        _, page = liaison_slots(new_context, info, round_id)
        expect(page.get_by_test_id("console-nav-pickup")).to_have_attribute("aria-current", "page")
        expect(page.get_by_test_id("slots-none")).to_be_visible()
        no_overflow(page)

        # Refused on the phone: too few minutes, under its input.
        page.get_by_test_id("gen-minutes_per_slot").fill("3")
        page.get_by_test_id("gen-submit").click()
        expect(page.get_by_test_id("gen-minutes_per_slot-error")).to_have_text("请填 5 到 240 之间的整数")
        # Refused by the API: its field message lands under the building order, in the page's language.
        page.route("**/slots/generate", lambda route: route.fulfill(status=400, content_type="application/json", body=(
            '{"error": {"code": "bad_input", "message": "请检查", "message_en": "Check the fields",'
            ' "fields": {"building_order": ["缺少有订单的楼栋：3栋 / Missing a building with orders: 3栋"]}}}')))
        page.get_by_test_id("gen-minutes_per_slot").fill("20")
        page.get_by_test_id("gen-submit").click()
        expect(page.get_by_test_id("gen-building_order-error")).to_have_text("缺少有订单的楼栋：3栋")
        expect(page.get_by_test_id("gen-minutes_per_slot-error")).to_be_hidden()
        page.get_by_test_id("lang-toggle").click()
        expect(page.get_by_test_id("gen-building_order-error")).to_have_text("Missing a building with orders: 3栋")
        page.get_by_test_id("lang-toggle").click()
        page.unroute("**/slots/generate")

        # 10栋 goes second: two taps on its ↑ (1栋, 2栋, 3栋, 10栋 -> 1栋, 10栋, 2栋, 3栋).
        ten = page.get_by_test_id("gen-building").filter(has_text="10栋")
        ten.get_by_test_id("gen-building-up").click()
        page.get_by_test_id("gen-building").filter(has_text="10栋").get_by_test_id("gen-building-up").click()
        assert page.get_by_test_id("gen-building").evaluate_all("els => els.map(e => e.dataset.building)") == \
            ["1栋", "10栋", "2栋", "3栋"]
        start = datetime.now(BEIJING).replace(second=0, microsecond=0) + timedelta(hours=2)
        generate(page, start, minutes=20, households=1)
        expect(page.get_by_test_id("slot")).to_have_count(3)
        labels = slot_labels(page)
        assert [lbl.split()[0] for lbl in labels] == ["1栋", "10栋", "2栋"], labels
        expect(page.get_by_test_id("slot-households").first).to_have_text("1 户")
        expect(page.get_by_test_id("slot-not-announced")).to_have_count(3)
        page.screenshot(path=str(artifacts / "pickup-slots-360.png"), full_page=True)
        no_overflow(page)
        page.get_by_test_id("lang-toggle").click()
        expect(page.get_by_test_id("slot-households").first).to_have_text("1 household")
        expect(page.get_by_test_id("console-nav-pickup")).to_have_text("Pickup")
        page.screenshot(path=str(artifacts / "pickup-slots-360-en.png"), full_page=True)
        no_overflow(page)
        page.get_by_test_id("lang-toggle").click()

        # Swap the first two and save: 10栋 now goes first, 1栋 right after, each 20 minutes.
        page.get_by_test_id("slot").nth(0).get_by_test_id("slot-swap").click()
        expect(page.get_by_test_id("slots-unsaved")).to_be_visible()
        expect(page.get_by_test_id("slot-announce").first).to_be_disabled()
        assert [lbl.split()[0] for lbl in slot_labels(page)] == ["10栋", "1栋", "2栋"]
        page.get_by_test_id("slots-save").click()
        expect(page.get_by_test_id("success-message")).to_have_text("安排已保存。")
        saved = plan_of(api, round_id)
        firsts = sorted(saved["slots"], key=lambda s: s["starts_at"])
        assert [s["label"].split()[0] for s in firsts] == ["10栋", "1栋", "2栋"]
        assert firsts[0]["starts_at"].startswith(start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M"))

        # Someone else saves meanwhile: our save is refused (409) and the page shows theirs.
        r = requests.put(f"{api.base}/api/communities/{info['community_id']}/rounds/{round_id}/slots",
                         json={"version": saved["version"], "slots": [
                             {"slot_id": s["slot_id"], "starts_at": s["starts_at"], "ends_at": s["ends_at"], "groups": s["groups"]}
                             for s in firsts]}, headers=bearer(info["tokens"]["liaison"]), timeout=30)
        assert r.status_code == 200, r.text
        page.get_by_test_id("slot").nth(0).get_by_test_id("slot-swap").click()
        page.get_by_test_id("slots-save").click()
        expect(page.get_by_test_id("error-message")).to_contain_text("别人刚刚改过这份安排")
        expect(page.get_by_test_id("slots-unsaved")).to_have_count(0)
        assert [lbl.split()[0] for lbl in slot_labels(page)] == ["10栋", "1栋", "2栋"]

        # Announce 1栋's slot: its text for the group chat, with a copy button, names no phone.
        announce(page, 1)
        box = page.get_by_test_id("slot").nth(1).get_by_test_id("notice-copy")
        expect(box).to_have_count(1)
        text = box.get_by_test_id("notice-copy-text").input_value()
        assert text.startswith("【取货通知】1栋") and "北门配送点" in text, text
        assert not re.search(r"1\d{10}|\*\*\*\*", text), text
        box.get_by_test_id("notice-copy-copy").click()
        expect(box.get_by_test_id("notice-copy-copied")).not_to_be_empty()
        no_overflow(page)

        # 1栋 113 sees it (the next poll, here a reload): when, where, the code in large type and its QR.
        ann.reload()
        banner = ann.get_by_test_id("notice-banner")
        expect(banner).to_be_visible()
        expect(banner.get_by_test_id("notice-kind")).to_have_text("取货通知")
        slot_1 = firsts[1]
        expect(banner.get_by_test_id("notice-when")).to_contain_text(
            datetime.fromisoformat(slot_1["starts_at"].replace("Z", "+00:00")).astimezone(BEIJING).strftime("%H:%M"))
        expect(banner.get_by_test_id("notice-where")).to_contain_text("北门配送点")
        expect(banner.get_by_test_id("notice-code")).to_have_attribute("data-code", a["pickup_code"])
        expect(banner.get_by_test_id("notice-qr")).to_be_visible()
        expect(ann.get_by_test_id("pickup-slot-label")).to_contain_text("1栋")
        ann.screenshot(path=str(artifacts / "pickup-resident-notice-360.png"), full_page=True)
        no_overflow(ann)
        ann.get_by_test_id("lang-toggle").click()
        expect(banner.get_by_test_id("notice-kind")).to_have_text("Pickup notice")
        no_overflow(ann)
        ann.get_by_test_id("lang-toggle").click()
        # 2栋 213 does not: its slot was not announced.
        bob.reload()
        expect(bob.get_by_test_id("order-card")).to_have_count(1)
        expect(bob.get_by_test_id("notice-banner")).to_have_count(0)
    finally:
        close_round(api, round_id)


@pytest.mark.browser
def test_arrival__liaison_says_goods_arrived__it_shows_on_the_residents_order(new_context, info, api, shared_round):
    round_id = shared_round
    _, res, _ = resident_page(new_context, info, api, round_id, "3栋", "313", "13912343313", unit="1单元")
    expect(res.get_by_test_id("order-arrived")).to_have_count(0)
    _, page = liaison_slots(new_context, info, round_id)
    page.get_by_test_id("arrival-send").click()
    page.get_by_test_id("arrival-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_contain_text("已通知全小区货已到")
    expect(page.get_by_test_id("arrival-done")).to_contain_text("货已到")
    texts = page.get_by_test_id("arrival-notices").get_by_test_id("notice-copy-text")
    expect(texts).not_to_have_count(0)
    for text in (box.input_value() for box in texts.all()):
        assert "货已到" in text and not re.search(r"1\d{10}|\*\*\*\*", text), text  # flats and buildings, never phones
    no_overflow(page)
    # The resident's page brings it in on its own (the poll on coming back into view).
    res.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(res.get_by_test_id("order-arrived")).to_contain_text("货已到", timeout=20_000)
    expect(res.get_by_test_id("notice-banner")).to_have_attribute("data-kind", "arrival")
    expect(res.get_by_test_id("notice-kind")).to_have_text("货已到")
    no_overflow(res)


@pytest.mark.browser
def test_arrival__a_neighbour_with_no_order_in_that_round__is_not_called_down(new_context, info, api, shared_round):
    """货已到 goes to the whole building; only flats with a live order in that round see its banner."""
    _, mine, _ = resident_page(new_context, info, api, shared_round, "3栋", "314", "13912343314", unit="1单元")
    _, neighbour = phone(new_context)
    register(neighbour, info["join_url"], building="3栋", room="315", phone="13912343315", unit="1单元")
    neighbour.get_by_test_id("nav-orders").click()
    expect(neighbour.get_by_test_id("order-card")).to_have_count(0)
    api.post(f"/api/communities/{info['community_id']}/rounds/{shared_round}/arrival", {"note": "北门"}, "liaison")
    for page in (mine, neighbour):
        page.reload()
        expect(page.get_by_test_id("notice-area")).to_be_attached()
    expect(mine.get_by_test_id("notice-banner")).to_have_attribute("data-kind", "arrival")
    # Same building and the same poll: the notice reaches its cache. Drawn again from that cache (a reload
    # draws the saved notices before any poll answers), it shows no banner: no bag of that round is its.
    neighbour.wait_for_function(
        "rid => (JSON.parse(localStorage.getItem('baogong.cache.notices') || '{}').notices || [])"
        ".some(n => n.round_id === rid && n.kind === 'arrival')", arg=shared_round)
    neighbour.reload()
    expect(neighbour.get_by_test_id("notice-area")).to_be_attached()
    expect(neighbour.get_by_test_id("notice-banner")).to_have_count(0)


@pytest.mark.browser
def test_progress__counts_move_when_a_bag_is_collected(new_context, info, api, artifacts, shared_round):
    round_id = shared_round
    # 1栋 is this test's alone in the shared round: three paid bags, none collected.
    orders = [order(api, round_id, join(info, "1栋", room, ph)) for room, ph in (
        ("1113", "13912351113"), ("1213", "13912351213"), ("1313", "13912351313"))]
    _, page = phone(new_context)
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['volunteer']}")
    expect(page.get_by_test_id("staff-role")).to_be_visible()
    page.goto(f"{info['base_url']}/#/staff/progress")
    page.get_by_test_id("progress-round-pick").select_option(round_id)
    one = page.get_by_test_id("progress-building").filter(has_text="1栋")
    expect(one).to_have_attribute("data-total", "3")
    expect(one).to_have_attribute("data-collected", "0")
    expect(one).to_have_attribute("data-waiting", "3")
    totals = page.get_by_test_id("progress-totals")
    collected_before = int(totals.get_attribute("data-collected"))
    flats = page.get_by_test_id("progress-waiting-flat").filter(has_text="1栋")
    expect(flats).to_have_count(3)
    reminder = page.get_by_test_id("progress-reminder-text").input_value()
    assert "1栋1113" in reminder and "1栋1313" in reminder and not re.search(r"1\d{10}|\*\*\*\*", reminder), reminder

    # A volunteer at the gate marks one bag: the dashboard follows by itself (polled every ~10 s).
    mark_collected(api, orders[0]["order_id"])
    expect(one).to_have_attribute("data-collected", "1", timeout=25_000)
    expect(one).to_have_attribute("data-waiting", "2")
    expect(one.locator(".pg-bldg-n")).to_have_text("1/3")
    expect(totals).to_have_attribute("data-collected", str(collected_before + 1))
    expect(page.get_by_test_id("progress-total-collected")).to_have_attribute("data-n", str(collected_before + 1))
    expect(flats).to_have_count(2)
    assert "1栋1113" not in page.get_by_test_id("progress-reminder-text").input_value()
    page.screenshot(path=str(artifacts / "pickup-progress-360.png"), full_page=True)
    no_overflow(page)
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("progress-collected")).to_contain_text("bags collected")
    expect(page.get_by_test_id("progress-total-collected")).to_contain_text("Collected")
    no_overflow(page)


@pytest.mark.browser
def test_resident__reloaded_offline__still_sees_the_pickup_code_and_the_notice(new_context, info, api, shared_round):
    round_id = shared_round
    context, res, placed = resident_page(new_context, info, api, round_id, "10栋", "2013", "13912342013", unit="2单元")
    _, page = liaison_slots(new_context, info, round_id)
    generate(page, datetime.now(BEIJING) + timedelta(hours=3), minutes=30, households=50)
    announce(page, 0)

    res.reload()
    expect(res.get_by_test_id("notice-banner")).to_be_visible()
    expect(res.get_by_test_id("notice-qr")).to_be_visible()
    res.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    res.reload()
    expect(res.get_by_test_id("stale-notice")).to_be_visible()
    expect(res.get_by_test_id("orders-age")).to_contain_text("更新")
    expect(res.get_by_test_id("pickup-code")).to_have_attribute("data-code", placed["pickup_code"])
    banner = res.get_by_test_id("notice-banner")
    expect(banner.get_by_test_id("notice-kind")).to_have_text("取货通知")
    expect(banner.get_by_test_id("notice-code")).to_have_attribute("data-code", placed["pickup_code"])
    expect(banner.get_by_test_id("notice-age")).to_contain_text("更新")
    expect(banner.get_by_test_id("notice-qr")).to_be_visible()  # the generator comes from the shell cache
    no_overflow(res)
    context.set_offline(False)


@pytest.mark.browser
def test_resident__pickup_qr_decodes_to_the_code_a_volunteer_looks_up(new_context, info, api, artifacts, shared_round):
    round_id = shared_round
    _, res, placed = resident_page(new_context, info, api, round_id, "2栋", "2313", "13912342313")
    _, page = liaison_slots(new_context, info, round_id)
    generate(page, datetime.now(BEIJING) + timedelta(hours=4), minutes=15, households=10)
    announce(page, 0)
    res.reload()
    qr = res.get_by_test_id("notice-banner").get_by_test_id("notice-qr")
    expect(qr).to_have_attribute("data-ready", "true")
    shot = qr.screenshot(path=str(artifacts / "pickup-qr.png"))
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode], found
    text = found[0].text
    assert text == f"baogong:pickup:{round_id}:{placed['pickup_code']}", text

    _, _, rid, code = text.split(":")
    entry = api.get(f"/api/rounds/{rid}/pickup/{code}", "volunteer").json()
    assert entry["order_id"] == placed["order_id"], entry
    assert entry["flat_label"].replace(" ", "") == "2栋2313"
    assert entry["phone_masked"] == "139****2313"  # masked, as everywhere staff see phones
