"""The gate officer's phone (#/staff/gate) in the browser, on a 360 px phone: a vehicle that enters, from
arrival through disinfection, the 30-minute rest (its countdown), the unloading point, release and unloading
(the second disinfection) to departure; a vehicle that hands over at the gate; turning away a plate.

This module moves the app server's clock (POST /_dev/clock), so it runs its own `make dev` stack and never
the shared `dev_stack`. Time is moved on by the hook and by Playwright's clock, never by sleeping.

Set-up goes through the API, as the people before the gate officer would: the admin opens the demo
community's site and invites its gate officer and reviewer (accepted before the clock moves: tokens issued
later carry a future iat), the supplier uploads each person's five files to S3 and registers the vehicles for
tomorrow (a day ahead, as plan 2 asks), the reviewer approves them; then the server's clock moves on a day, into
their arrival window. What the gate officer does goes through the page.
"""
import io
import random
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.stackrunner import DevStack

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 360, 740
BEIJING = timezone(timedelta(hours=8))
DOCUMENTS = ("health_code", "travel_record", "identity", "test_report", "commitment")
POINTS = [
    {"name": "东门卸货点", "route": "东门进，沿东侧消防通道直行到 3 栋北侧"},
    {"name": "北门卸货点", "route": "北门进，右转到 9 栋与 10 栋之间的空地"},
]
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O


# ---- the stack and its clock ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def gate_stack(tmp_path_factory):
    """Our own stack: its clock is moved on, which must never touch other modules' stack."""
    stack = DevStack(tmp_path_factory.mktemp("gatestack")).start()
    try:
        yield stack
    finally:
        try:
            requests.post(stack.info["base_url"] + "/_dev/clock", json={"reset": True}, timeout=10)
        finally:
            stack.stop()


def move_clock(base: str, seconds: float) -> dict:
    r = requests.post(f"{base}/_dev/clock", json={"advance_seconds": seconds}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def call(method: str, base: str, path: str, token: str | None, body: dict | None = None, expect_status=(200,)):
    r = requests.request(method, base + path, json=body, headers=bearer(token) if token else {}, timeout=30)
    assert r.status_code in expect_status, (method, path, r.status_code, r.text)
    return r.json() if r.content else None


# ---- set-up through the API ---------------------------------------------------------------------

def id_number(base17: str) -> str:
    """An 18-character mainland ID number with its check digit (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return base17 + "10X98765432"[sum(int(c) * w for c, w in zip(base17, weights)) % 11]


def plate(province: str) -> str:
    return f"{province}{random.choice(_PLATE_LETTERS)}{random.randint(10000, 99999)}"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (11, 93, 59)).save(out, format="PNG")
    return out.getvalue()


def upload(base: str, supplier: str, sid: str) -> str:
    """One checklist file, sent straight to S3 through the presigned POST; returns its key."""
    slot = call("POST", base, f"/api/sites/{sid}/documents", supplier, expect_status=(201,))
    r = requests.post(slot["url"], data={**slot["fields"], "Content-Type": "image/png"},
                      files={"file": ("doc.png", png_bytes(), "image/png")}, timeout=30)
    assert r.status_code in (200, 201, 204), (r.status_code, r.text)
    return slot["key"]


def open_site(base: str, admin: str, community_id: str) -> dict:
    body = {"community_id": community_id, "unloading_points": POINTS}
    r = requests.post(f"{base}/api/sites", json=body, headers=bearer(admin), timeout=30)
    if r.status_code == 409:  # the demo community already has its site: give it our points
        site = next(s for s in call("GET", base, "/api/sites", admin)["sites"] if s["community_id"] == community_id)
        return call("PUT", base, f"/api/sites/{site['site_id']}", admin,
                    {k: v for k, v in site.items() if k in ("name", "handover_area")} | {"unloading_points": POINTS})
    assert r.status_code == 201, r.text
    return r.json()


def invite(base: str, admin: str, role: str, sid: str) -> str:
    code = call("POST", base, "/api/invites", admin, {"role": role, "scope_id": sid}, expect_status=(200, 201))["code"]
    accepted = call("POST", base, f"/api/invites/{code}/accept", None, expect_status=(200, 201))
    assert accepted["role"] == role and accepted["scope_id"] == sid, accepted
    return accepted["token"]


def register(base: str, supplier: str, sid: str, *, plate_: str, mode: str, arrive_from: datetime) -> dict:
    documents = {name: upload(base, supplier, sid) for name in DOCUMENTS}
    body = {
        "plate": plate_, "vehicle_type": "van", "mode": mode, "cargo": ["rice", "vegetables"],
        "arrive_from": arrive_from.isoformat(timespec="seconds"),
        "arrive_until": (arrive_from + timedelta(hours=2)).isoformat(timespec="seconds"),
        "note": "门岗测试",
        "people": [{"role": "driver", "name": "王师傅", "id_number": id_number("32010219800101123"),
                    "phone": "13800138015", "test_at": (datetime.now(BEIJING) - timedelta(hours=2)).isoformat(timespec="seconds"),
                    "documents": documents}],
    }
    r = requests.post(f"{base}/api/sites/{sid}/deliveries", json=body,
                      headers={**bearer(supplier), "Idempotency-Key": str(uuid.uuid4())}, timeout=30)
    assert r.status_code == 201, r.text
    delivery = r.json()
    assert delivery["status"] == "submitted", delivery
    return delivery


@pytest.fixture(scope="module")
def scene(gate_stack):
    """The site, its gate officer and reviewer, two approved vehicles for tomorrow; then the clock moves
    on into their window, so they are today's."""
    info = gate_stack.info
    base, tokens = info["base_url"], info["tokens"]
    site = open_site(base, tokens["admin"], info["community_id"])
    sid = site["site_id"]
    officer = invite(base, tokens["admin"], "gate_officer", sid)
    reviewer = invite(base, tokens["admin"], "reviewer", sid)

    # Tomorrow, at least lead_hours (24) ahead; not after 22:00 Beijing, so that the server's "now", an hour or
    # so into the window after all the moves, is still the window's day.
    arrive_from = (datetime.now(BEIJING) + timedelta(hours=25)).replace(second=0, microsecond=0)
    if arrive_from.hour >= 22:
        arrive_from += timedelta(hours=3)
    enter = register(base, tokens["supplier"], sid, plate_=plate("苏"), mode="enter", arrive_from=arrive_from)
    handover = register(base, tokens["supplier"], sid, plate_=plate("沪"), mode="handover", arrive_from=arrive_from)
    for d in (enter, handover):
        reviewed = call("POST", base, f"/api/sites/{sid}/deliveries/{d['delivery_id']}/review", reviewer,
                        {"decision": "approve"})
        assert reviewed["status"] == "approved", reviewed

    moved = move_clock(base, (arrive_from - datetime.now(BEIJING)).total_seconds() + 120)
    now = datetime.fromisoformat(moved["now"].replace("Z", "+00:00"))
    assert arrive_from < now < arrive_from + timedelta(minutes=10), (moved, arrive_from)
    return {"base": base, "sid": sid, "site": call("GET", base, f"/api/sites/{sid}", officer), "officer": officer,
            "reviewer": reviewer, "enter": enter, "handover": handover, "info": info}


# ---- the browser ---------------------------------------------------------------------------------

def gate_phone(new_context, scene, *, fake_clock: bool = False):
    """The gate officer's phone at 360 px, signed in, on today's vehicles."""
    context = new_context(WIDTH, HEIGHT)
    page = context.pages[0] if context.pages else context.new_page()
    if fake_clock:
        page.clock.install()  # the phone's own clock, moved on with fast_forward (it runs on by itself too)
    page.goto(f"{scene['base']}/#/signin/{scene['officer']}")
    expect(page.get_by_test_id("staff-role")).to_have_attribute("data-role", "gate_officer")
    page.goto(f"{scene['base']}/#/staff/gate")
    expect(page.get_by_test_id("gate-list")).to_be_visible()
    return page


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url}: scrollWidth {width} > {WIDTH}"


def card_of(page, did: str):
    return page.locator(f'[data-testid="gate-card"][data-delivery-id="{did}"]')


def delivery_of(scene, did: str) -> dict:
    return call("GET", scene["base"], f"/api/sites/{scene['sid']}/deliveries/{did}", scene["officer"])


def step_button(page, action: str):
    button = page.get_by_test_id("gate-action")
    expect(button).to_have_attribute("data-action", action)
    return button


def expect_status(page, status: str) -> None:
    expect(page.get_by_test_id("gate-delivery")).to_have_attribute("data-status", status)


COUNTDOWN = re.compile(r"^\d\d:\d\d$")


def seconds_shown(page) -> int:
    text = page.get_by_test_id("gate-countdown").inner_text().strip()
    assert COUNTDOWN.match(text), text
    m, s = text.split(":")
    return int(m) * 60 + int(s)


def test_gate_officer__vehicle_that_enters__arrival_disinfection_rest_unloading_departure_at_360px(
        new_context, scene, artifacts):
    base, sid, d = scene["base"], scene["sid"], scene["enter"]
    did, plate_ = d["delivery_id"], d["plate"]
    page = gate_phone(new_context, scene, fake_clock=True)

    # Today's vehicles: the plate large, entering, the supplier, the window, the steps.
    card = card_of(page, did)
    expect(card.get_by_test_id("gate-card-plate")).to_have_text(plate_)
    expect(card.get_by_test_id("gate-mode")).to_have_text("进入")
    expect(card).to_contain_text(d["supplier_name"])
    expect(card.get_by_test_id("gate-card-status")).to_have_attribute("data-status", "approved")
    expect(card.get_by_test_id("gate-card-steps").locator("li")).to_have_count(6)
    no_overflow(page)
    page.screenshot(path=str(artifacts / "gate-today-360.png"), full_page=True)
    card.click()

    # Arrival: the plate read at the gate must be the registered one.
    expect(page.get_by_test_id("gate-plate")).to_have_text(plate_)
    expect_status(page, "approved")
    wrong = plate_[:-1] + ("1" if plate_[-1] != "1" else "2")
    page.get_by_test_id("gate-f-plate").fill(wrong)
    with page.expect_response(lambda r: r.url.endswith(f"/deliveries/{did}/gate")) as refused:
        step_button(page, "arrive").click()
    assert refused.value.status == 422
    error = refused.value.json()["error"]
    assert error["code"] == "plate_mismatch", error
    expect(page.get_by_test_id("error-message")).to_have_text(error["message"])
    expect(page.get_by_test_id("gate-f-plate-error")).to_have_text(error["message"])
    assert delivery_of(scene, did)["status"] == "approved"
    page.get_by_test_id("gate-f-plate").fill(plate_)
    step_button(page, "arrive").click()
    expect_status(page, "arrived")
    expect(page.get_by_test_id("gate-h-arrived")).to_be_visible()

    # Disinfection: the operator's name; the site's disinfectant and ratio filled in.
    expect(page.get_by_test_id("gate-f-disinfectant")).to_have_value(scene["site"]["disinfectant"])
    expect(page.get_by_test_id("gate-f-ratio")).to_have_value(scene["site"]["ratio"])
    page.get_by_test_id("gate-f-operator").fill("张消杀")
    step_button(page, "disinfect").click()
    expect_status(page, "disinfected")

    # The rest starts: about 30:00 left, on the server's clock (a day ahead of the phone's).
    expect(page.get_by_test_id("gate-countdown")).to_have_text(re.compile(r"^(30:00|29:[0-5]\d)$"))
    assert 29 * 60 <= seconds_shown(page) <= 30 * 60

    # The unloading point: the site's points with their routes; the driver stays in the cab.
    expect(page.get_by_test_id("gate-no-contact")).to_be_visible()
    point = scene["site"]["unloading_points"][1]
    expect(page.get_by_test_id("gate-points")).to_contain_text(point["route"])
    page.get_by_test_id(f"gate-point-{point['point_id']}").check()
    step_button(page, "assign_point").click()
    expect_status(page, "routed")
    expect(page.get_by_test_id("gate-h-point")).to_contain_text(point["name"])

    # Release waits for the rest: the button is disabled, and the server refuses too (422 resting).
    release = step_button(page, "release")
    expect(release).to_be_disabled()
    expect(page.get_by_test_id("gate-release-wait")).to_be_visible()
    expect(page.get_by_test_id("gate-countdown")).to_have_text(re.compile(r"^(30:00|29:[0-5]\d)$"))
    page.screenshot(path=str(artifacts / "gate-resting-360.png"), full_page=True)
    no_overflow(page)
    r = requests.post(f"{base}/api/sites/{sid}/deliveries/{did}/gate", json={"action": "release"},
                      headers=bearer(scene["officer"]), timeout=30)
    assert r.status_code == 422, r.text
    refusal = r.json()["error"]
    assert refusal["code"] == "resting", r.text
    resting = delivery_of(scene, did)
    assert resting["status"] == "routed"
    ends = refusal["fields"]["rest_ends_at"]
    assert (ends[0] if isinstance(ends, list) else ends) == resting["gate"]["rest_ends_at"], refusal
    log = call("GET", base, f"/api/sites/{sid}/log", scene["reviewer"])
    assert [e["type"] for e in log["deviations"] if e["delivery_id"] == did] == ["release_refused"], log["deviations"]
    assert [e["deviation"] for e in log["deviations"] if e["delivery_id"] == did] == ["release_before_rest"]

    # The countdown ticks with the phone's clock.
    before = seconds_shown(page)
    page.clock.fast_forward("01:00")
    expect(page.get_by_test_id("gate-countdown")).to_have_text(re.compile(r"^(29:0\d|28:[0-5]\d)$"))
    assert before - 62 <= seconds_shown(page) <= before - 59

    # 31 minutes later, on the server and on the phone: the rest is over, the phone fetches the vehicle again.
    move_clock(base, 31 * 60)
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith(f"/deliveries/{did}")) as again:
        page.clock.fast_forward("30:00")
    assert again.value.status == 200
    expect(page.get_by_test_id("gate-rest-over")).to_be_visible()
    expect(page.get_by_test_id("gate-countdown")).to_be_hidden()
    page.get_by_test_id("gate-refresh").click()
    release = step_button(page, "release")
    expect(release).to_be_enabled()
    release.click()
    expect_status(page, "released")
    expect(page.get_by_test_id("gate-h-released")).to_be_visible()

    # Unloading, with the second disinfection (of the packaging); the operator's name is remembered.
    expect(page.get_by_test_id("gate-f-operator")).to_have_value("张消杀")
    page.get_by_test_id("gate-f-operator").fill("李消杀")
    step_button(page, "unload").click()
    expect_status(page, "unloaded")
    expect(page.get_by_test_id("gate-h-disinfection")).to_have_count(2)

    # Departure: done.
    step_button(page, "depart").click()
    expect_status(page, "departed")
    expect(page.get_by_test_id("gate-done")).to_have_attribute("data-status", "departed")
    expect(page.get_by_test_id("gate-done")).to_contain_text("已离开")
    expect(page.get_by_test_id("gate-action")).to_have_count(0)
    expect(page.get_by_test_id("gate-steps").locator("li.gate-step-done")).to_have_count(6)
    history = page.get_by_test_id("gate-history")
    expect(history).to_contain_text("张消杀")
    expect(history).to_contain_text("李消杀")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "gate-departed-360.png"), full_page=True)

    # The record on the server.
    gate = delivery_of(scene, did)["gate"]
    assert [x["stage"] for x in gate["disinfections"]] == ["gate", "packaging"], gate
    assert [x["operator"] for x in gate["disinfections"]] == ["张消杀", "李消杀"], gate
    assert all(x["disinfectant"] == scene["site"]["disinfectant"] and x["ratio"] == scene["site"]["ratio"]
               for x in gate["disinfections"]), gate
    assert gate["point"]["point_id"] == point["point_id"], gate
    assert gate["released_at"] and gate["unloaded_at"] and gate["departed_at"], gate
    assert gate["released_at"] >= gate["rest_ends_at"], gate

    # Back on the list, the card says departed.
    page.get_by_test_id("gate-done-back").click()
    card = card_of(page, did)
    expect(card.get_by_test_id("gate-card-status")).to_have_attribute("data-status", "departed")


def test_gate_officer__vehicle_that_hands_over__set_down_leave_disinfect_release_at_360px(new_context, scene):
    base, d = scene["base"], scene["handover"]
    did, plate_ = d["delivery_id"], d["plate"]
    page = gate_phone(new_context, scene)
    card = card_of(page, did)
    expect(card.get_by_test_id("gate-mode")).to_have_text("门口交接")
    expect(card.get_by_test_id("gate-card-steps").locator("li")).to_have_count(5)
    card.click()

    page.get_by_test_id("gate-f-plate").fill(plate_)
    step_button(page, "arrive").click()
    expect_status(page, "arrived")
    expect(page.get_by_test_id("gate-area")).to_contain_text(scene["site"]["handover_area"])
    step_button(page, "set_down").click()
    expect_status(page, "set_down")
    step_button(page, "leave").click()
    expect_status(page, "left")
    page.get_by_test_id("gate-f-operator").fill("赵消杀")
    step_button(page, "disinfect").click()
    expect_status(page, "disinfected")
    expect(page.get_by_test_id("gate-countdown")).to_have_text(re.compile(r"^(30:00|29:[0-5]\d)$"))
    expect(step_button(page, "release")).to_be_disabled()
    no_overflow(page)

    # The server's clock moves on; the phone's does not: 刷新 takes the server's time (skew from server_now).
    move_clock(base, 31 * 60)
    page.get_by_test_id("gate-refresh").click()
    expect(page.get_by_test_id("gate-rest-over")).to_be_visible()
    expect(step_button(page, "release")).to_be_enabled()
    step_button(page, "release").click()
    expect_status(page, "released")
    expect(page.get_by_test_id("gate-done")).to_have_attribute("data-status", "released")

    gate = delivery_of(scene, did)["gate"]
    assert [x["stage"] for x in gate["disinfections"]] == ["gate"], gate
    assert gate["set_down_at"] and gate["left_at"] and gate["released_at"], gate
    assert gate["set_down_at"] <= gate["left_at"] <= gate["released_at"], gate


def test_gate_officer__turns_away_an_unregistered_plate__in_english_at_360px(new_context, scene, artifacts):
    page = gate_phone(new_context, scene)
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("gate-day")).to_contain_text("Today")
    card = card_of(page, scene["enter"]["delivery_id"])
    expect(card.get_by_test_id("gate-mode")).to_have_text("Enters")
    no_overflow(page)

    stranger = plate("浙")
    page.get_by_test_id("gate-turn-plate").fill(stranger)
    page.get_by_test_id("gate-turn-reason").fill("Not registered the day before")
    with page.expect_response(lambda r: r.url.endswith("/gate/turn-away")) as answer:
        page.get_by_test_id("gate-turn-submit").click()
    assert answer.value.status == 201, answer.value.text()
    expect(page.get_by_test_id("success-message")).to_contain_text(stranger)
    expect(page.get_by_test_id("gate-turn-plate")).to_have_value("")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "gate-today-en-360.png"), full_page=True)

    log = call("GET", scene["base"], f"/api/sites/{scene['sid']}/log", scene["reviewer"])
    turned = [e for e in log["deviations"] if e["type"] == "turned_away" and e["plate"] == stranger]
    assert len(turned) == 1, log["deviations"]
    assert turned[0]["deviation"] == "turned_away"
