"""The gate's other screens in the browser, on a 360 px phone: the site's settings (#/staff/site), a
supplier's vehicle registration with its documents uploaded straight to S3 (#/staff/deliveries/new), the
reviewer's queue (#/staff/review) and the supervisor's log with its Excel export (#/staff/gate-log).

These run on the shared `make dev` stack, whose clock is never moved: a vehicle is registered for more than
24 hours ahead (the site's lead time), so its registration and review are today's events; the gate steps the
log shows (an arrival outside the window, a release refused during the rest, a plate turned away) happen
today through the API, as the gate officer's phone would send them. Every test uses its own plates.
"""
import random
import re
import uuid
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

WIDTH, HEIGHT = 360, 740
BEIJING = timezone(timedelta(hours=8))
DOCUMENTS = ("health_code", "travel_record", "identity", "test_report", "commitment")
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O


# ---- helpers -------------------------------------------------------------------------------------

def phone(new_context):
    context = new_context(WIDTH, HEIGHT)
    return context, (context.pages[0] if context.pages else context.new_page())


def sign_in(page, info: dict, token: str, role_text: str) -> None:
    page.goto(f"{info['base_url']}/#/signin/{token}")
    expect(page.get_by_test_id("staff-role")).to_have_text(role_text)


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def call(info: dict, method: str, path: str, token: str | None, body: dict | None = None, expect_status=(200,)):
    r = requests.request(method, info["base_url"] + path, json=body, headers=bearer(token) if token else {}, timeout=30)
    assert r.status_code in expect_status, (method, path, r.status_code, r.text)
    return r.json() if r.content else None


def unique_plate() -> str:
    return f"苏{random.choice(_PLATE_LETTERS)}{random.randint(10000, 99999)}"


def id_number(base17: str) -> str:
    """An 18-character mainland ID number with its check digit (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return base17 + "10X98765432"[sum(int(c) * w for c, w in zip(base17, weights)) % 11]


def png_file(tmp_path) -> str:
    path = tmp_path / "证件.png"
    Image.new("RGB", (16, 16), (11, 93, 59)).save(path, format="PNG")
    return str(path)


def beijing_input(dt: datetime) -> str:
    return dt.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def beijing_day(dt: datetime) -> str:
    return dt.astimezone(BEIJING).strftime("%Y-%m-%d")


def demo_site(info: dict) -> dict:
    """The demo community's site, opened through the API if no test opened it yet."""
    admin = info["tokens"]["admin"]
    for site in call(info, "GET", "/api/sites", admin)["sites"]:
        if site["community_id"] == info["community_id"]:
            return site
    return call(info, "POST", "/api/sites", admin, {"community_id": info["community_id"]}, expect_status=(201,))


def unloading_point(info: dict, sid: str) -> dict:
    """One of the site's unloading points; the admin adds one if it has none yet."""
    site = call(info, "GET", f"/api/sites/{sid}", info["tokens"]["admin"])
    if not site["unloading_points"]:
        site = call(info, "PUT", f"/api/sites/{sid}", info["tokens"]["admin"],
                    {"unloading_points": [{"name": "东门卸货点", "route": "东门进，直行到 3 栋北侧"}]})
    return site["unloading_points"][0]


def invite(info: dict, role: str, sid: str) -> str:
    """A site's staff member: the admin's invite, accepted; returns their token."""
    code = call(info, "POST", "/api/invites", info["tokens"]["admin"], {"role": role, "scope_id": sid},
                expect_status=(200, 201))["code"]
    accepted = call(info, "POST", f"/api/invites/{code}/accept", None, expect_status=(200, 201))
    assert accepted["role"] == role and accepted["scope_id"] == sid, accepted
    return accepted["token"]


def upload(info: dict, sid: str, png: bytes) -> str:
    slot = call(info, "POST", f"/api/sites/{sid}/documents", info["tokens"]["supplier"], expect_status=(201,))
    r = requests.post(slot["url"], data={**slot["fields"], "Content-Type": "image/png"},
                      files={"file": ("doc.png", png, "image/png")}, timeout=30)
    assert r.status_code in (200, 201, 204), (r.status_code, r.text)
    return slot["key"]


def register(info: dict, sid: str, plate: str, arrive_from: datetime, png: bytes) -> dict:
    """A vehicle registered through the API, as the supplier's phone would."""
    documents = {name: upload(info, sid, png) for name in DOCUMENTS}
    body = {
        "plate": plate, "vehicle_type": "truck", "mode": "enter", "cargo": ["rice", "oil"],
        "arrive_from": arrive_from.isoformat(timespec="seconds"),
        "arrive_until": (arrive_from + timedelta(hours=2)).isoformat(timespec="seconds"),
        "people": [{"role": "driver", "name": "李师傅", "id_number": id_number("32010219790315561"),
                    "phone": "13900139001", "test_at": (datetime.now(BEIJING) - timedelta(hours=3)).isoformat(timespec="seconds"),
                    "documents": documents}],
    }
    r = requests.post(f"{info['base_url']}/api/sites/{sid}/deliveries", json=body,
                      headers={**bearer(info["tokens"]["supplier"]), "Idempotency-Key": str(uuid.uuid4())}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


# ---- (1) the admin opens the demo community's site and adds an unloading point ---------------------

@pytest.mark.browser
def test_site__admin_opens_the_demo_communitys_site_and_adds_an_unloading_point(new_context, info):
    admin = info["tokens"]["admin"]
    already = [s for s in call(info, "GET", "/api/sites", admin)["sites"] if s["community_id"] == info["community_id"]]
    _, page = phone(new_context)
    sign_in(page, info, admin, "管理员")
    page.get_by_test_id("staff-site").click()
    expect(page.get_by_test_id("site-title")).to_have_text("门岗管理")
    no_overflow(page)

    # 开通新的门岗 → 小区 → the community's number.
    page.get_by_test_id("site-new").click()
    expect(page.get_by_test_id("site-create-community")).to_be_checked()
    page.get_by_test_id("site-create-community_id").select_option(info["community_id"])
    page.get_by_test_id("site-create-submit").click()
    if already:
        # Opened by an earlier test of this session: the server's 409 is shown, the site is in the list.
        expect(page.get_by_test_id("error-message")).to_be_visible()
        page.locator(f'[data-testid="site-pick"][data-site-id="{already[0]["site_id"]}"]').click()
    else:
        expect(page.get_by_test_id("success-message")).to_contain_text("已开通门岗")
    expect(page.get_by_test_id("site-heading")).to_have_text("幸福家园小区")
    sid = page.get_by_test_id("site-current").get_attribute("data-site-id")
    assert sid == info["community_id"]  # a community's site has the community's id
    # The contract's defaults, as the form shows them.
    if not already:
        expect(page.get_by_test_id("site-lead_hours")).to_have_value("24")
        expect(page.get_by_test_id("site-test_valid_hours")).to_have_value("48")
        expect(page.get_by_test_id("site-rest_minutes")).to_have_value("30")
        expect(page.get_by_test_id("site-disinfectant")).to_have_value("84消毒液")
        expect(page.get_by_test_id("site-ratio")).to_have_value("1:100")
        expect(page.get_by_test_id("site-handover_area")).to_have_value("大门货物接驳区")
    before = len(call(info, "GET", f"/api/sites/{sid}", admin)["unloading_points"])

    # A new unloading point: name and route, saved with the settings.
    name = f"3号楼北侧空地 {uuid.uuid4().hex[:4]}"
    page.get_by_test_id("site-point-add").click()
    row = page.locator(f'[data-testid="site-point"][data-index="{before}"]')
    expect(row.get_by_test_id("site-point-name")).to_be_focused()
    row.get_by_test_id("site-point-name").fill(name)
    row.get_by_test_id("site-point-route").fill("进大门右转，沿主路到底")
    # A bad number is refused next to its field, in Chinese, before anything is sent.
    page.get_by_test_id("site-rest_minutes").fill("500")
    page.get_by_test_id("site-save").click()
    expect(page.get_by_test_id("site-rest_minutes-error")).to_have_text("请填 1 到 240 之间的整数")
    page.get_by_test_id("site-rest_minutes").fill("30")
    page.get_by_test_id("site-save").click()
    expect(page.get_by_test_id("success-message")).to_have_text("设置已保存。")
    no_overflow(page)

    site = call(info, "GET", f"/api/sites/{sid}", admin)
    points = [p for p in site["unloading_points"] if p["name"] == name]
    assert len(points) == 1 and points[0]["route"] == "进大门右转，沿主路到底" and points[0]["point_id"], site
    assert site["rest_minutes"] == 30
    # Shown again with its id, after a reload; English alongside.
    page.reload()
    saved = page.locator(f'[data-testid="site-point"][data-point-id="{points[0]["point_id"]}"]')
    expect(saved.get_by_test_id("site-point-name")).to_have_value(name)
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("site-title")).to_have_text("Gate settings")
    page.get_by_test_id("lang-toggle").click()

    # An invite for the site's reviewer: a link to copy.
    page.get_by_test_id("site-invite-reviewer-name").fill("张审核")
    page.get_by_test_id("site-invite-reviewer-create").click()
    url = page.get_by_test_id("site-invite-reviewer-url-text").input_value()
    assert re.search(r"#/invite/[^/]+$", url), url
    no_overflow(page)


# ---- (2) a supplier registers a vehicle, documents uploaded in the browser -------------------------

@pytest.mark.browser
def test_deliveries__supplier_registers_a_vehicle_with_its_documents_and_a_wrong_plate_is_refused_by_its_field(
        new_context, info, tmp_path):
    site = demo_site(info)
    sid = site["site_id"]
    png = png_file(tmp_path)
    plate = unique_plate()
    _, page = phone(new_context)
    sign_in(page, info, info["tokens"]["supplier"], "供应商")
    page.get_by_test_id("staff-deliveries").click()
    expect(page.get_by_test_id("dl-title")).to_have_text("车辆报备")
    page.get_by_test_id("dl-new").click()
    expect(page.get_by_test_id("dl-new-title")).to_have_text("登记送货车辆")
    no_overflow(page)

    page.get_by_test_id("dl-site").select_option(sid)
    page.get_by_test_id("dl-plate").fill("苏N1234")  # one character short
    page.get_by_test_id("dl-vehicle-refrigerated").check()
    page.get_by_test_id("dl-mode-enter").check()
    now = datetime.now(BEIJING)
    arrive = (now + timedelta(hours=27)).replace(second=0, microsecond=0)
    page.get_by_test_id("dl-arrive_from").fill(beijing_input(arrive))
    page.get_by_test_id("dl-arrive_until").fill(beijing_input(arrive + timedelta(hours=3)))
    page.get_by_test_id("dl-cargo-vegetables").check()
    page.get_by_test_id("dl-cargo-eggs").check()

    driver = page.locator('[data-testid="dl-person"][data-index="0"]')
    driver.get_by_test_id("dl-person-name").fill("王师傅")
    driver.get_by_test_id("dl-person-id_number").fill(id_number("32010219800101123"))
    driver.get_by_test_id("dl-person-phone").fill("138 0013 8015")
    driver.get_by_test_id("dl-person-test_at").fill(beijing_input(now - timedelta(hours=5)))
    for doc in DOCUMENTS:
        driver.get_by_test_id(f"dl-doc-{doc}").set_input_files(png)
        expect(driver.get_by_test_id(f"dl-doc-{doc}-status")).to_have_attribute("data-state", "done")
    # A passenger, with their own documents.
    page.get_by_test_id("dl-passenger-add").click()
    passenger = page.locator('[data-testid="dl-person"][data-index="1"]')
    expect(passenger.get_by_test_id("dl-person-name")).to_be_focused()
    passenger.get_by_test_id("dl-person-name").fill("赵师傅")
    passenger.get_by_test_id("dl-person-id_number").fill(id_number("11010519851212002"))
    passenger.get_by_test_id("dl-person-phone").fill("13700137000")
    passenger.get_by_test_id("dl-person-test_at").fill(beijing_input(now - timedelta(hours=4)))
    for doc in DOCUMENTS:
        passenger.get_by_test_id(f"dl-doc-{doc}").set_input_files(png)
        expect(passenger.get_by_test_id(f"dl-doc-{doc}-status")).to_have_attribute("data-state", "done")
    no_overflow(page)

    # The wrong plate: the server's 400 names `plate`, shown under the plate, in Chinese; English switchable.
    page.get_by_test_id("dl-submit").click()
    expect(page.get_by_test_id("dl-plate-error")).to_be_visible()
    expect(page.get_by_test_id("dl-plate-error")).to_contain_text("车牌")
    expect(page.get_by_test_id("dl-plate")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("dl-plate")).to_be_focused()
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("dl-new-title")).to_have_text("Register a delivery vehicle")
    expect(page.get_by_test_id("dl-plate-error")).to_contain_text("plate")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("dl-plate-error")).to_contain_text("车牌")
    assert not [d for d in call(info, "GET", "/api/suppliers/mine/deliveries", info["tokens"]["supplier"])["deliveries"]
                if d["plate"] in ("苏N1234", plate)]

    # Put right: registered, listed as waiting for review.
    page.get_by_test_id("dl-plate").fill(plate.lower())
    expect(page.get_by_test_id("dl-plate-error")).to_be_hidden()
    page.get_by_test_id("dl-submit").click()
    expect(page.get_by_test_id("success-message")).to_contain_text(plate)
    card = page.locator(f'[data-testid="dl-card"][data-plate="{plate}"]')
    expect(card.get_by_test_id("dl-status")).to_have_text("待审核")
    no_overflow(page)

    mine = [d for d in call(info, "GET", "/api/suppliers/mine/deliveries", info["tokens"]["supplier"])["deliveries"]
            if d["plate"] == plate]
    assert len(mine) == 1, mine
    d = mine[0]
    assert d["site_id"] == sid and d["status"] == "submitted" and d["vehicle_type"] == "refrigerated"
    assert sorted(d["cargo"]) == ["eggs", "vegetables"]
    assert [p["role"] for p in d["people"]] == ["driver", "passenger"]
    assert all(p["documents"] == {name: True for name in DOCUMENTS} for p in d["people"]), d["people"]
    assert d["arrive_from"] and datetime.fromisoformat(d["arrive_from"].replace("Z", "+00:00")) == arrive


# ---- (3) the reviewer approves it --------------------------------------------------------------------

@pytest.mark.browser
def test_review__a_reviewer_opens_a_document_and_approves_the_vehicle(new_context, info, tmp_path):
    site = demo_site(info)
    sid = site["site_id"]
    png = open(png_file(tmp_path), "rb").read()
    plate = unique_plate()
    arrive = (datetime.now(BEIJING) + timedelta(hours=26)).replace(second=0, microsecond=0)
    delivery = register(info, sid, plate, arrive, png)
    reviewer = invite(info, "reviewer", sid)

    context, page = phone(new_context)
    sign_in(page, info, reviewer, "审核员")
    expect(page.get_by_test_id("staff-note")).to_have_count(0)
    page.get_by_test_id("staff-review").click()
    expect(page.get_by_test_id("rv-title")).to_have_text("车辆审核")
    # Tomorrow by default: vehicles are approved the day before.
    tomorrow = beijing_day(datetime.now(BEIJING) + timedelta(days=1))
    expect(page.get_by_test_id("rv-day-label")).to_have_attribute("data-day", tomorrow)
    if beijing_day(arrive) != tomorrow:
        page.get_by_test_id("rv-day-next").click()
        expect(page.get_by_test_id("rv-day-label")).to_have_attribute("data-day", beijing_day(arrive))
    card = page.locator(f'[data-testid="rv-card"][data-plate="{plate}"]')
    expect(card.get_by_test_id("rv-status")).to_have_text("待审核")
    expect(card.get_by_test_id("rv-person-name")).to_have_text("李师傅")
    expect(card.get_by_test_id("rv-person-id")).to_have_text(re.compile(r"^320102\*+5617$|^320102\*{8}\d{3}[\dX]$"))
    assert "19790315" not in card.get_by_test_id("rv-person-id").inner_text()
    no_overflow(page)

    # A document opens in a new tab, through its short-lived link.
    with context.expect_page() as opened:
        card.get_by_test_id("rv-doc-health_code").click()
    doc = opened.value
    doc.wait_for_url(re.compile(r"^https?://"), timeout=15_000)
    assert doc.url.startswith("http") and "about:blank" not in doc.url
    doc.close()

    card.get_by_test_id("rv-approve").click()
    expect(page.get_by_test_id("success-message")).to_contain_text(plate)
    expect(card.get_by_test_id("rv-status")).to_have_text("已通过")
    got = call(info, "GET", f"/api/sites/{sid}/deliveries/{delivery['delivery_id']}", reviewer)
    assert got["status"] == "approved" and got["review"]["decision"] == "approve", got


# ---- (4) the supervisor's log, deviations first, and its Excel export ----------------------------------

@pytest.mark.browser
def test_gate_log__supervisor_sees_the_days_events_deviations_first_and_downloads_the_xlsx(new_context, info, tmp_path):
    site = demo_site(info)
    sid = site["site_id"]
    png = open(png_file(tmp_path), "rb").read()
    plate, stranger = unique_plate(), unique_plate()
    arrive = (datetime.now(BEIJING) + timedelta(hours=26)).replace(second=0, microsecond=0)
    delivery = register(info, sid, plate, arrive, png)
    did = delivery["delivery_id"]
    admin = info["tokens"]["admin"]
    officer = invite(info, "gate_officer", sid)
    supervisor = invite(info, "supervisor", sid)
    call(info, "POST", f"/api/sites/{sid}/deliveries/{did}/review", admin, {"decision": "approve"})
    # Today, at the gate: it comes a day early (outside its window), is disinfected and sent to an unloading
    # point, and its release is refused while the goods rest; a plate with no approval is turned away.
    arrived = call(info, "POST", f"/api/sites/{sid}/deliveries/{did}/gate", officer, {"action": "arrive", "plate": plate})
    assert arrived["gate"]["outside_window"] is True, arrived
    call(info, "POST", f"/api/sites/{sid}/deliveries/{did}/gate", officer, {"action": "disinfect", "operator": "刘消杀"})
    point = unloading_point(info, sid)
    call(info, "POST", f"/api/sites/{sid}/deliveries/{did}/gate", officer, {"action": "assign_point", "point_id": point["point_id"]})
    r = requests.post(f"{info['base_url']}/api/sites/{sid}/deliveries/{did}/gate", json={"action": "release"},
                      headers=bearer(officer), timeout=30)
    assert r.status_code == 422 and r.json()["error"]["code"] == "resting", r.text
    call(info, "POST", f"/api/sites/{sid}/gate/turn-away", officer, {"plate": stranger, "reason": "没有报备"},
         expect_status=(201,))
    today = beijing_day(datetime.now(BEIJING))
    log = call(info, "GET", f"/api/sites/{sid}/log?day={today}", supervisor)

    _, page = phone(new_context)
    sign_in(page, info, supervisor, "督查员")
    expect(page.get_by_test_id("staff-note")).to_have_count(0)
    page.get_by_test_id("staff-gate-log").click()
    expect(page.get_by_test_id("gl-title")).to_have_text("督查记录")
    expect(page.get_by_test_id("gl-day-label")).to_have_attribute("data-day", today)
    no_overflow(page)

    # Deviations first, in plain words.
    devs = page.get_by_test_id("gl-deviations")
    expect(devs.locator(f'[data-testid="gl-deviation"][data-plate="{plate}"][data-deviation="outside_window"]')
           .get_by_test_id("gl-deviation-label")).to_have_text("没有按报备的时间到达")
    expect(devs.locator(f'[data-testid="gl-deviation"][data-plate="{plate}"][data-deviation="release_before_rest"]')
           .get_by_test_id("gl-deviation-label")).to_have_text("静置时间还没到就要放行（已拦下）")
    expect(devs.locator(f'[data-testid="gl-deviation"][data-plate="{stranger}"][data-deviation="turned_away"]')
           .get_by_test_id("gl-deviation-label")).to_have_text("没有报备的车辆，已劝返")
    box = devs.bounding_box()
    first_event = page.get_by_test_id("gl-event").first.bounding_box()
    assert box["y"] < first_event["y"], "the deviations come before the timeline"

    # The timeline: every event of the day, ours among them in order.
    expect(page.get_by_test_id("gl-event")).to_have_count(len(log["events"]))
    ours = page.locator(f'[data-testid="gl-event"][data-plate="{plate}"]')
    expect(ours).to_have_count(6)
    assert [ours.nth(i).get_attribute("data-type") for i in range(6)] == \
        ["registered", "approved", "arrived", "disinfected", "routed", "release_refused"]
    expect(ours.nth(0).get_by_test_id("gl-event-type")).to_have_text("报备登记")

    # The Excel file of the day, read back: one row per event.
    with page.expect_download(timeout=60_000) as caught:
        page.get_by_test_id("gl-export-xlsx").click()
    dl = caught.value
    assert dl.failure() is None, dl.failure()
    path = tmp_path / dl.suggested_filename
    dl.save_as(path)
    assert path.suffix == ".xlsx", path
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True) if any(c not in (None, "") for c in r)]
    header, body = rows[0], rows[1:]
    assert len(body) == len(log["events"]), (header, len(body), len(log["events"]))
    plates = [str(c) for r in body for c in r if c in (plate, stranger)]
    assert plates.count(plate) == 6 and plates.count(stranger) == 1, plates
    no_overflow(page)
