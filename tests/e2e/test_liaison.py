"""The liaison's console on a 360 px phone: the roster, a household's phones, special households and
their check-ins, orders placed for a household (代下单), the community's settings.

Flats: every test has its own room ending in 07 (residents' tests use 08, the concurrency tests
01-04), so no two tests share a household.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.flows import bundle_card, choose

WIDTH = 360


# ---- steps the tests share ------------------------------------------------------------------------

def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def join(info: dict, building: str, room: str, phone: str, unit: str = "") -> dict:
    """A resident registers a flat through the join link's API; returns the reply (token, member_id…)."""
    body = {"building": building, "room": room, "phone": phone}
    if unit:
        body["unit"] = unit
    r = requests.post(f"{info['base_url']}/api/join/{info['join_key']}/households", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def resident_get(info: dict, token: str, path: str) -> dict:
    r = requests.get(info["base_url"] + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def staff_page(new_context, info: dict, role: str = "liaison"):
    """A 360 px phone signed in through the staff link."""
    context = new_context(WIDTH)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{info['base_url']}/#/signin/{info['tokens'][role]}")
    expect(page.get_by_test_id("staff-role")).to_be_visible()
    return page


def find_flat(page, room: str, label: str):
    """On the roster: search the room, return the single entry."""
    page.get_by_test_id("roster-room").fill(room)
    page.get_by_test_id("roster-search").click()
    entry = page.get_by_test_id("roster-entry").filter(has_text=label)
    expect(entry).to_have_count(1)
    return entry


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    # What sticks out, for the failure message: elements, and text that overflows its element.
    wide = page.evaluate(f"""() => {{
        const out = [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > {WIDTH})
            .map((e) => `${{e.tagName}}.${{e.className}} ${{e.getBoundingClientRect().right}}`);
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {{
            range.selectNodeContents(n);
            const r = range.getBoundingClientRect();
            if (r.right > {WIDTH}) out.push(`text ${{r.right}} ${{n.textContent.slice(0, 30)}} in ${{n.parentElement.className}}`);
        }}
        return out;
    }}""")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}: {wide}"


# ---- tests --------------------------------------------------------------------------------------

@pytest.mark.browser
def test_liaison__flags_a_household_records_a_check_in_and_places_an_assisted_order(new_context, info, api):
    round_id = info["round_id"]
    phone = "13900001107"
    resident = join(info, "3栋", "1107", phone, unit="2单元")
    label = "3栋 2单元 1107"

    page = staff_page(new_context, info)
    expect(page.get_by_test_id("staff-role")).to_have_text("社区联络人")
    page.get_by_test_id("staff-console-roster").click()
    expect(page.get_by_test_id("roster-title")).to_have_text("住户名册")
    expect(page.get_by_test_id("roster-round")).to_have_text("本期：第1期 保供团购")

    entry = find_flat(page, "1107", label)
    expect(entry.get_by_test_id("roster-entry-label")).to_have_text(label)
    expect(entry.get_by_test_id("roster-phone")).to_have_text(re.compile(re.escape(masked(phone)) + r"\s*已加入"))
    expect(entry.get_by_test_id("roster-order")).to_have_text("本期未下单")
    expect(entry.get_by_test_id("roster-special")).to_have_count(0)
    assert phone not in entry.inner_text()  # masked on the roster
    entry.click()

    # Household: flag it 独居老人.
    expect(page).to_have_url(re.compile(r"#/staff/households/B003\.U02\.R0*1107$"))
    flat_ref = page.get_by_test_id("household").get_attribute("data-flat-ref")
    expect(page.get_by_test_id("hh-title")).to_have_text(label)
    expect(page.get_by_test_id("hh-member-phone")).to_have_text(masked(phone))
    page.get_by_test_id("hh-flag-open").click()
    page.get_by_test_id("flag-category").select_option("elderly_alone")
    page.get_by_test_id("flag-contact_name").fill("张女士")
    page.get_by_test_id("flag-contact_phone").fill("13911112107")
    page.get_by_test_id("flag-needs").fill("送货上门")
    page.get_by_test_id("flag-submit").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已标记为特殊人群：独居老人")
    expect(page.get_by_test_id("hh-special-category")).to_have_text("独居老人")
    expect(page.get_by_test_id("hh-special-tag")).to_have_text("特殊人群 · 独居老人")
    expect(page.get_by_test_id("hh-last-check-in")).to_have_text("还没有了解过")

    # A phone check-in, then it is in the history (Beijing time).
    expect(page.get_by_test_id("ci-method-call")).to_be_checked()
    page.get_by_test_id("ci-outcome-ok").check()
    page.get_by_test_id("ci-notes").fill("身体还好，米够吃三天")
    page.get_by_test_id("ci-submit").click()
    expect(page.get_by_test_id("success-message")).to_have_text(f"已记录：{label} 电话 正常")
    first = page.get_by_test_id("ci-entry").first
    expect(page.get_by_test_id("ci-entry")).to_have_count(1)
    expect(first.get_by_test_id("ci-entry-outcome")).to_have_text("正常")
    expect(first.get_by_test_id("ci-entry-method")).to_contain_text("电话")
    expect(first.get_by_test_id("ci-entry-notes")).to_have_text("身体还好，米够吃三天")
    expect(first.get_by_test_id("ci-entry-time")).to_have_text(re.compile(r"^\d+月\d+日周. \d\d:\d\d$"))
    expect(page.get_by_test_id("hh-last-check-in")).not_to_have_text("还没有了解过")

    # On the special list: the call list, with whole numbers as tel: links; just checked, so not overdue.
    page.get_by_test_id("console-nav-special").click()
    expect(page.get_by_test_id("special-title")).to_have_text("特殊人群")
    card = page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')
    expect(card).to_be_visible()
    expect(card.get_by_test_id("special-category")).to_have_text("独居老人")
    expect(card).to_have_attribute("data-overdue", "false")
    expect(card.get_by_test_id("special-due")).to_have_text(re.compile(r"^还有 .+到期$"))
    expect(card.get_by_test_id("special-last")).to_have_text(re.compile(r"^上次了解："))
    expect(card.get_by_test_id("special-no-order")).to_have_text("还没下单")
    expect(card.locator(f'[data-testid="special-phone"][href="tel:{phone}"]')).to_have_count(1)
    # "Only overdue" hides it.
    page.get_by_test_id("special-overdue-toggle").check()
    expect(page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')).to_have_count(0)
    page.get_by_test_id("special-overdue-toggle").uncheck()
    card = page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')

    # The assisted order: 1 蔬菜套餐.
    stock_before = api.bundle(round_id, "蔬菜套餐")["stock_left"]
    card.get_by_test_id("special-flat").click()
    expect(page.get_by_test_id("hh-title")).to_have_text(label)
    page.get_by_test_id("hh-assist").click()
    expect(page).to_have_url(re.compile(r"/order$"))
    expect(page.get_by_test_id("assist-flat")).to_have_text(f"替 {label} 下单")
    expect(bundle_card(page, round_id, "蔬菜套餐").get_by_test_id("stock-left")).to_have_text(f"剩余 {stock_before} 份")
    choose(page, round_id, "蔬菜套餐", 1)
    expect(page.get_by_test_id("assist-total")).to_have_text("¥68.00")
    no_overflow(page)
    page.get_by_test_id("assist-submit").click()
    expect(page.get_by_test_id("assist-done-title")).to_have_text("代下单成功")
    code_el = page.get_by_test_id("assist-pickup-code")
    expect(code_el).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    code = code_el.get_attribute("data-code")
    expect(code_el).to_have_text(f"{code[:3]} {code[3:]}")
    expect(page.get_by_test_id("assist-done-total")).to_have_text("¥68.00")
    no_overflow(page)

    # Stock fell by exactly one; the resident sees the order, marked as placed for them.
    assert api.bundle(round_id, "蔬菜套餐")["stock_left"] == stock_before - 1
    mine = resident_get(info, resident["token"], "/api/orders/mine")["orders"]
    placed = [o for o in mine if o["pickup_code"] == code]
    assert len(placed) == 1, mine
    assert placed[0]["assisted_by"], placed[0]
    assert placed[0]["total_fen"] == 6800

    # Back on the household: the order, with the 代下单 mark; no longer "no order yet" on the list.
    page.get_by_test_id("assist-back").click()
    order = page.get_by_test_id("hh-order").first
    expect(order.get_by_test_id("hh-order-status")).to_have_text("已下单")
    expect(order.get_by_test_id("hh-order-assisted")).to_have_text("代下单")
    expect(order.get_by_test_id("hh-order-total")).to_have_text("合计 ¥68.00")
    page.get_by_test_id("console-nav-special").click()
    card = page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')
    expect(card).to_be_visible()
    expect(card.get_by_test_id("special-no-order")).to_have_count(0)


@pytest.mark.browser
def test_liaison__registers_a_flat_with_a_landline_only_and_orders_for_it(new_context, info, api):
    round_id = info["round_id"]
    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    page.get_by_test_id("roster-register-open").click()
    page.get_by_test_id("reg-building").select_option("3栋")
    expect(page.get_by_test_id("reg-unit")).to_be_visible()
    page.get_by_test_id("reg-building").select_option("1栋")
    expect(page.get_by_test_id("reg-unit")).to_be_hidden()  # 1栋 has no units
    # The room is required, checked before anything is sent.
    page.get_by_test_id("reg-submit").click()
    expect(page.get_by_test_id("reg-room-error")).to_have_text("请填写这一项")
    page.get_by_test_id("reg-room").fill("1207")
    page.get_by_test_id("reg-phone").fill("0710-3451207")
    page.get_by_test_id("reg-name").fill("李大爷")
    page.get_by_test_id("reg-submit").click()

    expect(page.get_by_test_id("success-message")).to_have_text("已登记：1栋 1207")
    expect(page.get_by_test_id("hh-title")).to_have_text("1栋 1207")
    expect(page.get_by_test_id("hh-no-phones")).to_have_text("这户没有登记手机。")
    expect(page.get_by_test_id("hh-name")).to_have_text("李大爷")
    expect(page.get_by_test_id("hh-contact-phone")).not_to_have_text("0710-3451207")  # masked here
    no_overflow(page)

    page.get_by_test_id("hh-assist").click()
    choose(page, round_id, "米面油套餐", 2)
    # The per-household limit (2) stops the stepper.
    expect(bundle_card(page, round_id, "米面油套餐").get_by_test_id("qty-plus")).to_be_disabled()
    page.get_by_test_id("assist-submit").click()
    code_el = page.get_by_test_id("assist-pickup-code")
    expect(code_el).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    expect(page.get_by_test_id("assist-done-total")).to_have_text("¥256.00")

    # On the roster: ordered this round, by the liaison.
    page.get_by_test_id("console-nav-roster").click()
    entry = find_flat(page, "1207", "1栋 1207")
    expect(entry.get_by_test_id("roster-no-phone")).to_contain_text("没有登记手机")
    expect(entry.get_by_test_id("roster-order")).to_have_text("已下单")
    expect(entry.get_by_test_id("roster-assisted")).to_have_text("代下单")

    # Registering the same flat again opens it, and says it was there already.
    page.get_by_test_id("roster-register-open").click()
    page.get_by_test_id("reg-building").select_option("1栋")
    page.get_by_test_id("reg-room").fill("1207")
    page.get_by_test_id("reg-submit").click()
    expect(page.get_by_test_id("success-message")).to_have_text("这户已经登记过了：1栋 1207")
    expect(page.get_by_test_id("hh-title")).to_have_text("1栋 1207")
    expect(page.get_by_test_id("hh-order")).to_have_count(1)


@pytest.mark.browser
def test_liaison__pages_have_no_horizontal_overflow_at_360px_in_chinese_and_english(new_context, info, api):
    join(info, "10栋", "1307", "13900001307", unit="1单元")
    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    entry = find_flat(page, "1307", "10栋 1单元 1307")
    flat_ref = entry.get_attribute("data-flat-ref")
    entry.click()
    page.get_by_test_id("hh-flag-open").click()
    page.get_by_test_id("flag-category").select_option("other")
    page.get_by_test_id("flag-submit").click()
    expect(page.get_by_test_id("flag-note-error")).to_have_text("选“其他”时请写明情况")
    page.get_by_test_id("flag-note").fill("刚做完手术，行动不便，需要有人帮忙把东西送到家门口")
    page.get_by_test_id("flag-submit").click()
    expect(page.get_by_test_id("hh-special-category")).to_have_text("其他")

    for lang in ("zh-CN", "en"):
        for hash_, ready in [("#/staff", "staff-console-roster"), ("#/staff/roster", "roster-entry"),
                             (f"#/staff/households/{flat_ref}", "hh-title"), ("#/staff/special", "special-card"),
                             (f"#/staff/households/{flat_ref}/order", "assist-submit"), ("#/staff/community", "cm-join")]:
            page.goto(f"{info['base_url']}/{hash_}")
            expect(page.get_by_test_id(ready).first).to_be_visible()
            no_overflow(page)
        if lang == "zh-CN":
            page.get_by_test_id("lang-toggle").click()
            expect(page.get_by_test_id("lang-toggle")).to_have_text("中文")


@pytest.mark.browser
def test_liaison__approves_a_request_removes_a_phone_and_hands_the_flat_to_one_phone(new_context, info, api):
    first = join(info, "2栋", "1407", "13900001471")
    second = join(info, "2栋", "1407", "13900001472")
    squatter = join(info, "2栋", "1407", "13900001473")
    assert (first["membership"], second["membership"], squatter["membership"]) == ("member", "pending", "pending")

    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    entry = find_flat(page, "1407", "2栋 1407")
    expect(entry).to_have_attribute("data-attention", "true")
    expect(entry.get_by_test_id("roster-attention")).to_have_text("需核实：1 部手机 / 2 个请求")
    entry.click()

    def member(phone):
        return page.get_by_test_id("hh-member").filter(has=page.get_by_test_id("hh-member-phone").filter(has_text=masked(phone)))

    # Approve the second phone.
    member("13900001472").get_by_test_id("hh-approve").click()
    expect(page.get_by_test_id("success-message")).to_have_text(f"已批准 {masked('13900001472')}")
    expect(member("13900001472")).to_have_attribute("data-status", "member")
    assert resident_get(info, second["token"], "/api/households/mine")["me"]["status"] == "member"

    # Remove the first: asked in the page, then its token stops working.
    member("13900001471").get_by_test_id("hh-remove").click()
    expect(page.get_by_test_id("hh-confirm")).to_contain_text(f"确定移除 {masked('13900001471')} 吗？")
    page.get_by_test_id("hh-confirm-no").click()
    expect(member("13900001471")).to_have_count(1)
    member("13900001471").get_by_test_id("hh-remove").click()
    page.get_by_test_id("hh-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_have_text(f"已移除 {masked('13900001471')}")
    expect(member("13900001471")).to_have_count(0)
    r = requests.get(f"{info['base_url']}/api/households/mine",
                     headers={"Authorization": f"Bearer {first['token']}"}, timeout=30)
    assert r.status_code == 401, r.text

    # Hand the flat to the request that is really the family's: every other phone goes.
    member("13900001473").get_by_test_id("hh-handover").click()
    expect(page.get_by_test_id("hh-confirm")).to_contain_text("其他所有手机和请求都会被移除")
    page.get_by_test_id("hh-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_have_text(f"这户现在只有 {masked('13900001473')} 一部手机")
    expect(page.get_by_test_id("hh-member")).to_have_count(1)
    expect(member("13900001473")).to_have_attribute("data-status", "member")
    expect(page.get_by_test_id("hh-attention")).to_have_count(0)
    no_overflow(page)


@pytest.mark.browser
def test_liaison__assisted_order_over_the_household_limit__shows_the_servers_reason(new_context, info, api):
    round_id = info["round_id"]
    resident = join(info, "3栋", "1507", "13900001507", unit="1单元")
    # The household may order more than once in this round (the liaison's fair-share exemption),
    # so what refuses the second order below is the per-household limit itself.
    api.post(f"/api/communities/{info['community_id']}/households/B003.U01.R00001507/exemptions",
             {"round_id": round_id}, "liaison", expect_status=200)
    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    find_flat(page, "1507", "3栋 1单元 1507").click()
    page.get_by_test_id("hh-assist").click()
    expect(page.get_by_test_id("assist-has-order")).to_have_count(0)
    keys = []
    page.on("request", lambda q: keys.append(q.headers.get("idempotency-key"))
            if q.method == "POST" and q.url.endswith("/orders") else None)
    choose(page, round_id, "肉蛋奶套餐", 1)

    # Meanwhile the resident takes the one 肉蛋奶套餐 a household may have.
    bundle = api.bundle(round_id, "肉蛋奶套餐")
    r = requests.post(f"{info['base_url']}/api/orders",
                      json={"round_id": round_id, "lines": [{"bundle_id": bundle["bundle_id"], "qty": 1}]},
                      headers={"Authorization": f"Bearer {resident['token']}", "Idempotency-Key": "liaison-1507-own"},
                      timeout=30)
    assert r.status_code == 201, r.text
    stock = api.bundle(round_id, "肉蛋奶套餐")["stock_left"]

    page.get_by_test_id("assist-submit").click()
    refusal = page.get_by_test_id("assist-error")
    expect(refusal).to_have_text(re.compile(r"^没有下单成功：.*每户限购"))
    expect(page.get_by_test_id("error-message")).to_have_text(refusal.inner_text())
    assert api.bundle(round_id, "肉蛋奶套餐")["stock_left"] == stock
    # The page reloaded what the household has: the limit is used up, the stepper says so.
    expect(page.get_by_test_id("assist-has-order")).to_contain_text("这户本期已经有订单（已下单）")
    meat = bundle_card(page, round_id, "肉蛋奶套餐")
    expect(meat.get_by_test_id("assist-already")).to_have_text("这户已订 1 份")
    expect(meat.get_by_test_id("qty-value")).to_have_text("0")
    expect(meat.get_by_test_id("qty-plus")).to_be_disabled()
    # English alongside: the server's English reason.
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("error-message")).to_have_text(re.compile(r"^The order was not placed: .*per household"))
    expect(refusal).to_have_text(re.compile(r"^The order was not placed: .*per household"))
    page.get_by_test_id("lang-toggle").click()
    # A new attempt after a refusal is a new key.
    choose(page, round_id, "蔬菜套餐", 1)
    page.get_by_test_id("assist-submit").click()
    expect(page.get_by_test_id("assist-done-title")).to_have_text("代下单成功")
    assert len(keys) == 2 and keys[0] and keys[1] and keys[0] != keys[1], keys


@pytest.mark.browser
def test_liaison__assisted_order_retried_after_a_lost_reply__is_placed_once(new_context, info, api):
    round_id = info["round_id"]
    resident = join(info, "3栋", "1607", "13900001607", unit="2单元")
    stock = api.bundle(round_id, "蔬菜套餐")["stock_left"]
    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    find_flat(page, "1607", "3栋 2单元 1607").click()
    page.get_by_test_id("hh-assist").click()
    choose(page, round_id, "蔬菜套餐", 1)

    # The first attempt reaches the server, but its reply is lost on the way back.
    keys = []

    def lose_reply(route):
        keys.append(route.request.headers.get("idempotency-key"))
        route.fetch()
        route.abort("connectionreset")

    page.route(re.compile(r".*/households/[^/]+/orders$"), lose_reply)
    page.get_by_test_id("assist-submit").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("不会重复下单")
    page.unroute(re.compile(r".*/households/[^/]+/orders$"))
    page.on("request", lambda q: keys.append(q.headers.get("idempotency-key"))
            if q.method == "POST" and q.url.endswith("/orders") else None)
    page.get_by_test_id("assist-submit").click()
    expect(page.get_by_test_id("assist-done-title")).to_have_text("代下单成功")
    assert len(keys) == 2 and keys[0] == keys[1], keys
    assert api.bundle(round_id, "蔬菜套餐")["stock_left"] == stock - 1
    assert len(resident_get(info, resident["token"], "/api/orders/mine")["orders"]) == 1


@pytest.mark.browser
def test_information_officer__has_the_console_but_changes_no_community_settings(new_context, info):
    page = staff_page(new_context, info, "info_officer")
    expect(page.get_by_test_id("staff-role")).to_have_text("信息员")
    expect(page.get_by_test_id("staff-note")).to_have_count(0)
    page.get_by_test_id("staff-console-roster").click()
    expect(page.get_by_test_id("roster-title")).to_have_text("住户名册")
    expect(page.get_by_test_id("roster-counts")).to_be_visible()
    page.get_by_test_id("console-nav-community").click()
    expect(page.get_by_test_id("cm-read-only")).to_have_text("只有社区联络人可以修改这些设置。")
    expect(page.get_by_test_id("dp-retire")).to_have_count(0)
    expect(page.get_by_test_id("settings-save")).to_have_count(0)
    expect(page.get_by_test_id("io-current")).to_be_visible()
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("cm-read-only")).to_have_text("Only the community liaison can change these settings.")


@pytest.mark.browser
def test_volunteer__is_told_the_console_is_for_the_liaison(new_context, info):
    page = staff_page(new_context, info, "volunteer")
    expect(page.get_by_test_id("staff-console-roster")).to_have_count(0)
    page.goto(f"{info['base_url']}/#/staff/roster")
    expect(page.get_by_test_id("console-not-for-role")).to_contain_text("志愿者")


@pytest.mark.browser
def test_liaison__sets_the_distribution_point__a_second_one_is_refused_while_one_is_active(new_context, info, api):
    cid = info["community_id"]
    before = api.get(f"/api/communities/{cid}", "liaison").json()
    page = staff_page(new_context, info)
    other = staff_page(new_context, info)
    try:
        page.goto(f"{info['base_url']}/#/staff/community")
        if before["distribution_point"]:
            page.get_by_test_id("dp-retire").click()
            expect(page.get_by_test_id("dp-retire-confirm")).to_contain_text(before["distribution_point"]["name"])
            page.get_by_test_id("dp-retire-confirm-yes").click()
            expect(page.get_by_test_id("success-message")).to_have_text("配送点已撤销")
        expect(page.get_by_test_id("dp-none")).to_be_visible()

        # A second liaison's phone still shows the form; the first sets a point meanwhile.
        other.goto(f"{info['base_url']}/#/staff/community")
        expect(other.get_by_test_id("dp-none")).to_be_visible()
        page.get_by_test_id("dp-name").fill("东门快递柜旁 07")
        page.get_by_test_id("dp-submit").click()
        expect(page.get_by_test_id("success-message")).to_have_text("配送点已设为：东门快递柜旁 07")
        expect(page.get_by_test_id("dp-current-name")).to_have_text("东门快递柜旁 07")

        other.get_by_test_id("dp-name").fill("西门")
        other.get_by_test_id("dp-submit").click()
        expect(other.get_by_test_id("error-message")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
        expect(other.get_by_test_id("dp-current-name")).to_have_text("东门快递柜旁 07")

        # The check-in interval, saved and shown back.
        page.get_by_test_id("settings-interval").fill("31")
        page.get_by_test_id("settings-save").click()
        expect(page.get_by_test_id("settings-check_in_interval_days-error")).to_have_text("请填 1 到 30 之间的整数")
        page.get_by_test_id("settings-interval").fill("4")
        page.get_by_test_id("settings-save").click()
        expect(page.get_by_test_id("success-message")).to_have_text("已保存：每 4 天了解一次")
        assert api.get(f"/api/communities/{cid}", "liaison").json()["settings"]["check_in_interval_days"] == 4
        expect(page.get_by_test_id("join-url")).to_have_text(before["join_url"])
    finally:
        # Put the community back as the other tests know it.
        headers = {"Authorization": f"Bearer {info['tokens']['liaison']}"}
        base = f"{info['base_url']}/api/communities/{cid}"
        requests.patch(f"{base}/settings", json=before["settings"], headers=headers, timeout=30)
        requests.post(f"{base}/distribution-point/retire", headers=headers, timeout=30)
        if before["distribution_point"]:
            dp = {k: v for k, v in before["distribution_point"].items() if k in ("name", "note") and v}
            requests.put(f"{base}/distribution-point", json=dp, headers=headers, timeout=30)


@pytest.mark.browser
def test_liaison__an_overdue_household_is_called_from_the_list__then_unflagged(new_context, info, api):
    cid = info["community_id"]
    join(info, "2栋", "1707", "13900001707")
    page = staff_page(new_context, info)
    page.goto(f"{info['base_url']}/#/staff/roster")
    find_flat(page, "1707", "2栋 1707").click()
    flat_ref = page.get_by_test_id("household").get_attribute("data-flat-ref")
    page.get_by_test_id("hh-flag-open").click()
    page.get_by_test_id("flag-category").select_option("seriously_ill")
    page.get_by_test_id("flag-submit").click()
    expect(page.get_by_test_id("hh-special-category")).to_have_text("重病患者")

    # A visit two days ago, recorded now: the time is Beijing time, and shown back as such.
    beijing = timezone(timedelta(hours=8))
    then = (datetime.now(beijing) - timedelta(days=2)).replace(second=0, microsecond=0)
    page.get_by_test_id("ci-method-visit").check()
    page.get_by_test_id("ci-outcome-no_answer").check()
    page.get_by_test_id("ci-at").fill(then.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_test_id("ci-submit").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已记录：2栋 1707 上门 未接通")
    entry = page.get_by_test_id("ci-entry").first
    weekday = "一二三四五六日"[then.weekday()]
    expect(entry.get_by_test_id("ci-entry-time")).to_have_text(f"{then.month}月{then.day}日周{weekday} {then:%H:%M}")
    expect(entry.get_by_test_id("ci-entry-outcome")).to_have_text("未接通")
    expect(entry.get_by_test_id("ci-entry-method")).to_contain_text("上门")

    before = api.get(f"/api/communities/{cid}", "liaison").json()["settings"]
    headers = {"Authorization": f"Bearer {info['tokens']['liaison']}"}
    r = requests.patch(f"{info['base_url']}/api/communities/{cid}/settings", json={"check_in_interval_days": 1},
                       headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    try:
        # Every day now, so a day overdue: first on the "only overdue" list.
        page.get_by_test_id("console-nav-special").click()
        expect(page.get_by_test_id("special-interval")).to_have_text("每 1 天电话了解一次。超期的排在最前面。")
        # Wait for the overdue-only list itself: the card of the list before it must not be the one used.
        with page.expect_response(lambda r: "special-households?overdue=true" in r.url):
            page.get_by_test_id("special-overdue-toggle").check()
        card = page.get_by_test_id("special-card").first
        expect(card).to_have_attribute("data-flat-ref", flat_ref)
        expect(card).to_have_attribute("data-overdue", "true")
        expect(card.get_by_test_id("special-due")).to_have_text(re.compile(r"^已超期 2[345] 小时$"))
        expect(card.get_by_test_id("special-category")).to_have_text("重病患者")
        expect(card.locator('[data-testid="special-phone"][href="tel:13900001707"]')).to_have_count(1)
        no_overflow(page)

        # A call from the card clears it.
        card.get_by_test_id("special-checkin-open").click()
        expect(card.get_by_test_id("qci-method-call")).to_be_checked()
        card.get_by_test_id("qci-outcome-ok").check()
        card.get_by_test_id("qci-submit").click()
        expect(page.get_by_test_id("success-message")).to_have_text("已记录：2栋 1707 电话 正常")
        expect(page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')).to_have_count(0)
        page.get_by_test_id("special-overdue-toggle").uncheck()
        card = page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')
        expect(card.get_by_test_id("special-due")).to_have_text(re.compile(r"^还有 2[345] 小时到期$"))
    finally:
        requests.patch(f"{info['base_url']}/api/communities/{cid}/settings", json=before, headers=headers, timeout=30)

    # Unflagged, asked in the page; the history stays.
    card.get_by_test_id("special-flat").click()
    page.get_by_test_id("hh-unflag").click()
    expect(page.get_by_test_id("hh-unflag-confirm")).to_contain_text("确定取消这户的特殊人群标记吗？")
    page.get_by_test_id("hh-unflag-confirm-yes").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已取消特殊人群标记")
    expect(page.get_by_test_id("hh-not-special")).to_be_visible()
    expect(page.get_by_test_id("ci-entry")).to_have_count(2)
    page.get_by_test_id("console-nav-special").click()
    expect(page.get_by_test_id("special-title")).to_be_visible()
    expect(page.locator(f'[data-testid="special-card"][data-flat-ref="{flat_ref}"]')).to_have_count(0)
