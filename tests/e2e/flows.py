"""What a resident does in the PWA, as steps the tests share. Locators are data-testids only.

Flats: each test registers its own flat so tests never share a household. The
concurrency tests use rooms <floor 1-39><door 01-04>, so every room here ends
in 08 and cannot collide with them.
"""
import csv
import io
import json
import re

from playwright.sync_api import Page, expect


def register(page: Page, join_url: str, building: str, room: str, phone: str, unit: str = "") -> dict:
    """Open the QR link, register the flat, land on the rounds page; returns the stored session."""
    page.goto(join_url)
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    fill_join_form(page, building, room, phone, unit)
    page.get_by_test_id("join-submit").click()
    expect(page).to_have_url(re.compile(r"#/rounds$"))
    expect(page.get_by_test_id("success-message")).to_have_text("登记成功！现在可以订购了。")
    return session(page)


def fill_join_form(page: Page, building: str, room: str, phone: str, unit: str = "") -> None:
    page.get_by_test_id("building").select_option(building)
    if unit:
        page.get_by_test_id("unit").select_option(unit)
    else:
        expect(page.get_by_test_id("unit")).to_be_hidden()
    page.get_by_test_id("room").fill(room)
    page.get_by_test_id("phone").fill(phone)


def session(page: Page) -> dict | None:
    return json.loads(page.evaluate("localStorage.getItem('baogong.session')") or "null")


def bundle_card(page: Page, round_id: str, bundle_name: str):
    """The card of one bundle of one round on the rounds page."""
    return (page.locator(f'[data-testid="round"][data-round-id="{round_id}"]')
            .get_by_test_id("bundle-card").filter(has=page.get_by_role("heading", name=bundle_name, exact=True)))


def choose(page: Page, round_id: str, bundle_name: str, qty: int = 1):
    card = bundle_card(page, round_id, bundle_name)
    for n in range(1, qty + 1):
        card.get_by_test_id("qty-plus").click()
        expect(card.get_by_test_id("qty-value")).to_have_text(str(n))
    return card


def packing_rows(api, round_id: str) -> list[dict]:
    """The supplier's packing list (CSV) of a round, one dict per order."""
    r = api.get(f"/api/rounds/{round_id}/exports/packing", "supplier", format="csv", status="all_live")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


# ---- households: a later phone of a flat waits for a member's approval ------------------------------

PENDING_DONE = "已登记，请等家人批准您的手机。"
WAITING = ("您登记的是 {flat}。这户已经有家人登记过，需要家人在保供里批准您的手机（或联系小区信息员）。"
           "批准后这里会自动显示订单。")
REMOVED = "这部手机已被移出这户，如需继续使用请重新扫码登记，并请家人批准。"


def masked(phone: str) -> str:
    """A phone as the API shows it to residents and staff: 13711121112 -> 137****1112."""
    return f"{phone[:3]}****{phone[-4:]}"


def register_pending(page: Page, join_url: str, building: str, room: str, phone: str, unit: str = "") -> dict:
    """Register a flat that already has a member: lands on 家人 (#/household), waiting for approval."""
    page.goto(join_url)
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    fill_join_form(page, building, room, phone, unit)
    page.get_by_test_id("join-submit").click()
    expect(page).to_have_url(re.compile(r"#/household$"))
    expect(page.get_by_test_id("info-message")).to_have_text(PENDING_DONE)
    flat = " ".join(p for p in (building, unit, room) if p)
    expect(page.get_by_test_id("waiting-text")).to_have_text(WAITING.format(flat=flat))
    return session(page)


def place_order(page: Page, round_id: str, bundle_name: str, qty: int = 1) -> str:
    """From the rounds page, order one bundle; returns the pickup code shown in my orders."""
    page.get_by_test_id("nav-order").click()
    choose(page, round_id, bundle_name, qty)
    page.get_by_test_id("order-submit").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    code = page.get_by_test_id("order-card").first.get_by_test_id("pickup-code")
    expect(code).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    return code.get_attribute("data-code")


def approve(page: Page, phone: str, room: str) -> None:
    """As a member: open 家人 and approve the request of this phone."""
    page.get_by_test_id("nav-household").click()
    request = page.get_by_test_id("join-request").filter(has_text=masked(phone))
    expect(request.get_by_test_id("request-text")).to_have_text(f"{room} 有新的加入请求：{masked(phone)}")
    request.get_by_test_id("request-approve").click()
    expect(page.get_by_test_id("success-message")).to_contain_text(f"已批准 {masked(phone)}")
    expect(page.get_by_test_id("join-request").filter(has_text=masked(phone))).to_have_count(0)
