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
    r = api.get(f"/api/rounds/{round_id}/exports/packing", "supplier", format="csv")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
