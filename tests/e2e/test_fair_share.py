"""Fair share (每户每3天只能下一单) in the liaison's console on a 360 px phone: letting one household
order again this round, and the community's setting.

Flats: every test has its own room in 10栋 1单元 ending in 05 (payments use 06, the liaison's tests 07,
residents' 08), so no two tests share a household and its fair-share slot.
"""
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.flows import choose
from tests.e2e.test_liaison import find_flat, join, no_overflow, staff_page


def resident_order(info: dict, token: str, round_id: str, bundle_id: str, key: str) -> requests.Response:
    return requests.post(f"{info['base_url']}/api/orders",
                         json={"round_id": round_id, "lines": [{"bundle_id": bundle_id, "qty": 1}]},
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}, timeout=30)


@pytest.mark.browser
def test_liaison__exempts_a_household_and_its_second_order_goes_through(new_context, info, api, artifacts):
    round_id = info["round_id"]
    label = "10栋 1单元 1105"
    resident = join(info, "10栋", "1105", "13900001105", unit="1单元")
    veg = api.bundle(round_id, "蔬菜套餐")["bundle_id"]

    first = resident_order(info, resident["token"], round_id, veg, "fair-1105-first")
    assert first.status_code == 201, first.text
    second = resident_order(info, resident["token"], round_id, veg, "fair-1105-second")
    assert second.status_code == 422, second.text
    assert second.json()["error"]["code"] == "fair_share", second.text

    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    find_flat(page, "1105", label).click()
    expect(page.get_by_test_id("hh-title")).to_have_text(label)
    fair = page.get_by_test_id("hh-fair")
    expect(fair.get_by_test_id("hh-exempt-what")).to_have_text("这户本期可以不受「每户每3天一单」的限制")
    expect(fair.get_by_test_id("hh-exempt-round")).to_have_text("本期：第1期 保供团购")
    expect(fair.get_by_test_id("hh-exempt")).to_have_text("本期允许再下一单")
    expect(fair.get_by_test_id("hh-exempt")).to_be_enabled()

    # An assisted order is refused by the same rule; the refusal leads back to the button.
    page.get_by_test_id("hh-assist").click()
    choose(page, round_id, "蔬菜套餐", 1)
    page.get_by_test_id("assist-submit").click()
    expect(page.get_by_test_id("assist-error")).to_have_text(re.compile(r"^没有下单成功：每户每段时间只能下一单"))
    no_overflow(page)
    page.screenshot(path=str(artifacts / "fair-share-assist-refused-360.png"))
    page.get_by_test_id("assist-exempt-link").click()
    expect(page.get_by_test_id("hh-title")).to_have_text(label)
    expect(page.locator("#hh-fair-title")).to_be_focused()
    no_overflow(page)
    fair.screenshot(path=str(artifacts / "fair-share-household-360.png"))

    fair.get_by_test_id("hh-exempt").click()
    confirm = page.get_by_test_id("hh-exempt-confirm")
    expect(confirm).to_contain_text(f"允许 {label} 在「第1期 保供团购」再下一单吗？")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "fair-share-household-confirm-360.png"), full_page=True)
    page.get_by_test_id("hh-exempt-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_have_text(f"已允许：{label} 本期可以再下一单")
    expect(fair.get_by_test_id("hh-exempt-done")).to_have_text("这户在「第1期 保供团购」可以再下一单了。")
    expect(fair.get_by_test_id("hh-exempt")).to_have_count(0)
    page.screenshot(path=str(artifacts / "fair-share-household-done-360.png"), full_page=True)

    again = resident_order(info, resident["token"], round_id, veg, "fair-1105-third")
    assert again.status_code == 201, again.text

    # English alongside.
    page.get_by_test_id("lang-toggle").click()
    expect(fair.get_by_test_id("hh-exempt-what")).to_have_text(
        "This household is let off the “one order every 3 days” rule this round")
    no_overflow(page)


@pytest.mark.browser
def test_liaison__changes_the_fair_share_setting(new_context, info, api, artifacts):
    cid = info["community_id"]
    before = api.get(f"/api/communities/{cid}", "liaison").json()["settings"]["fair_share_days"]
    page = staff_page(new_context, info)
    try:
        page.goto(f"{info['base_url']}/#/staff/community")
        days = page.get_by_test_id("settings-fair-share")
        expect(days).to_have_value(str(before))
        expect(page.get_by_test_id("cm-fair")).to_contain_text("每户几天只能下一单")
        expect(page.get_by_test_id("cm-fair")).to_contain_text("填 0 表示不限制")

        # Out of range: the server's own field message, under the field.
        days.fill("31")
        page.get_by_test_id("fair-save").click()
        expect(page.get_by_test_id("fair-fair_share_days-error")).to_contain_text("应在 0 到 30 之间")
        assert api.get(f"/api/communities/{cid}", "liaison").json()["settings"]["fair_share_days"] == before
        page.get_by_test_id("cm-fair").screenshot(path=str(artifacts / "fair-share-community-refused-360.png"))

        days.fill("5")
        page.get_by_test_id("fair-save").click()
        expect(page.get_by_test_id("success-message")).to_have_text("已保存：每户每 5 天只能下一单")
        expect(page.get_by_test_id("fair-fair_share_days-error")).to_be_hidden()
        assert api.get(f"/api/communities/{cid}", "liaison").json()["settings"]["fair_share_days"] == 5
        no_overflow(page)

        page.reload()
        expect(page.get_by_test_id("settings-fair-share")).to_have_value("5")
        page.get_by_test_id("cm-fair").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "fair-share-community-360.png"), full_page=True)
    finally:
        # Other tests share the dev stack: put the rule back as they know it.
        r = requests.patch(f"{info['base_url']}/api/communities/{cid}/settings", json={"fair_share_days": before},
                           headers={"Authorization": f"Bearer {info['tokens']['liaison']}"}, timeout=30)
        assert r.status_code == 200, r.text
