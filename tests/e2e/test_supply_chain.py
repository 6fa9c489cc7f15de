"""The sub-district's supply chain in the browser (plans 3, 4; docs/api.md § The sub-district's supply chain).

- A supply point's reporter, on a 360 px phone, sends today's prices and stock (#/staff/market) on top of
  yesterday's report (sent through the API with `day`): the price is 20% up, so `price_jump` fires and the
  phone shows it; sending again is refused and replaced only when asked. The sub-district's dashboard
  (#/staff/supply, on a desk and at 360 px) shows that alert and draws the commodity's price and stock with
  uPlot, the legend naming the point.
- A community's liaison reports demand on a 360 px phone (#/staff/demand), replacing the morning's report,
  and the dashboard's totals and by-community list show it.
- An allocation to the community, moved on from the dashboard, received on the liaison's phone
  (#/staff/ledger), corrected (a new line naming the one it corrects), given out (more than the community
  holds is refused with the server's insufficient_balance; finishing early with not_all_distributed) and
  finished; then settled on the dashboard at an entered price with its reason, marked paid, and the
  supplier's statement downloaded as XLSX.

The stack is shared with the other browser tests and its clock is never moved: every test names its own
point and commodity, and reads totals of the shared sub-district relative to what the API says.
"""
import uuid
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
import requests
from playwright.sync_api import expect

WIDTH, HEIGHT = 360, 740
DESK = (1280, 900)
BEIJING = timezone(timedelta(hours=8))


# ---- helpers -------------------------------------------------------------------------------------

def beijing_day(offset: int = 0) -> str:
    return (datetime.now(BEIJING) + timedelta(days=offset)).strftime("%Y-%m-%d")


def call(info: dict, method: str, path: str, token: str | None, body: dict | None = None, expect_status=(200, 201)):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.request(method, info["base_url"] + path, json=body, headers=headers, timeout=30)
    assert r.status_code in expect_status, (method, path, r.status_code, r.text)
    return r.json() if r.content else None


def open_page(new_context, size=(WIDTH, HEIGHT)):
    context = new_context(*size)
    return context.pages[0] if context.pages else context.new_page()


def sign_in(page, info: dict, token: str, role: str) -> None:
    page.goto(f"{info['base_url']}/#/signin/{token}")
    expect(page.get_by_test_id("staff-role")).to_have_attribute("data-role", role)


def no_overflow(page, width: int = WIDTH) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: scrollWidth {scroll} > {width}"


def new_point(info: dict, tag: str) -> tuple[dict, str]:
    """A market with one commodity of its own name (so its chart has this point only) and its reporter's token."""
    point = call(info, "POST", "/api/supply-points", info["tokens"]["admin"], {
        "name": f"测试农贸市场{tag}", "kind": "market", "address": "测试路 1 号", "usual_markup_pct": 30,
        "commodities": [{"name": f"东北大米{tag}", "category": "rice", "unit": "kg"}],
    })
    invite = call(info, "POST", "/api/invites", info["tokens"]["admin"], {"role": "supply_point", "scope_id": point["point_id"]})
    accepted = call(info, "POST", f"/api/invites/{invite['code']}/accept", None)
    assert accepted["role"] == "supply_point" and accepted["scope_id"] == point["point_id"]
    return point, accepted["token"]


def lose_the_first_answer(page, path_end: str) -> list:
    """The first POST to a path ending in `path_end` reaches the server, which writes, but its answer is lost
    on the way back (a weak signal); later ones go through. Returns the Idempotency-Key each POST carried."""
    keys: list = []

    def handle(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) > 1:
            route.continue_()
            return
        assert route.fetch().status == 201  # the server did it...
        route.abort("connectionreset")  # ...and the phone never hears back

    page.route(lambda url: url.split("?")[0].endswith(path_end), handle)
    return keys


def xlsx(download, tmp_path):
    assert download.failure() is None, download.failure()
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return openpyxl.load_workbook(path)


def open_dashboard(page, info: dict) -> None:
    sign_in(page, info, info["tokens"]["admin"], "admin")
    page.get_by_test_id("staff-supply").click()  # the staff home's door
    expect(page.get_by_test_id("sup-title")).to_have_text("保供看板")
    expect(page).to_have_title("保供看板 · 保供")


def tab(page, name: str) -> None:
    page.get_by_test_id(f"sup-tab-{name}").click()
    expect(page.get_by_test_id(f"sup-tab-{name}")).to_have_attribute("aria-selected", "true")


def chart_of(page, point: dict, commodity: str):
    """The charts tab on this commodity and point: the price chart's box, once uPlot has drawn it."""
    tab(page, "charts")
    page.get_by_test_id("sup-chart-commodity").select_option(commodity)
    page.get_by_test_id("sup-chart-point").select_option(point["point_id"])
    price = page.get_by_test_id("sup-chart-price")
    expect(price).to_have_attribute("data-ready", "true")
    return price


def canvas_size(chart) -> dict:
    canvas = chart.locator("canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, box
    return box


# ---- a supply point's daily report, its alert and the chart ------------------------------------------

@pytest.mark.browser
def test_supply_point__reports_on_a_phone__the_dashboard_shows_the_alert_and_the_chart(new_context, info):
    tag = uuid.uuid4().hex[:6]
    point, token = new_point(info, tag)
    commodity = point["commodities"][0]
    # Yesterday, through the API: ¥5.00 (cost ¥4.00), 500 kg in stock, 50 kg sold.
    call(info, "POST", f"/api/supply-points/{point['point_id']}/reports", token, {
        "day": beijing_day(-1),
        "lines": [{"commodity_id": commodity["commodity_id"], "price": "5.00", "cost": "4.00", "stock": 500, "sales": 50}],
    })

    phone = open_page(new_context)
    sign_in(phone, info, token, "supply_point")
    expect(phone.get_by_test_id("staff-role")).to_have_text("保供网点")
    phone.get_by_test_id("staff-market").click()  # the staff home's door
    expect(phone.get_by_test_id("mk-title")).to_have_text("价格库存日报")
    expect(phone.get_by_test_id("mk-day")).to_contain_text(point["name"])
    line = phone.locator(f'[data-testid="mk-line"][data-commodity-id="{commodity["commodity_id"]}"]')
    expect(line.get_by_test_id("mk-name")).to_have_text(commodity["name"])
    # Pre-filled from yesterday, in yuan.
    expect(line.get_by_test_id("mk-price")).to_have_value("5.00")
    expect(line.get_by_test_id("mk-cost")).to_have_value("4.00")
    expect(line.get_by_test_id("mk-stock")).to_have_value("500")
    expect(line.get_by_test_id("mk-sales")).to_have_value("50")
    no_overflow(phone)
    # The whole form is one screen on the phone: the submit button is reachable without more than a scroll.
    assert phone.get_by_test_id("mk-submit").bounding_box()["y"] < 2 * HEIGHT

    # A typo is caught under its own input before anything is sent.
    line.get_by_test_id("mk-price").fill("6.005")
    phone.get_by_test_id("mk-submit").click()
    expect(line.get_by_test_id("mk-price-error")).to_be_visible()
    expect(line.get_by_test_id("mk-price")).to_have_attribute("aria-invalid", "true")

    # Today: ¥6.00 (+20%), cost ¥4.80 (markup 25%, under 30 + 5), 480 in stock and 60 sold (8 days of sales).
    line.get_by_test_id("mk-price").fill("6.00")
    line.get_by_test_id("mk-cost").fill("4.80")
    line.get_by_test_id("mk-stock").fill("480")
    line.get_by_test_id("mk-sales").fill("60")
    phone.get_by_test_id("mk-submit").click()
    expect(phone.get_by_test_id("mk-done-title")).to_have_text("今天的价格和库存已上报。")
    alert = phone.get_by_test_id("mk-alert-item")
    expect(alert).to_have_count(1)
    expect(alert).to_have_attribute("data-kind", "price_jump")
    expect(alert.get_by_test_id("mk-alert-kind")).to_contain_text("价格异常波动")
    expect(alert.get_by_test_id("mk-alert-text")).to_contain_text("上涨 20.0%")
    expect(alert.get_by_test_id("mk-alert-text")).not_to_contain_text(" / ")  # this language's half only
    no_overflow(phone)

    # Sending again is refused (409 already_reported) and replaced only when the reporter says so.
    phone.get_by_test_id("mk-edit").click()
    expect(line.get_by_test_id("mk-price")).to_have_value("6.00")
    phone.get_by_test_id("mk-submit").click()
    expect(phone.get_by_test_id("error-message")).to_have_text("今天已经上报过了。")
    expect(phone.get_by_test_id("mk-replace")).to_be_visible()
    no_overflow(phone)
    phone.get_by_test_id("mk-replace-yes").click()
    expect(phone.get_by_test_id("mk-done-title")).to_have_text("已用新的数字替换今天的上报。")
    expect(phone.get_by_test_id("mk-done")).to_have_attribute("data-version", "2")
    history = call(info, "GET", f"/api/supply-points/{point['point_id']}/reports?day={beijing_day()}", token)
    assert [(r["version"], r["current"]) for r in history["reports"]] == [(2, True), (1, False)]

    # The sub-district's dashboard on a desk: the alert, highlighted, in plain words, and the chart.
    desk = open_page(new_context, DESK)
    open_dashboard(desk, info)
    mine = desk.locator(f'[data-testid="sup-alert-item"][data-point-id="{point["point_id"]}"][data-kind="price_jump"]').first
    expect(mine).to_be_visible()
    expect(mine.get_by_test_id("sup-alert-point")).to_have_text(point["name"])
    expect(mine.get_by_test_id("sup-alert-text")).to_contain_text(f"{point['name']} {commodity['name']} 价格一天上涨 20.0%")
    expect(desk.get_by_test_id("sup-alerts-box")).to_have_class("sup-alerts-box sup-alerts-on")

    price = chart_of(desk, point, commodity["name"])
    box = canvas_size(price)
    assert box["width"] > 600, box  # a desk-wide chart
    legend = price.locator(".u-legend")
    expect(legend).to_contain_text(point["name"])
    stock = desk.get_by_test_id("sup-chart-stock")
    canvas_size(stock)
    expect(stock.locator(".u-legend")).to_contain_text(f"{point['name']} 库存")
    # The numbers behind it, for reading exact values: yesterday ¥5.00 and today ¥6.00.
    desk.get_by_test_id("sup-chart-data").locator("summary").click()
    expect(desk.get_by_test_id("sup-chart-data")).to_contain_text("价格 ¥5.00，库存 500，销量 50")
    expect(desk.get_by_test_id("sup-chart-data")).to_contain_text("价格 ¥6.00，库存 480，销量 60")
    # uPlot was loaded on demand: the vendored file, once.
    scripts = desk.evaluate("[...document.scripts].map(s => s.src).filter(s => s.includes('uplot'))")
    assert scripts == [f"{info['base_url']}/vendor/uplot-1.6.32/uPlot.iife.min.js"], scripts

    # The same dashboard is usable on a 360 px phone: the alert on top, the chart within the screen.
    small = open_page(new_context)
    open_dashboard(small, info)
    expect(small.locator(f'[data-testid="sup-alert-item"][data-point-id="{point["point_id"]}"]').first).to_be_visible()
    no_overflow(small)
    price = chart_of(small, point, commodity["name"])
    box = canvas_size(price)
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    expect(price.locator(".u-legend")).to_contain_text(point["name"])
    no_overflow(small)

    # In English too.
    small.get_by_test_id("lang-toggle").click()
    expect(small.get_by_test_id("sup-title")).to_have_text("Supply dashboard")
    expect(small.locator(f'[data-testid="sup-alert-item"][data-point-id="{point["point_id"]}"]').first.get_by_test_id(
        "sup-alert-text")).to_contain_text("price moved 20.0% in a day")
    no_overflow(small)


# ---- a community's demand report --------------------------------------------------------------------

@pytest.mark.browser
def test_liaison__reports_demand_on_a_phone__and_it_is_in_the_dashboards_totals(new_context, info, tmp_path):
    cid = info["community_id"]
    liaison = info["tokens"]["liaison"]
    # A report this morning already (through the API), so the phone's report has to replace it.
    call(info, "POST", f"/api/communities/{cid}/demand", liaison,
         {"lines": [{"category": "flour", "quantity": 3, "unit": "袋"}], "replace": True})
    quantity = 100 + uuid.uuid4().int % 800
    note = f"测试 {uuid.uuid4().hex[:4]}"

    phone = open_page(new_context)
    sign_in(phone, info, liaison, "liaison")
    phone.get_by_test_id("staff-demand").click()  # the staff home's door
    expect(phone.get_by_test_id("dm-title")).to_have_text("需求上报")
    expect(phone.get_by_test_id("dm-reported")).to_be_visible()
    no_overflow(phone)

    # Suggested from the community's orders and special households, each with its basis (the shared
    # community may have none of either yet: then the phone says so).
    suggested = call(info, "GET", f"/api/communities/{cid}/demand/prefill", liaison)["lines"]
    phone.get_by_test_id("dm-prefill").click()
    if suggested:
        expect(phone.get_by_test_id("info-message")).to_have_text(f"已填入 {len(suggested)} 行，请核对后提交。")
        expect(phone.get_by_test_id("dm-line")).to_have_count(len(suggested))
        expect(phone.get_by_test_id("dm-basis").first).to_be_visible()
    else:
        expect(phone.get_by_test_id("info-message")).to_have_text("没有可以参考的订单或特殊户。")
    # Keep one line, made ours: 饮用水 <quantity> 箱 with a note, and a second line of eggs.
    while phone.get_by_test_id("dm-line").count() > 1:
        n = phone.get_by_test_id("dm-line").count()
        phone.get_by_test_id("dm-line").last.get_by_test_id("dm-remove").click()
        expect(phone.get_by_test_id("dm-line")).to_have_count(n - 1)
    first = phone.get_by_test_id("dm-line").first
    first.get_by_test_id("dm-category").select_option("water")
    first.get_by_test_id("dm-quantity").fill(str(quantity))
    first.get_by_test_id("dm-unit").select_option("箱")
    first.get_by_test_id("dm-note").fill(note)
    phone.get_by_test_id("dm-add").click()
    second = phone.get_by_test_id("dm-line").nth(1)
    expect(second.get_by_test_id("dm-category")).to_be_focused()
    second.get_by_test_id("dm-category").select_option("eggs")
    second.get_by_test_id("dm-quantity").fill("0")
    second.get_by_test_id("dm-unit").select_option("kg")
    phone.get_by_test_id("dm-submit").click()
    expect(second.get_by_test_id("dm-quantity-error")).to_be_visible()  # 0 is refused before sending
    second.get_by_test_id("dm-quantity").fill("20")
    no_overflow(phone)

    phone.get_by_test_id("dm-submit").click()
    expect(phone.get_by_test_id("dm-replace")).to_be_visible()
    expect(phone.get_by_test_id("error-message")).to_have_text("今天已经上报过了。")
    phone.get_by_test_id("dm-replace-yes").click()
    expect(phone.get_by_test_id("success-message")).to_contain_text("已替换为第")
    current = phone.locator('[data-testid="dm-version"][data-current="true"]')
    expect(current).to_have_count(1)
    expect(current.locator('[data-testid="dm-version-line"][data-category="water"]')).to_have_attribute("data-quantity", str(quantity))
    expect(phone.locator('[data-testid="dm-version"][data-current="false"]').first).to_be_visible()
    no_overflow(phone)

    # The dashboard: the totals by category (bars) and the community's lines, as the API totals them.
    summary = call(info, "GET", f"/api/sub-districts/mine/demand?day={beijing_day()}", info["tokens"]["admin"])
    water = next(r for r in summary["by_category"] if r["category"] == "water" and r["unit"] == "箱")
    assert water["quantity"] >= quantity
    desk = open_page(new_context, DESK)
    open_dashboard(desk, info)
    tab(desk, "demand")
    total = desk.locator('[data-testid="sup-total"][data-category="water"][data-unit="箱"]')
    expect(total).to_have_attribute("data-quantity", str(water["quantity"]))
    expect(total.get_by_test_id("sup-total-qty")).to_have_text(f"{water['quantity']} 箱")
    community = desk.locator(f'[data-testid="sup-community"][data-community-id="{cid}"]')
    expect(community.locator('[data-testid="sup-demand-line"][data-category="water"]')).to_have_attribute("data-quantity", str(quantity))
    expect(community).to_contain_text(note)
    expect(desk.locator(f'[data-testid="sup-missing-item"][data-community-id="{cid}"]')).to_have_count(0)
    # The summary as XLSX.
    with desk.expect_download() as caught:
        desk.get_by_test_id("sup-demand-xlsx").click()
    assert caught.value.suggested_filename == f"demand-{beijing_day()}.xlsx"
    book = xlsx(caught.value, tmp_path)
    assert book.sheetnames[0].startswith("汇总")

    small = open_page(new_context)
    open_dashboard(small, info)
    tab(small, "demand")
    expect(small.locator('[data-testid="sup-total"][data-category="water"][data-unit="箱"]')).to_be_visible()
    no_overflow(small)


# ---- an allocation through the community's ledger to its settlement -------------------------------------

@pytest.mark.browser
def test_allocation__received_given_out_and_corrected_on_a_phone__then_settled_on_the_dashboard(new_context, info, tmp_path):
    cid = info["community_id"]
    admin = info["tokens"]["admin"]
    spec = f"测试{uuid.uuid4().hex[:4]} 5kg/袋"
    allocation = call(info, "POST", "/api/allocations", admin, {
        "category": "rice", "quantity": 40, "unit": "袋", "spec": spec, "unit_price": "25.00", "source": "supplier",
        "supplier_id": info["supplier_id"], "community_id": cid,
        "deliver_at": (datetime.now(BEIJING) + timedelta(hours=3)).isoformat(timespec="seconds"),
        "contact_name": "王师傅", "contact_phone": "13800138000",
    })
    aid = allocation["allocation_id"]

    # The sub-district moves it on from its dashboard: allocated, then dispatched.
    desk = open_page(new_context, DESK)
    open_dashboard(desk, info)
    tab(desk, "allocations")
    card = desk.locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')
    expect(card.get_by_test_id("sup-alloc-status")).to_have_text("已申请")
    card.get_by_test_id("sup-alloc-advance").click()
    expect(card.get_by_test_id("sup-alloc-status")).to_have_text("已调配")
    card.get_by_test_id("sup-alloc-advance").click()
    expect(card.get_by_test_id("sup-alloc-status")).to_have_text("已发出")

    phone = open_page(new_context)
    sign_in(phone, info, info["tokens"]["liaison"], "liaison")
    phone.get_by_test_id("staff-ledger").click()  # the staff home's door
    expect(phone.get_by_test_id("lg-title")).to_have_text("收发台账")
    mine = phone.locator(f'[data-testid="lg-alloc"][data-allocation-id="{aid}"]')
    mine.get_by_test_id("lg-received").click()
    expect(phone.get_by_test_id("success-message")).to_contain_text("已收货")
    balance = call(info, "GET", f"/api/communities/{cid}/ledger?category=rice&unit=袋", admin)["balances"][0]["balance"]
    assert balance >= 40
    expect(phone.locator('[data-testid="lg-balance"][data-category="rice"][data-unit="袋"]')).to_have_attribute("data-balance", str(balance))
    receive = phone.locator('[data-testid="lg-line"][data-kind="receive"]').first
    expect(receive).to_have_attribute("data-quantity", "40")
    receive_id = receive.get_attribute("data-line-id")
    no_overflow(phone)

    def line(line_id):
        return phone.locator(f'[data-testid="lg-line"][data-line-id="{line_id}"]')

    def correct(line_id, delta, reason):
        line(line_id).get_by_test_id("lg-correct-open").click()
        form = line(line_id).get_by_test_id("lg-correct-form")
        form.get_by_test_id("lg-c-quantity_delta").fill(str(delta))
        form.get_by_test_id("lg-c-reason").fill(reason)
        form.get_by_test_id("lg-c-submit").click()
        expect(phone.get_by_test_id("success-message")).to_have_text("已更正。")
        newest = phone.get_by_test_id("lg-line").first
        expect(newest).to_have_attribute("data-kind", "correction")
        expect(newest).to_have_attribute("data-corrects", line_id)
        expect(newest).to_have_attribute("data-quantity", str(delta))

    def distribute(quantity, kind, text):
        form = phone.get_by_test_id("lg-dist-form")
        form.get_by_test_id("lg-dist-allocation_id").select_option(aid)
        form.get_by_test_id("lg-dist-quantity").fill(str(quantity))
        form.get_by_test_id(f"lg-dist-to-{kind}").check()
        form.get_by_test_id("lg-dist-to").fill(text)
        form.get_by_test_id("lg-dist-submit").click()
        return form

    # 35 bags arrived broken: a correction of the receive line leaves 5 in stock (a new line naming it).
    correct(receive_id, -(balance - 5), "破损")
    expect(phone.get_by_test_id("lg-line").first.get_by_test_id("lg-line-after")).to_have_text("结余 5 袋")

    # More than the community holds is refused by the server (insufficient_balance), said under the form.
    form = distribute(10, "round", "3栋全体住户")
    expect(form.get_by_test_id("lg-dist-error")).to_contain_text("库存不足：只剩 5 袋")
    no_overflow(phone)
    # The answer to the next one is lost: pressed again, the same Idempotency-Key gets the line already
    # written (the balance moves once: 35 are left below, not 30).
    keys = lose_the_first_answer(phone, "/ledger/distribute")
    form = distribute(5, "round", "3栋全体住户")
    expect(form.get_by_test_id("lg-dist-error")).to_contain_text("网络不通")
    expect(form.get_by_test_id("lg-dist-submit")).to_be_enabled()
    form.get_by_test_id("lg-dist-submit").click()
    expect(phone.get_by_test_id("success-message")).to_have_text("已记下：分发 5 袋，3栋全体住户。")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    phone.unroute_all()
    out = phone.get_by_test_id("lg-line").first
    expect(out).to_have_attribute("data-kind", "distribute")
    expect(out).to_have_attribute("data-quantity", "-5")
    expect(out.get_by_test_id("lg-line-to")).to_have_text("随团购配送：3栋全体住户")

    # Not all given out: finishing is refused with what is left.
    mine.get_by_test_id("lg-distributed").click()
    expect(mine.get_by_test_id("lg-alloc-error")).to_contain_text("还有 35 袋")

    # The bags turn up after all: the receive line corrected back, the rest given out, then finished.
    correct(receive_id, balance - 5, "找回")
    distribute(35, "special", "特殊户 12 户")
    expect(phone.get_by_test_id("success-message")).to_have_text("已记下：分发 35 袋，特殊户 12 户。")
    phone.locator(f'[data-testid="lg-alloc"][data-allocation-id="{aid}"]').get_by_test_id("lg-distributed").click()
    expect(phone.get_by_test_id("success-message")).to_contain_text("已分发完毕")
    expect(phone.locator(f'[data-testid="lg-alloc"][data-allocation-id="{aid}"]')).to_have_count(0)
    no_overflow(phone)

    # Settled on the dashboard at an entered price with its reason; its due date is shown.
    desk.reload()
    expect(desk.get_by_test_id("sup-title")).to_be_visible()
    tab(desk, "settlements")
    card = desk.get_by_test_id("sup-to-settle").locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')
    expect(card.get_by_test_id("sup-alloc-due")).not_to_be_empty()
    card.get_by_test_id("sup-sf-source-entered").check()
    card.get_by_test_id("sup-sf-submit").click()
    expect(card.get_by_test_id("sup-sf-reason-error")).to_be_visible()  # a reason is needed
    card.get_by_test_id("sup-sf-unit_price").fill("24.50")
    card.get_by_test_id("sup-sf-reason").fill("当天没有网点上报大米（袋）")
    card.get_by_test_id("sup-sf-submit").click()
    expect(desk.get_by_test_id("success-message")).to_contain_text("已结算，金额 ¥980.00")
    settled = desk.get_by_test_id("sup-settled").locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')
    expect(settled.get_by_test_id("sup-settlement-amount")).to_have_text("¥980.00")
    expect(settled.get_by_test_id("sup-settlement-paid")).to_have_text("未付款")
    settled.get_by_test_id("sup-paid").click()
    expect(desk.get_by_test_id("sup-settled").locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')
           .get_by_test_id("sup-settlement-paid")).not_to_have_text("未付款")

    # The statement for the supplier, as XLSX, with this allocation's row.
    desk.get_by_test_id("sup-stmt-who").select_option(f"supplier_id={info['supplier_id']}")
    with desk.expect_download() as caught:
        desk.get_by_test_id("sup-stmt-xlsx").click()
    book = xlsx(caught.value, tmp_path)
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    assert aid in cells, cells[:40]


# ---- the dashboard's forms: a new supply point and its reporter; a new allocation ------------------------

@pytest.mark.browser
def test_dashboard__adds_a_supply_point_at_360px__whose_invited_reporter_reports(new_context, info):
    tag = uuid.uuid4().hex[:6]
    name = f"测试超市{tag}"
    small = open_page(new_context)
    open_dashboard(small, info)
    tab(small, "points")
    small.get_by_test_id("sup-point-new").click()
    form = small.get_by_test_id("sup-point-form")
    form.get_by_test_id("sup-pf-submit").click()  # nothing filled in: said under the fields
    expect(form.get_by_test_id("sup-pf-name-error")).to_be_visible()
    expect(form.get_by_test_id("sup-pf-commodities-error")).to_be_visible()
    form.get_by_test_id("sup-pf-name").fill(name)
    form.get_by_test_id("sup-pf-kind").select_option("supermarket")
    form.get_by_test_id("sup-pf-usual_markup_pct").fill("25")
    rows = form.get_by_test_id("sup-pf-commodity")
    rows.nth(0).get_by_test_id("sup-pf-c-name").fill(f"菜籽油{tag}")
    rows.nth(0).get_by_test_id("sup-pf-c-category").select_option("oil")
    rows.nth(0).get_by_test_id("sup-pf-c-unit").select_option("桶")
    form.get_by_test_id("sup-pf-c-add").click()
    expect(rows.nth(1).get_by_test_id("sup-pf-c-name")).to_be_focused()
    rows.nth(1).get_by_test_id("sup-pf-c-name").fill(f"鲜鸡蛋{tag}")
    rows.nth(1).get_by_test_id("sup-pf-c-category").select_option("eggs")
    rows.nth(1).get_by_test_id("sup-pf-c-unit").select_option("kg")
    no_overflow(small)
    form.get_by_test_id("sup-pf-submit").click()
    expect(small.get_by_test_id("success-message")).to_have_text(f"已新增网点：{name}")
    card = small.get_by_test_id("sup-point").filter(has_text=name)
    expect(card.get_by_test_id("sup-point-commodities").locator("li")).to_have_count(2)
    point_id = card.get_attribute("data-point-id")

    # The reporter's invite: a link to send; opening it on their phone signs them in as this point.
    card.get_by_test_id("sup-point-invite").click()
    url = card.get_by_test_id("sup-invite-url")
    expect(url).to_contain_text("/#/invite/")
    no_overflow(small)
    phone = open_page(new_context)
    phone.goto(url.inner_text())
    phone.get_by_test_id("invite-accept").click()
    expect(phone.get_by_test_id("staff-role")).to_have_text("保供网点")
    expect(phone.get_by_test_id("staff-scope")).to_have_text(point_id)
    phone.get_by_test_id("staff-market").click()
    lines = phone.get_by_test_id("mk-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).get_by_test_id("mk-price")).to_have_value("")  # nothing reported before
    phone.get_by_test_id("mk-submit").click()
    expect(lines.nth(0).get_by_test_id("mk-price-error")).to_have_text("请按元填写，例如 4.20")
    for i, (price, cost, stock, sales) in enumerate((("68.00", "58.00", "40", "5"), ("12.80", "11.00", "300", "40"))):
        lines.nth(i).get_by_test_id("mk-price").fill(price)
        lines.nth(i).get_by_test_id("mk-cost").fill(cost)
        lines.nth(i).get_by_test_id("mk-stock").fill(stock)
        lines.nth(i).get_by_test_id("mk-sales").fill(sales)
    phone.get_by_test_id("mk-submit").click()
    expect(phone.get_by_test_id("mk-done-title")).to_have_text("今天的价格和库存已上报。")
    expect(phone.get_by_test_id("mk-alerts-title")).to_have_text("这次上报没有引起预警")
    no_overflow(phone)


@pytest.mark.browser
def test_dashboard__places_an_allocation__and_settling_without_a_market_price_says_so(new_context, info):
    cid, admin, liaison = info["community_id"], info["tokens"]["admin"], info["tokens"]["liaison"]
    spec = f"测试{uuid.uuid4().hex[:4]} 250ml×24"
    desk = open_page(new_context, DESK)
    open_dashboard(desk, info)
    tab(desk, "allocations")
    desk.get_by_test_id("sup-alloc-new").click()
    form = desk.get_by_test_id("sup-alloc-form")
    form.get_by_test_id("sup-af-category").select_option("milk")
    form.get_by_test_id("sup-af-quantity").fill("12")
    form.get_by_test_id("sup-af-unit").select_option("箱")
    form.get_by_test_id("sup-af-spec").fill(spec)
    form.get_by_test_id("sup-af-unit_price").fill("12.5")
    form.get_by_test_id("sup-af-community_id").select_option(cid)
    expect(form.get_by_test_id("sup-af-supplier_id")).to_have_value(info["supplier_id"])
    form.get_by_test_id("sup-af-contact_name").fill("赵经理")
    form.get_by_test_id("sup-af-contact_phone").fill("138 0013 8002")
    # The first answer is lost; pressed again, the same Idempotency-Key gets the allocation already made.
    keys = lose_the_first_answer(desk, "/api/allocations")
    form.get_by_test_id("sup-af-submit").click()
    expect(desk.get_by_test_id("error-message")).to_contain_text("网络不通")
    expect(form.get_by_test_id("sup-af-submit")).to_be_enabled()
    form.get_by_test_id("sup-af-submit").click()
    expect(desk.get_by_test_id("success-message")).to_contain_text(f"调拨单已建立：奶 12 箱 · {spec}")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    desk.unroute_all()
    assert [a["spec"] for a in call(info, "GET", "/api/allocations", admin)["allocations"]].count(spec) == 1
    card = desk.get_by_test_id("sup-alloc").filter(has_text=spec)
    expect(card.get_by_test_id("sup-alloc-status")).to_have_text("已申请")
    expect(card).to_contain_text("¥12.50/箱")
    expect(card).to_contain_text("138****8002")
    aid = card.get_attribute("data-allocation-id")

    for to, who in (("allocated", admin), ("dispatched", admin), ("received", liaison)):
        call(info, "POST", f"/api/allocations/{aid}/advance", who, {"to": to})
    call(info, "POST", f"/api/communities/{cid}/ledger/distribute", liaison,
         {"allocation_id": aid, "quantity": 12, "to": {"kind": "households", "text": "全体住户"}})
    call(info, "POST", f"/api/allocations/{aid}/advance", liaison, {"to": "distributed"})

    # No supply point reports milk by the 箱: the market price is refused, said on the card with the way out.
    tab(desk, "settlements")
    card = desk.get_by_test_id("sup-to-settle").locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')
    card.get_by_test_id("sup-sf-submit").click()
    expect(card.get_by_test_id("sup-sf-error")).to_contain_text("没有该类商品的市场价报送")
    expect(card.get_by_test_id("sup-sf-error")).to_contain_text("录入价格")
    small = open_page(new_context)
    open_dashboard(small, info)
    tab(small, "settlements")
    expect(small.get_by_test_id("sup-to-settle").locator(f'[data-testid="sup-alloc"][data-allocation-id="{aid}"]')).to_be_visible()
    no_overflow(small)


# ---- where the backend and the contract differ (docs/api.md § The sub-district's supply chain) ---------------

@pytest.mark.browser
def test_supply_point__replacing_a_mistyped_report__clears_its_alert_from_the_dashboard(new_context, info):
    tag = uuid.uuid4().hex[:6]
    point, token = new_point(info, tag)
    commodity = point["commodities"][0]
    call(info, "POST", f"/api/supply-points/{point['point_id']}/reports", token, {
        "day": beijing_day(-1),
        "lines": [{"commodity_id": commodity["commodity_id"], "price": "5.00", "cost": "4.00", "stock": 500, "sales": 50}],
    })
    phone = open_page(new_context)
    sign_in(phone, info, token, "supply_point")
    phone.get_by_test_id("staff-market").click()
    line = phone.get_by_test_id("mk-line")
    line.get_by_test_id("mk-price").fill("6.00")  # meant 5.10 (and the cost 4.00)
    line.get_by_test_id("mk-cost").fill("4.80")
    phone.get_by_test_id("mk-submit").click()
    expect(phone.get_by_test_id("mk-alert-item")).to_have_count(1)
    expect(phone.get_by_test_id("mk-alert-item")).to_have_attribute("data-kind", "price_jump")
    phone.get_by_test_id("mk-edit").click()
    line.get_by_test_id("mk-price").fill("5.10")
    line.get_by_test_id("mk-cost").fill("4.00")
    phone.get_by_test_id("mk-submit").click()
    phone.get_by_test_id("mk-replace-yes").click()
    expect(phone.get_by_test_id("mk-done-title")).to_have_text("已用新的数字替换今天的上报。")
    expect(phone.get_by_test_id("mk-alert-none")).to_be_visible()  # the corrected report raises none

    desk = open_page(new_context, DESK)
    open_dashboard(desk, info)
    expect(desk.get_by_test_id("sup-alerts-title")).to_be_visible()
    expect(desk.locator(f'[data-testid="sup-alert-item"][data-point-id="{point["point_id"]}"]')).to_have_count(0, timeout=3_000)


@pytest.mark.browser
def test_settle__the_settlement_carries_its_due_date(info):
    admin, liaison, cid = info["tokens"]["admin"], info["tokens"]["liaison"], info["community_id"]
    a = call(info, "POST", "/api/allocations", admin, {
        "category": "oil", "quantity": 2, "unit": "桶", "spec": f"测试{uuid.uuid4().hex[:4]}", "unit_price": "60.00",
        "source": "reserve", "reserve_name": "区粮食储备库", "community_id": cid,
        "deliver_at": (datetime.now(BEIJING) + timedelta(hours=3)).isoformat(timespec="seconds"),
        "contact_name": "李", "contact_phone": "13800138001",
    })
    aid = a["allocation_id"]
    for to, who in (("allocated", admin), ("dispatched", admin), ("received", liaison)):
        call(info, "POST", f"/api/allocations/{aid}/advance", who, {"to": to})
    call(info, "POST", f"/api/communities/{cid}/ledger/distribute", liaison,
         {"allocation_id": aid, "quantity": 2, "to": {"kind": "special", "text": "特殊户"}})
    distributed = call(info, "POST", f"/api/allocations/{aid}/advance", liaison, {"to": "distributed"})
    settled = call(info, "POST", f"/api/allocations/{aid}/settle", admin,
                   {"price_source": "entered", "unit_price": "58.00", "reason": "储备投放按核定价"})
    assert settled["settlement"]["amount_fen"] == 11600
    assert settled["settlement"].get("due_on") == distributed["due_on"]
