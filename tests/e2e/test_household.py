"""Households are private: the first phone of a flat is its member; a later phone waits until a member
approves it, and sees nothing of the flat (orders, pickup codes) until then. A member removes a lost
phone, whose next load says so and signs it out. On 360 px phones, each phone its own browser.

Every test has its own flat in 10栋 2单元 (rooms 5x08, see flows.py) and its own phone numbers.
"""
import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.flows import (REMOVED, WAITING, approve, masked, place_order, register, register_pending,
                             session)

BUNDLE = "蔬菜套餐"
BUILDING, UNIT = "10栋", "2单元"


def phone_page(new_context):
    context = new_context(360)
    return context.pages[0] if context.pages else context.new_page()


def requests_of(page, method: str, path_re: str) -> list[str]:
    """Every request of this method whose path matches, made by the page from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url)
            if r.method == method and re.search(path_re, r.url.split("?")[0]) else None)
    return seen


def outbox_keys(page) -> list[str]:
    return page.evaluate("""() => import('/js/outbox.js').then((o) => o.list()).then((l) => l.map((e) => e.key))""")


def no_overflow(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.browser
def test_second_phone__waits_for_approval__then_sees_the_order(new_context, info, artifacts):
    room, phone_a, phone_b = "5108", "13912345801", "13711121112"
    a = phone_page(new_context)
    register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    code = place_order(a, info["round_id"], BUNDLE)

    # Phone B registers the same flat: it waits, and sees neither the order nor its pickup code.
    b = phone_page(new_context)
    s = register_pending(b, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_b)
    assert s["membership"] == "pending" and s["member_id"]
    joins = requests_of(b, "POST", r"/api/join/")
    b.evaluate("document.fonts.ready")
    b.screenshot(path=str(artifacts / "household-waiting-zh.png"))
    no_overflow(b)
    b.get_by_test_id("nav-orders").click()
    expect(b.get_by_test_id("orders-waiting")).to_be_visible()
    expect(b.get_by_test_id("orders-waiting").get_by_test_id("waiting-text")).to_have_text(
        WAITING.format(flat=f"{BUILDING} {UNIT} {room}"))
    expect(b.get_by_test_id("order-card")).to_have_count(0)
    expect(b.get_by_test_id("pickup-code")).to_have_count(0)
    assert code not in b.locator("body").inner_text()
    # Nor does the API give it to B's token.
    r = requests.get(info["base_url"] + "/api/orders/mine", headers={"Authorization": f"Bearer {s['token']}"}, timeout=30)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_a_member"), r.text
    b.get_by_test_id("nav-household").click()
    expect(b.get_by_test_id("household-waiting")).to_be_visible()

    # A opens 家人 (the badge counts the request) and approves B.
    a.get_by_test_id("nav-order").click()
    expect(a.get_by_test_id("requests-banner")).to_be_visible()
    expect(a.get_by_test_id("nav-household-badge")).to_have_text("1")
    a.get_by_test_id("nav-household").click()
    expect(a.get_by_test_id("household-flat")).to_have_text(f"{BUILDING} {UNIT} {room}")
    expect(a.get_by_test_id("join-request").get_by_test_id("request-text")).to_have_text(
        f"{room} 有新的加入请求：{masked(phone_b)}")
    a.evaluate("document.fonts.ready")
    a.screenshot(path=str(artifacts / "household-request-zh.png"), full_page=True)
    no_overflow(a)
    approve(a, phone_b, room)
    expect(a.get_by_test_id("member")).to_have_count(2)
    expect(a.get_by_test_id("member").filter(has=a.get_by_test_id("member-me"))).to_contain_text(masked(phone_a))
    expect(a.get_by_test_id("nav-household-badge")).to_have_count(0)

    # B, without registering again, is told when it comes back to the app, and sees A's order and code.
    b.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(b).to_have_url(re.compile(r"#/orders$"))
    expect(b.get_by_test_id("success-message")).to_have_text("家人已批准您的手机！现在可以订购，也能看到这户的订单了。")
    expect(b.get_by_test_id("order-card")).to_have_count(1)
    expect(b.get_by_test_id("pickup-code")).to_have_attribute("data-code", code)
    assert joins == []
    assert session(b)["membership"] == "member"
    b.screenshot(path=str(artifacts / "household-approved-zh.png"))


@pytest.mark.browser
def test_member_removes_a_phone__its_next_load_says_so_and_signs_it_out(new_context, info, artifacts):
    room, phone_a, phone_b = "5208", "13912345802", "13711122208"
    a = phone_page(new_context)
    register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    b = phone_page(new_context)
    register_pending(b, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_b)
    approve(a, phone_b, room)
    b.get_by_test_id("household-refresh").click()
    expect(b).to_have_url(re.compile(r"#/orders$"))
    expect(b.get_by_test_id("success-message")).to_contain_text("家人已批准")

    # A removes B (a lost phone), after an in-page confirmation.
    row = a.get_by_test_id("member").filter(has_text=masked(phone_b))
    row.get_by_test_id("member-remove").click()
    expect(row.get_by_test_id("member-remove-question")).to_have_text(f"确定把 {masked(phone_b)} 移出这户吗？")
    a.screenshot(path=str(artifacts / "household-remove-ask-zh.png"), full_page=True)
    no_overflow(a)
    row.get_by_test_id("member-remove-keep").click()
    expect(row.get_by_test_id("member-remove-question")).to_have_count(0)
    expect(a.get_by_test_id("member")).to_have_count(2)
    row.get_by_test_id("member-remove").click()
    row.get_by_test_id("member-remove-confirm").click()
    expect(a.get_by_test_id("success-message")).to_have_text(f"已把 {masked(phone_b)} 移出这户。")
    expect(a.get_by_test_id("member")).to_have_count(1)
    expect(a.get_by_test_id("member-me")).to_be_visible()

    # B's next load: told it was removed, and signed out.
    b.reload()
    expect(b.get_by_test_id("error-message")).to_have_text(REMOVED)
    expect(b.get_by_test_id("start-message")).to_be_visible()
    expect(b.get_by_test_id("nav-orders")).to_have_count(0)
    assert session(b) is None
    assert b.evaluate("localStorage.getItem('baogong.cache.orders')") is None
    b.screenshot(path=str(artifacts / "household-removed-zh.png"))


@pytest.mark.browser
def test_pending_phone__cannot_check_out(new_context, info, artifacts):
    room, phone_a, phone_b = "5308", "13912345803", "13711125308"
    a = phone_page(new_context)
    register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    b = phone_page(new_context)
    register_pending(b, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_b)
    order_posts = requests_of(b, "POST", r"/api/orders")

    b.get_by_test_id("nav-order").click()
    expect(b.get_by_test_id("waiting-banner")).to_have_text(re.compile("您的手机还在等家人批准"))
    demo = b.locator(f'[data-testid="round"][data-round-id="{info["round_id"]}"]')
    expect(demo.get_by_test_id("bundle-card")).to_have_count(3)  # may look…
    for plus in demo.get_by_test_id("qty-plus").all():
        expect(plus).to_be_disabled()
    submit = b.get_by_test_id("order-submit")
    expect(submit).to_be_disabled()  # …not order
    expect(submit).to_have_text("家人批准后才能下单")
    b.screenshot(path=str(artifacts / "household-rounds-waiting-zh.png"))
    no_overflow(b)
    submit.dispatch_event("click")  # even a click that gets through does nothing
    b.wait_for_timeout(500)
    assert order_posts == []
    assert outbox_keys(b) == []
    expect(b.get_by_test_id("order-total")).to_have_text("¥0.00")


@pytest.mark.browser
def test_member_rejects_a_request_and_leaves__in_english_too(new_context, info, artifacts):
    room, phone_a, phone_b = "5408", "13912345804", "13711125408"
    a = phone_page(new_context)
    register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    b = phone_page(new_context)
    register_pending(b, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_b)

    a.get_by_test_id("nav-household").click()
    request = a.get_by_test_id("join-request")
    expect(request).to_have_count(1)
    a.get_by_test_id("lang-toggle").click()
    expect(request.get_by_test_id("request-text")).to_have_text(f"{room} has a new request to join: {masked(phone_b)}")
    expect(request.get_by_test_id("request-reject")).to_have_text("Reject")
    a.screenshot(path=str(artifacts / "household-request-en.png"), full_page=True)
    no_overflow(a)
    a.get_by_test_id("lang-toggle").click()
    request.get_by_test_id("request-reject").click()
    expect(a.get_by_test_id("success-message")).to_have_text(f"已拒绝 {masked(phone_b)} 的加入请求。")
    expect(a.get_by_test_id("join-request")).to_have_count(0)
    expect(a.get_by_test_id("member")).to_have_count(1)

    # The refused phone, left alone on its waiting page, learns it at its next check (every ~15 s)
    # and is signed out.
    expect(b.get_by_test_id("error-message")).to_have_text(REMOVED, timeout=25_000)
    expect(b.get_by_test_id("start-message")).to_be_visible()
    assert session(b) is None

    # A leaves the flat (confirmed in the page): signed out too.
    a.get_by_test_id("household-leave").click()
    expect(a.get_by_test_id("household-leave-question")).to_have_text("确定让这部手机退出这户吗？")
    a.get_by_test_id("household-leave-confirm").click()
    expect(a.get_by_test_id("success-message")).to_have_text("这部手机已退出这户。")
    expect(a.get_by_test_id("start-message")).to_be_visible()
    assert session(a) is None


@pytest.mark.browser
def test_join_page__shows_the_distribution_point_and_the_information_officer(new_context, info, api, artifacts):
    page = phone_page(new_context)
    community = api.get(f"/api/join/{info['join_key']}").json()
    page.goto(info["join_url"])
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    point, officer = community.get("distribution_point"), community.get("info_officer")
    assert point or officer, "the demo community has a distribution point and an information officer"
    if point:
        expect(page.get_by_test_id("distribution-point")).to_contain_text(f"发放点：{point['name']}")
        if point.get("note"):
            expect(page.get_by_test_id("distribution-point-note")).to_have_text(point["note"])
        expect(page.get_by_test_id("pickup-points")).to_have_count(0)  # the one distribution point replaces them
    if officer:
        expect(page.get_by_test_id("info-officer")).to_have_text(f"小区信息员：{officer['name']}")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(artifacts / "join-facts-zh.png"))
    no_overflow(page)


@pytest.mark.browser
def test_assisted_order__shows_ordered_for_you_by_the_community(new_context, info, api):
    room, phone_a = "5508", "13912345805"
    a = phone_page(new_context)
    register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    roster = api.get(f"/api/communities/{info['community_id']}/roster", "liaison", building=BUILDING, room=room).json()
    entry = next(e for e in roster["households"] if (e["building"], e["unit"], e["room"]) == (BUILDING, UNIT, room))
    bundle = api.bundle(info["round_id"], BUNDLE)
    r = requests.post(f"{info['base_url']}/api/communities/{info['community_id']}/households/{entry['flat_ref']}/orders",
                      json={"round_id": info["round_id"], "lines": [{"bundle_id": bundle["bundle_id"], "qty": 1}]},
                      headers={"Authorization": f"Bearer {info['tokens']['liaison']}", "Idempotency-Key": str(uuid.uuid4())},
                      timeout=30)
    assert r.status_code == 201 and r.json()["assisted_by"], r.text

    a.get_by_test_id("nav-orders").click()
    card = a.get_by_test_id("order-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("order-assisted")).to_have_text("由社区代下单")
    expect(card.get_by_test_id("pickup-code")).to_have_attribute("data-code", r.json()["pickup_code"])
    a.get_by_test_id("lang-toggle").click()
    expect(card.get_by_test_id("order-assisted")).to_have_text("Ordered for you by the community")


@pytest.mark.browser
def test_pending_phone__withdraws_its_request_and_registers_again(new_context, info):
    room, phone_a, phone_b = "5908", "13912345901", "13711125901"
    a = phone_page(new_context)
    member = register(a, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_a)
    b = phone_page(new_context)
    register_pending(b, info["join_url"], building=BUILDING, unit=UNIT, room=room, phone=phone_b)

    b.get_by_test_id("household-rejoin").click()

    expect(b.get_by_test_id("join-form")).to_be_visible()
    assert session(b) is None
    # The member's flat no longer lists the request.
    r = requests.get(info["base_url"] + "/api/households/mine",
                     headers={"Authorization": f"Bearer {member['token']}"}, timeout=30)
    assert [m["status"] for m in r.json()["members"]] == ["member"], r.text
