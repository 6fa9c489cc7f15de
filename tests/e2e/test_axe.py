"""axe-core (vendored 4.10.3, tests/e2e/axe.py) on every resident and volunteer screen, at 360 px:
0 serious or critical violations on each, in Chinese and in English.

The screens are reached as a person reaches them, signed in where they need it, and checked in the
states that change what is on them (an empty form and one showing its errors, a cart, a placed order
and its 我已付款 form, a claimed and a paid order with a notice, a pending phone waiting, a member
with a request to approve, the volunteer's building list, its confirm sheet, the scanner panel, the
door list, the progress board...).

The module runs its own `make dev` stack (its 货已到 reaches every building's residents for 7 days,
which the other modules' residents must not see). Set-up goes through the API: one round of the
module's own in the demo community (closed at the end), each test registers its own flats. Rooms end in 19 (residents' tests use 08, payments 06, the
liaison's 07, pickup 12, the concurrency tests 01-04).
"""
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.axe import AXE_VERSION, assert_no_serious_violations, run_axe, serious_violations
from tests.e2e.conftest import Api
from tests.e2e.flows import choose, fill_join_form, masked, register, session
from tests.stackrunner import DevStack

WIDTH = 360
BEIJING = timezone(timedelta(hours=8))
BUNDLE = "无障碍检查套餐"
# The other #/staff/... routes of app.js (the ones without ids in them), as a volunteer opens them.
OTHER_STAFF_SCREENS = ("special", "community", "unpaid", "slots", "rounds", "rounds/new", "gate", "site",
                       "deliveries", "deliveries/new", "review", "gate-log", "supply", "market", "demand", "ledger")


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory):
    """This module's own `make dev` stack: it sends 货已到 (every building's residents see it for 7 days), which the other modules must never see."""
    with DevStack(tmp_path_factory.mktemp("axestack")) as stack:
        yield stack


def iso(dt: datetime) -> str:
    return dt.astimezone(BEIJING).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def round_id(dev_stack):
    """A round of this module's own, open now, one bundle; closed at the end."""
    api = Api(dev_stack.info)
    now = datetime.now(BEIJING)
    body = {
        "name": f"无障碍 {uuid.uuid4().hex[:4]}", "community_ids": [dev_stack.info["community_id"]],
        "opens_at": iso(now - timedelta(hours=1)), "closes_at": iso(now + timedelta(days=1)),
        "payment_deadline": iso(now + timedelta(days=1, hours=6)), "payment_qr": "wxp://f2f0-e2e-axe",
        "bundles": [{"name": BUNDLE, "items": [{"name": "大米", "qty": "5", "unit": "kg"}], "price_fen": 4500,
                     "stock": 40, "per_household_limit": 2}],
    }
    rid = api.post("/api/rounds", body, "supplier").json()["round_id"]
    yield rid
    requests.post(f"{api.base}/api/rounds/{rid}/close", json={}, timeout=30,
                  headers={"Authorization": f"Bearer {dev_stack.info['tokens']['supplier']}"})


def phone(new_context):
    context = new_context(WIDTH)
    return context.pages[0] if context.pages else context.new_page()


def bearer(token: str, **more) -> dict:
    return {"Authorization": f"Bearer {token}", **more}


class Checked:
    """Runs axe on each screen and keeps the list, so a test can say which screens it covered."""

    def __init__(self):
        self.screens: list[str] = []
        self.started = time.monotonic()

    def __call__(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        results = assert_no_serious_violations(page, name)
        self.screens.append(name)
        milder = [f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in results["violations"]]
        print(f"{time.monotonic() - self.started:7.1f}s  axe: {name}" + (f"; milder: {', '.join(milder)}" if milder else ""))


# ---- the helper itself -------------------------------------------------------------------------

@pytest.mark.browser
def test_axe_helper__finds_serious_violations_on_a_page_that_has_them(new_context, info):
    """The check can fail: a nameless button, an unlabelled input and an image without alt are reported."""
    page = phone(new_context)
    page.goto(f"{info['base_url']}/")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    assert not serious_violations(run_axe(page))
    page.evaluate("""() => {
        const m = document.getElementById('main');
        const b = document.createElement('button'); b.id = 'nameless'; m.appendChild(b);
        const i = document.createElement('input'); i.type = 'text'; i.id = 'unlabelled'; m.appendChild(i);
        const g = document.createElement('img'); g.src = 'icons/icon-192.png'; g.id = 'no-alt'; m.appendChild(g);
    }""")
    found = {v["id"]: v for v in serious_violations(run_axe(page))}
    assert {"button-name", "label", "image-alt"} <= set(found), sorted(found)
    assert found["button-name"]["impact"] == "critical"
    assert found["button-name"]["nodes"][0]["target"] == ["#nameless"]
    with pytest.raises(AssertionError, match=r"button-name \(critical\)[\s\S]*#nameless"):
        assert_no_serious_violations(page, "a page with a nameless button")
    assert page.evaluate("() => window.axe.version") == AXE_VERSION


# ---- residents -----------------------------------------------------------------------------------

@pytest.mark.browser
def test_axe__every_resident_screen__has_no_serious_or_critical_violation(new_context, info, api, round_id):
    check = Checked()
    base = info["base_url"]

    # The start page (no link yet) and the join page: empty, then refused with its field errors.
    page = phone(new_context)
    page.goto(f"{base}/")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    check(page, "start page")
    page.goto(info["join_url"])
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    check(page, "join")
    page.get_by_test_id("join-submit").click()
    expect(page.locator(".field-error:visible").first).to_be_visible()
    check(page, "join: errors")
    fill_join_form(page, "3栋", "1119", "1390000119", unit="1单元")  # 10 digits: refused
    page.get_by_test_id("join-submit").click()
    expect(page.get_by_test_id("field-error-phone")).to_be_visible()
    check(page, "join: bad phone")

    # Registered: the rounds, a bundle in the cart, ordered.
    register(page, info["join_url"], "3栋", "1119", "13900001119", unit="1单元")
    card = page.locator(f'[data-testid="round"][data-round-id="{round_id}"]')
    expect(card).to_be_visible()
    check(page, "rounds")
    choose(page, round_id, BUNDLE, 1)
    expect(page.get_by_test_id("order-submit")).to_be_visible()
    check(page, "rounds: cart")
    page.get_by_test_id("order-submit").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    order = page.get_by_test_id("order-card").filter(has_text=BUNDLE).first
    expect(order.get_by_test_id("pay")).to_be_visible()
    check(page, "my orders: placed, to pay")

    # Pay: the 我已付款 form, a bad reference, then claimed.
    order.get_by_test_id("pay-claim").click()
    expect(order.get_by_test_id("pay-reference")).to_be_visible()
    check(page, "pay: claim form")
    order.get_by_test_id("pay-reference").fill("12")
    order.get_by_test_id("pay-claim-confirm").click()
    expect(order.get_by_test_id("pay-reference-error")).to_be_visible()
    check(page, "pay: claim form with an error")
    order.get_by_test_id("pay-reference").fill("4321")
    order.get_by_test_id("pay-claim-confirm").click()
    expect(order.get_by_test_id("pay-claimed")).to_be_visible()
    check(page, "my orders: payment claimed")

    # Paid (the supplier confirms), goods arrived (the liaison): the order with its code and the notice.
    mine = requests.get(f"{base}/api/orders/mine", headers=bearer(session(page)["token"]), timeout=30).json()
    order_id = next(o["order_id"] for o in mine["orders"] if o["round_id"] == round_id)
    api.post(f"/api/rounds/{round_id}/payments/confirm", {"order_ids": [order_id]}, "supplier", expect_status=200)
    api.post(f"/api/communities/{info['community_id']}/rounds/{round_id}/arrival", {"note": "北门取"}, "liaison")
    page.reload()
    expect(page.get_by_test_id("notice-banner")).to_be_visible()
    expect(order.get_by_test_id("pickup-code")).to_be_visible()
    check(page, "my orders: paid, pickup code, notice")

    # A second phone of the flat: pending, waiting on 家人 and on 订单.
    other = phone(new_context)
    other.goto(info["join_url"])
    expect(other.get_by_test_id("community-name")).to_be_visible()
    fill_join_form(other, "3栋", "1119", "13900002119", unit="1单元")
    other.get_by_test_id("join-submit").click()
    expect(other).to_have_url(re.compile(r"#/household$"))
    expect(other.get_by_test_id("waiting-text")).to_be_visible()
    check(other, "pending member: household, waiting")
    other.goto(f"{base}/#/orders")
    expect(other.get_by_test_id("orders-waiting")).to_be_visible()
    check(other, "pending member: orders, waiting")

    # The member: 家人 with the request to approve.
    page.get_by_test_id("nav-household").click()
    expect(page.get_by_test_id("join-request").filter(has_text=masked("13900002119"))).to_be_visible()
    check(page, "household: members and a request")

    # English, once over each screen.
    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check(page, "household (English)")
    page.get_by_test_id("nav-orders").click()
    expect(page.get_by_test_id("notice-banner")).to_be_visible()
    check(page, "my orders (English)")
    page.get_by_test_id("nav-order").click()
    expect(page.locator(f'[data-testid="round"][data-round-id="{round_id}"]')).to_be_visible()
    check(page, "rounds (English)")
    fresh = phone(new_context)
    fresh.goto(info["join_url"])
    expect(fresh.get_by_test_id("community-name")).to_be_visible()
    fresh.get_by_test_id("lang-toggle").click()
    expect(fresh.locator("html")).to_have_attribute("lang", "en")
    check(fresh, "join (English)")
    other.get_by_test_id("lang-toggle").click()
    check(other, "pending member: orders (English)")

    print("axe checked:", check.screens)
    assert len(check.screens) == 19


# ---- volunteers ----------------------------------------------------------------------------------

@pytest.mark.browser
def test_axe__every_volunteer_screen__has_no_serious_or_critical_violation(new_context, info, api, round_id):
    check = Checked()
    base = info["base_url"]
    bundle_id = api.bundle(round_id, BUNDLE)["bundle_id"]
    codes = []
    for room, ph, pay in (("1219", "13900001219", True), ("1319", "13900001319", False)):
        r = requests.post(f"{base}/api/join/{info['join_key']}/households", timeout=30,
                          json={"building": "1栋", "room": room, "phone": ph})
        assert r.status_code == 201, r.text
        r = requests.post(f"{base}/api/orders", timeout=30,
                          json={"round_id": round_id, "lines": [{"bundle_id": bundle_id, "qty": 1}]},
                          headers=bearer(r.json()["token"], **{"Idempotency-Key": str(uuid.uuid4())}))
        assert r.status_code == 201, r.text
        if pay:
            api.post(f"/api/rounds/{round_id}/payments/confirm", {"order_ids": [r.json()["order_id"]]}, "supplier",
                     expect_status=200)
        codes.append(r.json()["pickup_code"])

    page = phone(new_context)
    page.goto(f"{base}/#/signin/{info['tokens']['volunteer']}")
    expect(page.get_by_test_id("staff-role")).to_have_text("志愿者")
    check(page, "volunteer: signed in, doors")

    page.get_by_test_id("staff-pickup").click()
    expect(page.get_by_test_id("pk-building").first).to_be_visible()
    check(page, "pickup: rounds and buildings")

    page.goto(f"{base}/#/staff/pickup/{round_id}/{'1栋'}")
    expect(page.get_by_test_id("pk-row")).to_have_count(2)
    check(page, "pickup: building list")

    # A code typed in: the confirm sheet; an unpaid one: the refusal; confirmed: the row with undo.
    page.get_by_test_id("pk-code").fill(codes[1])
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("pk-sheet")).to_be_visible()
    check(page, "pickup: sheet, not paid")
    page.get_by_test_id("pk-sheet-close").first.click()
    expect(page.get_by_test_id("pk-sheet")).to_have_count(0)
    page.get_by_test_id("pk-code").fill("12")
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("pk-code-error")).to_be_visible()
    check(page, "pickup: code error")
    page.get_by_test_id("pk-code").fill(codes[0])
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("pk-confirm")).to_be_visible()
    check(page, "pickup: confirm sheet")
    page.get_by_test_id("pk-confirm").click()
    expect(page.get_by_test_id("pk-undo")).to_be_visible()
    check(page, "pickup: collected, undo")

    # The scanner (no camera here: its panel says so and offers a photo).
    page.get_by_test_id("pk-scan").click()
    expect(page.get_by_test_id("sc-panel")).to_be_visible()
    expect(page.get_by_test_id("sc-status")).not_to_be_empty()
    check(page, "pickup: scanner")
    page.get_by_test_id("sc-close").click()
    expect(page.get_by_test_id("sc-panel")).to_have_count(0)

    page.goto(f"{base}/#/staff/pickup/{round_id}/{'1栋'}/door")
    expect(page.get_by_test_id("pk-title")).to_be_visible()
    check(page, "pickup: door deliveries")

    page.goto(f"{base}/#/staff/progress")
    expect(page.get_by_test_id("progress-title")).to_be_visible()
    expect(page.get_by_test_id("progress-age")).not_to_be_empty()
    check(page, "progress board")

    # A liaison's screen a volunteer may open: it says it is not theirs.
    page.goto(f"{base}/#/staff/roster")
    expect(page.get_by_test_id("console-not-for-role")).to_be_visible()
    expect(page.locator("#main h1")).to_have_text("不是您的页面")  # a page with a heading, as axe's best practice asks
    check(page, "liaison console, opened by a volunteer")

    # Every other staff screen a volunteer's link can reach: each says whose it is, or what went wrong.
    for path in OTHER_STAFF_SCREENS:
        page.goto(f"{base}/#/staff/{path}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("#main .loading")).to_have_count(0)
        expect(page.locator('#main h1, #main .msg, #messages p').first).to_be_visible()
        check(page, f"#/staff/{path}, opened by a volunteer")

    # English.
    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{base}/#/staff/pickup/{round_id}/{'1栋'}")
    expect(page.get_by_test_id("pk-row")).to_have_count(2)
    check(page, "pickup: building list (English)")
    page.goto(f"{base}/#/staff")
    expect(page.get_by_test_id("staff-title")).to_have_text("Signed in")
    check(page, "volunteer: doors (English)")
    page.goto(f"{base}/#/staff/progress")
    expect(page.get_by_test_id("progress-title")).to_have_text("Pickup progress")
    expect(page.get_by_test_id("progress-age")).not_to_be_empty()
    check(page, "progress board (English)")

    print("axe checked:", check.screens)
    assert len(check.screens) == 14 + len(OTHER_STAFF_SCREENS)
