"""Every user string the PWA renders goes in as text (issue 12, point 6): script-like names, notes,
reasons and bundle names planted through the API (and a household name typed into the join form)
come back on every screen that shows them as their literal text, and nothing runs.

On each screen:
- no dialog opened (page.on("dialog"));
- `window.__xss` is unset (the payloads set it if they ever run);
- no element was made from a payload (no img[src="x"], no element with onerror/onload, no <svg>, <u>
  or inline <script> carrying a payload, no javascript: link);
- the payloads the screen shows are in its rendered text, literally.

Field lengths follow api/schemas.py (a household name is at most 20 characters: `<svg onload=__xss=1>`).
Buildings and units cannot carry a payload (the API takes only the community's own), nor can rooms
(letters and digits), phones or payment references (digits): they are not planted.

The screens: the resident's join, rounds, my orders (to pay, 我已付款, paid with the arrival notice, a
rejected claim's and a supplier's cancellation's reasons), household, in Chinese and English; the
liaison's roster, household, call list of special households, assisted order, community, unpaid, slots
and progress; the volunteer's pickup rounds, building list, confirm sheet and door deliveries; the
supplier's rounds, round console and payment board (its rejected and cancelled tabs); the gate's site
settings, a supplier's vehicle registrations (waiting, refused), the review queue, the gate log and
the gate officer's day; the supply chain's dashboard (each tab), demand report, ledger and a supply
point's daily report. The payment QR's text (`javascript:...`) is drawn as an image by the API and is
never a link; the check that no javascript: link exists runs on every screen.

Set-up, on the module's own `make dev` stack (its 货已到 reaches every building's residents, and it
renames shared places): one round of the module's own in the demo community (closed at the end); the demo community's
distribution point and its gate site's name, handover area and unloading points are replaced by
payloads and put back after. Rooms end in 29.
"""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import Api
from tests.e2e.flows import fill_join_form, session
from tests.stackrunner import DevStack

WIDTH = 360
BEIJING = timezone(timedelta(hours=8))

# What each field can hold (api/schemas.py), and a payload that fits it.
HOUSEHOLD_NAME = "<svg onload=__xss=1>"                                 # name ≤ 20
SPECIAL_CONTACT = "<svg onload=alert()>"                               # contact_name ≤ 20
ROUND_NAME = '<img src=x onerror=alert(1)>"><script>__xss=1</script>'  # ≤ 60
BUNDLE_NAME = "<img src=x onerror=window.__xss=1>"                     # ≤ 40
ITEM_NAME = "<img src=x onerror=__xss=1>"                              # ≤ 30
ITEM_UNIT = "<u>kg</u>"                                                # ≤ 10
PAYMENT_QR = 'javascript:window.__xss=1//"><script>__xss=1</script>'   # drawn as a QR image; never a link
POINT_NAME = "<img src=x onerror=alert(1)>"                            # distribution point ≤ 40
POINT_NOTE = '"><img src=x onerror=window.__xss=1><script>alert(1)</script>'  # ≤ 100
ARRIVAL_NOTE = "<img src=x onerror=__xss=1> 货已到 <script>alert(1)</script>"  # ≤ 200; kept, not shown to residents
SPECIAL_NOTE = "<img src onerror=alert(1)> 独居"                       # ≤ 100
SPECIAL_NEEDS = '"><svg onload=window.__xss=1> 送上门'                  # ≤ 200
CHECK_IN_NOTES = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"  # ≤ 300
REJECT_REASON = "<img src=x onerror=alert(1)> 没收到"                   # ≤ 100
CANCEL_REASON = "<svg onload=window.__xss=1> 缺货"                      # ≤ 100

MADE_FROM_PAYLOAD = """() => {
    const bad = (el) => /xss|alert/i.test(el.outerHTML);
    const found = [
        ...document.querySelectorAll('img[src="x"], img[src=""], [onerror], [onload], svg, u'),
        ...[...document.querySelectorAll('script')].filter((s) => /xss|alert/i.test(s.textContent)),
        ...[...document.querySelectorAll('a[href], iframe, object, embed')].filter(
            (a) => /^\\s*javascript:/i.test(a.getAttribute('href') || a.getAttribute('src') || a.getAttribute('data') || '')),
    ];
    return { xss: window.__xss === undefined ? null : String(window.__xss),
             made: found.map((el) => el.outerHTML.slice(0, 160)), anyBad: found.some(bad) };
}"""


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory):
    """This module's own `make dev` stack: it sends 货已到 (every building's residents see it for 7 days) and replaces the distribution point and the gate site's names, which the other modules must never see."""
    with DevStack(tmp_path_factory.mktemp("xssstack")) as stack:
        yield stack


def iso(dt: datetime) -> str:
    return dt.astimezone(BEIJING).isoformat(timespec="seconds")


def bearer(token: str, **more) -> dict:
    return {"Authorization": f"Bearer {token}", **more}


class Planted:
    """The module's round, flats and orders, with payloads in every text field a screen shows."""

    def __init__(self, info: dict):
        self.info = info
        self.api = Api(info)
        self.base = info["base_url"]
        self.cid = info["community_id"]

    def call(self, method: str, path: str, role: str | None = None, body: dict | None = None,
             token: str | None = None, ok=(200, 201)) -> dict:
        tok = token or (self.info["tokens"][role] if role else None)
        headers = {"Idempotency-Key": str(uuid.uuid4()), **(bearer(tok) if tok else {})}
        r = requests.request(method, self.base + path, json=body, headers=headers, timeout=30)
        assert r.status_code in ok, (method, path, r.status_code, r.text)
        return r.json() if r.content else {}

    def plant(self) -> None:
        now = datetime.now(BEIJING)
        rnd = self.call("POST", "/api/rounds", "supplier", {
            "name": ROUND_NAME, "community_ids": [self.cid],
            "opens_at": iso(now - timedelta(hours=1)), "closes_at": iso(now + timedelta(days=1)),
            "payment_deadline": iso(now + timedelta(days=1, hours=6)), "payment_qr": PAYMENT_QR,
            "bundles": [{"name": BUNDLE_NAME, "items": [{"name": ITEM_NAME, "qty": "5", "unit": ITEM_UNIT}],
                         "price_fen": 3900, "stock": 40, "per_household_limit": 2}],
        })
        self.round_id = rnd["round_id"]
        self.bundle_id = rnd["bundles"][0]["bundle_id"]

        # The community's distribution point: the module's payload, the old one put back at the end.
        self.before = self.call("GET", f"/api/communities/{self.cid}", "liaison")
        self.call("POST", f"/api/communities/{self.cid}/distribution-point/retire", "liaison", ok=(200, 201, 404, 409, 422))
        self.call("PUT", f"/api/communities/{self.cid}/distribution-point", "liaison",
                  {"name": POINT_NAME, "note": POINT_NOTE})

        # A special household with a door delivery waiting: its contact, note, needs and a check-in.
        self.special = self.flat("1229", "13900001229", name=HOUSEHOLD_NAME, pay=True)
        ref = self.flat_ref("1229")
        self.special["flat_ref"] = ref
        self.call("PUT", f"/api/communities/{self.cid}/households/{ref}/special", "liaison", {
            "category": "other", "note": SPECIAL_NOTE, "contact_name": SPECIAL_CONTACT,
            "contact_phone": "13911111229", "needs": SPECIAL_NEEDS})
        self.call("POST", f"/api/communities/{self.cid}/households/{ref}/check-ins", "liaison", {
            "method": "call", "outcome": "needs_help", "notes": CHECK_IN_NOTES})

        # A claim the supplier rejects, and a paid order the supplier cancels: their reasons.
        rejected = self.flat("1329", "13900001329", pay=False)
        self.call("POST", f"/api/orders/{rejected['order_id']}/payment-claim", token=rejected["token"],
                  body={"reference": "1329"})
        self.call("POST", f"/api/rounds/{self.round_id}/payments/reject", "supplier",
                  {"order_id": rejected["order_id"], "reason": REJECT_REASON})
        self.rejected = rejected
        cancelled = self.flat("1429", "13900001429", pay=True)
        self.call("POST", f"/api/rounds/{self.round_id}/orders/{cancelled['order_id']}/cancel", "supplier",
                  {"reason": CANCEL_REASON})
        self.cancelled = cancelled

    def flat(self, room: str, phone: str, name: str = "", pay: bool = True) -> dict:
        body = {"building": "1栋", "room": room, "phone": phone, **({"name": name} if name else {})}
        token = self.call("POST", f"/api/join/{self.info['join_key']}/households", body=body)["token"]
        return {"token": token, "room": room, **self.order(token, pay)}

    def order(self, token: str, pay: bool) -> dict:
        placed = self.call("POST", "/api/orders", token=token, body={
            "round_id": self.round_id, "lines": [{"bundle_id": self.bundle_id, "qty": 1}]})
        if pay:
            self.call("POST", f"/api/rounds/{self.round_id}/payments/confirm", "supplier",
                      {"order_ids": [placed["order_id"]]})
        return placed

    def flat_ref(self, room: str) -> str:
        r = requests.get(f"{self.base}/api/communities/{self.cid}/roster", params={"room": room},
                         headers=bearer(self.info["tokens"]["liaison"]), timeout=30)
        assert r.status_code == 200, r.text
        (entry,) = [e for e in r.json()["households"] if e["building"] == "1栋"]
        return entry["flat_ref"]

    def arrival(self) -> None:
        self.call("POST", f"/api/communities/{self.cid}/rounds/{self.round_id}/arrival", "liaison",
                  {"note": ARRIVAL_NOTE})

    def restore(self) -> None:
        base = f"{self.base}/api/communities/{self.cid}"
        headers = bearer(self.info["tokens"]["liaison"])
        requests.post(f"{base}/distribution-point/retire", headers=headers, timeout=30)
        dp = self.before.get("distribution_point")
        if dp:
            requests.put(f"{base}/distribution-point", json={k: v for k, v in dp.items() if k in ("name", "note") and v},
                         headers=headers, timeout=30)
        requests.post(f"{self.base}/api/rounds/{self.round_id}/close", json={}, timeout=30,
                      headers=bearer(self.info["tokens"]["supplier"]))


@pytest.fixture(scope="module")
def planted(dev_stack):
    p = Planted(dev_stack.info)
    try:
        p.plant()
        yield p
    finally:
        p.restore()


class Screens:
    """Phones whose dialogs are caught, and the check run on each screen."""

    def __init__(self, new_context):
        self.new_context = new_context
        self.dialogs: list[str] = []
        self.checked: list[str] = []

    def phone(self):
        context = self.new_context(WIDTH)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("dialog", lambda d: (self.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
        return page

    def inert(self, page, screen: str, *shown: str) -> None:
        """The payloads `shown` are on the screen as text; nothing ran, nothing was made from one."""
        for text in shown:
            try:
                page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=15_000)
            except Exception:
                raise AssertionError(f"{screen}: {text!r} is not shown literally ({page.url})\n"
                                     f"{page.evaluate('document.body.innerText')[:3000]}") from None
        page.wait_for_load_state("load")
        # Give any <img onerror> a chance to have fired: an image that fails does so on the next tasks.
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))")
        state = page.evaluate(MADE_FROM_PAYLOAD)
        assert state["xss"] is None, f"{screen}: a payload ran (window.__xss = {state['xss']})"
        assert not state["made"], f"{screen}: elements made from payloads: {state['made']}"
        assert not self.dialogs, f"{screen}: dialogs opened: {self.dialogs}"
        self.checked.append(screen)


@pytest.fixture
def screens(new_context):
    return Screens(new_context)


def staff_phone(screens, info, role: str):
    return signed_in(screens, info, info["tokens"][role])


# ---- the check itself -----------------------------------------------------------------------------

@pytest.mark.browser
def test_xss_check__catches_a_payload_that_runs_and_an_element_made_from_one(screens, info):
    """The check can fail: markup put in as HTML is found, whether or not its script ran."""
    page = screens.phone()
    page.goto(f"{info['base_url']}/")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    screens.inert(page, "start page")
    page.evaluate("() => { document.getElementById('main').insertAdjacentHTML('beforeend', '<p><u>kg</u></p>'); }")
    with pytest.raises(AssertionError, match="elements made from payloads"):
        screens.inert(page, "a <u> made from markup")
    page.evaluate("(h) => { document.getElementById('main').innerHTML = h; }", ITEM_NAME)
    page.wait_for_function("() => window.__xss === 1")
    with pytest.raises(AssertionError, match="a payload ran"):
        screens.inert(page, "an <img onerror> put in as HTML")
    page.evaluate("() => { delete window.__xss; document.getElementById('main').textContent = ''; }")
    page.evaluate("() => setTimeout(() => alert('xss'), 0)")
    page.wait_for_function("() => true")
    page.wait_for_timeout(200)  # lets the alert open (and be dismissed); no timing is asserted
    with pytest.raises(AssertionError, match="dialogs opened"):
        screens.inert(page, "an alert")


# ---- residents ---------------------------------------------------------------------------------------

@pytest.mark.browser
def test_xss__resident_screens__show_names_bundles_notes_and_reasons_as_text(screens, info, planted):
    base = info["base_url"]
    page = screens.phone()

    # Join: the distribution point; the household's name typed in as a payload.
    page.goto(info["join_url"])
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    screens.inert(page, "join", POINT_NAME, POINT_NOTE)
    fill_join_form(page, "1栋", "1129", "13900001129")
    page.get_by_test_id("name").fill(HOUSEHOLD_NAME)
    page.get_by_test_id("join-submit").click()
    expect(page).to_have_url(re.compile(r"#/rounds$"))
    token = session(page)["token"]
    hh = requests.get(f"{base}/api/households/mine", headers=bearer(token), timeout=30).json()
    assert hh.get("name", HOUSEHOLD_NAME) == HOUSEHOLD_NAME, hh

    # The rounds: round, bundle, item names and unit.
    expect(page.locator(f'[data-testid="round"][data-round-id="{planted.round_id}"]')).to_be_visible()
    screens.inert(page, "rounds", ROUND_NAME, BUNDLE_NAME, ITEM_NAME, ITEM_UNIT)

    # Ordered and paid, goods arrived: the order, the payment QR's text, the notice and where.
    card = page.locator(f'[data-testid="round"][data-round-id="{planted.round_id}"]').get_by_test_id("bundle-card")
    card.get_by_test_id("qty-plus").click()
    page.get_by_test_id("order-submit").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    expect(page.get_by_test_id("order-card").first.get_by_test_id("pay")).to_be_visible()
    screens.inert(page, "my orders: to pay", BUNDLE_NAME)
    page.get_by_test_id("pay-claim").first.click()
    expect(page.get_by_test_id("pay-reference")).to_be_visible()
    screens.inert(page, "pay: claim form", BUNDLE_NAME)
    mine = requests.get(f"{base}/api/orders/mine", headers=bearer(token), timeout=30).json()["orders"]
    planted.call("POST", f"/api/rounds/{planted.round_id}/payments/confirm", "supplier",
                 {"order_ids": [o["order_id"] for o in mine]})
    planted.arrival()
    page.reload()
    expect(page.get_by_test_id("notice-banner")).to_be_visible()
    screens.inert(page, "my orders: paid, notice", ROUND_NAME, BUNDLE_NAME, POINT_NAME)

    page.get_by_test_id("nav-household").click()
    expect(page.get_by_test_id("household-title").or_(page.get_by_role("heading", level=1))).to_be_visible()
    page.wait_for_load_state("networkidle")
    screens.inert(page, "household")

    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("nav-orders").click()
    expect(page.get_by_test_id("notice-banner")).to_be_visible()
    screens.inert(page, "my orders (English)", ROUND_NAME, BUNDLE_NAME, POINT_NAME)
    page.get_by_test_id("nav-order").click()
    screens.inert(page, "rounds (English)", ROUND_NAME, BUNDLE_NAME, ITEM_NAME, ITEM_UNIT)

    # The supplier's reasons, on the orders of the flats they were given to.
    for flat, reason in ((planted.rejected, REJECT_REASON), (planted.cancelled, CANCEL_REASON)):
        other = screens.phone()
        other.goto(info["join_url"])
        expect(other.get_by_test_id("community-name")).to_be_visible()
        # The same flat again: a second phone, approved by the first through the API, sees the orders.
        fill_join_form(other, "1栋", flat["room"], "139000" + flat["room"] + "9")
        other.get_by_test_id("join-submit").click()
        expect(other).to_have_url(re.compile(r"#/household$"))
        members = requests.get(f"{base}/api/households/mine", headers=bearer(flat["token"]), timeout=30).json()["members"]
        pending = next(m for m in members if m["status"] == "pending")
        planted.call("POST", f"/api/households/mine/members/{pending['member_id']}/approve", token=flat["token"])
        other.goto(f"{base}/#/orders")
        other.reload()
        expect(other.get_by_test_id("order-card").first).to_be_visible()
        screens.inert(other, f"my orders: {reason.split()[-1]}", BUNDLE_NAME, reason)

    print("checked:", screens.checked)
    assert len(screens.checked) == 10


# ---- the liaison's and the volunteer's screens -------------------------------------------------------

@pytest.mark.browser
def test_xss__liaison_screens__roster_household_call_list_and_the_rest(screens, info, planted):
    base = info["base_url"]
    ref = planted.special["flat_ref"]
    page = staff_phone(screens, info, "liaison")

    page.goto(f"{base}/#/staff/roster")
    page.get_by_test_id("roster-room").fill("1229")
    expect(page.get_by_test_id("roster-entry")).to_have_count(1)
    screens.inert(page, "roster", HOUSEHOLD_NAME)

    page.goto(f"{base}/#/staff/households/{ref}")
    expect(page.get_by_test_id("household")).to_be_visible()
    screens.inert(page, "household (liaison)", HOUSEHOLD_NAME, SPECIAL_CONTACT, SPECIAL_NOTE, SPECIAL_NEEDS, CHECK_IN_NOTES)

    page.goto(f"{base}/#/staff/special")
    expect(page.locator(f'[data-testid="special-card"][data-flat-ref="{ref}"]')).to_be_visible()
    screens.inert(page, "call list (special households)", SPECIAL_CONTACT, SPECIAL_NEEDS)

    page.goto(f"{base}/#/staff/households/{ref}/order")
    expect(page.locator(f'[data-testid="round"][data-round-id="{planted.round_id}"]')).to_be_visible()
    screens.inert(page, "assisted order", ROUND_NAME, BUNDLE_NAME, ITEM_NAME, ITEM_UNIT)

    page.goto(f"{base}/#/staff/community")
    expect(page.get_by_test_id("dp-current-name")).to_be_visible()
    screens.inert(page, "community settings", POINT_NAME, POINT_NOTE)

    page.goto(f"{base}/#/staff/unpaid")
    page.wait_for_load_state("networkidle")
    screens.inert(page, "unpaid list")

    page.goto(f"{base}/#/staff/slots")
    pick = page.get_by_test_id("slots-round-pick")
    expect(pick).to_be_visible()
    pick.select_option(planted.round_id)
    page.wait_for_load_state("networkidle")
    screens.inert(page, "slots", ROUND_NAME)

    page.goto(f"{base}/#/staff/progress")
    page.wait_for_load_state("networkidle")
    screens.inert(page, "progress")

    page.get_by_test_id("lang-toggle").click()
    page.goto(f"{base}/#/staff/households/{ref}")
    expect(page.get_by_test_id("household")).to_be_visible()
    screens.inert(page, "household (liaison, English)", HOUSEHOLD_NAME, SPECIAL_CONTACT, SPECIAL_NOTE, SPECIAL_NEEDS, CHECK_IN_NOTES)

    print("checked:", screens.checked)
    assert len(screens.checked) == 9


@pytest.mark.browser
def test_xss__volunteer_pickup_screens__show_names_and_bundles_as_text(screens, info, planted):
    base = info["base_url"]
    page = staff_phone(screens, info, "volunteer")
    page.get_by_test_id("staff-pickup").click()
    expect(page.get_by_test_id("pk-building").first).to_be_visible()
    screens.inert(page, "pickup: rounds", ROUND_NAME)

    page.goto(f"{base}/#/staff/pickup/{planted.round_id}/{'1栋'}")
    expect(page.get_by_test_id("pk-row").first).to_be_visible()
    screens.inert(page, "pickup: building list", BUNDLE_NAME)

    page.get_by_test_id("pk-code").fill(planted.special["pickup_code"])
    page.get_by_test_id("pk-code-go").click()
    expect(page.get_by_test_id("pk-sheet")).to_be_visible()
    screens.inert(page, "pickup: sheet", BUNDLE_NAME)

    page.goto(f"{base}/#/staff/pickup/{planted.round_id}/{'1栋'}/door")
    expect(page.get_by_test_id("pk-row").first).to_be_visible()
    screens.inert(page, "pickup: door deliveries", BUNDLE_NAME)

    print("checked:", screens.checked)
    assert len(screens.checked) == 4


# ---- the supplier's screens --------------------------------------------------------------------------

@pytest.mark.browser
def test_xss__supplier_screens__rounds_console_and_payment_board(screens, info, planted):
    base = info["base_url"]
    page = staff_phone(screens, info, "supplier")
    page.goto(f"{base}/#/staff/rounds")
    expect(page.locator(f'[href="#/staff/rounds/{planted.round_id}"]')).to_be_visible()
    screens.inert(page, "supplier: my rounds", ROUND_NAME)

    page.goto(f"{base}/#/staff/rounds/{planted.round_id}")
    page.wait_for_load_state("networkidle")
    screens.inert(page, "supplier: round console", ROUND_NAME, BUNDLE_NAME)

    page.goto(f"{base}/#/staff/rounds/{planted.round_id}/payments")
    expect(page.get_by_test_id("pb-round")).to_be_visible()
    page.wait_for_load_state("networkidle")
    screens.inert(page, "supplier: payment board", ROUND_NAME)
    page.get_by_test_id("pb-tab-expired").click()
    expect(page.get_by_test_id("pb-row-reason")).to_have_count(1)
    screens.inert(page, "supplier: payment board, rejected claims", REJECT_REASON)
    page.get_by_test_id("pb-tab-cancelled").click()
    expect(page.get_by_test_id("pb-row-reason")).to_have_count(1)
    screens.inert(page, "supplier: payment board, cancelled", CANCEL_REASON)

    print("checked:", screens.checked)
    assert len(screens.checked) == 5


# ---- the gate's screens (plan 2) ------------------------------------------------------------------------

SITE_NAME = "<img src=x onerror=alert(1)>"                              # ≤ 40
HANDOVER = '"><svg onload=window.__xss=1> 门口'                          # ≤ 60
POINT_ONE = "<img src=x onerror=__xss=1>"                               # unloading point ≤ 40
POINT_ROUTE = "<script>window.__xss=1</script> 东门进"                   # ≤ 200
TURN_AWAY_REASON = "<img src=x onerror=window.__xss=1> 无核酸证明"         # ≤ 200
DRIVER = "<svg onload=__xss=1>"                                         # person's name ≤ 20
DELIVERY_NOTE = '"><script>alert(1)</script> 大米 20 袋'                   # ≤ 200
REVIEW_REASON = "<img src=x onerror=alert(1)> 核酸过期"                    # ≤ 200
DOCUMENTS = ("health_code", "travel_record", "identity", "test_report", "commitment")


def id_number(base17: str) -> str:
    """An 18-character mainland ID number with its check digit (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return base17 + "10X98765432"[sum(int(c) * w for c, w in zip(base17, weights)) % 11]


def register_vehicle(p: "Planted", sid: str) -> dict:
    """A vehicle for tomorrow (beyond the site's lead time), its driver's five files uploaded to S3."""
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (11, 93, 59)).save(png, format="PNG")
    documents = {}
    for name in DOCUMENTS:
        slot = p.call("POST", f"/api/sites/{sid}/documents", "supplier")
        r = requests.post(slot["url"], data={**slot["fields"], "Content-Type": "image/png"},
                          files={"file": ("doc.png", png.getvalue(), "image/png")}, timeout=30)
        assert r.status_code in (200, 201, 204), (r.status_code, r.text)
        documents[name] = slot["key"]
    arrive = datetime.now(BEIJING) + timedelta(hours=30)
    return p.call("POST", f"/api/sites/{sid}/deliveries", "supplier", {
        "plate": "苏E2X929", "vehicle_type": "truck", "mode": "enter", "cargo": ["rice"], "note": DELIVERY_NOTE,
        "arrive_from": iso(arrive), "arrive_until": iso(arrive + timedelta(hours=2)),
        "people": [{"role": "driver", "name": DRIVER, "id_number": id_number("32010219790315561"),
                    "phone": "13900139029", "test_at": iso(datetime.now(BEIJING) - timedelta(hours=3)),
                    "documents": documents}]})


def staff_token(info: dict, role: str, scope_id: str) -> str:
    """The admin's invite for `role` at `scope_id`, accepted."""
    base, admin = info["base_url"], info["tokens"]["admin"]
    r = requests.post(f"{base}/api/invites", json={"role": role, "scope_id": scope_id}, headers=bearer(admin), timeout=30)
    assert r.status_code in (200, 201), r.text
    r = requests.post(f"{base}/api/invites/{r.json()['code']}/accept", timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()["token"]


def signed_in(screens, info, token: str):
    page = screens.phone()
    page.goto(f"{info['base_url']}/#/signin/{token}")
    expect(page.get_by_test_id("staff-role")).to_be_visible()
    return page


@pytest.mark.browser
def test_xss__gate_screens__site_settings_gate_and_log_show_names_and_reasons_as_text(screens, info):
    base, admin = info["base_url"], info["tokens"]["admin"]
    p = Planted(info)
    site = next((s for s in p.call("GET", "/api/sites", "admin")["sites"] if s["community_id"] == info["community_id"]), None)
    if site is None:
        site = p.call("POST", "/api/sites", "admin", {"community_id": info["community_id"]})
    sid = site["site_id"]
    before = p.call("GET", f"/api/sites/{sid}", "admin")
    try:
        p.call("PUT", f"/api/sites/{sid}", "admin", {
            "name": SITE_NAME, "handover_area": HANDOVER,
            "unloading_points": [{"name": POINT_ONE, "route": POINT_ROUTE}]})
        officer = staff_token(info, "gate_officer", sid)
        r = requests.post(f"{base}/api/sites/{sid}/gate/turn-away", json={"plate": "苏A7X529", "reason": TURN_AWAY_REASON},
                          headers=bearer(officer, **{"Idempotency-Key": str(uuid.uuid4())}), timeout=30)
        assert r.status_code in (200, 201), r.text

        delivery = register_vehicle(p, sid)
        supplier = signed_in(screens, info, info["tokens"]["supplier"])
        supplier.goto(f"{base}/#/staff/deliveries")
        expect(supplier.get_by_text("苏E2X929").first).to_be_visible()
        screens.inert(supplier, "supplier: vehicle registrations", SITE_NAME)

        page = signed_in(screens, info, admin)
        page.goto(f"{base}/#/staff/review")
        expect(page.get_by_text("苏E2X929").first).to_be_visible()
        screens.inert(page, "review queue: a vehicle", DRIVER, DELIVERY_NOTE)
        p.call("POST", f"/api/sites/{sid}/deliveries/{delivery['delivery_id']}/review", "admin",
               {"decision": "reject", "reason": REVIEW_REASON})
        supplier.reload()
        expect(supplier.get_by_text("苏E2X929").first).to_be_visible()
        screens.inert(supplier, "supplier: a refused registration", SITE_NAME, REVIEW_REASON)

        page.goto(f"{base}/#/staff/site")
        page.wait_for_load_state("networkidle")
        screens.inert(page, "site settings", SITE_NAME)
        for value in (HANDOVER, POINT_ONE, POINT_ROUTE):  # in its form's fields, as their values
            assert page.evaluate("t => [...document.querySelectorAll('input, textarea')].some((i) => i.value === t)", value), value
        page.goto(f"{base}/#/staff/gate-log")
        page.wait_for_load_state("networkidle")
        screens.inert(page, "gate log", TURN_AWAY_REASON)
        page.goto(f"{base}/#/staff/review")
        page.wait_for_load_state("networkidle")
        screens.inert(page, "review queue")

        gate = signed_in(screens, info, officer)
        gate.goto(f"{base}/#/staff/gate")
        gate.wait_for_load_state("networkidle")
        screens.inert(gate, "gate officer: today", SITE_NAME)
        gate.get_by_test_id("lang-toggle").click()
        screens.inert(gate, "gate officer: today (English)", SITE_NAME)
        print("checked:", screens.checked)
        assert len(screens.checked) == 8
    finally:
        keep = {k: before[k] for k in ("name", "handover_area") if before.get(k)}
        keep["unloading_points"] = [{"name": u["name"], "route": u.get("route", "")} for u in before.get("unloading_points", [])]
        requests.put(f"{base}/api/sites/{sid}", json=keep, headers=bearer(admin), timeout=30)


# ---- the supply chain's screens (plans 3, 4) --------------------------------------------------------------

MARKET_NAME = "<img src=x onerror=alert(1)>市场"                          # supply point ≤ 40
COMMODITY = "<svg onload=__xss=1>"                                      # ≤ 30
DEMAND_UNIT = "<u>袋</u>"                                                # unit ≤ 8
DEMAND_NOTE = '"><img src=x onerror=window.__xss=1> 老人多'               # ≤ 100
SPEC = "<script>alert(1)</script> 5kg/袋"                                 # ≤ 60
RESERVE = "<img src=x onerror=__xss=1> 储备库"                             # ≤ 40
CONTACT = "<svg onload=alert()>"                                        # ≤ 20


@pytest.mark.browser
def test_xss__supply_chain_screens__dashboard_demand_ledger_and_market_report(screens, info):
    base, cid = info["base_url"], info["community_id"]
    p = Planted(info)
    point = p.call("POST", "/api/supply-points", "admin", {
        "name": MARKET_NAME, "kind": "market", "address": "测试路 29 号", "usual_markup_pct": 30,
        "commodities": [{"name": COMMODITY, "category": "rice", "unit": "kg"}]})
    reporter = staff_token(info, "supply_point", point["point_id"])
    p.call("POST", f"/api/communities/{cid}/demand", "liaison",
           {"lines": [{"category": "rice", "quantity": 29, "unit": DEMAND_UNIT, "note": DEMAND_NOTE}], "replace": True})
    p.call("POST", "/api/allocations", "admin", {
        "category": "rice", "quantity": 29, "unit": DEMAND_UNIT, "spec": SPEC, "unit_price": "25.00",
        "source": "reserve", "reserve_name": RESERVE, "community_id": cid,
        "deliver_at": (datetime.now(BEIJING) + timedelta(hours=3)).isoformat(timespec="seconds"),
        "contact_name": CONTACT, "contact_phone": "13800138029"})

    desk = signed_in(screens, info, info["tokens"]["admin"])
    desk.goto(f"{base}/#/staff/supply")
    desk.wait_for_load_state("networkidle")
    screens.inert(desk, "supply dashboard")
    shows = {"sup-tab-allocations": (SPEC, RESERVE, CONTACT), "sup-tab-points": (MARKET_NAME,)}
    for tab in desk.locator('[data-testid^="sup-tab-"]').all():
        name = tab.get_attribute("data-testid")
        tab.click()
        desk.wait_for_load_state("networkidle")
        screens.inert(desk, f"supply dashboard: {name}", *shows.get(name, ()))

    liaison = signed_in(screens, info, info["tokens"]["liaison"])
    liaison.goto(f"{base}/#/staff/demand")
    liaison.wait_for_load_state("networkidle")
    screens.inert(liaison, "demand report", DEMAND_NOTE)
    liaison.goto(f"{base}/#/staff/ledger")
    liaison.wait_for_load_state("networkidle")
    screens.inert(liaison, "ledger", SPEC)

    market = signed_in(screens, info, reporter)
    market.goto(f"{base}/#/staff/market")
    market.wait_for_load_state("networkidle")
    screens.inert(market, "market report", MARKET_NAME, COMMODITY)
    print("checked:", screens.checked)
