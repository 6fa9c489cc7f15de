"""The CSP that CloudFront adds (the final template's response headers policy) does not break the PWA.

Chromium opens the `make dev` stack with that Content-Security-Policy added to the page, as CloudFront
would add it, the buckets' addresses replaced by the local moto server's (where `make dev`'s presigned
links point). Each role's screens are opened, a payment QR image goes to S3 with the app's own presigned
POST, and the page must report no CSP violation. Service workers are blocked so that every document comes
from the network with the header (a worker's cached copy would carry none); the registration script
still runs, and is checked.
"""
import re

import pytest
from playwright.sync_api import sync_playwright

from tests.infra.cfn import app_template, sub_text

pytestmark = [pytest.mark.stack, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
SCREENS = {
    "admin": ["#/staff", "#/staff/supply", "#/staff/site", "#/staff/review", "#/staff/gate-log"],
    "liaison": ["#/staff/roster", "#/staff/special", "#/staff/community", "#/staff/unpaid", "#/staff/progress",
                "#/staff/slots", "#/staff/demand", "#/staff/ledger"],
    "supplier": ["#/staff", "#/staff/rounds", "#/staff/deliveries"],
    "volunteer": ["#/staff/pickup"],
}
# A 1x1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`.trim()));
"""


def _policy(moto_origin: str) -> str:
    config = app_template()["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = sub_text(config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    text = re.sub(r"https://\$\{(Uploads|Exports)Bucket\}\.s3\.(\$\{AWS::Region\}\.)?\$\{AWS::URLSuffix\}",
                  moto_origin, text)
    assert "${" not in text, text
    return text


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-features=LocalNetworkAccessChecks"])
        yield chromium
        chromium.close()


def _open(browser, dev_stack, url: str, policy: str | None = None):
    info = dev_stack.info
    policy = policy or _policy(info["moto_url"].rstrip("/"))
    context = browser.new_context(service_workers="block", locale="zh-CN", viewport={"width": 390, "height": 844})
    console = []
    context.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    context.add_init_script(WATCH)

    def with_csp(route):
        if route.request.resource_type != "document":
            return route.continue_()
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

    context.route(f"{info['base_url']}/**", with_csp)
    # A fulfilled document has no address, so Chromium would count it as public and refuse its requests to
    # the loopback moto server (local network access); the real page is public and S3 is too.
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return context, page, console


def _violations(page, console) -> list[str]:
    return page.evaluate("window.__csp") + console


def test_csp__the_inline_scripts_run_and_the_join_page_loads(browser, dev_stack):
    info = dev_stack.info
    context, page, console = _open(browser, dev_stack, f"{info['base_url']}/#/join/{info['join_key']}")
    try:
        assert page.evaluate("document.querySelector('main').textContent").strip()
        assert page.evaluate("'serviceWorker' in navigator")  # the registration script ran (and was refused)
        assert _violations(page, console) == []
    finally:
        context.close()


@pytest.mark.parametrize("role", sorted(SCREENS))
def test_csp__every_staff_screen_loads_without_a_violation(browser, dev_stack, role):
    info = dev_stack.info
    context, page, console = _open(browser, dev_stack, f"{info['base_url']}/#/signin/{info['tokens'][role]}")
    try:
        for screen in SCREENS[role]:
            page.evaluate(f"location.hash = {screen!r}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            assert _violations(page, console) == [], (role, screen)
    finally:
        context.close()


_UPLOAD = """async ([token, png]) => {
    const { presignedPost } = await import('/js/upload.js');
    const res = await fetch('/api/payment-qr/uploads', {method: 'POST',
      headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}, body: '{}'});
    const presigned = await res.json();
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    try {
      return await presignedPost(presigned, new File([bytes], 'qr.png', {type: 'image/png'}));
    } catch (e) {
      return `refused: ${e.message}`;
    }
}"""


def test_csp__a_presigned_post_to_the_uploads_bucket_is_allowed(browser, dev_stack):
    info = dev_stack.info
    context, page, console = _open(browser, dev_stack, f"{info['base_url']}/#/signin/{info['tokens']['supplier']}")
    try:
        key = page.evaluate(_UPLOAD, [info["tokens"]["supplier"], PNG])
        assert key.startswith("payment-qr/")
        assert _violations(page, console) == []
    finally:
        context.close()


def test_csp__the_check_sees_a_violation_when_the_bucket_is_missing_from_connect_src(browser, dev_stack):
    """The same upload under a policy without the bucket: refused and reported, so the checks above can fail."""
    info = dev_stack.info
    policy = re.sub(r"connect-src [^;]*;", "connect-src 'self';", _policy(info["moto_url"].rstrip("/")))
    context, page, console = _open(browser, dev_stack, f"{info['base_url']}/#/signin/{info['tokens']['supplier']}",
                                   policy)
    try:
        assert page.evaluate(_UPLOAD, [info["tokens"]["supplier"], PNG]).startswith("refused")
        assert any(v.startswith("connect-src") for v in _violations(page, console))
    finally:
        context.close()
