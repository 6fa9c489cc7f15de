"""The PWA as Chromium sees it: installable, a service worker that caches the shell and never the API,
and Chinese that renders as text (screenshots for a human to look at in tests/e2e/artifacts/)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import choose, register

CACHED_URLS = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
  return out;
}"""

# The same CJK character twice would look the same either way; two different ones look
# the same only when both come out as the missing-glyph box ("tofu").
GLYPHS_DIFFER = """(chars) => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    const c = document.createElement('canvas');
    c.width = 64; c.height = 64;
    const g = c.getContext('2d');
    g.font = `48px ${font}`;
    g.fillText(ch, 4, 52);
    return c.toDataURL();
  };
  const [a, b] = chars.map(draw);
  return a !== b;
}"""


@pytest.mark.browser
def test_pwa__is_installable_and_its_service_worker_never_caches_the_api(page, context, info):
    register(page, info["join_url"], building="1栋", room="2908", phone="13912345631")

    # Registered and in control (activate claims the open page).
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{info['base_url']}/"
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
    manifest = cdp.send("Page.getAppManifest")
    assert manifest.get("errors") == []

    # Browse rounds and orders through the service worker (the API calls pass it by).
    page.reload()
    expect(page.get_by_test_id("bundle-card").first).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.get_by_test_id("nav-orders").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    expect(page.locator("main")).to_contain_text("还没有订单。")
    page.get_by_test_id("nav-order").click()
    expect(page.get_by_test_id("bundle-card").first).to_be_visible()
    api_calls = page.evaluate("performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)"
                              ".filter((p) => p.startsWith('/api/'))")
    assert "/api/rounds" in api_calls and "/api/orders/mine" in api_calls

    caches = page.evaluate(CACHED_URLS)
    assert len(caches) == 1 and next(iter(caches)).startswith("baogong-shell-"), caches
    urls = next(iter(caches.values()))
    assert {"/", "/index.html", "/js/app.js", "/js/staff.js", "/js/views/staff.js", "/manifest.webmanifest"} <= set(urls)
    assert [u for u in urls if u.startswith("/api")] == []


@pytest.mark.browser
def test_pwa__rounds_and_orders_pages_render_chinese_as_text__screenshots(page, info, artifacts):
    register(page, info["join_url"], building="3栋", unit="2单元", room="2808", phone="13912345641")
    choose(page, info["round_id"], "蔬菜套餐", 2)
    expect(page.get_by_test_id("order-total")).to_have_text("¥136.00")
    assert page.evaluate(GLYPHS_DIFFER, ["保", "供"]), "Chinese renders as tofu boxes: install fonts-noto-cjk"
    page.evaluate("document.fonts.ready.then(() => window.scrollTo(0, 0))")
    page.screenshot(path=str(artifacts / "rounds-zh.png"))
    page.screenshot(path=str(artifacts / "rounds-zh-full.png"), full_page=True)

    page.get_by_test_id("order-submit").click()
    expect(page).to_have_url(re.compile(r"#/orders$"))
    expect(page.get_by_test_id("order-card").get_by_test_id("order-status")).to_have_text("已下单")
    page.screenshot(path=str(artifacts / "orders-zh.png"))

    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("order-card").get_by_test_id("order-status")).to_have_text("Placed")
    page.screenshot(path=str(artifacts / "orders-en.png"))
    for name in ("rounds-zh.png", "rounds-zh-full.png", "orders-zh.png", "orders-en.png"):
        assert (artifacts / name).stat().st_size > 10_000


@pytest.mark.browser
def test_staff_pages__screenshots(new_context, info, artifacts):
    page = new_context().pages[0]
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['volunteer']}")
    expect(page.get_by_test_id("staff-role")).to_have_text("志愿者")
    page.screenshot(path=str(artifacts / "staff-zh.png"))
    page.goto(f"{info['base_url']}/#/invite/NOSUCHCODE")
    page.get_by_test_id("invite-accept").click()
    expect(page.get_by_test_id("error-message")).to_be_visible()
    page.screenshot(path=str(artifacts / "invite-error-zh.png"))
